"""The layouts an instructor on nbgrader's road hands to `course-quiz autograde`: nbgrader's `submitted/`
(from `collect` and `zip_collect`), Canvas and Moodle bulk downloads, and file names that used to break the run
(a non-UTF-8 byte, a dot in the id, two spellings of the same notebook).

Each student answers every question right or every question wrong, so a score says which file was read for
whom; the expected scores come from the term's key, never hard-coded.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_quiz.cli import main

REPO = Path(__file__).resolve().parents[1]
BANK = REPO / "quizzes" / "bank"
QUIZ = "quiz1"
# The FileNameCollector rule quizzes/README.md gives for a Canvas download (student id = Canvas user id).
CANVAS_REGEXP = r".*/[a-z0-9-]+?(?:_late)?_(?P<student_id>[0-9]+)_[0-9]+_(?P<file_id>[A-Za-z]+[0-9]+)"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("layouts") / "quiz-term"
    assert main(["init", str(workspace), "--term-secret=layouts-test-secret", "--bank", str(BANK)]) == 0
    key = json.loads((workspace / "key.json").read_text())["quizzes"][QUIZ]
    release = json.loads((workspace / "release" / QUIZ / f"{QUIZ}.ipynb").read_text())
    answers = {q: entry["answer"] for q, entry in key.items() if not q.startswith("_")}
    return {"workspace": workspace, "answers": answers, "release": release}


def notebook_text(term, right: bool) -> str:
    """The release with every answer right (or every answer wrong)."""
    notebook = copy.deepcopy(term["release"])
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("_answer"):
            question = grade_id.removesuffix("_answer")
            letter = term["answers"][question]
            if not right:
                letter = "A" if letter != "A" else "B"
            cell["source"] = f'answer_{question} = "{letter}"'
    return json.dumps(notebook)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def autograde(term, folder: Path, capsys, *extra: str) -> tuple[int, str, dict]:
    """Exit code, what was printed, and student -> score (None: no grade) after grading `folder`."""
    from course_quiz.grading import gradebook_rows

    code = main(["autograde", str(folder), "--course", str(term["workspace"]), *extra])
    printed = capsys.readouterr()
    scores = {row.student_id: row.score for row in gradebook_rows(term["workspace"]) if row.quiz_id == QUIZ}
    return code, printed.out + printed.err, scores


def full(term) -> float:
    return float(len(term["answers"]))


def grade_right_and_wrong(term, folder: Path, capsys, right: str, wrong: str, *extra: str) -> tuple[str, dict]:
    """Autograde `folder`: it must exit 0 with student `right` at full marks and `wrong` at zero; (printed, scores)."""
    code, printed, scores = autograde(term, folder, capsys, *extra)
    assert code == 0, printed
    assert scores[right] == full(term) and scores[wrong] == 0.0
    return printed, scores


def test_nbgrader_submitted_layout_is_read_with_its_mapping(term, tmp_path, capsys):
    submitted = tmp_path / "submitted"  # what `nbgrader collect` leaves: <student>/<quiz>/<quiz>.ipynb
    write(submitted / "gina" / QUIZ / f"{QUIZ}.ipynb", notebook_text(term, right=True))
    write(submitted / "gina" / QUIZ / "timestamp.txt", "2026-12-01 10:00:00.000000 UTC")
    write(submitted / "hal" / QUIZ / f"{QUIZ}.ipynb", notebook_text(term, right=False))
    printed, _ = grade_right_and_wrong(term, submitted, capsys, "gina", "hal")  # the quiz: the folders' names
    assert f"gina/{QUIZ}/{QUIZ}.ipynb -> gina" in printed
    assert "missing" not in printed and "timestamp.txt" not in printed


def test_zip_collect_output_of_a_canvas_download_is_read(term, capsys):
    """nbgrader's own zip_collect, with the README's Canvas rule, then course-quiz on what it collected."""
    workspace = term["workspace"]
    archive = workspace / "downloaded" / QUIZ / "archive" / "submissions.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"smithalice_12345_67890_{QUIZ}.ipynb", notebook_text(term, right=True))
        bundle.writestr(f"jonesbob_late_23456_78901_{QUIZ}.ipynb", notebook_text(term, right=False))
    nbgrader = Path(sys.executable).parent / "nbgrader"
    result = subprocess.run(
        [str(nbgrader), "zip_collect", QUIZ, f"--FileNameCollectorPlugin.named_regexp={CANVAS_REGEXP}"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{nbgrader.parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (workspace / "submitted" / "12345" / QUIZ / f"{QUIZ}.ipynb").is_file(), result.stderr
    grade_right_and_wrong(term, workspace / "submitted", capsys, "12345", "23456", "--quiz", QUIZ)


def test_canvas_download_ids_are_canvas_user_ids(term, tmp_path, capsys):
    folder = tmp_path / "canvas"
    write(folder / f"smithalice_12345_67890_{QUIZ}.ipynb", notebook_text(term, right=True))
    write(folder / f"jonesbob_late_23456_78901_{QUIZ}-1.ipynb", notebook_text(term, right=False))  # resubmitted
    printed, scores = grade_right_and_wrong(term, folder, capsys, "12345", "23456")
    assert "smithalice_12345_67890_quiz1" not in scores
    assert f"smithalice_12345_67890_{QUIZ}.ipynb -> 12345 (id = the Canvas user id" in printed


def test_moodle_download_folders_with_spaces_give_participant_ids(term, tmp_path, capsys):
    folder = tmp_path / "moodle" / QUIZ
    write(folder / "Alice Smith_31415_assignsubmission_file_" / f"{QUIZ}.ipynb", notebook_text(term, right=True))
    write(folder / f"Bob Jones_27182_assignsubmission_file_{QUIZ}.ipynb", notebook_text(term, right=False))
    write(folder / "Bob Jones_27182_assignsubmission_onlinetext_onlinetext.html", "<p>see file</p>")
    printed, _ = grade_right_and_wrong(term, folder, capsys, "31415", "27182")
    assert "bad name" not in printed
    assert f"Alice Smith_31415_assignsubmission_file_/{QUIZ}.ipynb -> 31415 (id = the Moodle participant id" in printed


def test_a_non_utf8_file_name_is_flagged_and_the_others_are_graded(term, tmp_path, capsys):
    folder = tmp_path / "inbox" / QUIZ
    write(folder / "carol.ipynb", notebook_text(term, right=True))
    with open(os.path.join(os.fsencode(folder), b"x\xff.ipynb"), "wb") as handle:
        handle.write(notebook_text(term, right=True).encode())
    code, printed, scores = autograde(term, folder, capsys)
    assert code == 0, printed
    assert scores["carol"] == full(term)
    assert "bad name" in printed and "x\\xff" in printed
    assert scores.get("x\\xff") is None  # flagged, never graded


def test_a_dotted_student_id_keeps_its_dots(term, tmp_path, capsys):
    folder = tmp_path / "dots" / QUIZ
    write(folder / "bob.smith.ipynb", notebook_text(term, right=True))
    write(folder / "bob.ipynb", notebook_text(term, right=False))  # another student: never merged with bob.smith
    printed, _ = grade_right_and_wrong(term, folder, capsys, "bob.smith", "bob")
    assert "duplicate" not in printed


def test_two_spellings_of_one_notebook_are_both_flagged_never_one_dropped(term, tmp_path, capsys):
    folder = tmp_path / "cases" / QUIZ
    write(folder / "dan" / f"{QUIZ}.ipynb", notebook_text(term, right=True))
    write(folder / "dan" / f"{QUIZ.capitalize()}.ipynb", notebook_text(term, right=False))
    write(folder / "erin" / f"{QUIZ}.ipynb", notebook_text(term, right=True))
    code, printed, scores = autograde(term, folder, capsys)
    assert code == 0, printed
    assert scores["dan"] is None and scores["erin"] == full(term)
    dan = next(line for line in printed.splitlines() if line.startswith("dan:"))
    assert "duplicate" in dan
    from course_quiz.grading import load_flags

    flag = " ".join(load_flags(term["workspace"])[QUIZ]["dan"])
    assert f"dan/{QUIZ}.ipynb" in flag and f"dan/{QUIZ.capitalize()}.ipynb" in flag
