"""Which checkpoint a lesson loads: the seed's Hub names online, the packaged stand-ins offline.

Every lesson passes what these functions return to `from_pretrained(...)` itself, so the API it teaches stays visible.
"""

from __future__ import annotations

from .assets import packaged_classifier_dir

HUB_BASE_CLASSIFIER = "bert-base-uncased"  # the seed lesson's checkpoint, used on a GPU
HUB_SMALL_CLASSIFIER = "sentence-transformers/all-MiniLM-L6-v2"  # the same weights as the packaged model
HUB_GPU_CAUSAL_LM = "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"  # the book's QLoRA chapter (base model)
HUB_GPU_CHAT_TEMPLATE = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"  # the book takes the chat template from this tokenizer
HUB_SMALL_CAUSAL_LM = "HuggingFaceTB/SmolLM2-135M-Instruct"  # same weights as the packaged GGUF (before Q4_1)


def classifier_checkpoint(rt) -> str:
    """What to pass to `from_pretrained` for the sentiment lessons.

    gpu + Hub: the seed's bert-base-uncased; cpu/ci + Hub: MiniLM from the Hub; offline: the packaged MiniLM folder.
    """
    if rt.hub_online:
        return HUB_BASE_CLASSIFIER if rt.profile == "gpu" else HUB_SMALL_CLASSIFIER
    return str(packaged_classifier_dir())


def causal_lm_checkpoint(rt) -> str:
    """What to pass to `AutoModelForCausalLM.from_pretrained` / `AutoTokenizer.from_pretrained`.

    gpu + Hub: the book's TinyLlama base model (its tokenizer has no chat template: see `chat_template_checkpoint`);
    cpu/ci + Hub: SmolLM2-135M-Instruct; offline: the packaged SmolLM2, converted once into the course cache.
    """
    if rt.hub_online:
        return HUB_GPU_CAUSAL_LM if rt.profile == "gpu" else HUB_SMALL_CAUSAL_LM
    from .gguf_conversion import converted_model_dir  # converts once, on first use

    return str(converted_model_dir())


def chat_template_checkpoint(rt) -> str:
    """Whose tokenizer provides the chat template: the book borrows TinyLlama-Chat's; SmolLM2-Instruct has its own."""
    if rt.hub_online and rt.profile == "gpu":
        return HUB_GPU_CHAT_TEMPLATE
    return causal_lm_checkpoint(rt)
