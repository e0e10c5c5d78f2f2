"""Quizzes generated from one question bank (`quizzes/bank/lessonN.yml`).

Students: `self_check("lesson1", "q1")` in a lesson notebook, or `check("lesson1", "q1", "B")` in text.
Instructors: `python -m course_utils.quiz --help` (build, release, autograde, export, summary, feedback).
"""

from .answers import read_choice
from .selfcheck import check, feedback, self_check

__all__ = ["check", "feedback", "read_choice", "self_check"]
