"""Instruction data for the LLM lessons: prompt/response pairs from the packaged chatterbot corpus."""

from __future__ import annotations

import random
from pathlib import Path

from .assets import packaged_path

CHATTERBOT_MODULE = "chatterbot_corpus"
CHATTERBOT_PIP_NAME = "chatterbot-corpus"


def chatterbot_english_dir(module_name: str | None = None) -> Path:
    return packaged_path(module_name or CHATTERBOT_MODULE, "data/english", CHATTERBOT_PIP_NAME)


def instruction_pairs_from_yaml(path: Path) -> list[dict[str, str]]:
    """Consecutive (statement, reply) pairs of every conversation in one chatterbot yml file.

    The BaseLoader keeps every value a string (plain YAML would turn a reply of `Yes` into True).
    A conversation of n statements gives n-1 pairs; blank statements and malformed entries are skipped.
    """
    import yaml

    with open(path, encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=yaml.BaseLoader) or {}
    pairs = []
    conversations = document.get("conversations", []) if isinstance(document, dict) else []
    for conversation in conversations:
        if not isinstance(conversation, list):  # e.g. a bare string (one in trivia.yml)
            continue
        for prompt, response in zip(conversation, conversation[1:]):
            if not isinstance(prompt, str) or not isinstance(response, str):
                continue
            prompt, response = prompt.strip(), response.strip()
            if prompt and response:
                pairs.append({"prompt": prompt, "response": response})
    return pairs


def load_instruction_pairs(n: int | None = None, seed: int = 0, module_name: str | None = None):
    """Prompt/response pairs from the chatterbot English corpus as a `datasets.Dataset` (columns prompt, response).

    Shuffled with `seed`; `n` keeps the first n after shuffling (None: all, about 2,400 pairs).
    """
    from datasets import Dataset

    pairs = []
    for path in sorted(chatterbot_english_dir(module_name).glob("*.yml")):
        pairs.extend(instruction_pairs_from_yaml(path))
    random.Random(seed).shuffle(pairs)
    if n is not None:
        pairs = pairs[:n]
    return Dataset.from_dict(
        {
            "prompt": [pair["prompt"] for pair in pairs],
            "response": [pair["response"] for pair in pairs],
        }
    )


# A plain instruction format with its own end marker: no chat template, so a base model and an instruction-tuned
# one both meet it for the first time, and "does the model end its answer?" has an answer before training (no).
QUESTION_HEADER = "### Question:\n"
ANSWER_HEADER = "\n\n### Answer:\n"
END_MARKER = "\n### End"


def format_prompt(question: str) -> str:
    """What the model sees before its answer, at training and at generation alike."""
    return f"{QUESTION_HEADER}{question}{ANSWER_HEADER}"


def tokenize_for_answer_loss(tokenizer, prompt: str, response: str, max_length: int, label_end: bool = True) -> dict:
    """Token ids of prompt + answer + end marker, with labels on the answer and the end marker only.

    The prompt's labels are -100 (the loss ignores them), as in the standard instruction-tuning recipe (TRL's
    `completion_only_loss`). The prompt is tokenized as generation will tokenize it (the tokenizer's own special
    tokens, a BOS where it adds one), the answer and the marker without any, so the boundary is exact.
    `label_end=False` masks the end marker too: the counter-experiment of a model never taught to stop.
    """
    prompt_ids = list(tokenizer(format_prompt(prompt))["input_ids"])
    answer_ids = list(tokenizer(response, add_special_tokens=False)["input_ids"])
    end_ids = list(tokenizer(END_MARKER, add_special_tokens=False)["input_ids"])
    input_ids = prompt_ids + answer_ids + end_ids
    labels = [-100] * len(prompt_ids) + answer_ids + (end_ids if label_end else [-100] * len(end_ids))
    return {
        "input_ids": input_ids[:max_length],
        "attention_mask": [1] * min(len(input_ids), max_length),
        "labels": labels[:max_length],
    }


def label_share(labelled: list[list[int]]) -> float:
    """The share of tokens that carry a label (not -100), over a list of label rows."""
    total = sum(len(row) for row in labelled)
    return sum(label != -100 for row in labelled for label in row) / max(total, 1)
