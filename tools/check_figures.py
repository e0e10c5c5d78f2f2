"""Every figure a lesson's prose states is printed by its code or is a published fact with its source on its line.

A *figure* here is a number in a markdown cell that reports an outcome: a time, a memory size, a speed, a percentage,
a "3× smaller"-style ratio, or a score (accuracy, F1, loss, ...). Such a number may stand in prose only on a line
that also names its source: a link, or a citation with "et al." or a year ("Devlin et al. 2019", "(BERT paper,
2019)"). Everything a lesson measures belongs in printed output, where it is the reader's own run.

Not figures: numbers in code spans (`2e-5`, `16 × 1`, `fp16`) and in math ($6 \\cdot N \\cdot D$: a formula's
constants), headings' and lists' numbering, and plain counts.

    python -m tools.check_figures                 # all lessons; exit 1 with one line per finding
    python -m tools.check_figures notebooks/x.ipynb
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

if not __package__:  # run as a file, `python tools/check_figures.py`: the package `tools` is not importable then
    sys.exit("Run it as a module from the checkout: python -m tools.check_figures")

from tools.check_notebooks import lesson_notebooks, report  # noqa: E402

NUMBER = r"(?<![\w.])\d[\d,]*(?:\.\d+)?"
FIGURE_PATTERNS = {
    "percentage": re.compile(rf"{NUMBER}\s?%"),
    "time": re.compile(rf"{NUMBER}\s?(?:ms|s|sec|seconds?|mins?|minutes?|h|hrs?|hours?|days?|weeks?)\b"),
    "memory size": re.compile(rf"{NUMBER}\s?(?:[KMGT]i?B|bytes?)\b"),
    "speed": re.compile(rf"{NUMBER}\s?(?:tokens|examples|samples|steps|it|[GT]?FLOP)/s\b|{NUMBER}\s?[GT]FLOPS\b"),
    "ratio": re.compile(
        rf"{NUMBER}\s?[×x]\s+(?:smaller|larger|bigger|faster|slower|less|more|fewer|cheaper|as\b)", re.IGNORECASE
    ),
    "score": re.compile(
        r"\b(?:accuracy|F1|precision|recall|loss|perplexity|score|MFU|utili[sz]ation)\b[^\n.;:!?]{0,25}?"
        r"(?<![\w.])(?:0\.\d+|\d+\.\d+)",
        re.IGNORECASE,
    ),
}
SOURCE_ON_LINE = re.compile(r"https?://|\bet al\.|\((?:[^()]*\b)?(?:19|20)\d\d\b[^()]*\)")
CODE_SPAN = re.compile(r"``.*?``|`[^`\n]*`")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.DOTALL)
FENCED_CODE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def prose_lines(markdown: str) -> list[str]:
    """The markdown's lines with code, math and comments blanked out (line numbers kept)."""
    for pattern in (FENCED_CODE, HTML_COMMENT, MATH):
        markdown = pattern.sub(lambda match: "\n" * match.group(0).count("\n"), markdown)
    return [CODE_SPAN.sub(" ", line) for line in markdown.split("\n")]


def figures_in(markdown: str) -> list[tuple[int, str, str]]:
    """(line number from 1, kind, text) of every unsourced figure in one markdown cell."""
    found = []
    for number, line in enumerate(prose_lines(markdown), start=1):
        if SOURCE_ON_LINE.search(line):
            continue
        for kind, pattern in FIGURE_PATTERNS.items():
            found += [(number, kind, match.group(0).strip()) for match in pattern.finditer(line)]
    return found


def problems_in(notebook: Path) -> list[str]:
    try:
        cells = nbformat.read(notebook, as_version=4).cells
    except Exception as error:  # a corrupted file is a finding, not a crash
        return [f"not a valid notebook: {error}"]
    problems = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        for line, kind, text in figures_in(cell.source):
            problems.append(
                f"cell {index}, line {line}: {kind} {text!r} in prose. Fix: print it from the code that measures it, "
                "or give its published source (a link or 'Author et al. YEAR') on the same line."
            )
    return problems


def main(arguments: list[str]) -> int:
    notebooks = [Path(argument) for argument in arguments] or lesson_notebooks()
    return report(notebooks, problems_in, "unsourced figure(s) in prose")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
