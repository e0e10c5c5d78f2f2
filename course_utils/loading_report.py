"""What `from_pretrained` did with the checkpoint's weights, the same way on transformers 4.x and 5.x.

transformers tells you which weights it could not take from the checkpoint, but each major version says it
differently:

- 4.x logs sentences: "Some weights of BertForSequenceClassification were not initialized from the model checkpoint
  at ... and are newly initialized: ['classifier.bias', 'classifier.weight'] ... You should probably TRAIN this
  model ...". Unused checkpoint weights are logged at INFO level (so not shown) unless the model class is the one
  the checkpoint was saved from.
- 5.x logs one "LOAD REPORT" table with a MISSING, UNEXPECTED or MISMATCH row per weight (layers numbered
  0, 1, 2 ... folded into one row).

`from_pretrained(..., output_loading_info=True)` returns the same facts as data in both versions, with small
differences (lists in 4.x, sets in 5.x; 5.x adds the two shapes to each mismatched key). `LoadingReport` reads
either into one form, and `capture_log()` records the text the library logged (optionally without printing it).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CourseError

KINDS = ("missing", "unexpected", "mismatched")
MEANING = {
    "missing": "in the model, not in the checkpoint: newly initialized (random), train them",
    "unexpected": "in the checkpoint, not in the model: not used (dropped)",
    "mismatched": "in both, with different shapes: newly initialized (random), train them",
}
ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")
LAYER_NUMBER = re.compile(r"\.\d+\.")


# Buffers a model rebuilds itself rather than weights: an old checkpoint may still store them. transformers 4.x and
# 5.2+ leave them out of the loading info; 5.0/5.1 list the stored copy as unexpected. Either way nothing is lost.
REBUILT_BUFFERS = ("position_ids",)


def _key_names(entries) -> tuple[str, ...]:
    """Sorted weight names; 5.x gives mismatched keys as (key, checkpoint shape, model shape) tuples."""
    names = (entry[0] if isinstance(entry, tuple) else entry for entry in entries or ())
    return tuple(sorted(name for name in names if name.rsplit(".", 1)[-1] not in REBUILT_BUFFERS))


def fold_layers(keys) -> list[str]:
    """['encoder.layer.0.x', 'encoder.layer.1.x', 'pooler.w'] -> ['encoder.layer.#.x (×2)', 'pooler.w'].

    Layer numbers are folded so that a report about a whole 6-layer body fits in a few lines.
    """
    counts = Counter(LAYER_NUMBER.sub(".#.", key) for key in keys)
    return [f"{pattern} (×{n})" if n > 1 else pattern for pattern, n in sorted(counts.items())]


@dataclass(frozen=True)
class LoadingReport:
    """Which weights `from_pretrained` could not take from the checkpoint (and the text it logged about it)."""

    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()
    log_text: str = field(default="", compare=False)

    @classmethod
    def from_info(cls, info: dict, log_text: str = "") -> LoadingReport:
        """From the dict `from_pretrained(..., output_loading_info=True)` returns (4.x or 5.x), rebuilt buffers
        (`REBUILT_BUFFERS`) left out."""
        if not isinstance(info, dict) or not set(KINDS) <= {key.removesuffix("_keys") for key in info}:
            raise CourseError(
                "That is not a loading-info dict. Fix: call "
                "`model, info = from_pretrained(..., output_loading_info=True)` and pass `info`."
            )
        return cls(*(_key_names(info.get(f"{kind}_keys")) for kind in KINDS), log_text=log_text)

    @property
    def newly_initialized(self) -> tuple[str, ...]:
        """Weights that start random: missing ones and mismatched ones (re-created at the new shape)."""
        return tuple(sorted(self.missing + self.mismatched))

    @property
    def is_clean(self) -> bool:
        """Every weight of the model came from the checkpoint and every checkpoint weight was used."""
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self, limit: int = 8) -> str:
        """A few lines, identical on transformers 4.x and 5.x for the same load."""
        if self.is_clean:
            return "loading report: clean (every weight came from the checkpoint, every checkpoint weight was used)"
        lines = ["loading report:"]
        for kind in KINDS:
            keys = getattr(self, kind)
            if not keys:
                continue
            folded = fold_layers(keys)
            shown = ", ".join(folded[:limit]) + (f", ... ({len(folded) - limit} more)" if len(folded) > limit else "")
            lines.append(f"  {kind} {len(keys)} ({MEANING[kind]}): {shown}")
        return "\n".join(lines)

    def logged_format(self) -> str:
        """How the captured log said it: the 5.x table, the 4.x sentences, or nothing."""
        if "LOAD REPORT" in self.log_text:
            return "5.x 'LOAD REPORT' table"
        if "Some weights of" in self.log_text:
            return "4.x 'Some weights of ...' sentences"
        return "nothing logged"

    def logged_kinds(self) -> set[str]:
        """Which kinds of problem the captured log text mentions (to check it against the data)."""
        text = self.log_text
        found = set()
        if re.search(r"\| MISSING\b", text) or re.search(r"newly initialized: \[", text):
            found.add("missing")
        if re.search(r"\| UNEXPECTED\b", text) or "were not used when initializing" in text:
            found.add("unexpected")
        if re.search(r"\| MISMATCH\b", text) or "the shapes did not match" in text:
            found.add("mismatched")
        return found

    def require_only_new(self, *prefixes: str, unexpected_ok: tuple[str, ...] = ()) -> LoadingReport:
        """Raise unless the only new weights start with one of `prefixes` (the head: `head_prefixes(model)`) and the
        only unused ones with one of `prefixes + unexpected_ok` (a pretraining head such as bert-base-uncased's
        `cls.`: `pretraining_head_prefixes(model.config)`).

        Use it whenever you silence the loading messages: the warning you expect (a new head, a dropped pretraining
        head) passes, a real problem (the body not loaded, a wrong checkpoint) stops the notebook instead of
        training a random model.
        """
        surprises = [key for key in self.newly_initialized if not key.startswith(prefixes)]
        surprises += [key for key in self.unexpected if not key.startswith(prefixes + tuple(unexpected_ok))]
        if surprises:
            allowed = ", ".join(prefixes + tuple(unexpected_ok))
            raise CourseError(
                f"{len(surprises)} weight(s) outside {allowed} were not loaded as expected "
                f"({', '.join(fold_layers(surprises)[:4])}, ...): the checkpoint does not fit this model. "
                "Fix: check the checkpoint path and model class, and read the full report.\n" + self.summary()
            )
        return self


def head_prefixes(model) -> tuple[str, ...]:
    """The top-level modules of `model` outside its pretrained body (`base_model_prefix`): its task head.

    BERT: ('classifier.',); DistilBERT: ('classifier.', 'pre_classifier.'); RoBERTa: ('classifier.',), whose
    `classifier` holds `dense` and `out_proj`.
    """
    body = model.base_model_prefix + "."
    return tuple(
        sorted({name.split(".")[0] + "." for name, _ in model.named_parameters() if not name.startswith(body)})
    )


def pretraining_head_prefixes(config) -> tuple[str, ...]:
    """The heads the architecture's pretraining class adds to the body (BERT: ('cls.',); RoBERTa: ('lm_head.',)).

    A checkpoint saved from that class carries them, and a classifier loaded from it reports them as unexpected:
    that is normal. Built on the meta device from `config`: no memory, no download.
    """
    import torch
    from transformers import AutoModelForMaskedLM, AutoModelForPreTraining

    for auto_class in (AutoModelForPreTraining, AutoModelForMaskedLM):
        try:
            with torch.device("meta"):
                model = auto_class.from_config(config)
        except (ValueError, KeyError):
            continue
        return head_prefixes(model)
    return ()


class CapturedLog:
    """The text transformers logged inside a `capture_log()` block (ANSI colour codes removed)."""

    def __init__(self) -> None:
        self._stream = io.StringIO()

    @property
    def text(self) -> str:
        return ANSI_CODES.sub("", self._stream.getvalue())


@contextlib.contextmanager
def capture_log(echo: bool = True):
    """Record what transformers logs at WARNING level or above inside the block.

    echo=True: the messages are still printed as usual. echo=False: they are kept out of the output (silenced)
    but still recorded, so `LoadingReport(..., log_text=captured.text)` can be checked instead of ignored.
    Works whatever verbosity the notebook set: inside the block warnings are always produced.
    """
    library_logger = logging.getLogger("transformers")
    captured = CapturedLog()
    handler = logging.StreamHandler(captured._stream)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(message)s"))
    old_level = library_logger.level
    old_handlers = list(library_logger.handlers)
    if not echo:
        for other in old_handlers:
            library_logger.removeHandler(other)
    if library_logger.getEffectiveLevel() > logging.WARNING:  # silenced with set_verbosity_error(): still record
        library_logger.setLevel(logging.WARNING)
    library_logger.addHandler(handler)
    try:
        yield captured
    finally:
        library_logger.removeHandler(handler)
        library_logger.setLevel(old_level)
        if not echo:
            for other in old_handlers:
                library_logger.addHandler(other)


# --------------------------------------------------------------------------------------------------------------
# The checkpoint's own tensors, to check the report against
# --------------------------------------------------------------------------------------------------------------
def checkpoint_tensors(checkpoint: str | Path) -> dict:
    """The tensors stored in a checkpoint's safetensors file(s): a local folder, or a Hub name (cached download)."""
    from safetensors.torch import load_file

    folder = Path(checkpoint)
    if folder.is_dir():
        files = sorted(folder.glob("*.safetensors"))
    else:
        from huggingface_hub import hf_hub_download

        try:
            files = [Path(hf_hub_download(str(checkpoint), "model.safetensors"))]
        except Exception as error:
            raise CourseError(
                f"Could not download model.safetensors of {checkpoint} ({type(error).__name__}). "
                "Fix: check the name and your network, or pass a local folder."
            ) from error
    if not files:
        raise CourseError(f"{folder} holds no .safetensors file. Fix: save it with `model.save_pretrained(folder)`.")
    tensors = {}
    for path in files:
        tensors.update(load_file(str(path)))
    return tensors


def _checkpoint_name(model_key: str, stored: dict, prefix: str) -> str | None:
    """The checkpoint's name for one model weight: the same name, without or with the base-model prefix."""
    candidates = [model_key]
    if prefix and model_key.startswith(prefix + "."):
        candidates.append(model_key[len(prefix) + 1 :])  # a bare encoder checkpoint (e.g. sentence-transformers)
    elif prefix:
        candidates.append(f"{prefix}.{model_key}")  # a task checkpoint loaded into the bare encoder
    for name in list(candidates):  # very old checkpoints call LayerNorm weight/bias gamma/beta
        if name.endswith("LayerNorm.weight"):
            candidates.append(name.removesuffix("weight") + "gamma")
        elif name.endswith("LayerNorm.bias"):
            candidates.append(name.removesuffix("bias") + "beta")
    return next((name for name in candidates if name in stored), None)


def compare_with_checkpoint(model, stored: dict) -> dict[str, list[str]]:
    """Sort every weight of `model` by what loading did with it, judged from the tensors themselves.

    Returns {"identical": [...], "changed": [...], "not_in_checkpoint": [...], "unused": [...]} (model key names;
    "unused" lists checkpoint names no model weight was taken from).
    """
    import torch

    prefix = getattr(model, "base_model_prefix", "")
    result = {"identical": [], "changed": [], "not_in_checkpoint": []}
    used = set()
    for key, tensor in model.state_dict().items():
        name = _checkpoint_name(key, stored, prefix)
        if name is None:
            result["not_in_checkpoint"].append(key)
            continue
        used.add(name)
        saved = stored[name]
        same = saved.shape == tensor.shape and torch.equal(saved.to(tensor.dtype), tensor.detach().cpu())
        result["identical" if same else "changed"].append(key)
    # A buffer the model rebuilds itself (REBUILT_BUFFERS): old checkpoints still store it, nothing is lost.
    result["unused"] = sorted(name for name in set(stored) - used if name.rsplit(".", 1)[-1] not in REBUILT_BUFFERS)
    return result


def save_with_prefix(model, folder: str | Path, prefix: str = "model.") -> Path:
    """Save `model` as a checkpoint whose weight names all start with `prefix`, as a training wrapper's state
    dict does (a PyTorch Lightning module, DataParallel's "module.", a custom nn.Module holding the model).

    from_pretrained finds none of its weight names in such a file: lesson 4 uses it to show a loading report
    that must not be silenced.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(folder)
    state = {prefix + key: tensor.detach().clone().contiguous() for key, tensor in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder
