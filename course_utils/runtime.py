"""Where is this notebook running, how big should its experiments be, and which checkpoints does it load?

`setup()` answers in one friendly line: it checks the installed library versions against the course's supported
range, detects Colab, a CUDA GPU, CI or pytest, checks whether the Hugging Face Hub is reachable (quickly, never
the long hang of a blocked download), picks a profile (experiment sizes) and a model set (which checkpoints and
data), seeds every random generator and sets CPU threads. On a host with several GPUs it first shows the lessons
one (`one_gpu`), and says so in a line of its own.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .chatter import quiet_library_chatter
from .errors import CourseError
from .one_gpu import use_one_gpu
from .threads import set_threads, short_openmp_waits

HUB_PROBE_URL = "https://huggingface.co/api/models/bert-base-uncased"
HUB_PROBE_SECONDS = 3.0
TRUTHY = {"1", "true", "yes", "on"}

# Profiles: how big a lesson's experiments are.
CI, CPU, GPU = "ci", "cpu", "gpu"
# Model sets: which checkpoints and data a lesson loads (independent of the profile).
PACKAGED, HUB_SMALL, HUB_FULL = "packaged", "hub-small", "hub-full"
MODEL_SETS = (PACKAGED, HUB_SMALL, HUB_FULL)

# The supported range's floors (pyproject.toml and environment.yml carry the same; tests/test_environment.py checks).
# transformers 4.57 is the last 4.x line and the first with everything the lessons call: Trainer(processing_class=),
# from_pretrained(dtype=), TrainingArguments(eval_strategy=). bitsandbytes 0.46.1: what transformers 5.x requires,
# and the first release whose wheel quantizes to 4 bits on a CPU. datasets 5.0.1: accepts both huggingface-hub lines
# (0.x for transformers 4.x, 1.x for 5.x; 5.2 needs 1.31). accelerate 1.3: transformers 4.57's Trainer calls
# `unwrap_model(keep_torch_compile=)`, new in 1.3. peft 0.18: the lessons' LoRA calls on both transformers lines.
# The Colab stand-in (tests/test_colab.py) runs every lesson at these floors.
MINIMUM_VERSIONS = {
    "transformers": "4.57",
    "datasets": "5.0.1",
    "accelerate": "1.3",
    "bitsandbytes": "0.46.1",
    "peft": "0.18",
}


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
    # hidden_dropout_prob and attention_probs_dropout_prob for from_pretrained; None keeps the checkpoint's (0.1).
    # Off on a CPU: its random masks cost about a sixth of a training step there, and over one pass of the data
    # they bought no held-out F1 (lesson 2 measures both; docs/BENCHMARK.md has the seeds).
    dropout: float | None
    logging_steps: int
    # Causal-LM lessons (instruction tuning, quantized loading).
    lm_train_examples: int
    lm_max_length: int
    lm_max_steps: int
    lm_new_tokens: int
    description: str = ""


PROFILES: dict[str, ProfileSettings] = {
    CI: ProfileSettings(
        name=CI,
        train_examples=96,
        eval_examples=64,
        max_length=32,
        epochs=1,
        batch_size=16,
        learning_rate=1e-4,
        dropout=0.0,
        logging_steps=2,
        lm_train_examples=16,
        lm_max_length=64,
        lm_max_steps=2,
        lm_new_tokens=12,
        description="seconds: tiny subsets and a few steps, to prove the code runs",
    ),
    CPU: ProfileSettings(
        name=CPU,
        # 4,000 reviews in batches of 64: 63 steps, as many as 1,000 in batches of 16 took, but each step's matrix
        # products are 4x larger, so the CPU spends its time multiplying (docs/BENCHMARK.md: MFU 0.34 -> 0.5), and the
        # larger sample scores better (F1 0.813 -> 0.84 on the same 500 validation reviews).
        train_examples=4000,
        eval_examples=500,
        max_length=64,
        epochs=1,
        batch_size=64,
        learning_rate=2e-4,
        dropout=0.0,
        logging_steps=8,
        lm_train_examples=200,
        lm_max_length=128,
        lm_max_steps=30,
        lm_new_tokens=40,
        description="minutes on a laptop CPU, with real results",
    ),
    GPU: ProfileSettings(
        name=GPU,
        train_examples=None,
        eval_examples=None,
        max_length=128,
        epochs=1,
        batch_size=16,
        learning_rate=2e-5,
        dropout=None,  # the checkpoint's, as in the seed's full-size recipe
        logging_steps=50,
        lm_train_examples=2000,
        lm_max_length=256,
        lm_max_steps=200,
        lm_new_tokens=64,
        description="the seed book's full-size runs on a Colab GPU",
    ),
}


def env_flag(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether an environment variable is set to a true value (1/true/yes/on, any case), as huggingface_hub reads."""
    return (os.environ if environ is None else environ).get(name, "").strip().lower() in TRUTHY


def in_colab(environ: Mapping[str, str] | None = None) -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in (os.environ if environ is None else environ)


def check_platform(system: str | None = None) -> None:
    """Native Windows lacks the POSIX modules the course uses (fcntl, resource): say where it runs instead.
    WSL reports Linux, so it passes."""
    if (system or sys.platform) == "win32":
        raise CourseError(
            "The course runs on Linux or macOS, not native Windows (it needs fcntl and resource). Fix: open the "
            "course in WSL (https://learn.microsoft.com/windows/wsl/install) or this lesson in Colab from its badge."
        )


def in_ci(environ=None) -> bool:
    return env_flag("CI", environ)


def under_pytest(environ=None) -> bool:
    # nbmake sets no variable of its own, but the kernel inherits pytest's PYTEST_CURRENT_TEST.
    return "PYTEST_CURRENT_TEST" in (os.environ if environ is None else environ)


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def hub_reachable(timeout: float = HUB_PROBE_SECONDS) -> tuple[bool, str]:
    """(reachable, why). Honours HF_HUB_OFFLINE; otherwise one short HTTPS probe in a daemon thread."""
    if env_flag("HF_HUB_OFFLINE"):
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


def _requested(environ: Mapping[str, str], variable: str, choices, kind: str) -> str:
    """The choice `variable` asks for, lower-cased ('' when unset); one not in `choices` is an error naming them."""
    requested = environ.get(variable, "").strip().lower()
    if requested and requested not in choices:
        raise CourseError(f"{variable}={requested!r} is not a {kind}. Fix: set it to one of {', '.join(choices)}.")
    return requested


def choose_profile(cuda: bool, environ=None) -> tuple[str, str]:
    """(profile, why): COURSE_PROFILE wins, then CI/pytest, then the hardware. `environ` defaults to os.environ."""
    requested = _requested(os.environ if environ is None else environ, "COURSE_PROFILE", PROFILES, "profile")
    if requested:
        return requested, f"COURSE_PROFILE={requested}"
    if in_ci(environ):
        return CI, "CI is set"
    if under_pytest(environ):
        return CI, "running under pytest"
    if cuda:
        return GPU, "a CUDA GPU is available"
    return CPU, "no GPU found"


def choose_models(profile: str, hub_online: bool, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(model set, why): COURSE_MODELS wins; else the Hub unreachable means the packaged assets, and a reachable
    Hub means the seed's full-size checkpoints on the gpu profile, the small Hub checkpoints on the others.

    A Hub model set with the Hub unreachable reads the Hugging Face cache (HF_HOME) and fails on what it lacks."""
    requested = _requested(os.environ if environ is None else environ, "COURSE_MODELS", MODEL_SETS, "model set")
    if requested:
        where = "" if hub_online or requested == PACKAGED else ", read from the Hugging Face cache"
        return requested, f"COURSE_MODELS={requested}{where}"
    if not hub_online:
        return PACKAGED, "the Hub is unreachable"
    if profile == GPU:
        return HUB_FULL, "the Hub is reachable and a GPU can train the full-size checkpoints"
    return HUB_SMALL, "the Hub is reachable; small checkpoints fit this profile"


def installed_version(distribution: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def too_old(
    version_of: Callable[[str], str | None] | None = None, minimums: Mapping[str, str] = MINIMUM_VERSIONS
) -> dict[str, str]:
    """{distribution: installed version} for every installed library older than the course's floor.

    A library that is not installed is not reported here (the lesson that needs it says so when it imports it)."""
    from packaging.version import InvalidVersion, Version

    def older(version: str, floor: str) -> bool:
        try:
            return Version(version) < Version(floor)
        except InvalidVersion:  # a local build with a free-form version: trust it
            return False

    version_of = version_of or installed_version
    return {
        name: version
        for name, floor in minimums.items()
        if (version := version_of(name)) is not None and older(version, floor)
    }


def upgrade_command(outdated: Mapping[str, str], colab: bool) -> str:
    """The one pip command that brings every outdated library up to the floor."""
    specifiers = " ".join(f'"{name}>={MINIMUM_VERSIONS[name]}"' for name in outdated)
    return f"{'%pip' if colab else 'pip'} install -U {specifiers}"


def check_versions(version_of: Callable[[str], str | None] | None = None, colab: bool | None = None) -> None:
    """Raise a CourseError naming the one command that fixes it when a library is older than the course supports."""
    outdated = too_old(version_of)
    if not outdated:
        return
    colab = in_colab() if colab is None else colab
    found = ", ".join(f"{name} {version} (needs >= {MINIMUM_VERSIONS[name]})" for name, version in outdated.items())
    restart = ", then restart the runtime (Runtime > Restart session)" if colab else ", then restart the kernel"
    raise CourseError(
        f"This course needs newer libraries: {found}. Fix: run  {upgrade_command(outdated, colab)}{restart}."
    )


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
    models: str
    models_reason: str
    hub_online: bool
    hub_reason: str
    has_cuda: bool
    in_colab: bool
    in_ci: bool
    threads: int
    seed: int
    settings: ProfileSettings = field(repr=False)

    @property
    def device(self) -> str:
        return "cuda" if self.has_cuda else "cpu"

    def summary(self) -> str:
        place = "Colab" if self.in_colab else ("CI" if self.in_ci else "local")
        hub = "Hub online" if self.hub_online else f"Hub offline ({self.hub_reason})"
        return (
            f"course_utils: profile '{self.profile}' ({self.profile_reason}; {self.settings.description}) | "
            f"models '{self.models}' ({self.models_reason}) | "
            f"{place}, {self.device}, {self.threads} CPU thread(s) | {hub} | seed {self.seed}"
        )


def setup(seed: int = 42, verbose: bool = True) -> Runtime:
    """Check library versions, detect the runtime, choose a profile and a model set, seed everything and print one
    line saying what was chosen and why."""
    check_platform()
    check_versions()
    online, hub_reason = hub_reachable()
    if not online:
        go_offline()
    short_openmp_waits()  # before has_cuda() imports torch
    several_gpus = use_one_gpu()  # before has_cuda() starts CUDA, which reads CUDA_VISIBLE_DEVICES once
    cuda = has_cuda()
    profile, profile_reason = choose_profile(cuda)
    models, models_reason = choose_models(profile, online)
    quiet_library_chatter()
    threads = set_threads()
    set_seed(seed)
    runtime = Runtime(
        profile=profile,
        profile_reason=profile_reason,
        models=models,
        models_reason=models_reason,
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
        if several_gpus:
            print(f"course_utils: {several_gpus}")
        print(runtime.summary())
    return runtime
