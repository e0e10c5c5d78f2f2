"""What a Colab student gets (issue 7): a badge that opens the lesson itself, a set-up cell whose pip command
installs the course package and leaves Colab's torch and transformers alone, and no lesson that needs a file
from this repository other than the notebook itself and the installed package.

The badge's form is tools/check_notebooks.py's job (tests/test_notebook_form.py); here the badge target is
followed back to a file. The set-up command is run for real by pip, as a dry run against a wheel built from
this checkout, offline.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import check_notebooks  # tools/, on pytest's pythonpath
import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

LESSONS = check_notebooks.lesson_notebooks()
LESSON_IDS = [path.name for path in LESSONS]
PACKAGE = "fine-tuning-course-utils"
# Colab's own preinstalled stack, which the set-up cell must keep (a CUDA build of torch, among others).
COLAB_KEEPS = ("torch", "transformers")
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
    for name in ("pyproject.toml", "README.md"):
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
    assert requirement.url == f"git+{check_notebooks.repository_url()}", requirement.url
    local = f"{requirement.name}[{','.join(sorted(requirement.extras))}] @ {wheel.as_uri()}"
    return [argument if argument.startswith("-") else local for argument in arguments], requirement


def setup_requirement(arguments: list[str]) -> Requirement:
    requirements = [argument for argument in arguments if not argument.startswith("-")]
    assert len(requirements) == 1, f"expected one requirement in `%pip install {shlex.join(arguments)}`"
    return Requirement(requirements[0])


@pytest.mark.parametrize("notebook", LESSONS, ids=LESSON_IDS)
def test_setup_cell_installs_the_course_package_and_keeps_torch_and_transformers(notebook, wheel, tmp_path):
    """The set-up cell's own pip command, resolved by pip in this environment, which (like Colab) already holds
    torch, transformers and the rest at versions the package accepts. pip's plan must be: install the course
    package (with the cell's extras), and nothing else, so no torch or transformers replaced. On Colab the same
    command also adds what Colab lacks (the [quant] extra's bitsandbytes and gguf, evaluate): below they are
    shown to be among the requirements pip checked. Offline: a pin no installed version satisfies fails here."""
    arguments, requirement = with_local_wheel(setup_pip_arguments(notebook), wheel)
    report = tmp_path / "pip-report.json"
    result = pip("install", *[a for a in arguments if a != "-q"], "--dry-run", "--no-index", "--report", str(report))
    planned = json.loads(report.read_text())["install"]
    assert [(item["metadata"]["name"], item["metadata"]["version"]) for item in planned] == [
        (PACKAGE, importlib.metadata.version(PACKAGE))
    ], f"pip would install {planned}:\n{result.stdout}"
    assert sorted(planned[0].get("requested_extras") or []) == sorted(requirement.extras)

    already = {
        Requirement(match).name for match in re.findall(r"^Requirement already satisfied: (\S+)", result.stdout, re.M)
    }
    wanted = {
        Requirement(item).name
        for item in planned[0]["metadata"]["requires_dist"]
        if Requirement(item).marker is None
        or any(Requirement(item).marker.evaluate({"extra": extra}) for extra in requirement.extras)
    }
    assert set(COLAB_KEEPS) <= already, f"pip did not keep {COLAB_KEEPS}:\n{result.stdout}"
    assert wanted <= already, f"requirements pip did not find satisfied: {wanted - already}\n{result.stdout}"
    assert {"bitsandbytes", "gguf"} <= wanted, "the [quant] extra no longer brings bitsandbytes and gguf"


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
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or "\n" in node.value:
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
    )
    found = local_file_references(source, ROOT / "notebooks", ROOT)
    assert sorted(found) == sorted(
        ["../tools/check_notebooks.py", "../quizzes/bank/lesson1.yml", "pyproject.toml", "/var/log/x.txt"]
    ), found
    closure = installed_closure(f"{PACKAGE}[quant]")
    assert provided_by("transformers.trainer", closure) and provided_by("json", closure)
    assert not provided_by("check_notebooks", closure) and not provided_by("nbgrader", closure)
