"""How a student's answer is read: the one rule shared by the grader, the quiz notebooks and the self-checks.

Standard library only, and no imports from this package: the generated quiz notebooks embed this module's
source as their first code cell (they must run in Colab without the course package), so the format check a
student runs, the self-checks and the grader read an answer the same way.

Nothing is run: `read_answer` parses an answer cell's text with `ast`, and only the last top-level
`answer_qN = "<string literal>"` Python would reach counts. A top-level statement that certainly stops the
cell (`raise`, `assert False`, `1/0`, `sys.exit()`, `while True:` without `break`) ends the reading there,
as it would end the cell: what was set before it counts, nothing after it.
"""

import ast
import re
import unicodedata

MAX_ANSWER_CHARS = 20000  # an answer cell is one line; anything longer is not read at all
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)  # what ast.parse raises on hostile text
EXIT_CALLS = ("exit", "quit", "sys.exit", "os._exit", "os.abort", "os.kill")
DYNAMIC_NAMES = ("exec", "eval", "globals", "vars", "locals", "setattr")


def read_choice(value):
    """The letter A-D an answer stands for ("b", " B ", "B)", "(b)", "b." all mean B), else None."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\(?\s*([A-Da-d])\s*[).]?", str.strip(value))
    return match.group(1).upper() if match else None


def parse_cell(source):
    """The cell's syntax tree, or None when it is too long or not Python (nothing of it can be read)."""
    if not isinstance(source, str) or len(source) > MAX_ANSWER_CHARS:
        return None
    try:
        return ast.parse(source)
    except PARSE_ERRORS:
        return None


def read_answer(source, name):
    """What the grader reads for `name` ("answer_q1") in an answer cell, as text, never run.

    Returns (letter, problem): letter is A-D, or None with problem saying why nothing counts.
    """
    if not isinstance(source, str) or len(source) > MAX_ANSWER_CHARS:
        return None, f"the answer cell is too long to read (over {MAX_ANSWER_CHARS:,} characters)"
    tree = parse_cell(source)
    if tree is None:
        return None, f"the answer cell is not valid Python, so {name} cannot be read"
    found = None, f"{name} is not set in its answer cell"
    for statement in reached_statements(tree):
        found = _read_statement(statement, name) or found
    return found


def reached_statements(tree):
    """The top-level statements Python runs: up to and including the first one that certainly stops the cell."""
    reached = []
    for statement in tree.body:
        reached.append(statement)
        if stops_the_cell(statement):
            break
    return reached


def _read_statement(statement, name):
    """(letter, problem) if this top-level statement sets `name`, else None."""
    if stops_the_cell(statement) and not isinstance(statement, ast.While):
        return None  # it raises before any assignment in it completes
    if isinstance(statement, ast.Assign) and [_target_name(t) for t in statement.targets] == [name]:
        value = statement.value
        if isinstance(value, ast.Constant) and type(value.value) is str:
            letter = read_choice(value.value)
            return (letter, "") if letter else (None, _not_a_letter(name, value.value))
        return None, f'{name} is set to {type(value).__name__} code, not a plain string literal such as "B"'
    binding = _binds(statement, name)
    return (None, f'{name} is {binding}; write {name} = "B" as the cell\'s last word on it') if binding else None


def _target_name(target):
    return target.id if isinstance(target, ast.Name) else None


def _binds(statement, name):
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
        if isinstance(node, ast.Name) and node.id in DYNAMIC_NAMES:
            return f"possibly set through {node.id}()"
    return None


def stops_the_cell(statement):
    """True when a top-level statement certainly ends the cell: Python runs nothing after it."""
    if isinstance(statement, ast.Raise):
        return True
    if isinstance(statement, ast.Assert):
        return isinstance(statement.test, ast.Constant) and not statement.test.value
    if isinstance(statement, ast.While) and isinstance(statement.test, ast.Constant) and statement.test.value:
        return not any(isinstance(node, ast.Break) for node in ast.walk(statement))
    if isinstance(statement, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign)) and statement.value is not None:
        return _certainly_raises(statement.value)
    return False


def _certainly_raises(expression):
    """An exit call, or a division by a literal zero, evaluated unconditionally."""
    if isinstance(expression, ast.Call):
        return _dotted(expression.func) in EXIT_CALLS or any(_certainly_raises(a) for a in expression.args)
    if isinstance(expression, ast.BinOp):
        by_zero = isinstance(expression.op, (ast.Div, ast.FloorDiv, ast.Mod)) and _is_zero(expression.right)
        return by_zero or _certainly_raises(expression.left) or _certainly_raises(expression.right)
    if isinstance(expression, ast.UnaryOp):
        return _certainly_raises(expression.operand)
    if isinstance(expression, (ast.Tuple, ast.List, ast.Set)):
        return any(_certainly_raises(element) for element in expression.elts)
    return False  # names, attributes, conditionals, lambdas: whether they raise is not known without running


def _is_zero(expression):
    return isinstance(expression, ast.Constant) and type(expression.value) in (int, float) and expression.value == 0


def _dotted(expression):
    if isinstance(expression, ast.Name):
        return expression.id
    if isinstance(expression, ast.Attribute):
        base = _dotted(expression.value)
        return f"{base}.{expression.attr}" if base else None
    return None


def _not_a_letter(name, text):
    odd = [char for char in text if not char.isascii() and not char.isspace()]
    if odd:
        names = ", ".join(f"{char!r} is {unicodedata.name(char, hex(ord(char)))}" for char in dict.fromkeys(odd))
        return f"{name} = {text!r} is not a Latin letter A-D ({names}); type the letter on a plain keyboard"
    return f"{name} = {text!r} is not one of A, B, C, D"
