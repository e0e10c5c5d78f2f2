"""One GPU on a host with several: the decision on recorded inputs (nvidia-smi output, CUDA_VISIBLE_DEVICES, whether
CUDA already started), and setup() on this machine (no GPU, no nvidia-smi), where it must change nothing."""

import os
import subprocess

import pytest

import course_utils
from course_utils import one_gpu

# `nvidia-smi -L` as recorded on a Kaggle 2 x T4 notebook, a Colab T4 and an A100 split into MIG slices; the driver's
# answer on a machine whose driver is not loaded (exit status 9).
KAGGLE_T4X2 = """GPU 0: Tesla T4 (UUID: GPU-1c0f7f30-e7d0-5bb5-7d0f-d2356bf0d282)
GPU 1: Tesla T4 (UUID: GPU-480f4356-0daa-09e0-8f20-cc73a9bbc155)
"""
COLAB_T4 = "GPU 0: Tesla T4 (UUID: GPU-4b9a3bdb-5109-27d9-635c-2825eb5f0bc6)\n"
A100_MIG = """GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a0c)
  MIG 3g.20gb     Device  0: (UUID: MIG-9f3b5c5e-2b0e-5d7f-9d3a-0a2b6c7d8e9f)
  MIG 3g.20gb     Device  1: (UUID: MIG-1a2b3c4d-5e6f-5a7b-8c9d-0e1f2a3b4c5d)
"""
NO_DRIVER = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA "
    "driver is installed and running.\n"
)


@pytest.mark.parametrize(("listing", "gpus"), [(KAGGLE_T4X2, 2), (COLAB_T4, 1), (A100_MIG, 1), (NO_DRIVER, 0), ("", 0)])
def test_gpus_are_counted_from_nvidia_smi_lines(listing, gpus):
    assert one_gpu.count_listed_gpus(listing) == gpus


def test_no_nvidia_smi_or_a_failing_one_means_no_gpu():
    def missing(*args, **kwargs):
        raise FileNotFoundError("nvidia-smi")

    def failing(*args, **kwargs):
        return subprocess.CompletedProcess(args, 9, stdout=NO_DRIVER, stderr="")

    def hung(*args, **kwargs):
        raise subprocess.TimeoutExpired("nvidia-smi", one_gpu.NVIDIA_SMI_SECONDS)

    assert one_gpu.listed_gpus(run=missing) == one_gpu.listed_gpus(run=failing) == one_gpu.listed_gpus(run=hung) == 0
    listed = one_gpu.listed_gpus(run=lambda *args, **kwargs: subprocess.CompletedProcess(args, 0, KAGGLE_T4X2, ""))
    assert listed == 2


class FakeDriver:
    """libcuda's cuDeviceGetCount as the driver answers it before cuInit (3: not initialised) and after (0)."""

    def __init__(self, result):
        self.result = result

    def cuDeviceGetCount(self, count):
        return self.result


def test_cuda_started_asks_the_driver_and_no_driver_means_not_started():
    def no_driver(name):
        raise OSError(f"{name}: cannot open shared object file")

    assert one_gpu.cuda_started(load=no_driver) is False
    assert one_gpu.cuda_started(load=lambda name: FakeDriver(3)) is False
    assert one_gpu.cuda_started(load=lambda name: FakeDriver(0)) is True


def test_one_gpu_host_or_none_keeps_everything():
    for gpus in (0, 1):
        assert one_gpu.choose_one_gpu(gpus, {}, cuda_already_started=False) == one_gpu.GpuChoice(None, "")
        assert one_gpu.choose_one_gpu(gpus, {}, cuda_already_started=True) == one_gpu.GpuChoice(None, "")


def test_two_gpus_get_the_first_one_and_one_line_naming_data_parallel():
    choice = one_gpu.choose_one_gpu(2, {}, cuda_already_started=False)
    assert choice.set_visible == "0"
    assert "2 GPUs" in choice.message and "DataParallel" in choice.message and "\n" not in choice.message


def test_a_value_the_student_set_is_kept():
    for chosen in ("1", "", "GPU-480f4356"):
        assert one_gpu.choose_one_gpu(2, {one_gpu.VISIBLE: chosen}, False) == one_gpu.GpuChoice(None, "")
    both = one_gpu.choose_one_gpu(2, {one_gpu.VISIBLE: "0,1"}, cuda_already_started=False)
    assert both.set_visible is None and "is kept" in both.message and "DataParallel" in both.message


def test_cuda_already_started_says_the_setting_cannot_take_effect_and_how_to_fix_it():
    choice = one_gpu.choose_one_gpu(2, {}, cuda_already_started=True)
    assert choice.set_visible is None
    assert "cannot take effect" in choice.message and "restart the kernel" in choice.message
    assert "course_utils.setup()" in choice.message


def test_use_one_gpu_sets_the_variable_only_on_a_host_with_several(monkeypatch):
    environ = {}
    monkeypatch.setattr(one_gpu, "listed_gpus", lambda: 2)
    monkeypatch.setattr(one_gpu, "cuda_started", lambda: False)
    assert "GPU 0" in one_gpu.use_one_gpu(environ) and environ == {one_gpu.VISIBLE: "0"}
    monkeypatch.setattr(one_gpu, "cuda_started", lambda: True)
    environ = {}
    assert "cannot take effect" in one_gpu.use_one_gpu(environ) and environ == {}


def test_setup_on_this_machine_changes_nothing(monkeypatch, capsys):
    """No GPU and no nvidia-smi here: setup() neither sets CUDA_VISIBLE_DEVICES nor prints a GPU line."""
    monkeypatch.delenv(one_gpu.VISIBLE, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    assert one_gpu.listed_gpus() == 0 and not one_gpu.cuda_started()
    course_utils.setup()
    printed = capsys.readouterr().out.strip().splitlines()
    assert one_gpu.VISIBLE not in os.environ
    assert len(printed) == 1 and "GPU" not in printed[0]


def test_setup_on_a_two_gpu_host_prints_the_choice_before_its_summary(monkeypatch, capsys):
    monkeypatch.delenv(one_gpu.VISIBLE, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.setattr(one_gpu, "listed_gpus", lambda: 2)
    course_utils.setup()
    printed = capsys.readouterr().out.strip().splitlines()
    assert os.environ[one_gpu.VISIBLE] == "0"  # monkeypatch removes it again after the test
    assert len(printed) == 2 and "DataParallel" in printed[0] and "profile 'ci'" in printed[1]
