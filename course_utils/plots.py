"""The figures several lessons share. Each function draws one figure and returns it (notebooks display it).

Every run keeps one colour in every panel of a figure, and across figures (`run_colour`), from Okabe and Ito's
palette, which readers with any common colour-vision deficiency tell apart (https://jfly.uni-koeln.de/color/).
Every figure carries alt text: a description of what it plots, shown as the figure's text form and as the `alt`
of an HTML <img> (which JupyterLab renders and nbconvert's HTML copies keep); `set_alt_text` replaces it.
"""

from __future__ import annotations

import base64
import functools
import html
import io
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

# Okabe-Ito, ordered so the first colours are the most distinct on white (yellow last).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
_run_colours: dict[str, str] = {}


def run_colour(run: str) -> str:
    """The colour of a run: the same name gets the same colour in every figure of the session."""
    if run not in _run_colours:
        _run_colours[run] = PALETTE[len(_run_colours) % len(PALETTE)]
    return _run_colours[run]


def describe(figure) -> str:
    """Alt text generated from the figure itself: each panel's title, axes, and what every line or bar shows."""
    panels = []
    for axes in figure.axes:
        if axes.get_label() == "<colorbar>":
            continue
        parts = [axes.get_title() or "untitled panel"]
        if axes.get_xlabel() or axes.get_ylabel():
            parts.append(f"{axes.get_ylabel() or 'value'} against {axes.get_xlabel() or 'x'}")
        for line in axes.lines:
            label, values = line.get_label(), np.asarray(line.get_ydata(), dtype=float)
            if label.startswith("_") or not len(values):
                continue
            parts.append(f"{label}: {len(values)} points from {values[0]:.3g} to {values[-1]:.3g}")
        bars = [patch for container in axes.containers for patch in container]
        if bars:
            names = [tick.get_text().replace("\n", " ") for tick in axes.get_xticklabels()]
            heights = [f"{name} {bar.get_height():.3g}" for name, bar in zip(names, bars)]
            parts.append("bars: " + ", ".join(heights))
        if axes.images and axes.texts:
            parts.append("cells: " + ", ".join(text.get_text() for text in axes.texts))
        panels.append("; ".join(parts))
    return f"Figure with {len(panels)} panel(s). " + " | ".join(panels)


def _alt_bundle(figure, include=None, exclude=None):
    """IPython's display hook: the PNG, the same PNG as an HTML <img> with the alt text (nbconvert's HTML takes it
    before the bare PNG, whose `alt` it leaves empty), and the alt text as the text form."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", facecolor=figure.get_facecolor())
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    text = figure.alt_text
    img = f'<img src="data:image/png;base64,{png}" alt="{html.escape(text, quote=True)}"/>'
    return {"image/png": png, "text/html": img, "text/plain": text}, {"image/png": {"alt": text}}


def set_alt_text(figure, text: str):
    """Give `figure` this alt text (instead of the generated description); returns the figure."""
    figure.alt_text = text
    figure._repr_mimebundle_ = functools.partial(_alt_bundle, figure)
    return figure


def _detached(figure):
    """Close `figure` in pyplot and return it, with its alt text: the notebook shows it once (display() or the
    cell's value), and Jupyter's inline backend does not show it a second time at the end of the cell."""
    plt.close(figure)
    return set_alt_text(figure, describe(figure))


def history_series(log_history: Sequence[Mapping], key: str) -> tuple[list[float], list[float]]:
    """(steps, values) of one logged quantity, e.g. 'loss', 'eval_loss' or 'eval_f1', from `trainer.state.log_history`."""
    points = [(entry["step"], entry[key]) for entry in log_history if key in entry and "step" in entry]
    return [step for step, _ in points], [value for _, value in points]


def plot_learning_curves(histories: Mapping[str, Sequence[Mapping]], metric: str = "eval_accuracy"):
    """Training loss and one evaluation metric against the step, one line per run.

    `histories` maps a run's name to its `trainer.state.log_history`.
    """
    figure, (loss_axes, metric_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for name, history in histories.items():
        colour = run_colour(name)  # one run, one colour in both panels; train solid, eval dashed
        steps, losses = history_series(history, "loss")
        loss_axes.plot(steps, losses, marker=".", color=colour, label=f"{name} (train)")
        eval_steps, eval_losses = history_series(history, "eval_loss")
        if eval_steps:
            loss_axes.plot(eval_steps, eval_losses, linestyle="--", marker="o", color=colour, label=f"{name} (eval)")
        metric_steps, values = history_series(history, metric)
        metric_axes.plot(metric_steps, values, marker="o", color=colour, label=name)
    loss_axes.set(title="Loss", xlabel="optimizer step", ylabel="cross-entropy")
    metric_axes.set(title=metric.removeprefix("eval_").capitalize() + " on held-out data", xlabel="optimizer step")
    for axes in (loss_axes, metric_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    return _detached(figure)


def plot_confusion_matrix(references, predictions, label_names: Sequence[str] = ("neg", "pos"), title: str = ""):
    """Counts of (true label, predicted label), with the numbers written in the cells."""
    size = len(label_names)
    counts = np.zeros((size, size), dtype=int)
    for true, predicted in zip(references, predictions):
        counts[int(true), int(predicted)] += 1
    figure, axes = plt.subplots(figsize=(4.2, 3.8))
    image = axes.imshow(counts, cmap="Blues")
    for row in range(size):
        for column in range(size):
            colour = "white" if counts[row, column] > counts.max() / 2 else "black"
            axes.text(column, row, str(counts[row, column]), ha="center", va="center", color=colour)
    axes.set(
        xticks=range(size),
        yticks=range(size),
        xticklabels=label_names,
        yticklabels=label_names,
        xlabel="predicted",
        ylabel="true",
        title=title or "Confusion matrix",
    )
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    return _detached(figure)


def plot_bars(values: Mapping[str, float], ylabel: str, title: str = "", fmt: str = "{:.1f}"):
    """One labelled bar per entry, e.g. memory in MB per loading mode or accuracy per run.

    A bar's run is its label's first line ("pretrained\\naccuracy" -> "pretrained"): a run's bars share its colour.
    """
    figure, axes = plt.subplots(figsize=(max(4.0, 1.3 * len(values)), 3.6))
    colours = [run_colour(label.split("\n")[0]) for label in values]
    bars = axes.bar(list(values), list(values.values()), color=colours)
    axes.bar_label(bars, labels=[fmt.format(value) for value in values.values()], padding=2)
    axes.set(ylabel=ylabel, title=title)
    axes.margins(y=0.15)
    figure.tight_layout()
    return _detached(figure)


def plot_memory_bars(megabytes: Mapping[str, float], title: str = "Model memory"):
    """Memory per loading mode in MB."""
    return plot_bars(megabytes, ylabel="MB", title=title, fmt="{:.1f} MB")


def plot_lr_schedules(schedules: dict[str, list[float]], title: str = "Learning-rate schedule", warmup_steps: int = 0):
    """One line per named schedule (learning rate against optimizer step); returns the Figure."""
    figure, axes = plt.subplots(figsize=(7, 3.4))
    for name, rates in schedules.items():
        axes.plot(range(len(rates)), rates, label=name)
    if warmup_steps:
        axes.axvline(warmup_steps, color="grey", linestyle=":", label=f"end of warmup ({warmup_steps} steps)")
    axes.set(title=title, xlabel="optimizer step", ylabel="learning rate")
    axes.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return _detached(figure)
