"""The instructor CLI on bad input: a clear one-line message and exit code 2, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from course_quiz.cli import EXIT_ERROR, main
from course_quiz.submissions import find_submissions, infer_quiz_id

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def course(tmp_path):
    """A course folder with the config but no gradebook yet."""
    folder = tmp_path / "course"
    folder.mkdir()
    shutil.copy(REPO / "quizzes" / "nbgrader_config.py", folder)
    return folder


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


def test_missing_submissions_folder(capsys, tmp_path, course):
    code, err = run(capsys, "autograde", tmp_path / "nowhere", "--course", course, "--quiz", "quiz1")
    assert code == EXIT_ERROR and "No submissions folder at" in err and "nowhere" in err


def test_folder_without_notebooks(capsys, tmp_path, course):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("grades later")
    code, err = run(capsys, "autograde", tmp_path / "empty", "--course", course, "--quiz", "quiz1")
    assert code == EXIT_ERROR and "holds no notebooks" in err


def test_quiz_that_cannot_be_inferred(capsys, tmp_path, course):
    (tmp_path / "inbox" / "ann").mkdir(parents=True)
    (tmp_path / "inbox" / "ann" / "quiz1.ipynb").write_text("{}")
    (tmp_path / "inbox" / "bob").mkdir()
    (tmp_path / "inbox" / "bob" / "quiz2.ipynb").write_text("{}")
    code, err = run(capsys, "autograde", tmp_path / "inbox", "--course", course)
    assert code == EXIT_ERROR and "--quiz" in err and "quiz1, quiz2" in err


def test_course_without_config(capsys, tmp_path):
    (tmp_path / "subs").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "subs" / "ann.ipynb")
    code, err = run(capsys, "autograde", tmp_path / "subs", "--course", tmp_path, "--quiz", "quiz1")
    assert code == EXIT_ERROR and "has no nbgrader_config.py" in err


def test_unknown_quiz(capsys, course):
    code, err = run(capsys, "release", "quiz9", "--course", course)
    assert code == EXIT_ERROR and "Unknown quiz 'quiz9'" in err


def test_summary_of_an_empty_course(capsys, course):
    assert main(["summary", "--course", str(course)]) == 0
    assert "Nothing graded yet" in capsys.readouterr().out


def test_quiz_is_inferred_from_the_folder_or_the_notebook_names(tmp_path):
    (tmp_path / "quiz3").mkdir()
    assert infer_quiz_id(tmp_path / "quiz3") == "quiz3"
    (tmp_path / "inbox" / "ann").mkdir(parents=True)
    (tmp_path / "inbox" / "ann" / "quiz4.ipynb").write_text("{}")
    assert infer_quiz_id(tmp_path / "inbox") == "quiz4"


def test_submissions_are_found_in_both_layouts_and_problems_become_flags(tmp_path):
    folder = tmp_path / "subs"
    (folder / "bob").mkdir(parents=True)
    (folder / ".ipynb_checkpoints").mkdir()
    released = nbformat.read(REPO / "quizzes" / "release" / "quiz2" / "quiz2.ipynb", as_version=4)
    nbformat.write(released, folder / "ann.ipynb")
    nbformat.write(released, folder / "bob" / "quiz2.ipynb")
    (folder / "cid").mkdir()
    (folder / "cid" / "quiz1.ipynb").write_text("{}")
    (folder / "dee.ipynb").write_text("not json")
    (folder / "eve smith.ipynb").write_bytes((folder / "ann.ipynb").read_bytes())
    found = {submission.student_id: submission for submission in find_submissions(folder, "quiz2")}
    assert sorted(found) == ["ann", "bob", "cid", "dee", "eve smith"]
    assert found["ann"].notebook is not None and found["bob"].notebook is not None and not found["ann"].flags
    assert found["cid"].flags[0].startswith("missing: no quiz2.ipynb") and "quiz1.ipynb" in found["cid"].flags[0]
    assert found["dee"].flags[0].startswith("corrupted: ") and str(folder / "dee.ipynb") in found["dee"].flags[0]
    assert found["eve smith"].notebook is None and found["eve smith"].flags[0].startswith("bad name:")
