"""The lesson fine-tune as a script: MiniLM (or bert-base on a GPU) on Rotten Tomatoes with plain `Trainer`.

Same pieces as the lesson notebooks (`course_utils.setup`, `classifier_checkpoint`, `load_rotten_tomatoes`,
`compute_metrics`), sizes from the profile unless given on the command line (the options and their precedence:
`course_dev.finetune_options`). It runs unchanged on one process and under a distributed launcher, because
`Trainer` reads the launcher's environment itself:

    python -m course_dev.finetune --profile cpu
    torchrun --nproc_per_node 2 -m course_dev.finetune --quick      # 2 processes (gloo on CPU, nccl on GPUs)
    accelerate launch -m course_dev.finetune --quick

`--report-json out/rank{rank}.json` writes what each process measured (examples/s, tokens, F1, peak memory)
and a checksum of its final weights, so you can check that every rank trained the same model.
`python -m course_dev.bench` runs this script to compare the course's settings with the original recipe's.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

from .finetune_options import chosen_precision, parser, resolve_options


def apply_threads(choice: str) -> int:
    """'course': course_utils' policy (already applied by setup); 'default': torch's start-up default; or N."""
    import torch

    if choice == "course":
        return torch.get_num_threads()
    count = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)) if choice == "default" else int(choice)
    torch.set_num_threads(count)
    return count


class CountingCollator:
    """Wraps a data collator and counts the real (unpadded) and padded tokens of the batches it builds."""

    def __init__(self, collator):
        self.collator, self.real_tokens, self.padded_tokens = collator, 0, 0

    def __call__(self, features):
        batch = self.collator(features)
        mask = batch["attention_mask"]
        self.real_tokens += int(mask.sum())
        self.padded_tokens += mask.numel()
        return batch


def matmul_parameters(model, trained_only: bool = False) -> int:
    """Weights that take part in a matrix multiply per token (the encoder's embedding tables are look-ups);
    `trained_only`: those that get a gradient (frozen layers run forward only)."""
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if p.dim() == 2 and "embeddings" not in name and (p.requires_grad or not trained_only)
    )


def trained_matmul_parameters(model) -> int:
    return matmul_parameters(model, trained_only=True)


def training_flops_per_token(model) -> int:
    """2 FLOPs per matmul weight forward, 4 more backward (input and weight gradients) for the trained ones:
    6 x matmul parameters when every layer trains."""
    return 2 * matmul_parameters(model) + 4 * trained_matmul_parameters(model)


def freeze_bottom_layers(model, layers: int) -> None:
    """No gradient for the embeddings and the first `layers` encoder layers (a BERT-style encoder's `layer` list):
    autograd then stops the backward pass at the first trained layer."""
    base = model.base_model
    base.embeddings.requires_grad_(False)
    for layer in base.encoder.layer[:layers]:
        layer.requires_grad_(False)


def parameter_checksum(model) -> str:
    """SHA-256 of every parameter's bytes in a fixed order: equal only for bit-identical models."""
    digest = hashlib.sha256()
    for name, parameter in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, read the one way the course reads it (VmHWM on Linux)."""
    from course_utils.fresh_process import peak_rss_bytes

    return peak_rss_bytes() / 2**20


def tokenized_splits(rt, tokenizer, options):
    """Training and held-out subsets, tokenized the lesson's way (or padded to max_length, the original recipe's way)."""
    from course_utils.data import load_rotten_tomatoes
    from course_utils.training import take

    raw = load_rotten_tomatoes(rt)
    padding = "max_length" if options.padding == "max_length" else False

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=options.max_length, padding=padding)

    def with_length(batch):
        return {"length": [sum(mask) for mask in batch["attention_mask"]]}

    train = take(raw["train"], options.train_examples, seed=options.seed).map(tokenize, batched=True)
    held_out = take(raw[options.eval_split], options.eval_examples, seed=options.seed).map(tokenize, batched=True)
    # Trainer evaluates in dataset order: sorted by length, each evaluation batch pads little (scores unchanged).
    with warnings.catch_warnings():  # pyarrow's FutureWarning about its own sort options, not ours to fix
        warnings.simplefilter("ignore", FutureWarning)
        held_out = held_out.map(with_length, batched=True).sort("length").remove_columns("length")
    return train.remove_columns("text"), held_out.remove_columns("text")


def decide_precision(rt, options) -> str:
    """Replace `options.precision` ('auto', 'fp32', 'bf16') by what this machine will run; return why."""
    from course_utils import gpu

    gpu_plan = gpu.precision_plan(gpu.current_device()) if rt.has_cuda else None
    options.precision, reason = chosen_precision(options.precision, gpu.cpu_bf16_flags(), gpu_plan)
    return reason


def training_arguments(rt, options):
    from transformers import TrainingArguments

    from course_utils.paths import output_dir

    return TrainingArguments(
        output_dir=options.output_dir or str(output_dir("finetune")),
        num_train_epochs=options.epochs,
        max_steps=options.max_steps,
        per_device_train_batch_size=options.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=options.learning_rate,
        warmup_steps=0.1,
        train_sampling_strategy=options.sampling,
        optim=options.optim,
        eval_strategy="no",  # one evaluation at the end, outside the timed training
        save_strategy="no",
        logging_steps=options.logging_steps,
        seed=options.seed,
        bf16=options.precision == "bf16",  # on a CPU: torch.autocast("cpu", torch.bfloat16), weights kept in fp32
        fp16=options.precision == "fp16",
        torch_compile=options.torch_compile,
        use_cpu=not rt.has_cuda,
        dataloader_num_workers=options.dataloader_workers,
        ddp_find_unused_parameters=False,  # every weight gets a gradient: skip DDP's extra graph traversal
        include_num_input_tokens_seen="non_padding",  # Trainer counts real tokens, summed over processes
        report_to="none",
        disable_tqdm=True,
    )


def train_once(rt, options, precision_reason: str = "") -> dict:
    """Fine-tune once and return what was measured (speed, tokens, scores, memory, weight checksums)."""
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        set_seed,
    )

    import course_utils
    from course_utils.threads import openmp_waits
    from course_utils.training import dropout_config

    checkpoint = course_utils.classifier_checkpoint(rt)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    train, held_out = tokenized_splits(rt, tokenizer, options)
    set_seed(options.seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        checkpoint, num_labels=2, **dropout_config(options.dropout)
    )
    if options.freeze_embeddings:
        model.get_input_embeddings().requires_grad_(False)
    if options.freeze_layers:
        freeze_bottom_layers(model, options.freeze_layers)
    initial_checksum = parameter_checksum(model)
    collator = CountingCollator(DataCollatorWithPadding(tokenizer))
    trainer = Trainer(
        model=model,
        args=training_arguments(rt, options),
        train_dataset=train,
        eval_dataset=held_out,
        processing_class=tokenizer,
        data_collator=collator,
        compute_metrics=course_utils.compute_metrics,
    )
    if options.torch_profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            train_seconds = _timed_train(trainer)
        print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=options.torch_profile))
    else:
        train_seconds = _timed_train(trainer)
    real_tokens = trainer.state.num_input_tokens_seen
    # The collator also saw the one batch the data loader fetched ahead; its ratio is still the padding share.
    padding_share = 1 - collator.real_tokens / max(1, collator.padded_tokens)
    scores = trainer.evaluate()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    world = trainer.args.world_size
    examples = (
        trainer.state.global_step * options.batch_size * world
        if options.max_steps > 0
        else round(len(train) * options.epochs)
    )
    return {
        "rank": trainer.args.process_index,
        "world_size": world,
        "checkpoint": checkpoint,
        "profile": rt.profile,
        "threads": torch.get_num_threads(),
        "openmp_waits": openmp_waits(),
        "torch": torch.__version__,
        "options": {key: value for key, value in vars(options).items() if key != "report_json"},
        "precision": options.precision,
        "precision_reason": precision_reason,
        "train_seconds": train_seconds,
        "steps": trainer.state.global_step,
        "examples": examples,
        "real_tokens": real_tokens,
        "padding_share": padding_share,
        "examples_per_second": examples / train_seconds,
        "tokens_per_second": real_tokens / train_seconds,
        "matmul_parameters": matmul_parameters(model),
        "trained_matmul_parameters": trained_matmul_parameters(model),
        "model_gflops_per_second": training_flops_per_token(model) * real_tokens / train_seconds / 1e9,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "eval_f1": scores["eval_f1"],
        "eval_accuracy": scores["eval_accuracy"],
        "eval_examples": len(held_out),
        "eval_seconds": scores["eval_runtime"],
        "peak_memory_mb": peak_memory_mb(),
        "initial_checksum": initial_checksum,
        "final_checksum": parameter_checksum(trainer.model),
    }


def _timed_train(trainer) -> float:
    started = time.perf_counter()
    trainer.train()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.profile:
        os.environ["COURSE_PROFILE"] = options.profile
    if options.original_recipe:
        import torch  # noqa: F401  - loaded before setup(), as in the original notebooks: OpenMP's default waits
    from transformers.utils import logging

    import course_utils
    from course_utils.errors import CourseError

    logging.set_verbosity_error()  # the new-head LOAD REPORT is lesson 4's topic, not this script's
    try:
        rt = course_utils.setup(seed=options.seed, verbose=int(os.environ.get("RANK", "0")) == 0)
        options = resolve_options(options, rt.settings)
        apply_threads(options.threads)
        precision_reason = decide_precision(rt, options)
        result = train_once(rt, options, precision_reason)
    except CourseError as error:  # a missing asset, a bad COURSE_PROFILE: the message says the fix
        print(f"error: {error}", file=sys.stderr)
        return 2
    if result["rank"] == 0:
        print(
            f"{result['precision']} ({result['precision_reason']})\n"
            f"{result['examples']} examples in {result['train_seconds']:.1f} s = "
            f"{result['examples_per_second']:.1f} examples/s, {result['tokens_per_second']:.0f} tokens/s "
            f"({result['model_gflops_per_second']:.1f} model GFLOP/s) on {result['world_size']} process(es) x "
            f"{result['threads']} thread(s) | held-out F1 {result['eval_f1']:.3f} | "
            f"peak memory {result['peak_memory_mb']:.0f} MB"
        )
    if options.report_json:
        path = Path(options.report_json.replace("{rank}", str(result["rank"])))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
