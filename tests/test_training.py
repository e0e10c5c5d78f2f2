"""course_utils.training: subsets, the majority-class baseline, step arithmetic and dropout settings."""

import pytest
from datasets import Dataset

from course_utils.training import dropout_config, interval_for, majority_baseline, steps_per_epoch, take


def test_take_is_reproducible_and_sized():
    data = Dataset.from_dict({"x": list(range(100))})
    first, second = take(data, 10, seed=1), take(data, 10, seed=1)
    assert len(first) == 10 and first["x"] == second["x"]
    assert first["x"] != list(range(10))  # shuffled, not the head
    assert len(take(data, None)) == 100 and len(take(data, 1000)) == 100


def test_majority_baseline_positive_majority():
    result = majority_baseline([1, 1, 0], [1, 0, 1, 1])
    assert result["label"] == 1
    assert result["accuracy"] == pytest.approx(0.75)
    # precision 0.75, recall 1 -> F1 = 2 * 0.75 / 1.75
    assert result["f1"] == pytest.approx(2 * 0.75 / 1.75)


def test_majority_baseline_negative_majority_has_zero_f1():
    result = majority_baseline([0, 0, 1], [0, 1, 1, 1])
    assert result == {"label": 0, "accuracy": 0.25, "f1": 0.0}


def test_majority_baseline_tie_is_deterministic_and_empty_rejected():
    assert majority_baseline([0, 1], [0])["label"] == 0
    with pytest.raises(ValueError):
        majority_baseline([], [1])


@pytest.mark.parametrize(
    "examples, batch, accumulation, devices, expected",
    [(256, 16, 1, 1, 16), (257, 16, 1, 1, 17), (1000, 8, 4, 2, 16), (10, 16, 4, 1, 1), (8530, 16, 1, 1, 534)],
)
def test_steps_per_epoch(examples, batch, accumulation, devices, expected):
    assert steps_per_epoch(examples, batch, accumulation, devices) == expected


def test_steps_per_epoch_rejects_zero():
    with pytest.raises(ValueError):
        steps_per_epoch(10, 0)


def test_interval_for():
    assert interval_for(16, 4) == 4
    assert interval_for(3, 6) == 1
    assert interval_for(125, 6) == 20


def test_dropout_config_sets_both_rates_or_keeps_the_checkpoints():
    assert dropout_config(None) == {}
    assert dropout_config(0.0) == {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    for wrong in (-0.1, 1.0):
        with pytest.raises(ValueError, match="at least 0 and below 1"):
            dropout_config(wrong)


def test_dropout_config_reaches_the_model(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification

    tiny = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16)
    BertForSequenceClassification(tiny).save_pretrained(tmp_path)
    model = BertForSequenceClassification.from_pretrained(tmp_path, num_labels=2, **dropout_config(0.0))
    assert model.config.hidden_dropout_prob == model.config.attention_probs_dropout_prob == 0.0
    assert all(module.p == 0.0 for module in model.modules() if module.__class__.__name__ == "Dropout")
    kept = BertForSequenceClassification.from_pretrained(tmp_path, num_labels=2, **dropout_config(None))
    assert kept.config.hidden_dropout_prob == tiny.hidden_dropout_prob == 0.1
