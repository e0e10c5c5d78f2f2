"""Helpers for the end-to-end browser test (tests/test_browser.py): JupyterLab started with the README's
command, Debian's Chromium driven by Playwright, and the page actions a student and an instructor perform."""
