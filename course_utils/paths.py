"""Where the course keeps its caches: inside the project, never scattered in the home directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path | None:
    """The course checkout this package runs from, or None when installed from a wheel (Colab)."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file() and (candidate / "course_utils").is_dir():
        return candidate
    return None


def cache_dir() -> Path:
    """The course cache: $COURSE_CACHE_DIR, else `<project>/.cache/course`, else ~/.cache/fine-tuning-course."""
    override = os.environ.get("COURSE_CACHE_DIR")
    if override:
        path = Path(override).expanduser()
    elif project_root() is not None:
        path = project_root() / ".cache" / "course"
    else:
        path = Path.home() / ".cache" / "fine-tuning-course"
    path.mkdir(parents=True, exist_ok=True)
    return path


def output_dir(name: str) -> Path:
    """A per-lesson scratch folder for checkpoints (`TrainingArguments(output_dir=...)`)."""
    path = cache_dir() / "runs" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
