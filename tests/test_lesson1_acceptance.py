"""Acceptance: lesson 1's experiment on the `cpu` profile shows what the lesson claims.

The notebook runs top to bottom in a fresh kernel on a temporary copy (the committed notebook never gets outputs);
its measured numbers come back through `course_utils.report`, written into a temporary course cache.
Takes a few minutes on 2 CPU cores, so it is marked `acceptance` (`make test` runs it, `make test-fast` does not).
"""

import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils import PROFILES, report

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_pretraining_vs_finetuning.ipynb"
CLEAR_WIN_OVER_SCRATCH = 0.08
CLEAR_WIN_OVER_MAJORITY = 0.05


@pytest.mark.acceptance
def test_pretrained_start_beats_scratch_and_majority_on_cpu_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "cpu")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "course-cache"))  # results and runs stay out of the repo
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    notebook = nbformat.read(copy, as_version=4)

    started = time.time()
    NotebookClient(
        notebook, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    nbformat.write(notebook, tmp_path / "executed.ipynb")  # for a look after a failure
    minutes = (time.time() - started) / 60

    results = report.load_results("lesson1")
    assert results is not None, "the notebook did not record its results"
    measured = results["measured"]
    assert measured["profile"] == "cpu"
    summary = json.dumps({key: value for key, value in measured.items() if key != "data_fractions"}, indent=1)
    kept = ROOT / "build" / "acceptance"  # the measured numbers outlive the temporary folder (gitignored)
    kept.mkdir(parents=True, exist_ok=True)
    (kept / "lesson1_cpu.json").write_text(json.dumps(dict(measured, minutes=minutes), indent=1), encoding="utf-8")
    print(
        f"lesson 1 on the cpu profile ran in {minutes:.1f} min:\n{summary}\n"
        f"data fractions: {json.dumps(measured['data_fractions'], indent=1)}"
    )

    pretrained, scratch, majority = (
        measured["pretrained_accuracy"],
        measured["scratch_accuracy"],
        measured["majority_baseline"],
    )
    assert pretrained >= scratch + CLEAR_WIN_OVER_SCRATCH, summary
    assert pretrained >= majority + CLEAR_WIN_OVER_MAJORITY, summary
    # The baseline a fine-tune must beat: frozen sentence embeddings + logistic regression learn the task too ...
    assert measured["embedding_baseline"]["accuracy"] >= majority + CLEAR_WIN_OVER_MAJORITY, summary
    # ... and the tutorial's claim gets a verdict only when one run can carry it.
    share, error = measured["data_fractions"]["0.7"]["share_of_gain"], measured["share_of_gain_standard_error"]
    assert measured["claim_verdict"].startswith("no verdict") == (abs(share - 0.9) < 2 * error), summary
    assert measured["train_examples"] == PROFILES["cpu"].train_examples
