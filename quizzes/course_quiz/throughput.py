"""`course-quiz bench`: a simulated class graded end to end, timed per stage, printed (not a test).

Per class size: a fresh term (random secret) in a temporary folder, one quiz1 notebook per student in a flat
folder, then the stages an instructor runs: reading and recording in the gradebook (`autograde`), the three
CSV exports, and the item analysis. The throughput printed includes the exports.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import tempfile
import time
from pathlib import Path

QUIZ = "quiz1"


def simulated_class(release: dict, answers: dict[str, str], size: int, seed: int = 20) -> dict[str, dict]:
    """student -> notebook: each student right with a probability of their own, otherwise a random letter."""
    rng = random.Random(seed)
    index = {cell["metadata"]["nbgrader"]["grade_id"]: i for i, cell in enumerate(release["cells"])}
    students = {}
    for number in range(size):
        ability = rng.random()
        cells = list(release["cells"])
        for question, right in answers.items():
            letter = right if rng.random() < ability else rng.choice("ABCD")
            position = index[f"{question}_answer"]
            cells[position] = {**cells[position], "source": f'answer_{question} = "{letter}"'}
        students[f"student{number:05d}"] = {**release, "cells": cells}
    return students


def timed_class(size: int, bank: Path) -> dict[str, float]:
    """Seconds per stage for a class of `size`."""
    from .cli import item_report
    from .exports import export_all
    from .grading import autograde_folder
    from .term import TermKey, init_workspace

    with tempfile.TemporaryDirectory(prefix="course-quiz-bench-") as scratch:
        workspace, inbox = Path(scratch) / "term", Path(scratch) / "inbox" / QUIZ
        init_workspace(workspace, bank, term_secret=secrets.token_urlsafe(16))
        release = json.loads((workspace / "release" / QUIZ / f"{QUIZ}.ipynb").read_text("utf-8"))
        inbox.mkdir(parents=True)
        for student, notebook in simulated_class(release, TermKey.load(workspace).answers(QUIZ), size).items():
            (inbox / f"{student}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
        stages = {}
        started = time.perf_counter()
        autograde_folder(inbox, workspace, QUIZ)
        stages["read + gradebook"] = time.perf_counter() - started
        mark = time.perf_counter()
        export_all(workspace)
        stages["3 CSV exports"] = time.perf_counter() - mark
        mark = time.perf_counter()
        item_report(workspace, QUIZ)
        stages["item analysis"] = time.perf_counter() - mark
        stages["total"] = time.perf_counter() - started
    return stages


def print_throughput(sizes: list[int], bank: Path | None = None) -> list[dict[str, float]]:
    from course_utils.paths import project_root

    bank = bank or Path(project_root() or ".") / "quizzes" / "bank"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"course-quiz bench: {os.cpu_count()} cores, load average {load:.1f} at the start")
    results = []
    for size in sizes:
        stages = timed_class(size, bank)
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stages.items() if name != "total")
        print(
            f"{size:>6} submissions: {stages['total']:.1f} s end to end ({60 * size / stages['total']:,.0f}/min, "
            f"{1000 * stages['total'] / size:.2f} ms each; {parts})"
        )
        results.append(stages)
    return results
