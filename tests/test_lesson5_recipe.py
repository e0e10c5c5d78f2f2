"""Lesson 5 on the standard instruction-tuning recipe: loss on the answer only, a model that learns to stop (and one
that cannot), LoRA and QLoRA compared like with like, generation timed like with like.

The helpers are tested directly on tiny models; what the lesson claims about its own runs is read from what it
recorded on `ci` (`tests/test_lesson_figures.run_lesson`).
"""

import json
import re
from pathlib import Path

import pytest
import torch
import yaml
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

import course_utils
from course_utils import causal_lm, gpu, instructions, qlora
from tests.runtimes import make_runtime
from tests.test_lesson_figures import course_cache, run_lesson  # noqa: F401  (course_cache is a fixture)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_quantized_loading.ipynb"
BANK = ROOT / "quizzes" / "bank" / "lesson5.yml"


@pytest.fixture(scope="module")
def tokenizer():
    """A real offline tokenizer that adds its own special tokens ([CLS] ... [SEP]): the hard case for a boundary."""
    return AutoTokenizer.from_pretrained(course_utils.classifier_checkpoint(make_runtime("ci", online=False)))


def tiny_llama(vocab_size: int, layers: int = 2, seed: int = 0):
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=128,
    )
    return LlamaForCausalLM(config)


def notebook_cells(kind: str) -> list[str]:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == kind]


# Item 1: labels on the answer and its end marker only.
def test_labels_cover_the_answer_and_end_marker_only(tokenizer):
    row = instructions.tokenize_for_answer_loss(tokenizer, "What is a computer?", "A machine.", max_length=64)
    prompt_ids = tokenizer(instructions.format_prompt("What is a computer?"))["input_ids"]
    n_prompt = len(prompt_ids)
    assert row["input_ids"][:n_prompt] == prompt_ids  # the prompt as generation tokenizes it
    assert row["labels"][:n_prompt] == [-100] * n_prompt
    learned = [i for i, label in zip(row["input_ids"], row["labels"]) if label != -100]
    assert learned == row["labels"][n_prompt:]
    text = tokenizer.decode(learned)
    assert "machine" in text and "end" in text.lower() and "question" not in text.lower()
    assert len(row["attention_mask"]) == len(row["input_ids"]) == len(row["labels"])


def test_masking_the_end_marker_removes_only_its_labels(tokenizer):
    kept = instructions.tokenize_for_answer_loss(tokenizer, "Hi", "Hello there.", max_length=64)
    masked = instructions.tokenize_for_answer_loss(tokenizer, "Hi", "Hello there.", max_length=64, label_end=False)
    end_ids = tokenizer(instructions.END_MARKER, add_special_tokens=False)["input_ids"]
    assert masked["input_ids"] == kept["input_ids"]
    assert masked["labels"][-len(end_ids) :] == [-100] * len(end_ids)
    assert kept["labels"][-len(end_ids) :] == end_ids
    assert masked["labels"][: -len(end_ids)] == kept["labels"][: -len(end_ids)]
    assert 0 < instructions.label_share([masked["labels"]]) < instructions.label_share([kept["labels"]]) < 1


# Item 7: generation measured in eval mode, prefill apart, a fixed number of new tokens, GPU timers synchronized.
def test_decode_rate_counts_a_fixed_number_of_tokens_in_eval_mode():
    model = tiny_llama(vocab_size=100)
    model.train()
    generated = []
    original = model.generate

    def counting_generate(*args, **kwargs):
        output = original(*args, **kwargs)
        generated.append((model.training, output.shape[1] - kwargs["input_ids"].shape[1]))
        return output

    model.generate = counting_generate
    rate = causal_lm.decode_rate(model, torch.tensor([[1, 2, 3, 4]]), new_tokens=6, pad_token_id=0)
    assert [tokens for _, tokens in generated] == [2, 1, 6]  # warm-up, prefill, the timed run
    assert not any(training for training, _ in generated)
    assert rate["prefill_s"] > 0 and rate["decode_tokens_per_s"] > 0 and rate["new_tokens"] == 6


def test_synchronize_waits_for_a_gpu_only(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    causal_lm.synchronize(torch.device("cpu"))
    assert calls == []
    causal_lm.synchronize(torch.device("cuda", 0))
    assert calls == [torch.device("cuda", 0)]


def test_answer_switches_to_eval_mode_and_reports_the_end_marker(tokenizer):
    model = tiny_llama(vocab_size=len(tokenizer))
    model.train()
    text, ended = causal_lm.answer(model, tokenizer, "What is a computer?", max_new_tokens=5)
    assert model.training is False
    assert isinstance(text, str) and ended is False  # random weights do not write "### End" in 5 tokens


# Item 5: the input-gradient hook is a workaround for RE-ENTRANT checkpointing.
def test_adapters_get_gradients_without_the_hook_unless_checkpointing_is_reentrant():
    from peft import LoraConfig, get_peft_model

    model = tiny_llama(vocab_size=100)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    model = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    reached, total = qlora.adapters_with_gradient(model, ids)
    assert reached == total > 0  # no checkpointing: every adapter, no hook
    qlora.checkpoint_blocks(model, use_reentrant=False)
    assert qlora.adapters_with_gradient(model, ids) == (total, total)  # non-re-entrant: every adapter too
    qlora.checkpoint_blocks(model, use_reentrant=True)
    assert qlora.adapters_with_gradient(model, ids) == (0, total)  # re-entrant without the hook: blocks cut off
    model.enable_input_require_grads()  # the hook prepare_model_for_kbit_training registers
    assert qlora.adapters_with_gradient(model, ids) == (total, total)


def test_checkpointing_without_the_hook_works_where_the_release_added_none(monkeypatch):
    """4.57 adds no input-gradient hook to a plain model and its `disable_input_require_grads` then fails."""
    model = tiny_llama(vocab_size=100)
    removed = []

    def disable_as_in_4_57():
        model._require_grads_hook.remove()  # AttributeError when no hook was ever registered
        removed.append(True)

    monkeypatch.setattr(model, "disable_input_require_grads", disable_as_in_4_57)
    monkeypatch.setattr(model, "enable_input_require_grads", lambda: None)  # 4.57: checkpointing adds no hook
    for name in ("_require_grads_hook", "_require_grads_hooks"):
        if hasattr(model, name):
            monkeypatch.delattr(model, name)
    qlora.checkpoint_blocks(model, use_reentrant=True)  # no hook: no error
    assert removed == []
    model._require_grads_hook = model.get_input_embeddings().register_forward_hook(lambda *args: None)
    qlora.checkpoint_blocks(model, use_reentrant=True)  # a hook there: removed
    assert removed == [True]


# Items 3 and 4: one optimizer for every method, and no paged optimizer where it pages nothing.
@pytest.mark.parametrize("capability", [(7, 5), (8, 0), (9, 0)])
def test_gpu_plans_use_one_unpaged_optimizer(capability):
    device = gpu.DeviceProperties("GPU", capability, 16 * gpu.GIB, 15 * gpu.GIB)
    plan = gpu.precision_plan(device)
    assert "paged" not in plan.optimizer and plan.optimizer.startswith("adamw_torch")


def test_lesson_compares_like_with_like_in_its_code():
    code = "\n".join(notebook_cells("code"))
    assert "optim=plan.optimizer," in code  # no optimizer chosen per method
    assert "gradient_checkpointing=False" in code
    calls = re.findall(r"prepare_model_for_kbit_training\(([^\n]*)\)", code)
    assert calls and all("use_gradient_checkpointing=False" in call for call in calls), calls
    # LoRA's frozen base is loaded in the compute dtype, like QLoRA's; only full fine-tuning keeps fp32.
    assert 'dtype=torch.float32 if method == "full fine-tuning" else compute_dtype' in code
    # Every 4-bit config names its type: the default is fp4, not NF4.
    configs = re.findall(r"BitsAndBytesConfig\(\s*load_in_4bit=True.*?\n\s*\)", code, flags=re.S)
    assert configs and all('bnb_4bit_quant_type="nf4"' in config for config in configs)
    # Every CUDA call runs only under `if device` (None on a CPU).
    assert [call for cell in notebook_cells("code") for call in cuda_calls_outside_device_checks(cell)] == []


def cuda_calls_outside_device_checks(code: str) -> list[str]:
    """torch.cuda.* calls in `code` that no enclosing `if device` guards."""
    import ast

    def without_magic(line: str) -> str:  # IPython's %pip is not Python
        stripped = line.lstrip()
        return line[: len(line) - len(stripped)] + "pass" if stripped.startswith(("%", "!")) else line

    source = "\n".join(without_magic(line) for line in code.splitlines())
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    unguarded = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).startswith("torch.cuda."):
            ancestor, guarded = node, False
            while ancestor in parents and not guarded:
                child, ancestor = ancestor, parents[ancestor]
                guarded = (
                    isinstance(ancestor, ast.If) and "device" in ast.unparse(ancestor.test) and child in ancestor.body
                )
            if not guarded:
                unguarded.append(ast.unparse(node))
    return unguarded


def test_the_guard_check_finds_an_unguarded_cuda_call():
    assert cuda_calls_outside_device_checks("torch.cuda.synchronize()\nif device:\n    torch.cuda.empty_cache()") == [
        "torch.cuda.synchronize()"
    ]


# Item 6 (prose), item 9 (quiz) and size.
def test_lesson_prose_states_the_facts_it_is_checked_for():
    prose = "\n".join(notebook_cells("markdown"))
    assert 'the default type is `"fp4"`' in prose
    assert "2.2x on a T4 (bitsandbytes 0.40.0 release notes)" in prose
    assert "Q4_1" in prose  # the offline baseline is named
    assert "re-entrant" in prose and "peft/utils/other.py" in prose
    assert "SFTTrainer" in prose and "completion_only_loss" in prose
    assert "moves it\nto CPU memory" not in prose and "instead of crashing" not in prose
    assert len(re.sub(r"```.*?```", "", prose, flags=re.S).split()) <= 2000


def test_quiz_bank_asks_no_question_on_one_cpu_familys_bug():
    bank = yaml.safe_load(BANK.read_text())
    text = json.dumps(bank)
    assert "much less smaller" not in text
    assert "repack" not in text.lower() and "AVX" not in text
    assert [question["id"] for question in bank["questions"]] == ["q1", "q2", "q3", "q4", "q5"]


# What the lesson recorded on ci.
@pytest.mark.slow
def test_lesson5_records_like_with_like_runs(course_cache, tmp_path, monkeypatch):  # noqa: F811
    measured = run_lesson("lesson5", course_cache, tmp_path, monkeypatch)
    assert 0 < measured["answer_token_share"] < 0.7  # the prompt carries no loss
    assert measured["baseline_from_q4_gguf"] is True  # ci runs the packaged model
    runs = measured["fine_tuning"]
    assert set(runs) >= {"LoRA", "QLoRA", "LoRA, end marker masked"}
    assert len({run["optimizer"] for run in runs.values()}) == 1
    assert not any(run["gradient_checkpointing"] for run in runs.values())
    assert runs["LoRA"]["frozen_dtypes"] == ["torch.float32"]  # the CPU plan's compute dtype
    for row in measured["loading"].values():
        assert row["new_tokens"] > 1 and row["prefill_s"] > 0 and row["decode_tokens_per_s"] > 0
        assert row["ended"] == [False] * len(row["ended"])  # the format is new to the model before training
    for method, peak in measured["loaded_forward_peak_mb"].items():
        footprint = measured["loading"]["full precision (fp32)"]["footprint_mb"]
        if method != "QLoRA":
            assert peak > footprint, (method, peak, footprint)  # the loading peak holds the model it loaded
