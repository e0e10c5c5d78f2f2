"""The instructor path end to end with real nbgrader: a simulated class of 35 submissions for quiz1,
autograded through the CLI in a temporary course, then exported, summarised and given feedback.

Expected scores are computed from what each simulated student typed (not hard-coded), so the test
fails if any score is not exactly what the answers deserve.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import html
import random
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from course_quiz.bank import load_bank
from course_quiz.cli import main
from course_quiz.grading import grade_row, question_scores

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
QUIZ = "quiz1"
TIMEOUT_SECONDS = 5  # nbgrader's per-cell limit; the infinite loop costs this once
KEY = {question.id: question.answer for question in load_bank(REPO / "quizzes" / "bank")[0].questions}
QUESTIONS = list(KEY)

# How a student may write a letter (all must count), and answers that must earn 0 without crashing.
LETTER_FORMS = ["{L}", "{l}", " {L} ", "{L})", "({l})", "{l}.", "({L})"]
MALFORMED = ["2", '"E"', '""', "None", '"B and C"', '["A"]']


def letter_answer(question: str, letter: str, form: str) -> str:
    return f'answer_{question} = "{form.format(L=letter, l=letter.lower())}"'


def wrong_letter(question: str, rng: random.Random) -> str:
    return rng.choice([letter for letter in "ABCD" if letter != KEY[question]])


@dataclass
class Student:
    """What one simulated student submits, and the points each question must get."""

    id: str
    answers: dict[str, str] = field(default_factory=dict)  # question -> answer cell source
    points: dict[str, int] = field(default_factory=dict)  # question -> expected points
    tamper: Callable[[nbformat.NotebookNode], None] | None = None
    raw_text: str | None = None  # written instead of a notebook (corrupted file)
    missing: bool = False  # a student folder without quiz1.ipynb
    flags: tuple[str, ...] = ()  # flag kinds the summary must show
    folder_layout: bool = False  # <id>/quiz1.ipynb instead of <id>.ipynb

    def answer(self, question: str, source: str, points: int) -> Student:
        self.answers[question], self.points[question] = source, points
        return self

    @property
    def graded(self) -> bool:
        return self.raw_text is None and not self.missing and "metadata" not in self.flags

    @property
    def expected_total(self) -> int:
        return sum(self.points.get(question, 0) for question in QUESTIONS) if self.graded else 0


def cells_by_id(notebook) -> dict:
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}


def delete_cells(*grade_ids):
    def tamper(notebook):
        notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]

    return tamper


def edit_cell(grade_id, source=None, points=None):
    def tamper(notebook):
        cell = cells_by_id(notebook)[grade_id]
        if source is not None:
            cell.source = source
        if points is not None:
            cell.metadata["nbgrader"]["points"] = points

    return tamper


def strip_nbgrader_metadata(notebook):
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)


def simulated_class() -> list[Student]:
    rng = random.Random(2024)
    students = []

    def new(student_id, **kwargs) -> Student:
        student = Student(student_id, folder_layout=len(students) % 2 == 0, **kwargs)
        students.append(student)
        return student

    def all_right(student, forms=LETTER_FORMS):
        for question in QUESTIONS:
            student.answer(question, letter_answer(question, KEY[question], rng.choice(forms)), 1)
        return student

    all_right(new("right_plain"), forms=["{L}"])
    all_right(new("right_forms"))
    for name in ("wrong_a", "wrong_b"):
        student = new(name)
        for question in QUESTIONS:
            student.answer(question, letter_answer(question, wrong_letter(question, rng), rng.choice(LETTER_FORMS)), 0)
    new("untouched")  # hands in the release as it is: every answer ""
    for number in range(16):
        student = new(f"mixed_{number:02d}")
        for question in QUESTIONS:
            roll = rng.random()
            if roll < 0.5:
                student.answer(question, letter_answer(question, KEY[question], rng.choice(LETTER_FORMS)), 1)
            elif roll < 0.8:
                student.answer(
                    question, letter_answer(question, wrong_letter(question, rng), rng.choice(LETTER_FORMS)), 0
                )
            else:
                student.answer(question, f"answer_{question} = {rng.choice(MALFORMED)}", 0)
    all_right(new("raises_name_error")).answer("q2", f"answer_q2 = {KEY['q2']}", 0)  # forgot the quotes
    all_right(new("raises_runtime_error")).answer("q1", f'raise RuntimeError("oops")\nanswer_q1 = "{KEY["q1"]}"', 0)
    all_right(new("deletes_its_answer")).answer("q5", f'answer_q5 = "{KEY["q5"]}"\ndel answer_q5', 0)
    all_right(new("infinite_loop", flags=("timeout",))).answer(
        "q3", f'while True:\n    pass\nanswer_q3 = "{KEY["q3"]}"', 0
    )
    # tampering: nbgrader grades the released cells, and the summary reports the change
    all_right(new("deleted_answer_cell", tamper=delete_cells("q2_answer"), flags=("deleted",))).points["q2"] = 0
    all_right(new("deleted_test_cell", tamper=delete_cells("q4_test"), flags=("deleted",)))
    all_right(
        new("deleted_read_only_cells", tamper=delete_cells("q1_question", "q3_format", "helpers"), flags=("deleted",))
    )
    new("edited_test_cell", tamper=edit_cell("q1_test", source='print("all good")'), flags=("edited",)).answer(
        "q1", letter_answer("q1", wrong_letter("q1", rng), "{L}"), 0
    )  # the edit would have earned the point
    new(
        "edited_helper_cell",
        tamper=edit_cell("helpers", source="def read_choice(value):\n    return 'A'\n"),
        flags=("edited",),
    ).answer("q2", 'answer_q2 = "anything"', 0)
    all_right(new("edited_points", tamper=edit_cell("q2_test", points=10), flags=("edited",)))
    all_right(
        new("edited_question_text", tamper=edit_cell("q3_question", source="**Question 3.** 2+2?"), flags=("edited",))
    )
    # unusable submissions: scored 0, reported, and the rest of the class is still graded
    new("corrupted_json", raw_text='{"cells": [', flags=("corrupted",))
    new("not_a_notebook", raw_text="%PDF-1.4 binary junk \x00\x01", flags=("corrupted",))
    new("missing_notebook", missing=True, flags=("missing",)).folder_layout = True
    all_right(new("stripped_metadata", tamper=strip_nbgrader_metadata, flags=("metadata",)))
    return students


def write_submission(student: Student, released, folder: Path) -> Path:
    if student.folder_layout:
        (folder / student.id).mkdir()
        path = folder / student.id / f"{QUIZ}.ipynb"
    else:
        path = folder / f"{student.id}.ipynb"
    if student.missing:
        (folder / student.id / "quiz 1 final.ipynb").write_text("{}")
        return path
    if student.raw_text is not None:
        path.write_text(student.raw_text, encoding="utf-8")
        return path
    notebook = copy.deepcopy(released)
    cells = cells_by_id(notebook)
    for question, source in student.answers.items():
        cells[f"{question}_answer"].source = source
    if student.tamper:
        student.tamper(notebook)
    nbformat.write(notebook, path)
    return path


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Autograde the class once via the CLI; tests below inspect the results."""
    root = tmp_path_factory.mktemp("quiz_pipeline")
    course, submissions = root / "course", root / "submissions"
    course.mkdir()
    submissions.mkdir()
    shutil.copy(REPO / "quizzes" / "nbgrader_config.py", course)
    shutil.copytree(REPO / "quizzes" / "source" / QUIZ, course / "source" / QUIZ)
    # Students start from the committed release notebook, exactly what they download.
    released = nbformat.read(REPO / "quizzes" / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    students = simulated_class()
    for student in students:
        write_submission(student, released, submissions)
    before = fingerprint(submissions)
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
            patch.setenv(variable, str(root / variable.lower()))
        started = time.monotonic()
        exit_code = main(
            ["autograde", str(submissions), "--course", str(course), "--quiz", QUIZ, "--timeout", str(TIMEOUT_SECONDS)]
        )
        seconds = time.monotonic() - started
        print(f"\nautograded {len(students)} submissions in {seconds:.0f} s = {60 * len(students) / seconds:.1f}/min")
        yield {
            "course": course,
            "submissions": submissions,
            "students": students,
            "exit_code": exit_code,
            "before": before,
            "root": root,
            "patch": patch,
        }


def test_the_class_is_large_enough_and_autograde_succeeds(graded):
    assert len(graded["students"]) >= 30
    assert graded["exit_code"] == 0


def test_every_score_is_exactly_what_the_answers_deserve(graded):
    course = graded["course"]
    for student in graded["students"]:
        if student.graded:
            expected = {question: float(student.points.get(question, 0)) for question in QUESTIONS}
            assert question_scores(course, QUIZ, student.id) == expected, student.id
        else:
            assert grade_row(course, QUIZ, student.id, []).score is None, student.id


def test_the_exported_csv_has_every_student_with_the_deserved_score(graded, tmp_path, capsys):
    csv_path = tmp_path / "grades.csv"
    assert main(["export", "--course", str(graded["course"]), "--to", str(csv_path)]) == 0
    with csv_path.open(newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == QUIZ}
    assert set(rows) == {student.id for student in graded["students"]}
    for student in graded["students"]:
        assert float(rows[student.id]["score"]) == student.expected_total, student.id
        assert float(rows[student.id]["max_score"]) == len(QUESTIONS)


def test_the_summary_reports_tampering_and_broken_submissions(graded, capsys):
    capsys.readouterr()
    assert main(["summary", "--course", str(graded["course"])]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    for student in graded["students"]:
        line = lines[student.id]
        score = f"{student.expected_total}/{len(QUESTIONS)}" if student.graded else "-"
        assert line.split()[1] == score, line
        for kind in student.flags:
            assert f"{QUIZ}: {kind}:" in line, (student.id, line)
        if not student.flags:
            assert QUIZ + ":" not in line, line
    assert "checksum" in lines["edited_test_cell"] and "q1_test" in lines["edited_test_cell"]
    corrupted = next(s for s in graded["students"] if s.id == "corrupted_json")
    corrupted_file = graded["submissions"] / (
        f"{corrupted.id}/{QUIZ}.ipynb" if corrupted.folder_layout else f"{corrupted.id}.ipynb"
    )
    assert str(corrupted_file) in lines["corrupted_json"] and "resubmit" in lines["corrupted_json"]


def test_the_students_files_are_never_modified(graded):
    assert fingerprint(graded["submissions"]) == graded["before"]


def _feedback_text(graded, student_id: str, *extra: str) -> str:
    """The feedback page as a student reads it (tags of the syntax highlighting removed)."""
    assert main(["feedback", QUIZ, "--course", str(graded["course"]), "--student", student_id, *extra]) == 0
    page = (graded["course"] / "feedback" / student_id / QUIZ / f"{QUIZ}.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_feedback_hides_hidden_tests_unless_the_instructor_asks(graded):
    student = next(s for s in graded["students"] if s.id == "mixed_00")
    assert 0 in student.points.values() and 1 in student.points.values()
    key_check = f'read_choice(answer_q1) != "{KEY["q1"]}"'
    hidden = _feedback_text(graded, student.id)
    assert "BEGIN HIDDEN TESTS" not in hidden and key_check not in hidden
    assert "is not the right choice" in hidden or "is not one of A, B, C, D" in hidden  # why points were lost
    shown = _feedback_text(graded, student.id, "--show-hidden-tests")
    assert "BEGIN HIDDEN TESTS" in shown and key_check in shown


def test_regrading_a_resubmission_replaces_the_old_grade(graded, tmp_path):
    """A fixed notebook raises the grade; a corrupted resubmission removes it rather than keeping it."""
    released = nbformat.read(REPO / "quizzes" / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    course, resubmitted = graded["course"], tmp_path / QUIZ  # the folder name tells the quiz
    resubmitted.mkdir()
    fixed = Student("wrong_a")
    for question in QUESTIONS:
        fixed.answer(question, letter_answer(question, KEY[question], "{L}"), 1)
    write_submission(fixed, released, resubmitted)
    write_submission(Student("right_plain", raw_text="not json"), released, resubmitted)
    assert main(["autograde", str(resubmitted), "--course", str(course), "--timeout", str(TIMEOUT_SECONDS)]) == 0
    assert grade_row(course, QUIZ, "wrong_a", []).score == len(QUESTIONS)
    assert grade_row(course, QUIZ, "right_plain", []).score is None


@pytest.mark.parametrize("lesson_number", range(1, 6))
def test_each_quiz_key_passes_its_hidden_tests_and_wrong_answers_fail_them(lesson_number, tmp_path, monkeypatch):
    """nbgrader's Validator (Python API: `nbgrader validate` exits 0 even on failures) on every source
    notebook: the instructor's answers pass every test cell; the same notebook with wrong letters fails all."""
    from nbgrader.validator import Validator

    from course_quiz.course import course_config

    for variable in ("JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    lesson = load_bank(REPO / "quizzes" / "bank")[lesson_number - 1]
    source = nbformat.read(REPO / "quizzes" / "source" / lesson.quiz_id / f"{lesson.quiz_id}.ipynb", as_version=4)
    (tmp_path / "course").mkdir()
    shutil.copy(REPO / "quizzes" / "nbgrader_config.py", tmp_path / "course")
    validator = Validator(config=course_config(tmp_path / "course", timeout=TIMEOUT_SECONDS))
    nbformat.write(source, tmp_path / "key.ipynb")
    assert validator.validate(str(tmp_path / "key.ipynb")) == {}
    cells = cells_by_id(source)
    for question in lesson.questions:
        wrong = next(letter for letter in "ABCD" if letter != question.answer)
        cells[f"{question.id}_answer"].source = f'answer_{question.id} = "{wrong}"'
    nbformat.write(source, tmp_path / "wrong.ipynb")
    failed = validator.validate(str(tmp_path / "wrong.ipynb"))["failed"]
    assert len(failed) == len(lesson.questions)
    assert all("is not the right choice" in failure["raw_error"] for failure in failed)
