"""The lesson fine-tune as a script (`python -m course_dev.finetune`): one process, two gloo processes under
torchrun, and bad input. Runs in subprocesses, as a student would; asserts what was trained, never how fast."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_dev import finetune, finetune_options
from course_dev.finetune_options import chosen_precision
from course_utils.gpu import DeviceProperties, cpu_bf16_flags, precision_plan
from course_utils.runtime import PROFILES
from course_utils.threads import OPENMP_SPIN_COUNT, OPENMP_WAIT_VARIABLES, physical_cores
from tests.usage_errors import usage_error

QUICK = finetune_options.QUICK


def run(command: list[str], tmp_path: Path, timeout: int = 600, **extra_env) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    for variable in ("PYTEST_CURRENT_TEST", *OPENMP_WAIT_VARIABLES, "COURSE_PROFILE", "COURSE_THREADS"):
        env.pop(variable, None)
    # course_dev is developer tooling, importable from the checkout only (it is not installed).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")]))
    env.update(extra_env)
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


def test_quick_run_writes_a_sane_report(tmp_path):
    report_path = tmp_path / "out" / "report.json"
    done = run(
        [
            sys.executable,
            "-m",
            "course_dev.finetune",
            "--quick",
            "--profile",
            "cpu",
            "--output-dir",
            str(tmp_path / "run"),
            "--report-json",
            str(report_path),
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert (report["rank"], report["world_size"], report["profile"]) == (0, 1, "cpu")
    assert report["steps"] == QUICK["max_steps"]
    assert report["examples"] == QUICK["max_steps"] * QUICK["batch_size"]
    assert report["eval_examples"] == QUICK["eval_examples"]
    # real tokens: at least 3 per review ([CLS] word [SEP]), at most max_length each
    assert 3 * report["examples"] <= report["real_tokens"] <= QUICK["max_length"] * report["examples"]
    assert 0 <= report["padding_share"] < 1
    assert report["examples_per_second"] > 0 and report["tokens_per_second"] > 0
    assert report["model_gflops_per_second"] == pytest.approx(
        6 * report["matmul_parameters"] * report["real_tokens"] / report["train_seconds"] / 1e9
    )
    assert 5e6 < report["matmul_parameters"] < 120e6  # MiniLM's encoder layers, without the embedding tables
    assert math.isfinite(report["first_loss"]) and math.isfinite(report["last_loss"])
    assert 0 <= report["eval_f1"] <= 1 and 0 <= report["eval_accuracy"] <= 1
    assert report["peak_memory_mb"] > 100
    assert report["initial_checksum"] != report["final_checksum"]  # the weights changed: it trained
    assert report["threads"] >= 1 and report["openmp_waits"] == f"spin {OPENMP_SPIN_COUNT}"
    assert report["options"]["padding"] == "dynamic" and report["options"]["sampling"] == "group_by_length"
    assert "examples/s" in done.stdout and "held-out F1" in done.stdout
    # the profile's precision follows the CPU's bf16 decision, and the report names the one used and why
    assert (report["precision"], report["precision_reason"]) == chosen_precision("auto", cpu_bf16_flags())
    assert report["options"]["precision"] == report["precision"] and report["precision"] in done.stdout


@pytest.mark.slow
def test_two_gloo_processes_under_torchrun_train_the_same_model(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    done = run(
        [
            str(torchrun),
            "--nproc_per_node",
            "2",
            "-m",
            "course_dev.finetune",
            "--quick",
            "--output-dir",
            str(tmp_path / "run"),
            "--report-json",
            str(tmp_path / "rank{rank}.json"),
        ],
        tmp_path,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    reports = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [report["rank"] for report in reports] == [0, 1]
    assert all(report["world_size"] == 2 for report in reports)
    assert reports[0]["steps"] == reports[1]["steps"] == QUICK["max_steps"]
    # both processes started from the same weights, changed them, and ended bit-identical
    assert reports[0]["initial_checksum"] == reports[1]["initial_checksum"]
    assert reports[0]["final_checksum"] == reports[1]["final_checksum"] != reports[0]["initial_checksum"]
    # the global batch is both processes' batches: twice the examples of one process
    assert reports[0]["examples"] == 2 * QUICK["max_steps"] * QUICK["batch_size"]
    # the course's thread policy shares the cores between the processes torchrun started
    assert all(report["threads"] == max(1, physical_cores() // 2) for report in reports)


def resolved(arguments: list[str]):
    return finetune_options.resolve_options(finetune_options.parser().parse_args(arguments), PROFILES["cpu"])


def test_original_recipe_means_fixed_padding_default_threads_and_no_grouping():
    options = resolved(["--original-recipe"])
    assert (options.padding, options.threads, options.sampling, options.optim) == (
        "max_length",
        "default",
        "random",
        "adamw_torch",
    )
    course = resolved([])
    assert (course.padding, course.threads) == ("dynamic", "course")
    defaults = finetune_options.COURSE_DEFAULTS
    assert (course.sampling, course.optim) == (defaults["sampling"], defaults["optim"])
    assert (course.train_examples, course.max_length) == (PROFILES["cpu"].train_examples, PROFILES["cpu"].max_length)
    assert (course.max_steps, course.logging_steps) == (-1, max(1, PROFILES["cpu"].logging_steps))


AMD_EPYC = {"avx2", "avx512f", "avx512_bf16"}  # the flags PyTorch reports on the two machine kinds measured
INTEL_XEON = {"avx2", "avx512f", "avx512_bf16", "amx_bf16"}
AVX2_ONLY = {"avx2", "fma"}
A100 = DeviceProperties("NVIDIA A100-SXM4-40GB", (8, 0), 40 * 2**30, 39 * 2**30)
T4 = DeviceProperties("Tesla T4", (7, 5), 15 * 2**30, 14 * 2**30)


@pytest.mark.parametrize(
    "requested, flags, device, expected",
    [
        ("auto", AMD_EPYC, None, "bf16"),
        ("auto", INTEL_XEON, None, "bf16"),
        ("auto", AVX2_ONLY, None, "fp32"),
        ("fp32", AMD_EPYC, None, "fp32"),
        ("bf16", AVX2_ONLY, None, "bf16"),
        ("auto", AVX2_ONLY, A100, "bf16"),
        ("auto", AMD_EPYC, T4, "fp16"),
        ("fp32", AMD_EPYC, A100, "fp32"),
    ],
)
def test_precision_follows_the_decision_unless_forced(requested, flags, device, expected):
    plan = None if device is None else precision_plan(device)
    precision, reason = chosen_precision(requested, frozenset(flags), plan)
    assert precision == expected
    assert ("as asked" in reason) == (requested != "auto")
    # on a CPU the reason names emulation exactly when bf16 would be emulated: fp32 chosen, or bf16 forced anyway
    if device is None:
        assert ("emulate" in reason) == (not {"avx512_bf16", "amx_bf16"} & flags)


def test_the_profile_follows_the_decision_and_the_original_recipe_stays_fp32():
    assert resolved([]).precision == "auto" and resolved(["--full-data"]).precision == "auto"
    assert resolved(["--original-recipe"]).precision == "fp32"
    assert resolved(["--original-recipe", "--precision", "bf16"]).precision == "bf16"


def test_the_command_line_wins_over_every_table():
    told = resolved(["--original-recipe", "--quick", "--padding", "dynamic", "--optim", "sgd", "--max-steps", "9"])
    assert (told.padding, told.optim, told.max_steps) == ("dynamic", "sgd", 9)
    assert (told.threads, told.batch_size, told.logging_steps) == ("default", QUICK["batch_size"], 1)


def test_the_original_recipe_is_no_longer_spelled_seed_style():
    with pytest.raises(SystemExit):
        finetune_options.parser().parse_args(["--seed-style"])


def test_full_data_takes_every_review_and_its_recipe_unless_told_otherwise():
    full = resolved(["--full-data"])
    assert full.train_examples == full.eval_examples == finetune_options.EVERY_REVIEW
    recipe = {name: getattr(full, name) for name in ("batch_size", "learning_rate", "epochs")}
    assert recipe == {name: finetune_options.FULL_DATA[name] for name in recipe}
    assert full.dropout == PROFILES["cpu"].dropout  # the full-data recipe was tuned with the profile's dropout
    assert full.max_length == PROFILES["cpu"].max_length  # what the recipe leaves out comes from the profile
    assert full.freeze_embeddings == finetune_options.FULL_DATA.get("freeze_embeddings", False)
    assert resolved(["--full-data", "--no-freeze-embeddings"]).freeze_embeddings is False
    assert resolved([]).freeze_embeddings is False and resolved(["--freeze-embeddings"]).freeze_embeddings is True
    told = resolved(["--full-data", "--epochs", "1", "--dropout", "0.1", "--train-examples", "500"])
    assert (told.epochs, told.dropout, told.train_examples) == (1, 0.1, 500)
    quick = resolved(["--full-data", "--quick"])  # the tests' seconds-scale run wins over the full sizes
    assert (quick.train_examples, quick.batch_size) == (QUICK["train_examples"], QUICK["batch_size"])
    assert resolved([]).dropout == PROFILES["cpu"].dropout == 0  # the lesson recipe: lesson 2 measures why
    assert resolved(["--original-recipe"]).dropout is None  # the original notebooks kept the checkpoint's dropout


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--threads", "lots"], "'lots' is not a thread count: use 'course', 'default' or a whole number"),
        (["--threads", "0"], "'0' is not a thread count"),
        (["--batch-size", "0"], "--batch-size: '0' must be at least 1"),
        (["--learning-rate", "fast"], "--learning-rate: 'fast' is not a number"),
        (["--dataloader-workers", "-1"], "--dataloader-workers: '-1' must be at least 0"),
        (["--dropout", "1"], "--dropout: '1' must be at least 0 and below 1"),
        (["--precision", "fp16"], "--precision: invalid choice: 'fp16'"),
    ],
)
def test_bad_arguments_give_a_clear_message_not_a_traceback(arguments, message, capsys):
    assert message in usage_error(finetune.main, arguments, capsys)


def test_an_unknown_profile_in_the_environment_says_the_fix(tmp_path):
    done = run([sys.executable, "-m", "course_dev.finetune", "--quick"], tmp_path, COURSE_PROFILE="tpu")
    assert done.returncode == 2
    assert "COURSE_PROFILE='tpu' is not a profile. Fix:" in done.stderr and "Traceback" not in done.stderr


def test_frozen_bottom_layers_get_no_gradient_and_cost_a_forward_pass_only():
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=3, num_attention_heads=2, intermediate_size=16)
    model = BertForSequenceClassification(config)
    every = finetune.matmul_parameters(model)
    assert finetune.training_flops_per_token(model) == 6 * every  # nothing frozen: the 6N rule
    finetune.freeze_bottom_layers(model, 2)
    trained = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trained and all(not name.startswith(("bert.embeddings", "bert.encoder.layer.0.", "bert.encoder.layer.1."))
                           for name in trained)  # fmt: skip
    assert any(name.startswith("bert.encoder.layer.2.") for name in trained)
    assert finetune.trained_matmul_parameters(model) < every
    assert finetune.training_flops_per_token(model) == 2 * every + 4 * finetune.trained_matmul_parameters(model)
