"""Quiz grading end to end: a term built with a random secret, then `course-quiz autograde` of a simulated class
(folder of .ipynb files -> gradebook -> exported CSV and item-analysis report; feedback not included)."""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from pathlib import Path

from course_utils.paths import project_root

QUIZ_CLASS_SIZE = 1000
QUICK_QUIZ_STUDENTS = 40
# The executing grader (a kernel per student), as measured before grading read answers as text (docs/BENCHMARK.md).
PER_KERNEL_PER_MINUTE = 41.0


def simulated_quiz_class(term_key: dict, release: dict, size: int, seed: int = 10) -> dict[str, dict]:
    """`size` submissions of a term's quiz: abilities and difficulties as in item response theory (right with
    probability sigmoid(ability - difficulty)), wrong students favouring some distractors, a few unreadable."""
    import copy
    import math
    import random

    rng = random.Random(seed)
    questions = [q for q in term_key if not q.startswith("_")]
    difficulty = {q: rng.uniform(-1.5, 1.5) for q in questions}
    appeal = {q: [rng.random() ** 2 for _ in range(3)] for q in questions}  # one distractor often hardly picked
    answer_cells = {cell["metadata"]["nbgrader"]["grade_id"]: index for index, cell in enumerate(release["cells"])}
    students = {}
    for number in range(size):
        ability = rng.gauss(0, 1)
        notebook = copy.deepcopy(release)
        for question in questions:
            right = term_key[question]["answer"]
            if rng.random() < 1 / (1 + math.exp(difficulty[question] - ability)):
                letter = right
            else:
                wrong = [letter for letter in "ABCD" if letter != right]
                letter = rng.choices(wrong, weights=appeal[question])[0]
            typed = letter if rng.random() > 0.03 else letter + " or maybe not"
            notebook["cells"][answer_cells[f"{question}_answer"]]["source"] = f'answer_{question} = "{typed}"'
        students[f"student{number:04d}"] = notebook
    return students


def quiz_throughput(quick: bool) -> dict:
    """Submissions graded per minute for a class of `QUIZ_CLASS_SIZE` (`QUICK_QUIZ_STUDENTS` with --quick)."""
    import secrets

    from course_quiz.cli import main as course_quiz

    size = QUICK_QUIZ_STUDENTS if quick else QUIZ_CLASS_SIZE
    with tempfile.TemporaryDirectory(prefix="course-bench-quiz-") as scratch:
        root = Path(scratch)
        workspace, inbox = root / "term", root / "inbox" / "quiz1"
        bank = project_root() / "quizzes" / "bank"
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"nbgrader\..*")
            if course_quiz(["init", str(workspace), f"--seed={secrets.token_urlsafe(16)}", "--bank", str(bank)]):
                raise RuntimeError("course-quiz init failed: see the message above")
            term_key = json.loads((workspace / "key.json").read_text())["quizzes"]["quiz1"]
            release = json.loads((workspace / "release" / "quiz1" / "quiz1.ipynb").read_text())
            inbox.mkdir(parents=True)
            for student, notebook in simulated_quiz_class(term_key, release, size).items():
                (inbox / f"{student}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
            started = time.monotonic()
            exit_code = course_quiz(["autograde", str(inbox), "--course", str(workspace), "--quiet"])
            seconds = time.monotonic() - started
        if exit_code:
            raise RuntimeError("course-quiz autograde failed: see the message above")
        items = _item_summary(workspace, term_key)
    return {
        "quiz": "quiz1",
        "submissions": size,
        "seconds": seconds,
        "per_minute": 60 * size / seconds,
        "per_kernel_per_minute": PER_KERNEL_PER_MINUTE,
        "items": items,
    }


def _item_summary(workspace: Path, term_key: dict) -> list[dict]:
    from course_quiz.grading import class_answers
    from course_quiz.item_analysis import analyse

    key = {q: entry["answer"] for q, entry in term_key.items() if not q.startswith("_")}
    return [
        {
            "question": item.id,
            "difficulty": item.difficulty,
            "discrimination": item.discrimination,
            "flags": item.flags,
            "shares": item.shares,
        }
        for item in analyse(class_answers(workspace, "quiz1"), key)
    ]
