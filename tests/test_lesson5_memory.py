"""Full fine-tuning's memory model against what autograd and Trainer really keep, on the CPU.

The peak is the larger of the end of the forward pass (fp32 weights, Adam's two moments, the activations and
autocast's 16-bit weight copies that autograd saved; no gradients, which Trainer set to None after the last step,
unless gradient accumulation keeps them) and the optimizer step (weights, gradients, moments, the step's
temporaries). A saved-tensor probe checks the activation term; a Trainer run checks which tensors coexist.
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


def test_peak_is_the_larger_of_the_forward_end_and_the_optimizer_step():
    n = 1_000_000
    facts = memory.ModelFacts(n_parameters=n, hidden_size=64, n_layers=2, n_heads=4, vocab_size=100)
    small_batch = memory.full_fine_tune_bytes(facts, 1, 8, mixed_precision=True, optimizer="adamw_torch")
    forward = small_batch["activations"] + small_batch["16-bit weight copies (autocast)"]
    assert forward < 8 * n  # the step (gradients 4 + temporaries 4 bytes/param) holds more than the forward end
    assert memory.full_fine_tune_peak(small_batch) == (4 + 8) * n + 4 * n + 4 * n
    fused = memory.full_fine_tune_bytes(facts, 1, 8, mixed_precision=True, optimizer="adamw_torch_fused")
    assert memory.full_fine_tune_peak(fused) == 16 * n  # weights, gradients, moments: the step, nothing extra
    big_batch = memory.full_fine_tune_bytes(facts, 64, 256, mixed_precision=True, optimizer="adamw_torch_fused")
    big_forward = big_batch["activations"] + 2 * n
    assert big_forward > 4 * n  # activations and copies outweigh the gradients they never meet
    assert memory.full_fine_tune_peak(big_batch) == (4 + 8) * n + big_forward
    # Accumulating micro-batches: the gradients of the first ones are alive during the next forward passes.
    assert memory.full_fine_tune_peak(big_batch, gradient_accumulation_steps=2) == 16 * n + big_forward


def tensors_alive_at_each_training_forward(gradient_accumulation_steps: int, tmp_path) -> list[tuple[bool, bool]]:
    """Train a tiny Llama with Trainer for 3 optimizer steps; at each forward pass record (does any parameter hold a
    gradient?, does the optimizer hold Adam's moments?)."""
    from transformers import Trainer, TrainingArguments

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=16,
    )  # fmt: skip
    model = LlamaForCausalLM(config)
    rows = [{"input_ids": torch.randint(0, 64, (8,)).tolist()} for _ in range(12)]
    for row in rows:
        row["labels"] = row["input_ids"]
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=3, per_device_train_batch_size=2, report_to="none", use_cpu=True,
        gradient_accumulation_steps=gradient_accumulation_steps, save_strategy="no", logging_strategy="no",
        optim="adamw_torch",
    )  # fmt: skip
    trainer = Trainer(model=model, args=args, train_dataset=rows)
    seen = []

    def record(module, inputs):
        optimizer = getattr(trainer.optimizer, "optimizer", trainer.optimizer)  # accelerate wraps it
        has_moments = optimizer is not None and any("exp_avg" in state for state in optimizer.state.values())
        seen.append((any(p.grad is not None for p in module.parameters()), has_moments))

    model.register_forward_pre_hook(record)
    trainer.train()
    return seen


def test_trainer_frees_gradients_before_each_forward_and_accumulation_keeps_them(tmp_path):
    """The premise of the forward-end term: after each optimizer step Trainer calls `model.zero_grad()`, which sets
    gradients to None, so a forward pass meets Adam's moments but no gradient; with accumulation it meets both."""
    one = tensors_alive_at_each_training_forward(1, tmp_path / "one")
    assert one == [(False, False), (False, True), (False, True)]
    two = tensors_alive_at_each_training_forward(2, tmp_path / "two")
    assert two == [(False, False), (True, False), (False, True), (True, True), (False, True), (True, True)]


@pytest.mark.parametrize("capability", [(7, 5), (8, 0)])
def test_gpu_fit_check_uses_the_plans_fused_optimizer(capability):
    device = gpu.DeviceProperties("GPU", capability, 80 * memory.GIB, 79 * memory.GIB)
    tinyllama = memory.ModelFacts(1_100_048_384, 2048, 22, 32, 32000)
    check = gpu.full_fine_tune_fit(device, tinyllama, BATCH, SEQ)
    assert check.parts["optimizer step temporaries (adamw_torch_fused)"] == 0
    assert check.needed_bytes == memory.full_fine_tune_peak(check.parts)
    # TinyLlama at 4 x 256 in 16-bit: the forward end, 12 bytes per parameter (weights and moments) and about
    # 4.7 GiB of activations and copies, outweighs the step's 16 bytes per parameter.
    assert 16.5 * memory.GIB < check.needed_bytes < 17.5 * memory.GIB


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
