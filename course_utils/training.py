"""Small numbers and subsets the training lessons share (the Trainer calls themselves stay in the notebooks).

The step arithmetic follows `Trainer`'s rounding; the schedule comes from a real `torch.optim.AdamW` driven by
`transformers.get_scheduler`, as inside `Trainer`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


def take(split, n: int | None, seed: int = 42):
    """A reproducible random subset of `n` rows of a `datasets.Dataset` (`None` or too large: all rows, shuffled)."""
    shuffled = split.shuffle(seed=seed)
    if n is None or n >= len(shuffled):
        return shuffled
    return shuffled.select(range(n))


def majority_baseline(train_labels: Sequence[int], eval_labels: Sequence[int], positive: int = 1) -> dict:
    """Always predict the most frequent training label; score it on `eval_labels`.

    Returns the label, its accuracy and the F1 of the `positive` class (0 when the majority is the other class).
    """
    if not len(train_labels) or not len(eval_labels):
        raise ValueError("majority_baseline needs at least one training and one evaluation label")
    counts = Counter(int(label) for label in train_labels)
    majority = max(sorted(counts), key=lambda label: counts[label])  # ties: the smaller label, deterministically
    hits = sum(int(label) == majority for label in eval_labels)
    accuracy = hits / len(eval_labels)
    if majority == positive:
        precision = accuracy  # every prediction is positive: precision = share of positives
        f1 = 2 * precision / (precision + 1) if precision else 0.0
    else:
        f1 = 0.0
    return {"label": majority, "accuracy": accuracy, "f1": f1}


def steps_per_epoch(n_examples: int, per_device_batch_size: int, accumulation: int = 1, devices: int = 1) -> int:
    """Optimizer steps in one epoch, as Trainer counts them (the last, partial batch still makes a step)."""
    if min(n_examples, per_device_batch_size, accumulation, devices) < 1:
        raise ValueError("examples, batch size, accumulation and devices must all be at least 1")
    batches_per_device = math.ceil(n_examples / (per_device_batch_size * devices))
    return max(1, math.ceil(batches_per_device / accumulation))


SCHEDULERS = ("linear", "cosine", "constant_with_warmup", "polynomial", "inverse_sqrt")


def batch_plan(
    n_examples: int,
    per_device_batch_size: int,
    accumulation: int = 1,
    devices: int = 1,
    epochs: float = 1.0,
    warmup_ratio: float = 0.0,
) -> dict:
    """Effective batch size, optimizer steps per epoch and in total, and warmup steps (as `Trainer` rounds them)."""
    if not 0 <= warmup_ratio < 1:
        raise ValueError("warmup_ratio must be in [0, 1)")
    if epochs <= 0:
        raise ValueError("epochs must be positive")
    per_epoch = steps_per_epoch(n_examples, per_device_batch_size, accumulation, devices)
    total = max(1, math.ceil(per_epoch * epochs))
    return {
        "effective_batch_size": per_device_batch_size * accumulation * devices,
        "steps_per_epoch": per_epoch,
        "total_steps": total,
        "warmup_steps": math.ceil(total * warmup_ratio),  # TrainingArguments: warmup_steps < 1 is a ratio, rounded up
    }


def lr_schedule(
    scheduler_type: str, total_steps: int, warmup_steps: int = 0, learning_rate: float = 1e-4
) -> list[float]:
    """The learning rate at each of `total_steps` optimizer steps, read from a real optimizer and scheduler."""
    import torch
    from transformers import get_scheduler

    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([parameter], lr=learning_rate)
    scheduler = get_scheduler(scheduler_type, optimizer, num_warmup_steps=warmup_steps, num_training_steps=total_steps)
    rates = []
    for _ in range(total_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def interval_for(total_steps: int, points: int = 6) -> int:
    """Logging/evaluation interval (in steps) that gives about `points` points over `total_steps` (at least 1)."""
    return max(1, total_steps // max(1, points))


def dropout_config(probability: float | None) -> dict:
    """`from_pretrained` keyword arguments that set a BERT-style model's dropout; `None` keeps the checkpoint's.

    Both rates go to the model's config: `hidden_dropout_prob` (after the embeddings, attention outputs and
    feed-forward blocks) and `attention_probs_dropout_prob` (on the attention weights).
    """
    if probability is None:
        return {}
    if not 0 <= probability < 1:
        raise ValueError(f"dropout {probability!r} must be at least 0 and below 1")
    return {"hidden_dropout_prob": probability, "attention_probs_dropout_prob": probability}
