"""The lesson runner: `make course` (`python -m tools.run_course`) executes every lesson headless on the default
profile (or $COURSE_PROFILE); the benchmark (`course_dev.bench.lessons`) and the tests import the same functions.

Writes the executed notebooks to build/executed/, an HTML copy of each to build/html/, and prints one line per
lesson: wall time and the headline metric the lesson recorded with course_utils.report.record_results.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

from course_utils.paths import lesson_id, lesson_notebooks
from course_utils.report import load_results

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LessonRun:
    """One lesson executed: its notebook's stem, wall time, the error (None if it ran through), a status line."""

    lesson: str
    seconds: float
    error: str | None
    status: str


def local_kernel_manager() -> KernelManager:
    """A kernel reached over local IPC sockets, not TCP: nothing leaves the machine, and the kernel does not print
    ipykernel's "running over TCP without encryption" warning between the runner's one line per lesson."""
    return KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(tempfile.mkdtemp()) / "kernel"))


def execute(notebook: Path, build: Path, timeout: int) -> tuple[float, str | None]:
    """Run one notebook in a fresh kernel; (seconds, error or None). The executed copy is written either way."""
    nb = nbformat.read(notebook, as_version=4)
    started = time.monotonic()
    error = None
    kernel = local_kernel_manager()
    try:
        # nbclient must keep widget state while it runs: a lesson printing into an Output widget fails without it
        # (nbclient 0.11: KeyError in its output hook). The state is dropped below, before anything is written.
        NotebookClient(nb, timeout=timeout, km=kernel, resources={"metadata": {"path": str(notebook.parent)}}).execute()
    except CellExecutionError as failure:
        error = str(failure).strip().splitlines()[-1][:200]
    finally:
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=True)  # else the orphaned kernel prints "Parent appears to have exited"
    seconds = time.monotonic() - started
    # Without stored widget state, the HTML copy renders each self-check's text (every question and its choices)
    # instead of a widget view that needs JavaScript from the web to show anything.
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, build / "executed" / notebook.name)
    html, _ = HTMLExporter().from_notebook_node(nb)
    (build / "html" / notebook.with_suffix(".html").name).write_text(html, encoding="utf-8")
    return seconds, error


def headline(lesson: str, since: float) -> str:
    results = load_results(lesson)
    if not results or results["saved_at"] < since:
        return "no headline recorded"
    value = results["measured"][results["headline"]]
    return f"{results['headline']} = {value:.4g}" if isinstance(value, float) else f"{results['headline']} = {value}"


def run_lessons(build: Path, timeout: int, root: Path = ROOT) -> Iterator[LessonRun]:
    """Execute every lesson of the checkout at `root` in turn, writing its copies under `build`."""
    for folder in ("executed", "html"):
        (build / folder).mkdir(parents=True, exist_ok=True)
    for notebook in lesson_notebooks(root):
        started = time.time()
        seconds, error = execute(notebook, build, timeout)
        status = f"FAILED: {error}" if error else headline(lesson_id(notebook), started)
        yield LessonRun(notebook.stem, seconds, error, status)


def main() -> int:
    build = ROOT / "build"
    timeout = int(os.environ.get("COURSE_CELL_TIMEOUT", "3600"))
    print(f"Running {len(lesson_notebooks(ROOT))} lessons on profile '{os.environ.get('COURSE_PROFILE', 'auto')}' ...")
    failures = 0
    for run in run_lessons(build, timeout):
        failures += run.error is not None
        print(f"{run.lesson:32} {run.seconds:7.1f} s  {run.status}", flush=True)
    print(f"Executed notebooks: {build / 'executed'}   HTML: {build / 'html'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
