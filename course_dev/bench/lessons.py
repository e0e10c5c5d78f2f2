"""Wall time of every lesson on a profile (the lesson runner `tools.run_course`) and of the whole test command."""

from __future__ import annotations

import os
import re
import subprocess
import time
import xml.etree.ElementTree as ElementTree
from contextlib import contextmanager
from pathlib import Path

from course_utils.paths import project_root
from tools.run_course import run_lessons

CI_LESSONS_SECONDS_TARGET = 240
CPU_LESSON_SECONDS_TARGET = 300  # each lesson on the `cpu` profile on 2 cores of either machine kind
LONGER_CPU_LESSONS = {"05": 480}  # lesson number -> its own target (lesson 5 loads and trains two language models)
TEST_COMMAND_MINUTES_TARGET = 25
TEST_COMMAND = ["make", "test"]  # what CI runs (.ci/run), with CI=true and HF_HUB_OFFLINE=1
# The parts of the test command that execute whole lessons, by test id (the rest is "everything else"). The same
# lesson runs in several of them: that repetition is what docs/BENCHMARK.md weighs.
TEST_PARTS = (
    ("lessons under nbmake (ci profile)", re.compile(r"^notebooks/")),
    (
        "lessons in the Colab stand-in (ci profile, per transformers line)",
        re.compile(r"test_colab\.py::test_lesson_runs"),
    ),
    ("Colab stand-in set-up and other Colab checks", re.compile(r"test_colab\.py::")),
    ("lesson-1 acceptance (cpu profile)", re.compile(r"test_lesson1_acceptance\.py::")),
    ("lesson figures and claims (re-use nbmake's runs)", re.compile(r"test_lesson(s\d+_claims|_figures)\.py::")),
    ("benchmark and fine-tune script", re.compile(r"test_(bench|finetune)\.py::")),
)
EVERYTHING_ELSE = "everything else (package tests)"


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
    """Run the whole test suite as CI does (`make test`); wall time, exit code, pytest's summary line, and the
    seconds of each part (`TEST_PARTS`) from the JUnit report pytest writes on the side."""
    log, junit = folder / "test-command.log", folder / "test-command.xml"
    env = dict(os.environ, CI="true", HF_HUB_OFFLINE="1")
    env["PYTEST_ADDOPTS"] = f"{env.get('PYTEST_ADDOPTS', '')} --junitxml={junit}".strip()
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
        "parts": test_parts(junit_times(junit)) if junit.is_file() else [],
        "log": str(log),
    }


def junit_times(junit: Path) -> dict[str, float]:
    """Seconds per test id ("tests/test_x.py::test_y[param]") from pytest's JUnit XML (setup, call and teardown)."""
    times = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")  # "tests.test_x" or "notebooks.01_a.ipynb"
        path = module.removesuffix("/ipynb") + ".ipynb" if module.startswith("notebooks/") else f"{module}.py"
        times[f"{path}::{case.get('name', '')}"] = float(case.get("time") or 0)
    return times


def part_of(test: str) -> str:
    return next((name for name, pattern in TEST_PARTS if pattern.search(test)), EVERYTHING_ELSE)


def test_parts(times: dict[str, float]) -> list[dict]:
    """Tests and seconds per part of the test command, in `TEST_PARTS` order, everything else last."""
    parts = {name: {"part": name, "tests": 0, "seconds": 0.0} for name, _ in TEST_PARTS}
    parts[EVERYTHING_ELSE] = {"part": EVERYTHING_ELSE, "tests": 0, "seconds": 0.0}
    for test, seconds in times.items():
        part = parts[part_of(test)]
        part["tests"] += 1
        part["seconds"] += seconds
    return [part for part in parts.values() if part["tests"]]


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
