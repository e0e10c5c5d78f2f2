"""The reading rule as ordinary code: a stdlib-only module, embedded in the quiz notebooks from its own source,
its limits defined once, and stopping where Python stops."""

from __future__ import annotations

import ast
import inspect
import json
import sys
from pathlib import Path

import pytest

from course_utils.quiz import reader

REPO = Path(__file__).resolve().parents[1]


def test_the_reader_imports_only_the_standard_library_and_nothing_runs_a_string():
    tree = ast.parse(inspect.getsource(reader))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported and imported <= set(sys.stdlib_module_names), imported
    answers = (REPO / "course_utils" / "quiz" / "answers.py").read_text()
    assert "exec(" not in answers and "READER_SOURCE" not in answers


def test_the_release_notebooks_embed_the_readers_own_source():
    release = json.loads((REPO / "quizzes" / "release" / "quiz1" / "quiz1.ipynb").read_text())
    helper = next(cell for cell in release["cells"] if cell["metadata"]["nbgrader"]["grade_id"] == "helpers")
    assert "".join(helper["source"]).startswith(inspect.getsource(reader))


def test_the_size_limit_and_parse_errors_are_defined_once():
    grader = (REPO / "quizzes" / "course_quiz" / "static_grade.py").read_text()
    assert "20000" not in grader and "20_000" not in grader and "RecursionError" not in grader
    letter, problem = reader.read_answer('answer_q1 = "A"' + " " * reader.MAX_ANSWER_CHARS, "answer_q1")
    assert letter is None and "too long" in problem


STOPS = [  # (answer cell, letter read): a top-level statement that certainly raises ends the cell
    ('answer_q1 = "A"\nassert False\nanswer_q1 = "B"', "A"),
    ('answer_q1 = "A"\nassert 0, "stop"\nanswer_q1 = "B"', "A"),
    ('answer_q1 = "A"\n1/0\nanswer_q1 = "B"', "A"),
    ('answer_q1 = "A"\nx = 1 // 0\nanswer_q1 = "B"', "A"),
    ('answer_q1 = "A"\nimport sys\nsys.exit()\nanswer_q1 = "B"', "A"),
    ('answer_q1 = "A"\nexit()\nanswer_q1 = "B"', "A"),
    ('answer_q1 = "A"\nraise SystemExit\nanswer_q1 = "B"', "A"),
    ('answer_q1 = "C"\nanswer_q1 = 1/0', "C"),  # the assignment raises before it binds
    ('assert False\nanswer_q1 = "B"', None),
    ('answer_q1 = "A"\nassert True\nanswer_q1 = "B"', "B"),  # a passing assert does not stop
    ('answer_q1 = "A"\nif x:\n    1/0\nanswer_q1 = "B"', "B"),  # whether it raises is not known: read on
]


@pytest.mark.parametrize("source, letter", STOPS)
def test_the_reader_stops_where_python_stops(source, letter):
    assert reader.read_answer(source, "answer_q1")[0] == letter
