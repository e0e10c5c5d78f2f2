"""The student's and the instructor's experience, end to end, in a real browser.

JupyterLab is started with the README's own command (`make lab PORT=<free port>`), Debian's Chromium is
driven headless through Playwright, and the test does what a first-time student does: opens lesson 1 from
the file browser, runs it to the end on the `ci` profile, looks at its plots, answers a self-check (a
wrong, then the right answer), then fills in the release quiz and saves it (the student's lab has no nbgrader
menus: those are the instructor's). As the instructor, it autogrades the saved notebook with the course's CLI and finds the score.

Screenshots of the key moments go to build/browser-artifacts/ (with the server log and step timings).
If Chromium or Playwright is missing the test FAILS, saying how to install them: it never skips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from course_utils.paths import lesson_id as lesson_id_of
from tests.browser import chromium
from tests.browser.artifacts import Artifacts, png_problems
from tests.browser.jupyterlab import IMAGE, Lab, LabProblem, QuizWidget
from tests.browser.lab_server import LabServer

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "browser-artifacts"
# Served by JupyterLab, so inside the root; not hidden (Jupyter refuses to serve dot-folders like .cache/);
# gitignored (build/). The committed release notebook is copied here and never opened in place.
STUDENT_DIR = ROOT / "build" / "browser-student"
# The lesson a student runs in the browser: lesson 1 (COURSE_BROWSER_LESSON=<path from the repo root> to try another).
LESSON = os.environ.get("COURSE_BROWSER_LESSON", "notebooks/01_pretraining_vs_finetuning.ipynb")
QUIZ_ID = "quiz1"
STUDENT_ID = "browser_student"
KEY_SCREENSHOTS = (
    "lesson_opened",
    "plot_rendered",
    "quiz_after_wrong_answer",
    "quiz_after_right_answer",
    "release_quiz_filled_in",
)
TEXT_FALLBACK = "To check an answer, run for example"  # the self-check's text/plain version (selfcheck.render_text)
NEWS_PROMPT = re.compile(r"news", re.I)

pytestmark = pytest.mark.slow


def term_answers(workspace: Path) -> dict[str, str]:
    """The right letter per question of the term's quiz1 (its own shuffled order), from the term's key."""
    from course_quiz.term import TermKey

    return TermKey.load(workspace).answers(QUIZ_ID)


def bank_answers(lesson_id: str) -> dict[str, str]:
    """The right letter per question, from the instructor's bank (the package data only holds digests)."""
    bank = yaml.safe_load((ROOT / "quizzes" / "bank" / f"{lesson_id}.yml").read_text(encoding="utf-8"))
    return {str(question["id"]): str(question["answer"]) for question in bank["questions"]}


def squash(text: str) -> str:
    return " ".join(text.split())


class Steps:
    """Wall time per step, written next to the screenshots."""

    def __init__(self, path: Path):
        self.path, self.started, self.rows = path, time.monotonic(), []
        self._last = self.started

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.rows.append(f"{now - self._last:7.1f} s  {name}")
        self._last = now
        self.path.write_text("\n".join(self.rows + [f"{now - self.started:7.1f} s  total"]) + "\n")


def lab_environment(settings_dir: Path, workspaces_dir: Path) -> dict[str, str]:
    """The student's shell: the ci profile, no Hub; a first-time user's (empty) JupyterLab settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"}
    }
    env.update(
        COURSE_PROFILE="ci",
        HF_HUB_OFFLINE="1",
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(workspaces_dir),
    )
    # Autosave would write the running lesson (with outputs) over the committed notebook: off, and the
    # test checks the lesson file is byte-for-byte unchanged at the end.
    write_user_setting(settings_dir, "@jupyterlab/docmanager-extension", "plugin", {"autosave": False})
    return env


def write_user_setting(settings_dir: Path, extension: str, plugin: str, values: dict) -> None:
    path = settings_dir / extension / f"{plugin}.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))


def jupyter(*arguments: str) -> str:
    """`jupyter ...` from the course's environment (next to this interpreter); stdout and stderr."""
    command = [str(Path(sys.executable).parent / "jupyter"), *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # without colour codes


def test_widgets_and_nbgrader_extensions_are_enabled():
    """Both lab extensions are installed and enabled; nbgrader's server side (Validate button) is too."""
    labextensions = jupyter("labextension", "list")
    for name in ("@jupyter-widgets/jupyterlab-manager", "@jupyter/nbgrader"):
        assert re.search(rf"{re.escape(name)} v\S+ enabled OK", labextensions), labextensions
    server_extensions = jupyter("server", "extension", "list")
    for name in ("nbgrader.server_extensions.validate_assignment", "nbgrader.server_extensions.assignment_list"):
        assert re.search(rf"{re.escape(name)} enabled", server_extensions), server_extensions
        assert re.search(rf"{re.escape(name)}\s+OK", server_extensions), server_extensions


def test_setup_installed_the_no_popup_overrides():
    """tools/setup_env.sh copies the overrides into the environment JupyterLab reads them from."""
    source = json.loads((ROOT / "tools" / "jupyterlab_overrides.json").read_text())
    notification = source["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.is_file(), f"{installed} is missing: run `make setup`"
    assert json.loads(installed.read_text()) == source


@pytest.fixture
def browser_context(tmp_path):
    """Debian's Chromium in a fresh profile. A missing or broken browser fails the test with the fix."""
    try:
        sync_api = chromium.playwright_module()
        chromium.check_chromium()
    except chromium.BrowserUnavailable as error:
        pytest.fail(f"The browser test cannot run: {error}", pytrace=False)
    with sync_api.sync_playwright() as playwright:
        try:
            context = chromium.launch(playwright, tmp_path / "chromium-profile")
        except chromium.BrowserUnavailable as error:
            pytest.fail(f"The browser test cannot run: {error}", pytrace=False)
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


def test_student_and_instructor_in_a_real_browser(browser_context, tmp_path):
    lesson_path = ROOT / LESSON
    assert lesson_path.is_file(), f"{LESSON} does not exist"
    lesson_id = lesson_id_of(LESSON)
    answers = bank_answers(lesson_id)
    # The instructor's term workspace, outside the checkout; students get its release notebook.
    course = tmp_path / "quiz-term"
    quiz_cli("init", str(course), "--bank", str(ROOT / "quizzes" / "bank"))
    release = course / "release" / QUIZ_ID / f"{QUIZ_ID}.ipynb"
    checkpoints = lesson_path.parent / ".ipynb_checkpoints"
    had_checkpoints = checkpoints.exists()

    shutil.rmtree(STUDENT_DIR, ignore_errors=True)
    student_quiz = STUDENT_DIR / QUIZ_ID / f"{QUIZ_ID}.ipynb"
    student_quiz.parent.mkdir(parents=True)
    shutil.copy2(release, student_quiz)
    shots = Artifacts(ARTIFACTS)
    steps = Steps(ARTIFACTS / "timings.txt")
    settings_dir = tmp_path / "lab-user-settings"
    server = LabServer(ROOT, lab_environment(settings_dir, tmp_path / "lab-workspaces"), ARTIFACTS / "lab-server.log")
    page = browser_context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        server.start()
        steps.done(f"{' '.join(server.command)}: URL printed and answering")
        lab = Lab(page, server)

        # --- a first-time student opens the printed URL -------------------------------------------
        lab.open_start_page()
        assert lab.blocking_popups() == [], f"pop-ups greet a first-time student: {lab.blocking_popups()}"
        # `make lab` is the student's lab: nbgrader's instructor menus stay in the instructor's workspace.
        assert "Nbgrader" not in lab.menu_labels(), f"the student's lab shows nbgrader (menus: {lab.menu_labels()})"
        shots.page(page, "start_page")
        steps.done("JupyterLab loaded, no pop-ups")

        # --- the lesson, run to the end ------------------------------------------------------------
        lab.open_in_file_browser(LESSON)
        lab.wait_for_notebook(lesson_path.name)
        shots.page(page, "lesson_opened")
        steps.done(f"{LESSON} opened, kernel idle")
        cells = lab.run_all(timeout=900)
        steps.done(f"{LESSON}: Run All Cells finished ({len(cells)} code cells)")
        failed = [(cell.index, cell.source_start, cell.error) for cell in cells if cell.error]
        assert not failed, f"cells raised errors: {failed}"
        not_run = [(cell.index, cell.prompt, cell.source_start) for cell in cells if not cell.executed]
        assert not not_run, f"cells without an execution count after Run All: {not_run}"
        counts = [int(cell.prompt.strip("[]:")) for cell in cells]
        assert counts == sorted(counts), f"cells ran out of order: {counts}"
        assert any("profile 'ci'" in text for text in lab.text_outputs()), (
            "course_utils.setup() did not choose the ci profile"
        )

        images = lab.images()
        assert images, "the lesson rendered no plot (no image output)"
        blank = [
            image for image in images if not (image["naturalWidth"] > 0 and image["width"] > 0 and image["height"] > 0)
        ]
        assert not blank, f"image outputs with zero size: {blank}"
        assert all(image["alt"].strip() for image in images), f"a figure without alt text: {images}"
        shots.element(page.locator(IMAGE).first, "plot_rendered")

        # --- the self-check: a real widget, a wrong then the right answer ---------------------------
        texts = lab.text_outputs()
        assert not [text for text in texts if TEXT_FALLBACK in text], (
            "a self-check fell back to text: widgets do not render"
        )
        assert not page.get_by_text("Error displaying widget").count(), "a widget failed to display"
        quizzes = QuizWidget.all_in(lab)
        assert quizzes, "the lesson shows no self-check widget"
        quiz = quizzes[0]
        question_id = quiz.question_ids()[0]
        right = answers[question_id]
        wrong = next(letter for letter in "ABCD" if letter != right)
        assert len(quiz.choice_labels(question_id)) == 4
        from course_utils.quiz import feedback

        seen_wrong = quiz.answer(question_id, wrong)
        assert squash(feedback(lesson_id, question_id, wrong).message) in squash(seen_wrong), seen_wrong
        assert not feedback(lesson_id, question_id, wrong).is_right
        shots.element(quiz.root, "quiz_after_wrong_answer")
        seen_right = quiz.answer(question_id, right)
        assert squash(feedback(lesson_id, question_id, right).message) in squash(seen_right), seen_right
        assert "Score: 1 /" in quiz.score(), quiz.score()
        shots.element(quiz.root, "quiz_after_right_answer")
        steps.done(f"self-check {lesson_id} {question_id}: wrong {wrong}, then right {right}")

        lab.menu("File", "Close and Shut Down Notebook")
        dismiss_closing_dialogs(lab)
        steps.done("lesson closed, its kernel shut down")

        # --- the release quiz: typed answers, saved, validated ---------------------------------------
        quiz_answers, expected_score = student_quiz_answers(term_answers(course))
        before = student_quiz.read_bytes()
        lab.open_in_file_browser(student_quiz.relative_to(ROOT).as_posix())
        lab.wait_for_notebook(student_quiz.name)
        for question, typed in quiz_answers.items():
            shown = lab.type_into_cell(f"answer_{question} =", f'answer_{question} = "{typed}"')
            assert shown.strip() == f'answer_{question} = "{typed}"', f"the cell shows {shown!r}"
        cells = lab.run_all(timeout=120)
        assert not [cell for cell in cells if cell.error or not cell.executed], cells
        format_ok = [text for text in lab.text_outputs() if "format OK" in text]
        assert len(format_ok) == len(quiz_answers), lab.text_outputs()
        lab.save()
        saved = wait_for_saved(student_quiz, before, quiz_answers)
        page.locator(
            ".jp-CodeCell", has=page.locator(".cm-content", has_text="answer_q1 =")
        ).scroll_into_view_if_needed()
        shots.page(page, "release_quiz_filled_in")
        steps.done("release quiz filled in, run and saved (Ctrl+S)")

        # No nbgrader Validate button here: the quiz's own cells checked the format above; fetching and
        # submitting through nbgrader's extension is tests/test_jupyterhub_cycle.py's, on a real JupyterHub.
        assert page.locator("jp-button.validate-button").count() == 0, "nbgrader's Validate button in the student's lab"

        # --- the pop-up check itself sees a pop-up when the overrides are undone ---------------------
        write_user_setting(
            settings_dir,
            "@jupyterlab/apputils-extension",
            "notification",
            {"fetchNews": "none", "checkForUpdates": False},
        )
        control = Lab(browser_context.new_page(), server)
        control.open_start_page(settle_seconds=0)
        control.page.wait_for_selector(f"text={NEWS_PROMPT.pattern}", timeout=30_000)
        assert control.blocking_popups(), "the pop-up check is blind: it missed JupyterLab's news prompt"
        control.page.close()
        steps.done("control: with fetchNews back to its default, the news prompt is seen")
    except Exception:
        try:
            page.screenshot(path=str(ARTIFACTS / "failure.png"))
        except Exception:
            pass
        raise
    finally:
        server.stop()
        if not had_checkpoints:
            shutil.rmtree(checkpoints, ignore_errors=True)
        (ARTIFACTS / "page-errors.txt").write_text("\n".join(page_errors) + "\n")

    # Nothing committed was written: the server saved only the student's copy (it logs every save; a hash
    # of the lesson would also flag another developer editing it meanwhile), and the lesson has no outputs.
    saved_paths = set(re.findall(r"Saving file at (\S+)", server.output()))
    assert saved_paths == {f"/{student_quiz.relative_to(ROOT).as_posix()}"}, f"the lab saved {saved_paths}"
    lesson_now = nbformat.read(lesson_path, as_version=4)
    assert not [cell for cell in lesson_now.cells if cell.get("outputs") or cell.get("execution_count")], (
        f"{LESSON} now holds outputs"
    )

    # --- the instructor grades the saved notebook by reading it, in the term workspace ----------------
    submissions = tmp_path / "submissions" / QUIZ_ID
    submissions.mkdir(parents=True)
    shutil.copy2(saved, submissions / f"{STUDENT_ID}.ipynb")
    graded = quiz_cli("autograde", str(submissions), "--course", str(course))
    assert f"{STUDENT_ID}: {expected_score}/{len(quiz_answers)}" in graded, graded
    summary = quiz_cli("summary", "--course", str(course))
    assert re.search(rf"^{STUDENT_ID}\s+{expected_score}/{len(quiz_answers)}(\s+-)*\s*$", summary, re.M), summary
    steps.done(f"instructor: autograde + summary, {STUDENT_ID} scored {expected_score}/{len(quiz_answers)}")

    problems = [
        problem
        for name in KEY_SCREENSHOTS
        for problem in png_problems(shots.taken.get(name, ARTIFACTS / f"{name}.png"))
    ]
    assert not problems, problems


def student_quiz_answers(right: dict[str, str]) -> tuple[dict[str, str], int]:
    """Answers as students type them (any accepted form), one of them wrong; and the score they earn."""
    forms = ("{}", "{}", "{})", "({})", "{}.")
    typed, score = {}, 0
    for number, (question, letter) in enumerate(sorted(right.items())):
        if number == 3:  # the fourth question is answered wrongly
            letter = next(other for other in "ABCD" if other != letter)
        else:
            score += 1
        form = forms[number % len(forms)]
        typed[question] = form.format(letter.lower() if number == 1 else letter)
    return typed, score


def wait_for_saved(path: Path, before: bytes, typed: dict[str, str], timeout: float = 20) -> Path:
    """Ctrl+S reached the disk: the file changed and holds every typed answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = path.read_bytes()
        if data != before:
            try:
                sources = "\n".join(cell.source for cell in nbformat.reads(data.decode(), as_version=4).cells)
            except Exception:  # caught mid-write
                sources = ""
            if all(f'answer_{question} = "{answer}"' in sources for question, answer in typed.items()):
                return path
        time.sleep(0.3)
    raise LabProblem(f"{path} was not saved with the typed answers within {timeout:.0f} s of Ctrl+S")


def dismiss_closing_dialogs(lab: Lab, timeout: float = 20) -> None:
    """Closing a run lesson asks to confirm the shutdown and whether to save: shut down, don't save."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dialog = lab.page.locator(".jp-Dialog")
        if dialog.count():
            buttons = dialog.first.locator(".jp-Dialog-button")
            labels = [label.strip() for label in buttons.all_inner_texts()]
            for wanted in ("Discard", "Don't Save", "Shut Down", "Ok", "OK"):
                if wanted in labels:
                    buttons.nth(labels.index(wanted)).click()
                    break
            else:
                raise LabProblem(f"unexpected dialog while closing the lesson: {dialog.first.inner_text()!r}")
            time.sleep(0.5)
            continue
        if not lab.page.locator(
            ".lm-TabBar-tab.lm-mod-current .jp-NotebookPanel-tab, .jp-NotebookPanel:visible"
        ).count():
            return
        time.sleep(0.3)
    raise LabProblem("the lesson did not close")


def quiz_cli(*arguments: str) -> str:
    command = [sys.executable, "-m", "course_quiz", *arguments]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout
