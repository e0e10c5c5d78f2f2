"""The nbgrader course in `quizzes/`: configuration, the gradebook, and generating assignments.

nbgrader is only needed by instructors, so it is imported here and nowhere on the student path.
Everything goes through nbgrader's Python API with an explicit course root, so the gradebook and all
working folders live in that root (the repository's `quizzes/`, or a temporary folder in tests).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from course_utils.errors import CourseError

from .bank import LESSON_IDS

CONFIG_FILE = "nbgrader_config.py"
QUIZ_IDS = tuple("quiz" + lesson_id.removeprefix("lesson") for lesson_id in LESSON_IDS)


class QuizCourseError(CourseError):
    """An instructor-side step failed; the message says which and what to do."""


def default_course_dir() -> Path:
    from course_utils.paths import project_root

    root = project_root()
    if root is None:
        raise QuizCourseError("Run this from a course checkout, or pass --course <folder with nbgrader_config.py>.")
    return root / "quizzes"


def check_quiz_id(quiz_id: str) -> str:
    if quiz_id not in QUIZ_IDS:
        raise QuizCourseError(f"Unknown quiz {quiz_id!r}: use one of {', '.join(QUIZ_IDS)}.")
    return quiz_id


def course_config(course_dir: Path, *, timeout: int | None = None, show_hidden_tests: bool = False):
    """The course's nbgrader_config.py, with the root (and so the gradebook) pinned to course_dir."""
    from traitlets.config.loader import PyFileConfigLoader

    course_dir = Path(course_dir).resolve()
    if not (course_dir / CONFIG_FILE).is_file():
        raise QuizCourseError(f"{course_dir} has no {CONFIG_FILE}: pass --course <the quizzes folder>.")
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course_dir)).load_config()
    config.CourseDirectory.root = str(course_dir)
    if timeout is not None:
        config.Execute.timeout = timeout
    if show_hidden_tests:
        from nbgrader.converters import GenerateFeedback

        config.GenerateFeedback.preprocessors = list(GenerateFeedback.class_traits()["preprocessors"].default())
    return config


def nbgrader_api(course_dir: Path, **config_options):
    import logging

    from nbgrader.apps import NbGraderAPI

    put_scripts_on_path()

    api = NbGraderAPI(config=course_config(course_dir, **config_options))
    api.log_level = logging.WARNING  # results carry their own captured logs; keep the terminal readable
    return api


def put_scripts_on_path() -> None:
    """nbgrader's Gradebook runs the `alembic` command: find it next to this interpreter (an unactivated venv)."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def gradebook(course_dir: Path):
    from nbgrader.api import Gradebook

    put_scripts_on_path()

    return Gradebook(f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}")


def generate_assignment(api, quiz_id: str) -> None:
    """source/<quiz> -> release/<quiz>, registering the quiz and its cells in the gradebook."""
    result = api.generate_assignment(quiz_id, force=True, create=True)
    if not result["success"]:
        raise QuizCourseError(
            f"nbgrader could not generate {quiz_id}:\n{_last_lines(result)}\n"
            "Fix: run `course-quiz build`, then try again."
        )


def ensure_generated(api, course_dir: Path, quiz_id: str) -> None:
    """Autograding needs the quiz in the gradebook; generate it once if it is not there yet."""
    from nbgrader.api import MissingEntry

    with gradebook(course_dir) as book:
        try:
            book.find_assignment(quiz_id)
            return
        except MissingEntry:
            pass
    generate_assignment(api, quiz_id)


def _last_lines(result: dict, count: int = 8) -> str:
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    return "\n".join(text[-count:])
