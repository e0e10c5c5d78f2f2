"""Accuracy, precision, recall and F1 through the real `evaluate` API, offline.

The metric scripts ship inside this package (`metric_modules/`), so `evaluate.load` gets a local path instead of
a Hub name: the same call students make online with `evaluate.load("f1")`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import CourseError

METRIC_NAMES = ("accuracy", "precision", "recall", "f1")
MODULES_DIR = Path(__file__).resolve().parent / "metric_modules"


def metric_path(name: str) -> str:
    if name not in METRIC_NAMES:
        raise CourseError(f"No packaged metric called {name!r}. Fix: use one of {', '.join(METRIC_NAMES)}.")
    return str(MODULES_DIR / name)


def load_metric(name: str):
    """`evaluate.load` on the packaged module for `name`."""
    import evaluate

    return evaluate.load(metric_path(name))


_loaded: dict[str, object] = {}


def classification_scores(predictions, references) -> dict[str, float]:
    """All four metrics at once, each computed by its evaluate module."""
    scores: dict[str, float] = {}
    for name in METRIC_NAMES:
        if name not in _loaded:
            _loaded[name] = load_metric(name)
        scores.update(_loaded[name].compute(predictions=predictions, references=references))
    return scores


def compute_metrics(eval_pred) -> dict[str, float]:
    """For `Trainer(compute_metrics=...)`: logits -> predicted class -> accuracy, precision, recall, F1."""
    logits, labels = eval_pred
    if isinstance(logits, tuple):  # some models also return hidden states
        logits = logits[0]
    predictions = np.argmax(logits, axis=-1)
    return classification_scores(predictions, labels)
