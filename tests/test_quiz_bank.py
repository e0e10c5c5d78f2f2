"""The question bank, the files generated from it, and the answer key staying out of student files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course_quiz.bank import BankError, lesson_ids, load_bank, load_lesson
from course_quiz.build import GENERATED_DIRS, build, compare_generated
from course_utils.quiz.answers import CHOICES, choice_digest

REPO = Path(__file__).resolve().parents[1]
BANK = REPO / "quizzes" / "bank"


@pytest.fixture(scope="module")
def lessons():
    return load_bank(BANK)


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory):
    """The bank built from scratch into a temporary checkout (nbgrader runs in its own temp course)."""
    root = tmp_path_factory.mktemp("fresh")
    return root, build(BANK, root)


def test_every_lesson_has_three_to_five_complete_questions(lessons):
    assert [lesson.id for lesson in lessons] == lesson_ids(BANK) and len(lessons) >= 5
    for lesson in lessons:
        assert 3 <= len(lesson.questions) <= 5, lesson.id
        for question in lesson.questions:
            assert [choice.letter for choice in question.choices] == list(CHOICES)
            assert question.answer in CHOICES
            assert all(choice.text and choice.why for choice in question.choices)


def _question_whose_answer_mentions(lessons, lesson_id, words):
    lesson = next(lesson for lesson in lessons if lesson.id == lesson_id)
    for question in lesson.questions:
        answer_text = next(c.text for c in question.choices if c.letter == question.answer)
        if all(word.lower() in answer_text.lower() for word in words):
            return question
    raise AssertionError(f"{lesson_id} has no question whose answer mentions {words}")


def test_the_three_seed_concepts_have_one_defensible_answer(lessons):
    advantage = _question_whose_answer_mentions(lessons, "lesson1", ["pretrained", "less labelled data", "compute"])
    term = _question_whose_answer_mentions(lessons, "lesson1", ["transfer learning"])
    trainer = _question_whose_answer_mentions(lessons, "lesson3", ["training and evaluation loop", "TrainingArguments"])
    # The seed's flaw was a second defensible choice about resources; only the answer may mention them.
    for choice in advantage.choices:
        if choice.letter != advantage.answer:
            assert not re.search(r"resource|efficien|compute|cheaper", choice.text, re.I), choice.text
    # "Fine-tuning" would be defensible for the term question: it must not be offered.
    assert not any("fine-tun" in choice.text.lower() for choice in term.choices)
    assert "fine-tuning" in next(c.why for c in term.choices if c.letter == term.answer).lower()
    # Holding the settings is what TrainingArguments does; that distractor must say so in its explanation.
    assert any("TrainingArguments" in c.why for c in trainer.choices if c.letter != trainer.answer)


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("answer: A", "answer must be one of"),
        ("why: The pretrained weights", "verdict"),
        ("  - id: q2", "question ids repeat"),
    ],
)
def test_bank_mistakes_are_reported_with_file_and_question(tmp_path, mistake, message):
    text = (BANK / "lesson1.yml").read_text(encoding="utf-8")
    broken = {
        "answer: A": text.replace("answer: A", "answer: E", 1),
        "why: The pretrained weights": text.replace(
            "why: This is the point of fine-tuning.", "why: Correct, this is it.", 1
        ),
        "  - id: q2": text.replace("  - id: q2", "  - id: q1", 1),
    }[mistake]
    assert broken != text, "the test did not change the bank"
    path = tmp_path / "lesson1.yml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(BankError, match=message) as error:
        load_lesson(path, "lesson1")
    assert str(path) in str(error.value)


def test_committed_generated_files_match_the_bank(fresh_build):
    fresh_root, expected = fresh_build
    problems = compare_generated(expected, fresh_root, REPO)
    assert problems == [], "Run `course-quiz build` and commit:\n" + "\n".join(problems)


def test_out_of_date_generated_files_are_detected(fresh_build, tmp_path):
    fresh_root, expected = fresh_build
    checkout = tmp_path / "checkout"
    for directory in GENERATED_DIRS:
        shutil.copytree(fresh_root / directory, checkout / directory)
    edited, deleted = checkout / expected[0], checkout / expected[-1]
    edited.write_text(edited.read_text(encoding="utf-8").replace("lesson", "lesson ", 1), encoding="utf-8")
    deleted.unlink()
    (checkout / GENERATED_DIRS[0] / "old.json").write_text("{}")
    problems = compare_generated(expected, fresh_root, checkout)
    assert problems == [
        f"out of date: {expected[0]}",
        f"missing: {expected[-1]}",
        f"not generated from the bank (delete it): {GENERATED_DIRS[0] / 'old.json'}",
    ]


# --- the answer key never appears in plain text in what students get --------------------------------


def _key_patterns(lesson, question) -> list[re.Pattern]:
    letter = question.answer
    return [
        # (files are searched as stored, so a quote may be JSON-escaped)
        re.compile(rf"answer_{question.id}\s*=\s*\\?[\"']{letter}\\?[\"']"),  # a filled-in answer cell
        re.compile(r"BEGIN (HIDDEN TESTS|SOLUTION)"),
        re.compile(r"\"(answer|correct|key)\"\s*:"),  # a key field in JSON data
        re.compile(r"\b(in)?correct\b", re.IGNORECASE),  # a verdict next to a choice
    ]


def _student_facing_files() -> list[Path]:
    files = sorted((REPO / "quizzes" / "release").rglob("*.ipynb"))
    files += sorted((REPO / "course_utils" / "quiz" / "data").glob("*.json"))
    files += sorted((REPO / "notebooks").glob("*.ipynb")) if (REPO / "notebooks").is_dir() else []
    return files


def test_no_student_facing_file_holds_the_answer_key(lessons):
    files = _student_facing_files()
    assert len(files) >= 10
    for lesson in lessons:
        for question in lesson.questions:
            for pattern in _key_patterns(lesson, question):
                for path in files:
                    assert not pattern.search(path.read_text(encoding="utf-8")), f"{pattern.pattern} in {path}"


def test_the_key_patterns_do_find_a_filled_in_answer():
    """The grep above would catch a leak: a notebook with the answer typed in matches."""
    lesson = load_bank(BANK)[0]
    question = lesson.questions[0]
    assert _key_patterns(lesson, question)[0].search(
        json.dumps({"source": f'answer_{question.id} = "{question.answer}"'})
    )


def test_the_instructor_source_notebooks_are_no_longer_in_the_repository():
    assert not (REPO / "quizzes" / "source").exists()


def test_package_data_checks_the_key_only_through_the_salted_digest(lessons):
    for lesson in lessons:
        data = json.loads((REPO / "course_utils" / "quiz" / "data" / f"{lesson.id}.json").read_text(encoding="utf-8"))
        assert set(data) == {"lesson", "title", "salt", "questions"}
        for question, shipped in zip(lesson.questions, data["questions"]):
            assert set(shipped) == {"id", "stem", "choices", "digest"}
            assert all(set(choice) == {"letter", "text", "why"} for choice in shipped["choices"])
            matching = [
                letter
                for letter in CHOICES
                if choice_digest(data["salt"], lesson.id, question.id, letter) == shipped["digest"]
            ]
            assert matching == [question.answer]


def test_release_notebooks_have_answer_cells_format_checks_and_points_only_in_hidden_tests(lessons):
    for lesson in lessons:
        release = nbformat.read(REPO / "quizzes" / "release" / lesson.quiz_id / f"{lesson.quiz_id}.ipynb", 4)
        cells = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in release.cells}
        for question in lesson.questions:
            assert cells[f"{question.id}_answer"].source.startswith(f'answer_{question.id} = ""')
            assert cells[f"{question.id}_format"].source == f'check_format("{question.id}")'
            test = cells[f"{question.id}_test"]
            assert test.metadata["nbgrader"]["points"] == 1 and test.metadata["nbgrader"]["locked"]
            assert test.source.strip().startswith("#") and "\n" not in test.source.strip()
        # Colab has neither nbgrader nor course_utils: the release must not import them.
        assert not re.search(
            r"^\s*(import|from)\s+(nbgrader|course_utils)", "\n".join(c.source for c in release.cells), re.M
        )


def test_a_release_notebook_runs_top_to_bottom_as_a_student_would(tmp_path, monkeypatch):
    """What Colab does: run every cell of the student version, answers filled in (no nbgrader involved)."""
    from nbclient import NotebookClient

    for variable in ("JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    release = nbformat.read(REPO / "quizzes" / "release" / "quiz5" / "quiz5.ipynb", 4)
    answers = ["b", " C ", "(a)", "d.", "E"]
    answer_cells = [cell for cell in release.cells if cell.metadata["nbgrader"]["grade_id"].endswith("_answer")]
    for cell, answer in zip(answer_cells, answers):
        cell.source = cell.source.replace('= ""', f'= "{answer}"', 1)
    NotebookClient(release, timeout=60, kernel_name="python3").execute()
    outputs = [output for cell in release.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output["output_type"] == "error"]
    printed = "".join(output.get("text", "") for output in outputs)
    assert printed.count("format OK") == 4 and "answer_q5 = 'E' is not one of A, B, C, D" in printed
