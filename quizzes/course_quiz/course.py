"""The nbgrader course of a term workspace: its configuration, its gradebook, and generating assignments.

nbgrader is only needed by instructors, so it is imported here and nowhere on the student path. Everything
goes through nbgrader's Python API with an explicit course root, so the gradebook and all working folders live
in the workspace (or a temporary folder in tests), never in the course checkout.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

from course_utils.errors import CourseError

CONFIG_FILE = "nbgrader_config.py"
QUIZ_ID = re.compile(r"quiz[1-9][0-9]*")
WORKSPACE_VARIABLE = "COURSE_QUIZ_WORKSPACE"


class QuizCourseError(CourseError):
    """An instructor-side step failed; the message says which and what to do."""


def default_course_dir() -> Path:
    workspace = os.environ.get(WORKSPACE_VARIABLE)
    if not workspace:
        raise QuizCourseError(
            f"Which term? Pass --course <term workspace> (or set {WORKSPACE_VARIABLE}); "
            "create one with course-quiz init ~/quiz-term-2026"
        )
    return Path(workspace)


def check_course_dir(course_dir: Path) -> Path:
    """A folder that exists and holds nbgrader_config.py; checked before anything could create a gradebook."""
    course_dir = Path(course_dir).expanduser().resolve()
    if not course_dir.is_dir():
        raise QuizCourseError(
            f"No course folder at {course_dir}: pass --course <term workspace from course-quiz init>."
        )
    if not (course_dir / CONFIG_FILE).is_file():
        raise QuizCourseError(
            f"{course_dir} has no {CONFIG_FILE}: pass --course <term workspace>, or rebuild it with course-quiz init."
        )
    return course_dir


def quiz_ids(course_dir: Path) -> list[str]:
    """The quizzes of a workspace: the folders of its source/ (quiz2 before quiz10)."""
    found = [p.name for p in (Path(course_dir) / "source").glob("quiz*") if QUIZ_ID.fullmatch(p.name)]
    return sorted(found, key=lambda name: int(name.removeprefix("quiz")))


def check_quiz_id(quiz_id: str, course_dir: Path | None = None) -> str:
    known = quiz_ids(course_dir) if course_dir is not None else []
    if not QUIZ_ID.fullmatch(quiz_id or "") or (course_dir is not None and quiz_id not in known):
        raise QuizCourseError(f"Unknown quiz {quiz_id!r}: use one of {', '.join(known) or 'quiz1, quiz2, ...'}.")
    return quiz_id


def course_config(course_dir: Path, *, require_static_grading: bool = True):
    """The workspace's nbgrader_config.py, loaded strictly, with the root (and so the gradebook) pinned to it.

    nbgrader itself logs a config file that raises and goes on with its defaults, which would silently drop
    the static grader; here a failing line stops everything, named.
    """
    from traitlets.config.loader import PyFileConfigLoader

    course_dir = check_course_dir(course_dir)
    try:
        config = PyFileConfigLoader(CONFIG_FILE, path=str(course_dir)).load_config()
    except Exception as error:  # noqa: BLE001 - anything the file raises is reported with its line
        raise QuizCourseError(_config_failure(course_dir / CONFIG_FILE, error)) from None
    if require_static_grading and not _grades_statically(config):
        raise QuizCourseError(
            f"{course_dir / CONFIG_FILE} does not put course_quiz.static_grade.StaticGrade in "
            "c.Autograde.autograde_preprocessors, so nbgrader would run student code: restore it with course-quiz init."
        )
    config.CourseDirectory.root = str(course_dir)
    return config


def _config_failure(path: Path, error: Exception) -> str:
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(path)]
    if isinstance(error, SyntaxError) and error.lineno:
        lines.append(error.lineno)
    where = f"line {lines[-1]}" if lines else "loading"
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{path} fails at {where} ({type(error).__name__}: {text}); nothing was done. Fix that line and run again."


def _grades_statically(config) -> bool:
    names = []
    for item in config.Autograde.get("autograde_preprocessors", []) if "Autograde" in config else []:
        names.append(item if isinstance(item, str) else f"{item.__module__}.{item.__name__}")
    return any(name.endswith("static_grade.StaticGrade") for name in names)


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


@contextmanager
def gradebook(course_dir: Path):
    """nbgrader's Gradebook of the workspace; a gradebook that cannot be written is named with the fix."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import OperationalError

    put_scripts_on_path()
    path = check_course_dir(course_dir) / "gradebook.db"
    try:
        with Gradebook(f"sqlite:///{path}") as book:
            yield book
    except OperationalError as error:
        if "readonly" not in str(error) and "read-only" not in str(error):
            raise
        raise QuizCourseError(_read_only(path)) from None


def check_gradebook_writable(course_dir: Path) -> None:
    """Before any grading: a gradebook (or its folder) that cannot be written stops here, nothing read yet."""
    path = Path(course_dir) / "gradebook.db"
    if (path.exists() and not os.access(path, os.W_OK)) or not os.access(path.parent, os.W_OK):
        raise QuizCourseError(_read_only(path))


def _read_only(path: Path) -> str:
    return (
        f"{path} is read-only, so no grade was written (nothing was changed). "
        f"Fix: make it and its folder writable (chmod u+w {path} {path.parent}) and run again."
    )


def generate_assignment(api, quiz_id: str) -> None:
    """source/<quiz> -> release/<quiz>, registering the quiz and its cells in the gradebook."""
    result = api.generate_assignment(quiz_id, force=True, create=True)
    if not result["success"]:
        raise QuizCourseError(
            f"nbgrader could not generate {quiz_id}:\n{_last_lines(result)}\nFix: rebuild with course-quiz init."
        )


def _last_lines(result: dict, count: int = 8) -> str:
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    return "\n".join(text[-count:])
