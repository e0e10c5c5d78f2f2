"""The fine-tune script's options (`python -m course_dev.finetune --help`) and where each one's value comes from.

Precedence, first source that has a value wins, for every option alike:

1. the command line;
2. `--quick`: seconds-scale sizes for tests (`QUICK`);
3. `--original-recipe`: the original tutorial's way, as a baseline (`ORIGINAL_RECIPE`);
4. `--full-data`: every review with the full-data recipe (`FULL_DATA`);
5. the course's speed settings (`COURSE_DEFAULTS`);
6. the profile's sizes (`rt.settings`: `ci`, `cpu` or `gpu`);
7. Trainer's own default (`TRAINER_DEFAULTS`).

The tables hold disjoint options except where the order above is the point: `--quick` shrinks even a `--full-data`
run, and `--original-recipe` keeps the checkpoint's dropout (`None`) over the profile's.
"""

from __future__ import annotations

import argparse

from course_utils.runtime import PROFILES  # light: torch loads later, after setup() chose OpenMP waits

QUICK = {
    "train_examples": 64,
    "eval_examples": 32,
    "max_length": 32,
    "max_steps": 4,
    "batch_size": 8,
    "logging_steps": 1,
}
# The original tutorial's notebooks: every review padded to max_length, torch's default threads (and, since torch
# loads before setup(), OpenMP's default waits), the default optimizer, no length grouping, the checkpoint's dropout,
# fp32 on a CPU.
ORIGINAL_RECIPE = {
    "padding": "max_length",
    "threads": "default",
    "sampling": "random",
    "optim": "adamw_torch",
    "dropout": None,
    "precision": "fp32",
}
EVERY_REVIEW = 10**9  # more than any split has: take() then keeps them all
# `--full-data` (make finetune-full): every training review, the whole held-out split, and the recipe with the best
# validation F1 among those that trained within 3 minutes on 2 CPU cores (the runs are in docs/BENCHMARK.md), all with
# the `cpu` profile's dropout (off) and the precision the CPU decision picks (bf16 autocast on AVX512-BF16/AMX).
FULL_DATA = {
    "train_examples": EVERY_REVIEW,
    "eval_examples": EVERY_REVIEW,
    "batch_size": 64,
    "learning_rate": 2e-4,
    "epochs": 1.5,
}
# The speed settings of lesson 2's speed section (measured with `python -m course_dev.bench`). One more is not
# here: course_utils.setup() makes OpenMP's threads spin only briefly before they sleep (course_utils/threads.py), which
# `--original-recipe` undoes by loading torch first.
COURSE_DEFAULTS = {
    "padding": "dynamic",
    "threads": "course",
    "sampling": "group_by_length",
    "optim": "adamw_torch_fused",
    "precision": "auto",  # chosen_precision(): bf16 autocast where the CPU multiplies bf16 natively, else fp32
}
TRAINER_DEFAULTS = {"max_steps": -1, "freeze_layers": 0, "freeze_embeddings": False}  # max_steps -1: epochs decide
PROFILE_FIELDS = ("train_examples", "eval_examples", "max_length", "epochs", "batch_size", "learning_rate", "dropout")


PRECISIONS = ("auto", "fp32", "bf16")


def chosen_precision(requested: str, cpu_flags, gpu_plan=None) -> tuple[str, str]:
    """('fp32', 'bf16' or 'fp16', why): what a run computes its matrix multiplies in.

    `requested` is the `--precision` option; `cpu_flags` this CPU's native-bf16 flags (`gpu.cpu_bf16_flags()`);
    `gpu_plan` the GPU's `gpu.precision_plan()` or None on a CPU. 'auto' follows the course's decisions: the GPU's
    plan, or on a CPU `gpu.cpu_bf16_autocast` (bf16 where the CPU has bf16 units, fp32 where it would emulate them).
    """
    from course_utils.gpu import cpu_bf16_autocast

    if requested == "fp32":
        return "fp32", "fp32 as asked (--precision fp32)"
    if requested == "bf16":
        native, why = cpu_bf16_autocast(cpu_flags) if gpu_plan is None else (gpu_plan.bf16, gpu_plan.reason)
        return "bf16", "bf16 as asked (--precision bf16)" + ("" if native else f"; the decision would not: {why}")
    if gpu_plan is not None:
        return ("bf16" if gpu_plan.bf16 else "fp16"), gpu_plan.reason
    use_bf16, why = cpu_bf16_autocast(cpu_flags)
    return ("bf16" if use_bf16 else "fp32"), why


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
    p = argparse.ArgumentParser(
        prog="python -m course_dev.finetune",
        description="The lesson fine-tune as a script: MiniLM (or bert-base on a GPU) on Rotten Tomatoes with Trainer.",
        epilog="Options left out come, in this order, from --quick, --original-recipe, --full-data, the course's "
        "speed settings, the profile.",
    )
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
    p.add_argument("--max-steps", type=positive_int, help="stop after this many optimizer steps")
    p.add_argument("--batch-size", type=positive_int, help="per-device training batch size (default: the profile's)")
    p.add_argument("--learning-rate", type=positive_float, help="peak learning rate (default: the profile's)")
    p.add_argument(
        "--threads",
        type=thread_choice,
        help="CPU threads: 'course' (course_utils' policy, the default), 'default' (torch's own), or a number",
    )
    p.add_argument(
        "--padding",
        choices=["dynamic", "max_length"],
        help=f"pad each batch to its longest review (dynamic) or every review to --max-length (default: "
        f"{COURSE_DEFAULTS['padding']})",
    )
    p.add_argument(
        "--sampling",
        choices=["random", "group_by_length"],
        help="TrainingArguments(train_sampling_strategy=...): group_by_length batches reviews of similar "
        f"length together (default: {COURSE_DEFAULTS['sampling']})",
    )
    p.add_argument("--optim", help=f"TrainingArguments(optim=...) (default: {COURSE_DEFAULTS['optim']})")
    p.add_argument(
        "--dataloader-workers",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="TrainingArguments(dataloader_num_workers=...)",
    )
    p.add_argument(
        "--freeze-embeddings",
        action=argparse.BooleanOptionalAction,  # --no-freeze-embeddings trains it where a recipe freezes it
        default=None,
        help="train everything but the word-embedding table (a look-up, not a matmul: no gradient, no optimizer state)",
    )
    p.add_argument(
        "--freeze-layers",
        type=non_negative_int,
        metavar="N",
        help="train neither the embeddings nor the first N encoder layers: backward stops at layer N+1, so each "
        "frozen layer costs a forward pass only (default: 0, every layer trained)",
    )
    p.add_argument(
        "--dropout",
        type=probability,
        metavar="P",
        help="hidden_dropout_prob and attention_probs_dropout_prob for from_pretrained (default: the profile's; "
        "--original-recipe: the checkpoint's)",
    )
    p.add_argument(
        "--torch-compile",
        action="store_true",
        help="TrainingArguments(torch_compile=True): compile the model's steps first (the compile time is counted)",
    )
    p.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        help="arithmetic of the matrix multiplies: 'auto' (the default) lets chosen_precision() decide (bf16 autocast "
        "on CPUs with AVX512-BF16 or AMX, fp32 on other CPUs, the GPU's mixed precision on a GPU); 'fp32' or 'bf16' "
        "force one, to measure it (bf16 on a CPU without bf16 units is emulated: slow)",
    )
    p.add_argument(
        "--original-recipe",
        action="store_true",
        help="the original tutorial's way, as a baseline: fixed padding, torch's default threads and OpenMP waits, "
        "default optimizer, no length grouping, the checkpoint's dropout",
    )
    p.add_argument("--eval-split", choices=["validation", "test"], default="validation")
    p.add_argument("--seed", type=int, default=42, help="the random seed")
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


def profile_values(settings) -> dict:
    """What the profile says for the options it sizes."""
    values = {name: getattr(settings, name) for name in PROFILE_FIELDS}
    values["logging_steps"] = max(1, settings.logging_steps)
    return values


def option_sources(options: argparse.Namespace, settings) -> list[dict]:
    """The sources of option values, in the order of precedence of this module's docstring."""
    given = {name: value for name, value in vars(options).items() if value is not None}
    return [
        given,
        QUICK if options.quick else {},
        ORIGINAL_RECIPE if options.original_recipe else {},
        FULL_DATA if options.full_data else {},
        COURSE_DEFAULTS,
        profile_values(settings),
        TRAINER_DEFAULTS,
    ]


def resolve_options(options: argparse.Namespace, settings) -> argparse.Namespace:
    """Give every option the command line left out its value from the first source that has one."""
    sources = option_sources(options, settings)
    for name in {name for source in sources[1:] for name in source}:
        setattr(options, name, next(source[name] for source in sources if name in source))
    return options
