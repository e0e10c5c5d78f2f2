"""What nbgrader's formgrader needs to show a course-quiz grade: `autograded/<student>/<quiz>/<quiz>.ipynb`.

nbgrader's formgrader lists a submission only when the gradebook holds it AND its autograded notebook exists
(`NbGraderAPI.get_notebook_submissions`), and counts submissions by the folders of `submitted/`. nbgrader's own
autograde would copy the submission, put the release's read-only and test cells back (OverwriteCells), run it
and save the outputs. Here nothing runs: the autograded notebook is the release (its cells and nbgrader
metadata, so a student's metadata edits never reach the formgrader) with the student's answer cells as text
and each test cell's output saying what was read, as `StaticGrade` writes it. The grades themselves are the
gradebook's (written by `grading.record_grades`); a manual score set in the formgrader lives there too, so it
shows in nbgrader's feedback and in every export.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

from .course import check_course_dir, gradebook
from .per_student import student_cells
from .static_grade import grade_id, source_text
from .submissions import STUDENT_ID, Inbox, find_submissions
from .term import TermKey

MAX_ANSWER_CHARS = 2000  # an answer is one line; the rest of a long cell is cut (the flags say it held code)


def write_autograded(course_dir: Path, quiz_id: str, folder: Path, inbox: Inbox | None = None) -> list[Path]:
    """For every student graded for `quiz_id`, the formgrader's notebook (and `submitted/` when graded from
    another folder, so nbgrader counts the submission), with the choices in the order that student saw them.
    `inbox`: the submissions the grading run already read (else the folder is read again). Returns the
    notebooks written."""
    course_dir = check_course_dir(course_dir)
    folder = Path(folder).expanduser().resolve()
    release = json.loads((course_dir / "release" / quiz_id / f"{quiz_id}.ipynb").read_text(encoding="utf-8"))
    graded = graded_students(course_dir, quiz_id)
    collected_here = folder == (course_dir / "submitted").resolve()
    written = []
    key = TermKey.load(course_dir)
    for submission in (inbox or find_submissions(folder, quiz_id)).submissions:
        student = submission.student_id
        if student not in graded or submission.notebook is None or not STUDENT_ID.fullmatch(student):
            continue
        results = graded[student]
        target = course_dir / "autograded" / student / quiz_id / f"{quiz_id}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shown = student_release(release, key, quiz_id, student)
        target.write_text(json.dumps(autograded_notebook(shown, submission.notebook, results), indent=1))
        _copy_exchange_files(submission.path, target.parent)
        written.append(target)
        if not collected_here:
            _as_collected(course_dir, quiz_id, student, submission.path)
    return written


def student_release(release: dict, key: TermKey, quiz_id: str, student: str) -> dict:
    """The release as this student received it (their own choice order for a quiz released per student)."""
    if quiz_id not in key.per_student:
        return release
    notebook = json.loads(json.dumps(release))
    by_id = {grade_id(cell): index for index, cell in enumerate(notebook["cells"]) if grade_id(cell)}
    cells = student_cells({g: notebook["cells"][i] for g, i in by_id.items()}, key, quiz_id, student)
    for cell_id, cell in cells.items():
        notebook["cells"][by_id[cell_id]] = cell
    return notebook


def graded_students(course_dir: Path, quiz_id: str) -> dict[str, dict[str, tuple[float, str]]]:
    """student -> question -> (auto score, the answer's comment), for the students the gradebook holds."""
    from nbgrader.api import Assignment, Comment, Grade, SubmittedAssignment, SubmittedNotebook

    graded: dict[str, dict[str, tuple[float, str]]] = {}
    with gradebook(course_dir) as book:
        rows = (
            book.db.query(SubmittedAssignment.student_id, SubmittedNotebook.id)
            .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .filter(Assignment.name == quiz_id)
        )
        notebooks = {notebook_id: student for student, notebook_id in rows}
        comments = {
            (row.notebook_id, row.name.removesuffix("_answer")): row.auto_comment or ""
            for row in book.db.query(Comment).filter(Comment.notebook_id.in_(list(notebooks)))
        }
        for grade in book.db.query(Grade).filter(Grade.notebook_id.in_(list(notebooks))):
            question = grade.name.removesuffix("_test")
            graded.setdefault(notebooks[grade.notebook_id], {})[question] = (
                grade.auto_score or 0.0,
                comments.get((grade.notebook_id, question), ""),
            )
        for student in notebooks.values():
            graded.setdefault(student, {})
    return graded


def autograded_notebook(release: dict, submitted: dict, results: dict[str, tuple[float, str]]) -> dict:
    """The release's cells; answer cells with the student's text; test cells with what was read."""
    answers = {}
    for cell in submitted.get("cells", []):
        cell_id = grade_id(cell)
        if cell_id and cell_id.endswith("_answer") and cell_id not in answers:
            answers[cell_id] = source_text(cell)[:MAX_ANSWER_CHARS]
    notebook = json.loads(json.dumps(release))
    for cell in notebook["cells"]:
        cell_id = grade_id(cell) or ""
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if cell_id in answers:
            cell["source"] = answers[cell_id]
        if cell_id.endswith("_test"):
            score, comment = results.get(cell_id.removesuffix("_test"), (0.0, "not graded"))
            cell["outputs"] = [_output(score, comment)]
    return notebook


def _output(score: float, comment: str) -> dict:
    """As StaticGrade writes it: a plain output for points, an error output for 0 (nbgrader's convention)."""
    if score:
        return {"output_type": "stream", "name": "stdout", "text": f"{score:g} points: {comment}\n"}
    text = f"0 points: {comment}"  # the traceback is what nbconvert shows of an error output
    return {"output_type": "error", "ename": "NotGraded", "evalue": text, "traceback": [f"NotGraded: {text}"]}


def _as_collected(course_dir: Path, quiz_id: str, student: str, source: Path) -> None:
    """`submitted/<student>/<quiz>/` as `nbgrader collect` leaves it: the file as handed in, and its timestamp."""
    target = course_dir / "submitted" / student / quiz_id
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / f"{quiz_id}.ipynb", follow_symlinks=False)
    _copy_exchange_files(source, target)


def _copy_exchange_files(notebook: Path, folder: Path) -> None:
    """What nbgrader's feedback steps read beside the autograded notebook: timestamp.txt (always) and the
    submission's secret (only a submission through the exchange has one; feedback for the others goes back
    through the LMS)."""
    (folder / "timestamp.txt").write_text(handed_in_at(notebook))
    secret = notebook.parent / "submission_secret.txt"
    if secret.is_file() and not secret.is_symlink() and secret.stat().st_size < 1000:
        shutil.copyfile(secret, folder / secret.name)


def handed_in_at(notebook: Path) -> str:
    """nbgrader's timestamp.txt beside the notebook (collect writes it), else the file's modification time."""
    stamp = notebook.parent / "timestamp.txt"
    if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 100:
        return stamp.read_text(encoding="utf-8", errors="replace").strip()
    moment = datetime.fromtimestamp(notebook.lstat().st_mtime, timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f %Z")
