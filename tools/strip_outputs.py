"""Clear outputs and execution counts from notebooks in place (the pre-commit hook; lessons are committed clean).

python tools/strip_outputs.py notebooks/*.ipynb     # exit 1 if it changed a file, so the commit is retried
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def strip(notebook: nbformat.NotebookNode) -> bool:
    """Clear every code cell's outputs and execution count; True if anything was there."""
    changed = False
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell.outputs, cell.execution_count = [], None
            changed = True
    return changed


def main(paths: list[str]) -> int:
    changed = []
    for path in map(Path, paths):
        notebook = nbformat.read(path, as_version=4)
        if strip(notebook):
            nbformat.write(notebook, path)
            changed.append(path)
    for path in changed:
        print(f"stripped outputs from {path}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
