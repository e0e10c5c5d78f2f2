"""Full fine-tuning's memory model against what autograd really keeps: a saved-tensor probe on the CPU.

The peak is 16 bytes per parameter (fp32 weights, gradients, Adam's two moments) plus the larger of two things that
never coexist: the optimizer step's temporaries (inside `optimizer.step()`, when the activations are gone) and the
forward pass's activations with autocast's 16-bit weight copies (until the backward pass frees them).
"""

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from course_utils import gpu, memory

BATCH, SEQ = 4, 256


def tinyllama_shaped(layers: int) -> LlamaForCausalLM:
    """TinyLlama-1.1B's block shapes (hidden 2048, MLP 5632, 32 heads, 4 key-value heads), `layers` of them, a small
    vocabulary (it changes the logits only, which both sizes share)."""
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=512,
        hidden_size=2048,
        intermediate_size=5632,
        num_hidden_layers=layers,
        num_attention_heads=32,
        num_key_value_heads=4,
        max_position_embeddings=SEQ,
        tie_word_embeddings=False,
    )
    return LlamaForCausalLM(config)


def saved_for_backward(model) -> dict[str, int]:
    """Bytes autograd keeps from one bf16-autocast forward pass, split into 16-bit weight copies and the rest."""
    parameter_storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
    parameter_shapes = {tuple(p.shape) for p in model.parameters() if p.dim() == 2}
    kept: dict[int, tuple[int, bool]] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameter_storages:  # a parameter itself costs nothing extra
            is_copy = tensor.dtype == torch.bfloat16 and tuple(tensor.shape) in parameter_shapes
            kept[storage.data_ptr()] = (storage.nbytes(), is_copy)
        return tensor

    ids = torch.randint(0, model.config.vocab_size, (BATCH, SEQ), generator=torch.Generator().manual_seed(0))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            model(input_ids=ids, labels=ids)
    return {
        "copies": sum(size for size, is_copy in kept.values() if is_copy),
        "activations": sum(size for size, is_copy in kept.values() if not is_copy),
    }


@pytest.mark.slow
def test_activation_term_matches_a_saved_tensor_probe_per_tinyllama_layer():
    one, two = (saved_for_backward(tinyllama_shaped(layers)) for layers in (1, 2))
    measured_per_layer = two["activations"] - one["activations"]
    facts = memory.ModelFacts(n_parameters=0, hidden_size=2048, n_layers=1, n_heads=32, vocab_size=0)
    predicted_per_layer = memory.activation_bytes(facts, BATCH, SEQ, bytes_per_value=2)
    print(
        f"activations per layer: saved {measured_per_layer / 2**20:.1f} MiB, formula {predicted_per_layer / 2**20:.1f} MiB"
    )
    assert measured_per_layer == pytest.approx(predicted_per_layer, rel=0.10), (measured_per_layer, predicted_per_layer)
    # The 16-bit copies: about one per weight matrix of the layer, 2 bytes per parameter (measured: 98 %).
    layer = tinyllama_shaped(1).model.layers[0]
    matrix_parameters = sum(p.numel() for p in layer.parameters() if p.dim() == 2)
    assert two["copies"] - one["copies"] == pytest.approx(2 * matrix_parameters, rel=0.05)


def test_peak_adds_the_larger_of_step_temporaries_and_activations_with_copies():
    facts = memory.ModelFacts(n_parameters=1_000_000, hidden_size=64, n_layers=2, n_heads=4, vocab_size=100)
    small_batch = memory.full_fine_tune_bytes(facts, 1, 8, mixed_precision=True, optimizer="adamw_torch")
    forward = small_batch["activations"] + small_batch["16-bit weight copies (autocast)"]
    assert small_batch["optimizer step temporaries (adamw_torch)"] > forward  # the step's copy dominates here
    assert memory.full_fine_tune_peak(small_batch) == 16 * 1_000_000 + 4 * 1_000_000
    fused = memory.full_fine_tune_bytes(facts, 1, 8, mixed_precision=True, optimizer="adamw_torch_fused")
    assert memory.full_fine_tune_peak(fused) == 16 * 1_000_000 + forward  # nothing extra inside a fused step
    big_batch = memory.full_fine_tune_bytes(facts, 64, 256, mixed_precision=True, optimizer="adamw_torch")
    assert memory.full_fine_tune_peak(big_batch) == 16 * 1_000_000 + big_batch["activations"] + 2 * 1_000_000


@pytest.mark.parametrize("capability", [(7, 5), (8, 0)])
def test_gpu_fit_check_uses_the_plans_fused_optimizer(capability):
    device = gpu.DeviceProperties("GPU", capability, 80 * memory.GIB, 79 * memory.GIB)
    tinyllama = memory.ModelFacts(1_100_048_384, 2048, 22, 32, 32000)
    check = gpu.full_fine_tune_fit(device, tinyllama, BATCH, SEQ)
    assert check.parts["optimizer step temporaries (adamw_torch_fused)"] == 0
    assert check.needed_bytes == memory.full_fine_tune_peak(check.parts)
    # TinyLlama at 4 x 256 in 16-bit: 16 bytes per parameter and about 4.7 GiB of activations and copies.
    assert 20 * memory.GIB < check.needed_bytes < 22 * memory.GIB


@pytest.mark.parametrize(("capability", "fp16", "bf16"), [((7, 5), True, False), ((8, 0), False, True)])
def test_lesson5_training_arguments_from_the_t4_and_a100_plans_resolve_to_fused_adamw(capability, fp16, bf16, tmp_path):
    """What lesson 5 passes to TrainingArguments on a T4 and an A100, built here on the CPU: the optimizer every
    method uses resolves to torch's AdamW with fused=True (the precision flags are the plan's, checked apart: a CPU
    refuses fp16)."""
    from transformers import Trainer, TrainingArguments

    plan = gpu.precision_plan(gpu.DeviceProperties("GPU", capability, 16 * memory.GIB, 15 * memory.GIB))
    assert (plan.fp16, plan.bf16) == (fp16, bf16)
    args = TrainingArguments(output_dir=str(tmp_path), optim=plan.optimizer, report_to="none", use_cpu=True)
    optimizer_class, kwargs = Trainer.get_optimizer_cls_and_kwargs(args)
    assert optimizer_class is torch.optim.AdamW and kwargs.get("fused") is True
