"""The nbgrader source notebook of a quiz, generated from the bank (public practice) or a term (graded).

Per question: a read-only question cell, an answer cell (`answer_qN = ""`), a read-only format check the
student can run, and a read-only test cell worth 1 point. No notebook holds the key: the answer cell has an
empty solution region, and the test cell only says how the quiz is graded. `course-quiz autograde` reads the
answers as text and compares them with the term's key file; a notebook *executed* by nbgrader without the
course's configuration fails every test cell with a message naming the right command (fail closed).
"""

from __future__ import annotations

import inspect

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils.quiz import reader
from course_utils.quiz.answers import CHOICES

from .bank import Lesson, Question

POINTS_PER_QUESTION = 1
CHOICE_LIST = f'"{CHOICES[0]}", "{CHOICES[1]}", "{CHOICES[2]}" or "{CHOICES[3]}"'
PRACTICE_TERM = "public-practice"  # the term id of the repository's practice notebooks: never graded
METADATA_KEY = "course_quiz"  # notebook metadata: {"quiz": "quiz1", "term": "..."}

HELPER_SOURCE = (
    inspect.getsource(reader)
    + """

def check_format(question):
    \"\"\"Say what the grader will read as answer_<question> (not whether it is right).

    The grader reads the answer cell's text, never runs it: this applies the same rule to the
    answer cell you ran last.
    \"\"\"
    import re
    name = "answer_" + question
    ran = [cell for cell in globals().get("In", []) if re.search(rf"\\b{name}\\b", cell) and "check_format" not in cell]
    if not ran:
        print(name, "is not set: run its answer cell first.")
        return
    letter, problem = read_answer(ran[-1], name)
    if letter is None:
        print(problem + ". As it stands the grader reads nothing: 0 points. Set it to one letter, CHOICE_LIST.")
    else:
        print(name, "reads as", letter, "- format OK.")
""".replace("CHOICE_LIST", CHOICE_LIST.replace('"', "'"))
)

FAIL_CLOSED_COMMAND = "course-quiz autograde <submissions folder> --course <term workspace>"
TEST_SOURCE = f"""\
# Graded after you submit: {{points}} point for answer_{{qid}}. Nothing to run here.
### BEGIN HIDDEN TESTS
class NotGradedThisWay(Exception):
    def _render_traceback_(self):  # IPython shows this message only
        return [f"NotGradedThisWay: {{{{self}}}}"]

raise NotGradedThisWay(
    "This quiz is graded from the notebook's text, never by running it; 0 points here. "
    "Instructors: grade with `{FAIL_CLOSED_COMMAND}`."
)
### END HIDDEN TESTS"""


def repository() -> str:
    """owner/name of the public repository, from the course package's `Repository` URL (pyproject.toml)."""
    from importlib.metadata import metadata

    urls = dict(entry.split(", ", 1) for entry in metadata("fine-tuning-course-utils").get_all("Project-URL") or [])
    return urls["Repository"].removeprefix("https://github.com/").rstrip("/")


def colab_url(quiz_id: str) -> str:
    path = f"{repository()}/blob/main/quizzes/release/{quiz_id}/{quiz_id}.ipynb"
    return f"https://colab.research.google.com/github/{path}"


def source_notebook(lesson: Lesson, term_id: str = PRACTICE_TERM) -> nbformat.NotebookNode:
    """The quiz of a lesson as given (a term passes its shuffled lesson); no cell holds the key."""
    cells = [_intro_cell(lesson, term_id), _locked(new_code_cell(HELPER_SOURCE), "helpers")]
    for question in lesson.questions:
        cells += _question_cells(question)
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            METADATA_KEY: {"quiz": lesson.quiz_id, "term": term_id},
        },
    )
    nbformat.validate(notebook)
    return notebook


def render_source_notebook(lesson: Lesson, term_id: str = PRACTICE_TERM) -> str:
    return nbformat.writes(source_notebook(lesson, term_id)) + "\n"


def _intro_cell(lesson: Lesson, term_id: str):
    number = lesson.id.removeprefix("lesson")
    if term_id == PRACTICE_TERM:
        opening = (
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(lesson.quiz_id)})"
            "\n\nPractice version: the graded quiz comes from your instructor, with its own choice order."
        )
    else:  # a term's notebook points nowhere public: students open the file their instructor gave them
        opening = "Open this notebook in Jupyter, or upload it to Colab (File → Upload notebook)."
    text = f"""# Quiz {number} — {lesson.title}

{opening}

{len(lesson.questions)} multiple-choice questions on lesson {number}, {POINTS_PER_QUESTION} point each.

1. Run the first code cell: it defines `check_format`, which tells you what the grader will read.
2. In each answer cell set `answer_qN` to one letter, {CHOICE_LIST} (`"b"`, `"B)"` or `"(b)"` also work),
   run it, then run the format check below it. Write only that one line: the grader reads the cell's
   text and never runs it, so anything computed does not count.
3. Save the notebook and hand in the `.ipynb` file (in Colab: File → Download → Download .ipynb).

Grading happens after you hand in. Leave the read-only cells as they are and add no cells: changes are
reported to the instructor."""
    return _locked(new_markdown_cell(text), "intro")


def _question_cells(question: Question) -> list:
    qid = question.id
    choices = "\n".join(f"- **{c.letter})** {c.text}" for c in question.choices)
    answer_source = f'answer_{qid} = ""  # your choice: {CHOICE_LIST}\n### BEGIN SOLUTION\n### END SOLUTION'
    return [
        _locked(
            new_markdown_cell(f"**Question {qid.removeprefix('q')}.** {question.stem}\n\n{choices}"), f"{qid}_question"
        ),
        _nbgrader(new_code_cell(answer_source), f"{qid}_answer", solution=True),
        _locked(new_code_cell(f'check_format("{qid}")'), f"{qid}_format"),
        _nbgrader(
            new_code_cell(TEST_SOURCE.format(qid=qid, points=POINTS_PER_QUESTION)),
            f"{qid}_test",
            grade=True,
            locked=True,
            points=POINTS_PER_QUESTION,
        ),
    ]


def _locked(cell, grade_id: str):
    return _nbgrader(cell, grade_id, locked=True)


def _nbgrader(cell, grade_id: str, *, grade=False, solution=False, locked=False, points=None):
    """nbgrader's cell metadata (schema 3); the cell id is the grade id, so rebuilding is byte-stable."""
    cell.id = grade_id.replace("_", "-")
    metadata = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        metadata["points"] = points
    cell.metadata["nbgrader"] = metadata
    return cell
