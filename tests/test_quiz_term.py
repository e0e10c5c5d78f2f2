"""Term workspaces: the term secret's shuffle, variants and private questions, no key in any notebook or in
anything public, and the fail-closed test cells of a notebook that someone executes."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from course_quiz.bank import lint, load_bank
from course_quiz.cli import EXIT_LINT, EXIT_STALE, main
from course_quiz.term import term_lesson

REPO = Path(__file__).resolve().parents[1]
BANK = REPO / "quizzes" / "bank"
TERM_SECRET = secrets.token_urlsafe(24)  # a fresh secret each run: no file can hold it by accident


@pytest.fixture(scope="module")
def term(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("terms") / "quiz-term-2026"
    assert main(["init", str(workspace), f"--term-secret={TERM_SECRET}", "--bank", str(BANK)]) == 0
    return workspace


def key_of(workspace: Path) -> dict:
    return json.loads((workspace / "key.json").read_text())["quizzes"]


def test_the_term_secret_shuffles_choices_so_public_letters_say_nothing(term):
    lessons = load_bank(BANK)
    key = key_of(term)
    public = [q.answer for lesson in lessons for q in lesson.questions]
    shuffled = [key[lesson.quiz_id][q.id]["answer"] for lesson in lessons for q in lesson.questions]
    assert sum(a != b for a, b in zip(public, shuffled)) >= len(public) // 2
    for lesson in lessons:  # the right TEXT is still the right text: only the letters moved
        shown, entries = term_lesson(TERM_SECRET, lesson)
        for question, shown_question, entry in zip(lesson.questions, shown.questions, entries):
            right_text = next(c.text for c in question.choices if c.letter == question.answer)
            assert next(c.text for c in shown_question.choices if c.letter == entry.answer) == right_text
    other = term_lesson("another term", lessons[0])[1]
    assert [e.order for e in other] != [e.order for e in term_lesson(TERM_SECRET, lessons[0])[1]]
    assert term_lesson(TERM_SECRET, lessons[0])[1] == term_lesson(TERM_SECRET, lessons[0])[1]  # rebuilds are stable


def test_secrets_are_readable_by_the_owner_only(term):
    assert term.stat().st_mode & 0o077 == 0
    for name in ("key.json", "term.json"):
        assert (term / name).stat().st_mode & 0o077 == 0, name


def test_no_term_notebook_holds_the_key_and_none_links_to_the_public_release(term):
    key = key_of(term)
    for quiz_id, questions in key.items():
        for folder in ("source", "release"):
            text = (term / folder / quiz_id / f"{quiz_id}.ipynb").read_text()
            for question, entry in questions.items():
                assert not re.search(rf"answer_{question}\s*=\s*\\?[\"']{entry['answer']}", text), (folder, quiz_id)
            assert "colab.research.google.com" not in text and "github.com" not in text


def test_init_refuses_a_folder_inside_a_checkout(capsys):
    assert main(["init", str(REPO / "build" / "term-in-checkout"), "--bank", str(BANK)]) == 2
    assert "inside the git checkout" in capsys.readouterr().err
    assert not (REPO / "build" / "term-in-checkout").exists()


def test_an_executed_notebook_fails_closed_with_the_right_command(term, tmp_path, monkeypatch):
    """Plain nbgrader (no course config) or the formgrader would execute: every test cell errors, 0 points."""
    from nbclient import NotebookClient
    from nbformat import reads

    for variable in ("JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    notebook = reads((term / "source" / "quiz2" / "quiz2.ipynb").read_text(), as_version=4)
    key = key_of(term)["quiz2"]
    for cell in notebook.cells:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if grade_id.endswith("_answer"):
            question = grade_id.removesuffix("_answer")
            cell.source = f'answer_{question} = "{key[question]["answer"]}"'
    NotebookClient(notebook, timeout=60, kernel_name="python3", allow_errors=True).execute()
    tests = [cell for cell in notebook.cells if cell.metadata["nbgrader"]["grade_id"].endswith("_test")]
    assert tests and all(cell.outputs[0]["output_type"] == "error" for cell in tests)
    assert all("course-quiz autograde" in cell.outputs[0]["evalue"] for cell in tests)
    formats = [cell for cell in notebook.cells if cell.metadata["nbgrader"]["grade_id"].endswith("_format")]
    assert all("format OK" in cell.outputs[0]["text"] for cell in formats)


def _fixture_bank(folder: Path) -> Path:
    """Lesson 1 of the bank with a variant added to q1: variants are optional in the schema."""
    bank = folder / "bank"
    bank.mkdir()
    raw = yaml.safe_load((BANK / "lesson1.yml").read_text())
    base = raw["questions"][0]
    base["variants"] = [{"stem": "Variant stem of q1?", "choices": base["choices"], "answer": base["answer"]}]
    (bank / "lesson1.yml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return bank


def test_variants_and_private_questions_reach_the_term_and_nothing_public(tmp_path):
    bank = _fixture_bank(tmp_path)
    workspace = tmp_path / "term"
    private = workspace / "private"
    private.mkdir(parents=True)
    q2 = yaml.safe_load((BANK / "lesson1.yml").read_text())["questions"][1]
    extra = {**q2, "id": "q9", "stem": "A private question only this term sees?"}
    variant = {"stem": "A private wording of q2?", "choices": q2["choices"], "answer": q2["answer"]}
    (private / "lesson1.yml").write_text(
        yaml.safe_dump({"lesson": "lesson1", "questions": [extra, {"id": "q2", "variants": [variant]}]})
    )
    lessons = load_bank(bank, private)
    assert [len(q.forms) for q in lessons[0].questions][:2] == [2, 2] and lessons[0].questions[-1].private
    term_secrets = [f"secret {n}" for n in range(12)]
    picked = {term_lesson(secret, lessons[0])[1][0].variant for secret in term_secrets}
    assert picked == {0, 1}  # the term secret chooses among the forms
    assert main(["init", str(workspace), "--term-secret", "s", "--bank", str(bank)]) == 0
    release = (workspace / "release" / "quiz1" / "quiz1.ipynb").read_text()
    assert "A private question only this term sees?" in release and "q9" in key_of(workspace)["quiz1"]
    assert "private question" not in (BANK / "lesson1.yml").read_text()


def test_lint_names_the_file_where_the_right_choice_is_the_longest(tmp_path, capsys):
    bank = _fixture_bank(tmp_path)
    raw = yaml.safe_load((bank / "lesson1.yml").read_text())
    for question in raw["questions"]:
        question.pop("variants", None)
        question["choices"][question["answer"]]["text"] = "x" * 500
    (bank / "lesson1.yml").write_text(yaml.safe_dump(raw))
    assert main(["lint", "--bank", str(bank)]) == EXIT_LINT
    assert f"{bank / 'lesson1.yml'}: the right choice is the longest in 5 of 5" in capsys.readouterr().out


def test_lint_problems_have_their_own_exit_code():
    assert EXIT_LINT != EXIT_STALE  # scripts tell "generated files out of date" from "the bank gives answers away"


def test_the_public_bank_passes_the_longest_choice_lint():
    assert lint(load_bank(BANK), BANK) == []


def _wheel(tmp_path: Path, files: dict[str, Path]) -> Path:
    source = tmp_path / "source"
    source.mkdir(parents=True)
    for name, path in files.items():
        copy = shutil.copytree if path.is_dir() else shutil.copy2
        copy(path, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if path.is_dir() else {}))
    command = [
        sys.executable,
        "-m",
        "pip",
        "--disable-pip-version-check",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        str(source),
        "-w",
        str(tmp_path / "wheels"),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    return next((tmp_path / "wheels").glob("*.whl"))


def test_no_public_file_or_built_wheel_holds_a_terms_key(term, tmp_path):
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    public = [REPO / name for name in listed if (REPO / name).is_file()]
    assert not [p for p in public if p.name in ("key.json", "term.json") or "/source/" in str(p.relative_to(REPO))]
    key_text = (term / "key.json").read_text()
    for path in public:
        data = path.read_bytes()
        assert TERM_SECRET.encode() not in data and key_text.encode() not in data, path
    student = _wheel(
        tmp_path / "student",
        {
            "pyproject.toml": REPO / "pyproject.toml",
            "README.md": REPO / "README.md",
            "course_utils": REPO / "course_utils",
        },
    )
    instructor = _wheel(
        tmp_path / "instructor",
        {"pyproject.toml": REPO / "quizzes" / "pyproject.toml", "course_quiz": REPO / "quizzes" / "course_quiz"},
    )
    for wheel in (student, instructor):
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            assert not [n for n in names if n.endswith(("key.json", "term.json")) or "/source/" in n], wheel
            assert not [n for n in names if TERM_SECRET.encode() in archive.read(n)], wheel
