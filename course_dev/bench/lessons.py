"""Wall time of every lesson on a profile (the lesson runner `tools.run_course`) and of the whole test command."""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from course_utils.paths import project_root
from tools.run_course import run_lessons

CI_LESSONS_SECONDS_TARGET = 240
CPU_LESSON_SECONDS_TARGET = 300  # each lesson on the `cpu` profile on 2 cores of either machine kind
LONGER_CPU_LESSONS = {"05": 480}  # lesson number -> its own target (lesson 5 loads and trains two language models)
TEST_COMMAND_MINUTES_TARGET = 25
TEST_COMMAND = ["make", "test"]  # what CI runs (.ci/run), with CI=true and HF_HUB_OFFLINE=1


def _set_variable(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@contextmanager
def environment(**changes):
    """Set (value) or remove (None) environment variables for the block."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            _set_variable(name, value)
        yield
    finally:
        for name, value in saved.items():
            _set_variable(name, value)


def lesson_times(profile: str, folder: Path, timeout: int) -> list[dict]:
    """Execute every lesson headless on `profile` with the lesson runner; wall time and headline of each."""
    rows = []
    with environment(COURSE_PROFILE=profile, HF_HUB_OFFLINE=os.environ.get("HF_HUB_OFFLINE", "1")):
        for run in run_lessons(folder / f"lessons-{profile}", timeout, project_root()):
            rows.append({"lesson": run.lesson, "seconds": run.seconds, "ok": run.error is None, "status": run.status})
            print(f"  {profile:4} {run.lesson:32} {run.seconds:7.1f} s  {run.status}", flush=True)
    return rows


def cpu_lesson_target(lesson: str) -> int:
    """Seconds a lesson may take on the `cpu` profile; `lesson` is its notebook's stem ("05_quantized_loading")."""
    return LONGER_CPU_LESSONS.get(lesson.split("_", 1)[0], CPU_LESSON_SECONDS_TARGET)


def ci_lessons_within_target(rows: list[dict]) -> bool:
    return sum(row["seconds"] for row in rows) <= CI_LESSONS_SECONDS_TARGET


def test_command_time(folder: Path) -> dict:
    """Run the whole test suite as CI does (`make test`); wall time, exit code, pytest's summary line."""
    log = folder / "test-command.log"
    env = dict(os.environ, CI="true", HF_HUB_OFFLINE="1")
    env.pop("COURSE_PROFILE", None)
    started = time.monotonic()
    with log.open("w") as handle:
        completed = subprocess.run(TEST_COMMAND, cwd=project_root(), env=env, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    lines = [line.strip("= ") for line in log.read_text(errors="replace").splitlines() if line.strip()]
    summary = next(
        (line for line in reversed(lines) if " in " in line and ("passed" in line or "failed" in line)),
        lines[-1] if lines else "",
    )
    return {
        "command": " ".join(TEST_COMMAND),
        "seconds": seconds,
        "within_25_minutes": seconds <= TEST_COMMAND_MINUTES_TARGET * 60,
        "exit_code": completed.returncode,
        "summary": summary,
        "slowest": slowest_tests(lines),
        "log": str(log),
    }


def slowest_tests(lines: list[str], count: int = 10) -> list[dict]:
    """The rows of pytest's `--durations` report (the Makefile asks for the slowest ten): seconds, phase, test."""
    rows = []
    for line in lines:
        seconds, _, rest = line.partition("s ")
        phase, _, test = rest.partition(" ")
        if phase in ("call", "setup", "teardown") and test.strip():
            try:
                rows.append({"seconds": float(seconds), "phase": phase, "test": test.strip()})
            except ValueError:
                continue
    return sorted(rows, key=lambda row: -row["seconds"])[:count]
