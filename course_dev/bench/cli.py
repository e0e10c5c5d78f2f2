"""The benchmark's options and the order of its parts; the JSON is saved after every part."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from course_utils.paths import project_root
from course_utils.runtime import PROFILES

from ..finetune_options import positive_int
from . import __doc__ as package_doc
from .finetune_runs import finetune_part, full_data_part
from .lessons import TEST_COMMAND, ci_lessons_within_target, lesson_times, test_command_time
from .machine import MatmulLimits, load_average, machine
from .quiz import quiz_throughput
from .report import table


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_dev.bench", description=package_doc.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="seconds-scale versions: tiny matmul, `finetune --quick`, a small class; lessons and the "
        "test command are skipped unless --lesson-profiles is given",
    )
    p.add_argument("--profile", choices=list(PROFILES), default="cpu", help="fine-tune profile (default: cpu)")
    p.add_argument(
        "--threads",
        type=positive_int,
        help="CPU threads for the matmul and the course fine-tune (default: the course's policy)",
    )
    p.add_argument(
        "--lesson-profiles",
        default=None,
        help="comma-separated profiles to time every lesson on (default: ci,cpu; none with --quick)",
    )
    p.add_argument("--skip-finetune", action="store_true", help="no fine-tune and no original-recipe baseline")
    p.add_argument(
        "--skip-variants", action="store_true", help="no dropout-off / frozen-table / bf16 runs (reported apart)"
    )
    p.add_argument(
        "--skip-full-data", action="store_true", help="no fine-tune on the full training split (about 3 minutes)"
    )
    p.add_argument("--skip-lessons", action="store_true", help="no lesson wall times")
    p.add_argument("--skip-test-command", action="store_true", help=f"do not time `{' '.join(TEST_COMMAND)}`")
    p.add_argument("--skip-quiz", action="store_true", help="no autograding throughput")
    p.add_argument("--out", type=Path, help="JSON file (default: build/bench/bench.json in the checkout)")
    p.add_argument("--lesson-timeout", type=positive_int, default=3600, help="seconds per notebook cell")
    return p


def default_out() -> Path:
    return (project_root() or Path.cwd()) / "build" / "bench" / "bench.json"


def checked_options(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The options and the lesson profiles; argparse's exit 2 with a message for anything that cannot run."""
    options = parser().parse_args(argv)
    if options.lesson_profiles is None:
        options.lesson_profiles = "" if options.quick else "ci,cpu"
    lesson_profiles = [name.strip() for name in options.lesson_profiles.split(",") if name.strip()]
    unknown = [name for name in lesson_profiles if name not in PROFILES]
    if unknown:
        parser().error(f"--lesson-profiles: {', '.join(unknown)} not a profile (use ci, cpu, gpu)")
    needs_checkout = (
        (not options.skip_lessons and lesson_profiles)
        or not options.skip_quiz
        or (not options.skip_test_command and not options.quick)
    )
    if needs_checkout and project_root() is None:
        parser().error(
            "lessons, the test command and the quiz class need a course checkout: run from one, or pass "
            "--skip-lessons --skip-test-command --skip-quiz"
        )
    return options, lesson_profiles


def main(argv: list[str] | None = None) -> int:
    options, lesson_profiles = checked_options(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from course_utils.threads import physical_cores, short_openmp_waits

    short_openmp_waits()  # the same OpenMP settings as the course's fine-tune, before torch loads
    out = options.out or default_out()
    folder = out.parent
    folder.mkdir(parents=True, exist_ok=True)
    threads = options.threads or physical_cores()
    result: dict = {
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": options.quick,
        "machine": machine(),
        "load_average_start": load_average(),
    }

    def save() -> None:  # after every part, so a long run that stops early still leaves what it measured
        result["load_average_end"] = load_average()
        out.write_text(json.dumps(result, indent=2))

    size = 256 if options.quick else 2048
    print(f"matmul {size}x{size} on {threads} and 1 thread(s) ...", flush=True)
    limits = MatmulLimits(threads, size)
    result["matmul"] = limits.summary()
    save()
    instruction_sets = result["machine"]["instruction_sets"]
    if not options.skip_finetune:
        result["finetune"] = finetune_part(options, threads, limits, folder, instruction_sets)
        save()
    if not options.skip_full_data:
        result["full_data"] = full_data_part(options, limits, folder, instruction_sets)
        save()
    if not options.skip_lessons and lesson_profiles:
        result["lessons"] = {}
        for profile in lesson_profiles:
            print(f"lessons on the '{profile}' profile ...", flush=True)
            result["lessons"][profile] = lesson_times(profile, folder, options.lesson_timeout)
            save()
        if "ci" in result["lessons"]:
            result["lessons_ci_within_4_minutes"] = ci_lessons_within_target(result["lessons"]["ci"])
    if not options.skip_quiz:
        print("quiz autograding ...", flush=True)
        result["quiz"] = quiz_throughput(options.quick)
        save()
    if not options.skip_test_command and not options.quick:
        print(f"{' '.join(TEST_COMMAND)} ...", flush=True)
        result["test_command"] = test_command_time(folder)
        save()
    text = table(result)
    out.with_suffix(".md").write_text(text + "\n")
    print("\n" + text + f"\n\nJSON: {out}")
    return 0
