"""What lessons 1 and 2 explain is what their cells show.

Each explanation a lesson gives (why two runs differ, what a default is, which release changed an argument) is backed
by a cell; these tests read what that cell recorded through `course_utils.report` when the lesson ran on `ci`
(nbmake's run in the same pytest run, or a fresh one: `run_lesson` of tests/test_lesson_figures.py). The text checks
keep statements the libraries' source contradicts out of the lessons.
"""

import dataclasses
import json
import math
from pathlib import Path

import pytest
import yaml
from test_lesson_figures import run_lesson
from transformers import TrainingArguments

from course_utils.gpu import cpu_bf16_autocast

ROOT = Path(__file__).resolve().parents[1]
LESSON1 = ROOT / "notebooks" / "01_pretraining_vs_finetuning.ipynb"
LESSON2 = ROOT / "notebooks" / "02_training_arguments.ipynb"


def cells(path: Path, kind: str) -> list[str]:
    return ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == kind]


def prose(path: Path) -> str:
    return " ".join(" ".join(cells(path, "markdown")).split())  # one line: sentences wrap anywhere in the source


def bank(lesson: str) -> dict:
    questions = yaml.safe_load((ROOT / "quizzes" / "bank" / f"{lesson}.yml").read_text())["questions"]
    return {question["id"]: question for question in questions}


@pytest.fixture(scope="module")
def course_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("course-cache")


# --- text: version facts and statements the source contradicts -------------------------------------------------


def test_lesson2_gates_on_the_field_never_on_the_version_number():
    code = "\n".join(cells(LESSON2, "code"))
    assert "Version(transformers.__version__)" not in code
    assert '"train_sampling_strategy" in {f.name for f in dataclasses.fields(TrainingArguments)}' in code
    text = prose(LESSON2)
    assert "5.2.0" in text  # the release that changed it, named once
    assert "transformers 5 removed `no_cuda`, `group_by_length`, `warmup_ratio`" not in text
    assert "deprecated `warmup_ratio` (still accepted in 5.2.0)" in text
    # The field test picks exactly one spelling on the installed class.
    fields = {field.name for field in dataclasses.fields(TrainingArguments)}
    assert ("train_sampling_strategy" in fields) != ("group_by_length" in fields)


def test_lesson2_explanations_the_libraries_contradict_are_gone():
    text = prose(LESSON2)
    assert "never what the model learns" not in text  # length grouping changes which examples share a batch
    assert "changes which examples share a batch" in text
    assert "(it needs `load_best_model_at_end=True`)" not in text  # EarlyStoppingCallback only warns without it
    assert "is averaged either way" not in text
    assert "predicted_rates[s - 1]" not in text  # the learning-rate off-by-one check went to the benchmark notes


def test_lesson1_explanations_the_libraries_contradict_are_gone():
    text = prose(LESSON1)
    assert "`num_labels=2` is what makes the head" not in text
    assert "loading report printed below" not in text
    assert "So the scaling-law papers count *N* without the embeddings" not in text
    assert "Chinchilla counts all parameters" in text and "2406.12907" in text
    assert "a multiply-add is 2 FLOPs" in text and "The 6 FLOPs are multiply-adds" not in text


def test_quiz_keys_hold_on_every_supported_version():
    lesson1, lesson2 = bank("lesson1"), bank("lesson2")
    q2 = lesson1["q2"]
    assert "multiply-adds, forward and backward" not in json.dumps(q2)
    assert "Chinchilla" in json.dumps(q2)
    q3 = lesson2["q3"]
    assert "averaged over the micro-batches either way" not in json.dumps(q3)
    assert "clipping" in q3["choices"][q3["answer"]]["text"]
    assert "predicted_rates" not in json.dumps(lesson2["q2"])  # asks why warmup helps instead
    assert "at random" not in json.dumps(lesson2["q1"]["choices"])


# --- the bf16 decision, on recorded CPU flags --------------------------------------------------------------------

AMD_EPYC_FLAGS = {"avx2", "avx512f", "avx512_bf16"}  # this course's AMD machine kind: no AMX
INTEL_SAPPHIRE_RAPIDS_FLAGS = {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
LAPTOP_FLAGS = {"avx2", "fma"}  # no bf16 units: torch would emulate bf16


@pytest.mark.parametrize(
    ("flags", "expected"), [(AMD_EPYC_FLAGS, True), (INTEL_SAPPHIRE_RAPIDS_FLAGS, True), (LAPTOP_FLAGS, False)]
)
def test_cpu_bf16_only_where_the_cpu_has_bf16_units(flags, expected):
    use_bf16, reason = cpu_bf16_autocast(flags)
    assert use_bf16 is expected
    assert ("emulate" in reason) is not expected


# --- behaviour: what the lessons' cells recorded on ci -----------------------------------------------------------


@pytest.mark.slow
def test_lesson2_accumulation_explains_the_drift_by_clipping(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson2", course_cache, tmp_path, monkeypatch)
    ratio = measured["accumulation_grad_norm_ratio"]
    # The gradient is summed exactly when the model's forward takes **kwargs (Trainer then skips its division).
    expected = 4 if measured["accumulation_forward_takes_kwargs"] else 1
    assert ratio == pytest.approx(expected, rel=1e-3), measured
    assert measured["accumulation_logged_loss_ratio"] == pytest.approx(expected, rel=1e-3)
    # Without clipping the factor changes nothing (Adam is scale-invariant); the fix matches 16 x 1 with clipping.
    assert measured["accumulation_unclipped_drift"] < 1e-4
    assert measured["accumulation_fixed_drift"] < 1e-4
    assert measured["accumulation_fixed_grad_norm_ratio"] == pytest.approx(1, rel=1e-3)
    if expected == 4:  # clipping cut the summed gradient: the drift the lesson blames on it is really there
        assert measured["accumulation_clipped_drift"] > 10 * measured["accumulation_unclipped_drift"]


@pytest.mark.slow
def test_lesson2_overfitting_run_hands_back_the_best_epoch(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson2", course_cache, tmp_path, monkeypatch)
    epochs = measured["overfit_epochs"]
    assert len(epochs) >= 2
    best = min(epochs, key=lambda row: row["eval_loss"])
    assert measured["overfit_best_epoch"] == best["epoch"]
    assert measured["best_model_in_memory"] is True
    assert measured["best_model_eval_loss"] == pytest.approx(best["eval_loss"], abs=1e-6)


@pytest.mark.slow
def test_lesson2_precision_follows_the_cpu_decision(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson2", course_cache, tmp_path, monkeypatch)
    runs = measured["precision_runs"]
    assert "fp32" in runs
    assert ("16-bit" not in runs) == ("no bf16 units" in measured["precision_reason"])
    assert measured["precision_f1_standard_error"] > 0


@pytest.mark.slow
def test_lesson1_reuses_one_full_data_run_and_gives_no_verdict_from_noise(course_cache, tmp_path, monkeypatch):
    measured = run_lesson("lesson1", course_cache, tmp_path, monkeypatch)
    assert measured["default_num_labels"] == 2  # num_labels=2 is the default; the class makes the head
    full = measured["data_fractions"]["1"]
    everything = measured["freezing"]["everything"]
    # One run: sections 3, 4 and 5 report the same fine-tune, not three trainings that disagree.
    assert full["accuracy"] == everything["accuracy"] == measured["pretrained_accuracy"]
    assert full["seconds"] == everything["seconds"] == measured["pretrained_seconds"]
    share, error = measured["data_fractions"]["0.7"]["share_of_gain"], measured["share_of_gain_standard_error"]
    if math.isnan(share) or abs(share - 0.9) < 2 * error:
        assert measured["claim_verdict"].startswith("no verdict"), measured["claim_verdict"]
    baseline = measured["embedding_baseline"]
    assert baseline["seconds"] > 0 and 0 <= baseline["f1"] <= 1
