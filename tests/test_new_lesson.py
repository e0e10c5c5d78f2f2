"""The authoring path (docs/AUTHORING.md): scaffold a throwaway lesson in a copy of the course, fill its questions,
and the course's own checks, the quiz build and a fresh kernel all accept it."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def copy_of_the_course(destination: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def run(command: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def checkout_env(copy: Path) -> dict:
    """The copy's packages first on the path, ahead of the checkout's editable installs."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy), str(copy / "quizzes"), env.get("PYTHONPATH", "")])
    env["COURSE_CACHE_DIR"] = str(ROOT / ".cache" / "course")  # reuse the converted models and data
    return env


def fill_questions(bank: Path) -> None:
    text = bank.read_text(encoding="utf-8")
    text = re.sub(r"TODO choice ([ABCD])", r"The idea applied in way \1", text)
    text = text.replace("TODO what this choice shows about the idea", "It shows one way the idea can be applied.")
    text = re.sub(r"TODO question (\d):.*", r"In which way does the idea apply here (question \1)?", text)
    assert "TODO" not in text
    bank.write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_a_scaffolded_lesson_passes_the_course_checks_and_runs(tmp_path):
    copy = copy_of_the_course(tmp_path / "course")
    done = run(
        [sys.executable, "-m", "tools.new_lesson", "6", "Evaluating a fine-tuned model", "--root", str(copy)], ROOT
    )
    assert done.returncode == 0, done.stderr
    notebook = copy / "notebooks" / "06_evaluating_a_fine_tuned_model.ipynb"
    assert notebook.is_file() and "notebooks/06_evaluating_a_fine_tuned_model.ipynb" in (copy / "README.md").read_text()

    again = run([sys.executable, "-m", "tools.new_lesson", "6", "Twice", "--root", str(copy)], ROOT)
    assert again.returncode == 2 and "exists already" in again.stderr  # nothing is overwritten

    env = checkout_env(copy)
    for checker in ("tools.check_notebooks", "tools.check_figures"):
        arguments = [str(notebook)] if "figures" in checker else []
        checked = run([sys.executable, "-m", checker, *arguments], copy, env)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    fill_questions(copy / "quizzes" / "bank" / "lesson6.yml")
    built = run([sys.executable, "-m", "course_quiz", "build", "--root", str(copy)], copy, env)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (copy / "course_utils" / "quiz" / "data" / "lesson6.json").is_file()
    # Its graded quiz comes from the same bank, the way every term's quizzes are built (outside the checkout).
    term = tmp_path / "term-2026"
    bank = copy / "quizzes" / "bank"
    initialised = run([sys.executable, "-m", "course_quiz", "init", str(term), "--bank", str(bank)], tmp_path, env)
    assert initialised.returncode == 0, initialised.stdout + initialised.stderr
    assert (term / "release" / "quiz6" / "quiz6.ipynb").is_file()

    lesson = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        lesson, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
    )
    client.execute(env=env)  # the copy's course_utils, which now ships lesson6's self-check data
    printed = "".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in lesson.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "question 1" in printed and "question 3" in printed
