"""Scaffold lesson N: a notebook in the course's form, its question bank file, and its row in the README.

    python -m tools.new_lesson 6 "Evaluating a fine-tuned model"      # then: make quizzes, and write the lesson

Everything else picks the lesson up from its file name (`notebooks/0N_*.ipynb`): `make course`, nbmake in
`make test`, the form checker, the figure checker. Its self-check data and its graded quiz are built from the bank
file by `course-quiz` (see docs/AUTHORING.md). Nothing existing is overwritten.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils.paths import lesson_notebooks

if not __package__:  # run as a file, `python tools/new_lesson.py`: the package `tools` is not importable then
    sys.exit("Run it as a module from the checkout: python -m tools.new_lesson")

from tools.check_notebooks import expected_badge_target  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "TODO"  # the bank refuses to build while a question still says this
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({target})"
SETUP_CODE = """import course_utils
import course_utils.quiz  # the self-check questions

rt = course_utils.setup()  # picks a profile (ci / cpu / gpu) and a model set, and says why
S = rt.settings  # experiment sizes for this profile
print(S)"""


class ScaffoldError(Exception):
    """The lesson cannot be scaffolded as asked; the message names the fix."""


def slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    if not words:
        raise ScaffoldError(f"The title {title!r} has no letters or digits. Fix: give a title in words.")
    return "_".join(words)[:40].rstrip("_")


def colab_setup_cell(root: Path) -> str:
    """The first lesson's Colab set-up cell: every lesson installs the course the same way."""
    first = lesson_notebooks(root)[0]
    cells = nbformat.read(first, as_version=4).cells
    return next(cell.source for cell in cells if cell.cell_type == "code")


def lesson_notebook(root: Path, number: int, title: str, path: Path) -> nbformat.NotebookNode:
    lesson = f"lesson{number}"
    # The badge names the path in the repository, wherever this checkout (or a test's copy of it) lives.
    badge = BADGE.format(target=expected_badge_target(ROOT / path.relative_to(root)))
    cells = [
        new_markdown_cell(
            f"# Lesson {number} — {title}\n\n{badge}\n\n"
            "What the student will do in this lesson, in two or three sentences, and why it matters.\n\n"
            "In this lesson you will\n\n1. ...\n2. ..."
        ),
        new_code_cell(colab_setup_cell(root)),
        new_code_cell(SETUP_CODE),
        new_markdown_cell(
            "## 1. The first idea\n\nExplain one idea, then run one experiment that shows it. Figures belong in "
            "printed output, not here (`tools/check_figures.py`)."
        ),
        new_code_cell("# The experiment: sizes come from S (rt.settings), never hard-coded per machine."),
        new_code_cell(f'course_utils.quiz.self_check("{lesson}", "q1")'),
        new_markdown_cell("## Check your understanding\n\n* An open question the student answers in words."),
        new_code_cell(f'course_utils.quiz.self_check("{lesson}")'),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",  # Colab opens it on a GPU runtime (a lesson that trains needs one at full size)
        "colab": {"gpuType": "T4", "provenance": []},
    }
    return notebook


def bank_file(number: int, title: str) -> str:
    questions = []
    for question in (1, 2, 3):
        choices = "".join(
            f"      {letter}:\n        text: {PLACEHOLDER} choice {letter}\n"
            f"        why: {PLACEHOLDER} what this choice shows about the idea\n"
            for letter in "ABCD"
        )
        questions.append(
            f"  - id: q{question}\n    stem: >-\n      {PLACEHOLDER} question {question}: ask about one idea of the "
            f"lesson, or about the student's own printed result\n    choices:\n{choices}    answer: A\n"
        )
    return (
        f"# Question bank for lesson {number}. Edit here, then run `make quizzes` (docs/AUTHORING.md).\n"
        f"lesson: lesson{number}\ntitle: {title}\nquestions:\n" + "\n".join(questions)
    )


def add_readme_row(root: Path, notebook: Path, what: str) -> None:
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `notebooks/\d\d_[^`]+\.ipynb` \|.*$", text, flags=re.MULTILINE)
    if not rows:
        raise ScaffoldError("README.md has no lessons table. Fix: restore its '| notebook | what you do |' table.")
    row = f"| `{notebook.relative_to(root).as_posix()}` | {what} |"
    readme.write_text(text.replace(rows[-1], rows[-1] + "\n" + row, 1), encoding="utf-8")


def scaffold(root: Path, number: int, title: str, what: str) -> list[Path]:
    if not 1 <= number <= 99:
        raise ScaffoldError(f"Lesson numbers run from 1 to 99, not {number}.")
    taken = sorted((root / "notebooks").glob(f"{number:02d}_*.ipynb"))
    bank = root / "quizzes" / "bank" / f"lesson{number}.yml"
    if taken or bank.exists():
        existing = ", ".join(str(path.relative_to(root)) for path in [*taken, bank] if path.exists())
        raise ScaffoldError(f"Lesson {number} exists already ({existing}). Fix: pick the next free number.")
    notebook = root / "notebooks" / f"{number:02d}_{slug(title)}.ipynb"
    nbformat.write(lesson_notebook(root, number, title, notebook), notebook)
    bank.write_text(bank_file(number, title), encoding="utf-8")
    add_readme_row(root, notebook, what)
    return [notebook, bank, root / "README.md"]


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.new_lesson", description=__doc__.split("\n\n")[0])
    parser.add_argument("number", type=int, help="the lesson's number (its notebook is notebooks/0N_<title>.ipynb)")
    parser.add_argument("title", help="the lesson's title, in words")
    parser.add_argument("--what", default="TODO: what the student does", help="the README table's description")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # tests scaffold into a copy
    options = parser.parse_args(arguments)
    try:
        written = scaffold(options.root.resolve(), options.number, options.title, options.what)
    except ScaffoldError as error:
        print(f"new_lesson: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(options.root.resolve())}")
    print("Next: write the bank's questions, then `make quizzes`; write the lesson; `make test` (docs/AUTHORING.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
