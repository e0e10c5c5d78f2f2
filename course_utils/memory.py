"""How much memory a model needs: the arithmetic (bytes per parameter) and the measurement (RSS, load time).

The arithmetic behind 4-bit NF4 (bitsandbytes, QLoRA):
- weights: 4 bits per parameter;
- one float32 scale ("absmax") per block of 64 weights: 32 / 64 = +0.5 bit per parameter;
- double quantization stores those scales in 8 bits (8 / 64 = 0.125 bit per parameter) plus one float32 constant
  per 256 blocks (32 / (64 * 256) ≈ 0.002 bit per parameter): ≈ +0.127 bit instead of +0.5 bit.
So NF4 costs ≈ 4.5 bits/param, or ≈ 4.127 bits/param with double quantization, instead of 32 (float32).
Layers that stay unquantized (embeddings, norms, the LM head or a classifier head) keep their own dtype.
"""
from __future__ import annotations

import gc
import os
import time

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


def process_rss_bytes() -> int:
    """Resident memory of this Python process, in bytes."""
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss


def measure_load(fn, *args, **kwargs):
    """Call fn(*args, **kwargs) -> (result, seconds, rss_delta_bytes).

    The RSS delta is how much this process grew: it includes everything loading allocated and kept (weights,
    but also library code imported for the first time), and memory the allocator does not hand back.
    Measure the same way each time (and import libraries first) to compare loaders fairly.
    """
    gc.collect()
    before = process_rss_bytes()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    gc.collect()
    return result, seconds, process_rss_bytes() - before


def format_bytes(n: float) -> str:
    """Decimal units, as model cards use: 90_900_000 -> '90.9 MB'."""
    sign = "-" if n < 0 else ""
    n = abs(float(n))
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{sign}{n:.0f} {unit}" if unit == "B" else f"{sign}{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")
