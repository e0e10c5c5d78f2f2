"""Autograde a folder of submissions by reading them, and record the grades in nbgrader's gradebook.

One process reads every notebook as data (`static_grade`), then writes all grades through nbgrader's own
gradebook models in one session: a regrade first removes the student's earlier submission, so no earlier
score survives, manual ones included. What went wrong is kept as flags in `<course>/grading_flags.json`, the
letter each answer was read as in `<course>/answers/<quiz>.json` (feedback and item analysis read it). Only
ids that pass the student-id rule enter the gradebook; text from a submission is escaped before it is kept.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

from .course import (
    QuizCourseError,
    check_course_dir,
    check_gradebook_writable,
    check_quiz_id,
    course_config,
    gradebook,
    quiz_ids,
)
from .static_grade import Reading, Release
from .submissions import STUDENT_ID, Inbox, check_folder, find_submissions, infer_quiz_id
from .term import TermKey
from .text import printable

FLAGS_FILE = "grading_flags.json"
ANSWERS_DIR = "answers"  # answers/<quiz>.json: student -> question -> the letter read (null: unreadable)
BATCH = 500  # students per delete statement (SQLite bounds the variables of one statement)


@dataclass
class GradeRow:
    student_id: str
    quiz_id: str
    score: float | None  # None: no gradable submission
    max_score: float
    flags: list[str] = field(default_factory=list)


@dataclass
class AutogradeRun:
    quiz_id: str
    rows: list[GradeRow]
    notes: list[str]
    seconds: float
    inbox: Inbox | None = None  # what was read, so later steps need not read the folder again

    @property
    def per_minute(self) -> float:
        return 60 * len(self.rows) / self.seconds if self.seconds else float("inf")


def autograde_folder(folder: Path, course_dir: Path, quiz_id: str | None = None, progress=None) -> AutogradeRun:
    started = time.monotonic()
    folder = check_folder(folder)
    course_dir = check_course_dir(course_dir)
    course_config(course_dir)  # refuses a config that fails to load or would execute notebooks
    key = TermKey.load(course_dir)
    check_gradebook_writable(course_dir)
    known = quiz_ids(course_dir)
    quiz_id = check_quiz_id(quiz_id, course_dir) if quiz_id else check_quiz_id(infer_quiz_id(folder, known), course_dir)
    inbox = find_submissions(folder, quiz_id)
    release = Release.load(course_dir, quiz_id, key)
    readings = read_inbox(inbox, release)
    record_grades(course_dir, quiz_id, readings)
    save_answers(course_dir, quiz_id, readings)
    flags = load_flags(course_dir)
    flags[quiz_id] = {**flags.get(quiz_id, {}), **{s.student_id: s.flags for s in inbox.submissions}}
    save_flags(course_dir, flags)
    rows = [
        GradeRow(s.student_id, quiz_id, _score(readings.get(s.student_id)), release.max_score, s.flags)
        for s in inbox.submissions
    ]
    if progress:
        for row in rows:
            progress(_format_row(row))
    return AutogradeRun(quiz_id, rows, inbox.notes, time.monotonic() - started, inbox)


def read_inbox(inbox: Inbox, release: Release) -> dict[str, Reading | None]:
    """student -> what was read (None: nothing gradable); the flags go onto each submission."""
    from .static_grade import read_notebook

    readings: dict[str, Reading | None] = {}
    for submission in inbox.submissions:
        try:
            reading = None
            if submission.notebook is not None:
                reading = read_notebook(submission.notebook, release, submission.student_id)
        except Exception as error:  # noqa: BLE001 - a reader bug must cost this student only, and be reported
            submission.flags.append(
                f"error: the grader could not read {submission.path} ({type(error).__name__}); "
                "scored 0. Fix: report this notebook to the course maintainers."
            )
        if reading is not None:
            submission.flags += reading.flags
        submission.flags = [printable(flag) for flag in submission.flags]
        readings[submission.student_id] = reading if reading is not None and reading.graded else None
    return readings


def may_enter_gradebook(student_id: str) -> bool:
    """Ids refused as bad names stay out of the gradebook (and so out of every export): only their flag remains."""
    return bool(STUDENT_ID.fullmatch(student_id))


def _score(reading: Reading | None) -> float | None:
    return None if reading is None else reading.score


def record_grades(course_dir: Path, quiz_id: str, readings: dict[str, Reading | None]) -> None:
    """Replace each student's submission in the gradebook, in one transaction of bulk statements (rows of
    nbgrader's own tables, as its models would write them): auto scores, and the reading as the answer's
    comment (shown by the formgrader; the letters themselves are kept as data by `save_answers`)."""
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import insert

    readings = {student: reading for student, reading in readings.items() if may_enter_gradebook(student)}
    with gradebook(course_dir) as book:
        assignment = _registered(book, quiz_id)
        notebook = assignment.notebooks[0]
        grade_cells = {cell.name: cell.id for cell in notebook.grade_cells}
        solution_cells = {cell.name: cell.id for cell in notebook.solution_cells}
        known = {row[0] for row in book.db.query(Student.id)}
        _remove_submissions(book.db, assignment.id, list(readings))
        rows: dict = {Student: [{"id": s} for s in readings if s not in known]}
        rows.update({SubmittedAssignment: [], SubmittedNotebook: [], Grade: [], Comment: []})
        for student, reading in readings.items():
            if reading is None:
                continue
            submission, submitted = uuid4().hex, uuid4().hex
            rows[SubmittedAssignment].append({"id": submission, "assignment_id": assignment.id, "student_id": student})
            rows[SubmittedNotebook].append(
                {"id": submitted, "assignment_id": submission, "notebook_id": notebook.id, "flagged": False}
            )
            for result in reading.results:
                rows[Grade].append(
                    {
                        "id": uuid4().hex,
                        "notebook_id": submitted,
                        "cell_id": grade_cells[f"{result.id}_test"],
                        "auto_score": result.score,
                        "needs_manual_grade": False,
                    }
                )
                rows[Comment].append(
                    {
                        "id": uuid4().hex,
                        "notebook_id": submitted,
                        "cell_id": solution_cells[f"{result.id}_answer"],
                        "auto_comment": result.comment,
                    }
                )
        for model, table_rows in rows.items():
            if table_rows:
                book.db.execute(insert(model.__table__), table_rows)
        book.db.commit()


def _remove_submissions(db, assignment_id: str, students: list[str]) -> None:
    """A regrade replaces every earlier score of these students for this quiz, manual ones included."""
    from nbgrader.api import Comment, Grade, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import delete, select

    for start in range(0, len(students), BATCH):
        old = select(SubmittedAssignment.id).where(
            SubmittedAssignment.assignment_id == assignment_id,
            SubmittedAssignment.student_id.in_(students[start : start + BATCH]),
        )
        notebooks = select(SubmittedNotebook.id).where(SubmittedNotebook.assignment_id.in_(old))
        for model in (Grade, Comment):
            db.execute(delete(model.__table__).where(model.notebook_id.in_(notebooks)))
        db.execute(delete(SubmittedNotebook.__table__).where(SubmittedNotebook.assignment_id.in_(old)))
        db.execute(delete(SubmittedAssignment.__table__).where(SubmittedAssignment.id.in_(old)))


def _registered(book, quiz_id: str):
    from nbgrader.api import MissingEntry

    try:
        return book.find_assignment(quiz_id)
    except MissingEntry:
        raise QuizCourseError(
            f"{quiz_id} is not in this workspace's gradebook: rebuild it with course-quiz init <workspace>."
        ) from None


# --- what the gradebook says --------------------------------------------------------------------------------


@dataclass
class Scores:
    """What the gradebook holds, read in one query: a quiz's points, its students, and per student the score
    of each question (a manual score replaces the automatic one; extra credit adds)."""

    quizzes: dict[str, float] = field(default_factory=dict)  # quiz -> max score, quiz1 before quiz10
    students: list[str] = field(default_factory=list)
    questions: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # (student, quiz) -> q -> pts
    marks: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # what only a person could have done

    def total(self, student: str, quiz: str) -> float | None:
        """None: no graded submission (an export leaves it blank, never 0)."""
        by_question = self.questions.get((student, quiz))
        return None if by_question is None else sum(by_question.values())


def read_scores(course_dir: Path) -> Scores:
    from nbgrader.api import Assignment, Grade, GradeCell, Student, SubmittedAssignment, SubmittedNotebook

    course_dir = check_course_dir(course_dir)
    scores = Scores()
    if not (course_dir / "gradebook.db").is_file():
        return scores
    with gradebook(course_dir) as book:
        quizzes = {a.name: a.max_score for a in book.db.query(Assignment)}
        ordered = sorted(quizzes, key=lambda name: int(name.removeprefix("quiz")) if name[4:].isdigit() else 0)
        scores.quizzes = {name: quizzes[name] for name in ordered}
        scores.students = sorted(row[0] for row in book.db.query(Student.id))
        query = (
            book.db.query(
                SubmittedAssignment.student_id,
                Assignment.name,
                GradeCell.name,
                Grade.auto_score,
                Grade.manual_score,
                Grade.needs_manual_grade,
                Grade.extra_credit,
            )
            .select_from(Grade)
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .join(GradeCell, Grade.cell_id == GradeCell.id)
        )
        for student, quiz, cell, auto, manual, needs_manual, extra in query:
            key = (student, quiz)
            points = (manual if manual is not None else auto or 0.0) + (extra or 0.0)
            scores.questions.setdefault(key, {})[cell.removesuffix("_test")] = points
            if manual is not None:
                scores.marks.setdefault(key, []).append(f"manual: {cell} set by hand to {manual:g} (autograde {auto})")
            if extra:
                scores.marks.setdefault(key, []).append(f"manual: {cell} extra credit {extra:g}")
            if needs_manual:
                scores.marks.setdefault(key, []).append(f"needs_manual_grade: {cell}")
    return scores


def gradebook_rows(course_dir: Path) -> list[GradeRow]:
    """Every student x every quiz, with the flags of the last grading plus what the gradebook itself shows:
    manual overrides and grades waiting for a manual grade (these could not come from `course-quiz`). Ids kept
    out of the gradebook as bad names are listed too, with their flags only."""
    scores = read_scores(course_dir)
    flags = load_flags(check_course_dir(course_dir))
    flagged_only = {student for by_student in flags.values() for student in by_student} - set(scores.students)
    return [
        GradeRow(
            student,
            quiz,
            scores.total(student, quiz),
            max_score,
            flags.get(quiz, {}).get(student, []) + scores.marks.get((student, quiz), []),
        )
        for student in [*scores.students, *sorted(flagged_only)]
        for quiz, max_score in scores.quizzes.items()
    ]


def summary_table(rows: list[GradeRow]) -> str:
    """One line per student; everything a submission could have put in an id or a flag is escaped."""
    if not rows:
        return "Nothing graded yet: run `course-quiz autograde <submissions folder> --course <workspace>`."
    quizzes = list(dict.fromkeys(row.quiz_id for row in rows))
    by_student: dict[str, dict[str, GradeRow]] = {}
    for row in rows:
        by_student.setdefault(printable(row.student_id), {})[row.quiz_id] = row
    width = max(len("student"), *(len(student) for student in by_student))
    lines = ["  ".join(["student".ljust(width), *(quiz.ljust(7) for quiz in quizzes), "flags"])]
    for student, by_quiz in by_student.items():
        cells = [_score_text(by_quiz[quiz]).ljust(7) for quiz in quizzes]
        flags = "; ".join(printable(f"{quiz}: {flag}") for quiz in quizzes for flag in by_quiz[quiz].flags)
        lines.append("  ".join([student.ljust(width), *cells, flags]).rstrip())
    return "\n".join(lines)


def class_answers(course_dir: Path, quiz_id: str) -> dict[str, dict[str, str | None]]:
    """student -> question -> the letter read (None: unreadable), as the student wrote it (their own order)."""
    path = Path(course_dir) / ANSWERS_DIR / f"{quiz_id}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def save_answers(course_dir: Path, quiz_id: str, readings: dict[str, Reading | None]) -> None:
    """Keep each graded student's letters; a student whose new submission cannot be graded loses the old ones."""
    answers = class_answers(course_dir, quiz_id)
    for student, reading in readings.items():
        if reading is None or not may_enter_gradebook(student):
            answers.pop(student, None)
        else:
            answers[student] = {result.id: result.letter for result in reading.results}
    write_json(Path(course_dir) / ANSWERS_DIR / f"{quiz_id}.json", answers)


def load_flags(course_dir: Path) -> dict:
    path = Path(course_dir) / FLAGS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def save_flags(course_dir: Path, flags: dict) -> None:
    write_json(Path(course_dir) / FLAGS_FILE, flags)


def write_json(path: Path, data: dict) -> None:
    """ASCII JSON (any code point a submission holds, lone surrogates included, is escaped), written to a
    temporary file first: a crash leaves the previous file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="ascii")
    os.replace(temporary, path)


def _score_text(row: GradeRow) -> str:
    return "-" if row.score is None else f"{row.score:g}/{row.max_score:g}"


def _format_row(row: GradeRow) -> str:
    flags = f"  [{'; '.join(flag.split(':')[0] for flag in row.flags)}]" if row.flags else ""
    return printable(f"{row.student_id}: {_score_text(row)}{flags}")
