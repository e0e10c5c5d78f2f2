"""Check every lesson notebook's form (run in CI through tests/test_notebook_form.py, or by hand).

A lesson notebook must: be valid nbformat; be committed without outputs or execution counts; open with a title
cell holding an "Open in Colab" badge that points at its own path in the repository; have as first code cell
the Colab set-up that installs this package only inside Colab; call `course_utils.setup()`; end with a
"Check your understanding" section; end every numbered section ("## N. ...") with a self-check
(`course_utils.quiz.self_check(...)`; cells recording results may follow it), except a section that only records
results, and the last numbered section, whose check may be the final section's.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import tomllib

from course_utils import paths

ROOT = Path(__file__).resolve().parents[1]
COLAB_PREFIX = "https://colab.research.google.com/github/"


def repository_url() -> str:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["urls"]["Repository"]


def release_tag() -> str:
    """The course release Colab installs: `v` + pyproject.toml's version, the one place that sets it."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return "v" + tomllib.load(handle)["project"]["version"]


def expected_badge_target(notebook: Path) -> str:
    owner_and_name = repository_url().removeprefix("https://github.com/")
    return f"{COLAB_PREFIX}{owner_and_name}/blob/main/{notebook.relative_to(ROOT).as_posix()}"


def problems_in(notebook: Path) -> list[str]:
    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # a corrupted file is a finding, not a crash
        return [f"not a valid notebook: {error}"]
    found = []
    cells = nb.cells
    if any(cell.get("outputs") or cell.get("execution_count") for cell in cells if cell.cell_type == "code"):
        found.append("has outputs or execution counts (clear them before committing)")
    if not cells or cells[0].cell_type != "markdown" or not cells[0].source.lstrip().startswith("# "):
        found.append("first cell must be a markdown title ('# ...')")
    else:
        badges = re.findall(r"\((https://colab\.research\.google\.com/[^)\s]+)\)", cells[0].source)
        if expected_badge_target(notebook) not in badges:
            found.append(f"title cell needs an Open-in-Colab badge linking to {expected_badge_target(notebook)}")
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    if not code or "google.colab" not in code[0] or f"git+{repository_url()}@{release_tag()}" not in code[0]:
        found.append(f"first code cell must install the course's release {release_tag()} when in Colab")
    elif "Change runtime type" not in code[0] or "HF_TOKEN" not in code[0]:
        found.append("the Colab set-up cell must say how to get a GPU runtime and what Colab's HF_TOKEN notice means")
    colab_gpu = nb.metadata.get("accelerator") == "GPU" and nb.metadata.get("colab", {}).get("gpuType") == "T4"
    if any("Trainer(" in source for source in code) and not colab_gpu:
        found.append('a lesson that trains needs Colab\'s GPU metadata ("accelerator": "GPU", colab.gpuType "T4")')
    if not any("course_utils.setup(" in source for source in code):
        found.append("no cell calls course_utils.setup()")
    headings = [cell.source for cell in cells if cell.cell_type == "markdown"]
    if not any(re.search(r"^#+ .*check your understanding", text, re.I | re.M) for text in headings):
        found.append("no 'Check your understanding' section")
    for title in sections_without_self_check(cells):
        found.append(f"section '{title}' does not end with a self-check (course_utils.quiz.self_check(...))")
    return found


SECTION = re.compile(r"^## (\d+)\. (.*)$", re.M)


def sections_without_self_check(cells) -> list[str]:
    """Titles of numbered sections whose last code cell (ignoring result recording) is not a self-check."""
    sections: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for cell in cells:
        if cell.cell_type == "markdown" and re.search(r"^## ", cell.source, re.M):
            heading = SECTION.search(cell.source)
            current = (heading.group(0)[3:], []) if heading else None  # unnumbered: the final section
            if current:
                sections.append(current)
        elif current and cell.cell_type == "code" and "record_results(" not in cell.source:
            current[1].append(cell.source)
    missing = []
    for index, (title, code) in enumerate(sections):
        if "record the results" in title.lower() or index == len(sections) - 1:
            continue
        if not code or "self_check(" not in code[-1]:
            missing.append(title)
    return missing


def lesson_notebooks() -> list[Path]:
    return paths.lesson_notebooks(ROOT)


def report(notebooks: list[Path], find_problems, what: str) -> int:
    """Print one line per problem `find_problems(notebook)` names, then a count; the exit code (1 if any)."""
    failures = 0
    for notebook in notebooks:
        resolved = notebook.resolve()
        shown = resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else notebook
        for problem in find_problems(notebook):
            failures += 1
            print(f"{shown}: {problem}")
    print(f"{len(notebooks)} notebook(s) checked, {failures} {what}")
    return 1 if failures else 0


def main() -> int:
    return report(lesson_notebooks(), problems_in, "problem(s)")


if __name__ == "__main__":
    sys.exit(main())
