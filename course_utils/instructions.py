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
