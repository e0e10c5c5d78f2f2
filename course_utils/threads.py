"""CPU threads for the course's processes: one intra-op thread per physical core, and OpenMP threads that spin
briefly, then sleep, while they wait for each other (set before torch loads)."""

from __future__ import annotations

import os
import sys


def physical_cores() -> int:
    try:
        import psutil

        return psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except ImportError:
        return os.cpu_count() or 1


# How long torch's OpenMP threads spin at a barrier before they sleep, for GNU OpenMP (pip's torch on Linux). Spinning
# is fast on an idle machine and ruinous when another program holds one of the cores (every parallel region then
# waits a scheduler time slice); sleeping at once is safe but pays a wake-up at every one of the thousands of small
# operators of a training step. A short spin keeps most of both; `python -m course_dev.bench` measures the three.
OPENMP_SPIN_COUNT = "2000"
# Every variable through which an OpenMP runtime is told how to wait (a caller wanting OpenMP's defaults clears them).
OPENMP_WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def short_openmp_waits() -> str:
    """Make torch's OpenMP threads spin briefly, then sleep, while they wait for each other (before torch loads only).

    GNU OpenMP reads `GOMP_SPINCOUNT`; LLVM and Intel OpenMP (conda's and macOS builds) read `KMP_BLOCKTIME`, set to 0
    (sleep at once) because their spin is counted in milliseconds. A wait policy already in the environment
    (`OMP_WAIT_POLICY`, `GOMP_SPINCOUNT`, `KMP_BLOCKTIME`) is kept. Returns the setting in force (`openmp_waits`).
    """
    if "torch" not in sys.modules and "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT)
        os.environ.setdefault("KMP_BLOCKTIME", "0")
    return openmp_waits()


def openmp_waits() -> str:
    """The OpenMP wait setting this process was given: 'passive', 'active', 'spin <count>' or 'default'."""
    if os.environ.get("OMP_WAIT_POLICY"):
        return os.environ["OMP_WAIT_POLICY"].lower()
    if os.environ.get("GOMP_SPINCOUNT"):
        return f"spin {os.environ['GOMP_SPINCOUNT']}"
    return "default"


def set_threads() -> int:
    """One intra-op thread per physical core, shared among the processes a launcher (torchrun) started on this
    machine; tokenizers' own pool off (it fights torch for the same cores)."""
    import torch

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    local_processes = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    threads = int(os.environ.get("COURSE_THREADS", max(1, physical_cores() // local_processes)))
    torch.set_num_threads(threads)
    return threads
