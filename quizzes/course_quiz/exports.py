"""Grades as CSV files an LMS takes: nbgrader's columns, a Canvas gradebook import, a Moodle grade import.

All three come from one read of the gradebook (`grading.read_scores`), so the time grows with the class, not
faster. Ungraded is blank, never 0: a student with no graded submission of a quiz (skipped, missing, not
graded, or the quiz not given yet) gets an empty cell, which Canvas and Moodle leave ungraded. Ids refused as
bad names never enter the gradebook, so they are in no export. Every cell is quoted, and text that a
spreadsheet would read as a formula (= + - @ tab CR first) starts with ' (`text.spreadsheet_cell`).
"""

from __future__ import annotations

import csv
from pathlib import Path

from .course import QuizCourseError, check_course_dir
from .grading import Scores, read_scores
from .text import spreadsheet_cell

FORMATS = ("nbgrader", "canvas", "moodle")
FILE_NAMES = {"nbgrader": "grades.csv", "canvas": "canvas-gradebook.csv", "moodle": "moodle-grades.csv"}
NBGRADER_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)
CANVAS_ID_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def nbgrader_rows(scores: Scores) -> list[list]:
    """nbgrader's CSV export columns, one row per student and quiz (no penalty: course-quiz sets none)."""
    rows = [list(NBGRADER_COLUMNS)]
    for quiz, max_score in scores.quizzes.items():
        for student in scores.students:
            score = scores.total(student, quiz)
            penalty = None if score is None else 0.0
            rows.append([quiz, None, None, student, None, None, None, score, penalty, score, max_score])
    return rows


def canvas_rows(scores: Scores) -> list[list]:
    """Canvas gradebook import: the student id goes in "SIS Login ID" (Canvas matches a row by it), one column
    per quiz, and the "Points Possible" row Canvas reads the maximum from."""
    quizzes = list(scores.quizzes)
    rows = [[*CANVAS_ID_COLUMNS, *quizzes], ["Points Possible", "", "", "", "", *scores.quizzes.values()]]
    for student in scores.students:
        rows.append([student, None, None, student, None, *(scores.total(student, quiz) for quiz in quizzes)])
    return rows


def moodle_rows(scores: Scores) -> list[list]:
    """Moodle's grade import (CSV file): map "Username" to the user's username and each quiz column to its
    grade item when importing."""
    quizzes = list(scores.quizzes)
    rows = [["Username", *quizzes]]
    for student in scores.students:
        rows.append([student, *(scores.total(student, quiz) for quiz in quizzes)])
    return rows


ROWS = {"nbgrader": nbgrader_rows, "canvas": canvas_rows, "moodle": moodle_rows}


def write_csv(rows: list[list], destination: Path) -> Path:
    destination = Path(destination).resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with destination.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([[spreadsheet_cell(v) for v in row] for row in rows])
    return destination


def export(course_dir: Path, destinations: dict[str, Path], scores: Scores | None = None) -> dict[str, Path]:
    """format -> file written; the gradebook is read once for all of them."""
    course_dir = check_course_dir(course_dir)
    if not (course_dir / "gradebook.db").is_file():
        raise QuizCourseError(f"{course_dir} has no gradebook yet: autograde first.")
    scores = scores or read_scores(course_dir)
    return {name: write_csv(ROWS[name](scores), path) for name, path in destinations.items()}


def export_all(course_dir: Path) -> dict[str, Path]:
    """Every format into <workspace>/exports/."""
    folder = check_course_dir(course_dir) / "exports"
    return export(course_dir, {name: folder / FILE_NAMES[name] for name in FORMATS})
