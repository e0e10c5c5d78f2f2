"""What a student does in JupyterLab 4, as Playwright page actions, and what the test reads back from the page.

Selectors are JupyterLab's and ipywidgets' own DOM classes (no test ids exist there); each is used in one
place here, so a JupyterLab upgrade that renames one breaks one helper with a clear message.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

KERNEL_STATUS = ".jp-StatusBar-TextItem[title^='Change kernel']"  # "Python 3 (ipykernel) | Idle"
TOASTS = ".Toastify__toast, .jp-Notification-Toast-info, .jp-Notification-Toast-warning, .jp-Notification-Toast-error"
DIALOG = ".jp-Dialog"
NOTIFICATION_COUNT = ".jp-Notification-Status-Text"
CODE_CELL = ".jp-Notebook .jp-CodeCell"
PROMPT = ".jp-InputArea-prompt"
OUTPUT = ".jp-OutputArea-output"
ERROR_MARK = "Traceback (most recent call last)"  # IPython's header of every error output
# A figure is a PNG, or (with its alt text) the same PNG inside an HTML <img>, which JupyterLab prefers.
IMAGE = f"{OUTPUT}.jp-RenderedImage img, {OUTPUT}.jp-RenderedHTMLCommon img"
EXECUTED = re.compile(r"^\[(\d+)\]:$")


class LabProblem(AssertionError):
    """Something a student would see go wrong; the message says what was on the page."""


@dataclass
class CellState:
    index: int
    prompt: str  # "[3]:" executed, "[*]:" running or queued, "[ ]:" / "" never run
    source_start: str
    error: str | None  # the error output's first lines, if the cell raised

    @property
    def executed(self) -> bool:
        return EXECUTED.match(self.prompt) is not None


class Lab:
    """One JupyterLab page; `server` is the tests.browser.lab_server.LabServer it talks to."""

    def __init__(self, page, server):
        self.page = page
        self.server = server

    # --- the application -------------------------------------------------------------------------
    def open_start_page(self, settle_seconds: float = 4.0) -> None:
        """The URL `make lab` printed, as a student pastes it; waits for the file browser to list files."""
        self.page.goto(self.server.url)
        self.page.wait_for_selector(".jp-LabShell", timeout=120_000)
        self.page.wait_for_selector(".jp-DirListing-item", state="attached", timeout=120_000)
        # News and update prompts are raised a moment after start-up; give them the chance to appear.
        time.sleep(settle_seconds)

    def blocking_popups(self) -> list[str]:
        """Texts of any toast or dialog on screen, and a non-zero notification count."""
        found = [f"toast: {text.strip()[:300]}" for text in self.page.locator(TOASTS).all_inner_texts()]
        found += [f"dialog: {text.strip()[:300]}" for text in self.page.locator(DIALOG).all_inner_texts()]
        count = self.page.locator(NOTIFICATION_COUNT)
        if count.count() and count.first.inner_text().strip() not in ("", "0"):
            found.append(f"notification centre holds {count.first.inner_text().strip()} notification(s)")
        return found

    def menu_labels(self) -> list[str]:
        return [label.strip() for label in self.page.locator(".lm-MenuBar-itemLabel").all_inner_texts()]

    def menu(self, *path: str) -> None:
        """Click through the menu bar, e.g. menu("Run", "Run All Cells"); an entry may be given by its start
        ("Close and Shut Down" is "Close and Shut Down Notebook" when a notebook is active)."""
        self.page.locator(".lm-MenuBar-itemLabel").get_by_text(path[0], exact=True).click()
        for label in path[1:]:
            entries = self.page.locator(".lm-Menu:visible").last.locator(".lm-Menu-item")
            texts = [text.strip() for text in entries.locator(".lm-Menu-itemLabel").all_inner_texts()]
            matches = [i for i, text in enumerate(texts) if text == label] or [
                i for i, text in enumerate(texts) if text.startswith(label)
            ]
            if not matches:
                raise LabProblem(f"no menu entry {label!r} under {' > '.join(path[:-1])}; it has {texts}")
            entries.nth(matches[0]).click()

    def open_in_file_browser(self, path: str, timeout: float = 30) -> None:
        """Open a file the way a student does: file browser home, double-click each folder, then the file."""
        self.page.click(".jp-BreadCrumbs-home")
        for name in path.split("/"):
            item = self.page.locator(".jp-DirListing-item").filter(
                has=self.page.locator(".jp-DirListing-itemText").get_by_text(name, exact=True)
            )
            try:
                item.first.wait_for(timeout=timeout * 1000)
            except Exception:
                listed = self.page.locator(".jp-DirListing-itemText").all_inner_texts()
                raise LabProblem(f"{name} (of {path}) is not in the file browser; it lists {listed}") from None
            item.first.dblclick()

    def open_path(self, path: str) -> None:
        """Open a file of the served root by its JupyterLab URL (/lab/tree/<path>)."""
        self.page.goto(self.server.url_for(f"/lab/tree/{path}"))

    # --- a notebook ------------------------------------------------------------------------------
    def wait_for_notebook(self, name: str, timeout: float = 120) -> None:
        """The notebook's tab is active and its kernel is connected and idle."""
        self.page.wait_for_selector(f".lm-TabBar-tab.lm-mod-current:has-text('{name}')", timeout=timeout * 1000)
        self.page.wait_for_selector(CODE_CELL, timeout=timeout * 1000)
        self.wait_for_kernel_idle(timeout)

    def kernel_status(self) -> str:
        status = self.page.locator(KERNEL_STATUS)
        return status.first.inner_text().strip() if status.count() else ""

    def wait_for_kernel_idle(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.kernel_status().endswith("| Idle"):
                return
            self._fail_on_kernel_dialog()
            time.sleep(0.5)
        raise LabProblem(f"the kernel is not idle after {timeout:.0f} s (status bar: {self.kernel_status()!r})")

    def _fail_on_kernel_dialog(self) -> None:
        dialogs = self.page.locator(DIALOG).all_inner_texts()
        if dialogs:
            raise LabProblem(f"a dialog blocks the notebook: {dialogs[0].strip()[:300]!r}")

    def cells(self) -> list[CellState]:
        # textContent, not innerText: JupyterLab 4 skips rendering off-screen cells (windowing mode
        # "contentVisibility"), and the innerText of a skipped cell is empty.
        states = self.page.eval_on_selector_all(
            CODE_CELL,
            f"""cells => cells.map(cell => {{
            const prompt = cell.querySelector('{PROMPT}');
            const editor = cell.querySelector('.cm-content');
            const outputs = [...cell.querySelectorAll('{OUTPUT}')].map(o => o.textContent);
            const error = outputs.find(text => text.includes({ERROR_MARK!r}));
            return [prompt ? prompt.textContent.trim() : '', editor ? editor.textContent.slice(0, 80) : '',
                    error === undefined ? null : error.slice(0, 1500)];
        }})""",
        )
        return [CellState(index, prompt, start, error) for index, (prompt, start, error) in enumerate(states)]

    def run_all(self, timeout: float = 600) -> list[CellState]:
        """Run > Run All Cells, then wait until nothing is queued and the kernel is idle."""
        self.menu("Run", "Run All Cells")
        deadline = time.monotonic() + timeout
        time.sleep(1)
        quiet_polls = 0
        while time.monotonic() < deadline:
            self._fail_on_kernel_dialog()
            cells = self.cells()
            running = any(cell.prompt == "[*]:" for cell in cells)
            quiet_polls = 0 if running or not self.kernel_status().endswith("| Idle") else quiet_polls + 1
            if quiet_polls >= 3:
                return cells
            time.sleep(1)
        raise LabProblem(
            f"Run All did not finish within {timeout:.0f} s: "
            f"{[(cell.index, cell.prompt) for cell in self.cells() if not cell.executed]}"
        )

    def type_into_cell(self, starts_with: str, text: str) -> str:
        """Click into the code cell whose source starts with `starts_with`, replace its text by typing."""
        cell = self.page.locator(CODE_CELL, has=self.page.locator(".cm-content", has_text=starts_with))
        if cell.count() != 1:
            raise LabProblem(f"expected one cell starting {starts_with!r}, found {cell.count()}")
        editor = cell.locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)
        self.page.keyboard.press("Escape")  # back to command mode, as after editing
        return editor.inner_text()

    def save(self) -> None:
        self.page.keyboard.press("Control+S")

    def images(self) -> list[dict]:
        """Rendered image outputs with their natural and on-screen sizes, each scrolled into view first (an
        off-screen cell is not laid out, so its image would measure 0 x 0)."""
        images = self.page.locator(IMAGE)
        measured = []
        for index in range(images.count()):
            image = images.nth(index)
            image.scroll_into_view_if_needed()
            measured.append(
                image.evaluate("""img => {
                const box = img.getBoundingClientRect();
                return {naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
                        width: box.width, height: box.height, complete: img.complete, alt: img.alt};
            }""")
            )
        return measured

    def text_outputs(self) -> list[str]:
        return self.page.locator(f"{OUTPUT}.jp-RenderedText").all_text_contents()  # off-screen ones too

    def dialog_text(self, timeout: float = 120) -> str:
        self.page.wait_for_selector(DIALOG, timeout=timeout * 1000)
        return self.page.locator(DIALOG).first.inner_text()

    def close_dialog(self) -> None:
        """Press the dialog's default button (the last one: "Ok", "Close", ...)."""
        self.page.locator(f"{DIALOG} .jp-Dialog-button").last.click()
        self.page.wait_for_selector(DIALOG, state="detached", timeout=10_000)


class QuizWidget:
    """A rendered `course_utils.quiz.self_check(...)` widget: per question a stem, radio buttons, Check, feedback.

    Texts are read as textContent: the widget may sit in an off-screen cell, whose innerText is empty."""

    QUESTION = ".widget-vbox:has(> .widget-radio)"

    def __init__(self, lab: Lab, root_locator):
        self.lab = lab
        self.root = root_locator

    @classmethod
    def all_in(cls, lab: Lab) -> list[QuizWidget]:
        outputs = lab.page.locator(f"{OUTPUT}:has(.widget-radio)")
        return [cls(lab, outputs.nth(index)) for index in range(outputs.count())]

    def question_ids(self) -> list[str]:
        ids = []
        for box in self._boxes():
            match = re.match(r"\s*(q\d+)\.", box.locator(".widget-html").first.text_content())
            ids.append(match.group(1) if match else "?")
        return ids

    def _boxes(self):
        boxes = self.root.locator(self.QUESTION)
        return [boxes.nth(index) for index in range(boxes.count())]

    def _box(self, question_id: str):
        for box, found in zip(self._boxes(), self.question_ids()):
            if found == question_id:
                return box
        raise LabProblem(f"the quiz widget has no question {question_id} (it has {self.question_ids()})")

    def choice_labels(self, question_id: str) -> list[str]:
        return [text.strip() for text in self._box(question_id).locator(".widget-radio-box label").all_text_contents()]

    def feedback(self, question_id: str) -> str:
        return self._box(question_id).locator(".widget-html").last.text_content().strip()

    def score(self) -> str:
        return self.root.locator(".widget-html").last.text_content().strip()

    def answer(self, question_id: str, letter: str, timeout: float = 30) -> str:
        """Pick the choice `letter`, press Check, wait for the feedback text to change; returns it."""
        box = self._box(question_id)
        before = self.feedback(question_id)
        labels = box.locator(".widget-radio-box label")
        index = "ABCD".index(letter)
        labels.nth(index).locator("input[type=radio]").check()
        box.locator("button.widget-button:has-text('Check')").click()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.feedback(question_id)
            if now and now != before:
                return now
            time.sleep(0.2)
        raise LabProblem(
            f"no new feedback for {question_id} after checking {letter} (still {before!r}); "
            "is the kernel connected to the widget?"
        )

    def screenshot(self, path) -> None:
        self.root.scroll_into_view_if_needed()
        self.root.screenshot(path=str(path))
