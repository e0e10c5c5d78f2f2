"""Lesson self-checks: an ipywidgets quiz in a notebook, readable text everywhere else.

Correctness is derived from the salted digest in the shipped data (see `data_files`), so neither the
data nor the rendered widget states which choice is right until a student checks one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..runtime import env_flag
from .answers import CHOICES, read_choice
from .data_files import find_question, is_right_choice, load_lesson_data

TEXT_MODE_VARIABLE = "COURSE_QUIZ_TEXT"
WIDGET_MIMETYPE = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Feedback:
    question_id: str
    letter: str | None  # None when the answer is not readable as A-D
    is_right: bool
    message: str


def feedback(lesson_id: str, question_id: str, answer) -> Feedback:
    """What a student learns from answering `answer` to a question (nothing is printed)."""
    question = find_question(lesson_id, question_id)
    letter = read_choice(answer)
    if letter is None:
        message = (
            f"{question_id}: {answer!r} is not a choice. Answer with one letter: "
            f"{', '.join(CHOICES[:-1])} or {CHOICES[-1]}."
        )
        return Feedback(question_id, None, False, message)
    why = next(choice["why"] for choice in question["choices"] if choice["letter"] == letter)
    if is_right_choice(lesson_id, question, letter):
        return Feedback(question_id, letter, True, f"{question_id}: {letter} is correct. {why}")
    return Feedback(question_id, letter, False, f"{question_id}: {letter} is not it. {why} Try another choice.")


def check(lesson_id: str, question_id: str, answer) -> None:
    """Print feedback on one answer, e.g. `check("lesson1", "q1", "B")` (the text-mode self-check)."""
    print(feedback(lesson_id, question_id, answer).message)


def self_check(lesson_id: str, *question_ids: str) -> None:
    """Show a multiple-choice check for some (default: all) questions of a lesson."""
    questions = select_questions(lesson_id, question_ids)
    text = render_text(lesson_id, questions)
    if not widget_front_end_possible():
        print(text)
        return
    from IPython.display import display

    display(QuizWidget(lesson_id, questions, text))


def select_questions(lesson_id: str, question_ids) -> list[dict]:
    if not question_ids:
        return list(load_lesson_data(lesson_id)["questions"])
    return [find_question(lesson_id, question_id) for question_id in question_ids]


def render_text(lesson_id: str, questions: list[dict]) -> str:
    title = load_lesson_data(lesson_id)["title"]
    lines = [f"Check your understanding ({lesson_id}: {title})"]
    for question in questions:
        lines += ["", f"{question['id']}. {question['stem']}"]
        lines += [f"   {choice['letter']}) {choice['text']}" for choice in question["choices"]]
    example = questions[0]["id"]
    lines += [
        "",
        "To check an answer, run for example:",
        f'    course_utils.quiz.check("{lesson_id}", "{example}", "A")   # your letter instead of A',
    ]
    return "\n".join(lines)


def widget_front_end_possible() -> bool:
    """True in a Jupyter kernel with ipywidgets, unless COURSE_QUIZ_TEXT=1 asks for text.

    Whether a front end will actually render the widget cannot be known from the kernel, so the
    widget is displayed together with a full text/plain version (see QuizWidget._repr_mimebundle_):
    Lab, Notebook and Colab render the widget, nbconvert and consoles keep the readable text.
    """
    if env_flag(TEXT_MODE_VARIABLE):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class QuizWidget:
    """Radio buttons per question, a Check button each, feedback with the explanation, a running score."""

    def __init__(self, lesson_id: str, questions: list[dict], text: str):
        import ipywidgets as widgets

        self.lesson_id = lesson_id
        self.text = text
        self.results: dict[str, bool] = {}  # question id -> was the last checked answer right
        self.score = widgets.HTML()
        self.question_boxes = [self._question_box(widgets, question) for question in questions]
        self.total = len(questions)
        self._update_score()
        title = widgets.HTML(f"<b>Check your understanding</b> ({html.escape(lesson_id)})")
        self.box = widgets.VBox([title, *self.question_boxes, self.score])

    def _question_box(self, widgets, question: dict):
        stem = widgets.HTML(f"<b>{html.escape(question['id'])}.</b> {html.escape(question['stem'])}")
        options = [(f"{c['letter']}) {c['text']}", c["letter"]) for c in question["choices"]]
        buttons = widgets.RadioButtons(options=options, value=None, layout=widgets.Layout(width="max-content"))
        check_button = widgets.Button(description="Check", button_style="primary")
        result = widgets.HTML()
        check_button.on_click(lambda _: self.on_check(question["id"], buttons.value, result))
        return widgets.VBox([stem, buttons, check_button, result])

    def on_check(self, question_id: str, letter: str | None, result) -> None:
        if letter is None:
            result.value = "Pick a choice first."
            return
        outcome = feedback(self.lesson_id, question_id, letter)
        self.results[question_id] = outcome.is_right
        # Heavy check / ballot X (U+2714, U+2718) are in common text fonts; emoji marks show as empty boxes
        # where no emoji font is installed (headless browsers, minimal Linux desktops).
        mark = '<b style="color:#1a7f37">&#10004;</b>' if outcome.is_right else '<b style="color:#cf222e">&#10008;</b>'
        result.value = f"{mark} {html.escape(outcome.message)}"
        self._update_score()

    def _update_score(self) -> None:
        right = sum(self.results.values())
        self.score.value = f"Score: {right} / {self.total} right ({len(self.results)} checked)"

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.box._repr_mimebundle_()
        bundle["text/plain"] = self.text  # ipywidgets' own fallback is a truncated "VBox(...)"
        return bundle
