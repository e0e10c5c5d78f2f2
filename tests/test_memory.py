"""Memory arithmetic and measurement, checked against the real packaged MiniLM (22.7M parameters)."""

import pytest
import torch
from transformers import AutoModel, AutoModelForSequenceClassification, BitsAndBytesConfig

from course_utils import memory
from course_utils.assets import packaged_classifier_dir


def test_bits_per_param_table():
    assert [memory.bits_per_param(d) for d in ("fp32", "fp16", "bf16", "int8")] == [32, 16, 16, 8]
    assert memory.bits_per_param("nf4") == pytest.approx(4.5)  # + one fp32 absmax per 64 weights
    assert memory.bits_per_param("nf4", double_quant=True) == pytest.approx(4.127, abs=1e-3)
    assert memory.block_overhead_bits() == 0.5
    assert memory.block_overhead_bits(double_quant=True) == pytest.approx(8 / 64 + 32 / (64 * 256))
    assert memory.bits_per_param("int8", double_quant=True) == 8  # double quantization only concerns 4-bit


def test_dtype_names_accept_torch_dtypes():
    assert memory.dtype_name(torch.float32) == "fp32"
    assert memory.dtype_name(torch.bfloat16) == "bf16"
    assert memory.dtype_name("float16") == "fp16"
    with pytest.raises(ValueError, match="unknown dtype"):
        memory.dtype_name("int3")


def test_estimate_model_bytes():
    assert memory.estimate_model_bytes(1_000_000, "fp32") == 4_000_000
    assert memory.estimate_model_bytes(1_000_000, torch.bfloat16) == 2_000_000
    assert memory.estimate_model_bytes(1_000_000, "nf4") == 562_500
    assert memory.estimate_model_bytes(1_000_000, "nf4", double_quant=True) == pytest.approx(515_869, abs=1)


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 B"),
        (999, "999 B"),
        (1_500, "1.5 kB"),
        (90_900_000, "90.9 MB"),
        (538_060_288, "538.1 MB"),
        (2_500_000_000, "2.5 GB"),
        (-61_600_000, "-61.6 MB"),
    ],
)
def test_format_bytes(n, text):
    assert memory.format_bytes(n) == text


def test_process_rss_grows_with_a_big_tensor():
    # In a fresh process: in this one, earlier tests leave freed memory that the allocator hands out again.
    import subprocess
    import sys

    child = (
        "import torch; from course_utils.memory import process_rss_bytes; before = process_rss_bytes(); "
        "block = torch.ones(50_000_000, dtype=torch.uint8); print(process_rss_bytes() - before)"
    )
    grown = int(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout)
    assert 40_000_000 < grown < 200_000_000  # 50 MB touched


def test_a_real_model_matches_the_arithmetic():
    folder = packaged_classifier_dir()
    model = AutoModel.from_pretrained(folder)
    trainable, total = memory.count_parameters(model)
    assert trainable == total and 22_000_000 < total < 23_500_000
    # float32 footprint = 4 bytes per parameter (plus a few kB of buffers)
    assert model.get_memory_footprint() == pytest.approx(memory.estimate_model_bytes(total, "fp32"), rel=0.001)
    assert memory.format_bytes(model.get_memory_footprint()) == "90.9 MB"
    half = AutoModel.from_pretrained(folder, dtype=torch.bfloat16)
    assert half.get_memory_footprint() == pytest.approx(memory.estimate_model_bytes(total, "bf16"), rel=0.001)


def test_nf4_footprint_only_shrinks_the_linear_layers():
    pytest.importorskip("bitsandbytes")
    folder = packaged_classifier_dir()
    config = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.float32,
        llm_int8_skip_modules=["classifier"],
    )  # a quantized fresh head crashes forward
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2, quantization_config=config)
    _, total = memory.count_parameters(model)
    quantized = sum(p.numel() * 2 for p in model.parameters() if p.__class__.__name__ == "Params4bit")
    assert 10_000_000 < quantized < 11_000_000  # the encoder's Linear weights; embeddings stay float32
    # get_memory_footprint counts the packed 4-bit weights but not their block scales (not parameters)
    expected = quantized * memory.BYTES_PER_PARAM["nf4"] + memory.estimate_model_bytes(total - quantized, "fp32")
    assert model.get_memory_footprint() == pytest.approx(expected, rel=0.001)
    assert memory.format_bytes(model.get_memory_footprint()) == "53.2 MB"
    # ... memory.quant_state_bytes adds them: with double quantization about 0.127 bit per quantized weight
    scales = memory.quant_state_bytes(model)
    overhead_bits = memory.block_overhead_bits(double_quant=True)
    n_layers = sum(p.__class__.__name__ == "Params4bit" for p in model.parameters())
    # plus, per layer, its code books (16 and 256 float32 values) and a few constants
    assert quantized * overhead_bits / 8 <= scales <= quantized * overhead_bits / 8 + n_layers * 1200
    tokens = {"input_ids": torch.tensor([[101, 2307, 2143, 102]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    with torch.no_grad():
        assert model(**tokens).logits.shape == (1, 2)


def test_quantization_backend_reports_the_version_or_the_install_command(monkeypatch):
    import sys

    from course_utils.errors import CourseError

    assert memory.quantization_backend().count(".") >= 1  # bitsandbytes is in the quant extra CI installs
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # what Python does for a package that is not installed
    with pytest.raises(CourseError, match=r"pip install 'bitsandbytes>=0\.46\.1'"):
        memory.quantization_backend()


@pytest.mark.slow
def test_fresh_process_load_reports_footprint_and_process_memory():
    """Lesson 5's process-memory column: the child reloads the notebook's config object and measures it."""
    from course_utils.gguf_conversion import converted_model_dir

    folder = converted_model_dir()
    full = memory.load_in_fresh_process(folder)
    config = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.float32,
    )
    nf4 = memory.load_in_fresh_process(folder, config)
    assert full["footprint_bytes"] == pytest.approx(memory.estimate_model_bytes(134_515_008, "fp32"), rel=0.001)
    # the embedding (28.3M parameters, tied to the output layer) stays float32: 3-3.5x, not 8x
    assert 3.0 < full["footprint_bytes"] / nf4["footprint_bytes"] < 3.5
    for report in (full, nf4):
        assert report["load_seconds"] > 0
        assert report["peak_rss_bytes"] >= report["rss_after_load_bytes"] > report["rss_before_load_bytes"] > 0
    assert full["peak_rss_bytes"] - full["rss_before_load_bytes"] > full["footprint_bytes"] * 0.9  # weights touched


def test_fresh_process_load_failure_says_what_to_do(tmp_path):
    from course_utils.errors import CourseError

    with pytest.raises(
        CourseError, match=r"fresh process failed: OSError: .*no-such-model.*\nFix: run the same from_pretrained"
    ):
        memory.load_in_fresh_process(tmp_path / "no-such-model", timeout=300)


def test_fresh_process_training_failure_says_it_was_training(tmp_path):
    from course_utils.errors import CourseError

    with pytest.raises(CourseError, match=r"^Training .*no-such-model \(full fine-tuning\) in a fresh process failed"):
        memory.train_in_fresh_process(str(tmp_path / "no-such-model"), "full fine-tuning", timeout=300)


def test_full_fine_tune_parts_add_the_autocast_copy_only_under_mixed_precision():
    facts = memory.ModelFacts(n_parameters=1000, hidden_size=64, n_layers=2, n_heads=4, vocab_size=100)
    fp32 = memory.full_fine_tune_bytes(facts, batch_size=2, seq_len=8, mixed_precision=False)
    mixed = memory.full_fine_tune_bytes(facts, batch_size=2, seq_len=8, mixed_precision=True)
    assert set(mixed) - set(fp32) == {"16-bit weight copies (autocast)"}
    assert fp32["weights (fp32)"] + fp32["gradients (fp32)"] + fp32["Adam moments (fp32)"] == 16 * 1000
    assert fp32["activations"] > mixed["activations"] > 0  # fp32 activations take twice the bytes


def test_a_childs_peak_memory_is_its_own_not_its_parents():
    """load_in_fresh_process runs from a notebook kernel that may hold gigabytes: the child must not report them."""
    import subprocess
    import sys

    ballast = torch.ones(600_000_000, dtype=torch.uint8)  # 600 MB touched in this (the parent) process
    child = "from course_utils.fresh_process import peak_rss_bytes; print(peak_rss_bytes())"
    peak = int(subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout)
    del ballast
    assert 1_000_000 < peak < 400_000_000


def test_training_peak_in_a_fresh_process_counts_gradients_and_optimizer_state(tmp_path):
    """Full fine-tuning holds gradients and Adam state for every weight; LoRA only for its adapters."""
    pytest.importorskip("peft")
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=8000, hidden_size=512, intermediate_size=1024, num_hidden_layers=4, num_attention_heads=8
    )
    model = LlamaForCausalLM(config)
    n_parameters = sum(p.numel() for p in model.parameters())
    model.save_pretrained(tmp_path)
    lora = {"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"], "task_type": "CAUSAL_LM"}
    full = memory.train_in_fresh_process(str(tmp_path), "full fine-tuning", batch_size=2, seq_len=32, steps=1)
    adapters = memory.train_in_fresh_process(str(tmp_path), "LoRA", lora=lora, batch_size=2, seq_len=32, steps=1)
    for report in (full, adapters):
        assert report["rss_before_load_bytes"] < report["rss_after_load_bytes"] <= report["peak_rss_bytes"]
    # gradients (4 B) + two Adam moments (8 B) per weight, at least, on top of what LoRA needs
    assert full["peak_rss_bytes"] - adapters["peak_rss_bytes"] > 0.75 * 12 * n_parameters
