"""Grading by reading: a submission's answers are read from its JSON as text and compared with the term's key.

No student code runs, in any process: a notebook is data. Per question, `course_utils.quiz.reader.read_answer`
(the rule the students' format checks apply) reads the answer cell; everything else a student could change is
compared with the release and reported as a flag. `StaticGrade` plugs the same reading into nbgrader's own
`autograde` (in place of its `Execute` step), configured by the workspace's nbgrader_config.py.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.quiz.reader import parse_cell, read_answer

from .notebooks import METADATA_KEY
from .per_student import student_cells
from .term import TermKey


@dataclass
class QuestionResult:
    id: str
    letter: str | None  # what the grader read (None: unreadable)
    problem: str  # why nothing was read ("" when a letter was)
    score: float
    points: float
    term_letter: str | None = None  # the same choice in the term's order, when the student had an order of their own

    @property
    def comment(self) -> str:
        """What the formgrader shows as the answer cell's comment (the letters are kept as data elsewhere)."""
        if not self.letter:
            return f"unreadable: {self.problem}"
        in_term = f" (the term's {self.term_letter})" if self.term_letter not in (None, self.letter) else ""
        return f"read as {self.letter}{in_term}"


@dataclass
class Reading:
    results: list[QuestionResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    graded: bool = True  # False: wrong quiz or term, no nbgrader cells: no grade is recorded

    @property
    def score(self) -> float:
        return sum(result.score for result in self.results)


@dataclass(frozen=True)
class Release:
    """What the grader compares a submission with: the term's released notebook and key for one quiz."""

    quiz_id: str
    key: TermKey
    cells: dict  # grade_id -> released cell (plain dict)
    points: dict  # question -> points of its test cell

    @classmethod
    def load(cls, course_dir: Path, quiz_id: str, key: TermKey) -> Release:
        path = Path(course_dir) / "release" / quiz_id / f"{quiz_id}.ipynb"
        if not path.is_file() or quiz_id not in key.quiz_ids():
            from .course import QuizCourseError

            raise QuizCourseError(f"{course_dir} has no released {quiz_id}: rebuild the term with course-quiz init.")
        notebook = json.loads(path.read_text("utf-8"))
        cells = {grade_id(cell): cell for cell in notebook["cells"] if grade_id(cell)}
        points = {q: float(cells[f"{q}_test"]["metadata"]["nbgrader"].get("points", 1)) for q in key.questions(quiz_id)}
        return cls(quiz_id, key, cells, points)

    @property
    def term_id(self) -> str:
        return self.key.term

    @property
    def max_score(self) -> float:
        return sum(self.points.values())


def grade_id(cell) -> str | None:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    value = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return value if isinstance(value, str) else None


def source_text(cell) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def read_notebook(notebook, release: Release, student_id: str | None = None) -> Reading:
    """Score one parsed submission against the release (in this student's letters when each student has an
    order of their own); never raises on what a student can write."""
    reading = Reading()
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        return _not_graded(reading, "corrupted: not a notebook (no list of cells); scored 0")
    if not _right_quiz(notebook, release, reading) or not _right_student(notebook, release, student_id, reading):
        return reading
    by_id: dict[str, dict] = {}
    added = 0
    for cell in cells:
        cell_id = grade_id(cell)
        if cell_id not in release.cells:
            added += 1
        elif cell_id in by_id:
            reading.flags.append(f"duplicated: cell {cell_id} appears twice; only the first is read")
        else:
            by_id[cell_id] = cell
    if not by_id:
        return _not_graded(
            reading,
            "metadata: no cell of the released quiz (nbgrader metadata removed, or a new notebook); scored 0. "
            "Fix: have the student copy the answers into the released notebook and resubmit.",
        )
    if added:
        reading.flags.append(f"added: {added} cell(s) not in the release (never run, never read)")
    reading.flags += _changed_cells(by_id, student_cells(release.cells, release.key, release.quiz_id, student_id))
    for question_id, answer in release.key.answers(release.quiz_id, student_id).items():
        reading.results.append(_grade_question(by_id.get(f"{question_id}_answer"), question_id, answer, release))
    if student_id is not None and release.quiz_id in release.key.per_student:
        letters = {result.id: result.letter for result in reading.results}
        for result, in_term in zip(
            reading.results, release.key.in_term_letters(release.quiz_id, student_id, letters).values()
        ):
            result.term_letter = in_term
    reading.flags += [
        f"look-alike: {result.problem} (scored 0)"
        for result in reading.results
        if "not a Latin letter" in result.problem
    ]
    for result in reading.results:
        other_code, assignments = _answer_cell_shape(by_id.get(f"{result.id}_answer"), result.id)
        if other_code:
            reading.flags.append(f"code: answer cell {result.id}_answer holds code besides the answer (never run)")
        if assignments > 1:
            reading.flags.append(
                f"reassigned: answer cell {result.id}_answer sets answer_{result.id} {assignments} times (the last counts)"
            )
    return reading


def _not_graded(reading: Reading, flag: str) -> Reading:
    reading.graded = False
    reading.flags.append(flag)
    return reading


def _stamp(notebook: dict) -> dict | None:
    metadata = notebook.get("metadata")
    stamp = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    return stamp if isinstance(stamp, dict) else None


def _right_student(notebook: dict, release: Release, student_id: str | None, reading: Reading) -> bool:
    """With per-student orders, a notebook made for another student, or the class-wide one, shows its choices in
    another order than the one this student is graded in: not graded."""
    stamp = _stamp(notebook)
    if release.quiz_id not in release.key.per_student or stamp is None or student_id is None:
        return True
    made_for = stamp.get("student")
    if made_for == student_id:
        return True
    whose = "the class-wide notebook" if made_for is None else f"another student's notebook, made for {made_for!r}"
    _not_graded(
        reading,
        f"{whose}, handed in as {student_id!r}: {release.quiz_id} was released per student and its choices are in "
        "another order; not graded. Fix: have the student answer their own notebook.",
    )
    return False


def _right_quiz(notebook: dict, release: Release, reading: Reading) -> bool:
    stamp = _stamp(notebook)
    if stamp is None:
        reading.flags.append("metadata: the notebook's quiz/term stamp is missing (graded by its cells)")
        return True
    if stamp.get("quiz") != release.quiz_id:
        _not_graded(
            reading,
            f"wrong quiz: this is the notebook of {stamp.get('quiz')}, handed in for "
            f"{release.quiz_id}; not graded. Fix: move it to the right quiz's folder.",
        )
        return False
    if stamp.get("term") != release.term_id:
        _not_graded(
            reading,
            f"wrong term: notebook of {stamp.get('term')!r}, not of {release.term_id!r} "
            "(its choices are in another order); not graded. Fix: have the student answer "
            "this term's notebook.",
        )
        return False
    return True


def _signature(cell: dict) -> tuple:
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    nbgrader = nbgrader if isinstance(nbgrader, dict) else {}
    flags = tuple(nbgrader.get(name) for name in ("grade", "solution", "locked", "points", "task"))
    return cell.get("cell_type"), flags


def _changed_cells(by_id: dict, released_cells: dict) -> list[str]:
    flags = []
    for cell_id, released in released_cells.items():
        submitted = by_id.get(cell_id)
        locked = released["metadata"]["nbgrader"].get("locked")
        if submitted is None:
            what = "read-only cell" if locked else "answer cell"
            consequence = "the release's version counts" if locked else "that answer scores 0"
            flags.append(f"deleted: {what} {cell_id} ({consequence})")
        elif _signature(submitted) != _signature(released):
            flags.append(f"edited: nbgrader metadata of {cell_id} (ignored: the release's metadata counts)")
        elif locked and source_text(submitted) != source_text(released):
            flags.append(f"edited: read-only cell {cell_id} (ignored: the release's version counts)")
    return flags


def _grade_question(cell, question_id: str, answer: str, release: Release) -> QuestionResult:
    points = release.points[question_id]
    if cell is None:
        return QuestionResult(question_id, None, f"answer cell {question_id}_answer was deleted", 0.0, points)
    letter, problem = read_answer(source_text(cell), f"answer_{question_id}")
    score = points if letter is not None and letter == answer else 0.0
    return QuestionResult(question_id, letter, problem, score, points)


def _answer_cell_shape(cell, question_id: str) -> tuple[bool, int]:
    """(holds more than `answer_qN = ...` and comments, how many such assignments): both are flagged for the
    instructor (nothing is ever run). A malformed value (`answer_q1 = 2`) is not "code": it is simply
    unreadable, and the answer's comment says why."""
    if cell is None:
        return False, 0
    tree = parse_cell(source_text(cell))
    if tree is None:
        return True, 0
    name = f"answer_{question_id}"
    plain = [
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id == name
        for statement in tree.body
    ]
    return not all(plain), sum(plain)


# --- nbgrader's autograde, configured by the workspace's nbgrader_config.py ------------------------------------

try:
    from nbgrader.preprocessors import NbGraderPreprocessor
except ImportError:  # pragma: no cover - nbgrader is a dependency of this package
    NbGraderPreprocessor = object


class _WorkspaceStep(NbGraderPreprocessor):
    def _course_root(self) -> str:
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(parent=self.parent, config=self.config).root


class SanitizeCellMetadata(_WorkspaceStep):
    """nbgrader sanitizing step in place of its `DeduplicateIds`: every cell's nbgrader metadata becomes the
    release's (the first cell of each grade id), and any other cell loses it. The release's metadata is what
    `read_notebook` counts anyway; nbgrader's own steps would stop the whole class at one notebook whose
    metadata they refuse (a duplicated cell, an edited schema version)."""

    def preprocess(self, nb, resources):
        from nbformat import from_dict

        released = _release(self, resources).cells
        seen = set()
        for cell in nb.cells:
            cell_id = grade_id(cell)
            if cell_id in released and cell_id not in seen:
                seen.add(cell_id)
                cell.metadata["nbgrader"] = from_dict(released[cell_id]["metadata"]["nbgrader"])
            elif "nbgrader" in cell.metadata:
                self.log.warning("a cell %r not read (duplicated or not in the release): metadata dropped", cell_id)
                cell.metadata.pop("nbgrader")
        return nb, resources


def _release(step, resources) -> Release:
    """The release of the quiz nbgrader is working on, in the workspace nbgrader was started in."""
    course_dir = Path(resources["nbgrader"].get("course_root") or step._course_root())
    return Release.load(course_dir, resources["nbgrader"]["assignment"], TermKey.load(course_dir))


class StaticGrade(_WorkspaceStep):
    """nbgrader autograde step in place of `Execute`: outputs of the test cells come from reading, not running.

    Every output the student saved is dropped; a test cell gets an error output (0 points) or a plain one
    (full points), which nbgrader's SaveAutoGrades turns into the grade. The messages never name the key.
    """

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_output

        release = _release(self, resources)
        reading = read_notebook(json.loads(json.dumps(nb)), release, resources["nbgrader"].get("student"))
        results = {result.id: result for result in reading.results}
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            cell_id = grade_id(cell) or ""
            if cell.cell_type != "code" or not cell_id.endswith("_test"):
                continue
            result = results.get(cell_id.removesuffix("_test"))
            if result is None or not reading.graded or result.score == 0:
                why = result.comment if result else "not graded"
                flags = "; ".join(reading.flags) if not reading.graded else ""
                cell.outputs = [
                    new_output("error", ename="NotGraded", evalue=f"0 points: {why} {flags}".strip(), traceback=[])
                ]
            else:
                cell.outputs = [new_output("stream", name="stdout", text=f"{result.score:g} points: {result.comment}")]
        return nb, resources
