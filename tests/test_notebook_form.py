"""Every lesson notebook has the course's form (see tools/check_notebooks.py), and the checker catches faults."""

import re
from pathlib import Path

import nbformat
import pytest

from tools import check_notebooks

ROOT = Path(__file__).resolve().parents[1]

LESSONS = check_notebooks.lesson_notebooks()


@pytest.mark.parametrize("notebook", LESSONS, ids=[path.name for path in LESSONS])
def test_lesson_has_the_course_form(notebook):
    assert check_notebooks.problems_in(notebook) == []


def test_checker_reports_outputs_missing_badge_and_corruption(tmp_path, monkeypatch):
    monkeypatch.setattr(check_notebooks, "ROOT", tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname="x"\nversion="0.1.0"\n[project.urls]\nRepository="https://github.com/o/r"\n'
    )
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(1)")
    code.outputs = [nbformat.v4.new_output("stream", text="1")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), code]
    path = tmp_path / "notebooks" / "01_x.ipynb"
    nbformat.write(nb, path)
    problems = " | ".join(check_notebooks.problems_in(path))
    for expected in ("outputs", "badge", "Colab", "setup()", "Check your understanding"):
        assert expected in problems
    path.write_text("{ not json")
    assert check_notebooks.problems_in(path)[0].startswith("not a valid notebook")


def test_checker_reports_a_section_without_a_self_check():
    code, text = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        text("## 1. Checked"),
        code('course_utils.quiz.self_check("lessonX", "q1")'),
        text("## 2. Unchecked"),
        code("print(2)"),
        text("## 3. Checked, then recorded"),
        code('course_utils.quiz.self_check("lessonX", "q2")'),
        code('course_utils.report.record_results("lessonX", headline="a", a=1)'),
        text("## 4. Record the results"),
        code('course_utils.report.record_results("lessonX", headline="a", a=1)'),
        text("## 5. Last section: checked in the final section"),
        code("print(5)"),
        text("## Check your understanding"),
        code('course_utils.quiz.self_check("lessonX", "q3")'),
    ]
    assert check_notebooks.sections_without_self_check(cells) == ["2. Unchecked"]


def test_readme_lists_exactly_the_lesson_notebooks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `notebooks/([^`]+\.ipynb)` \|", readme, flags=re.MULTILINE)
    assert listed == [path.name for path in LESSONS]
    assert [path.name[:2] for path in LESSONS] == [f"{i:02d}" for i in range(1, len(LESSONS) + 1)]


def test_report_prints_each_problem_then_a_count_and_exits_1_only_when_there_is_one(tmp_path, capsys):
    clean, faulty = tmp_path / "01_clean.ipynb", tmp_path / "02_faulty.ipynb"
    problems = {clean: [], faulty: ["cell 3: no self-check", "cell 5: stray output"]}
    assert check_notebooks.report([clean, faulty], problems.get, "problem(s)") == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{faulty}: cell 3: no self-check",  # outside the checkout: shown as given
        f"{faulty}: cell 5: stray output",
        "2 notebook(s) checked, 2 problem(s)",
    ]
    assert check_notebooks.report([clean], problems.get, "problem(s)") == 0
