"""Every device-dependent choice the lessons make, as pure functions of a device's recorded properties.

The notebooks call `current_device()` once and pass its result here, so the same decisions can be tested on the
published properties of GPUs no test machine has (tests/test_gpu.py).
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class DeviceProperties:
    """What `torch.cuda.get_device_properties` and `torch.cuda.mem_get_info` report, or None for a CPU."""

    name: str
    capability: tuple[int, int]  # compute capability (major, minor)
    total_bytes: int
    free_bytes: int


@dataclass(frozen=True)
class PrecisionPlan:
    """The dtypes a lesson uses on one device, and why."""

    device: str  # "cuda" or "cpu"
    weights_dtype: str  # what "full precision" loads as here: "float16" on a GPU, "float32" on a CPU
    compute_dtype: str  # 4-bit layers' compute dtype, and the mixed-precision dtype
    fp16: bool  # TrainingArguments(fp16=...)
    bf16: bool  # TrainingArguments(bf16=...)
    reason: str


def current_device() -> DeviceProperties | None:
    """This machine's first CUDA GPU, or None."""
    import torch

    if not torch.cuda.is_available():
        return None
    properties = torch.cuda.get_device_properties(0)
    free, total = torch.cuda.mem_get_info(0)
    return DeviceProperties(
        name=properties.name, capability=(properties.major, properties.minor), total_bytes=total, free_bytes=free
    )


def precision_plan(device: DeviceProperties | None) -> PrecisionPlan:
    """bf16 from compute capability 8.0 (Ampere) on, fp16 below it (a T4 has no bf16 units), fp32 on a CPU."""
    if device is None:
        return PrecisionPlan("cpu", "float32", "float32", False, False, "no GPU: float32 throughout")
    if device.capability >= (8, 0):
        return PrecisionPlan(
            "cuda", "float16", "bfloat16", False, True,
            f"{device.name} (compute capability {device.capability[0]}.{device.capability[1]}) has bf16 units",
        )  # fmt: skip
    return PrecisionPlan(
        "cuda", "float16", "float16", True, False,
        f"{device.name} (compute capability {device.capability[0]}.{device.capability[1]}) has no bf16 units: fp16",
    )  # fmt: skip
