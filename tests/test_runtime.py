import os
import subprocess
import sys
import time

import pytest
import torch

import course_utils
from course_utils import runtime, threads
from course_utils.errors import CourseError


def test_course_profile_variable_wins():
    environ = {"CI": "true", "COURSE_PROFILE": "GPU "}
    assert runtime.choose_profile(cuda=False, environ=environ) == ("gpu", "COURSE_PROFILE=gpu")


def test_ci_and_pytest_choose_the_ci_profile():
    assert runtime.choose_profile(cuda=True, environ={})[0] == "gpu"
    under_pytest = {"PYTEST_CURRENT_TEST": "test_x.py::test (call)"}
    assert runtime.choose_profile(cuda=True, environ=under_pytest) == ("ci", "running under pytest")
    assert runtime.choose_profile(cuda=False, environ={"CI": "true"}) == ("ci", "CI is set")
    assert runtime.choose_profile(cuda=False, environ={"CI": "false"}) == ("cpu", "no GPU found")


def test_no_gpu_and_no_ci_means_cpu_profile():
    assert runtime.choose_profile(cuda=False, environ={}) == ("cpu", "no GPU found")


def test_unknown_profile_names_the_valid_ones():
    with pytest.raises(CourseError, match="one of ci, cpu, gpu"):
        runtime.choose_profile(cuda=False, environ={"COURSE_PROFILE": "tpu"})


def test_profiles_grow_from_ci_to_gpu():
    ci, cpu = runtime.PROFILES["ci"], runtime.PROFILES["cpu"]
    assert ci.train_examples < cpu.train_examples
    assert runtime.PROFILES["gpu"].train_examples is None  # the full split
    assert ci.lm_max_steps < cpu.lm_max_steps < runtime.PROFILES["gpu"].lm_max_steps


def test_hub_offline_flag_is_honoured_without_probing(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    online, reason = runtime.hub_reachable()
    assert (online, reason) == (False, "HF_HUB_OFFLINE=1 is set")
    assert time.monotonic() - started < 0.5


def test_probe_gives_up_quickly_when_the_hub_is_unreachable(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(runtime, "HUB_PROBE_URL", "https://192.0.2.1/unroutable")  # TEST-NET: never answers
    started = time.monotonic()
    online, reason = runtime.hub_reachable(timeout=1.0)
    assert not online and "unreachable" in reason
    assert time.monotonic() - started < 5  # bounded, unlike a library's 45 s of retries


def test_setup_prints_one_line_and_seeds(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    rt = course_utils.setup(seed=7)
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "profile 'ci'" in printed[0] and "Hub offline" in printed[0]
    assert rt.settings is runtime.PROFILES["ci"] and rt.device == "cpu" and rt.seed == 7
    first = torch.rand(3)
    course_utils.setup(seed=7, verbose=False)
    assert torch.equal(first, torch.rand(3))
    assert torch.get_num_threads() == rt.threads >= 1


def test_going_offline_sets_every_library_flag(monkeypatch):
    for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    runtime.go_offline()
    import os

    assert os.environ["HF_DATASETS_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert constants.HF_HUB_OFFLINE is True


# --- which checkpoints (rt.models), apart from which sizes (rt.profile) ---------------------------------------
@pytest.mark.parametrize(
    ("profile", "online", "expected"),
    [
        ("ci", False, "packaged"),
        ("cpu", False, "packaged"),
        ("gpu", False, "packaged"),
        ("ci", True, "hub-small"),
        ("cpu", True, "hub-small"),
        ("gpu", True, "hub-full"),
    ],
)
def test_default_model_set_follows_the_network_then_the_profile(profile, online, expected):
    assert runtime.choose_models(profile, online, environ={})[0] == expected


def test_course_models_variable_wins_even_offline():
    models, why = runtime.choose_models("ci", False, environ={"COURSE_MODELS": " Hub-Full"})
    assert models == "hub-full" and "COURSE_MODELS=hub-full" in why and "cache" in why
    with pytest.raises(CourseError, match="one of packaged, hub-small, hub-full"):
        runtime.choose_models("ci", True, environ={"COURSE_MODELS": "bert"})


def test_setup_line_names_the_model_set_and_why(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.setenv("COURSE_MODELS", "hub-full")
    rt = course_utils.setup(seed=1)
    line = capsys.readouterr().out.strip()
    assert (rt.profile, rt.models) == ("ci", "hub-full")
    assert "models 'hub-full' (COURSE_MODELS=hub-full" in line and "profile 'ci'" in line


# --- the supported range, checked first -----------------------------------------------------------------------
def fake_versions(**versions):
    installed = {"transformers": "5.24.0", "datasets": "5.2.0", "accelerate": "1.15.0", "peft": "0.21.2"}
    installed.update(versions)
    return lambda name: installed.get(name)


def test_supported_versions_pass_and_missing_optional_libraries_are_not_too_old():
    runtime.check_versions(fake_versions(), colab=False)  # bitsandbytes absent: not reported here
    runtime.check_versions(fake_versions(transformers="4.57.6", datasets="5.0.1", accelerate="1.3.0"), colab=False)
    runtime.check_versions(fake_versions(transformers="5.24.0.dev0+local", peft="custom-build"), colab=False)


def test_too_old_libraries_get_one_pip_command():
    with pytest.raises(CourseError) as raised:
        runtime.check_versions(fake_versions(transformers="4.45.2", bitsandbytes="0.45.5"), colab=False)
    message = str(raised.value)
    assert "transformers 4.45.2 (needs >= 4.57)" in message and "bitsandbytes 0.45.5 (needs >= 0.46.1)" in message
    assert message.count("pip install") == 1
    assert 'pip install -U "transformers>=4.57" "bitsandbytes>=0.46.1"' in message
    assert "Runtime > Restart session" not in message


def test_on_colab_the_command_is_a_cell_magic_and_says_restart_the_runtime():
    with pytest.raises(CourseError) as raised:
        runtime.check_versions(fake_versions(datasets="4.0.0"), colab=True)
    assert '%pip install -U "datasets>=5.0.1"' in str(raised.value)
    assert "then restart the runtime (Runtime > Restart session)" in str(raised.value)


def test_setup_checks_versions_first(monkeypatch):
    monkeypatch.setattr(runtime, "installed_version", fake_versions(transformers="4.46.0"))
    monkeypatch.setattr(runtime, "hub_reachable", lambda: pytest.fail("setup() probed the Hub before the versions"))
    with pytest.raises(CourseError, match='pip install -U "transformers>=4.57"'):
        course_utils.setup()


def test_floors_are_the_packaging_metadata_floors():
    from pathlib import Path

    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["quant"]
    for name, floor in runtime.MINIMUM_VERSIONS.items():
        assert f"{name}>={floor}" in requirements, (name, floor, requirements)


# --- two messages silenced at their source, and only those ------------------------------------------------------
def test_setup_drops_the_kernels_notice_and_the_load_report_but_no_other_warning(monkeypatch):
    import logging

    import transformers

    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.delenv("TRANSFORMERS_VERBOSITY", raising=False)
    transformers.logging.set_verbosity_warning()
    course_utils.setup(verbose=False)
    course_utils.setup(verbose=False)  # idempotent: one filter each, not two

    def record(name, message):
        return logging.LogRecord(name, logging.WARNING, __file__, 1, message, None, None)

    bnb = logging.getLogger("bitsandbytes.backends.cpu.ops")
    printing = logging.getLogger("transformers").handlers  # what transformers prints with
    assert printing and all(len(handler.filters) == 1 for handler in printing) and len(bnb.filters) == 1

    def printed(message):
        return all(handler.filter(record("transformers.modeling_utils", message)) for handler in printing)

    kernels = "Failed to load CPU gemm_4bit_forward from kernels-community: No module named 'kernels'. Please ..."
    assert not bnb.filter(record(bnb.name, kernels))
    assert bnb.filter(record(bnb.name, "some other bitsandbytes warning"))
    report = "BertForSequenceClassification LOAD REPORT from: bert-base-uncased\n| key | status |"
    assert not printed(report)
    assert printed("Some weights of BertForSequenceClassification were not initialized")  # 4.x: still shown
    assert logging.getLogger("transformers").isEnabledFor(logging.WARNING)  # no blanket silence
    # A tool's own handler (lesson 4's log capture) still receives the report.
    assert logging.getLogger("transformers.modeling_utils").filter(record("transformers.modeling_utils", report))
    # Lesson 4 turns the report back on, visibly, with transformers' own call.
    transformers.logging.set_verbosity_warning()
    assert printed(report)


QUIET_PROBE = """
import sys
import course_utils
if sys.argv[1] == "setup":
    course_utils.setup(verbose=False)
import bitsandbytes  # noqa: F401  (what transformers imports whenever it is installed)
import transformers
from transformers import AutoModelForSequenceClassification
folder = str(course_utils.assets.packaged_classifier_dir())
AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)
transformers.logging.set_verbosity_warning()  # lesson 4's call
print("--- lesson 4", file=sys.stderr)
AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)
"""


@pytest.mark.slow
def test_a_lesson_after_setup_prints_neither_message_until_it_asks(tmp_path):
    """End to end, with the real libraries: a control run without setup() shows what a student saw before."""
    import os
    import subprocess
    import sys

    import transformers

    outputs = {}
    for mode in ("control", "setup"):
        env = dict(os.environ, COURSE_PROFILE="ci", HF_HUB_OFFLINE="1")
        done = subprocess.run(
            [sys.executable, "-c", QUIET_PROBE, mode], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outputs[mode] = done.stderr.split("--- lesson 4")
    before, after = outputs["setup"]
    assert "gemm_4bit_forward" not in before + after and "LOAD REPORT" not in before
    if int(transformers.__version__.split(".")[0]) >= 5:
        assert "LOAD REPORT" in outputs["control"][0] and "LOAD REPORT" in after  # shown again when asked for


def _waits_in_fresh_process(env_changes: dict, import_torch_first: bool = False) -> list[str]:
    """What short_openmp_waits() leaves in a new interpreter: its answer and the three variables OpenMP reads."""
    env = {k: v for k, v in os.environ.items() if k not in threads.OPENMP_WAIT_VARIABLES}
    env.update(env_changes)
    code = (
        ("import torch\n" if import_torch_first else "")
        + "import os\nfrom course_utils.threads import short_openmp_waits\n"
        + "answer = short_openmp_waits()\n"
        + f"names = {threads.OPENMP_WAIT_VARIABLES!r}\n"
        + "print('|'.join([answer, *(os.environ.get(name, '-') for name in names)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1].split("|")


def test_openmp_threads_spin_briefly_then_sleep_before_torch_loads():
    answer, policy, spin, blocktime = _waits_in_fresh_process({})
    assert answer == f"spin {threads.OPENMP_SPIN_COUNT}" and policy == "-"
    assert (spin, blocktime) == (threads.OPENMP_SPIN_COUNT, "0")


def test_a_wait_policy_already_chosen_is_kept():
    assert _waits_in_fresh_process({"OMP_WAIT_POLICY": "PASSIVE"}) == ["passive", "PASSIVE", "-", "-"]
    answer, _, spin, _ = _waits_in_fresh_process({"GOMP_SPINCOUNT": "50"})
    assert (answer, spin) == ("spin 50", "50")


def test_after_torch_loaded_nothing_is_set_because_openmp_has_read_its_environment():
    assert _waits_in_fresh_process({}, import_torch_first=True) == ["default", "-", "-", "-"]
