"""The self-check data a lesson ships with the student package (`course_utils/quiz/data/lessonN.json`)."""

from __future__ import annotations

import json

from course_utils.quiz.answers import choice_digest, lesson_salt

from .bank import Lesson


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
