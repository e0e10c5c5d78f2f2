"""Finding students' notebooks in a plain folder and reading them safely, as data.

Accepted layouts: `<folder>/<student_id>.ipynb` or `<folder>/<student_id>/<quiz>.ipynb`. Every entry of the
folder ends up somewhere the instructor sees it: a submission, a flagged row (skipped, duplicate, symlink,
too large, corrupted) or a note line. Files are only read (never followed through symlinks, never more than
MAX_NOTEBOOK_BYTES); one broken submission never stops the others.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .course import QUIZ_ID, QuizCourseError

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*")
MAX_NOTEBOOK_BYTES = 5 * 2**20  # a quiz notebook is ~30 kB; outputs included, far below this
ARCHIVES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
RESUBMIT = "Fix: ask the student to download the notebook again (File → Download .ipynb) and resubmit."


@dataclass
class Submission:
    student_id: str
    path: Path | None  # None: the student has a folder but no notebook for this quiz
    notebook: dict | None = None  # the parsed JSON; None: nothing that can be graded
    flags: list[str] = field(default_factory=list)


@dataclass
class Inbox:
    submissions: list[Submission]
    notes: list[str]  # entries that belong to no student (hidden files, a README), each with its reason


def check_folder(folder: Path) -> Path:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise QuizCourseError(
            f"No submissions folder at {folder}: pass the folder that holds "
            "<student_id>.ipynb files or <student_id>/<quiz>.ipynb folders."
        )
    return folder


def infer_quiz_id(folder: Path, known: list[str] | None = None) -> str:
    """The quiz of a submissions folder: its own name (submissions/quiz1/) or the notebooks' names."""
    folder = check_folder(folder)
    if QUIZ_ID.fullmatch(folder.name):
        return folder.name
    found = sorted({p.stem for p in folder.glob("*/*.ipynb") if QUIZ_ID.fullmatch(p.stem)})
    if len(found) == 1:
        return found[0]
    detail = f" (found {', '.join(found)})" if found else ""
    choices = ", ".join(known) if known else "quiz1, quiz2, ..."
    raise QuizCourseError(f"Cannot tell which quiz {folder} holds{detail}: pass --quiz (one of {choices}).")


def find_submissions(folder: Path, quiz_id: str) -> Inbox:
    folder = check_folder(folder)
    by_student: dict[str, list[Submission]] = {}
    notes = []
    for entry in sorted(folder.iterdir()):
        submission, note = _classify(entry, quiz_id)
        if note:
            notes.append(note)
        if submission is not None:
            by_student.setdefault(submission.student_id, []).append(submission)
    if not by_student:
        raise QuizCourseError(
            f"{folder} holds no notebooks: expected <student_id>.ipynb or <student_id>/{quiz_id}.ipynb."
        )
    return Inbox([_one_per_student(found) for _, found in sorted(by_student.items())], notes)


def _classify(entry: Path, quiz_id: str) -> tuple[Submission | None, str | None]:
    name = entry.name
    if name.startswith("."):
        return None, f"skipped {entry}: hidden (checkpoints, system file)"
    student_id = name.split(".")[0] if not entry.is_dir() or entry.is_symlink() else name
    if not STUDENT_ID.fullmatch(student_id):
        return _flagged(
            student_id or name,
            entry,
            f"bad name: {entry} - student ids use letters, digits and _.@+- only; rename the file or folder.",
        ), None
    if entry.is_symlink():
        return _flagged(
            student_id,
            entry,
            f"symlink: {entry} points to {os.readlink(entry)}; not followed, "
            "scored 0. Fix: put the student's own file in the folder.",
        ), None
    if entry.is_dir():
        return _from_student_folder(entry, quiz_id)
    lower = name.lower()
    if lower.endswith(".ipynb"):
        return read_submission(student_id, entry), None
    if lower.endswith(ARCHIVES):
        return _flagged(
            student_id,
            entry,
            f"skipped: {entry} is an archive; unpack it and put the notebook in "
            f"the folder as {student_id}.ipynb, then autograde again.",
        ), None
    if ".ipynb" in lower:
        return _flagged(
            student_id,
            entry,
            f"skipped: {entry} does not end in .ipynb; rename it to {student_id}.ipynb and autograde again.",
        ), None
    return None, f"skipped {entry}: not a notebook (.ipynb), not an archive"


def _from_student_folder(folder: Path, quiz_id: str) -> tuple[Submission, str | None]:
    notebooks = [p for p in sorted(folder.iterdir()) if p.name.lower() == f"{quiz_id}.ipynb"]
    others = [p.name for p in sorted(folder.iterdir()) if p not in notebooks and not p.name.startswith(".")]
    note = f"skipped in {folder}: {', '.join(others)} (not {quiz_id}.ipynb)" if others else None
    if notebooks:
        return read_submission(folder.name, notebooks[0]), note
    return _flagged(
        folder.name,
        None,
        f"missing: no {quiz_id}.ipynb in {folder} ({', '.join(others) or 'empty'}); "
        f"scored 0. Fix: if it is there under another name, rename it to {quiz_id}.ipynb and autograde "
        "again.",
    ), None


def _one_per_student(found: list[Submission]) -> Submission:
    if len(found) == 1:
        return found[0]
    paths = ", ".join(str(s.path) for s in found)
    return _flagged(
        found[0].student_id,
        None,
        f"duplicate: {len(found)} submissions for {found[0].student_id} "
        f"({paths}); none graded. Fix: keep the right one and autograde again.",
    )


def _flagged(student_id: str, path: Path | None, flag: str) -> Submission:
    return Submission(student_id, path, None, [flag])


def read_submission(student_id: str, path: Path) -> Submission:
    notebook, problem = read_notebook_file(path)
    return Submission(student_id, path, notebook, [problem] if problem else [])


def read_notebook_file(path: Path) -> tuple[dict | None, str | None]:
    """(parsed JSON, None) or (None, flag): refuses symlinks, odd files and anything too large before parsing."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return None, f"symlink: {path} points to {os.readlink(path)}; not followed, scored 0."
        if not stat.S_ISREG(info.st_mode):
            return None, f"corrupted: {path} is not a regular file; scored 0."
        if info.st_size > MAX_NOTEBOOK_BYTES:
            return None, _too_large(path, info.st_size)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as error:
        return None, f"corrupted: {path} cannot be read ({error.strerror}); scored 0. {RESUBMIT}"
    if len(data) > MAX_NOTEBOOK_BYTES:
        return None, _too_large(path, len(data))
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0][:100]
        return None, f"corrupted: {path} is not valid notebook JSON ({reason}); scored 0. {RESUBMIT}"
    except RecursionError:
        return None, f"corrupted: {path} nests its JSON too deeply to be a notebook; scored 0. {RESUBMIT}"
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None, f"corrupted: {path} is JSON but not a notebook (no cells); scored 0. {RESUBMIT}"
    return notebook, None


def _too_large(path: Path, size: int) -> str:
    return (
        f"too large: {path} is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_BYTES // 2**20} MB a quiz notebook "
        f"can be; not read, scored 0. {RESUBMIT}"
    )
