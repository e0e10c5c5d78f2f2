"""The GPU decisions on the published properties of five GPUs no test machine here has (course_utils.gpu, on
course_utils.memory's arithmetic).

Totals are the memory nvidia-smi reports for each card (MiB); free memory is the total less 0.5 GiB of CUDA
context, as a fresh Colab/cloud runtime shows it. Model facts are TinyLlama-1.1B's published config
(hidden 2048, 22 layers, 32 heads, vocabulary 32000, 1,100,048,384 parameters) and SmolLM2-135M's (576, 30, 9,
49152, 134,515,008), at the gpu profile's batch (4) and sequence length (256) in lesson 5.
"""

import pytest

from course_utils import gpu, memory
from course_utils.runtime import PROFILES

MIB = 1024**2
CONTEXT = memory.GIB // 2  # what the CUDA context takes before any tensor


def card(name, capability, total_mib):
    total = total_mib * MIB
    return gpu.DeviceProperties(name=name, capability=capability, total_bytes=total, free_bytes=total - CONTEXT)


T4 = card("Tesla T4", (7, 5), 15360)
L4 = card("NVIDIA L4", (8, 9), 23034)
A100_40 = card("NVIDIA A100-SXM4-40GB", (8, 0), 40960)
A100_80 = card("NVIDIA A100-SXM4-80GB", (8, 0), 81920)
H100_80 = card("NVIDIA H100 80GB HBM3", (9, 0), 81559)

TINYLLAMA = memory.ModelFacts(n_parameters=1_100_048_384, hidden_size=2048, n_layers=22, n_heads=32, vocab_size=32000)
SMOLLM2 = memory.ModelFacts(n_parameters=134_515_008, hidden_size=576, n_layers=30, n_heads=9, vocab_size=49152)
BATCH, SEQ = 4, PROFILES["gpu"].lm_max_length

# card, compute dtype, fp16 flag, bf16 flag, TinyLlama full fine-tuning fits, SmolLM2 full fine-tuning fits
DECISIONS = [
    (T4, "float16", True, False, False, True),
    (L4, "bfloat16", False, True, True, True),
    (A100_40, "bfloat16", False, True, True, True),
    (A100_80, "bfloat16", False, True, True, True),
    (H100_80, "bfloat16", False, True, True, True),
]


@pytest.mark.parametrize(("device", "compute", "fp16", "bf16", "tinyllama_fits", "smollm2_fits"), DECISIONS)
def test_decisions_for_published_gpus(device, compute, fp16, bf16, tinyllama_fits, smollm2_fits):
    plan = gpu.precision_plan(device)
    assert (plan.device, plan.compute_dtype, plan.fp16, plan.bf16) == ("cuda", compute, fp16, bf16)
    assert plan.weights_dtype == "float16" and plan.baseline_label == "fp16"  # full precision on a GPU is fp16
    assert device.name in plan.reason and "fp16" in plan.reason
    assert gpu.full_fine_tune_fit(device, TINYLLAMA, BATCH, SEQ).fits is tinyllama_fits
    assert gpu.full_fine_tune_fit(device, SMOLLM2, BATCH, SEQ).fits is smollm2_fits


def test_cpu_gets_fp32_and_says_so():
    plan = gpu.precision_plan(None)
    assert (plan.device, plan.weights_dtype, plan.compute_dtype, plan.fp16, plan.bf16) == (
        "cpu", "float32", "float32", False, False,
    )  # fmt: skip
    assert plan.baseline_label == "fp32" and "fp32" in plan.reason
    assert plan.optimizer == "adamw_torch"  # paged 8-bit AdamW needs CUDA
    with pytest.raises(ValueError, match="cpu_available_bytes"):
        gpu.full_fine_tune_fit(None, SMOLLM2, BATCH, SEQ)
    assert gpu.full_fine_tune_fit(None, SMOLLM2, BATCH, SEQ, cpu_available_bytes=16 * memory.GIB).fits
    assert not gpu.full_fine_tune_fit(None, TINYLLAMA, BATCH, SEQ, cpu_available_bytes=16 * memory.GIB).fits


def test_an_l4_with_its_fresh_free_memory_runs_full_fine_tuning_a_busy_gpu_does_not():
    """TinyLlama at 4 x 256 peaks at the end of the forward pass, about 17 GiB with fused AdamW: under 90 % of a fresh
    L4's 22 GiB free; the same L4 with another model loaded, a busy A100, or gradient accumulation (gradients then
    live through the forward passes) is refused."""
    check = gpu.full_fine_tune_fit(L4, TINYLLAMA, BATCH, SEQ)
    assert check.fits and 16.5 * memory.GIB < check.needed_bytes < 17.5 * memory.GIB, check.reason
    busy_l4 = gpu.DeviceProperties(L4.name, L4.capability, L4.total_bytes, L4.free_bytes - 4 * memory.GIB)
    assert not gpu.full_fine_tune_fit(busy_l4, TINYLLAMA, BATCH, SEQ).fits
    busy_a100 = gpu.DeviceProperties(A100_40.name, A100_40.capability, A100_40.total_bytes, 10 * memory.GIB)
    assert not gpu.full_fine_tune_fit(busy_a100, TINYLLAMA, BATCH, SEQ).fits
    accumulating = gpu.full_fine_tune_fit(L4, TINYLLAMA, BATCH, SEQ, gradient_accumulation_steps=4)
    assert not accumulating.fits and "accumulation" in accumulating.reason
    assert accumulating.needed_bytes - check.needed_bytes == check.parts["gradients (fp32)"]


def test_estimate_parts_add_up_and_grow_with_the_batch():
    check = gpu.full_fine_tune_fit(A100_80, TINYLLAMA, BATCH, SEQ)
    assert check.needed_bytes == memory.full_fine_tune_peak(check.parts) < sum(check.parts.values())
    bigger = gpu.full_fine_tune_fit(A100_80, TINYLLAMA, 4 * BATCH, SEQ)
    assert bigger.parts["activations"] > 3 * check.parts["activations"]
    assert "does not fit" in gpu.full_fine_tune_fit(T4, TINYLLAMA, BATCH, SEQ).reason


def test_model_facts_from_a_config():
    from transformers import LlamaConfig

    config = LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, vocab_size=100)
    facts = memory.ModelFacts.from_config(config, 12345)
    assert (facts.n_parameters, facts.hidden_size, facts.n_layers, facts.n_heads, facts.vocab_size) == (
        12345, 64, 2, 4, 100,
    )  # fmt: skip
