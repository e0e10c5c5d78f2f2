"""Quizzes generated from one question bank (`quizzes/bank/lessonN.yml`).

Students: `self_check("lesson1", "q1")` in a lesson notebook, or `check("lesson1", "q1", "B")` in text.
Instructors: `course-quiz --help` (the separate instructor package in quizzes/; grading reads `read_answer`).
"""

from .answers import read_answer, read_choice
from .selfcheck import check, feedback, self_check

__all__ = ["check", "feedback", "read_answer", "read_choice", "self_check"]
