"""The lesson runner `tools.run_course` (`make course`): one clean line per lesson, no kernel chatter in between."""

import html
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_lesson_run_prints_nothing_but_its_result(tmp_path):
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        import nbformat
        from tools import run_course
        folder = Path({str(tmp_path)!r})
        for sub in ("executed", "html"):
            (folder / "build" / sub).mkdir(parents=True, exist_ok=True)
        cells = [
            nbformat.v4.new_code_cell("print(6 * 7)"),
            nbformat.v4.new_code_cell('import course_utils.quiz; course_utils.quiz.self_check("lesson1", "q1")'),
            # a lesson printing into an Output widget (lesson 2's explorer): nbclient once failed on it
            nbformat.v4.new_code_cell(
                "import ipywidgets; out = ipywidgets.Output(); display(out); out.__enter__(); "
                "print('in the widget'); out.__exit__(None, None, None)"
            ),
        ]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "01_x.ipynb")
        seconds, error = run_course.execute(folder / "01_x.ipynb", folder / "build", timeout=60)
        print("error:", error)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "error: None", done.stdout + done.stderr
    assert "TCP" not in done.stderr and "Parent appears to have exited" not in done.stderr, done.stderr
    executed = (tmp_path / "build" / "executed" / "01_x.ipynb").read_text()
    assert "42" in executed
    assert '"widgets"' not in executed  # no widget state written: the copies show text, not empty widget views


def test_the_html_copy_shows_every_self_check_question(tmp_path):
    """A reader of build/html sees the question and its choices, not an empty widget placeholder."""
    test_a_lesson_run_prints_nothing_but_its_result(tmp_path)
    import json

    page = (tmp_path / "build" / "html" / "01_x.html").read_text()
    shown = re.sub(r"<script.*?</script>", "", page, flags=re.DOTALL)  # widget state is data, not what is shown
    question = json.loads((ROOT / "course_utils" / "quiz" / "data" / "lesson1.json").read_text())["questions"][0]
    assert html.escape(question["stem"][:60]) in shown or question["stem"][:60] in shown
    assert all(html.escape(choice["text"][:40]) in shown for choice in question["choices"])
