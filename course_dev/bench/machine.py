"""The machine: what it is (CPU, instruction sets, cores, library versions) and its own limit, dense matmul
GFLOP/s, against which the fine-tune's model FLOP utilisation is taken."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

# The instruction sets that decide which matmul kernels run: an AVX2 and an AVX-512 machine differ by 2x.
INSTRUCTION_SETS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "asimd", "sve")
BF16_INSTRUCTION_SETS = {"avx512_bf16", "amx_bf16"}  # without them torch emulates bf16 matmuls, slower than fp32
TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16"}  # an arithmetic's name -> its torch dtype


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def cpu_model_and_flags() -> tuple[str, set[str]]:
    """The CPU's model name and instruction-set flags from /proc/cpuinfo (the platform's names elsewhere)."""
    cpu_model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu_model in (platform.processor(), platform.machine()):
                cpu_model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return cpu_model, flags


def machine() -> dict:
    import torch
    import transformers

    from course_utils.threads import physical_cores

    cpu_model, flags = cpu_model_and_flags()
    return {
        "cpu": cpu_model,
        "instruction_sets": [name for name in INSTRUCTION_SETS if name in flags],
        "load_average": load_average(),
        "physical_cores": physical_cores(),
        "logical_cpus": os.cpu_count(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def matmul_gflops(
    threads: int, size: int = 2048, repeats: int = 5, min_seconds: float = 0.3, dtype: str = "float32"
) -> float:
    """Best-of-`repeats` dense matmul throughput (GFLOP/s) of torch on `threads` threads, in `dtype`."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        generator = torch.Generator().manual_seed(0)
        a = torch.randn(size, size, generator=generator).to(getattr(torch, dtype))
        b = torch.randn(size, size, generator=generator).to(getattr(torch, dtype))
        out = torch.empty(size, size, dtype=a.dtype)
        torch.mm(a, b, out=out)  # warm-up: thread pool, caches
        best = 0.0
        for _ in range(repeats):
            count, started = 0, time.perf_counter()
            while True:
                torch.mm(a, b, out=out)
                count += 1
                seconds = time.perf_counter() - started
                if seconds >= min_seconds:
                    break
            best = max(best, 2 * size**3 * count / seconds / 1e9)
        return best
    finally:
        torch.set_num_threads(previous)


class MatmulLimits:
    """The matmul limit per arithmetic ("fp32", "bf16"), measured at the start and again on request.

    The limit drifts (375 to 427 GFLOP/s on one Intel machine within an hour), so each fine-tune's MFU is taken
    against the higher of the limit at the start and the limit measured right after that run.
    """

    def __init__(self, threads: int, size: int):
        self.threads, self.size = threads, size
        self.at_start = {arithmetic: self.now(arithmetic) for arithmetic in TORCH_DTYPES}

    def now(self, arithmetic: str) -> float:
        return matmul_gflops(self.threads, self.size, dtype=TORCH_DTYPES[arithmetic])

    def summary(self) -> dict:
        """The JSON's "matmul" entry."""
        return {
            "size": self.size,
            "threads": self.threads,
            "gflops": self.at_start["fp32"],
            "one_thread_gflops": matmul_gflops(1, self.size),
            "bf16_gflops": self.at_start["bf16"],
        }
