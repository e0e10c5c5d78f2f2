import numpy as np
import pytest

from course_utils import metrics
from course_utils.errors import CourseError


def test_each_metric_loads_through_evaluate_offline():
    references = [1, 1, 1, 0, 0, 1]
    predictions = [1, 0, 1, 0, 1, 1]
    # true positives 3, predicted positive 4, actual positive 4
    expected = {"accuracy": 4 / 6, "precision": 3 / 4, "recall": 3 / 4, "f1": 3 / 4}
    for name, value in expected.items():
        module = metrics.load_metric(name)
        assert module.compute(predictions=predictions, references=references)[name] == pytest.approx(value)


def test_compute_metrics_takes_logits_like_trainer_passes_them():
    logits = np.array([[2.0, -1.0], [0.1, 0.3], [0.5, 0.4], [-3.0, 3.0]])
    labels = np.array([0, 0, 1, 1])
    scores = metrics.compute_metrics((logits, labels))  # predictions: 0, 1, 0, 1
    assert scores == pytest.approx({"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5})


def test_degenerate_predictions_score_zero_not_nan():
    scores = metrics.classification_scores([0, 0, 0], [1, 1, 0])
    assert scores["precision"] == 0.0 and scores["f1"] == 0.0


def test_unknown_metric_lists_the_packaged_ones():
    with pytest.raises(CourseError, match="accuracy, precision, recall, f1"):
        metrics.load_metric("bleu")
