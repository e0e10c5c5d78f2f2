"""The releases in the declared range, as wheels: the floors in pyproject.toml, the versions the package index
lists, and each release's wheel downloaded once into the cache (never installed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from packaging.version import Version

from .sources import PACKAGES, ROOT

DEFAULT_CACHE = ROOT / ".cache" / "wheels"


def floors(root: Path = ROOT) -> dict[str, str]:
    """The declared floor of each checked package: its `>=` in pyproject.toml (dependencies or an extra)."""
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        item for extra in project["optional-dependencies"].values() for item in extra
    ]
    found = {}
    for requirement in map(Requirement, requirements):
        for specifier in requirement.specifier:
            if specifier.operator == ">=" and requirement.name in PACKAGES:
                found[requirement.name] = specifier.version
    return found


def index_versions(package: str) -> list[str]:
    """Every version the package index lists (`pip index versions`)."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "index", "versions", package]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    match = re.search(r"^Available versions: (.+)$", done.stdout, re.M)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"`{' '.join(command)}` failed (needs the package index):\n{done.stdout}{done.stderr}")
    return [version.strip() for version in match.group(1).split(",")]


def releases_in_range(versions: list[str], floor: str) -> list[str]:
    """The newest patch of every minor release from `floor` up, oldest first (pre-releases left out)."""
    newest: dict[tuple[int, int], Version] = {}
    floor_version = Version(floor)
    for text in versions:
        version = Version(text)
        if version.is_prerelease or version.is_devrelease or version < floor_version:
            continue
        minor = (version.major, version.minor)
        newest[minor] = max(newest.get(minor, version), version)
    return [str(newest[minor]) for minor in sorted(newest)]


def wheel_path(package: str, version: str, cache: Path) -> Path:
    """The release's wheel, downloaded into `cache` the first time (no dependencies, nothing installed)."""
    stem = re.sub(r"[-_.]+", "_", package).lower()
    matches = sorted(cache.glob(f"{stem}-{version}-*.whl"))
    if not matches:
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "-q", "--no-deps"]
        command += ["--only-binary=:all:", "-d", str(cache), f"{package}=={version}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        matches = sorted(cache.glob(f"{stem}-{version}-*.whl"))
        if done.returncode != 0 or not matches:
            raise RuntimeError(f"`{' '.join(command)}` failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return matches[0]
