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


def answer(model, tokenizer, question: str, max_new_tokens: int) -> tuple[str, bool]:
    """The model's greedy answer to `question` in the lesson's instruction format, and whether it ENDED: wrote the
    format's end marker before `max_new_tokens`. Generation stops at the marker (`stop_strings`)."""
    import torch

    from .instructions import END_MARKER, format_prompt

    model.eval()  # no dropout in the answer; generate() does not switch modes itself
    batch = tokenizer(format_prompt(question), return_tensors="pt").to(model.device)
    with torch.no_grad():
        output = model.generate(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            max_new_tokens=max_new_tokens,
            do_sample=False,
            stop_strings=[END_MARKER.strip()],
            tokenizer=tokenizer,
            pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        )
    text = tokenizer.decode(output[0, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    ended = END_MARKER.strip() in text
    return text.split(END_MARKER.strip())[0].strip(), ended


def synchronize(device) -> None:
    """Wait for the GPU's queued work before reading a timer (its kernels run asynchronously); nothing on a CPU."""
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        torch.cuda.synchronize(device)


def decode_rate(model, input_ids, new_tokens: int, pad_token_id: int) -> dict:
    """Generation speed measured like with like: prefill apart, then decode rate over exactly `new_tokens`.

    Eval mode, one warm-up generation first (a GPU's first call pays for kernel loading), the end-of-sequence token
    suppressed (`min_new_tokens`) so every model decodes the same number of tokens, timers behind `synchronize`.
    Returns prefill_s (the prompt's forward pass and the first token) and decode_tokens_per_s (the tokens after it).
    """
    import time

    import torch

    if new_tokens < 2:
        raise ValueError("decode_rate needs new_tokens >= 2 (the first token comes from the prefill)")
    model.eval()
    input_ids = input_ids.to(model.device)

    def timed_generation(n: int) -> float:
        synchronize(model.device)
        start = time.perf_counter()
        with torch.no_grad():
            output = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=n,
                min_new_tokens=n,
                do_sample=False,
                pad_token_id=pad_token_id,
            )
        synchronize(model.device)
        assert output.shape[1] - input_ids.shape[1] == n, "generation stopped early"
        return time.perf_counter() - start

    timed_generation(2)  # warm-up
    prefill = timed_generation(1)
    total = timed_generation(new_tokens)
    return {
        "prefill_s": prefill,
        "decode_tokens_per_s": (new_tokens - 1) / max(total - prefill, 1e-9),
        "new_tokens": new_tokens,
    }
