"""ruff finds nothing and changes nothing: the package, tests, tools and the lessons' code cells (pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ruff(*arguments: str) -> subprocess.CompletedProcess:
    executable = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if executable is None:
        pytest.fail("ruff is not installed. Fix: make setup (it is in the package's `test` extra).")
    return subprocess.run([executable, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_lint_finds_nothing():
    done = ruff("check", "--no-cache", ".")
    assert done.returncode == 0, f"Fix: ruff check --fix .\n{done.stdout}{done.stderr}"


def test_ruff_format_changes_nothing():
    done = ruff("format", "--no-cache", "--check", ".")
    assert done.returncode == 0, f"Fix: ruff format .\n{done.stdout}{done.stderr}"


def test_lint_covers_the_lessons(tmp_path):
    """A finding in a lesson's code cell is reported (ruff reads .ipynb files here)."""
    lesson = tmp_path / "lesson.ipynb"
    lesson.write_text(
        '{"cells": [{"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], '
        '"source": ["import os\\n"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    done = ruff("check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(lesson))
    assert done.returncode == 1 and "F401" in done.stdout
