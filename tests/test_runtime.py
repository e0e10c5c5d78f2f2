import time

import pytest
import torch

import course_utils
from course_utils import runtime
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
