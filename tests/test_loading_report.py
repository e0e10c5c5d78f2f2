"""course_utils.loading_report on the installed transformers (5.x in CI), with the real packaged MiniLM.

`loading_scenarios()` is lesson 4's set of loads; tests/test_transformers4.py runs this file as a script under
transformers 4.57 and checks that the report summaries are the same as here.
"""

import json
import logging
import sys
import tempfile
from pathlib import Path

import pytest

from course_utils import loading_report
from course_utils.errors import CourseError


def loading_scenarios() -> dict:
    """Lesson 4's loads of the packaged MiniLM: {name: {"summary", "format", "logged", "log_text"}} plus facts."""
    import transformers
    from transformers import AutoModel, AutoModelForSequenceClassification

    from course_utils.assets import packaged_classifier_dir

    base = packaged_classifier_dir()
    results = {"transformers": transformers.__version__}

    def record(name, load):
        with loading_report.capture_log(echo=False) as log:
            model, info = load()
        report = loading_report.LoadingReport.from_info(info, log.text)
        results[name] = {
            "summary": report.summary(),
            "format": report.logged_format(),
            "logged": sorted(report.logged_kinds()),
            "log_text": log.text,
            "newly_initialized": list(report.newly_initialized),
        }
        return model, report

    new_head, _ = record(
        "new_head",
        lambda: AutoModelForSequenceClassification.from_pretrained(base, num_labels=2, output_loading_info=True),
    )
    comparison = loading_report.compare_with_checkpoint(new_head, loading_report.checkpoint_tensors(base))
    results["comparison"] = {kind: len(keys) for kind, keys in comparison.items()}
    results["not_in_checkpoint"] = comparison["not_in_checkpoint"]
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "with_head"
        new_head.save_pretrained(saved)
        record(
            "same_class", lambda: AutoModelForSequenceClassification.from_pretrained(saved, output_loading_info=True)
        )
        record("bare_encoder", lambda: AutoModel.from_pretrained(saved, output_loading_info=True))
        record(
            "three_labels",
            lambda: AutoModelForSequenceClassification.from_pretrained(
                saved, num_labels=3, ignore_mismatched_sizes=True, output_loading_info=True
            ),
        )
        try:
            AutoModelForSequenceClassification.from_pretrained(saved, num_labels=3)
            results["three_labels_strict"] = "loaded"
        except RuntimeError as error:
            results["three_labels_strict"] = "size mismatch error" if "mismatch" in str(error) else str(error)
        wrapped = loading_report.save_with_prefix(new_head, Path(tmp) / "wrapped")
        record("wrapped", lambda: AutoModelForSequenceClassification.from_pretrained(wrapped, output_loading_info=True))
    return results


@pytest.fixture(scope="module")
def scenarios():
    return loading_scenarios()


def test_new_head_is_reported_missing(scenarios):
    new_head = scenarios["new_head"]
    assert new_head["newly_initialized"] == ["classifier.bias", "classifier.weight"]
    assert new_head["logged"] == ["missing"]
    assert "classifier.bias, classifier.weight" in new_head["summary"]
    assert new_head["format"] != "nothing logged"


def test_report_agrees_with_the_checkpoint_tensors(scenarios):
    assert scenarios["comparison"]["changed"] == 0
    assert scenarios["comparison"]["identical"] > 100  # the whole encoder is the checkpoint's, bit for bit
    assert sorted(scenarios["not_in_checkpoint"]) == scenarios["new_head"]["newly_initialized"]
    assert scenarios["comparison"]["unused"] == 0


def test_the_other_cases(scenarios):
    assert scenarios["same_class"]["summary"].startswith("loading report: clean")
    assert scenarios["same_class"]["format"] == "nothing logged"
    assert "unexpected 2" in scenarios["bare_encoder"]["summary"]
    assert "mismatched 2" in scenarios["three_labels"]["summary"]
    assert scenarios["three_labels"]["logged"] == ["mismatched"]
    assert scenarios["three_labels_strict"] == "size mismatch error"


def test_wrapped_checkpoint_is_a_bug_the_report_catches(scenarios):
    wrapped = scenarios["wrapped"]
    assert len(wrapped["newly_initialized"]) > 100  # the whole body would be random
    report = loading_report.LoadingReport(missing=tuple(wrapped["newly_initialized"]))
    with pytest.raises(CourseError, match="does not fit this model"):
        report.require_only_new("classifier.")
    assert scenarios["new_head"]["newly_initialized"]  # ... while the expected new head passes:
    loading_report.LoadingReport(missing=tuple(scenarios["new_head"]["newly_initialized"])).require_only_new(
        "classifier."
    )


def test_summaries_fold_layer_numbers():
    keys = [f"bert.encoder.layer.{i}.output.dense.weight" for i in range(6)] + ["classifier.bias"]
    assert loading_report.fold_layers(keys) == ["bert.encoder.layer.#.output.dense.weight (×6)", "classifier.bias"]
    summary = loading_report.LoadingReport(missing=tuple(keys)).summary(limit=1)
    assert "missing 7" in summary and "... (1 more)" in summary


def test_from_info_accepts_both_versions_shapes_of_data():
    four = {"missing_keys": ["b", "a"], "unexpected_keys": [], "mismatched_keys": ["c"], "error_msgs": []}
    five = {
        "missing_keys": {"a", "b"},
        "unexpected_keys": set(),
        "error_msgs": [],
        "mismatched_keys": {("c", (2,), (3,))},
    }
    assert loading_report.LoadingReport.from_info(four) == loading_report.LoadingReport.from_info(five)
    with pytest.raises(CourseError, match="output_loading_info=True"):
        loading_report.LoadingReport.from_info(("model", "info"))


def test_a_stored_position_ids_buffer_is_not_a_surprise():
    """transformers 5.0/5.1 list a checkpoint's stored `position_ids` buffer as unexpected (4.x and 5.2+ do not):
    the same load must give the same report, and lesson 4's check must pass, on every release."""
    five_one = {
        "missing_keys": {"classifier.weight", "classifier.bias"},
        "unexpected_keys": {"embeddings.position_ids", "cls.predictions.bias"},
        "mismatched_keys": set(),
        "error_msgs": [],
    }
    five_two = {**five_one, "unexpected_keys": {"cls.predictions.bias"}}
    report = loading_report.LoadingReport.from_info(five_one)
    assert report == loading_report.LoadingReport.from_info(five_two)
    assert report.summary() == loading_report.LoadingReport.from_info(five_two).summary()
    report.require_only_new("classifier.", unexpected_ok=("cls.",))  # lesson 4's check: no CourseError
    body_weight = {**five_one, "unexpected_keys": {"embeddings.position_embeddings.weight"}}
    with pytest.raises(CourseError, match="does not fit"):  # a real weight is still a surprise
        loading_report.LoadingReport.from_info(body_weight).require_only_new("classifier.", unexpected_ok=("cls.",))


def test_capture_log_silences_but_records_and_restores():
    from transformers.utils import logging as hf_logging

    library = logging.getLogger("transformers")
    handlers, level = list(library.handlers), library.level
    hf_logging.set_verbosity_error()
    try:
        with loading_report.capture_log(echo=False) as log:
            hf_logging.get_logger("transformers.modeling_utils").warning("Some weights of X were not used")
        assert "Some weights of X" in log.text  # recorded although the notebook silenced warnings
        assert library.handlers == handlers and library.level == logging.ERROR
    finally:
        hf_logging.set_verbosity_warning()
        library.setLevel(level)


if __name__ == "__main__":  # tests/test_transformers4.py runs this under transformers 4.x
    json.dump(loading_scenarios(), sys.stdout)


def test_expected_new_and_unused_weights_come_from_the_architecture():
    """bert-base-uncased's checkpoint always reports cls.* as unused: normal for BERT, caught for anything else."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    heads = {}
    for architecture in ("bert", "distilbert", "roberta"):
        config = AutoConfig.for_model(architecture)
        with torch.device("meta"):
            model = AutoModelForSequenceClassification.from_config(config)
        heads[architecture] = (
            loading_report.head_prefixes(model),
            loading_report.pretraining_head_prefixes(config),
        )
    assert heads["bert"] == (("classifier.",), ("cls.",))
    assert heads["distilbert"][0] == ("classifier.", "pre_classifier.")
    assert heads["roberta"] == (("classifier.",), ("lm_head.",))

    hub_bert = loading_report.LoadingReport(
        missing=("classifier.bias", "classifier.weight"),
        unexpected=("cls.predictions.bias", "cls.seq_relationship.weight"),
    )
    with pytest.raises(CourseError, match="does not fit"):
        hub_bert.require_only_new("classifier.")  # the old check: raised on every Hub bert-base-uncased load
    hub_bert.require_only_new(*heads["bert"][0], unexpected_ok=heads["bert"][1])
    wrapped = loading_report.LoadingReport(
        missing=("bert.embeddings.word_embeddings.weight", "classifier.weight"),
        unexpected=("model.bert.embeddings.word_embeddings.weight",),
    )
    with pytest.raises(CourseError):
        wrapped.require_only_new(*heads["bert"][0], unexpected_ok=heads["bert"][1])
    new_cls_missing = loading_report.LoadingReport(missing=("cls.predictions.bias",))
    with pytest.raises(CourseError):  # a pretraining head may be unused, never missing
        new_cls_missing.require_only_new(*heads["bert"][0], unexpected_ok=heads["bert"][1])
