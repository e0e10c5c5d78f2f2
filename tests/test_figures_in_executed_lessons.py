"""What a student (or a screen reader) gets from an executed lesson's figures: alt text in the notebook and in the
HTML copy `make course` writes (tools/run_course.py: nbconvert's HTMLExporter), and one colour per run.

Lesson 1 is executed on `ci` (its learning curves and score bars are the figures that compare runs).
"""

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
LESSON = "01_pretraining_vs_finetuning.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executed(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("executed")
    shutil.copy(ROOT / "notebooks" / LESSON, folder / LESSON)
    notebook = nbformat.read(folder / LESSON, as_version=4)
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(folder / "cache"))
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook


def figure_outputs(notebook):
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]


def test_every_figure_of_an_executed_lesson_has_alt_text(executed):
    figures = figure_outputs(executed)
    assert len(figures) >= 2, "lesson 1 shows its learning curves and score bars"
    for output in figures:
        alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
        assert alt.startswith("Figure with") and "panel" in alt, output.get("metadata")
        assert output["data"]["text/plain"] == alt  # not "<Figure size 1100x400 with 2 Axes>"
        assert f'alt="{html.escape(alt, quote=True)}"' in output["data"]["text/html"]
    curves = next(output for output in figures if "from scratch (train)" in output["metadata"]["image/png"]["alt"])
    assert "pretrained (eval)" in curves["metadata"]["image/png"]["alt"]


def test_the_html_copy_carries_the_alt_text(executed):
    page, _ = HTMLExporter().from_notebook_node(executed)
    alts = [html.unescape(alt) for alt in re.findall(r'<img\s[^>]*alt="([^"]*)"', page) if alt != "Open In Colab"]
    expected = [output["metadata"]["image/png"]["alt"] for output in figure_outputs(executed)]
    assert alts == expected  # not nbconvert's "No description has been provided for this image"
