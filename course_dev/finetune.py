"""The lesson fine-tune as a script: MiniLM (or bert-base on a GPU) on Rotten Tomatoes with plain `Trainer`.

Same pieces as the lesson notebooks (`course_utils.setup`, `classifier_checkpoint`, `load_rotten_tomatoes`,
`compute_metrics`), sizes from the profile unless given on the command line. It runs unchanged on one process
and under a distributed launcher, because `Trainer` reads the launcher's environment itself:

    python -m course_dev.finetune --profile cpu
    torchrun --nproc_per_node 2 -m course_dev.finetune --quick      # 2 processes (gloo on CPU, nccl on GPUs)
    accelerate launch -m course_dev.finetune --quick

`--report-json out/rank{rank}.json` writes what each process measured (examples/s, tokens, F1, peak memory)
and a checksum of its final weights, so you can check that every rank trained the same model.
`python -m course_dev.bench` runs this script to compare the course's settings with the seed's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

from course_utils.runtime import PROFILES  # light: torch loads later, after setup() chose OpenMP waits

# The speed settings of lesson 2's speed section (measured with `python -m course_dev.bench`); `--seed-style` drops
# them. One more is not here: course_utils.setup() makes OpenMP's threads spin only briefly before they sleep
# (runtime.py), which `--seed-style` undoes by loading torch first, as the seed's notebooks do.
FAST_DEFAULTS = {"sampling": "group_by_length", "optim": "adamw_torch_fused"}
QUICK = {"train_examples": 64, "eval_examples": 32, "max_length": 32, "max_steps": 4, "batch_size": 8}
EVERY_REVIEW = 10**9  # more than any split has: take() then keeps them all
# `--full-data` (make finetune-full): every training review, the whole held-out split, and the recipe with the best
# validation F1 among those that trained within 3 minutes on 2 CPU cores (the runs are in docs/BENCHMARK.md), all with
# the `cpu` profile's dropout (off).
FULL_DATA = {
    "train_examples": EVERY_REVIEW,
    "eval_examples": EVERY_REVIEW,
    "batch_size": 64,
    "learning_rate": 2e-4,
    "epochs": 1.5,
}


def positive_int(text: str, minimum: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
    return value


def non_negative_int(text: str) -> int:
    return positive_int(text, minimum=0)


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def probability(text: str) -> float:
    """A dropout probability: at least 0, below 1."""
    value = number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 0 and below 1")
    return value


def thread_choice(text: str) -> str:
    """'course', 'default' or a positive whole number (kept as text; apply_threads() reads it)."""
    if text in ("course", "default"):
        return text
    try:
        positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a thread count: use 'course', 'default' or a whole number such as 2"
        ) from None
    return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_dev.finetune", description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", choices=list(PROFILES), help="sizes to use (default: what setup() picks)")
    p.add_argument("--quick", action="store_true", help="a few steps on a few examples (for tests): seconds")
    p.add_argument(
        "--full-data",
        action="store_true",
        help="every training review and the whole held-out split, with the full-data recipe "
        f"(batch {FULL_DATA['batch_size']}, learning rate {FULL_DATA['learning_rate']:g}, "
        f"{FULL_DATA['epochs']:g} epochs) unless given",
    )
    p.add_argument("--train-examples", type=positive_int, help="training examples (default: the profile's)")
    p.add_argument(
        "--eval-examples", type=positive_int, help="held-out examples for the final F1 (default: the profile's)"
    )
    p.add_argument(
        "--max-length", type=positive_int, help="truncate reviews to this many tokens (default: the profile's)"
    )
    p.add_argument("--epochs", type=positive_float, help="training epochs (default: the profile's)")
    p.add_argument("--max-steps", type=positive_int, default=-1, help="stop after this many optimizer steps")
    p.add_argument("--batch-size", type=positive_int, help="per-device training batch size (default: the profile's)")
    p.add_argument("--learning-rate", type=positive_float, help="peak learning rate (default: the profile's)")
    p.add_argument(
        "--threads",
        default="course",
        type=thread_choice,
        help="CPU threads: 'course' (course_utils' policy), 'default' (torch's own), or a number",
    )
    p.add_argument(
        "--padding",
        choices=["dynamic", "max_length"],
        default="dynamic",
        help="pad each batch to its longest review (dynamic) or every review to --max-length",
    )
    p.add_argument(
        "--sampling",
        choices=["random", "group_by_length"],
        help="TrainingArguments(train_sampling_strategy=...): group_by_length batches reviews of similar "
        f"length together (default: {FAST_DEFAULTS['sampling']})",
    )
    p.add_argument("--optim", help=f"TrainingArguments(optim=...) (default: {FAST_DEFAULTS['optim']})")
    p.add_argument(
        "--dataloader-workers",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="TrainingArguments(dataloader_num_workers=...)",
    )
    p.add_argument(
        "--freeze-embeddings",
        action="store_true",
        help="train everything but the word-embedding table (a look-up, not a matmul: no gradient, no optimizer state)",
    )
    p.add_argument(
        "--dropout",
        type=probability,
        metavar="P",
        help="hidden_dropout_prob and attention_probs_dropout_prob for from_pretrained (default: the profile's; "
        "--seed-style: the checkpoint's)",
    )
    p.add_argument(
        "--torch-compile",
        action="store_true",
        help="TrainingArguments(torch_compile=True): compile the model's steps first (the compile time is counted)",
    )
    p.add_argument("--bf16", action="store_true", help="bfloat16 mixed precision (CPUs with AVX512-BF16/AMX, GPUs)")
    p.add_argument(
        "--seed-style",
        action="store_true",
        help="the seed's way, as a baseline: fixed padding, torch's default threads and OpenMP waits, "
        "default optimizer, no length grouping",
    )
    p.add_argument("--eval-split", choices=["validation", "test"], default="validation")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--output-dir", help="TrainingArguments(output_dir=...) (default: the course cache)")
    p.add_argument("--report-json", help="write measurements here; '{rank}' is replaced by the process rank")
    p.add_argument(
        "--torch-profile",
        type=positive_int,
        default=0,
        metavar="ROWS",
        help="run training under torch.profiler and print its top ROWS operators",
    )
    return p


def resolve_options(options: argparse.Namespace, settings) -> argparse.Namespace:
    """Fill every size the command line left out from `--quick` or the profile, and the speed defaults."""
    from_profile = {
        "train_examples": settings.train_examples,
        "eval_examples": settings.eval_examples,
        "max_length": settings.max_length,
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
    }
    if not options.seed_style:  # the seed's notebooks kept the checkpoint's dropout
        from_profile["dropout"] = settings.dropout
    for name, value in from_profile.items():
        if getattr(options, name) is None:
            if options.quick:
                value = QUICK.get(name, value)
            elif options.full_data:
                value = FULL_DATA.get(name, value)
            setattr(options, name, value)
    if options.quick and options.max_steps < 0:
        options.max_steps = QUICK["max_steps"]
    options.logging_steps = 1 if options.quick else max(1, settings.logging_steps)
    if options.seed_style:
        options.padding, options.threads = "max_length", "default"
        options.sampling = options.sampling or "random"
        options.optim = options.optim or "adamw_torch"
    for name, value in FAST_DEFAULTS.items():
        if getattr(options, name) is None:
            setattr(options, name, value)
    return options


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


def matmul_parameters(model) -> int:
    """Weights that take part in a matrix multiply per token (embedding tables are look-ups, not matmuls)."""
    return sum(p.numel() for name, p in model.named_parameters() if p.dim() == 2 and "embeddings" not in name)


def parameter_checksum(model) -> str:
    """SHA-256 of every parameter's bytes in a fixed order: equal only for bit-identical models."""
    digest = hashlib.sha256()
    for name, parameter in sorted(model.named_parameters()):
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, read the one way the course reads it (VmHWM on Linux)."""
    from course_utils.memory import peak_rss_bytes

    return peak_rss_bytes() / 2**20


def tokenized_splits(rt, tokenizer, options):
    """Training and held-out subsets, tokenized the lesson's way (or padded to max_length, the seed's way)."""
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
        bf16=options.bf16,
        torch_compile=options.torch_compile,
        fp16=rt.has_cuda and not options.bf16,
        use_cpu=not rt.has_cuda,
        dataloader_num_workers=options.dataloader_workers,
        ddp_find_unused_parameters=False,  # every weight gets a gradient: skip DDP's extra graph traversal
        include_num_input_tokens_seen="non_padding",  # Trainer counts real tokens, summed over processes
        report_to="none",
        disable_tqdm=True,
    )


def train_once(rt, options) -> dict:
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
    from course_utils.runtime import openmp_waits
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
        "train_seconds": train_seconds,
        "steps": trainer.state.global_step,
        "examples": examples,
        "real_tokens": real_tokens,
        "padding_share": padding_share,
        "examples_per_second": examples / train_seconds,
        "tokens_per_second": real_tokens / train_seconds,
        "matmul_parameters": matmul_parameters(model),
        "model_gflops_per_second": 6 * matmul_parameters(model) * real_tokens / train_seconds / 1e9,
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
    if options.seed_style:
        import torch  # noqa: F401  - loaded before setup(), as in the seed's notebooks: OpenMP's default waits
    from transformers.utils import logging

    import course_utils
    from course_utils.errors import CourseError

    logging.set_verbosity_error()  # the new-head LOAD REPORT is lesson 4's topic, not this script's
    try:
        rt = course_utils.setup(seed=options.seed, verbose=int(os.environ.get("RANK", "0")) == 0)
        options = resolve_options(options, rt.settings)
        apply_threads(options.threads)
        result = train_once(rt, options)
    except CourseError as error:  # a missing asset, a bad COURSE_PROFILE: the message says the fix
        print(f"error: {error}", file=sys.stderr)
        return 2
    if result["rank"] == 0:
        print(
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
