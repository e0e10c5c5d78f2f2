"""Student, instructor and developer code stay apart (docs/ARCHITECTURE.md): what a Colab student installs imports
nothing of the instructor's grading tools or the developers' benchmark, the repository tools nothing of the
benchmark, the wheel carries only the student package, and no import hides from the import graph."""

import ast
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
STUDENT, INSTRUCTOR, DEVELOPER, TOOLS = "course_utils", "course_quiz", "course_dev", "tools"
# Imports no import graph can see: a module loaded from a file path, by a name built at run time, or through a
# search path changed at run time.
HIDDEN_IMPORTS = {"spec_from_file_location", "module_from_spec", "exec_module", "import_module", "__import__"}


def imported_top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def package_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "metric_modules" not in path.parts)


@pytest.mark.parametrize("path", package_files(ROOT / STUDENT), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_student_package_imports_no_instructor_or_developer_code(path):
    forbidden = imported_top_level_names(path) & {INSTRUCTOR, DEVELOPER, TOOLS, "tests"}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}: move that code out of course_utils"


@pytest.mark.parametrize(
    "path", package_files(ROOT / "quizzes" / INSTRUCTOR), ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_instructor_package_imports_no_developer_code(path):
    forbidden = imported_top_level_names(path) & {DEVELOPER, TOOLS, "tests"}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", package_files(ROOT / TOOLS), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_tools_import_no_developer_or_instructor_code(path):
    forbidden = imported_top_level_names(path) & {DEVELOPER, INSTRUCTOR, "tests"}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def hidden_imports(path: Path) -> set[str]:
    """Calls that load code past the import statement, and changes to `sys.path`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in HIDDEN_IMPORTS:
                found.add(name)
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys":
            found.add("sys.path")
    return found


CODE = [ROOT / STUDENT, ROOT / "quizzes" / INSTRUCTOR, ROOT / TOOLS, ROOT / DEVELOPER]


@pytest.mark.parametrize(
    "path",
    [path for folder in CODE for path in package_files(folder)],
    ids=lambda path: path.relative_to(ROOT).as_posix(),
)
def test_no_import_hides_from_the_import_graph(path):
    assert not hidden_imports(path), f"{path.relative_to(ROOT)}: {sorted(hidden_imports(path))}: import it by name"


def test_the_student_wheel_holds_only_the_student_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == [f"{STUDENT}*"]
    instructor = tomllib.loads((ROOT / "quizzes" / "pyproject.toml").read_text())
    assert instructor["tool"]["setuptools"]["packages"]["find"]["include"] == [f"{INSTRUCTOR}*"]
    assert not (ROOT / STUDENT / "bench.py").exists() and not (ROOT / STUDENT / "finetune.py").exists()


def test_the_checker_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom course_quiz.grading import x\nfrom . import sibling\n")
    assert imported_top_level_names(module) == {"os", "course_quiz"}


def test_the_checker_sees_a_hidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import importlib.util, sys\nsys.path.append('tools')\n"
        "spec = importlib.util.spec_from_file_location('x', 'tools/x.py')\nspec.loader.exec_module(m)\n"
    )
    assert hidden_imports(module) == {"sys.path", "spec_from_file_location", "exec_module"}
