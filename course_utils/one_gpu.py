"""One GPU for the lessons on a host with several (Kaggle's 2 x T4), chosen before CUDA starts.

With several GPUs visible and no distributed launcher, `TrainingArguments.n_gpu` is `torch.cuda.device_count()`
(transformers/training_args.py, `_setup_devices`), `Trainer._wrap_model` wraps the model in `torch.nn.DataParallel`
and `TrainingArguments.train_batch_size` is `per_device_train_batch_size x n_gpu`: lesson 1's steps per epoch halve,
and lesson 5's fit check, which reads GPU 0, no longer describes the run. `setup()` therefore shows the lessons the
first GPU through `CUDA_VISIBLE_DEVICES`, which CUDA reads when the process first initialises its driver (torch's
`device_count` does not cache a count taken before then for that reason, torch/cuda/__init__.py). GPUs are counted
with `nvidia-smi -L`, the driver's own list, which starts no CUDA in this process.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass

VISIBLE = "CUDA_VISIBLE_DEVICES"
FIRST_GPU = "0"
NVIDIA_SMI_SECONDS = 10.0
GPU_LINE = re.compile(r"GPU \d+: ")  # how `nvidia-smi -L` starts each GPU's line
CUDA_SUCCESS = 0  # cuda.h's CUresult; before cuInit every other driver call returns CUDA_ERROR_NOT_INITIALIZED (3)


def count_listed_gpus(nvidia_smi_list: str) -> int:
    """GPUs in `nvidia-smi -L` output, one 'GPU <n>: <name> (UUID: GPU-...)' line each (a MIG slice is an indented
    line under its GPU and does not count); 0 for anything else, such as the driver's error text."""
    return sum(1 for line in nvidia_smi_list.splitlines() if GPU_LINE.match(line))


def listed_gpus(run: Callable = subprocess.run) -> int:
    """How many GPUs the NVIDIA driver lists on this host (0 without nvidia-smi or when it fails)."""
    try:
        done = run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=NVIDIA_SMI_SECONDS)
    except (OSError, subprocess.SubprocessError):  # not installed, not executable, or hung
        return 0
    return count_listed_gpus(done.stdout) if done.returncode == 0 else 0


def cuda_started(load: Callable = ctypes.CDLL) -> bool:
    """Has this process initialised CUDA's driver, after which `CUDA_VISIBLE_DEVICES` no longer changes anything?

    `torch.cuda.is_available()` does it (`cudaGetDeviceCount` calls `cuInit`, torch/cuda/__init__.py) while
    `torch.cuda.is_initialized()` still says False, so ask the driver: `cuDeviceGetCount` returns
    CUDA_ERROR_NOT_INITIALIZED until `cuInit` ran (CUDA driver API, "Initialization"). No driver: nothing started."""
    try:
        driver = load("libcuda.so.1")
    except OSError:
        return False
    return driver.cuDeviceGetCount(ctypes.byref(ctypes.c_int())) == CUDA_SUCCESS


@dataclass(frozen=True)
class GpuChoice:
    """What `setup()` does about several GPUs: the value it gives `CUDA_VISIBLE_DEVICES` (None: leaves it as it is)
    and the one line it prints ('': nothing to say)."""

    set_visible: str | None
    message: str


def choose_one_gpu(gpus: int, environ: Mapping[str, str], cuda_already_started: bool) -> GpuChoice:
    """Show the lessons the first GPU when the host has several; a `CUDA_VISIBLE_DEVICES` the student set is kept
    (named when it shows several GPUs); if CUDA already started in this process, say how to get one GPU."""
    if gpus <= 1:
        return GpuChoice(None, "")
    data_parallel = "Trainer wraps the model in DataParallel and multiplies the batch by the number of GPUs"
    chosen = environ.get(VISIBLE)
    if chosen is not None:
        shown = [device for device in chosen.split(",") if device.strip()]
        if len(shown) > 1:
            return GpuChoice(None, f"{VISIBLE}={chosen} is kept: it shows {len(shown)} GPUs, so {data_parallel}")
        return GpuChoice(None, "")
    if cuda_already_started:
        return GpuChoice(
            None,
            f"this host has {gpus} GPUs and CUDA already started in this process, so {VISIBLE} cannot take effect "
            f"and {data_parallel}. Fix: restart the kernel and run course_utils.setup() before anything uses torch.cuda",
        )
    return GpuChoice(
        FIRST_GPU,
        f"this host has {gpus} GPUs: the lessons use GPU 0 ({VISIBLE}={FIRST_GPU}); with all {gpus}, {data_parallel}",
    )


def use_one_gpu(environ=None) -> str:
    """setup()'s GPU step: apply `choose_one_gpu` to this process; returns the line to print ('' if none)."""
    environ = os.environ if environ is None else environ
    gpus = listed_gpus()
    if gpus <= 1:
        return ""
    choice = choose_one_gpu(gpus, environ, cuda_started())
    if choice.set_visible is not None:
        environ[VISIBLE] = choice.set_visible
    return choice.message
