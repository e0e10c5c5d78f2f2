"""4-bit layers that keep learning on every CPU, and the check that proves it.

bitsandbytes (0.49 and 0.50 at least) repacks a `Linear4bit` weight for its fast AVX-512-BF16 CPU kernel the first
time the layer runs in eval mode without gradients (`quant_state.packing_format_for_cpu = True`). That kernel has
no backward: every later TRAINING forward returns outputs that carry no gradient back to the layer's input, and
PyTorch only warns that `bitsandbytes::gemv_4bit` has no autograd kernel. An evaluation before or during training
(`mean_loss`, `Trainer.evaluate`) is enough: the LoRA adapters below that layer stop receiving gradients and the
loss curve flattens, silently. `keep_4bit_layers_trainable` undoes the repack and switches it off.
"""

from __future__ import annotations


def _linear_4bit_layers(model):
    try:
        import bitsandbytes as bnb
    except ImportError:
        return []
    return [(name, module) for name, module in model.named_modules() if isinstance(module, bnb.nn.Linear4bit)]


def is_repacked(layer) -> bool:
    """Is this 4-bit layer's weight in bitsandbytes' CPU inference layout (no gradients through it)?"""
    return bool(getattr(layer.weight.quant_state, "packing_format_for_cpu", False))


def repacked_layers(model) -> list[str]:
    """Names of the 4-bit layers currently in the CPU inference layout."""
    return [name for name, module in _linear_4bit_layers(model) if is_repacked(module)]


def keep_4bit_layers_trainable(model) -> int:
    """Restore the trainable layout of every repacked 4-bit layer and stop bitsandbytes repacking it again.

    Returns how many layers had been repacked. Costs speed only for eval-mode forwards on AVX-512-BF16 CPUs.
    """
    restored = 0
    for _, layer in _linear_4bit_layers(model):
        if is_repacked(layer):
            from bitsandbytes.functional import _convert_weight_packed_for_cpu_inverse

            layer.weight.data, layer.weight.quant_state = _convert_weight_packed_for_cpu_inverse(
                layer.weight.data, layer.weight.quant_state
            )
            restored += 1
        if hasattr(layer, "support_avx512bf16_for_cpu"):
            layer.support_avx512bf16_for_cpu = False  # the switch bitsandbytes reads before repacking
    return restored


def input_gradient_check(layer, batch: int = 3, seed: int = 0) -> dict:
    """Backpropagate through one 4-bit layer in training mode and compare the input's gradient with the exact one.

    For y = x Wᵀ + b and loss = sum(y), d loss / dx = the column sums of W for every row: computed here from the
    DEQUANTIZED weight. Returns {"repacked", "has_gradient", "max_error"}; max_error is None without a gradient.
    """
    import bitsandbytes.functional as F
    import torch

    repacked = is_repacked(layer)
    was_training = layer.training
    layer.train()
    generator = torch.Generator().manual_seed(seed)
    weight_dtype = layer.compute_dtype or torch.float32
    x = torch.randn(batch, layer.in_features, generator=generator, dtype=weight_dtype).to(layer.weight.device)
    x.requires_grad_(True)
    layer(x).float().sum().backward()
    layer.train(was_training)
    if x.grad is None:
        return {"repacked": repacked, "has_gradient": False, "max_error": None}
    if repacked:  # dequantize from a copy in the ordinary layout
        from bitsandbytes.functional import _convert_weight_packed_for_cpu_inverse

        data, state = _convert_weight_packed_for_cpu_inverse(layer.weight.data.clone(), layer.weight.quant_state)
    else:
        data, state = layer.weight.data, layer.weight.quant_state
    weight = F.dequantize_4bit(data, state).float()
    expected = weight.sum(0).expand(batch, -1)
    error = float((x.grad.float() - expected).abs().max() / expected.abs().max())
    return {"repacked": repacked, "has_gradient": True, "max_error": error}


def adapters_with_gradient(model, input_ids) -> tuple[int, int]:
    """One training forward and backward on `input_ids`: how many trainable tensors received a gradient, of how many.

    Shows what `prepare_model_for_kbit_training`'s input-gradient hook is for: with RE-ENTRANT gradient checkpointing
    and no input that requires a gradient, the checkpointed blocks' adapters get none.
    """
    import warnings

    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    for parameter in trainable:
        parameter.grad = None
    model.train()
    with warnings.catch_warnings():  # torch warns that no checkpointed input requires a gradient: that is the point
        warnings.simplefilter("ignore")
        loss = model(input_ids=input_ids, labels=input_ids).loss
        if loss.requires_grad:  # not when every block is checkpointed and cut off: nothing to backpropagate
            loss.backward()
    reached = sum(parameter.grad is not None for parameter in trainable)
    for parameter in trainable:
        parameter.grad = None
    return reached, len(trainable)


def checkpoint_blocks(model, use_reentrant: bool) -> None:
    """Gradient checkpointing on the transformer blocks of `model` (a peft model's base model too), re-entrant or
    not, WITHOUT the input-gradient hook transformers adds when it switches checkpointing on.

    transformers 5.23 renamed `gradient_checkpointing_enable` to `activation_checkpointing_enable`; both are tried.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    kwargs = {"use_reentrant": use_reentrant}
    if hasattr(base, "activation_checkpointing_enable"):
        base.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    # Only some releases add the hook here (4.57 only for a model with a peft config loaded), and 4.57's
    # `disable_input_require_grads` fails when there is none: remove it where it exists.
    if getattr(base, "_require_grads_hook", None) is not None or getattr(base, "_require_grads_hooks", None):
        base.disable_input_require_grads()
