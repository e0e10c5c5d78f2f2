"""The quiz data shipped inside the package (`course_utils/quiz/data/lessonN.json`).

It holds what a self-check shows (stems, choices, per-choice explanations) plus, per question, the
salted digest of the right choice. There is deliberately no field naming the right letter.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from ..errors import CourseError
from .answers import choice_digest

DATA_PACKAGE = "course_utils.quiz"
DATA_FOLDER = "data"


class QuizDataError(CourseError):
    """The installed package lacks its quiz data, or a lesson/question id is unknown."""


def installed_lessons() -> tuple[str, ...]:
    """The lesson ids whose self-check data ships with this package, in order (lesson2 before lesson10)."""
    folder = resources.files(DATA_PACKAGE) / DATA_FOLDER
    names = [entry.name[: -len(".json")] for entry in folder.iterdir() if entry.name.endswith(".json")]
    return tuple(sorted(names, key=lambda name: (len(name), name)))


@cache
def load_lesson_data(lesson_id: str) -> dict:
    if not isinstance(lesson_id, str) or not lesson_id.isidentifier():
        raise QuizDataError(f"There is no quiz for {lesson_id!r}: use one of {', '.join(installed_lessons())}.")
    data_file = resources.files(DATA_PACKAGE) / DATA_FOLDER / f"{lesson_id}.json"
    try:
        return json.loads(data_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if installed_lessons() and lesson_id not in installed_lessons():
            raise QuizDataError(
                f"There is no quiz for {lesson_id!r}: use one of {', '.join(installed_lessons())}."
            ) from None
        raise QuizDataError(
            f"The quiz data for {lesson_id} is not installed with course_utils. Fix: reinstall the course "
            "helpers (`make setup`), or from a checkout run `course-quiz build`."
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
