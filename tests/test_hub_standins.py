"""The Hub path, run offline: course_dev/hub_standins.py builds a Hugging Face cache laid out as the Hub leaves it,
with STAND-INS under the real ids (small models from the packaged assets; Rotten Tomatoes with the Hub's split
sizes). Here the lessons' own calls -- `from_pretrained(id)`, `AutoTokenizer`, `load_dataset(id)` -- are shown to
read them with HF_HUB_OFFLINE=1, and the stand-ins to behave like the real repositories where the lessons care:
bert-base-uncased carries pretraining heads the classifier does not use; the TinyLlama base tokenizer has no chat
template and the chat one has one.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_dev import hub_standins

ROOT = Path(__file__).resolve().parents[1]
STANDINS = ROOT / ".cache" / "hub-standins"  # shared with the Colab stand-in (tests/test_colab.py)

PROBE = r"""
import json
from collections import Counter

from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

import course_utils
from course_utils import checkpoints, data

found = {}
model, info = AutoModelForSequenceClassification.from_pretrained(
    checkpoints.HUB_BASE_CLASSIFIER, num_labels=2, output_loading_info=True
)
found["bert_unexpected"] = sorted({key.split(".")[1] for key in info["unexpected_keys"] if key.startswith("cls.")})
found["bert_new"] = sorted(info["missing_keys"])
found["minilm_layers"] = AutoModelForSequenceClassification.from_pretrained(
    checkpoints.HUB_SMALL_CLASSIFIER, num_labels=2
).config.num_hidden_layers
for name in (checkpoints.HUB_FULL_CAUSAL_LM, checkpoints.HUB_FULL_CHAT_TEMPLATE, checkpoints.HUB_SMALL_CAUSAL_LM):
    tokenizer = AutoTokenizer.from_pretrained(name)
    found[name] = tokenizer.chat_template is not None
messages = [{"role": "user", "content": "Hello"}]
chat = AutoTokenizer.from_pretrained(checkpoints.HUB_FULL_CHAT_TEMPLATE)
found["chat_prompt"] = chat.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
found["lm_type"] = AutoModelForCausalLM.from_pretrained(checkpoints.HUB_FULL_CAUSAL_LM).config.model_type
rt = course_utils.setup(verbose=False)
dataset = course_utils.load_rotten_tomatoes(rt)
found["models"] = rt.models
found["sizes"] = {split: len(rows) for split, rows in dataset.items()}
found["positive"] = {split: Counter(rows["label"])[1] for split, rows in dataset.items()}
found["same_features"] = all(rows.features == data.FEATURES for rows in dataset.values())
found["direct"] = len(load_dataset(data.HUB_DATASET, split="test"))
print("RESULT" + json.dumps(found))
"""


@pytest.fixture(scope="module")
def standins() -> Path:
    hub_standins.build(STANDINS)
    return STANDINS


def test_builder_is_idempotent_and_lays_out_the_hub_cache(standins):
    stamp = json.loads((standins / hub_standins.STAMP).read_text())
    again = hub_standins.build(standins)  # nothing to do: same stamp back
    assert again == stamp
    repo = standins / "hub" / "models--TinyLlama--TinyLlama-1.1B-Chat-v1.0"
    revision = (repo / "refs" / "main").read_text()
    snapshot = repo / "snapshots" / revision
    assert (snapshot / "config.json").is_symlink() and (snapshot / "config.json").resolve().parent == repo / "blobs"
    prepared = standins / "datasets" / "cornell-movie-review-data___rotten_tomatoes" / "default" / "0.0.0"
    (folder,) = prepared.iterdir()
    assert {path.name for path in folder.iterdir()} >= {"dataset_info.json", "rotten_tomatoes-train.arrow"}


def test_balanced_splits_are_drawn_without_replacement():
    pairs = [(f"bad {i}", 0) for i in range(7)] + [(f"good {i}", 1) for i in range(9)]
    splits = hub_standins.balanced_hub_splits(pairs, {"train": 8, "test": 4})
    texts = [text for rows in splits.values() for text, _ in rows]
    assert len(texts) == len(set(texts)) == 12
    assert all(sum(label for _, label in rows) * 2 == len(rows) for rows in splits.values())
    with pytest.raises(ValueError, match="without replacement"):
        hub_standins.balanced_hub_splits(pairs, {"train": 16})


@pytest.mark.slow
def test_lessons_calls_read_the_stand_ins_offline_under_the_real_ids(standins, tmp_path):
    env = dict(
        os.environ,
        HF_HOME=str(standins),
        HF_HUB_OFFLINE="1",
        COURSE_MODELS="hub-full",
        COURSE_PROFILE="ci",
        HF_HUB_CACHE=str(standins / "hub"),
        HF_DATASETS_CACHE=str(standins / "datasets"),
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = json.loads(result.stdout.split("RESULT", 1)[1])
    # bert-base-uncased's stand-in, like the real checkpoint, carries both pretraining heads a classifier drops.
    assert found["bert_unexpected"] == ["predictions", "seq_relationship"]
    assert "classifier.weight" in found["bert_new"]
    assert found["minilm_layers"] == 6 and found["lm_type"] == "llama"
    assert found["TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"] is False  # the base tokenizer: no template
    assert found["TinyLlama/TinyLlama-1.1B-Chat-v1.0"] is True
    assert found["HuggingFaceTB/SmolLM2-135M-Instruct"] is True
    assert found["chat_prompt"].startswith("<|user|>\nHello") and found["chat_prompt"].rstrip().endswith(
        "<|assistant|>"
    )
    assert found["models"] == "hub-full" and found["same_features"]
    assert found["sizes"] == {"train": 8530, "validation": 1066, "test": 1066} and found["direct"] == 1066
    assert found["positive"] == {"train": 4265, "validation": 533, "test": 533}
