"""The nbgrader source notebook of a quiz, generated from the bank.

Per question: a read-only question cell, an answer cell (`answer_qN = ""`), a read-only format check
the student can run, and a read-only test cell worth 1 point whose tests are hidden (nbgrader strips
them from the release and restores them from its database when autograding). Every hidden test is
self-contained, so one broken or deleted cell never costs the points of another question.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils.quiz.answers import CHOICES, READ_CHOICE_SOURCE

from .bank import Lesson, Question

POINTS_PER_QUESTION = 1
REPOSITORY = "fine-tuning-course/fine-tuning-pretrained-models"
CHOICE_LIST = f'"{CHOICES[0]}", "{CHOICES[1]}", "{CHOICES[2]}" or "{CHOICES[3]}"'

HELPER_SOURCE = (
    READ_CHOICE_SOURCE
    + """

def check_format(question):
    \"\"\"Say whether answer_<question> can be read as a choice (not whether it is right).\"\"\"
    name = "answer_" + question
    if name not in globals():
        print(name, "is not set: run its answer cell first.")
    elif read_choice(globals()[name]) is None:
        print(name, "=", repr(globals()[name]), "cannot be graded: set it to one letter, CHOICE_LIST.")
    else:
        print(name, "=", repr(globals()[name]), "reads as", read_choice(globals()[name]), "- format OK.")
""".replace("CHOICE_LIST", CHOICE_LIST.replace('"', "'"))
)

HIDDEN_TEST_TEMPLATE = """\
# Graded after you submit: {points} point for answer_{qid}. Nothing to run here.
### BEGIN HIDDEN TESTS
{read_choice}
class AnswerNotGraded(Exception):
    def _render_traceback_(self):  # IPython then shows this message only, not the test code
        return [f"AnswerNotGraded: {{self}}"]

if "answer_{qid}" not in globals():
    raise AnswerNotGraded("answer_{qid} is not set (its cell failed or was deleted): 0 of {points} point.")
if read_choice(answer_{qid}) is None:
    raise AnswerNotGraded(f"answer_{qid} = {{answer_{qid}!r}} is not one of A, B, C, D: 0 of {points} point.")
if read_choice(answer_{qid}) != "{answer}":
    raise AnswerNotGraded(f"answer_{qid} = {{answer_{qid}!r}} is not the right choice: 0 of {points} point.")
print("answer_{qid}: {points} of {points} point.")
### END HIDDEN TESTS"""


def colab_url(quiz_id: str) -> str:
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/quizzes/release/{quiz_id}/{quiz_id}.ipynb"


def source_notebook(lesson: Lesson) -> nbformat.NotebookNode:
    cells = [_intro_cell(lesson), _locked(new_code_cell(HELPER_SOURCE), "helpers")]
    for question in lesson.questions:
        cells += _question_cells(question)
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return notebook


def render_source_notebook(lesson: Lesson) -> str:
    return nbformat.writes(source_notebook(lesson)) + "\n"


def _intro_cell(lesson: Lesson):
    number = lesson.id.removeprefix("lesson")
    text = f"""# Quiz {number} — {lesson.title}

[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(lesson.quiz_id)})

{len(lesson.questions)} multiple-choice questions on lesson {number}, {POINTS_PER_QUESTION} point each.

1. Run the first code cell: it defines `check_format`, which tells you whether an answer can be read.
2. In each answer cell set `answer_qN` to one letter, {CHOICE_LIST} (`"b"`, `"B)"` or `"(b)"` also work),
   run it, then run the format check below it.
3. Save the notebook and hand in the `.ipynb` file (in Colab: File → Download → Download .ipynb).

Grading happens after you hand in. Leave the read-only cells as they are: they are replaced by the
instructor's copy before grading, and changes to them are reported."""
    return _locked(new_markdown_cell(text), "intro")


def _question_cells(question: Question) -> list:
    qid = question.id
    choices = "\n".join(f"- **{c.letter})** {c.text}" for c in question.choices)
    answer_source = (
        f'answer_{qid} = ""  # your choice: {CHOICE_LIST}\n'
        f'### BEGIN SOLUTION\nanswer_{qid} = "{question.answer}"\n### END SOLUTION'
    )
    test_source = HIDDEN_TEST_TEMPLATE.format(
        qid=qid, answer=question.answer, points=POINTS_PER_QUESTION, read_choice=READ_CHOICE_SOURCE
    )
    return [
        _locked(
            new_markdown_cell(f"**Question {qid.removeprefix('q')}.** {question.stem}\n\n{choices}"), f"{qid}_question"
        ),
        _nbgrader(new_code_cell(answer_source), f"{qid}_answer", solution=True),
        _locked(new_code_cell(f'check_format("{qid}")'), f"{qid}_format"),
        _nbgrader(new_code_cell(test_source), f"{qid}_test", grade=True, locked=True, points=POINTS_PER_QUESTION),
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
