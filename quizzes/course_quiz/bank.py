"""The question bank: `quizzes/bank/lessonN.yml`, read and checked.

Everything students see (self-checks, package data, nbgrader quizzes) is generated from these files,
so the checks here are the bank's contract: a mistake is reported with its file and question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from course_utils.errors import CourseError
from course_utils.quiz.answers import CHOICES

LESSON_IDS = tuple(f"lesson{number}" for number in range(1, 6))
MIN_QUESTIONS, MAX_QUESTIONS = 3, 5
QUESTION_ID = re.compile(r"q[1-9][0-9]*")
# The verdict is derived from the hash when a student checks; an explanation that starts with one
# would give the answer away in the shipped data.
VERDICT_WORDS = re.compile(r"^\W*(correct|incorrect|right|wrong|yes|no|true|false)\b", re.IGNORECASE)
CORRECTNESS_WORDS = re.compile(r"\b(in)?correct(ly)?\b", re.IGNORECASE)


class BankError(CourseError):
    """The question bank has a mistake; the message names the file and question."""


@dataclass(frozen=True)
class Choice:
    letter: str
    text: str
    why: str


@dataclass(frozen=True)
class Question:
    id: str
    stem: str
    choices: tuple[Choice, ...]
    answer: str


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    questions: tuple[Question, ...]

    @property
    def quiz_id(self) -> str:
        """The nbgrader assignment for this lesson: lesson3 -> quiz3."""
        return "quiz" + self.id.removeprefix("lesson")

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions)
        raise KeyError(f"{self.id} has no question {question_id!r} (it has {known})")


def default_bank_dir() -> Path:
    from course_utils.paths import project_root

    root = project_root()
    if root is None:
        raise BankError("The question bank lives in the course repository: pass --bank <repo>/quizzes/bank.")
    return root / "quizzes" / "bank"


def load_bank(bank_dir: Path | None = None) -> list[Lesson]:
    """All five lessons, in order; raises BankError naming the file and question at the first mistake."""
    bank_dir = Path(bank_dir) if bank_dir else default_bank_dir()
    if not bank_dir.is_dir():
        raise BankError(f"No question bank at {bank_dir}: pass --bank <folder with lesson1.yml .. lesson5.yml>.")
    return [load_lesson(bank_dir / f"{lesson_id}.yml", lesson_id) for lesson_id in LESSON_IDS]


def load_lesson(path: Path, lesson_id: str) -> Lesson:
    if not path.is_file():
        raise BankError(f"{path} is missing: every lesson needs a bank file.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise BankError(f"{path} is not valid YAML: {error}") from None
    _require(isinstance(raw, dict), path, "the file must be a mapping with lesson, title, questions")
    _require(raw.get("lesson") == lesson_id, path, f"'lesson:' must be {lesson_id!r}, like the file name")
    _require(isinstance(raw.get("title"), str) and raw["title"].strip(), path, "'title:' is missing")
    raw_questions = raw.get("questions") or []
    _require(
        MIN_QUESTIONS <= len(raw_questions) <= MAX_QUESTIONS,
        path,
        f"has {len(raw_questions)} questions; write {MIN_QUESTIONS} to {MAX_QUESTIONS}",
    )
    questions = tuple(_parse_question(path, number, item) for number, item in enumerate(raw_questions, 1))
    ids = [question.id for question in questions]
    _require(len(set(ids)) == len(ids), path, f"question ids repeat: {ids}")
    return Lesson(id=lesson_id, title=raw["title"].strip(), questions=questions)


def _parse_question(path: Path, number: int, raw) -> Question:
    where = f"question #{number}"
    _require(isinstance(raw, dict), path, f"{where} must be a mapping")
    question_id = str(raw.get("id", ""))
    _require(QUESTION_ID.fullmatch(question_id) is not None, path, f"{where}: id must look like q1, q2, ...")
    where = f"question {question_id}"
    stem = _text(raw.get("stem"), path, f"{where}: stem")
    raw_choices = raw.get("choices")
    _require(
        isinstance(raw_choices, dict) and sorted(raw_choices) == list(CHOICES),
        path,
        f"{where}: choices must be exactly {', '.join(CHOICES)}",
    )
    choices = tuple(_parse_choice(path, where, letter, raw_choices[letter]) for letter in CHOICES)
    _require(
        len({choice.text.lower() for choice in choices}) == len(CHOICES), path, f"{where}: two choices say the same"
    )
    answer = str(raw.get("answer", ""))
    _require(answer in CHOICES, path, f"{where}: answer must be one of {', '.join(CHOICES)}, got {answer!r}")
    return Question(id=question_id, stem=stem, choices=choices, answer=answer)


def _parse_choice(path: Path, where: str, letter: str, raw) -> Choice:
    _require(isinstance(raw, dict), path, f"{where}, choice {letter}: needs 'text:' and 'why:'")
    text = _text(raw.get("text"), path, f"{where}, choice {letter}: text")
    why = _text(raw.get("why"), path, f"{where}, choice {letter}: why")
    _require(
        VERDICT_WORDS.match(why) is None and not CORRECTNESS_WORDS.search(text + " " + why),
        path,
        f"{where}, choice {letter}: says or starts with a verdict (correct, wrong, yes, ...); explain "
        "without one: the verdict is added when the student checks",
    )
    return Choice(letter=letter, text=text, why=why)


def _text(value, path: Path, what: str) -> str:
    _require(isinstance(value, (str, int, float)) and str(value).strip(), path, f"{what} is missing")
    return " ".join(str(value).split())  # YAML folding leaves stray newlines; one line reads everywhere


def _require(condition: bool, path: Path, message: str) -> None:
    if not condition:
        raise BankError(f"{path}: {message}")
