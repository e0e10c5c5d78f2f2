"""`build`: the question bank -> package data, nbgrader source notebooks and release notebooks.

`check_build` regenerates everything in a temporary folder and lists the committed files that differ,
so a test (and CI) fails when someone edits the bank without rebuilding.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .bank import load_bank
from .course import CONFIG_FILE, generate_assignment, nbgrader_api
from .lesson_data import render_lesson_data
from .notebooks import render_source_notebook

PACKAGE_DATA_DIR = Path("course_utils/quiz/data")
SOURCE_DIR = Path("quizzes/source")
RELEASE_DIR = Path("quizzes/release")
GENERATED_DIRS = (PACKAGE_DATA_DIR, SOURCE_DIR, RELEASE_DIR)


def build(bank_dir: Path, config_file: Path, out_root: Path) -> list[Path]:
    """Write every generated file under out_root; returns their paths relative to out_root."""
    written: dict[Path, str] = {}
    lessons = load_bank(bank_dir)
    for lesson in lessons:
        written[PACKAGE_DATA_DIR / f"{lesson.id}.json"] = render_lesson_data(lesson)
        written[SOURCE_DIR / lesson.quiz_id / f"{lesson.quiz_id}.ipynb"] = render_source_notebook(lesson)
    for relative, text in written.items():
        _write(out_root / relative, text)
    releases = release_notebooks(config_file, {lesson.quiz_id: out_root / SOURCE_DIR for lesson in lessons})
    for quiz_id, text in releases.items():
        relative = RELEASE_DIR / quiz_id / f"{quiz_id}.ipynb"
        _write(out_root / relative, text)
        written[relative] = text
    return sorted(written)


def release_notebooks(config_file: Path, source_dirs: dict[str, Path]) -> dict[str, str]:
    """Run nbgrader generate_assignment in a throw-away course (its own gradebook) per quiz."""
    releases = {}
    with tempfile.TemporaryDirectory(prefix="course-quiz-build-") as scratch:
        course = Path(scratch)
        shutil.copy(config_file, course / CONFIG_FILE)
        for quiz_id, source_dir in source_dirs.items():
            shutil.copytree(source_dir / quiz_id, course / "source" / quiz_id)
        api = nbgrader_api(course)
        for quiz_id in source_dirs:
            generate_assignment(api, quiz_id)
            releases[quiz_id] = (course / "release" / quiz_id / f"{quiz_id}.ipynb").read_text(encoding="utf-8")
    return releases


def stale_files(bank_dir: Path, config_file: Path, repo_root: Path) -> list[str]:
    """Generated files that are missing, different or left over in repo_root (empty = up to date)."""
    with tempfile.TemporaryDirectory(prefix="course-quiz-check-") as scratch:
        expected = build(bank_dir, config_file, Path(scratch))
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
