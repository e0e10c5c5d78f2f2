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

LESSON_FILE = re.compile(r"lesson([1-9][0-9]*)\.yml")
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
class Variant:
    """Another wording of a question (optional `variants:` in the bank); a term build picks one per question."""

    stem: str
    choices: tuple[Choice, ...]
    answer: str


@dataclass(frozen=True)
class Question:
    id: str
    stem: str
    choices: tuple[Choice, ...]
    answer: str
    variants: tuple[Variant, ...] = ()
    private: bool = False  # from a workspace's private bank, never in the public course

    @property
    def forms(self) -> tuple[Variant, ...]:
        """The question as written first, then its variants: what a term build chooses from."""
        return (Variant(self.stem, self.choices, self.answer), *self.variants)


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


def lesson_ids(bank_dir: Path) -> list[str]:
    """The lessons of a bank folder, from its file names (lesson2 before lesson10)."""
    numbers = sorted(int(m.group(1)) for p in Path(bank_dir).glob("*.yml") if (m := LESSON_FILE.fullmatch(p.name)))
    return [f"lesson{number}" for number in numbers]


def load_bank(bank_dir: Path | None = None, private_dir: Path | None = None) -> list[Lesson]:
    """Every lesson of the bank, in order, with a workspace's private questions and variants merged in.

    Raises BankError naming the file and question at the first mistake.
    """
    bank_dir = Path(bank_dir) if bank_dir else default_bank_dir()
    if not bank_dir.is_dir():
        raise BankError(f"No question bank at {bank_dir}: pass --bank <folder with lesson1.yml, lesson2.yml, ...>.")
    ids = lesson_ids(bank_dir)
    if not ids:
        raise BankError(f"{bank_dir} holds no lessonN.yml files: pass the folder of the question bank.")
    lessons = [load_lesson(bank_dir / f"{lesson_id}.yml", lesson_id) for lesson_id in ids]
    if private_dir is not None and Path(private_dir).is_dir():
        lessons = [merge_private(lesson, Path(private_dir) / f"{lesson.id}.yml") for lesson in lessons]
    return lessons


def merge_private(lesson: Lesson, path: Path) -> Lesson:
    """Add a private bank file's questions (new ids) and variants (`id:` of a public question + `variants:`)."""
    if not path.is_file():
        return lesson
    raw = _read_yaml(path)
    _require(raw.get("lesson") == lesson.id, path, f"'lesson:' must be {lesson.id!r}, like the file name")
    questions = {question.id: question for question in lesson.questions}
    for number, item in enumerate(raw.get("questions") or [], 1):
        _require(isinstance(item, dict), path, f"question #{number} must be a mapping")
        question_id = str(item.get("id", ""))
        if question_id in questions and "stem" not in item:
            extra = _parse_variants(path, f"question {question_id}", item.get("variants"))
            _require(bool(extra), path, f"question {question_id}: a public id needs 'variants:' to add")
            old = questions[question_id]
            questions[question_id] = Question(old.id, old.stem, old.choices, old.answer, old.variants + extra, True)
        else:
            _require(question_id not in questions, path, f"question {question_id} repeats an id; use a new one")
            parsed = _parse_question(path, number, item)
            questions[question_id] = Question(
                parsed.id, parsed.stem, parsed.choices, parsed.answer, parsed.variants, private=True
            )
    return Lesson(lesson.id, lesson.title, tuple(questions.values()))


def _read_yaml(path: Path):
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise BankError(f"{path} is not valid YAML: {error}") from None
    _require(isinstance(raw, dict), path, "the file must be a mapping with lesson, title, questions")
    return raw


def load_lesson(path: Path, lesson_id: str) -> Lesson:
    if not path.is_file():
        raise BankError(f"{path} is missing: every lesson needs a bank file.")
    raw = _read_yaml(path)
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
    form = _parse_form(path, where, raw)
    variants = _parse_variants(path, where, raw.get("variants"))
    return Question(question_id, form.stem, form.choices, form.answer, variants)


def _parse_variants(path: Path, where: str, raw) -> tuple[Variant, ...]:
    if raw is None:
        return ()
    _require(isinstance(raw, list), path, f"{where}: 'variants:' must be a list of stem/choices/answer")
    return tuple(_parse_form(path, f"{where}, variant #{n}", item) for n, item in enumerate(raw, 1))


def _parse_form(path: Path, where: str, raw) -> Variant:
    _require(isinstance(raw, dict), path, f"{where} must be a mapping with stem, choices, answer")
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
    return Variant(stem=stem, choices=choices, answer=answer)


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


# --- lint: checks on the bank's text that a lesson author fixes by rewording ----------------------------------

LONGEST_SHARE = 1 / 3


def lint(lessons: list[Lesson], bank_dir: Path) -> list[str]:
    """Problems that do not stop a build but give answers away; each names the file."""
    problems = []
    for lesson in lessons:
        forms = [form for question in lesson.questions for form in question.forms]
        longest = [form for form in forms if _right_choice_is_longest(form)]
        if len(longest) > LONGEST_SHARE * len(forms):
            problems.append(
                f"{Path(bank_dir) / (lesson.id + '.yml')}: the right choice is the longest in {len(longest)} of "
                f"{len(forms)} questions (at most a third may be); lengthen a distractor or shorten the answer"
            )
    return problems


def _right_choice_is_longest(form: Variant) -> bool:
    lengths = {choice.letter: len(choice.text) for choice in form.choices}
    return lengths[form.answer] == max(lengths.values()) and list(lengths.values()).count(max(lengths.values())) == 1


def _text(value, path: Path, what: str) -> str:
    _require(isinstance(value, (str, int, float)) and str(value).strip(), path, f"{what} is missing")
    return " ".join(str(value).split())  # YAML folding leaves stray newlines; one line reads everywhere


def _require(condition: bool, path: Path, message: str) -> None:
    if not condition:
        raise BankError(f"{path}: {message}")
