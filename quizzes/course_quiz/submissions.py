"""Finding students' notebooks in a plain folder, and checking them before nbgrader sees them.

Accepted layouts: `<folder>/<student_id>.ipynb` or `<folder>/<student_id>/<quiz>.ipynb`. The files are
only read here; grading works on copies. Problems become flags (shown by `summary`) instead of errors,
so one broken submission never stops the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import QUIZ_IDS, QuizCourseError

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*")
RESUBMIT = "Fix: ask the student to download the notebook again (File → Download .ipynb) and resubmit."


@dataclass
class Submission:
    student_id: str
    path: Path | None  # None: the student has a folder but no notebook for this quiz
    notebook: nbformat.NotebookNode | None = None  # None: nothing nbgrader could grade
    flags: list[str] = field(default_factory=list)


def infer_quiz_id(folder: Path) -> str:
    """The quiz of a submissions folder: its own name (submissions/quiz1/) or the notebooks' names."""
    if folder.name in QUIZ_IDS:
        return folder.name
    found = sorted({path.stem for path in folder.glob("*/*.ipynb") if path.stem in QUIZ_IDS})
    if len(found) == 1:
        return found[0]
    detail = f" (found {', '.join(found)})" if found else ""
    raise QuizCourseError(f"Cannot tell which quiz {folder} holds{detail}: pass --quiz quiz1 (or quiz2 ... quiz5).")


def find_submissions(folder: Path, quiz_id: str) -> list[Submission]:
    folder = Path(folder)
    if not folder.is_dir():
        raise QuizCourseError(
            f"No submissions folder at {folder}: pass the folder that holds "
            "<student_id>.ipynb files or <student_id>/<quiz>.ipynb folders."
        )
    submissions = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not (entry.is_dir() or entry.suffix == ".ipynb"):
            continue  # .ipynb_checkpoints, .DS_Store, a README next to the notebooks, ...
        student_id = entry.stem if entry.is_file() else entry.name
        if entry.is_dir():
            submission = _from_student_folder(entry, quiz_id)
        else:
            submission = read_submission(student_id, entry)
        if not STUDENT_ID.fullmatch(student_id):
            submission = Submission(
                student_id,
                entry,
                None,
                [f"bad name: {entry} - student ids use letters, digits and _.@+- only; rename the file or folder."],
            )
        submissions.append(submission)
    if not submissions:
        raise QuizCourseError(
            f"{folder} holds no notebooks: expected <student_id>.ipynb or <student_id>/{quiz_id}.ipynb."
        )
    return submissions


def _from_student_folder(folder: Path, quiz_id: str) -> Submission:
    path = folder / f"{quiz_id}.ipynb"
    if path.is_file():
        return read_submission(folder.name, path)
    others = ", ".join(sorted(p.name for p in folder.glob("*.ipynb"))) or "no notebook at all"
    return Submission(
        folder.name,
        None,
        None,
        [
            f"missing: no {quiz_id}.ipynb in {folder} ({others}); scored 0. "
            f"Fix: if it is there under another name, rename it to {quiz_id}.ipynb and autograde again."
        ],
    )


def read_submission(student_id: str, path: Path) -> Submission:
    try:
        notebook = nbformat.read(path, as_version=4)
    except (ValueError, UnicodeDecodeError) as error:  # nbformat's NotJSONError is a ValueError
        return _unusable(student_id, path, "is not valid notebook JSON", error)
    try:
        nbformat.validate(notebook)
    except (nbformat.ValidationError, KeyError, AttributeError) as error:
        return _unusable(student_id, path, "is not a valid notebook", error)
    if not any(_grade_id(cell) for cell in notebook.cells):
        return Submission(
            student_id,
            path,
            None,
            [
                f"metadata: {path} has no nbgrader cell metadata (rebuilt or copied into a new notebook?), so its "
                f"answers cannot be matched to the quiz; scored 0. Fix: have the student copy the answers into the "
                "released quiz notebook and resubmit."
            ],
        )
    return Submission(student_id, path, notebook)


def _unusable(student_id: str, path: Path, what: str, error: Exception) -> Submission:
    reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
    return Submission(student_id, path, None, [f"corrupted: {path} {what} ({reason}); scored 0. {RESUBMIT}"])


def tampering(submitted: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[str]:
    """Flags for read-only cells that were edited, compared with the release by nbgrader's own checksum
    (source, type, grade/solution/locked flags, points). nbgrader grades the released version of such
    cells anyway (it overwrites them from its gradebook); the flags make the tampering visible.
    """
    from nbgrader.utils import compute_checksum

    submitted_cells = {_grade_id(cell): cell for cell in submitted.cells if _grade_id(cell)}
    flags = []
    for cell in released.cells:
        grade_id = _grade_id(cell)
        if grade_id is None or grade_id not in submitted_cells or not cell.metadata["nbgrader"].get("locked"):
            continue
        expected = compute_checksum(cell)
        try:
            found = compute_checksum(submitted_cells[grade_id])
        except (KeyError, ValueError):
            found = "unreadable metadata"
        if found != expected:
            flags.append(
                f"edited: read-only cell {grade_id} (checksum {found}, released {expected}; "
                "graded with the released cell)"
            )
    return flags


def restore_deleted_cells(submitted: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[str]:
    """Put deleted read-only and test cells back (in place, after their released predecessor); flag them.

    nbgrader 0.9.6 has OverwriteCells.add_missing_cells for test cells, but it fails with a KeyError when
    the cell before the deleted one is read-only rather than an answer or test cell, as in our quizzes.
    A deleted answer cell is not put back: that answer is simply missing and scores 0.
    """
    present = {_grade_id(cell) for cell in submitted.cells}
    flags = []
    previous_id = None
    for cell in released.cells:
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        if grade_id not in present:
            if cell.metadata["nbgrader"].get("locked"):
                submitted.cells.insert(_position_after(submitted, previous_id), nbformat.from_dict(cell))
                present.add(grade_id)
                flags.append(f"deleted: read-only cell {grade_id} (put back from the release before grading)")
            else:
                flags.append(f"deleted: answer cell {grade_id} (that answer scores 0)")
                continue
        previous_id = grade_id
    return flags


def _position_after(notebook: nbformat.NotebookNode, grade_id: str | None) -> int:
    for index, cell in enumerate(notebook.cells):
        if grade_id is not None and _grade_id(cell) == grade_id:
            return index + 1
    return 0


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_test(cell) -> bool:
    return bool(cell.metadata["nbgrader"].get("grade"))
