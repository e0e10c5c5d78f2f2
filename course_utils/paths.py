"""Where the course keeps its caches (inside the project, never scattered in the home directory), and how a lesson
notebook is named: `notebooks/NN_<title>.ipynb` is lesson `lessonN`, the one rule every tool and test reads."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
LESSON_NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"  # in notebooks/: two digits, the lesson's number, then its title


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


def lesson_notebooks(root: Path) -> list[Path]:
    """The lesson notebooks of the checkout at `root`, in lesson order."""
    return sorted((Path(root) / "notebooks").glob(LESSON_NOTEBOOK_PATTERN))


def lesson_id(notebook: str | Path) -> str:
    """'lesson5' for `notebooks/05_quantized_loading.ipynb`: the id its results and questions are filed under."""
    return f"lesson{int(Path(notebook).name[:2])}"
