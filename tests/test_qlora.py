"""QLoRA keeps learning on every CPU: gradients through a 4-bit layer after an eval-mode forward (course_utils.qlora).

bitsandbytes repacks a 4-bit weight for its CPU inference kernel on CPUs with AVX-512-BF16 after an eval-mode
forward; the repacked layer passes no gradient to its input. Each test forces that state itself.
"""

import pytest
import torch

bnb = pytest.importorskip("bitsandbytes")

from course_utils import qlora  # noqa: E402


def quantized_layer(seed=0):
    torch.manual_seed(seed)
    weight = torch.nn.Linear(128, 64).weight.data
    layer = bnb.nn.Linear4bit(128, 64, bias=False, compute_dtype=torch.float32, quant_type="nf4")
    layer.weight = bnb.nn.Params4bit(weight, requires_grad=False, quant_type="nf4")
    return layer.to("cpu")  # quantizes


def eval_forward(layer):
    layer.eval()
    with torch.no_grad():
        layer(torch.randn(2, 128))
    layer.train()


def test_fresh_layer_passes_the_exact_gradient():
    check = qlora.input_gradient_check(quantized_layer())
    assert check["has_gradient"] and check["max_error"] < 1e-4


def test_gradient_flows_after_an_eval_forward():
    """Fails without keep_4bit_layers_trainable on any CPU that repacks (this AVX-512 Xeon does)."""
    layer = quantized_layer()
    eval_forward(layer)
    if not qlora.is_repacked(layer):
        pytest.skip("this CPU does not repack 4-bit weights after an eval forward (no AVX-512-BF16): nothing to fix")
    broken = qlora.input_gradient_check(layer)
    assert not broken["has_gradient"], "bitsandbytes now passes gradients through repacked layers: revisit qlora.py"
    assert qlora.keep_4bit_layers_trainable(torch.nn.Sequential(layer)) == 1
    assert not qlora.is_repacked(layer)
    eval_forward(layer)  # and it stays trainable through later evaluations
    assert not qlora.is_repacked(layer)
    check = qlora.input_gradient_check(layer)
    assert check["has_gradient"] and check["max_error"] < 1e-4


def test_restored_weights_compute_the_same_outputs():
    layer = quantized_layer(seed=1)
    x = torch.randn(5, 128)
    with torch.no_grad():
        before = layer(x)  # training mode: the ordinary layout
    eval_forward(layer)
    qlora.keep_4bit_layers_trainable(torch.nn.Sequential(layer))
    with torch.no_grad():
        after = layer(x)
    # The repack stores the block scales in bf16; the way back keeps that rounding (8 significant bits: < 1 %).
    assert (before - after).abs().max() <= 0.01 * before.abs().max()
    assert qlora.repacked_layers(torch.nn.Sequential(layer)) == []
