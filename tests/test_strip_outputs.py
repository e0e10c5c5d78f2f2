"""The pre-commit hook that keeps lessons committed clean: it strips outputs, and only local hooks are configured."""

import nbformat
import yaml

from tools import strip_outputs
from tools.check_notebooks import ROOT


def test_outputs_and_counts_are_stripped_and_reported(tmp_path):
    path = tmp_path / "lesson.ipynb"
    cell = nbformat.v4.new_code_cell("print(1)", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("# title")]), path)
    assert strip_outputs.main([str(path)]) == 1
    stripped = nbformat.read(path, as_version=4)
    assert stripped.cells[0].outputs == [] and stripped.cells[0].execution_count is None
    assert stripped.cells[0].source == "print(1)" and stripped.cells[1].source == "# title"
    assert strip_outputs.main([str(path)]) == 0  # clean now: the commit goes through


def test_pre_commit_hooks_are_local_and_cover_lint_format_and_outputs():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    entries = " ".join(hook["entry"] for hook in config["repos"][0]["hooks"])
    assert "strip_outputs.py" in entries and "ruff check" in entries and "ruff format" in entries
