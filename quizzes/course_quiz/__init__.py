"""Instructor tooling for the course's quizzes: the question bank, nbgrader course builds and grading.

Not part of what students install: `pip install -e quizzes/` (or `make setup`) gives the `course-quiz` command.
"""
