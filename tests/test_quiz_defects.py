"""Hostile input that once broke or forged a grade, LMS exports, and per-student choice orders, on a fresh term.

Each test builds its class from the term's key (nothing hard-coded) and checks what an instructor or an LMS
would see: the gradebook, the summary, the CSV files, the feedback pages, the item analysis.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_quiz.cli import EXIT_ERROR, EXIT_OK, main

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BANK = REPO / "quizzes" / "bank"
QUIZ = "quiz1"
TERM_SECRET = "defects-term-secret"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    workspace = tmp_path_factory.mktemp("defects") / "term"
    assert main(["init", str(workspace), f"--term-secret={TERM_SECRET}", "--bank", str(BANK)]) == EXIT_OK
    return workspace


@pytest.fixture
def term(built, tmp_path) -> Path:
    """A copy of the built term per test: each grades its own class."""
    return Path(shutil.copytree(built, tmp_path / "term"))


def release(workspace: Path, quiz: str = QUIZ) -> dict:
    return json.loads((workspace / "release" / quiz / f"{quiz}.ipynb").read_text())


def answered(notebook: dict, letters: dict[str, str]) -> dict:
    """The notebook with `answer_qN = "<letter>"` typed in each answer cell given."""
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if grade_id.removesuffix("_answer") in letters and grade_id.endswith("_answer"):
            question = grade_id.removesuffix("_answer")
            cell["source"] = f'answer_{question} = "{letters[question]}"'
    return notebook


def term_answers(workspace: Path) -> dict[str, str]:
    """question -> the right letter in the term's order (the same for every student unless released per student)."""
    from course_quiz.term import TermKey

    return TermKey.load(workspace).answers(QUIZ)


def all_right(workspace: Path) -> dict:
    return answered(release(workspace), term_answers(workspace))


def all_wrong(workspace: Path) -> dict:
    wrong = {q: "ABCD"[("ABCD".index(a) + 1) % 4] for q, a in term_answers(workspace).items()}
    return answered(release(workspace), wrong)


def write(folder: Path, name: str, notebook: dict) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def autograde(capsys, folder: Path, workspace: Path, *extra) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["autograde", str(folder), "--course", str(workspace), "--quiz", QUIZ, "--quiet", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def gradebook_students(workspace: Path) -> set[str]:
    from course_quiz.course import gradebook

    with gradebook(workspace) as book:
        return {student.id for student in book.students}


# --- D1: forged rows and formula cells ------------------------------------------------------------------------


FORGED = "x\nquiz1,,,eve,,,,5.0,0.0,5.0,5.0\nquiz1,,,eve,,,,5.0,0.0,5.0,5.0\ny"
FORMULAS = ["=2+5", "+cmd", "@SUM(1,1)", "-2+3"]


def test_bad_names_never_enter_the_gradebook_and_no_row_is_forged(term, tmp_path, capsys):
    inbox = tmp_path / QUIZ
    write(inbox, "eve.ipynb", all_wrong(term))
    write(inbox / FORGED, f"{QUIZ}.ipynb", all_right(term))
    for name in FORMULAS:
        write(inbox, f"{name}.ipynb", all_right(term))
    code, _, err = autograde(capsys, inbox, term)
    assert code == EXIT_OK, err
    assert gradebook_students(term) == {"eve"}
    for name in ("grades.csv", "canvas-gradebook.csv", "moodle-grades.csv"):
        rows = csv_rows(term / "exports" / name)
        eve = [row for row in rows if "eve" in row]
        quizzes = len(json.loads((term / "key.json").read_text())["quizzes"])
        assert len(eve) == (quizzes if name == "grades.csv" else 1), (name, eve)
        assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")], name
    capsys.readouterr()
    assert main(["summary", "--course", str(term)]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 1 + 1 + len(FORMULAS)  # header, eve, the forged folder and the formula names
    assert [line for line in lines if line.startswith("x\\nquiz1") and "bad name" in line]


def test_every_csv_cell_is_quoted_and_formula_text_is_neutralised(term, tmp_path, capsys):
    """Students added by hand (the formgrader lets an instructor do that) with names a spreadsheet would run."""
    from nbgrader.api import Student

    from course_quiz.course import gradebook
    from course_quiz.text import spreadsheet_cell

    inbox = tmp_path / QUIZ
    write(inbox, "ann.ipynb", all_right(term))
    assert autograde(capsys, inbox, term)[0] == EXIT_OK
    with gradebook(term) as book:
        book.db.add(Student(id="=HYPERLINK(1)", last_name="@SUM(1)", first_name="\tx", email="+1"))
        book.db.commit()
    for form in ("nbgrader", "canvas", "moodle"):
        target = tmp_path / f"{form}.csv"
        assert main(["export", "--course", str(term), "--format", form, "--to", str(target)]) == EXIT_OK
        for line in target.read_text().splitlines():
            assert line.startswith('"') and line.endswith('"'), line
        cells = [cell for row in csv_rows(target) for cell in row]
        assert "'=HYPERLINK(1)" in cells and not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert [spreadsheet_cell(v) for v in ("-1", "\rx", "ok", 2.5, None)] == ["'-1", "'\\rx", "ok", "2.5", ""]


# --- C: exports an LMS can take ---------------------------------------------------------------------------------


def test_ungraded_is_blank_never_zero_in_every_export(term, tmp_path, capsys):
    inbox = tmp_path / QUIZ
    write(inbox, "ann.ipynb", all_right(term))
    write(inbox, "bob.ipynb", all_wrong(term))
    (inbox / "cid").mkdir()  # missing: a folder without the notebook
    (inbox / "dee.zip").write_bytes(b"PK")  # skipped
    write(inbox, "eve smith.ipynb", all_right(term))  # bad name
    assert autograde(capsys, inbox, term)[0] == EXIT_OK
    exports = term / "exports"
    nbgrader = {(r[0], r[3]): r for r in csv_rows(exports / "grades.csv")[1:]}
    assert nbgrader[(QUIZ, "ann")][9] == "5" and nbgrader[(QUIZ, "bob")][9] == "0"
    assert nbgrader[(QUIZ, "cid")][9] == "" and nbgrader[(QUIZ, "dee")][9] == ""
    assert nbgrader[("quiz2", "ann")][9] == ""  # a quiz not given yet
    assert not [key for key in nbgrader if "eve" in key[1]]
    canvas = csv_rows(exports / "canvas-gradebook.csv")
    assert (
        canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
        and canvas[1][0] == "Points Possible"
    )
    by_login = {row[3]: dict(zip(canvas[0], row)) for row in canvas[2:]}
    assert by_login["ann"][QUIZ] == "5" and by_login["cid"][QUIZ] == "" and by_login["ann"]["quiz2"] == ""
    moodle = {
        row[0]: dict(zip(csv_rows(exports / "moodle-grades.csv")[0], row))
        for row in csv_rows(exports / "moodle-grades.csv")[1:]
    }
    assert moodle["bob"][QUIZ] == "0" and moodle["dee"][QUIZ] == "" and set(moodle) == {"ann", "bob", "cid", "dee"}


# --- D2, D7: text from a notebook that breaks files or terminals ----------------------------------------------


def stamped(notebook: dict, **stamp) -> dict:
    notebook = json.loads(json.dumps(notebook))
    notebook["metadata"]["course_quiz"].update(stamp)
    return notebook


def test_a_lone_surrogate_in_a_stamp_flags_that_submission_only(term, tmp_path, capsys):
    inbox = tmp_path / QUIZ
    write(inbox, "ann.ipynb", stamped(all_right(term), quiz="\ud800"))  # json.dumps writes it as \ud800
    write(inbox, "bob.ipynb", all_right(term))
    code, _, err = autograde(capsys, inbox, term)
    assert code == EXIT_OK, err
    flags = json.loads((term / "grading_flags.json").read_text())[QUIZ]
    assert flags["ann"] and "wrong quiz" in flags["ann"][0] and flags["bob"] == []
    capsys.readouterr()
    assert main(["summary", "--course", str(term)]) == EXIT_OK
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["bob"].split()[1] == "5/5" and lines["ann"].split()[1] == "-"
    assert autograde(capsys, inbox, term)[0] == EXIT_OK  # the workspace still works


def test_control_characters_are_escaped_in_the_summary(term, tmp_path, capsys):
    inbox = tmp_path / QUIZ
    write(inbox, "ann.ipynb", stamped(all_right(term), quiz="quiz2\x1b[2J\rbob 5/5\n"))
    write(inbox, "bob.ipynb", all_wrong(term))
    assert autograde(capsys, inbox, term)[0] == EXIT_OK
    assert main(["summary", "--course", str(term)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\\x1b[2J\\rbob 5/5\\n" in out
    assert len(out.strip().splitlines()) == 1 + 2  # a header and one line per student


# --- D8: a read-only gradebook ---------------------------------------------------------------------------------


def make_read_only(path: Path) -> None:
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:  # root ignores modes
        pytest.skip("cannot make a file read-only here (root, and no chattr)")


def test_a_read_only_gradebook_gives_one_line_naming_the_fix(term, tmp_path, capsys):
    inbox = tmp_path / QUIZ
    write(inbox, "ann.ipynb", all_right(term))
    gradebook = term / "gradebook.db"
    before = gradebook.read_bytes()
    make_read_only(gradebook)
    try:
        code, out, err = autograde(capsys, inbox, term)
    finally:
        subprocess.run(["chattr", "-i", str(gradebook)], capture_output=True)
        gradebook.chmod(0o600)
    assert code == EXIT_ERROR and "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1 and "read-only" in err and "chmod" in err
    assert gradebook.read_bytes() == before


# --- D9: nbgrader's own autograde of a whole class -------------------------------------------------------------


def test_nbgraders_own_autograde_goes_past_a_duplicated_cell_or_an_old_schema(term, tmp_path):
    students = {"ann": all_right(term), "bea": all_right(term), "bob": all_right(term), "cid": all_wrong(term)}
    answer = next(c for c in students["ann"]["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "q1_answer")
    students["ann"]["cells"].append(json.loads(json.dumps(answer)))  # a duplicated answer cell
    for cell in students["bea"]["cells"]:
        cell["metadata"]["nbgrader"]["schema_version"] = 1  # what nbgrader takes for an old format
    for student, notebook in students.items():
        write(term / "submitted" / student / QUIZ, f"{QUIZ}.ipynb", notebook)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), IPYTHONDIR=str(tmp_path / "ipython"))
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", QUIZ, "--create"],
        cwd=term,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    from course_quiz.course import gradebook

    with gradebook(term) as book:
        scores = {s: book.find_submission(QUIZ, s).score for s in students}
    assert scores == {"ann": 5.0, "bea": 5.0, "bob": 5.0, "cid": 0.0}, done.stderr[-2000:]


# --- D11: feedback after a manual override ---------------------------------------------------------------------


def test_feedback_after_a_manual_override_shows_the_real_points(term, tmp_path, capsys):
    from course_quiz.course import gradebook

    inbox = tmp_path / QUIZ
    write(inbox, "ann.ipynb", answered(release(term), {**term_answers(term), "q1": "Z"}))
    assert autograde(capsys, inbox, term)[0] == EXIT_OK
    with gradebook(term) as book:
        book.find_grade("q1_test", QUIZ, QUIZ, "ann").manual_score = 1.0
        book.find_grade("q2_test", QUIZ, QUIZ, "ann").manual_score = 0.0
        book.db.commit()
    assert main(["settings", "--course", str(term), "--feedback-after", "2020-01-01T00:00Z"]) == EXIT_OK
    assert main(["feedback", QUIZ, "--course", str(term)]) == EXIT_OK
    page = (term / "feedback" / "ann" / QUIZ / f"{QUIZ}.html").read_text()
    assert "<h1>quiz1: 4 / 5</h1>" in page
    assert "q1: 1 / 1 point" in page and "q2: 0 / 1 point" in page and "q3: 1 / 1 point" in page


# --- D12: item analysis -----------------------------------------------------------------------------------------


def test_item_analysis_prints_difficulty_like_the_shares_and_explains_the_outline(tmp_path):
    from course_quiz.item_analysis import analyse, write_report

    key = {"q1": "B", "q2": "A"}
    answers = {f"s{n:02d}": {"q1": "B" if n < 21 else "C", "q2": "A" if n % 2 else "D"} for n in range(40)}
    items = analyse(answers, key)
    assert items[0].difficulty == 21 / 40
    page = write_report(items, QUIZ, 40, tmp_path / "report.html").read_text()
    row = page[page.index("<tr><td>q1</td>") :].split("</tr>")[0]
    assert row.count("52.5%") == 2 and "0.53" not in row and "52%" not in row  # the key's share and the difficulty
    assert "black outline: the right choice" in page


# --- D6: what the README promises about executing nbgrader --------------------------------------------------


def test_the_readme_says_executing_runs_the_students_code_and_only_static_grading_is_safe():
    text = " ".join((REPO / "quizzes" / "README.md").read_text().split())
    assert "never full marks" not in text
    assert "runs the student's code" in text and "only `staticgrade` is safe" in text.lower()


# --- per-student choice order -----------------------------------------------------------------------------------


def per_student_release(term: Path, tmp_path: Path, students: list[str]) -> dict[str, dict]:
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\n" + "".join(f"{s},Name {s}\n" for s in students))
    target = tmp_path / "per-student"
    assert main(["release", QUIZ, "--per-student", str(roster), "--course", str(term), "--to", str(target)]) == 0
    return {s: json.loads((target / f"{s}.ipynb").read_text()) for s in students}


def right_letters_in(notebook: dict, term: Path) -> dict[str, str]:
    """What an honest student picks: the letter their own notebook shows beside the right text."""
    from course_quiz.term import TermKey

    key = TermKey.load(term)
    picked = {}
    for question, letter in key.answers(QUIZ).items():
        text = key.choices(QUIZ)[question][letter]
        cell = next(c for c in notebook["cells"] if c["metadata"]["nbgrader"]["grade_id"] == f"{question}_question")
        line = next(line for line in "".join(cell["source"]).splitlines() if line.endswith(f")** {text}"))
        picked[question] = line[len("- **")]
    return picked


def test_each_student_sees_an_order_of_their_own_and_is_graded_in_it(term, tmp_path, capsys):
    students = ["ann", "bob", "cid", "dan"]
    notebooks = per_student_release(term, tmp_path, students)
    picks = {s: right_letters_in(notebooks[s], term) for s in students}
    assert len({tuple(p.values()) for p in picks.values()}) == len(students)  # a letter key each
    for student, notebook in notebooks.items():
        text = json.dumps(notebook)
        assert TERM_SECRET not in text and not [
            other for other in students if other != student and f'"{other}"' in text
        ]
    inbox = tmp_path / QUIZ
    write(inbox, "ann.ipynb", answered(notebooks["ann"], picks["ann"]))  # honest
    write(inbox, "bob.ipynb", answered(notebooks["bob"], picks["ann"]))  # copies ann's letters
    write(inbox, "cid.ipynb", answered(notebooks["ann"], picks["ann"]))  # hands in ann's notebook
    write(inbox, "dan.ipynb", all_right(term))  # the class-wide notebook, answered in the term's order
    assert autograde(capsys, inbox, term)[0] == EXIT_OK
    assert main(["summary", "--course", str(term)]) == EXIT_OK
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    copied = sum(picks["ann"][q] == picks["bob"][q] for q in picks["ann"])
    assert lines["ann"].split()[1] == "5/5" and lines["bob"].split()[1] == f"{copied}/5" and copied < 5
    assert lines["cid"].split()[1] == "-" and "another student's notebook" in lines["cid"]
    assert lines["dan"].split()[1] == "-" and "the class-wide notebook" in lines["dan"]
    assert "edited" not in lines["ann"]  # its question cells are the student's own, not a tampering
    from course_quiz.course import gradebook

    with gradebook(term) as book:  # the formgrader shows both letters: the student's and the term's
        comments = [c.auto_comment for c in book.find_submission_notebook(QUIZ, QUIZ, "bob").comments]
    assert any("(the term's" in comment for comment in comments), comments
    report = (term / "reports" / f"{QUIZ}-item-analysis.html").read_text()
    assert "item analysis of 2 graded submissions" in report
    for student in ("ann", "bob"):  # the formgrader shows each student the choices in their own order
        autograded = json.loads((term / "autograded" / student / QUIZ / f"{QUIZ}.ipynb").read_text())
        assert right_letters_in(autograded, term) == picks[student]


def test_the_benchmark_prints_throughput_including_the_export(capsys):
    assert main(["bench", "--students", "20"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "20 submissions:" in out and "/min" in out and "3 CSV exports" in out and "load average" in out
