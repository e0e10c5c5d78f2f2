"""Which checkpoint a lesson loads, by the runtime's model set (`rt.models`, see `course_utils.setup`):

| model set   | classifier                              | causal LM                                            | chat template from                   |
|-------------|-----------------------------------------|------------------------------------------------------|--------------------------------------|
| `packaged`  | the packaged MiniLM folder              | the packaged SmolLM2, converted into the course cache | the same                             |
| `hub-small` | sentence-transformers/all-MiniLM-L6-v2  | HuggingFaceTB/SmolLM2-135M-Instruct                  | the same                             |
| `hub-full`  | bert-base-uncased (the seed's)          | TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T  | TinyLlama/TinyLlama-1.1B-Chat-v1.0   |

Every lesson passes what these functions return to `from_pretrained(...)` itself, so the API it teaches stays visible.
"""

from __future__ import annotations

from .assets import packaged_classifier_dir
from .runtime import HUB_FULL, HUB_SMALL, PACKAGED

HUB_BASE_CLASSIFIER = "bert-base-uncased"  # the seed lesson's checkpoint
HUB_SMALL_CLASSIFIER = "sentence-transformers/all-MiniLM-L6-v2"  # the same weights as the packaged model
HUB_FULL_CAUSAL_LM = "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"  # the book's QLoRA chapter (base model)
HUB_FULL_CHAT_TEMPLATE = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"  # the book takes the chat template from this tokenizer
HUB_SMALL_CAUSAL_LM = "HuggingFaceTB/SmolLM2-135M-Instruct"  # same weights as the packaged GGUF (before Q4_1)


def _models(rt) -> str:
    if rt.models not in (PACKAGED, HUB_SMALL, HUB_FULL):
        from .errors import CourseError

        raise CourseError(f"rt.models={rt.models!r} is not a model set. Fix: get rt from course_utils.setup().")
    return rt.models


def classifier_checkpoint(rt) -> str:
    """What to pass to `from_pretrained` for the sentiment lessons (see the module's table)."""
    hub_id = {HUB_FULL: HUB_BASE_CLASSIFIER, HUB_SMALL: HUB_SMALL_CLASSIFIER}.get(_models(rt))
    return hub_id or str(packaged_classifier_dir())


def causal_lm_checkpoint(rt) -> str:
    """What to pass to `AutoModelForCausalLM.from_pretrained` / `AutoTokenizer.from_pretrained`.

    hub-full: the book's TinyLlama base model (its tokenizer has no chat template: see `chat_template_checkpoint`).
    """
    hub_id = {HUB_FULL: HUB_FULL_CAUSAL_LM, HUB_SMALL: HUB_SMALL_CAUSAL_LM}.get(_models(rt))
    if hub_id:
        return hub_id
    from .gguf_conversion import converted_model_dir  # converts once, on first use

    return str(converted_model_dir())


def chat_template_checkpoint(rt) -> str:
    """Whose tokenizer provides the chat template: the book borrows TinyLlama-Chat's; SmolLM2-Instruct has its own."""
    if _models(rt) == HUB_FULL:
        return HUB_FULL_CHAT_TEMPLATE
    return causal_lm_checkpoint(rt)
