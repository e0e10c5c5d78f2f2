"""tools/run_course.py (`make course`): one clean line per lesson, no kernel chatter in between."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_lesson_run_prints_nothing_but_its_result(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys; sys.path.insert(0, {str(ROOT / "tools")!r})
        from pathlib import Path
        import nbformat, run_course
        folder = Path({str(tmp_path)!r})
        for sub in ("executed", "html"):
            (folder / "build" / sub).mkdir(parents=True, exist_ok=True)
        cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "01_x.ipynb")
        seconds, error = run_course.execute(folder / "01_x.ipynb", folder / "build", timeout=60)
        print("error:", error)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "error: None", done.stdout + done.stderr
    assert "TCP" not in done.stderr and "Parent appears to have exited" not in done.stderr, done.stderr
    executed = (tmp_path / "build" / "executed" / "01_x.ipynb").read_text()
    assert "42" in executed
