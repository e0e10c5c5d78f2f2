"""Student, instructor and developer code stay apart (docs/ARCHITECTURE.md): what a Colab student installs imports
nothing of the instructor's grading tools or the developers' benchmark, and the wheel carries only the student package."""

import ast
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
STUDENT, INSTRUCTOR, DEVELOPER = "course_utils", "course_quiz", "course_dev"
TOOLS = {path.stem for path in (ROOT / "tools").glob("*.py")}


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
    forbidden = imported_top_level_names(path) & ({INSTRUCTOR, DEVELOPER, "tests"} | TOOLS)
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}: move that code out of course_utils"


@pytest.mark.parametrize(
    "path", package_files(ROOT / "quizzes" / INSTRUCTOR), ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_instructor_package_imports_no_developer_code(path):
    forbidden = imported_top_level_names(path) & ({DEVELOPER, "tests"} | TOOLS)
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


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
