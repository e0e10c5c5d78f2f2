"""Text that came from a submission, made safe for where it goes: a terminal, a JSON file, a spreadsheet."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


def printable(text: str) -> str:
    """Control characters, lone surrogates and other unprintable code points as Python escapes (\\n, \\ud800)."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def spreadsheet_cell(value) -> str:
    """A CSV cell an LMS or a spreadsheet takes as text: numbers as they are, text that could start a formula
    prefixed with ' (OWASP's CSV injection rule), unprintable characters escaped."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    text = printable(value)
    return "'" + text if str(value).startswith(FORMULA_STARTS) or text.startswith(FORMULA_STARTS) else text
