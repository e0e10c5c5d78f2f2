"""Lesson self-checks: answer reading, hash-derived feedback, the widget, and the text fallback."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

import course_utils.quiz as quiz
from course_quiz.bank import lesson_ids, load_bank
from course_utils.quiz.answers import CHOICES
from course_utils.quiz.selfcheck import WIDGET_MIMETYPE, QuizWidget, render_text, select_questions

REPO = Path(__file__).resolve().parents[1]

# (what a student typed, the letter a student would expect it to mean; None = not an answer)
ANSWER_FORMS = [
    ("B", "B"),
    ("b", "B"),
    (" B ", "B"),
    ("B)", "B"),
    ("(b)", "B"),
    ("b.", "B"),
    ("  (d) ", "D"),
    ("a", "A"),
    ("E", None),
    ("", None),
    ("   ", None),
    ("BB", None),
    ("b c", None),
    ("B) transfer learning", None),
    (2, None),
    (None, None),
    (["B"], None),
    (b"B", None),
]


@pytest.fixture(scope="module")
def lessons():
    return load_bank(REPO / "quizzes" / "bank")


@pytest.mark.parametrize("typed, letter", ANSWER_FORMS)
def test_answers_are_read_the_way_a_student_expects(typed, letter):
    assert quiz.read_choice(typed) == letter


def test_the_quiz_notebooks_read_answers_exactly_like_the_package():
    """The release notebook carries its own copy of read_choice (Colab has no course_utils)."""
    release = nbformat.read(REPO / "quizzes" / "release" / "quiz1" / "quiz1.ipynb", 4)
    helper = next(cell for cell in release.cells if cell.metadata["nbgrader"]["grade_id"] == "helpers")
    namespace: dict = {}
    exec(helper.source, namespace)
    for typed, letter in ANSWER_FORMS:
        assert namespace["read_choice"](typed) == letter, typed
        source = f"answer_q1 = {typed!r}"
        assert namespace["read_answer"](source, "answer_q1") == quiz.answers.read_answer(source, "answer_q1")


READINGS = [  # (answer cell source, letter read or None, words the reason must contain)
    ('answer_q1 = "b"', "B", ""),
    ('answer_q1 = "A"\nanswer_q1 = "C"', "C", ""),  # the last assignment counts, as in Python
    ('answer_q1 = "A"  # sure?\nprint(answer_q1)', "A", ""),
    ('answer_q1: str = "B"', None, "annotated"),
    ('answer_q1 = "\u0410"', None, "CYRILLIC CAPITAL LETTER A"),
    ('answer_q1 = "\uff22"', None, "FULLWIDTH LATIN CAPITAL LETTER B"),
    ('answer_q1 = "B\u200b"', None, "ZERO WIDTH SPACE"),
    ("answer_q1 = B", None, "not a plain string literal"),
    ('answer_q1 = "B" + ""', None, "not a plain string literal"),
    ('answer_q1 = f"B"', None, "not a plain string literal"),
    ('answer_q1 = b"B"', None, "not a plain string literal"),
    ('raise RuntimeError\nanswer_q1 = "A"', None, "not set"),
    ('while True:\n    pass\nanswer_q1 = "A"', None, "not set"),
    ('answer_q1 = "A"\ndel answer_q1', None, "deleted"),
    ('answer_q1 = "A"\nif True:\n    answer_q1 = "B"', None, "inside other code"),
    ('answer_q1 = "A"\nglobals()["answer_q1"] = "B"', None, "named in a string"),
    ('answer_q1 = "A"\nexec(code)', None, "exec"),
    ('answer_q1 = "A"\nfrom x import y as answer_q1', None, "import"),
    ("answer_q1 = " + "(" * 300 + '"A"' + ")" * 300, None, "not valid Python"),
    ("x = 1", None, "not set"),
    ('answer_q1 = "A"' + " " * 30000, None, "too long"),
]


@pytest.mark.parametrize("source, letter, reason", READINGS)
def test_answer_cells_are_read_as_text_by_the_one_rule(source, letter, reason):
    read, problem = quiz.answers.read_answer(source, "answer_q1")
    assert read == letter and reason in problem


def test_feedback_comes_from_the_digest_and_matches_the_bank(lessons):
    for lesson in lessons:
        for question in lesson.questions:
            right = [letter for letter in CHOICES if quiz.feedback(lesson.id, question.id, letter).is_right]
            assert right == [question.answer], (lesson.id, question.id)
            wrong = next(letter for letter in CHOICES if letter != question.answer)
            outcome = quiz.feedback(lesson.id, question.id, f"({wrong.lower()})")
            why = next(choice.why for choice in question.choices if choice.letter == wrong)
            assert outcome.letter == wrong and not outcome.is_right and why in outcome.message


@pytest.mark.parametrize("typed", [2, "E", "", None])
def test_check_prints_a_clear_message_for_unreadable_answers(capsys, typed):
    quiz.check("lesson1", "q1", typed)
    printed = capsys.readouterr().out
    assert "is not a choice" in printed and "A, B, C or D" in printed


def test_check_prints_the_verdict_and_explanation(capsys, lessons):
    question = lessons[1].questions[0]
    quiz.check("lesson2", question.id, question.answer.lower() + ")")
    printed = capsys.readouterr().out
    assert f"{question.answer} is correct" in printed
    assert next(c.why for c in question.choices if c.letter == question.answer) in printed


def test_unknown_lesson_or_question_says_what_exists():
    with pytest.raises(quiz.data_files.QuizDataError, match="lesson1, lesson2"):
        quiz.check("lesson9", "q1", "A")
    with pytest.raises(quiz.data_files.QuizDataError, match="q1, q2"):
        quiz.self_check("lesson1", "q42")


def test_self_check_prints_readable_text_without_a_kernel(capsys, monkeypatch, lessons):
    monkeypatch.delenv("COURSE_QUIZ_TEXT", raising=False)
    quiz.self_check("lesson3", "q2", "q1")
    printed = capsys.readouterr().out
    second, first = lessons[2].questions[1], lessons[2].questions[0]
    assert printed.index(second.stem) < printed.index(first.stem)  # the order asked for
    assert all(f"{c.letter}) {c.text}" in printed for c in second.choices)
    assert 'course_utils.quiz.check("lesson3", "q2", "A")' in printed


def test_the_widget_checks_answers_and_keeps_a_running_score(lessons):
    questions = select_questions("lesson4", ())
    widget = QuizWidget("lesson4", questions, render_text("lesson4", questions))
    key = {question.id: question.answer for question in lessons[3].questions}
    assert widget.score.value.startswith(f"Score: 0 / {len(key)}")
    first, second = widget.question_boxes[:2]
    _stem, radio, check_button, result = first.children
    check_button.click()
    assert result.value == "Pick a choice first."
    radio.value = next(letter for letter in CHOICES if letter != key["q1"])
    check_button.click()
    assert "is not it" in result.value and widget.score.value.startswith("Score: 0 / 5 right (1 checked)")
    radio.value = key["q1"]
    check_button.click()
    assert "is correct" in result.value and widget.score.value.startswith("Score: 1 / 5 right (1 checked)")
    second.children[1].value = key["q2"]
    second.children[2].click()
    assert widget.score.value.startswith("Score: 2 / 5 right (2 checked)")
    bundle = widget._repr_mimebundle_()
    assert WIDGET_MIMETYPE in bundle and lessons[3].questions[4].stem in bundle["text/plain"]


def test_no_rendered_widget_state_names_the_right_choice(lessons):
    """Until a student checks, the widget's synced state holds no verdict."""
    questions = select_questions("lesson5", ())
    widget = QuizWidget("lesson5", questions, render_text("lesson5", questions))
    state = repr([child.get_state() for box in widget.question_boxes for child in box.children])
    assert "correct" not in state.lower()


def test_in_a_kernel_the_widget_is_shown_with_a_readable_text_fallback(tmp_path):
    """Headless execution (nbconvert/nbclient) keeps both the widget view and the full question text;
    COURSE_QUIZ_TEXT=1 prints text only."""
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('import course_utils.quiz\ncourse_utils.quiz.self_check("lesson1", "q2")'),
            nbformat.v4.new_code_cell(
                'import os\nos.environ["COURSE_QUIZ_TEXT"] = "1"\ncourse_utils.quiz.self_check("lesson1", "q2")'
            ),
            nbformat.v4.new_code_cell('course_utils.quiz.check("lesson1", "q2", "z")'),
        ]
    )
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "COURSE_QUIZ_TEXT": "",
    }
    NotebookClient(
        notebook, timeout=60, kernel_name="python3", env=env, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    widget_output, text_output, check_output = (cell.outputs for cell in notebook.cells)
    stem = load_bank(REPO / "quizzes" / "bank")[0].questions[1].stem
    assert widget_output[0]["output_type"] == "display_data"
    assert WIDGET_MIMETYPE in widget_output[0]["data"] and stem in widget_output[0]["data"]["text/plain"]
    assert text_output[0]["output_type"] == "stream" and stem in text_output[0]["text"]
    assert "is not a choice" in check_output[0]["text"]


def test_quiz_data_is_read_as_package_resources():
    import importlib.resources

    data = importlib.resources.files("course_utils.quiz") / "data"
    assert sorted(entry.name for entry in data.iterdir() if entry.name.endswith(".json")) == [
        f"{lesson_id}.json" for lesson_id in sorted(lesson_ids(REPO / "quizzes" / "bank"))
    ]
