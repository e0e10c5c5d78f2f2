"""Per-student release notebooks: every student of a term sees each question's choices in an order of their own.

The order is derived from the term secret and the student id (HMAC, `TermKey.order`), so the grader
recomputes each student's key and no notebook holds anything about another student's order: a notebook
carries only its own order (its choice list) and the student id it was made for. Knowing one's own order
and id says nothing about another id's order without the term secret, which stays in the workspace.

This is for distribution through an LMS (one file per student). nbgrader's exchange releases one notebook
to everybody; computing an order inside that notebook from the hub user would need the secret in the
notebook, or a public rule every student could apply to classmates' ids, so it is not offered.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .course import QuizCourseError
from .notebooks import METADATA_KEY
from .submissions import STUDENT_ID
from .term import TermKey, load_term, save_settings


def read_roster(path: Path) -> list[str]:
    """Student ids from the first column of a CSV (a header row whose first cell is not an id is skipped)."""
    path = Path(path)
    if not path.is_file():
        raise QuizCourseError(f"No roster at {path}: pass a CSV whose first column is the student id.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        ids = [row[0].strip() for row in csv.reader(handle) if row and row[0].strip()]
    if ids and not STUDENT_ID.fullmatch(ids[0]) or ids[:1] == ["student_id"]:
        ids = ids[1:]
    bad = [student for student in ids if not STUDENT_ID.fullmatch(student)]
    if bad or not ids:
        raise QuizCourseError(
            f"{path}: {'no student ids' if not ids else 'bad ids ' + ', '.join(map(repr, bad[:5]))}; "
            "ids use letters, digits and _.@+- only. Fix the roster and run again."
        )
    return list(dict.fromkeys(ids))


def choice_list(texts: dict[str, str]) -> str:
    return "\n".join(f"- **{letter})** {text}" for letter, text in texts.items())


def student_cells(cells: dict, key: TermKey, quiz_id: str, student_id: str | None) -> dict:
    """The release's cells (grade_id -> cell) with each question's choices in this student's order."""
    if quiz_id not in key.per_student or student_id is None:
        return cells
    term_texts, student_texts = key.choices(quiz_id), key.choices(quiz_id, student_id)
    personal = dict(cells)
    for question, texts in term_texts.items():
        cell = cells[f"{question}_question"]
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        listing = choice_list(texts)
        if not source.endswith(listing):
            raise QuizCourseError(f"{question}_question of {quiz_id} is not as built: rebuild with course-quiz init.")
        personal[f"{question}_question"] = {
            **cell,
            "source": source[: -len(listing)] + choice_list(student_texts[question]),
        }
    return personal


def release_per_student(course_dir: Path, quiz_id: str, roster: list[str], target: Path) -> list[Path]:
    """One notebook per roster id, in the student's own order; the quiz is graded per student from now on."""
    settings, _ = load_term(course_dir)
    settings["per_student"] = sorted({*settings.get("per_student", []), quiz_id})
    save_settings(course_dir, settings)
    key = TermKey.load(course_dir)
    release = json.loads((Path(course_dir) / "release" / quiz_id / f"{quiz_id}.ipynb").read_text("utf-8"))
    by_id = {cell["metadata"].get("nbgrader", {}).get("grade_id"): index for index, cell in enumerate(release["cells"])}
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for student in roster:
        notebook = json.loads(json.dumps(release))
        cells = student_cells({g: notebook["cells"][i] for g, i in by_id.items() if g}, key, quiz_id, student)
        for grade_id, cell in cells.items():
            notebook["cells"][by_id[grade_id]] = cell
        notebook["metadata"][METADATA_KEY] = {**notebook["metadata"][METADATA_KEY], "student": student}
        path = target / f"{student}.ipynb"
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
