"""The figures several lessons share. Each function draws one figure and returns it (notebooks display it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def _detached(figure):
    """Close `figure` in pyplot and return it: the notebook shows it once (display() or the cell's value), and
    Jupyter's inline backend does not show it a second time at the end of the cell."""
    plt.close(figure)
    return figure


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
        steps, losses = history_series(history, "loss")
        loss_axes.plot(steps, losses, marker=".", label=f"{name} (train)")
        eval_steps, eval_losses = history_series(history, "eval_loss")
        if eval_steps:
            loss_axes.plot(eval_steps, eval_losses, linestyle="--", marker="o", label=f"{name} (eval)")
        metric_steps, values = history_series(history, metric)
        metric_axes.plot(metric_steps, values, marker="o", label=name)
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
    """One labelled bar per entry, e.g. memory in MB per loading mode or accuracy per run."""
    figure, axes = plt.subplots(figsize=(max(4.0, 1.3 * len(values)), 3.6))
    bars = axes.bar(list(values), list(values.values()), color=plt.cm.tab10.colors[: len(values)])
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
