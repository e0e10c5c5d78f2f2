"""Every device-dependent choice the lessons make, as pure functions of a device's recorded properties.

The notebooks call `current_device()` once and pass its result here, so the same decisions can be tested on the
published properties of GPUs no test machine has (tests/test_gpu.py). `None` stands for "no GPU: the CPU".

Decisions:
- precision (`precision_plan`): bf16 from compute capability 8.0 (Ampere) on, fp16 below it (a T4 has no bf16
  units), fp32 on a CPU. The same mixed-precision flags serve full fine-tuning, LoRA and QLoRA, and the 4-bit layers
  compute in that same dtype, so the three methods are compared like with like.
- the baseline ("full precision") is fp16 on a GPU and fp32 on a CPU: `PrecisionPlan.baseline_label` names it, so a
  ratio "against full precision" always says against what.
- the training precision of the Trainer lessons (`mixed_precision`): the GPU's plan, or on a CPU bf16 autocast where
  it has bf16 matrix units (AVX512-BF16, AMX) and fp32 where it would emulate bf16 (`cpu_bf16_autocast`).
- whether full fine-tuning fits (`full_fine_tune_fit`): FREE memory against `memory.full_fine_tune_peak`, the
  larger of the end of the forward pass (weights, Adam's two moments, one batch's activations and autocast's 16-bit
  weight copies; gradients too under gradient accumulation) and the optimizer step (weights, gradients, moments and
  the step's temporaries).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .memory import GIB, ModelFacts, full_fine_tune_bytes, full_fine_tune_peak

SAFETY = 0.9  # keep a tenth of free memory for the allocator's fragmentation, cuBLAS workspaces and the rest


@dataclass(frozen=True)
class DeviceProperties:
    """What `torch.cuda.get_device_properties` and `torch.cuda.mem_get_info` report."""

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
    fp16: bool  # TrainingArguments(fp16=...), for full fine-tuning, LoRA and QLoRA alike
    bf16: bool  # TrainingArguments(bf16=...), likewise
    optimizer: str  # TrainingArguments(optim=...) for every method (full fine-tuning, LoRA, QLoRA)
    reason: str

    @property
    def baseline_label(self) -> str:
        """'fp16' or 'fp32': what "full precision" means on this device (ratios are taken against it)."""
        return {"float16": "fp16", "bfloat16": "bf16", "float32": "fp32"}[self.weights_dtype]


@dataclass(frozen=True)
class FitCheck:
    """Does full fine-tuning fit? `needed_bytes` broken down in `parts`, against `usable_bytes`."""

    fits: bool
    needed_bytes: int
    usable_bytes: int
    parts: dict = field(default_factory=dict)
    reason: str = ""


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


def _capability(device: DeviceProperties) -> str:
    return f"{device.name} (compute capability {device.capability[0]}.{device.capability[1]})"


def precision_plan(device: DeviceProperties | None) -> PrecisionPlan:
    """bf16 from compute capability 8.0 (Ampere) on, fp16 below it (a T4 has no bf16 units), fp32 on a CPU."""
    if device is None:
        return PrecisionPlan(
            "cpu", "float32", "float32", False, False, "adamw_torch",
            "no GPU: float32 throughout (most CPUs emulate 16-bit arithmetic slowly); full precision here is fp32",
        )  # fmt: skip
    # One optimizer for full fine-tuning, LoRA and QLoRA alike (a comparison that changes one thing): torch's fused
    # AdamW, which needs no per-step temporary copies of the weights. Paged 8-bit AdamW (bitsandbytes) would change
    # nothing here: it pages only state tensors of at least 1e5 elements (bitsandbytes/optim/optimizer.py,
    # Optimizer8bit.get_state_buffer), and rank-8 adapters hold none that large.
    if device.capability >= (8, 0):
        return PrecisionPlan(
            "cuda", "float16", "bfloat16", False, True, "adamw_torch_fused",
            f"{_capability(device)} has bf16 units: bf16 mixed precision and 4-bit compute; full precision is fp16",
        )  # fmt: skip
    return PrecisionPlan(
        "cuda", "float16", "float16", True, False, "adamw_torch_fused",
        f"{_capability(device)} has no bf16 units: fp16 mixed precision and 4-bit compute; full precision is fp16",
    )  # fmt: skip


def full_fine_tune_fit(
    device: DeviceProperties | None,
    model: ModelFacts,
    batch_size: int,
    seq_len: int,
    cpu_available_bytes: int | None = None,
    gradient_accumulation_steps: int = 1,
) -> FitCheck:
    """Would full fine-tuning with AdamW fit in the FREE memory of `device` (or `cpu_available_bytes` on a CPU)?
    Pass the `gradient_accumulation_steps` the run uses: above 1, gradients live through the forward passes."""
    plan = precision_plan(device)
    parts = full_fine_tune_bytes(
        model, batch_size, seq_len, mixed_precision=plan.fp16 or plan.bf16, optimizer=plan.optimizer
    )
    needed = full_fine_tune_peak(parts, gradient_accumulation_steps)
    if device is None:
        if cpu_available_bytes is None:
            raise ValueError("on a CPU, pass cpu_available_bytes (psutil.virtual_memory().available)")
        free, where = cpu_available_bytes, "available CPU memory"
    else:
        free, where = device.free_bytes, f"free memory on {device.name}"
    usable = int(SAFETY * free)
    copies = ", 16-bit weight copies" if plan.fp16 or plan.bf16 else ""
    gradients = ", gradients (accumulation keeps them)" if gradient_accumulation_steps > 1 else ""
    fits = needed <= usable
    verdict = "fits" if fits else "does not fit"
    reason = (
        f"full fine-tuning needs about {needed / GIB:.1f} GiB, the larger of the end of the forward pass (weights, "
        f"Adam's moments, activations{copies}{gradients}) and the optimizer step (weights, gradients, "
        "Adam's moments, the step's temporaries); "
        f"{SAFETY:.0%} of the {where} is {usable / GIB:.1f} GiB: it {verdict}"
    )
    return FitCheck(fits, needed, usable, parts, reason)


# The CPU's bf16 decision, next to the GPU's: a pure function of the flags, so it is tested on recorded CPUs.
CPU_BF16_UNITS = ("avx512_bf16", "amx_bf16")  # the /proc/cpuinfo names of native bf16 matrix arithmetic


def cpu_bf16_flags() -> frozenset[str]:
    """This CPU's native-bf16 flags, as PyTorch detects them (the /proc/cpuinfo names; empty when it has none)."""
    import torch

    detected = {
        "avx512_bf16": getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)(),
        "amx_bf16": getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)(),
    }
    return frozenset(flag for flag, present in detected.items() if present)


def cpu_bf16_autocast(flags) -> tuple[bool, str]:
    """(use bf16 autocast on this CPU?, why): yes with AVX512-BF16 or AMX units, fp32 where bf16 would be emulated."""
    native = [flag for flag in CPU_BF16_UNITS if flag in set(flags)]
    if native:
        return True, f"this CPU multiplies bf16 natively ({', '.join(native)}): bf16 autocast, weights kept in fp32"
    return False, "this CPU has no bf16 units (no avx512_bf16, no amx_bf16): it would emulate bf16, so fp32"


@dataclass(frozen=True)
class MixedPrecision:
    """`TrainingArguments(fp16=..., bf16=..., use_cpu=...)` for one device, and why."""

    fp16: bool
    bf16: bool
    use_cpu: bool  # transformers refuses bf16=True without a bf16 GPU unless use_cpu=True says "train on the CPU"
    reason: str

    @property
    def label(self) -> str:
        return "fp16" if self.fp16 else "bf16" if self.bf16 else "fp32"


def mixed_precision(device: DeviceProperties | None, cpu_flags=()) -> MixedPrecision:
    """The training precision every lesson uses: the GPU's plan (`precision_plan`), or on a CPU bf16 autocast where
    it multiplies bf16 natively (`cpu_bf16_autocast`) and fp32 elsewhere."""
    if device is not None:
        plan = precision_plan(device)
        return MixedPrecision(plan.fp16, plan.bf16, False, plan.reason)
    use_bf16, reason = cpu_bf16_autocast(cpu_flags)
    return MixedPrecision(False, use_bf16, use_bf16, reason)
