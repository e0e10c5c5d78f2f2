"""Measuring a causal language model (the checkpoints are in `checkpoints`, the offline conversion in
`gguf_conversion`, the instruction data in `instructions`)."""

from __future__ import annotations


def mean_loss(model, dataset, collator, batch_size: int = 8) -> float:
    """Average next-token loss (cross-entropy per predicted token) of `model` on a tokenized `dataset`.

    Works for every model a lesson loads, quantized ones included (`Trainer.evaluate` refuses a purely
    quantized model). Lower is better; exp(loss) is the perplexity.
    """
    import torch

    if len(dataset) == 0:
        raise ValueError("mean_loss needs at least one example")
    was_training = model.training
    model.eval()
    total_loss, total_tokens = 0.0, 0
    columns = [name for name in ("input_ids", "attention_mask", "labels") if name in dataset.column_names]
    with torch.no_grad():
        for start in range(0, len(dataset), batch_size):
            rows = dataset.select(range(start, min(start + batch_size, len(dataset))))
            batch = collator([{name: row[name] for name in columns} for row in rows])
            batch = {name: tensor.to(model.device) for name, tensor in batch.items() if tensor is not None}
            predicted = int((batch["labels"][:, 1:] != -100).sum())  # the first token of a row is never predicted
            total_loss += float(model(**batch).loss) * predicted
            total_tokens += predicted
    model.train(was_training)
    return total_loss / max(total_tokens, 1)
