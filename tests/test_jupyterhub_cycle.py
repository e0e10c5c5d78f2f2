"""nbgrader's whole cycle for a course-quiz term on a real JupyterHub, in Chromium.

JupyterHub (with configurable-http-proxy) runs on 127.0.0.1 as root and starts each user's JupyterLab as a
local account the test creates (`useradd`): one instructor, three students, nbgrader's exchange in a temporary
folder. The instructor builds the term (`course-quiz init`) and releases quiz1 with nbgrader; each student logs
in, fetches the quiz from the Assignments tab, types answers, saves and submits it there. The instructor
collects with nbgrader, grades with course-quiz (statically), sees each student's notebook in the formgrader,
overrides one answer there by hand, releases feedback after the release time and exports; a student fetches
the feedback and finds the override. At the end every process the test started is gone and its ports closed.

Screenshots go to build/screenshots/ (hub-*.png). If Chromium, Playwright, JupyterHub or the proxy is missing,
the test FAILS with the fix.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from course_quiz.term import TermKey
from tests.browser import chromium
from tests.browser.jupyterlab import Lab, LabProblem
from tests.hub.hub import COURSE_ID, PASSWORD, VENV_BIN, Hub, Users, port_is_open, shared_folder, user_bin

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"
QUIZ = "quiz1"
INSTRUCTOR = "cqhub_teacher"
STUDENTS = ("cqhub_alice", "cqhub_bob", "cqhub_carol")

pytestmark = pytest.mark.slow


def exchange_config(exchange: Path) -> str:
    return f"c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n"


def planned_answers(key: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per student the letters typed: alice all right, bob all wrong, carol right on odd questions only."""
    rng = random.Random(20)

    def wrong(letter: str) -> str:
        return rng.choice([choice for choice in "ABCD" if choice != letter])

    questions = list(key)
    return {
        STUDENTS[0]: dict(key),
        STUDENTS[1]: {q: wrong(key[q]) for q in questions},
        STUDENTS[2]: {q: key[q] if i % 2 == 0 else wrong(key[q]) for i, q in enumerate(questions)},
    }


class Shots:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("hub-*"):
            old.unlink()
        self.taken: list[Path] = []

    def take(self, page, name: str, scroll_to: str | None = None) -> Path:
        """The page as the user sees it: the viewport, scrolled to `scroll_to` if given."""
        path = self.folder / f"hub-{len(self.taken) + 1:02d}-{name}.png"
        if scroll_to:
            page.locator(scroll_to).first.scroll_into_view_if_needed()
        page.screenshot(path=str(path))
        self.taken.append(path)
        return path


def log_in(context, hub: Hub, user: str):
    """The hub's login form, as a user fills it; waits for JupyterLab (the hub spawns the server first)."""
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_selector(".jp-LabShell", timeout=300_000)
    page.wait_for_selector(".lm-MenuBar-itemLabel", timeout=120_000)
    time.sleep(2)  # JupyterLab raises its start-up notifications a moment later
    return page


def open_assignment_list(lab: Lab) -> None:
    lab.menu("Nbgrader", "Assignment List")
    lab.page.wait_for_selector("#released_assignments_list", timeout=60_000)


def fetch_answer_submit(context, hub: Hub, student: str, letters: dict[str, str], home: Path, shots: Shots) -> None:
    page = log_in(context, hub, student)
    lab = Lab(page, server=None)
    open_assignment_list(lab)
    fetch = page.locator("#released_assignments_list button", has_text="Fetch")
    fetch.first.wait_for(timeout=60_000)
    if student == STUDENTS[0]:
        shots.take(page, f"{student}-assignments-tab-before-fetch")
    fetch.first.click()
    page.locator("#fetched_assignments_list button", has_text="Submit").first.wait_for(timeout=60_000)
    notebook = home / QUIZ / f"{QUIZ}.ipynb"
    assert notebook.is_file(), f"Fetch left no {notebook}"
    before = notebook.read_bytes()
    lab.open_in_file_browser(f"{QUIZ}/{QUIZ}.ipynb", timeout=60)
    lab.wait_for_notebook(f"{QUIZ}.ipynb", timeout=180)
    for question, letter in letters.items():
        lab.type_into_cell(f"answer_{question} =", f'answer_{question} = "{letter}"')
    lab.save()
    saved = wait_for_change(notebook, before)
    typed = {question: letter for question, letter in answers_in(saved).items() if question in letters}
    assert typed == letters, f"{student}'s saved notebook holds {typed}, typed {letters}"
    shots.take(page, f"{student}-quiz-answered")
    open_assignment_list(lab)
    page.locator("#fetched_assignments_list button", has_text="Submit").first.click()
    page.locator("#submitted_assignments_list .list_item").first.wait_for(timeout=60_000)
    shots.take(page, f"{student}-submitted")
    page.close()


def wait_for_change(path: Path, before: bytes, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = path.read_bytes()
        if data != before:
            try:
                return json.loads(data)
            except ValueError:
                pass  # caught mid-write
        time.sleep(0.3)
    raise LabProblem(f"{path} was not saved within {timeout:.0f} s of Ctrl+S")


def answers_in(notebook: dict) -> dict[str, str]:
    from course_utils.quiz.answers import read_answer

    found = {}
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("_answer"):
            question = grade_id.removesuffix("_answer")
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            found[question] = read_answer(source, f"answer_{question}")[0]
    return found


def api_get(page, hub: Hub, user: str, path: str):
    response = page.request.get(f"{hub.url}/user/{user}{path}")
    assert response.ok, f"GET {path}: {response.status} {response.text()[:500]}"
    return response.json()


def test_the_nbgrader_cycle_on_jupyterhub_in_a_browser():
    try:
        sync_api = chromium.playwright_module()
        chromium.check_chromium()
    except chromium.BrowserUnavailable as error:
        pytest.fail(f"The JupyterHub test cannot run: {error}", pytrace=False)
    if not (VENV_BIN / "jupyterhub").is_file():
        pytest.fail("JupyterHub is not installed. Fix: `make setup` (the [test] extra installs it).", pytrace=False)
    root = shared_folder("course-hub-")
    homes, exchange, etc = root / "home", root / "exchange", root / "etc"
    for folder, mode in ((homes, 0o755), (exchange, 0o1777), (etc, 0o755)):
        folder.mkdir()
        folder.chmod(mode)
    (etc / "nbgrader_config.py").write_text(exchange_config(exchange))
    (etc / "nbgrader_config.py").chmod(0o644)
    users = Users(homes)
    hub = None
    shots = Shots(SCREENSHOTS)
    try:
        home = {name: users.add(name) for name in (INSTRUCTOR, *STUDENTS)}
        bin_dir, python_env = user_bin(root)
        env = {
            **python_env,
            "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": str(etc),  # nbgrader finds the exchange and the course id here
            "CI": "true",
            "COURSE_PROFILE": "ci",
            "HF_HUB_OFFLINE": "1",
        }
        teacher = home[INSTRUCTOR]

        def instructor(*command: str) -> str:
            return users.run(INSTRUCTOR, list(command), cwd=teacher, env=env)

        # --- the instructor: a term in the home folder, quiz1 released through nbgrader's exchange --------
        instructor("course-quiz", "init", str(teacher), "--bank", str(ROOT / "quizzes" / "bank"))
        instructor("nbgrader", "release_assignment", QUIZ)
        key = TermKey.load(teacher).answers(QUIZ)
        plan = planned_answers(key)

        hub = Hub(root, home, INSTRUCTOR, env, bin_dir).start()
        with sync_api.sync_playwright() as playwright:
            for student in STUDENTS:  # each in a fresh browser profile: their own hub cookie
                context = chromium.launch(playwright, root / f"profile-{student}")
                try:
                    fetch_answer_submit(context, hub, student, plan[student], home[student], shots)
                finally:
                    context.close()

            # --- collect and grade statically, as the instructor types it ---------------------------------
            instructor("nbgrader", "collect", QUIZ)
            graded = instructor("course-quiz", "autograde", str(teacher / "submitted"), "--course", str(teacher))
            expected = {s: sum(plan[s][q] == key[q] for q in key) for s in STUDENTS}
            for student, score in expected.items():
                assert f"{student}: {score}/{len(key)}" in graded, graded

            context = chromium.launch(playwright, root / "profile-instructor")
            try:
                page = log_in(context, hub, INSTRUCTOR)
                assignment = api_get(page, hub, INSTRUCTOR, f"/formgrader/api/assignment/{QUIZ}")
                assert assignment["status"] == "released" and assignment["num_submissions"] == len(STUDENTS)
                page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/manage_assignments")
                page.wait_for_selector(f"text={QUIZ}", timeout=60_000)
                shots.take(page, "formgrader-manage-assignments")  # released, 3 submissions: no draft
                listed = api_get(page, hub, INSTRUCTOR, f"/formgrader/api/submitted_notebooks/{QUIZ}/{QUIZ}")
                assert {row["student"]: row["score"] for row in listed} == {s: float(v) for s, v in expected.items()}
                page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/gradebook/{QUIZ}/{QUIZ}")
                page.wait_for_selector("a.name-shown", state="attached", timeout=60_000)  # names hidden by default
                assert page.locator("a.name-shown").count() == len(STUDENTS)
                page.click("text=Show All Names")
                page.wait_for_selector(f"a.name-shown:has-text('{STUDENTS[0]}')", timeout=30_000)
                shots.take(page, "formgrader-submissions-list")
                by_student = {row["student"]: row["id"] for row in listed}
                for student in STUDENTS:
                    page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/submissions/{by_student[student]}/")
                    page.wait_for_selector("input.score", timeout=60_000)
                    shown = page.locator("body").inner_text()
                    for question, letter in plan[student].items():
                        assert f'answer_{question} = "{letter}"' in shown, f"{student}'s {question} not shown"
                    shots.take(page, f"formgrader-{student}", scroll_to="input.score#q1_test")

                # --- a manual override, typed into the formgrader -------------------------------------------
                overridden = STUDENTS[1]
                page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/submissions/{by_student[overridden]}/")
                score_box = page.locator("input.score#q2_test")
                score_box.wait_for(timeout=60_000)
                score_box.fill("1")
                score_box.press("Enter")
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    rows = api_get(page, hub, INSTRUCTOR, f"/formgrader/api/submitted_notebooks/{QUIZ}/{QUIZ}")
                    if next(r["score"] for r in rows if r["student"] == overridden) == expected[overridden] + 1:
                        break
                    time.sleep(0.5)
                else:
                    raise AssertionError(f"the override typed into the formgrader was not saved: {rows}")
                shots.take(page, f"formgrader-{overridden}-overridden", scroll_to="input.score#q2_test")
                summary = instructor("course-quiz", "summary", "--course", str(teacher))
                assert "manual: q2_test set by hand to 1" in summary, summary

                # --- feedback: refused before the release time, returned after it -------------------------
                with pytest.raises(AssertionError, match="not released yet"):
                    instructor("course-quiz", "feedback", QUIZ, "--course", str(teacher))
                past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="minutes")
                instructor("course-quiz", "settings", "--course", str(teacher), "--feedback-after", past)
                instructor("course-quiz", "feedback", QUIZ, "--course", str(teacher))
                instructor("nbgrader", "generate_feedback", QUIZ, "--force")  # over course-quiz's own pages
                instructor("nbgrader", "release_feedback", QUIZ)
                student_page = log_in(
                    chromium_context := chromium.launch(playwright, root / "profile-feedback"), hub, overridden
                )
                try:
                    lab = Lab(student_page, server=None)
                    open_assignment_list(lab)
                    student_page.locator("#submitted_assignments_list button", has_text="Fetch Feedback").first.click()
                    deadline = time.monotonic() + 60
                    feedback = []
                    while not feedback and time.monotonic() < deadline:
                        feedback = list((home[overridden] / QUIZ / "feedback").glob(f"*/{QUIZ}.html"))
                        time.sleep(0.5)
                    assert feedback, "Fetch Feedback brought no feedback into the student's quiz folder"
                    shots.take(student_page, f"{overridden}-feedback-fetched")
                    text = feedback[0].read_text()
                    assert f"Score: {expected[overridden] + 1:.1f} / {len(key):.1f}" in text
                    student_page.goto(
                        f"{hub.url}/user/{overridden}/files/{QUIZ}/feedback/{feedback[0].parent.name}/{QUIZ}.html"
                    )
                    shots.take(student_page, f"{overridden}-feedback-page")
                finally:
                    chromium_context.close()
            except Exception:
                for number, open_page in enumerate(context.pages):
                    open_page.screenshot(path=str(SCREENSHOTS / f"hub-failure-{number}.png"), full_page=True)
                raise
            finally:
                context.close()

        # --- the export carries the override ------------------------------------------------------------------
        instructor("course-quiz", "export", "--course", str(teacher), "--to", str(teacher / "exports" / "lms.csv"))
        with open(teacher / "exports" / "lms.csv", newline="") as handle:
            exported = {r["student_id"]: r for r in csv.DictReader(handle) if r["assignment"] == QUIZ}
        assert float(exported[overridden]["score"]) == expected[overridden] + 1
        assert float(exported[STUDENTS[0]]["score"]) == len(key)
    finally:
        if hub is not None:
            hub.stop()
        leftovers = users.still_running(grace_seconds=30)
        users.remove()
        if (root / "jupyterhub.log").is_file():  # the hub's and every server's log, kept beside the screenshots
            shutil.copy(root / "jupyterhub.log", SCREENSHOTS / "hub-jupyterhub.log")
        shutil.rmtree(root, ignore_errors=True)
    assert not leftovers, f"processes of the test's users outlived the hub: {leftovers}"
    assert not [port for port in hub.ports if port_is_open(port)], f"ports still open after stop: {hub.ports}"
    print("screenshots:\n" + "\n".join(str(path.relative_to(ROOT)) for path in shots.taken))
