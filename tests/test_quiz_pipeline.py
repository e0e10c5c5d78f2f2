"""The instructor path end to end on a term built with a term secret: a simulated class of quiz1 (honest
students, careless ones, tampering ones) plus an adversarial class, graded by reading through the CLI, then
exported, summarised, analysed and given feedback.

Expected scores are computed from what each student typed and the term's key (not hard-coded), so the test
fails if any score is not exactly what the answers deserve. Nothing a student wrote is ever executed.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from course_quiz.cli import main

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BANK = REPO / "quizzes" / "bank"
QUIZ = "quiz1"
LETTER_FORMS = ["{L}", "{l}", " {L} ", "{L})", "({l})", "{l}.", "({L})"]
MALFORMED = ["2", '"E"', '""', "None", '"B and C"', '["A"]']
LOOK_ALIKES = {"A": "\u0410", "B": "\u0412", "C": "\u0421", "D": "\uff24"}  # Cyrillic A, Ve, Es; fullwidth D


@dataclass
class Student:
    """What one simulated student hands in, the points each question must get and the flags it must raise."""

    id: str
    answers: dict[str, str] = field(default_factory=dict)  # question -> answer cell source
    points: dict[str, int] = field(default_factory=dict)
    tamper: Callable[[dict], None] | None = None
    write: Callable[[Path, dict], None] | None = None  # writes the file(s) itself (odd files, symlinks, ...)
    graded: bool = True  # False: no grade may be recorded ("-")
    flags: tuple[str, ...] = ()
    folder_layout: bool = False

    def answer(self, question: str, source: str, points: int) -> Student:
        self.answers[question], self.points[question] = source, points
        return self

    def expected_total(self, questions) -> int:
        return sum(self.points.get(question, 0) for question in questions) if self.graded else 0


def grade_ids(notebook: dict) -> dict:
    return {cell["metadata"].get("nbgrader", {}).get("grade_id"): cell for cell in notebook["cells"]}


class Term:
    """A term workspace built in a temporary folder with a term secret."""

    def __init__(self, root: Path):
        from course_quiz.term import TermKey

        self.term_secret = secrets.token_urlsafe(16)
        self.workspace = root / "quiz-term"
        assert main(["init", str(self.workspace), f"--term-secret={self.term_secret}", "--bank", str(BANK)]) == 0
        self.key = TermKey.load(self.workspace).answers(QUIZ)
        self.questions = list(self.key)
        self.release = self.read_release(QUIZ)

    def read_release(self, quiz_id: str) -> dict:
        return json.loads((self.workspace / "release" / quiz_id / f"{quiz_id}.ipynb").read_text())

    def right(self, question: str, form: str = "{L}") -> str:
        letter = self.key[question]
        return f'answer_{question} = "{form.format(L=letter, l=letter.lower())}"'

    def wrong_letter(self, question: str, rng: random.Random) -> str:
        return rng.choice([letter for letter in "ABCD" if letter != self.key[question]])

    def wrong(self, question: str, rng: random.Random, form: str = "{L}") -> str:
        letter = self.wrong_letter(question, rng)
        return f'answer_{question} = "{form.format(L=letter, l=letter.lower())}"'


def simulated_class(term: Term) -> list[Student]:
    """The honest, careless and tampering students of the old executing pipeline, now read, not run."""
    rng = random.Random(2024)
    students: list[Student] = []

    def new(student_id, **kwargs) -> Student:
        student = Student(student_id, folder_layout=len(students) % 2 == 0, **kwargs)
        students.append(student)
        return student

    def all_right(student, forms=LETTER_FORMS):
        for question in term.questions:
            student.answer(question, term.right(question, rng.choice(forms)), 1)
        return student

    all_right(new("right_plain"), forms=["{L}"])
    all_right(new("right_forms"))
    for name in ("wrong_a", "wrong_b"):
        student = new(name)
        for question in term.questions:
            student.answer(question, term.wrong(question, rng, rng.choice(LETTER_FORMS)), 0)
    new("untouched")
    for number in range(16):
        student = new(f"mixed_{number:02d}")
        for question in term.questions:
            roll = rng.random()
            if roll < 0.5:
                student.answer(question, term.right(question, rng.choice(LETTER_FORMS)), 1)
            elif roll < 0.8:
                student.answer(question, term.wrong(question, rng, rng.choice(LETTER_FORMS)), 0)
            else:
                student.answer(question, f"answer_{question} = {rng.choice(MALFORMED)}", 0)
    all_right(new("forgot_quotes")).answer("q2", f"answer_q2 = {term.key['q2']}", 0)
    all_right(new("raises_first", flags=("code",))).answer("q1", f'raise RuntimeError("oops")\n{term.right("q1")}', 0)
    all_right(new("deletes_its_answer", flags=("code",))).answer("q5", f"{term.right('q5')}\ndel answer_q5", 0)
    all_right(new("infinite_loop_first", flags=("code",))).answer("q3", f"while True:\n    pass\n{term.right('q3')}", 0)
    all_right(new("deleted_answer_cell", tamper=delete_cells("q2_answer"), flags=("deleted",))).points["q2"] = 0
    all_right(new("deleted_test_cell", tamper=delete_cells("q4_test"), flags=("deleted",)))
    all_right(new("deleted_read_only", tamper=delete_cells("q1_question", "q3_format", "helpers"), flags=("deleted",)))
    new("edited_test_cell", tamper=edit_cell("q1_test", source='print("all good")'), flags=("edited",)).answer(
        "q1", term.wrong("q1", rng), 0
    )
    new("edited_helper", tamper=edit_cell("helpers", source="def read_choice(v):\n    return 'A'\n"), flags=("edited",))
    all_right(new("edited_points", tamper=edit_cell("q2_test", points=10), flags=("edited",)))
    all_right(new("edited_question", tamper=edit_cell("q3_question", source="**Question 3.** 2+2?"), flags=("edited",)))
    new("corrupted_json", write=raw_file('{"cells": ['), graded=False, flags=("corrupted",))
    new("not_a_notebook", write=raw_file("%PDF-1.4 binary junk \x00\x01"), graded=False, flags=("corrupted",))
    missing = new("missing_notebook", write=missing_notebook, graded=False, flags=("missing",))
    missing.folder_layout = True
    all_right(new("stripped_metadata", tamper=strip_metadata, graded=False, flags=("metadata",)))
    return students


def adversarial_class(term: Term, root: Path) -> list[Student]:
    """Every attack of the hostile class: each must score exactly what its answers deserve and be flagged."""
    rng = random.Random(10)
    students: list[Student] = []

    def new(student_id, **kwargs) -> Student:
        student = Student(student_id, **kwargs)
        students.append(student)
        return student

    def all_wrong(student):
        for question in term.questions:
            student.answer(question, term.wrong(question, rng), 0)
        return student

    def all_right(student):
        for question in term.questions:
            student.answer(question, term.right(question), 1)
        return student

    # the two full-marks attacks of the executing grader
    all_wrong(new("attack_patch_stdlib", flags=("code",))).answer(
        "q1", f"import re\nre.fullmatch = lambda *a, **k: True\n{term.wrong('q1', rng)}", 0
    )
    all_wrong(new("attack_input_transformer", tamper=add_cell(INPUT_TRANSFORMER), flags=("added",)))
    # code that would write the gradebook, read the key, /proc, or never stop: never run
    all_wrong(new("attack_gradebook_write", tamper=add_cell(GRADEBOOK_WRITE), flags=("added", "code"))).answer(
        "q2", f"{GRADEBOOK_WRITE}\n{term.wrong('q2', rng)}", 0
    )
    all_right(new("attack_reads_key_and_proc", flags=("code",))).answer("q3", f"{READ_SECRETS}\n{term.right('q3')}", 1)
    all_right(new("attack_added_infinite_loop", tamper=add_cell("while True:\n    pass"), flags=("added",)))
    all_right(new("attack_lying_objects", flags=("code",))).answer(
        "q1", LYING_EQ + "answer_q1 = AlwaysEqual()", 0
    ).answer("q2", f'class Sly(str):\n    pass\nanswer_q2 = Sly("{term.key["q2"]}")', 0)
    all_right(new("attack_edited_metadata", tamper=flip_grade_flags, flags=("edited",)))
    # the wrong quiz / another term's (public practice) notebook
    new("attack_wrong_quiz", write=other_notebook(term.read_release("quiz2")), graded=False, flags=("wrong quiz",))
    practice = json.loads((REPO / "quizzes" / "release" / QUIZ / f"{QUIZ}.ipynb").read_text())
    new("attack_practice_notebook", write=other_notebook(practice), graded=False, flags=("wrong term",))
    # the instructor tool: duplicates, odd files
    new("dup", write=duplicate(term.release), graded=False, flags=("duplicate",))
    all_right(new("odd_upper_case", write=odd_name("odd_upper_case.IPYNB")))
    new("odd_txt", write=raw_file("{}", "odd_txt.ipynb.txt"), graded=False, flags=("skipped",))
    new("odd_zip", write=raw_file("PK", "odd_zip.zip"), graded=False, flags=("skipped",))
    # attacks on the reader
    new("reader_1gb", write=huge_file, graded=False, flags=("too large",))
    new("reader_deep_json", write=raw_file("[" * 200_000 + "]" * 200_000), graded=False, flags=("corrupted",))
    new("reader_deep_source", flags=("code",)).answer("q1", "answer_q1 = " + "(" * 5000 + '"A"' + ")" * 5000, 0)
    duplicate_assignments = all_right(new("reader_duplicate_assignments", flags=("reassigned",)))
    duplicate_assignments.answer("q1", f"{term.right('q1')}\n{term.wrong('q1', rng)}", 0)  # the last one counts
    duplicate_assignments.answer("q2", f"{term.wrong('q2', rng)}\n{term.right('q2')}", 1)
    all_right(new("reader_annotated", flags=("code",))).answer("q2", f'answer_q2: str = "{term.key["q2"]}"', 0)
    look_alike = all_right(new("reader_look_alike", flags=("look-alike",)))
    look_alike.answer("q4", f'answer_q4 = "{LOOK_ALIKES[term.key["q4"]]}"', 0)
    workspace = term.workspace
    new("reader_symlink_gradebook", write=symlink_to(workspace / "gradebook.db"), graded=False, flags=("symlink",))
    new("reader_symlink_key", write=symlink_to(workspace / "key.json"), graded=False, flags=("symlink",))
    return students


INPUT_TRANSFORMER = """\
def _full_marks(lines):
    return [line for line in lines if "raise" not in line]
get_ipython().input_transformers_cleanup.append(_full_marks)"""
GRADEBOOK_WRITE = """\
import sqlite3, pathlib
for path in pathlib.Path("..").rglob("gradebook.db"):
    sqlite3.connect(path).execute("update grade set manual_score = 1").connection.commit()"""
READ_SECRETS = """\
import pathlib
print(pathlib.Path("../../key.json").read_text(), pathlib.Path("/proc/self/cmdline").read_text())"""
LYING_EQ = """\
class AlwaysEqual:
    def __eq__(self, other):
        return True
"""


def delete_cells(*ids):
    def tamper(notebook):
        notebook["cells"] = [
            c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") not in ids
        ]

    return tamper


def edit_cell(cell_id, source=None, points=None):
    def tamper(notebook):
        cell = grade_ids(notebook)[cell_id]
        if source is not None:
            cell["source"] = source
        if points is not None:
            cell["metadata"]["nbgrader"]["points"] = points

    return tamper


def add_cell(source):
    def tamper(notebook):
        cell = {"cell_type": "code", "execution_count": None, "id": "added", "metadata": {}, "outputs": []}
        notebook["cells"].insert(2, {**cell, "source": source})

    return tamper


def flip_grade_flags(notebook):
    cells = grade_ids(notebook)
    cells["q1_answer"]["metadata"]["nbgrader"].update(grade=True, points=10)
    cells["q2_test"]["metadata"]["nbgrader"]["grade"] = False


def strip_metadata(notebook):
    for cell in notebook["cells"]:
        cell["metadata"].pop("nbgrader", None)


def raw_file(text, name=None):
    def write(folder, _):
        (folder / (name or "{id}.ipynb")).write_text(text, encoding="utf-8")

    return write


def missing_notebook(folder, _):
    (folder / "{id}").mkdir()
    (folder / "{id}" / "quiz 1 final.ipynb").write_text("{}")


def other_notebook(notebook):
    def write(folder, _):
        (folder / "{id}.ipynb").write_text(json.dumps(notebook))

    return write


def duplicate(release):
    def write(folder, _):
        (folder / "{id}").mkdir()
        for path in (folder / "{id}.ipynb", folder / "{id}" / f"{QUIZ}.ipynb"):
            path.write_text(json.dumps(release))

    return write


def odd_name(name):
    def write(folder, notebook):
        (folder / name).write_text(json.dumps(notebook))

    return write


def huge_file(folder, _):
    with open(folder / "{id}.ipynb", "wb") as handle:  # sparse: 1 GB on paper, nothing on disk
        handle.truncate(2**30)


def symlink_to(target):
    def write(folder, _):
        os.symlink(target, folder / "{id}.ipynb")

    return write


class NamedFolder:
    """Puts {id} in the file names a writer uses."""

    def __init__(self, folder: Path, student_id: str):
        self.folder, self.student_id = folder, student_id

    def __truediv__(self, name: str) -> Path:
        return self.folder / name.replace("{id}", self.student_id)


def write_submission(student: Student, term: Term, folder: Path) -> None:
    notebook = copy.deepcopy(term.release)
    cells = grade_ids(notebook)
    for question, source in student.answers.items():
        cells[f"{question}_answer"]["source"] = source
    if student.tamper:
        student.tamper(notebook)
    if student.write:
        student.write(NamedFolder(folder, student.id), notebook)
    elif student.folder_layout:
        (folder / student.id).mkdir()
        (folder / student.id / f"{QUIZ}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    else:
        (folder / f"{student.id}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.stat().st_size < 2**20
    }


def question_scores(workspace: Path, student_id: str) -> dict[str, float]:
    from course_quiz.course import gradebook

    with gradebook(workspace) as book:
        notebook = book.find_submission_notebook(QUIZ, QUIZ, student_id)
        return {grade.name.removesuffix("_test"): grade.score for grade in notebook.grades}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("quiz_pipeline")
    term = Term(root)
    inbox = root / "inbox" / QUIZ  # the folder name tells the quiz
    inbox.mkdir(parents=True)
    (inbox / "README.md").write_text("submissions, exported from the LMS")
    students = simulated_class(term) + adversarial_class(term, root)
    for student in students:
        write_submission(student, term, inbox)
    before = fingerprint(inbox)
    protected = {path: path.read_bytes() for path in (term.workspace / "key.json", term.workspace / "term.json")}
    exit_code = main(["autograde", str(inbox), "--course", str(term.workspace), "--quiet"])
    return {
        "term": term,
        "inbox": inbox,
        "students": students,
        "exit_code": exit_code,
        "before": before,
        "protected": protected,
    }


def summary_lines(graded, capsys) -> dict[str, str]:
    capsys.readouterr()
    assert main(["summary", "--course", str(graded["term"].workspace)]) == 0
    return {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}


def test_the_classes_are_large_enough_and_autograde_succeeds(graded):
    assert len(graded["students"]) >= 36 + 20
    assert graded["exit_code"] == 0


def test_every_score_is_exactly_what_the_answers_deserve(graded):
    term = graded["term"]
    for student in graded["students"]:
        if student.graded:
            expected = {question: float(student.points.get(question, 0)) for question in term.questions}
            assert question_scores(term.workspace, student.id) == expected, student.id


def test_the_summary_shows_every_student_with_score_and_flags(graded, capsys):
    term = graded["term"]
    lines = summary_lines(graded, capsys)
    for student in graded["students"]:
        line = lines[student.id]
        score = f"{student.expected_total(term.questions)}/{len(term.questions)}" if student.graded else "-"
        assert line.split()[1] == score, line
        for kind in student.flags:
            assert f"{QUIZ}: {kind}:" in line, (student.id, kind, line)
        if not student.flags:
            assert QUIZ + ":" not in line, line
    assert "CYRILLIC" in lines["reader_look_alike"] or "FULLWIDTH" in lines["reader_look_alike"]
    assert "dup.ipynb" in lines["dup"] and "dup/quiz1.ipynb" in lines["dup"]
    assert "manual" not in "".join(lines.values())  # no student code could write the gradebook


def test_the_exported_csv_has_every_student_with_the_deserved_score_and_blank_when_ungraded(graded, tmp_path):
    term = graded["term"]
    csv_path = term.workspace / "exports" / "grades.csv"  # written by autograde itself
    with csv_path.open(newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == QUIZ}
    assert set(rows) == {student.id for student in graded["students"]}
    for student in graded["students"]:
        score = rows[student.id]["score"]
        if student.graded:
            assert float(score) == student.expected_total(term.questions), student.id
        else:
            assert score == "", student.id  # an LMS would record a 0 as a grade


def test_files_are_never_modified_and_secrets_never_touched(graded):
    assert fingerprint(graded["inbox"]) == graded["before"]
    for path, data in graded["protected"].items():
        assert path.read_bytes() == data


def test_the_item_analysis_report_has_shares_difficulty_discrimination_and_a_plot(graded):
    page = (graded["term"].workspace / "reports" / f"{QUIZ}-item-analysis.html").read_text()
    assert "discrimination" in page and "difficulty" in page and "data:image/png;base64," in page
    assert page.count("<tr><td>q") == len(graded["term"].questions)


def test_regrading_replaces_every_earlier_score_manual_ones_included(graded, tmp_path, capsys):
    from course_quiz.course import gradebook

    term = graded["term"]
    with gradebook(term.workspace) as book:
        book.find_grade("q1_test", QUIZ, QUIZ, "wrong_a").manual_score = 1.0
        book.find_grade("q2_test", QUIZ, QUIZ, "wrong_a").needs_manual_grade = True
        book.db.commit()
    line = summary_lines(graded, capsys)["wrong_a"]
    assert "manual: q1_test set by hand to 1" in line and "needs_manual_grade: q2_test" in line
    assert line.split()[1] == "1/5"  # the summary's score is nbgrader's: the manual score counts
    inbox = tmp_path / QUIZ
    inbox.mkdir()
    write_submission(Student("wrong_a", answers={"q1": term.right("q1")}), term, inbox)
    assert main(["autograde", str(inbox), "--course", str(term.workspace), "--quiet"]) == 0
    line = summary_lines(graded, capsys)["wrong_a"]
    assert "manual" not in line and line.split()[1] == "1/5"
    (inbox / "wrong_a.ipynb").write_text("not json")  # a corrupted resubmission removes the grade
    assert main(["autograde", str(inbox), "--course", str(term.workspace), "--quiet"]) == 0
    assert summary_lines(graded, capsys)["wrong_a"].split()[1] == "-"


def test_feedback_is_withheld_until_released_and_names_the_key_only_if_asked(graded, capsys):
    workspace = str(graded["term"].workspace)
    assert main(["feedback", QUIZ, "--course", workspace, "--student", "mixed_00"]) == 2
    assert "not released yet" in capsys.readouterr().err
    assert main(["settings", "--course", workspace, "--feedback-after", "2020-01-01T00:00Z"]) == 0
    assert main(["feedback", QUIZ, "--course", workspace, "--student", "mixed_00"]) == 0
    page = (graded["term"].workspace / "feedback" / "mixed_00" / QUIZ / f"{QUIZ}.html").read_text()
    assert "read as" in page and "right choice" not in page and "Traceback" not in page
    assert main(["settings", "--course", workspace, "--name-right-choice", "yes"]) == 0
    assert main(["feedback", QUIZ, "--course", workspace, "--student", "mixed_00"]) == 0
    page = (graded["term"].workspace / "feedback" / "mixed_00" / QUIZ / f"{QUIZ}.html").read_text()
    assert "the right choice is" in page
    assert main(["settings", "--course", workspace, "--name-right-choice", "no"]) == 0


def test_nbgraders_own_autograde_reads_through_the_course_config(graded, tmp_path):
    """`nbgrader autograde` (and the formgrader) with the workspace's config: StaticGrade, not Execute."""
    from course_quiz.course import nbgrader_api

    term = graded["term"]
    target = term.workspace / "submitted" / "via_nbgrader" / QUIZ
    target.mkdir(parents=True)
    student = Student("via_nbgrader")
    for question in term.questions:
        student.answer(question, term.right(question) if question != "q2" else "import os\nanswer_q2 = 'Z'", 0)
    write_submission(student, term, target)
    (target / "via_nbgrader.ipynb").rename(target / f"{QUIZ}.ipynb")
    api = nbgrader_api(term.workspace)
    assert api.autograde(QUIZ, "via_nbgrader", create=True)["success"]
    assert question_scores(term.workspace, "via_nbgrader") == {q: float(q != "q2") for q in term.questions}


def test_a_config_that_fails_to_load_stops_grading_and_names_the_line(graded, tmp_path, capsys):
    import shutil

    workspace = tmp_path / "broken"
    shutil.copytree(graded["term"].workspace, workspace)
    config = workspace / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nimport course_quiz_typo\n")
    line = config.read_text().splitlines().index("import course_quiz_typo") + 1
    before = (workspace / "gradebook.db").read_bytes()
    assert main(["autograde", str(graded["inbox"]), "--course", str(workspace), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"line {line}" in err and "ModuleNotFoundError" in err and "Traceback" not in err
    assert (workspace / "gradebook.db").read_bytes() == before
    config.write_text(config.read_text().replace("    StaticGrade,\n", "").replace("import course_quiz_typo", ""))
    assert main(["autograde", str(graded["inbox"]), "--course", str(workspace), "--quiet"]) == 2
    assert "would run student code" in capsys.readouterr().err


def test_the_reader_survives_any_json_shape(graded):
    """Values of the wrong type anywhere a student can put them: flags or zeros, never an exception."""
    from course_quiz.static_grade import Release, read_notebook
    from course_quiz.term import TermKey

    term = graded["term"]
    release = Release.load(term.workspace, QUIZ, TermKey.load(term.workspace))
    odd_values = [None, 1, 2.5, "x", [], {}, [1, {"a": None}], {"nbgrader": []}, {"grade_id": 5}]
    rng = random.Random(7)
    for trial in range(300):
        notebook = copy.deepcopy(term.release)
        for _ in range(rng.randint(1, 4)):
            cell = rng.choice(notebook["cells"])
            field_name = rng.choice(["metadata", "source", "cell_type", "outputs"])
            nbgrader = cell["metadata"].get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
            if field_name == "metadata" and rng.random() < 0.5 and isinstance(nbgrader, dict):
                cell["metadata"]["nbgrader"][rng.choice(["grade_id", "points", "grade", "locked"])] = rng.choice(
                    odd_values
                )
            else:
                cell[field_name] = rng.choice(odd_values)
        if trial % 10 == 0:
            notebook["metadata"] = rng.choice(odd_values)
        reading = read_notebook(notebook, release)
        assert all(result.score in (0.0, 1.0) for result in reading.results)
    for not_a_notebook in odd_values + [{"cells": 5}, {"cells": [1, 2]}]:
        assert not read_notebook(not_a_notebook, release).graded


def test_plain_executing_nbgrader_fails_closed(graded, tmp_path, monkeypatch):
    """nbgrader autograde WITHOUT the course config executes the notebook (its default `Execute`), restoring
    the hidden test cells from the gradebook: every question then scores 0, and the output names the command."""
    import logging
    import shutil

    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    from course_quiz.course import gradebook, put_scripts_on_path

    for variable in ("JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    term = graded["term"]
    workspace = tmp_path / "plain"
    shutil.copytree(term.workspace, workspace)
    (workspace / "nbgrader_config.py").write_text("c = get_config()\n")  # nbgrader's defaults
    target = workspace / "submitted" / "all_right" / QUIZ
    target.mkdir(parents=True)
    student = Student("all_right", answers={q: term.right(q) for q in term.questions})
    write_submission(student, term, target)
    (target / "all_right.ipynb").rename(target / f"{QUIZ}.ipynb")
    config = Config()
    config.CourseDirectory.root = str(workspace)
    config.CourseDirectory.course_id = "fine-tuning-pretrained-models"
    put_scripts_on_path()
    api = NbGraderAPI(config=config)
    api.log_level = logging.WARNING
    assert api.autograde(QUIZ, "all_right", create=True)["success"]
    assert question_scores(workspace, "all_right") == {q: 0.0 for q in term.questions}
    autograded = (workspace / "autograded" / "all_right" / QUIZ / f"{QUIZ}.ipynb").read_text()
    assert "course-quiz autograde" in autograded and "NotGradedThisWay" in autograded
    with gradebook(workspace) as book:
        assert book.find_submission(QUIZ, "all_right").score == 0
