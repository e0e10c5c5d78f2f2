"""A term's grading workspace, outside the course checkout: `course-quiz init ~/quiz-term-2026`.

The workspace holds everything that must stay out of public reach:

- `term.json`   the term id, its secret (`term_secret`) and the instructor's settings (mode 0600);
- `key.json`    the term's key: per quiz and question, the variant used, the choice order and the right letter,
                and apart from it the text of each choice as shown (read through `TermKey`);
- `private/`    optional private bank files (`lessonN.yml`): extra questions and variants, never committed;
- `source/`, `release/`, `gradebook.db`: the nbgrader course built from the bank for this term.

The term secret shuffles every question's choices and picks among its variants, so a letter key from the
repository, the lessons or another term says nothing about this term's letters. With per-student release
notebooks, it also derives each student's own order from the student id (`TermKey.order`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import secrets
import shutil
from dataclasses import dataclass, field, replace
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


def _draw(term_secret: str, *parts: str) -> random.Random:
    """A generator determined by the term secret and what is drawn (HMAC: the secret cannot be guessed back)."""
    digest = hmac.new(term_secret.encode(), "|".join(parts).encode(), hashlib.sha256).digest()
    return random.Random(int.from_bytes(digest, "big"))


def shuffled_letters(term_secret: str, *parts: str) -> str:
    order = list(CHOICES)
    _draw(term_secret, *parts).shuffle(order)
    return "".join(order)


def term_question(term_secret: str, quiz_id: str, question: Question) -> tuple[Question, TermQuestion]:
    variant = _draw(term_secret, quiz_id, question.id, "variant").randrange(len(question.forms))
    form = question.forms[variant]
    order = shuffled_letters(term_secret, quiz_id, question.id, "order")
    by_letter = {choice.letter: choice for choice in form.choices}
    choices = tuple(Choice(shown, by_letter[bank].text, by_letter[bank].why) for shown, bank in zip(CHOICES, order))
    answer = CHOICES[order.index(form.answer)]
    shown = Question(question.id, form.stem, choices, answer)
    return shown, TermQuestion(question.id, variant, order, answer)


def term_lesson(term_secret: str, lesson: Lesson) -> tuple[Lesson, list[TermQuestion]]:
    pairs = [term_question(term_secret, lesson.quiz_id, question) for question in lesson.questions]
    return replace(lesson, questions=tuple(shown for shown, _ in pairs)), [key for _, key in pairs]


def init_workspace(
    workspace: Path,
    bank_dir: Path,
    config_template: Path = CONFIG_TEMPLATE,
    term_secret: str | None = None,
    term_id: str | None = None,
) -> dict:
    """Create (or rebuild, keeping its secret) a term workspace; returns the term settings."""
    workspace = Path(workspace).expanduser().resolve()
    refuse_public_place(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    os.chmod(workspace, 0o700)  # the key, the secret and the students' grades: the instructor's only
    settings = _term_settings(workspace, term_secret, term_id)
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

    key: dict = {"term": settings["term"], "quizzes": {}, "choices": {}}
    for lesson in lessons:
        shown, questions = term_lesson(settings["term_secret"], lesson)
        target = workspace / "source" / lesson.quiz_id / f"{lesson.quiz_id}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_source_notebook(shown, settings["term"]), encoding="utf-8")
        key["quizzes"][lesson.quiz_id] = {
            q.id: {"answer": q.answer, "order": q.order, "variant": q.variant} for q in questions
        }
        key["choices"][lesson.quiz_id] = {
            question.id: {c.letter: c.text for c in question.choices} for question in shown.questions
        }
    return key


def _term_settings(workspace: Path, term_secret: str | None, term_id: str | None) -> dict:
    path = workspace / TERM_FILE
    if path.is_file():
        settings = _read_settings(path)
        if term_secret and term_secret != settings["term_secret"]:
            raise TermError(
                f"{path} already has a term secret: rebuilding keeps it. Fix: init a new folder for a new term."
            )
        return settings
    settings = {
        "term": term_id or workspace.name,
        "term_secret": term_secret or secrets.token_urlsafe(24),
        "feedback": {"release_after": None, "name_right_choice": False},
    }
    _write_private(path, settings)
    return settings


def _write_private(path: Path, data: dict) -> None:
    """Written readable by the owner only: the key and the term secret are the term's secrets."""
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
    return _read_settings(settings_path), json.loads(key_path.read_text(encoding="utf-8"))


def _read_settings(path: Path) -> dict:
    settings = json.loads(path.read_text(encoding="utf-8"))
    if "seed" in settings:  # a workspace built before the secret had its own name
        settings["term_secret"] = settings.pop("seed")
    return settings


def save_settings(workspace: Path, settings: dict) -> None:
    _write_private(Path(workspace) / TERM_FILE, settings)


@dataclass(frozen=True)
class TermKey:
    """A term's key: per quiz, the right letter and the text of each choice, for the whole term or one student.

    With per-student release notebooks (`per_student`), a student sees the term's choices in an order of
    their own, derived from the term secret and the student id: `order` maps the student's letters to the
    term's, and `answers`/`choices` give that student's letters.
    """

    term: str
    entries: dict  # quiz -> question -> {"answer", "order", "variant"} (the term's letters)
    texts: dict  # quiz -> question -> term letter -> choice text
    term_secret: str = field(default="", repr=False)
    per_student: frozenset = frozenset()  # quizzes released as one notebook per student

    @classmethod
    def load(cls, workspace: Path) -> TermKey:
        settings, key = load_term(workspace)
        if "choices" not in key:
            raise TermError(f"{workspace / KEY_FILE} is of an older layout. Fix: course-quiz init {workspace}")
        per_student = frozenset(settings.get("per_student", []))
        return cls(key["term"], key["quizzes"], key["choices"], settings["term_secret"], per_student)

    def quiz_ids(self) -> list[str]:
        return list(self.entries)

    def questions(self, quiz_id: str) -> list[str]:
        return list(self.entries[quiz_id])

    def order(self, quiz_id: str, question_id: str, student_id: str | None = None) -> str:
        """The term letters in the order this student sees them ("CADB": the student's A is the term's C)."""
        if quiz_id not in self.per_student or student_id is None:
            return "".join(CHOICES)
        return shuffled_letters(self.term_secret, "student", student_id, quiz_id, question_id)

    def answers(self, quiz_id: str, student_id: str | None = None) -> dict[str, str]:
        """question -> the right letter as this student sees it."""
        return {
            question: CHOICES[self.order(quiz_id, question, student_id).index(entry["answer"])]
            for question, entry in self.entries[quiz_id].items()
        }

    def in_term_letters(self, quiz_id: str, student_id: str, letters: dict) -> dict:
        """A student's letters (question -> letter or None) mapped to the term's, so a class can be compared."""
        return {
            question: self.order(quiz_id, question, student_id)[CHOICES.index(letter)] if letter else None
            for question, letter in letters.items()
        }

    def choices(self, quiz_id: str, student_id: str | None = None) -> dict[str, dict[str, str]]:
        """question -> letter -> choice text, as this student sees them."""
        shown = {}
        for question, texts in self.texts.get(quiz_id, {}).items():
            order = self.order(quiz_id, question, student_id)
            shown[question] = {letter: texts[term_letter] for letter, term_letter in zip(CHOICES, order)}
        return shown
