"""How a student's answer is read: the ONE rule shared by the grader, the quiz notebooks and the self-checks.

`READER_SOURCE` defines it. The package executes it below, the instructor's grader imports it from here,
and the generated quiz notebooks embed the same text (they must run in Colab without this package), so the
self-check, the notebook's format check and the grader always read an answer the same way.

The grader never runs a student's code: `read_answer` reads an answer cell as text (Python's own parser,
`ast`), and only the last top-level `answer_qN = "<string literal>"` counts, as Python would assign it.
"""

from __future__ import annotations

import hashlib

CHOICES = ("A", "B", "C", "D")

READER_SOURCE = '''\
def read_choice(value):
    """The letter A-D an answer stands for ("b", " B ", "B)", "(b)", "b." all mean B), else None."""
    import re
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\\(?\\s*([A-Da-d])\\s*[).]?", str.strip(value))
    return match.group(1).upper() if match else None


def read_answer(source, name):
    """What the grader reads for `name` ("answer_q1") in an answer cell, as text, never run.

    Returns (letter, problem): letter is A-D, or None with problem saying why nothing counts.
    """
    import ast
    if not isinstance(source, str) or len(source) > 20000:
        return None, "the answer cell is too long to read (over 20,000 characters)"
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return None, f"the answer cell is not valid Python ({type(error).__name__}), so {name} cannot be read"
    found = None, f"{name} is not set in its answer cell"
    for statement in tree.body:
        found = _read_statement(statement, name, ast) or found
        if _stops_the_cell(statement, ast):
            break  # Python never runs what follows
    return found


def _read_statement(statement, name, ast):
    """(letter, problem) if this top-level statement sets `name`, else None."""
    if isinstance(statement, ast.Assign) and [_target_name(t, ast) for t in statement.targets] == [name]:
        value = statement.value
        if isinstance(value, ast.Constant) and type(value.value) is str:
            letter = read_choice(value.value)
            return (letter, "") if letter else (None, _not_a_letter(name, value.value))
        return None, f"{name} is set to {type(value).__name__} code, not a plain string literal such as \\"B\\""
    binding = _binds(statement, name, ast)
    return (None, f"{name} is {binding}; write {name} = \\"B\\" as the cell's last word on it") if binding else None


def _target_name(target, ast):
    return target.id if isinstance(target, ast.Name) else None


def _binds(statement, name, ast):
    """How a statement other than a plain assignment could set `name` (None if it cannot)."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
            if isinstance(statement, ast.AnnAssign):
                return "set by an annotated assignment"
            if isinstance(node.ctx, ast.Del):
                return "deleted"
            return "set inside other code (" + type(statement).__name__ + ")"
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return "declared global inside other code"
        if isinstance(node, ast.alias) and name in (node.name, node.asname):
            return "set by an import"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return "defined as a function or class"
        if isinstance(node, ast.Constant) and node.value == name:
            return "named in a string, so code could set it"
        if isinstance(node, ast.Name) and node.id in ("exec", "eval", "globals", "vars", "locals", "setattr"):
            return f"possibly set through {node.id}()"
    return None


def _stops_the_cell(statement, ast):
    """A top-level `raise` or `while True:` without break: the rest of the cell never runs."""
    if isinstance(statement, ast.Raise):
        return True
    if isinstance(statement, ast.While) and isinstance(statement.test, ast.Constant) and statement.test.value:
        return not any(isinstance(node, ast.Break) for node in ast.walk(statement))
    return False


def _not_a_letter(name, text):
    import unicodedata
    odd = [char for char in text if not char.isascii() and not char.isspace()]
    if odd:
        names = ", ".join(f"{char!r} is {unicodedata.name(char, hex(ord(char)))}" for char in dict.fromkeys(odd))
        return f"{name} = {text!r} is not a Latin letter A-D ({names}); type the letter on a plain keyboard"
    return f"{name} = {text!r} is not one of A, B, C, D"
'''

_namespace: dict = {}
exec(READER_SOURCE, _namespace)  # noqa: S102 - our own constant, see the module docstring
read_choice = _namespace["read_choice"]
read_answer = _namespace["read_answer"]


def lesson_salt(lesson_id: str) -> str:
    """A fixed per-lesson salt, so that rebuilding the data gives identical files."""
    return hashlib.sha256(f"fine-tuning-course quiz salt|{lesson_id}".encode()).hexdigest()[:16]


def choice_digest(salt: str, lesson_id: str, question_id: str, choice: str) -> str:
    """sha256(salt|lesson|question|choice): the shipped data stores this for the right choice only.

    This keeps the key out of plain sight (no file says "B is right"); it is not encryption, since
    anyone can hash the four letters, and it covers the PUBLIC choice order only: a term's graded quiz
    shuffles the choices with the instructor's secret seed (see quizzes/README.md).
    """
    return hashlib.sha256(f"{salt}|{lesson_id}|{question_id}|{choice}".encode()).hexdigest()
