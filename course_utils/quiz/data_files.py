"""The quiz data shipped inside the package (`course_utils/quiz/data/lessonN.json`).

It holds what a self-check shows (stems, choices, per-choice explanations) plus, per question, the
salted digest of the right choice. There is deliberately no field naming the right letter.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from ..errors import CourseError
from .answers import choice_digest, lesson_salt
from .bank import LESSON_IDS, Lesson

DATA_PACKAGE = "course_utils.quiz"
DATA_FOLDER = "data"


class QuizDataError(CourseError):
    """The installed package lacks its quiz data, or a lesson/question id is unknown."""


def lesson_data(lesson: Lesson) -> dict:
    salt = lesson_salt(lesson.id)
    return {
        "lesson": lesson.id,
        "title": lesson.title,
        "salt": salt,
        "questions": [
            {
                "id": question.id,
                "stem": question.stem,
                "choices": [{"letter": c.letter, "text": c.text, "why": c.why} for c in question.choices],
                "digest": choice_digest(salt, lesson.id, question.id, question.answer),
            }
            for question in lesson.questions
        ],
    }


def render_lesson_data(lesson: Lesson) -> str:
    return json.dumps(lesson_data(lesson), indent=1, ensure_ascii=False) + "\n"


@lru_cache(maxsize=None)
def load_lesson_data(lesson_id: str) -> dict:
    if lesson_id not in LESSON_IDS:
        raise QuizDataError(f"There is no quiz for {lesson_id!r}: use one of {', '.join(LESSON_IDS)}.")
    data_file = resources.files(DATA_PACKAGE) / DATA_FOLDER / f"{lesson_id}.json"
    try:
        return json.loads(data_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuizDataError(
            f"The quiz data for {lesson_id} is not installed with course_utils. Fix: reinstall the course "
            "helpers (`make setup`), or from a checkout run `python -m course_utils.quiz build`."
        ) from None


def find_question(lesson_id: str, question_id: str) -> dict:
    data = load_lesson_data(lesson_id)
    for question in data["questions"]:
        if question["id"] == question_id:
            return question
    known = ", ".join(q["id"] for q in data["questions"])
    raise QuizDataError(f"{lesson_id} has no question {question_id!r}: use one of {known}.")


def is_right_choice(lesson_id: str, question: dict, letter: str) -> bool:
    salt = load_lesson_data(lesson_id)["salt"]
    return choice_digest(salt, lesson_id, question["id"], letter) == question["digest"]
