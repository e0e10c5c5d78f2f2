"""What lessons 3 and 4 explain is what their cells show: each test reads what the lesson recorded on `ci`
(`course_utils.report.record_results`, from nbmake's run earlier in the same pytest run or a fresh execution) or
the lesson's own source, and checks the behaviour the prose states.
"""

import json
import math
import re
from pathlib import Path

import pytest
from test_lesson_figures import LESSONS, run_lesson

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("course-cache")


def lesson_cells(lesson: str, cell_type: str) -> list[str]:
    notebook = json.loads((ROOT / "notebooks" / LESSONS[lesson]).read_text())
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == cell_type]


def test_lesson3_pipeline_fails_on_a_review_past_the_position_limit(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson3", course_cache, tmp_path, monkeypatch)
    # "The text-classification pipeline does not truncate by default": without truncation=True it fails ...
    assert measured["long_review_tokens"] > measured["position_limit"]
    assert measured["long_review_error"] is not None
    assert re.search(r"size|index", measured["long_review_error"], re.I), measured["long_review_error"]
    # ... and with truncation at the training max_length it agrees with the in-order predict().
    assert measured["pipeline_agreement"] >= 0.97


def test_lesson3_dynamic_padding_saves_only_in_batches_without_a_cut_review(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson3", course_cache, tmp_path, monkeypatch)
    positions = measured["padding_positions"]
    some_batch_is_shorter = measured["batches_with_a_cut_review"] < measured["batches"]
    assert (positions["per batch (random order)"] < positions["pad to max_length"]) == some_batch_is_shorter
    assert 0 <= measured["cut_share"] <= 1
    assert positions["per batch, similar lengths together"] <= positions["per batch (random order)"]


def test_lesson3_majority_baseline_fools_accuracy_and_positive_f1_but_not_macro_f1(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson3", course_cache, tmp_path, monkeypatch)
    balance = measured["class_balance"]
    constant = next(scores for name, scores in balance.items() if name.startswith("always"))
    assert constant["predicts pos"] in (0.0, 1.0)
    if constant["predicts pos"] == 1.0:  # always 'pos': accuracy = positive share, F1 = 2p / (1 + p)
        share = constant["accuracy"]
        assert constant["F1 (pos)"] == pytest.approx(2 * share / (1 + share))
        assert constant["F1 (pos)"] > 0.5
    # The class the constant answer never predicts has F1 0: macro F1 is at most a half.
    assert constant["macro F1"] <= 0.5
    assert measured["test_majority_baseline"] == constant["accuracy"]
    # The offline data the lesson talks about is not balanced (the Hub's is 50/50).
    shares = measured["positive_share"]
    assert set(shares) == {"train", "validation", "test"} and all(0 < share < 1 for share in shares.values())
    model = balance["the fine-tuned model"]
    assert all(0 <= value <= 1 and not math.isnan(value) for value in model.values())


def test_lesson3_saves_a_model_card_next_to_the_model(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson3", course_cache, tmp_path, monkeypatch)
    files = set(measured["saved_files"])
    assert {"README.md", "config.json", "model.safetensors", "tokenizer_config.json"} <= files, files
    assert measured["model_card_names_base_model"] is True


def test_lesson4_a_new_num_labels_needs_new_label_names(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson4", course_cache, tmp_path, monkeypatch)
    # num_labels=3 alone: the saved names no longer fit and are replaced by generic ones ...
    assert measured["three_labels_id2label"] == {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}
    # ... a new id2label keeps the names and sets the number of labels.
    assert measured["named_three_labels_id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    assert measured["wrapped_checkpoint_caught"] is True


def test_lesson4_untrained_head_does_no_better_than_the_majority_answer(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson4", course_cache, tmp_path, monkeypatch)
    share = measured["validation_positive_share"]
    majority_accuracy = max(share, 1 - share)
    # A 64-review sample on ci: a random head may land a few reviews above the constant answer, not more.
    assert measured["untrained_accuracy"] <= majority_accuracy + 0.05, (measured["untrained_accuracy"], share)


def test_lessons_3_and_4_teach_with_plain_api_and_no_wrong_old_claims():
    lesson3_code = "\n".join(lesson_cells("lesson3", "code"))
    lesson4_code = "\n".join(lesson_cells("lesson4", "code"))
    prose = "\n".join(lesson_cells("lesson3", "markdown") + lesson_cells("lesson4", "markdown"))
    # A feature gate asks for the field (5.0 and 5.1 have no train_sampling_strategy), never the version number.
    assert "Version(transformers.__version__)" not in lesson3_code
    assert "in {field.name for field in dataclasses.fields(TrainingArguments)}" in lesson3_code
    # The APIs taught are in the notebook: load_dataset, the model card, the plain loading-info check.
    assert "load_dataset(" in lesson3_code and "create_model_card(" in lesson3_code and "push_to_hub(" in lesson3_code
    assert 'info["missing_keys"]' in lesson4_code
    assert "capture_log" not in lesson4_code and "require_only_new" not in lesson4_code
    # Trainer's progress bar, not walls of log dicts.
    assert "disable_tqdm" not in lesson3_code + lesson4_code
    for wrong in (
        "by default a pipeline keeps up to the model's own limit",  # it does not truncate at all
        "in transformers 4 this was `tokenizer=`",  # processing_class exists since 4.46, our floor is 4.57
        "Dynamic padding already removes most of the waste",  # depends on the lengths; none on ci
        "pretrained without\nany classification task",  # BERT's next-sentence prediction is one
    ):
        assert wrong not in prose, wrong
    words = sum(len(text.split()) for text in lesson_cells("lesson3", "markdown") + lesson_cells("lesson4", "markdown"))
    assert words <= 2400, words
