"""How much memory a model needs: the arithmetic (bytes per parameter, full fine-tuning's parts) and the
measurement (RSS, load time, a training step's peak, each in a fresh process; the child's side is in
`fresh_process`).

The arithmetic behind 4-bit NF4 (bitsandbytes, QLoRA):
- weights: 4 bits per parameter;
- one float32 scale ("absmax") per block of 64 weights: 32 / 64 = +0.5 bit per parameter;
- double quantization stores those scales in 8 bits (8 / 64 = 0.125 bit per parameter) plus one float32 constant
  per 256 blocks (32 / (64 * 256) ≈ 0.002 bit per parameter): ≈ +0.127 bit instead of +0.5 bit.
So NF4 costs ≈ 4.5 bits/param, or ≈ 4.127 bits/param with double quantization, instead of 32 (float32).
Layers that stay unquantized (embeddings, norms, the LM head or a classifier head) keep their own dtype.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Storage of one weight, without any per-block scales.
BYTES_PER_PARAM = {
    "fp32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "int8": 1.0,
    "nf4": 0.5,
    "fp4": 0.5,
}
ALIASES = {"float32": "fp32", "float": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16", "uint8": "int8"}

NF4_BLOCK_SIZE = 64  # weights per absmax scale
ABSMAX_BITS = 32  # one float32 scale per block
DOUBLE_QUANT_ABSMAX_BITS = 8  # double quantization: the scales themselves in 8 bits ...
DOUBLE_QUANT_BLOCK_SIZE = 256  # ... with one float32 constant per 256 scales


# Full fine-tuning with AdamW, bytes per trainable parameter (weights kept in fp32 "master" copies):
FP32_WEIGHT = 4  # the weights themselves
FP32_GRADIENT = 4  # one gradient per weight
ADAM_MOMENTS = 8  # exp_avg and exp_avg_sq, fp32 each
# Inside optimizer.step() only. torch's foreach AdamW (its default for CUDA tensors) builds one fp32 list the size of
# the weights, `exp_avg_sq_sqrt = torch._foreach_sqrt(...)` (torch/optim/adam.py, `_multi_tensor_adam`); on a CPU
# torch picks the per-tensor loop (`_default_to_fused_or_foreach`: foreach only on "cuda"-like devices), whose
# temporaries are one tensor large, so 4 is an upper bound there. The fused AdamW (optim="adamw_torch_fused", the GPU
# plan's) updates in place in one kernel (`_fused_adamw_`).
STEP_TEMPORARIES = {"adamw_torch": 4, "adamw_torch_fused": 0}
AUTOCAST_COPY = 2  # under fp16/bf16 autocast each weight is also cast to a 16-bit copy for the forward pass
GIB = 1024**3


@dataclass(frozen=True)
class ModelFacts:
    """What the training-memory estimate needs to know about a transformer (its config and parameter count)."""

    n_parameters: int
    hidden_size: int
    n_layers: int
    n_heads: int
    vocab_size: int

    @classmethod
    def from_config(cls, config, n_parameters: int) -> ModelFacts:
        return cls(
            n_parameters=int(n_parameters),
            hidden_size=config.hidden_size,
            n_layers=config.num_hidden_layers,
            n_heads=config.num_attention_heads,
            vocab_size=config.vocab_size,
        )


def dtype_name(dtype) -> str:
    """'fp32', 'bf16', 'nf4', ... from a name or a torch.dtype."""
    name = str(dtype).removeprefix("torch.").lower()
    name = ALIASES.get(name, name)
    if name not in BYTES_PER_PARAM:
        raise ValueError(f"unknown dtype {dtype!r}: use one of {', '.join(BYTES_PER_PARAM)}")
    return name


def block_overhead_bits(double_quant: bool = False, block_size: int = NF4_BLOCK_SIZE) -> float:
    """Extra bits per parameter spent on 4-bit block scales: 0.5 (plain) or ≈ 0.127 (double quantization)."""
    if not double_quant:
        return ABSMAX_BITS / block_size
    return DOUBLE_QUANT_ABSMAX_BITS / block_size + ABSMAX_BITS / (block_size * DOUBLE_QUANT_BLOCK_SIZE)


def bits_per_param(dtype, double_quant: bool = False) -> float:
    """Bits per parameter including the 4-bit block scales (fp32 32, bf16 16, int8 8, nf4 4.5 or ≈ 4.127)."""
    name = dtype_name(dtype)
    bits = BYTES_PER_PARAM[name] * 8
    if name in ("nf4", "fp4"):
        bits += block_overhead_bits(double_quant)
    return bits


def estimate_model_bytes(n_params: int, dtype, double_quant: bool = False) -> float:
    """Weights only: n_params × bits_per_param / 8 (no activations, gradients or optimizer state)."""
    return n_params * bits_per_param(dtype, double_quant) / 8


def activation_bytes(model: ModelFacts, batch_size: int, seq_len: int, bytes_per_value: int = 2) -> int:
    """Activations kept for the backward pass of one batch, without recomputation.

    Per layer s·b·h·(34 + 5·a·s/h) bytes in 16 bits (Korthikanti et al. 2022, "Reducing Activation Recomputation in
    Large Transformer Models", section 4.1), scaled for fp32; plus the logits, their softmax and its gradient (fp32).
    """
    s, b, h, a = seq_len, batch_size, model.hidden_size, model.n_heads
    per_layer = s * b * h * (34 + 5 * a * s / h) * bytes_per_value / 2
    logits = 3 * b * s * model.vocab_size * 4
    return int(model.n_layers * per_layer + logits)


def full_fine_tune_bytes(
    model: ModelFacts, batch_size: int, seq_len: int, mixed_precision: bool, optimizer: str = "adamw_torch_fused"
) -> dict[str, int]:
    """What full fine-tuning with AdamW holds, part by part: fp32 weights, gradients, Adam's moments, the optimizer
    step's temporaries, the 16-bit weight copies autocast makes under mixed precision, and one batch's activations.
    Not all of it at once: `full_fine_tune_peak` adds up what coexists."""
    n = model.n_parameters
    parts = {
        "weights (fp32)": n * FP32_WEIGHT,
        "gradients (fp32)": n * FP32_GRADIENT,
        "Adam moments (fp32)": n * ADAM_MOMENTS,
        f"optimizer step temporaries ({optimizer})": n * STEP_TEMPORARIES[optimizer],
    }
    if mixed_precision:
        parts["16-bit weight copies (autocast)"] = n * AUTOCAST_COPY
    parts["activations"] = activation_bytes(model, batch_size, seq_len, bytes_per_value=2 if mixed_precision else 4)
    return parts


def full_fine_tune_peak(parts: dict[str, int], gradient_accumulation_steps: int = 1) -> int:
    """The larger of the two moments of a training step when most memory is held (backward moves from the first to
    the second, freeing one layer's activations as it writes that layer's gradients, so neither end is exceeded by
    more than one layer's transients):

    - end of the forward pass: fp32 weights + Adam's moments (allocated at the first `optimizer.step()` and kept) +
      the activations autograd saved + autocast's 16-bit weight copies (autograd saves them for the backward pass;
      autocast's cache drops its own reference when the context exits, torch/amp/autocast_mode.py,
      `autocast.__exit__` -> `torch.clear_autocast_cache`). No gradient exists yet: Trainer calls `model.zero_grad()`
      after every optimizer step (transformers/trainer.py, `Trainer._run_epoch`), and `nn.Module.zero_grad` sets
      gradients to None by default (torch/nn/modules/module.py, `set_to_none=True`). With gradient accumulation the
      earlier micro-batches' gradients are alive during the later forward passes, so they are added then;
    - the optimizer step: weights + gradients + moments + the step's temporaries (none for fused AdamW), after the
      backward pass freed the activations and the copies.
    """
    state = parts["weights (fp32)"] + parts["Adam moments (fp32)"]
    gradients = parts["gradients (fp32)"]
    step = sum(size for name, size in parts.items() if name.startswith("optimizer step temporaries"))
    forward = parts["activations"] + parts.get("16-bit weight copies (autocast)", 0)
    end_of_forward = state + forward + (gradients if gradient_accumulation_steps > 1 else 0)
    optimizer_step = state + gradients + step
    return int(max(end_of_forward, optimizer_step))


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameters; 4-bit weights count as the parameters they hold (two per stored byte)."""
    trainable = total = 0
    for param in model.parameters():
        n = param.numel()
        if param.__class__.__name__ == "Params4bit":  # bitsandbytes packs two 4-bit weights per uint8
            n *= 2
        total += n
        if param.requires_grad:
            trainable += n
    return trainable, total


def quant_state_bytes(model) -> int:
    """Bytes of the 4-bit block scales (absmax, nested absmax, code books) that `get_memory_footprint()` leaves out.

    bitsandbytes keeps them in each weight's `quant_state`, not as parameters or buffers, so a 4-bit model's
    footprint plus this is what its weights really take.
    """
    import torch

    seen, total = set(), 0
    for param in model.parameters():
        state = getattr(param, "quant_state", None)
        while state is not None and id(state) not in seen:
            seen.add(id(state))
            for value in vars(state).values():
                if isinstance(value, torch.Tensor):
                    total += value.numel() * value.element_size()
            state = getattr(state, "state2", None)
    return total


def process_rss_bytes() -> int:
    """Resident memory of this Python process, in bytes."""
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss


def format_bytes(n: float) -> str:
    """Decimal units, as model cards use: 90_900_000 -> '90.9 MB'."""
    sign = "-" if n < 0 else ""
    n = abs(float(n))
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{sign}{n:.0f} {unit}" if unit == "B" else f"{sign}{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------------------------
# Loading in a fresh process: clean numbers for process memory
# --------------------------------------------------------------------------------------------------------------
# Inside a notebook, process memory mixes every earlier load (the allocator keeps freed memory, safetensors maps
# files lazily, libraries are imported once). One fresh Python process per load gives a clean figure.


def quantization_backend() -> str:
    """The installed bitsandbytes version; CourseError naming the install command if it is missing or broken."""
    from .errors import CourseError

    try:
        import bitsandbytes
    except Exception as error:  # ImportError, or a broken native library raising something else
        raise CourseError(
            f"8-bit and 4-bit loading need bitsandbytes, which could not be imported ({type(error).__name__}: "
            f"{error}).\nFix: run  pip install 'bitsandbytes>=0.46.1'  (0.46 and newer also run on a CPU), then restart "
            "the kernel."
        ) from None
    return bitsandbytes.__version__


def load_in_fresh_process(
    checkpoint: str,
    quantization_config=None,
    dtype: str = "float32",
    device_map: str | None = None,
    timeout: float = 900,
    tokenizer_checkpoint: str | None = None,
) -> dict:
    """Load `checkpoint` in a new Python process, exactly as `AutoModelForCausalLM.from_pretrained(checkpoint,
    dtype=..., quantization_config=..., device_map=...)` would, generate a few tokens, and report what it cost.

    `quantization_config` is a `BitsAndBytesConfig` (or None for full precision): the same object the notebook
    built, passed on as its dict. `tokenizer_checkpoint` holds the chat template (`chat_template_checkpoint(rt)`:
    a base checkpoint such as TinyLlama's has none); it defaults to `checkpoint`. Returns load_seconds, footprint_bytes (`get_memory_footprint()`),
    rss_after_load_bytes, peak_rss_bytes (the process's high-water mark, load and generation included) and,
    on a GPU, peak_cuda_bytes.
    """
    request = {
        "checkpoint": str(checkpoint),
        "tokenizer": str(tokenizer_checkpoint or checkpoint),
        "dtype": dtype,
        "device_map": device_map,
        "quantization_config": quantization_config.to_dict() if quantization_config is not None else None,
    }
    return _run_child(request, f"Loading {checkpoint}", timeout)


def train_in_fresh_process(
    checkpoint: str,
    method: str,
    quantization_config=None,
    dtype: str = "float32",
    lora: dict | None = None,
    batch_size: int = 4,
    seq_len: int = 128,
    steps: int = 2,
    timeout: float = 900,
    gradient_checkpointing: bool = False,
) -> dict:
    """Peak memory of `steps` AdamW training steps on random token batches, in a new Python process.

    `method` is "full fine-tuning", "LoRA" or "QLoRA" (give `quantization_config` and `lora` = LoraConfig keyword
    arguments for the adapter methods). The batches have the lesson's shape (`batch_size` × `seq_len`), so the
    activations, gradients and optimizer state are the lesson's. Returns load_seconds, footprint_bytes and
    load_peak_rss_bytes (the loading alone, as `load_in_fresh_process` measures it), loaded_forward_peak_rss_bytes
    (after one forward pass that has read every weight: a memory-mapped full-precision checkpoint is only resident
    once read, so this is the loading peak to compare across formats), rss_before_load_bytes,
    rss_after_load_bytes and peak_rss_bytes (the process's high-water mark: the model, one batch's activations, the gradients and the
    optimizer state), and on a GPU peak_cuda_bytes.
    """
    request = {
        "train": True,
        "checkpoint": str(checkpoint),
        "method": method,
        "dtype": dtype,
        "quantization_config": quantization_config.to_dict() if quantization_config is not None else None,
        "lora": lora,
        "batch_size": batch_size,
        "seq_len": seq_len,
        "steps": steps,
        "gradient_checkpointing": gradient_checkpointing,
    }
    return _run_child(request, f"Training {checkpoint} ({method})", timeout)


def _run_child(request: dict, what: str, timeout: float) -> dict:
    import json
    import subprocess
    import sys

    from .errors import CourseError

    result = subprocess.run(
        [sys.executable, "-m", "course_utils.fresh_process"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        output = (result.stderr or result.stdout).strip().splitlines()
        error = output[-1] if output else "no output"  # the exception line, not the whole traceback
        raise CourseError(
            f"{what} in a fresh process failed: {error}\n"
            "Fix: run the same from_pretrained call (and, for training, one step) in the notebook to see the full "
            "error."
        )
    return json.loads(lines[-1])
