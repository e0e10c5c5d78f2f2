"""How a student's answer is read and how the shipped data lets it be checked without holding the key.

`READ_CHOICE_SOURCE` is the ONE definition of answer normalisation. The package executes it below, and
the generated quiz notebooks embed the same text (they must run in Colab without this package), so
the self-check, the notebook's format check and the autograder's hidden tests always agree.
"""

from __future__ import annotations

import hashlib

CHOICES = ("A", "B", "C", "D")

READ_CHOICE_SOURCE = '''\
def read_choice(value):
    """The letter A-D an answer stands for ("b", " B ", "B)", "(b)", "b." all mean B), else None."""
    import re
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\\(?\\s*([A-Da-d])\\s*[).]?", str.strip(value))
    return match.group(1).upper() if match else None
'''

_namespace: dict = {}
exec(READ_CHOICE_SOURCE, _namespace)  # noqa: S102 - our own constant, see the module docstring
read_choice = _namespace["read_choice"]


def lesson_salt(lesson_id: str) -> str:
    """A fixed per-lesson salt, so that rebuilding the data gives identical files."""
    return hashlib.sha256(f"fine-tuning-course quiz salt|{lesson_id}".encode()).hexdigest()[:16]


def choice_digest(salt: str, lesson_id: str, question_id: str, choice: str) -> str:
    """sha256(salt|lesson|question|choice): the shipped data stores this for the right choice only.

    This keeps the key out of plain sight (no file says "B is right"); it is not encryption, since
    anyone can hash the four letters. Grades come from nbgrader's hidden tests, never from this.
    """
    return hashlib.sha256(f"{salt}|{lesson_id}|{question_id}|{choice}".encode()).hexdigest()
