"""Item analysis of a graded quiz, from the gradebook: what nbgrader lacks and PrairieLearn gives.

Per question: the share of the class choosing each option (and writing something unreadable), difficulty
(share right), discrimination (point-biserial correlation of the item with the rest of the quiz), and flags:
a distractor (almost) nobody picks, a question the strongest students miss more than the weakest, a question
(almost) everyone or nobody gets. Written as one self-contained HTML page with a table and a plot.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.quiz.answers import CHOICES

UNUSED_DISTRACTOR = 0.05  # a wrong choice picked by fewer than this share of the class
LOW_DISCRIMINATION = 0.1
KEY_OUTLINE = "black outline: the right choice (this term's key)"


def percent(share: float) -> str:
    """Every share and the difficulty in one format, so the key's share and the difficulty read the same."""
    return f"{share:.1%}"


@dataclass
class Item:
    id: str
    answer: str
    shares: dict[str, float]  # letter (or "unreadable") -> share of the class
    difficulty: float  # share right
    discrimination: float | None  # point-biserial with the rest score; None when undefined
    flags: list[str] = field(default_factory=list)


def analyse(answers: dict[str, dict[str, str | None]], key: dict[str, str]) -> list[Item]:
    """answers: student -> question -> letter read; key: question -> right letter (the term's letters)."""
    students = sorted(answers)
    right = {s: {q: answers[s].get(q) == key[q] for q in key} for s in students}
    totals = {s: sum(right[s].values()) for s in students}
    items = []
    for question, letter in key.items():
        picked = [answers[s].get(question) for s in students]
        count = max(len(picked), 1)
        shares = {choice: picked.count(choice) / count for choice in CHOICES}
        shares["unreadable"] = sum(1 for p in picked if p is None) / count
        item_scores = [float(right[s][question]) for s in students]
        rest = [totals[s] - right[s][question] for s in students]
        item = Item(question, letter, shares, sum(item_scores) / count, point_biserial(item_scores, rest))
        item.flags = _flags(item, students, right, totals)
        items.append(item)
    return items


def point_biserial(item: list[float], rest: list[float]) -> float | None:
    """Pearson correlation of a 0/1 item with the rest score (= point-biserial); None if either is constant."""
    n = len(item)
    if n < 2:
        return None
    mean_item, mean_rest = sum(item) / n, sum(rest) / n
    covariance = sum((a - mean_item) * (b - mean_rest) for a, b in zip(item, rest))
    spread = math.sqrt(sum((a - mean_item) ** 2 for a in item) * sum((b - mean_rest) ** 2 for b in rest))
    return covariance / spread if spread else None


def _flags(item: Item, students: list[str], right: dict, totals: dict) -> list[str]:
    flags = [
        f"distractor {letter} picked by {percent(item.shares[letter])}: nobody finds it plausible"
        for letter in CHOICES
        if letter != item.answer and item.shares[letter] < UNUSED_DISTRACTOR
    ]
    ranked = sorted(students, key=lambda s: totals[s])
    group = max(1, round(0.27 * len(ranked)))
    strong = sum(right[s][item.id] for s in ranked[-group:]) / group
    weak = sum(right[s][item.id] for s in ranked[:group]) / group
    if strong < weak:
        flags.append(
            f"the strongest 27% get it right less often ({percent(strong)}) than the weakest ({percent(weak)})"
        )
    if item.discrimination is not None and item.discrimination < LOW_DISCRIMINATION:
        flags.append(f"low discrimination (r = {item.discrimination:.2f}): check the wording and the key")
    if item.difficulty > 0.95:
        flags.append("almost everyone gets it right")
    elif item.difficulty < 0.2:
        flags.append("almost nobody gets it right: check the key")
    return flags


def write_report(
    items: list[Item], quiz_id: str, students: int, destination: Path, choices: dict | None = None
) -> Path:
    rows = []
    for item in items:
        shares = "".join(
            f"<td{' class=right' if letter == item.answer else ''}>{percent(item.shares[letter])}</td>"
            for letter in (*CHOICES, "unreadable")
        )
        r = "n/a" if item.discrimination is None else f"{item.discrimination:.2f}"
        flags = "<br>".join(html.escape(flag) for flag in item.flags) or "—"
        rows.append(
            f"<tr><td>{item.id}</td><td>{item.answer}</td>{shares}<td>{percent(item.difficulty)}</td>"
            f"<td>{r}</td><td>{flags}</td></tr>"
        )
    texts = ""
    if choices:
        texts = "".join(
            f"<p><b>{html.escape(q)}</b>: "
            + "; ".join(f"{letter}) {html.escape(text)}" for letter, text in options.items())
            + "</p>"
            for q, options in choices.items()
        )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{quiz_id} item analysis</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}td,th{{border:1px solid #ccc;padding:.3em .6em}}
table{{border-collapse:collapse}}td.right{{background:#dff3e0;font-weight:bold}}</style></head><body>
<h1>{quiz_id}: item analysis of {students} graded submissions</h1>
<p>Share of the class choosing each option (the right one highlighted, in this term's letters; with
per-student orders each student's letter is first mapped back to the term's), difficulty (share right, so
it equals the key's share), discrimination (point-biserial correlation with the rest of the quiz; below
{LOW_DISCRIMINATION} is flagged) and flagged items.</p>
<table><tr><th>question</th><th>key</th>{"".join(f"<th>{c}</th>" for c in CHOICES)}<th>unreadable</th>
<th>difficulty</th><th>discrimination</th><th>flags</th></tr>{"".join(rows)}</table>
<figure><img alt="option shares per question" src="data:image/png;base64,{_plot(items)}">
<figcaption>Stacked bars: the share of the class choosing each option per question; {KEY_OUTLINE};
r under each question is its discrimination.</figcaption></figure>
{texts}</body></html>
"""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(page, encoding="utf-8")
    return destination


def _plot(items: list[Item]) -> str:
    """Stacked bars: option shares per question, the right option outlined; PNG as base64."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    figure, axis = plt.subplots(figsize=(7, 3.2))
    options = (*CHOICES, "unreadable")
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#999999"]
    for index, item in enumerate(items):
        bottom = 0.0
        for option, colour in zip(options, colours):
            share = item.shares[option]
            right = option == item.answer
            axis.bar(
                index,
                share,
                bottom=bottom,
                color=colour,
                edgecolor="black" if right else colour,
                linewidth=2 if right else 0,
                label=option if index == 0 else None,
            )
            bottom += share
    axis.set_xticks(range(len(items)), [f"{item.id}\nr={item.discrimination or 0:.2f}" for item in items])
    axis.set_ylabel("share of the class")
    handles, labels = axis.get_legend_handles_labels()
    handles.append(Patch(facecolor="white", edgecolor="black", linewidth=2))
    labels.append("right choice (key)")
    axis.legend(handles, labels, ncols=6, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, 1.18))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()
