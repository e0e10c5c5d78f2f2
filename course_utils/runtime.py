"""Where is this notebook running, and how big should its experiments be?

`setup()` answers both in one friendly line: it detects Colab, a CUDA GPU, CI or pytest, checks whether the
Hugging Face Hub is reachable (quickly, never the 45 s hang of a blocked download), picks a profile, seeds
every random generator and sets CPU threads.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import urllib.request
from dataclasses import dataclass, field

HUB_PROBE_URL = "https://huggingface.co/api/models/bert-base-uncased"
HUB_PROBE_SECONDS = 3.0
TRUTHY = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ProfileSettings:
    """How big a lesson's experiments are on one profile. `None` means 'the whole split'."""

    name: str
    train_examples: int | None
    eval_examples: int | None
    max_length: int
    epochs: float
    batch_size: int
    learning_rate: float
    logging_steps: int
    # Causal-LM lessons (instruction tuning, quantized loading).
    lm_train_examples: int
    lm_max_length: int
    lm_max_steps: int
    lm_new_tokens: int
    description: str = ""


PROFILES: dict[str, ProfileSettings] = {
    "ci": ProfileSettings(
        name="ci",
        train_examples=96,
        eval_examples=64,
        max_length=32,
        epochs=1,
        batch_size=16,
        learning_rate=1e-4,
        logging_steps=2,
        lm_train_examples=16,
        lm_max_length=64,
        lm_max_steps=2,
        lm_new_tokens=12,
        description="seconds: tiny subsets and a few steps, to prove the code runs",
    ),
    "cpu": ProfileSettings(
        name="cpu",
        train_examples=1000,
        eval_examples=500,
        max_length=64,
        epochs=1,
        batch_size=16,
        learning_rate=1e-4,
        logging_steps=10,
        lm_train_examples=200,
        lm_max_length=128,
        lm_max_steps=30,
        lm_new_tokens=40,
        description="minutes on a laptop CPU, with real results",
    ),
    "gpu": ProfileSettings(
        name="gpu",
        train_examples=None,
        eval_examples=None,
        max_length=128,
        epochs=1,
        batch_size=16,
        learning_rate=2e-5,
        logging_steps=50,
        lm_train_examples=2000,
        lm_max_length=256,
        lm_max_steps=200,
        lm_new_tokens=64,
        description="the seed book's full-size runs on a Colab GPU",
    ),
}


def _env_flag(name: str, environ=None) -> bool:
    return (os.environ if environ is None else environ).get(name, "").strip().lower() in TRUTHY


def in_colab() -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def in_ci(environ=None) -> bool:
    return _env_flag("CI", environ)


def under_pytest(environ=None) -> bool:
    # nbmake sets no variable of its own, but the kernel inherits pytest's PYTEST_CURRENT_TEST.
    return "PYTEST_CURRENT_TEST" in (os.environ if environ is None else environ)


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def hub_reachable(timeout: float = HUB_PROBE_SECONDS) -> tuple[bool, str]:
    """(reachable, why). Honours HF_HUB_OFFLINE; otherwise one short HTTPS probe in a daemon thread."""
    if _env_flag("HF_HUB_OFFLINE"):
        return False, "HF_HUB_OFFLINE=1 is set"
    outcome: dict[str, object] = {}

    def probe() -> None:
        try:
            with urllib.request.urlopen(HUB_PROBE_URL, timeout=timeout) as response:
                outcome["ok"] = response.status < 500
        except Exception as error:  # any failure means: do not rely on the Hub
            outcome["error"] = error

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if outcome.get("ok"):
        return True, "huggingface.co answered"
    reason = outcome.get("error") or f"no answer within {timeout:.0f} s"
    return (
        False,
        f"huggingface.co is unreachable ({type(reason).__name__ if isinstance(reason, Exception) else reason})",
    )


def go_offline() -> None:
    """Make every Hugging Face library fail fast instead of retrying a blocked network."""
    for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_EVALUATE_OFFLINE"):
        os.environ[variable] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # already imported: its flag was read at import time
        constants.HF_HUB_OFFLINE = True


def choose_profile(cuda: bool, environ=None) -> tuple[str, str]:
    """(profile, why): COURSE_PROFILE wins, then CI/pytest, then the hardware. `environ` defaults to os.environ."""
    environ = os.environ if environ is None else environ
    requested = environ.get("COURSE_PROFILE", "").strip().lower()
    if requested:
        if requested not in PROFILES:
            from .errors import CourseError

            raise CourseError(
                f"COURSE_PROFILE={requested!r} is not a profile. Fix: set it to one of {', '.join(PROFILES)}."
            )
        return requested, f"COURSE_PROFILE={requested}"
    if in_ci(environ):
        return "ci", "CI is set"
    if under_pytest(environ):
        return "ci", "running under pytest"
    if cuda:
        return "gpu", "a CUDA GPU is available"
    return "cpu", "no GPU found"


def physical_cores() -> int:
    try:
        import psutil

        return psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except ImportError:
        return os.cpu_count() or 1


def passive_openmp_waits() -> bool:
    """Make torch's OpenMP threads sleep, not spin, while they wait for each other (before torch loads only).

    Spinning threads are fast on an idle machine, but when another program uses one of the cores every parallel
    operation waits a scheduler time slice (~8 ms) for the thread that lost its core: a small model then trains
    8-50x slower on 2 threads than on 1. Passive waits cost nothing measurable on an idle machine.
    Returns whether the setting applies (False once torch is imported: OpenMP has read its environment).
    """
    if "torch" in sys.modules:
        return os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return os.environ["OMP_WAIT_POLICY"].upper() == "PASSIVE"


def set_threads() -> int:
    """One intra-op thread per physical core, shared among the processes a launcher (torchrun) started on this
    machine; tokenizers' own pool off (it fights torch for the same cores)."""
    import torch

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    local_processes = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    threads = int(os.environ.get("COURSE_THREADS", max(1, physical_cores() // local_processes)))
    torch.set_num_threads(threads)
    return threads


def set_seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@dataclass
class Runtime:
    profile: str
    profile_reason: str
    hub_online: bool
    hub_reason: str
    has_cuda: bool
    in_colab: bool
    in_ci: bool
    threads: int
    seed: int
    settings: ProfileSettings = field(repr=False)

    @property
    def models(self) -> str:
        """Which checkpoints and data: "packaged" offline, else "hub-full" on gpu and "hub-small" elsewhere.

        (Minimal stand-in for the runtime contract's `rt.models`, COURSE_MODELS overriding; infra owns the real one.)
        """
        requested = os.environ.get("COURSE_MODELS", "").strip().lower()
        if requested:
            return requested
        if not self.hub_online:
            return "packaged"
        return "hub-full" if self.profile == "gpu" else "hub-small"

    @property
    def device(self) -> str:
        return "cuda" if self.has_cuda else "cpu"

    def summary(self) -> str:
        place = "Colab" if self.in_colab else ("CI" if self.in_ci else "local")
        hub = "Hub online" if self.hub_online else f"Hub offline ({self.hub_reason}): packaged models and data"
        return (
            f"course_utils: profile '{self.profile}' ({self.profile_reason}; {self.settings.description}) | "
            f"{place}, {self.device}, {self.threads} CPU thread(s) | {hub} | seed {self.seed}"
        )


def setup(seed: int = 42, verbose: bool = True) -> Runtime:
    """Detect the runtime, choose a profile, seed everything and print one line saying what was chosen and why."""
    online, hub_reason = hub_reachable()
    if not online:
        go_offline()
    passive_openmp_waits()  # before has_cuda() imports torch
    cuda = has_cuda()
    profile, profile_reason = choose_profile(cuda)
    threads = set_threads()
    set_seed(seed)
    runtime = Runtime(
        profile=profile,
        profile_reason=profile_reason,
        hub_online=online,
        hub_reason=hub_reason,
        has_cuda=cuda,
        in_colab=in_colab(),
        in_ci=in_ci(),
        threads=threads,
        seed=seed,
        settings=PROFILES[profile],
    )
    if verbose:
        print(runtime.summary())
    return runtime
