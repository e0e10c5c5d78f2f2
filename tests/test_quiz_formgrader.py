"""nbgrader's formgrader shows course-quiz grades: `course-quiz autograde` writes `autograded/` notebooks and the
quiz, released to an exchange, is no draft with 0 submissions; a manual score set as the formgrader sets it
shows in nbgrader's feedback and in the export. Checked through nbgrader's own API (what the formgrader's
handlers call), without a server: the browser run is tests/test_jupyterhub_cycle.py.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from course_quiz.cli import main

REPO = Path(__file__).resolve().parents[1]
QUIZ = "quiz1"

pytestmark = pytest.mark.slow


def answered(release: dict, letters: dict[str, str]) -> str:
    notebook = copy.deepcopy(release)
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("_answer"):
            question = grade_id.removesuffix("_answer")
            cell["source"] = f'answer_{question} = "{letters[question]}"'
    return json.dumps(notebook)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("formgrader")
    workspace = root / "quiz-term"
    assert (
        main(["init", str(workspace), "--term-secret=formgrader-secret", "--bank", str(REPO / "quizzes" / "bank")]) == 0
    )
    from course_quiz.term import TermKey

    right = TermKey.load(workspace).answers(QUIZ)
    wrong = {q: "A" if letter != "A" else "B" for q, letter in right.items()}
    release = json.loads((workspace / "release" / QUIZ / f"{QUIZ}.ipynb").read_text())
    inbox = root / "lms" / QUIZ
    inbox.mkdir(parents=True)
    (inbox / "ann.ipynb").write_text(answered(release, right))
    collected = inbox / "ben" / QUIZ  # as `nbgrader collect` leaves a submission made through the exchange
    collected.mkdir(parents=True)
    (collected / f"{QUIZ}.ipynb").write_text(answered(release, wrong))
    (collected / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (collected / "submission_secret.txt").write_text("0f" * 64)
    exchange = root / "exchange"
    exchange.mkdir()
    config = workspace / "nbgrader_config.py"
    config.write_text(config.read_text() + f"\nc.Exchange.root = {str(exchange)!r}\n")
    api = nbgrader(workspace)
    assert api.release_assignment(QUIZ)["success"]
    assert main(["autograde", str(inbox), "--course", str(workspace)]) == 0
    return {"workspace": workspace, "right": right, "inbox": inbox}


def nbgrader(workspace: Path):
    from course_quiz.course import nbgrader_api

    return nbgrader_api(workspace)


def test_the_formgrader_lists_every_graded_notebook(graded):
    api = nbgrader(graded["workspace"])
    listed = api.get_notebook_submissions(QUIZ, QUIZ)
    assert sorted(row["student"] for row in listed) == ["ann", "ben"]
    scores = {row["student"]: row["score"] for row in listed}
    assert scores == {"ann": float(len(graded["right"])), "ben": 0.0}
    assert {row["needs_manual_grade"] for row in listed} == {False}


def test_the_quiz_is_released_with_its_submissions_counted(graded):
    assignment = nbgrader(graded["workspace"]).get_assignment(QUIZ)
    assert assignment["status"] == "released"
    assert assignment["num_submissions"] == 2


def test_the_autograded_notebook_is_the_release_with_the_students_answers(graded):
    workspace = graded["workspace"]
    notebook = json.loads((workspace / "autograded" / "ann" / QUIZ / f"{QUIZ}.ipynb").read_text())
    release = json.loads((workspace / "release" / QUIZ / f"{QUIZ}.ipynb").read_text())
    assert [c["metadata"] for c in notebook["cells"]] == [c["metadata"] for c in release["cells"]]
    by_id = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in notebook["cells"]}
    for question, letter in graded["right"].items():
        assert by_id[f"{question}_answer"]["source"] == f'answer_{question} = "{letter}"'
        assert by_id[f"{question}_test"]["outputs"][0]["text"].startswith(f"1 points: read as {letter}")
    ben = json.loads((workspace / "autograded" / "ben" / QUIZ / f"{QUIZ}.ipynb").read_text())
    failed = [c["outputs"][0] for c in ben["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "q1_test"]
    assert failed[0]["output_type"] == "error"  # nbgrader's mark of a failed test: 0 points
    assert failed[0]["traceback"][0].startswith("NotGraded: 0 points: read as ")  # what the formgrader shows


def test_a_manual_override_shows_in_nbgraders_feedback_and_the_export(graded, tmp_path):
    workspace = graded["workspace"]
    api = nbgrader(workspace)
    ben = next(row for row in api.get_notebook_submissions(QUIZ, QUIZ) if row["student"] == "ben")
    with api.gradebook as book:  # what the formgrader's PUT /formgrader/api/grade/<id> does
        grade = next(g for g in book.find_submission_notebook_by_id(ben["id"]).grades if g.name == "q2_test")
        grade.manual_score = 1.0
        book.db.commit()
    result = api.generate_feedback(QUIZ, "ben")
    assert result["success"], result.get("log")
    page = (workspace / "feedback" / "ben" / QUIZ / f"{QUIZ}.html").read_text()
    assert "Score: 1.0 / " in page
    assert api.release_feedback(QUIZ, "ben")["success"]  # into the exchange, for the student to fetch
    released = list((graded["workspace"].parent / "exchange").rglob("feedback/*.html"))
    assert len(released) == 1, released
    assert main(["export", "--course", str(workspace), "--to", str(tmp_path / "grades.csv")]) == 0
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == QUIZ}
    assert float(rows["ben"]["score"]) == 1.0
