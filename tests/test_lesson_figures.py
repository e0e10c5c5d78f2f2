"""The figures the lessons print are right: each lesson runs on `ci` in a fresh kernel, and what it recorded through
`course_utils.report` is checked against an independent computation or an invariant that holds on every profile.

Each test names the defect it guards against, such as lesson 3 pairing length-ordered predictions with texts in
data-set order, or lesson 1 timing the full-data run with its evaluations and counting the embedding tables in 6·N·D.
"""

import math
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils import PROFILES, report

ROOT = Path(__file__).resolve().parents[1]
LESSONS = {
    "lesson1": "01_pretraining_vs_finetuning.ipynb",
    "lesson2": "02_training_arguments.ipynb",
    "lesson3": "03_trainer.ipynb",
    "lesson4": "04_new_head_warnings.ipynb",
    "lesson5": "05_quantized_loading.ipynb",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("course-cache")


COLLECTED_AT = time.time()  # pytest imports this module before it runs anything


def recorded_by_this_run(lesson: str) -> dict | None:
    """What the lesson recorded on `ci` when nbmake ran it earlier in this same pytest run (`make test` lists
    notebooks/ before tests/), so the lesson is not executed twice; None otherwise."""
    results = report.load_results(lesson)
    notebook_changed = (ROOT / "notebooks" / LESSONS[lesson]).stat().st_mtime
    if results and results["saved_at"] > max(COLLECTED_AT, notebook_changed) and results["measured"]["profile"] == "ci":
        return results["measured"]
    return None


def run_lesson(lesson: str, cache: Path, tmp_path: Path, monkeypatch) -> dict:
    """What the lesson recorded on the ci profile: from nbmake's run of it in this pytest run, or by executing it
    in a temporary copy."""
    earlier = recorded_by_this_run(lesson)
    if earlier is not None:
        return earlier
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    copy = tmp_path / LESSONS[lesson]
    shutil.copy(ROOT / "notebooks" / LESSONS[lesson], copy)
    notebook = nbformat.read(copy, as_version=4)
    try:
        NotebookClient(
            notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:  # the executed copy, for a look at what the lesson printed (gitignored)
        kept = ROOT / "build" / "lesson_figures"
        kept.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, kept / LESSONS[lesson])
    results = report.load_results(lesson)
    assert results is not None, f"{lesson} recorded no results"
    assert results["measured"]["profile"] == "ci"
    return results["measured"]


def test_lesson1_times_like_with_like_and_counts_matmul_parameters(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson1", course_cache, tmp_path, monkeypatch)

    # Item 3: the timed runs count training alone: the full-data run's evaluations are subtracted.
    rows = measured["data_fractions"]
    assert set(rows) == {"0.3", "0.7", "1"}
    assert measured["pretrained_evaluations"] > 0
    assert measured["pretrained_seconds_with_evaluations"] > measured["pretrained_seconds"] == rows["1"]["seconds"]

    # Item 4: N in 6·N·D is the benchmark's matmul-parameter count, not all parameters.
    from transformers import AutoModelForSequenceClassification

    from course_dev.finetune import matmul_parameters

    model = AutoModelForSequenceClassification.from_pretrained(measured["checkpoint"], num_labels=2)
    assert measured["matmul_parameters"] == matmul_parameters(model)
    assert measured["matmul_parameters"] < measured["parameters"]
    assert measured["finetune_flops"] == pytest.approx(6 * measured["matmul_parameters"] * measured["finetune_tokens"])
    # BERT-base's tokens: the paper's 90 % × 128 / 10 % × 512 split, not the 512-everywhere upper bound.
    assert measured["bert_base_pretraining_tokens"] == pytest.approx(1e6 * 256 * (0.9 * 128 + 0.1 * 512))

    # The freezing table: fewer trainable weights, less gradient and optimizer state.
    freezing = measured["freezing"]
    order = ["last 2 layers + head", "everything"]
    trainable = [freezing[name]["trainable_parameters"] for name in order]
    memory = [freezing[name]["gradient_and_optimizer_mb"] for name in order]
    assert trainable == sorted(trainable) and len(set(trainable)) == 2, freezing
    assert memory == sorted(memory), freezing
    assert freezing["everything"]["trainable_parameters"] == measured["parameters"]


def test_lesson2_learning_rate_and_accumulation_checks(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson2", course_cache, tmp_path, monkeypatch)

    # Items 5 and 6: same head, no dropout, same batches: the logged loss scales with the gradient, by a whole
    # number (1: averaged, 4: summed over the micro-batches, depending on the version and the model's forward).
    ratio = measured["accumulation_logged_loss_ratio"]
    assert round(ratio) in (1, 4) and abs(ratio - round(ratio)) < 1e-3, ratio

    # "The best checkpoint's, not the last step's": checked in code, not asserted in prose.
    assert measured["best_model_in_memory"] is True
    assert measured["dropout"] == PROFILES["ci"].dropout


def test_lesson3_compares_predictions_with_the_same_reviews(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson3", course_cache, tmp_path, monkeypatch)

    # Item 1: with length grouping, predict() returns rows ordered by length (the pitfall the lesson shows) ...
    assert measured["grouped_predict_in_dataset_order"] is False
    # ... and the comparison the lesson records uses predictions in the data set's order: the same model on the
    # same reviews, tokenised the same way, agrees with itself.
    assert measured["ordered_predict_in_dataset_order"] is True
    assert measured["pipeline_agreement"] >= 0.97, measured["pipeline_agreement"]
    assert not math.isnan(measured["test_accuracy"])
