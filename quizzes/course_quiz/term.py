"""A term's grading workspace, outside the course checkout: `course-quiz init ~/quiz-term-2026`.

The workspace holds everything that must stay out of public reach:

- `term.json`   the term id, its secret seed and the instructor's feedback settings (mode 0600);
- `key.json`    the term's key: per quiz and question, the variant used, the choice order and the right letter;
- `private/`    optional private bank files (`lessonN.yml`): extra questions and variants, never committed;
- `source/`, `release/`, `gradebook.db`: the nbgrader course built from the bank for this term.

The seed shuffles every question's choices and picks among its variants, so a letter key from the
repository, the lessons or another term says nothing about this term's letters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import secrets
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from course_utils.errors import CourseError
from course_utils.quiz.answers import CHOICES

from .bank import Choice, Lesson, Question, load_bank

TERM_FILE, KEY_FILE, PRIVATE_DIR = "term.json", "key.json", "private"
CONFIG_TEMPLATE = Path(__file__).with_name("nbgrader_config_template.py")
PRIVATE_README = """\
Private bank files: lessonN.yml, same schema as the public bank (quizzes/bank/), never committed anywhere.
- a new question: a full entry with a new id (q6, q7, ...);
- private variants of a public question: `- id: q2` with `variants:` (each a stem, choices A-D and answer).
Then rebuild the term: course-quiz init <this folder>
"""


class TermError(CourseError):
    """A term workspace is missing, incomplete or in the wrong place; the message names the fix."""


@dataclass(frozen=True)
class TermQuestion:
    """How one question appears in a term: which form (0 = as written, 1.. = variants) and in what order."""

    id: str
    variant: int
    order: str  # bank letters in the order shown: "CADB" shows the bank's C as A
    answer: str  # the right letter as shown in this term


def _draw(seed: str, *parts: str) -> random.Random:
    """A generator determined by the secret seed and what is drawn (HMAC: parts cannot be guessed back)."""
    digest = hmac.new(seed.encode(), "|".join(parts).encode(), hashlib.sha256).digest()
    return random.Random(int.from_bytes(digest, "big"))


def term_question(seed: str, quiz_id: str, question: Question) -> tuple[Question, TermQuestion]:
    variant = _draw(seed, quiz_id, question.id, "variant").randrange(len(question.forms))
    form = question.forms[variant]
    order = list(CHOICES)
    _draw(seed, quiz_id, question.id, "order").shuffle(order)
    by_letter = {choice.letter: choice for choice in form.choices}
    choices = tuple(Choice(shown, by_letter[bank].text, by_letter[bank].why) for shown, bank in zip(CHOICES, order))
    answer = CHOICES[order.index(form.answer)]
    shown = Question(question.id, form.stem, choices, answer)
    return shown, TermQuestion(question.id, variant, "".join(order), answer)


def term_lesson(seed: str, lesson: Lesson) -> tuple[Lesson, list[TermQuestion]]:
    pairs = [term_question(seed, lesson.quiz_id, question) for question in lesson.questions]
    return replace(lesson, questions=tuple(shown for shown, _ in pairs)), [key for _, key in pairs]


def init_workspace(
    workspace: Path,
    bank_dir: Path,
    config_template: Path = CONFIG_TEMPLATE,
    seed: str | None = None,
    term_id: str | None = None,
) -> dict:
    """Create (or rebuild, keeping its seed) a term workspace; returns the term settings."""
    workspace = Path(workspace).expanduser().resolve()
    refuse_public_place(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    os.chmod(workspace, 0o700)  # the key, the seed and the students' grades: the instructor's only
    settings = _term_settings(workspace, seed, term_id)
    (workspace / PRIVATE_DIR).mkdir(exist_ok=True)
    (workspace / PRIVATE_DIR / "README.txt").write_text(PRIVATE_README, encoding="utf-8")
    shutil.copy(config_template, workspace / "nbgrader_config.py")
    lessons = load_bank(bank_dir, workspace / PRIVATE_DIR)
    key = build_term(workspace, lessons, settings)
    _write_private(workspace / KEY_FILE, key)
    from .course import generate_assignment, nbgrader_api

    api = nbgrader_api(workspace)
    for quiz_id in key["quizzes"]:
        generate_assignment(api, quiz_id)
    return settings


def build_term(workspace: Path, lessons: list[Lesson], settings: dict) -> dict:
    """Write source/<quiz>/<quiz>.ipynb for the term; returns the key (written by the caller)."""
    from .notebooks import render_source_notebook

    key = {"term": settings["term"], "quizzes": {}}
    for lesson in lessons:
        shown, questions = term_lesson(settings["seed"], lesson)
        target = workspace / "source" / lesson.quiz_id / f"{lesson.quiz_id}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_source_notebook(shown, settings["term"]), encoding="utf-8")
        key["quizzes"][lesson.quiz_id] = {
            q.id: {"answer": q.answer, "order": q.order, "variant": q.variant} for q in questions
        }
        key["quizzes"][lesson.quiz_id]["_choices"] = {
            question.id: {c.letter: c.text for c in question.choices} for question in shown.questions
        }
    return key


def _term_settings(workspace: Path, seed: str | None, term_id: str | None) -> dict:
    path = workspace / TERM_FILE
    if path.is_file():
        settings = json.loads(path.read_text(encoding="utf-8"))
        if seed and seed != settings["seed"]:
            raise TermError(f"{path} already has a seed: rebuilding keeps it. Fix: init a new folder for a new term.")
        return settings
    settings = {
        "term": term_id or workspace.name,
        "seed": seed or secrets.token_urlsafe(24),
        "feedback": {"release_after": None, "name_right_choice": False},
    }
    _write_private(path, settings)
    return settings


def _write_private(path: Path, data: dict) -> None:
    """Written readable by the owner only: the key and the seed are the term's secrets."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    os.chmod(path, 0o600)


def refuse_public_place(workspace: Path) -> None:
    """A workspace inside a git checkout (the course's or any other) could end up committed and public."""
    for folder in (workspace, *workspace.parents):
        if (folder / ".git").exists():
            raise TermError(
                f"{workspace} is inside the git checkout {folder}: a term's key must stay out of any repository. "
                "Fix: choose a folder outside it, e.g. course-quiz init ~/quiz-term-2026"
            )


def load_term(workspace: Path) -> tuple[dict, dict]:
    """(settings, key) of a workspace; TermError naming the fix if it is not one."""
    workspace = Path(workspace)
    settings_path, key_path = workspace / TERM_FILE, workspace / KEY_FILE
    if not settings_path.is_file() or not key_path.is_file():
        raise TermError(
            f"{workspace} is not a term workspace (no {TERM_FILE} / {KEY_FILE}). "
            f"Fix: create one with course-quiz init <folder outside the checkout>, and pass it as --course."
        )
    return (json.loads(settings_path.read_text(encoding="utf-8")), json.loads(key_path.read_text(encoding="utf-8")))


def save_settings(workspace: Path, settings: dict) -> None:
    _write_private(Path(workspace) / TERM_FILE, settings)
