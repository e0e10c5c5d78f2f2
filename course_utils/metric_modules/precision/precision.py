"""precision for binary classification, shipped with the course so `evaluate.load` works offline.

Of the examples predicted positive, the fraction that are positive.
"""
import datasets
import evaluate
import numpy as np


def _ratio(numerator, denominator):
    return float(numerator / denominator) if denominator else 0.0


class Precision(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Of the examples predicted positive, the fraction that are positive.",
            citation="",
            inputs_description="predictions and references: lists of integer labels; pos_label (default 1).",
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, pos_label=1):
        predictions, references = np.asarray(predictions), np.asarray(references)
        true_positive = np.sum((predictions == pos_label) & (references == pos_label))
        return {"precision": _ratio(true_positive, np.sum(predictions == pos_label))}
