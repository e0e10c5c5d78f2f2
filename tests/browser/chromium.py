"""Start Debian's Chromium under Playwright (never Playwright's own browser download).

Any reason the browser cannot start becomes a `BrowserUnavailable` with the fix in one sentence: the
browser test fails with it instead of skipping, so a CI image without Chromium is noticed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
# Headless in a container, and quiet: without the background-networking flags Chromium keeps trying to
# reach Google's services, which only floods a closed network.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
VIEWPORT = {"width": 1280, "height": 900}


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing or does not start; the message says how to fix it."""


def playwright_module():
    try:
        from playwright import sync_api
    except ImportError as error:
        raise BrowserUnavailable(
            f"Playwright is not installed ({error}). Fix: `make setup` (it installs the package's [test] extra)."
        ) from None
    return sync_api


def check_chromium() -> Path:
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        raise BrowserUnavailable(
            f"No Chromium at {CHROMIUM}{f' (there is one at {found}: set COURSE_CHROMIUM)' if found else ''}. "
            "Fix: `apt-get install -y chromium` (what .ci/run does); Playwright's own browsers are not used."
        )
    return CHROMIUM


def launch(playwright, user_data_dir: Path):
    """A persistent context in a fresh profile folder; raises BrowserUnavailable if Chromium does not start."""
    executable = check_chromium()
    try:
        return playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(executable),
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport=VIEWPORT,
            accept_downloads=False,
            timeout=60_000,
        )
    except Exception as error:  # playwright.Error, TimeoutError: both mean "no browser"
        raise BrowserUnavailable(
            f"Chromium at {executable} did not start under Playwright: {str(error).strip()[:1500]}"
        ) from None
