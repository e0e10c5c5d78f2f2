"""Finding students' notebooks in a folder and reading them safely, as data.

Accepted layouts, each read under the student id rule printed with it (`Inbox.mapping`):

- plain: `<folder>/<student_id>.ipynb` (the id is the whole name before `.ipynb`: `bob.smith.ipynb` is
  `bob.smith`) or `<folder>/<student_id>/<quiz>.ipynb`;
- nbgrader: `submitted/<student_id>/<quiz>/<quiz>.ipynb`, what `nbgrader collect` and `nbgrader zip_collect`
  leave in the course folder (pass `<course>/submitted`);
- Canvas "Download Submissions": `smithalice_12345_67890_quiz1.ipynb` (`_late_` after the name when late;
  `quiz1-1.ipynb` when resubmitted) -> `12345`, the Canvas user id (the `ID` column of Canvas's gradebook CSV;
  the sortable name before it is not unique and changes when a student's name does);
- Moodle "Download all submissions": folders `Alice Smith_12345_assignsubmission_file_/quiz1.ipynb` (or flat
  files `Alice Smith_12345_assignsubmission_file_quiz1.ipynb`) -> `12345`, the participant id of the
  assignment (Moodle's offline grading worksheet calls it "Participant 12345"; stable while the student is
  enrolled, unlike the full name).

Every entry of the folder ends up somewhere the instructor sees it: a submission, a flagged row (skipped,
duplicate, symlink, too large, corrupted, bad name) or a note line. Files are only read (never followed through
symlinks, never more than MAX_NOTEBOOK_BYTES); one broken submission never stops the others.
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
# Canvas: <sortable name, lower case, no spaces>[_late]_<user id>_<submission/attachment id>_<file as uploaded>
CANVAS_FILE = re.compile(r"(?P<name>[a-z0-9-]+?)(?:_late)?_(?P<user>[0-9]+)_(?P<attachment>[0-9]+)_(?P<file>.+)")
# Moodle: <full name>_<participant id>_assignsubmission_<plugin>_[<file as uploaded>]
MOODLE_NAME = re.compile(r"(?P<name>.+?)_(?P<participant>[0-9]+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)")
RULES = {
    "plain": "id = the name before .ipynb, or the folder's name",
    "nbgrader": "id = the folder under submitted/ (nbgrader collect / zip_collect)",
    "canvas": "id = the Canvas user id, the number after the name",
    "moodle": "id = the Moodle participant id, the number after the name",
}


@dataclass
class Submission:
    student_id: str
    path: Path | None  # None: the student has a folder but no notebook for this quiz
    notebook: dict | None = None  # the parsed JSON; None: nothing that can be graded
    flags: list[str] = field(default_factory=list)
    rule: str = "plain"  # which student id rule named it (RULES)


@dataclass
class Inbox:
    submissions: list[Submission]
    notes: list[str]  # entries that belong to no student (hidden files, a README), and the mapping lines
    mapping: list[str] = field(default_factory=list)  # "file -> student (rule)", for ids not spelled as is


def check_folder(folder: Path) -> Path:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise QuizCourseError(
            f"No submissions folder at {folder}: pass the folder that holds <student_id>.ipynb files, "
            "<student_id>/<quiz>.ipynb folders, nbgrader's submitted/ or an LMS download (Canvas, Moodle)."
        )
    return folder


def printable(name: str) -> str:
    """A file name as text that can be printed and stored: undecodable bytes become \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def infer_quiz_id(folder: Path, known: list[str] | None = None) -> str:
    """The quiz of a submissions folder: its own name (submissions/quiz1/) or the notebooks' names."""
    folder = check_folder(folder)
    if QUIZ_ID.fullmatch(folder.name):
        return folder.name
    found = {p.stem for p in folder.glob("*/*.ipynb") if QUIZ_ID.fullmatch(p.stem)}
    found |= {p.name for p in folder.glob("*/quiz*") if p.is_dir() and QUIZ_ID.fullmatch(p.name)}  # nbgrader
    for entry in folder.iterdir():  # LMS downloads keep the uploaded file's name at the end
        tail = _lms_match(entry.name)
        if tail and QUIZ_ID.fullmatch(_quiz_stem(tail[2])):
            found.add(_quiz_stem(tail[2]))
    found = sorted(found)
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
    submissions = [_one_per_student(found) for _, found in sorted(by_student.items())]
    mapping = _mapping(folder, [s for found in by_student.values() for s in found])
    return Inbox(submissions, notes + [f"student id: {line}" for line in mapping], mapping)


def _mapping(folder: Path, found: list[Submission]) -> list[str]:
    lines = []
    for submission in sorted(found, key=lambda s: str(s.path)):
        if submission.path is None or submission.rule == "plain":
            continue
        where = printable(str(submission.path.relative_to(folder)))
        lines.append(f"{where} -> {submission.student_id} ({RULES[submission.rule]})")
    return lines


def _lms_match(name: str) -> tuple[str, str, str] | None:
    """(rule, student id, uploaded file name) of a Canvas or Moodle download entry; None for other names."""
    moodle = MOODLE_NAME.fullmatch(name)
    if moodle:
        return "moodle", moodle["participant"], moodle["file"]
    canvas = CANVAS_FILE.fullmatch(name)
    if canvas and QUIZ_ID.fullmatch(_quiz_stem(canvas["file"])):  # the upload's own name anchors the rule
        return "canvas", canvas["user"], canvas["file"]
    return None


def _quiz_stem(file_name: str) -> str:
    """`quiz1.ipynb`, `Quiz1.ipynb` or Canvas's resubmitted `quiz1-1.ipynb` -> `quiz1`."""
    lower = file_name.lower()
    stem = lower[: -len(".ipynb")] if lower.endswith(".ipynb") else lower
    return re.sub(r"-[0-9]+$", "", stem)


def _student_of_file(name: str) -> str:
    """The plain rule for a file: everything before `.ipynb` (dots included), or before an archive suffix."""
    lower = name.lower()
    if ".ipynb" in lower:
        return name[: lower.index(".ipynb")]
    while lower.endswith(ARCHIVES):
        cut = lower.rindex(".")
        name, lower = name[:cut], lower[:cut]
    return name.split(".")[0]


def _classify(entry: Path, quiz_id: str) -> tuple[Submission | None, str | None]:
    name = entry.name
    shown = printable(name)
    if name.startswith("."):
        return None, f"skipped {printable(str(entry))}: hidden (checkpoints, system file)"
    if shown != name:
        return _flagged(
            _student_of_file(shown),
            None,
            f"bad name: {printable(str(entry))} is not valid UTF-8 (shown with \\x escapes); not read, "
            "not graded. Fix: rename it to <student_id>.ipynb and autograde again.",
        ), None
    is_folder = entry.is_dir() and not entry.is_symlink()
    lms = _lms_match(name)
    if lms:
        rule, student_id, uploaded = lms
        if is_folder:
            return _from_student_folder(entry, quiz_id, student_id, rule)
        if QUIZ_ID.fullmatch(_quiz_stem(uploaded)) and _quiz_stem(uploaded) != quiz_id:
            return None, f"skipped {entry}: {uploaded} is not {quiz_id}"
    else:
        rule, student_id = "plain", name if is_folder else _student_of_file(name)
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
            f"symlink: {entry} points to {printable(os.readlink(entry))}; not followed, "
            "scored 0. Fix: put the student's own file in the folder.",
        ), None
    if is_folder:
        return _from_student_folder(entry, quiz_id, student_id, rule)
    lower = name.lower()
    if lower.endswith(".ipynb"):
        return read_submission(student_id, entry, rule), None
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


def _from_student_folder(folder: Path, quiz_id: str, student_id: str, rule: str) -> tuple[Submission, str | None]:
    """`<student>/<quiz>.ipynb` (any case) or nbgrader's `<student>/<quiz>/<quiz>.ipynb`: exactly one of them."""
    entries = sorted(folder.iterdir())
    undecodable = [printable(p.name) for p in entries if printable(p.name) != p.name]
    notebooks = [p for p in entries if p.name.lower() == f"{quiz_id}.ipynb" and p.name not in undecodable]
    nbgrader = folder / quiz_id
    if nbgrader.is_dir() and not nbgrader.is_symlink():
        rule = "nbgrader" if rule == "plain" else rule
        notebooks += [p for p in sorted(nbgrader.iterdir()) if p.name.lower() == f"{quiz_id}.ipynb"]
    others = [
        printable(p.name)
        for p in entries
        if p not in notebooks and not p.name.startswith(".") and not QUIZ_ID.fullmatch(p.name)
    ]
    note = f"skipped in {printable(str(folder))}: {', '.join(others)} (not {quiz_id}.ipynb)" if others else None
    if len(notebooks) > 1:
        paths = ", ".join(printable(str(p)) for p in notebooks)
        return _flagged(
            student_id,
            None,
            f"duplicate: {len(notebooks)} notebooks for {quiz_id} in {printable(str(folder))} ({paths}); none "
            "graded. Fix: keep the right one and autograde again.",
        ), note
    if notebooks:
        return read_submission(student_id, notebooks[0], rule), note
    return _flagged(
        student_id,
        None,
        f"missing: no {quiz_id}.ipynb in {printable(str(folder))} ({', '.join(others) or 'empty'}); "
        f"scored 0. Fix: if it is there under another name, rename it to {quiz_id}.ipynb and autograde "
        "again.",
    ), None


def _one_per_student(found: list[Submission]) -> Submission:
    if len(found) == 1:
        return found[0]
    paths = ", ".join(printable(str(s.path)) for s in found)
    return _flagged(
        found[0].student_id,
        None,
        f"duplicate: {len(found)} submissions for {found[0].student_id} "
        f"({paths}); none graded. Fix: keep the right one and autograde again.",
    )


def _flagged(student_id: str, path: Path | None, flag: str) -> Submission:
    return Submission(student_id, path, None, [flag])


def read_submission(student_id: str, path: Path, rule: str = "plain") -> Submission:
    notebook, problem = read_notebook_file(path)
    return Submission(student_id, path, notebook, [problem] if problem else [], rule)


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
