"""accuracy for binary classification, shipped with the course so `evaluate.load` works offline.

Fraction of predictions equal to the reference label.
"""
import datasets
import evaluate
import numpy as np


def _ratio(numerator, denominator):
    return float(numerator / denominator) if denominator else 0.0


class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Fraction of predictions equal to the reference label.",
            citation="",
            inputs_description="predictions and references: lists of integer labels; pos_label (default 1).",
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, pos_label=1):
        predictions, references = np.asarray(predictions), np.asarray(references)
        true_positive = np.sum((predictions == pos_label) & (references == pos_label))
        return {"accuracy": float(np.mean(predictions == references)) if len(references) else 0.0}
