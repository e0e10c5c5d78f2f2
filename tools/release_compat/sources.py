"""What the course passes: the keyword arguments of the checked calls and the names imported from the checked
packages, collected with `ast` from the notebooks' code cells and course_utils' modules."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("transformers", "peft", "bitsandbytes", "datasets", "accelerate", "evaluate")
# The calls whose keyword arguments are checked: the call's name -> the package that defines what it accepts.
CHECKED_CALLS = {
    "TrainingArguments": "transformers",
    "Trainer": "transformers",
    "from_pretrained": "transformers",  # PeftModel.from_pretrained is peft's (see call_target)
    "BitsAndBytesConfig": "transformers",
    "LoraConfig": "peft",
    "load_dataset": "datasets",
    "evaluate.load": "evaluate",
}


@dataclass(frozen=True)
class Gate:
    """A feature test: `feature` in the fields/parameters of the call it guards, true (`present`) or false."""

    feature: str
    present: bool


@dataclass(frozen=True)
class Use:
    """One keyword argument passed to a checked call, where, and under which feature test (if any)."""

    call: str
    keyword: str
    where: str
    gate: Gate | None = None


def course_sources(root: Path = ROOT) -> dict[str, str]:
    """{name: Python source} for every lesson (its code cells, IPython magics removed) and course_utils module."""
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    sources = {}
    transform = TransformerManager().transform_cell
    for notebook in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = [cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]
        sources[notebook.name] = "\n".join(transform(cell) for cell in cells)
    for module in sorted((root / "course_utils").rglob("*.py")):  # metric_modules/ too: evaluate.load runs them
        sources[module.relative_to(root).as_posix()] = module.read_text()
    return sources


def call_target(call: ast.Call) -> str | None:
    """The checked call this is ('TrainingArguments', 'from_pretrained', 'PeftModel.from_pretrained', ...)."""
    function = call.func
    if isinstance(function, ast.Name):
        return function.id if function.id in CHECKED_CALLS and function.id != "from_pretrained" else None
    if not isinstance(function, ast.Attribute):
        return None
    owner = function.value.id if isinstance(function.value, ast.Name) else getattr(function.value, "attr", "")
    if function.attr == "load" and owner == "evaluate":
        return "evaluate.load"
    if function.attr == "from_pretrained":
        if owner.startswith("Peft"):
            return "PeftModel.from_pretrained"
        if "Tokenizer" in owner or "Processor" in owner:
            return "tokenizer.from_pretrained"
        if "Config" in owner:
            return "config.from_pretrained"
        return "from_pretrained"
    return function.attr if function.attr in CHECKED_CALLS else None


def gate_of(test: ast.expr, assignments: dict[str, ast.expr]) -> Gate | None:
    """`"x" in <anything>` -> Gate("x", True); `not ...` flips it; a name bound to such a test is followed."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = gate_of(test.operand, assignments)
        return Gate(inner.feature, not inner.present) if inner else None
    if isinstance(test, ast.Name) and test.id in assignments:
        return gate_of(assignments[test.id], assignments)
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.In | ast.NotIn)
        and isinstance(test.left, ast.Constant)
        and isinstance(test.left.value, str)
    ):
        return Gate(test.left.value, isinstance(test.ops[0], ast.In))
    return None


class _Collector:
    """Keyword names reaching checked calls in one module, following `**name`, `dict(...)`, `{...}`, `a | b`
    and conditional expressions, with the feature test they sit under."""

    def __init__(self, tree: ast.Module, where: str):
        self.where = where
        self.assignments: dict[str, ast.expr] = {}  # the last plain assignment of each name (for gate tests)
        self.bindings: dict[str, list[tuple[ast.expr, Gate | None]]] = {}  # every value a name is given
        self._bind(tree.body, None)
        self.tree = tree

    def _bind(self, statements, gate: Gate | None) -> None:
        for statement in statements:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name):
                    self.assignments[target.id] = statement.value
                    self.bindings.setdefault(target.id, []).append((statement.value, gate))
            elif isinstance(statement, ast.If):
                test_gate = gate_of(statement.test, self.assignments)
                self._bind(statement.body, test_gate or gate)
                flipped = Gate(test_gate.feature, not test_gate.present) if test_gate else None
                self._bind(statement.orelse, flipped or gate)
            elif isinstance(statement, ast.For | ast.While | ast.With | ast.FunctionDef | ast.Try):
                for block in ("body", "orelse", "finalbody"):
                    self._bind(getattr(statement, block, []) or [], gate)
                for handler in getattr(statement, "handlers", []):
                    self._bind(handler.body, gate)

    def keywords(self, node: ast.expr, gate: Gate | None, seen: frozenset = frozenset()):
        """(keyword, gate) pairs a `**node` expression can contribute."""
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is None:
                    yield from self.keywords(value, gate, seen)
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    yield key.value, gate
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            for keyword in node.keywords:
                if keyword.arg is None:
                    yield from self.keywords(keyword.value, gate, seen)
                else:
                    yield keyword.arg, gate
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            yield from self.keywords(node.left, gate, seen)
            yield from self.keywords(node.right, gate, seen)
        elif isinstance(node, ast.IfExp):
            test_gate = gate_of(node.test, self.assignments)
            yield from self.keywords(node.body, test_gate or gate, seen)
            flipped = Gate(test_gate.feature, not test_gate.present) if test_gate else None
            yield from self.keywords(node.orelse, flipped or gate, seen)
        elif isinstance(node, ast.Name) and node.id not in seen:
            for value, bound_gate in self.bindings.get(node.id, []):
                yield from self.keywords(value, bound_gate or gate, seen | {node.id})
        # anything else (a function's result, `{name: value}` with a computed key) cannot be read statically

    def uses(self) -> list[Use]:
        found = []
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call) or (target := call_target(node)) is None:
                continue
            for keyword in node.keywords:
                if keyword.arg is not None:
                    found.append(Use(target, keyword.arg, self.where))
                else:
                    found += [Use(target, name, self.where, gate) for name, gate in self.keywords(keyword.value, None)]
        return found


def collect_uses(sources: dict[str, str]) -> list[Use]:
    """Every keyword argument the sources pass to a checked call (duplicates within one source removed)."""
    uses = []
    for where, source in sources.items():
        uses += sorted(set(_Collector(ast.parse(source), where).uses()), key=lambda use: (use.call, use.keyword))
    return uses


@dataclass(frozen=True)
class Import:
    """`from <module> import <name>`; `guarded` when it sits under an `if` or `try` (reached only on some runs,
    e.g. bitsandbytes' private repacking helpers, imported only when a layer was repacked)."""

    module: str
    name: str
    guarded: bool = False


def collect_imports(sources: dict[str, str]) -> set[Import]:
    """Every name the sources take from a checked package: `from <package>... import name`, and `module.name`
    after `import <package>...` (as `F` or not)."""
    found = set()

    def visit(node: ast.AST, guarded: bool, modules: dict[str, str]) -> None:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] in PACKAGES:
            found.update(Import(node.module, alias.name, guarded) for alias in node.names)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            found.add(Import(modules[node.value.id], node.attr, guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded or isinstance(node, ast.If | ast.Try), modules)

    for source in sources.values():
        tree = ast.parse(source)
        modules = {  # the names `import x.y as z` binds: z -> x.y; `import x.y` binds x -> x
            alias.asname or alias.name.split(".")[0]: alias.name if alias.asname else alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if alias.name.split(".")[0] in PACKAGES
        }
        visit(tree, False, modules)
    return found
