"""Autograde a folder of submissions, then export, summarise and give feedback, all with nbgrader.

Each student is graded in its own nbgrader run, so a notebook that crashes nbgrader, hangs or cannot
be read costs that student only. What went wrong is kept as flags in `<course>/grading_flags.json`.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import QUIZ_IDS, QuizCourseError, check_quiz_id, ensure_generated, gradebook, nbgrader_api
from .submissions import Submission, find_submissions, infer_quiz_id, restore_deleted_cells, tampering

FLAGS_FILE = "grading_flags.json"


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
    seconds: float

    @property
    def per_minute(self) -> float:
        return 60 * len(self.rows) / self.seconds if self.seconds else float("inf")


def autograde_folder(
    folder: Path, course_dir: Path, quiz_id: str | None = None, timeout: int | None = None, progress=print
) -> AutogradeRun:
    folder, course_dir = Path(folder), Path(course_dir)
    quiz_id = check_quiz_id(quiz_id) if quiz_id else infer_quiz_id(folder)
    submissions = find_submissions(folder, quiz_id)
    started = time.monotonic()
    api = nbgrader_api(course_dir, timeout=timeout)
    ensure_generated(api, course_dir, quiz_id)
    released = nbformat.read(course_dir / "release" / quiz_id / f"{quiz_id}.ipynb", as_version=4)
    flags = load_flags(course_dir)
    rows = []
    for number, submission in enumerate(submissions, 1):
        grade_submission(api, course_dir, quiz_id, submission, released)
        flags.setdefault(quiz_id, {})[submission.student_id] = submission.flags
        row = grade_row(course_dir, quiz_id, submission.student_id, submission.flags)
        rows.append(row)
        progress(f"[{number}/{len(submissions)}] {_format_row(row)}")
    save_flags(course_dir, flags)
    return AutogradeRun(quiz_id, rows, time.monotonic() - started)


def grade_submission(api, course_dir: Path, quiz_id: str, submission: Submission, released) -> None:
    """Copy one notebook into nbgrader's submitted/ tree and autograde it; problems go to submission.flags."""
    with gradebook(course_dir) as book:
        book.update_or_create_student(submission.student_id)
    target = course_dir / "submitted" / submission.student_id / quiz_id
    shutil.rmtree(target, ignore_errors=True)
    if submission.notebook is None:
        forget_submission(course_dir, quiz_id, submission.student_id)  # an older grade must not survive
        return
    submission.flags += tampering(submission.notebook, released)
    submission.flags += restore_deleted_cells(submission.notebook, released)
    target.mkdir(parents=True)
    nbformat.write(submission.notebook, target / f"{quiz_id}.ipynb")  # a copy: the student's file is never touched
    try:
        result = api.autograde(quiz_id, submission.student_id, force=True, create=True)
    except Exception as error:  # noqa: BLE001 - one student's failure must not stop the class
        result = {"success": False, "error": f"{type(error).__name__}: {error}"}
    if not result["success"]:
        forget_submission(course_dir, quiz_id, submission.student_id)
        submission.flags.append(f"error: nbgrader could not grade this notebook, scored 0 ({_last_error_line(result)})")
        return
    submission.flags += timeouts(course_dir / "autograded" / submission.student_id / quiz_id / f"{quiz_id}.ipynb")


def timeouts(autograded_path: Path) -> list[str]:
    """Cells that nbgrader stopped after ExecutePreprocessor.timeout (an infinite loop, say)."""
    notebook = nbformat.read(autograded_path, as_version=4)
    flags = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == "CellTimeoutError":
                flags.append(f"timeout: cell {cell.get('id', index)} ran past the time limit and was stopped")
    return flags


def forget_submission(course_dir: Path, quiz_id: str, student_id: str) -> None:
    from nbgrader.api import MissingEntry

    shutil.rmtree(course_dir / "autograded" / student_id / quiz_id, ignore_errors=True)
    with gradebook(course_dir) as book:
        try:
            book.remove_submission(quiz_id, student_id)
        except MissingEntry:
            pass


def grade_row(course_dir: Path, quiz_id: str, student_id: str, flags: list[str]) -> GradeRow:
    from nbgrader.api import MissingEntry

    with gradebook(course_dir) as book:
        max_score = book.find_assignment(quiz_id).max_score
        try:
            score = book.find_submission(quiz_id, student_id).score
        except MissingEntry:
            score = None
    return GradeRow(student_id, quiz_id, score, max_score, list(flags))


def question_scores(course_dir: Path, quiz_id: str, student_id: str) -> dict[str, float]:
    """{"q1": 1.0, "q2": 0.0, ...} from the gradebook (test cells are named <question>_test)."""
    with gradebook(course_dir) as book:
        notebook = book.find_submission_notebook(quiz_id, quiz_id, student_id)
        return {grade.name.removesuffix("_test"): grade.score for grade in notebook.grades}


def summary_rows(course_dir: Path) -> list[GradeRow]:
    """Every student in the gradebook x every quiz in it (score None where nothing was graded)."""
    flags = load_flags(course_dir)
    with gradebook(course_dir) as book:
        quiz_ids = [quiz for quiz in QUIZ_IDS if quiz in {a.name for a in book.assignments}]
        students = sorted(student.id for student in book.students)
    return [
        grade_row(course_dir, quiz, student, flags.get(quiz, {}).get(student, []))
        for student in students
        for quiz in quiz_ids
    ]


def summary_table(rows: list[GradeRow]) -> str:
    if not rows:
        return "Nothing graded yet: run `course-quiz autograde <submissions folder>`."
    quiz_ids = list(dict.fromkeys(row.quiz_id for row in rows))
    by_student: dict[str, dict[str, GradeRow]] = {}
    for row in rows:
        by_student.setdefault(row.student_id, {})[row.quiz_id] = row
    width = max(len("student"), *(len(student) for student in by_student))
    lines = ["  ".join(["student".ljust(width), *(quiz.ljust(7) for quiz in quiz_ids), "flags"])]
    for student, quizzes in by_student.items():
        cells = [_score_text(quizzes[quiz]).ljust(7) for quiz in quiz_ids]
        flags = "; ".join(f"{quiz}: {flag}" for quiz in quiz_ids for flag in quizzes[quiz].flags)
        lines.append("  ".join([student.ljust(width), *cells, flags]).rstrip())
    return "\n".join(lines)


def export_csv(course_dir: Path, destination: Path) -> Path:
    """nbgrader's own CSV export of the gradebook (one row per student and quiz)."""
    from nbgrader.plugins import CsvExportPlugin

    destination = Path(destination).resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with gradebook(course_dir) as book:
        CsvExportPlugin(to=str(destination)).export(book)
    return destination


def generate_feedback(
    course_dir: Path, quiz_id: str, show_hidden_tests: bool = False, student_id: str | None = None
) -> list[Path]:
    """HTML feedback per student in <course>/feedback/; hidden tests are stripped unless asked for."""
    api = nbgrader_api(course_dir, show_hidden_tests=show_hidden_tests)
    result = api.generate_feedback(check_quiz_id(quiz_id), student_id, force=True)
    if not result["success"]:
        raise QuizCourseError(
            f"nbgrader could not generate feedback for {quiz_id} ({_last_error_line(result)}). "
            "Fix: autograde the quiz first."
        )
    return sorted((Path(course_dir) / "feedback").glob(f"{student_id or '*'}/{quiz_id}/*.html"))


def load_flags(course_dir: Path) -> dict:
    path = Path(course_dir) / FLAGS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def save_flags(course_dir: Path, flags: dict) -> None:
    text = json.dumps(flags, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    (Path(course_dir) / FLAGS_FILE).write_text(text, encoding="utf-8")


def _score_text(row: GradeRow) -> str:
    return "-" if row.score is None else f"{row.score:g}/{row.max_score:g}"


def _format_row(row: GradeRow) -> str:
    flags = f"  [{'; '.join(flag.split(':')[0] for flag in row.flags)}]" if row.flags else ""
    return f"{row.student_id}: {_score_text(row)}{flags}"


def _last_error_line(result: dict) -> str:
    lines = [line for line in (result.get("error") or result.get("log") or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no details"
