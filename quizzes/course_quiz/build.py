"""`build`: the public bank -> package data (lesson self-checks) and the public practice notebooks.

Nothing built here holds a key: the self-check data has salted digests (public order, open-book), and the
practice notebooks are nbgrader release notebooks with empty solution regions and fail-closed test cells.
Graded quizzes are built per term, outside the checkout (`course_quiz.term`). `stale_files` regenerates
everything in a temporary folder and lists committed files that differ, so CI fails on a stale build.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .bank import load_bank
from .course import CONFIG_FILE, generate_assignment, nbgrader_api
from .lesson_data import render_lesson_data
from .notebooks import render_source_notebook
from .term import CONFIG_TEMPLATE

PACKAGE_DATA_DIR = Path("course_utils/quiz/data")
RELEASE_DIR = Path("quizzes/release")
GENERATED_DIRS = (PACKAGE_DATA_DIR, RELEASE_DIR)


def build(bank_dir: Path, out_root: Path, config_file: Path = CONFIG_TEMPLATE) -> list[Path]:
    """Write every generated file under out_root; returns their paths relative to out_root."""
    written: dict[Path, str] = {}
    lessons = load_bank(bank_dir)
    for lesson in lessons:
        written[PACKAGE_DATA_DIR / f"{lesson.id}.json"] = render_lesson_data(lesson)
    for relative, text in written.items():
        _write(out_root / relative, text)
    sources = {lesson.quiz_id: render_source_notebook(lesson) for lesson in lessons}
    for quiz_id, text in release_notebooks(config_file, sources).items():
        relative = RELEASE_DIR / quiz_id / f"{quiz_id}.ipynb"
        _write(out_root / relative, text)
        written[relative] = text
    return sorted(written)


def release_notebooks(config_file: Path, sources: dict[str, str]) -> dict[str, str]:
    """Run nbgrader generate_assignment in a throw-away course (its own gradebook) per quiz."""
    releases = {}
    with tempfile.TemporaryDirectory(prefix="course-quiz-build-") as scratch:
        course = Path(scratch)
        shutil.copy(config_file, course / CONFIG_FILE)
        for quiz_id, text in sources.items():
            _write(course / "source" / quiz_id / f"{quiz_id}.ipynb", text)
        api = nbgrader_api(course)
        for quiz_id in sources:
            generate_assignment(api, quiz_id)
            releases[quiz_id] = (course / "release" / quiz_id / f"{quiz_id}.ipynb").read_text(encoding="utf-8")
    return releases


def stale_files(bank_dir: Path, repo_root: Path) -> list[str]:
    """Generated files that are missing, different or left over in repo_root (empty = up to date)."""
    with tempfile.TemporaryDirectory(prefix="course-quiz-check-") as scratch:
        expected = build(bank_dir, Path(scratch))
        return compare_generated(expected, Path(scratch), repo_root)


def compare_generated(expected: list[Path], fresh_root: Path, repo_root: Path) -> list[str]:
    """Differences between a fresh build (fresh_root) and the generated files in repo_root."""
    problems = []
    for relative in expected:
        committed = repo_root / relative
        if not committed.is_file():
            problems.append(f"missing: {relative}")
        elif committed.read_bytes() != (fresh_root / relative).read_bytes():
            problems.append(f"out of date: {relative}")
    for directory in GENERATED_DIRS:
        for path in sorted((repo_root / directory).rglob("*")):
            relative = path.relative_to(repo_root)
            if path.is_file() and relative not in expected and "__pycache__" not in relative.parts:
                problems.append(f"not generated from the bank (delete it): {relative}")
    return problems


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
