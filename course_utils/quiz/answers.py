"""Answers of the public self-checks: the letters A-D, the reading rule (`reader`) and the salted digests.

The rule that reads an answer cell lives in `reader` (standard library only, embedded in the quiz notebooks
from its source); it is re-exported here for the self-checks and the grader.
"""

from __future__ import annotations

import hashlib

from .reader import read_answer, read_choice

__all__ = ["CHOICES", "choice_digest", "lesson_salt", "read_answer", "read_choice"]

CHOICES = ("A", "B", "C", "D")


def lesson_salt(lesson_id: str) -> str:
    """A fixed per-lesson salt, so that rebuilding the data gives identical files."""
    return hashlib.sha256(f"fine-tuning-course quiz salt|{lesson_id}".encode()).hexdigest()[:16]


def choice_digest(salt: str, lesson_id: str, question_id: str, choice: str) -> str:
    """sha256(salt|lesson|question|choice): the shipped data stores this for the right choice only.

    This keeps the key out of plain sight (no file says "B is right"); it is not encryption, since
    anyone can hash the four letters, and it covers the PUBLIC choice order only: a term's graded quiz
    shuffles the choices with the instructor's secret seed (see quizzes/README.md).
    """
    return hashlib.sha256(f"{salt}|{lesson_id}|{question_id}|{choice}".encode()).hexdigest()
