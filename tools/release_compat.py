"""Does every release in the course's declared range accept what the lessons and course_utils pass to it?

For transformers, peft, bitsandbytes, datasets, accelerate and evaluate, every minor release from the course's floor
(course_utils.runtime.MINIMUM_VERSIONS) to the newest on the package index, at the newest patch of each
(`pip index versions`), is downloaded once as a wheel into a cache folder (`pip download --no-deps`; never
installed) and read with `ast`:

- the keyword arguments the lessons and course_utils pass to `TrainingArguments`, `Trainer`, `from_pretrained`,
  `BitsAndBytesConfig`, `LoraConfig`, `load_dataset` and `evaluate.load`, themselves collected with `ast` from the
  notebooks' code cells and course_utils' modules (a new argument is checked without editing this file), must be
  parameters (or dataclass fields) of that release;
- the names the course imports from these packages (`from bitsandbytes.functional import x`) must be defined there.

An argument passed under a feature test (`x = {"a": 1} if "a" in fields else {"b": 1}`, or the same as an `if`
statement) is required only in the releases where the test is true, and the other branch's where it is false.
A release that fails is a finding to fix (raise the floor, or fix the lesson), never one to skip.

    python tools/release_compat.py [--cache .cache/wheels] [--packages transformers,peft]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / ".cache" / "wheels"
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


# --------------------------------------------------------------------------------------------------------------
# What the course passes: keyword arguments collected from the sources
# --------------------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------------------
# The releases in the declared range, as wheels
# --------------------------------------------------------------------------------------------------------------
def floors(root: Path = ROOT) -> dict[str, str]:
    """The declared floor of each checked package: its `>=` in pyproject.toml (dependencies or an extra)."""
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        item for extra in project["optional-dependencies"].values() for item in extra
    ]
    found = {}
    for requirement in map(Requirement, requirements):
        for specifier in requirement.specifier:
            if specifier.operator == ">=" and requirement.name in PACKAGES:
                found[requirement.name] = specifier.version
    return found


def index_versions(package: str) -> list[str]:
    """Every version the package index lists (`pip index versions`)."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "index", "versions", package]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    match = re.search(r"^Available versions: (.+)$", done.stdout, re.M)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"`{' '.join(command)}` failed (needs the package index):\n{done.stdout}{done.stderr}")
    return [version.strip() for version in match.group(1).split(",")]


def releases_in_range(versions: list[str], floor: str) -> list[str]:
    """The newest patch of every minor release from `floor` up, oldest first (pre-releases left out)."""
    newest: dict[tuple[int, int], Version] = {}
    floor_version = Version(floor)
    for text in versions:
        version = Version(text)
        if version.is_prerelease or version.is_devrelease or version < floor_version:
            continue
        minor = (version.major, version.minor)
        newest[minor] = max(newest.get(minor, version), version)
    return [str(newest[minor]) for minor in sorted(newest)]


def wheel_path(package: str, version: str, cache: Path) -> Path:
    """The release's wheel, downloaded into `cache` the first time (no dependencies, nothing installed)."""
    stem = re.sub(r"[-_.]+", "_", package).lower()
    matches = sorted(cache.glob(f"{stem}-{version}-*.whl"))
    if not matches:
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "-q", "--no-deps"]
        command += ["--only-binary=:all:", "-d", str(cache), f"{package}=={version}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        matches = sorted(cache.glob(f"{stem}-{version}-*.whl"))
        if done.returncode != 0 or not matches:
            raise RuntimeError(f"`{' '.join(command)}` failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return matches[0]


# --------------------------------------------------------------------------------------------------------------
# What a release accepts, read from its wheel
# --------------------------------------------------------------------------------------------------------------
class Wheel:
    """The Python sources of one wheel, parsed on demand."""

    def __init__(self, path: Path):
        self.path = path
        self._archive = zipfile.ZipFile(path)
        self._names = set(self._archive.namelist())
        self._trees: dict[str, ast.Module | None] = {}

    def tree(self, member: str) -> ast.Module | None:
        if member not in self._trees:
            self._trees[member] = (
                ast.parse(self._archive.read(member).decode("utf-8")) if member in self._names else None
            )
        return self._trees[member]

    @property
    def version(self) -> str:
        return self.path.name.split("-")[1]

    def module_file(self, module: str) -> str | None:
        path = module.replace(".", "/")
        return next((name for name in (f"{path}.py", f"{path}/__init__.py") if name in self._names), None)

    def find_class(self, name: str, members: tuple[str, ...]) -> ast.ClassDef | None:
        """The class `name` ("A|B": either name) defined in one of `members`."""
        names = set(name.split("|"))
        for member in members:
            tree = self.tree(member)
            for node in ast.walk(tree) if tree else ():
                if isinstance(node, ast.ClassDef) and node.name in names:
                    return node
        return None

    def defines(self, module: str, name: str) -> bool:
        """Whether `module` defines or re-exports `name` (also as a string: transformers' lazy import table)."""
        member = self.module_file(module)
        if member is None:
            return self.module_file(f"{module}.{name}") is not None
        if self.module_file(f"{module}.{name}") is not None:  # a submodule
            return True
        for node in ast.walk(self.tree(member)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
                return True
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
                return True
            if isinstance(node, ast.alias) and (node.asname or node.name).split(".")[-1] == name:
                return True
            if isinstance(node, ast.Constant) and node.value == name:
                return True
        # transformers' top level is a lazy module that finds its names in the submodules' `__all__`
        return module == self.top_package and name in self.top_level_names()

    @property
    def top_package(self) -> str:
        return self.path.name.split("-")[0]

    def top_level_names(self) -> set[str]:
        """Every class and function defined at the top of a module of the package (read as text: fast), leaving out
        transformers' per-architecture folders (the course imports their classes through the Auto ones)."""
        if not hasattr(self, "_top_level_names"):
            pattern = re.compile(r"^(?:class|def) (\w+)", re.M)
            architectures = f"{self.top_package}/models/"
            self._top_level_names = {
                found
                for member in self._names
                if member.startswith(self.top_package + "/")
                and member.endswith(".py")
                and (not member.startswith(architectures) or member.startswith(architectures + "auto/"))
                for found in pattern.findall(self._archive.read(member).decode("utf-8", "replace"))
            }
        return self._top_level_names


def _parameters(function: ast.FunctionDef) -> set[str]:
    arguments = function.args
    return {argument.arg for argument in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}


def _kwargs_read(function: ast.FunctionDef) -> set[str]:
    """Names a function takes out of its **kwargs: kwargs.pop("x"), kwargs.get("x"), kwargs["x"]."""
    kwargs = function.args.kwarg.arg if function.args.kwarg else None
    found = set()
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("pop", "get", "setdefault")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == kwargs
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(node.args[0].value)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == kwargs
            and isinstance(node.slice, ast.Constant)
        ):
            found.add(node.slice.value)
    return found


def _method(cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    return next((node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == name), None)


def _dataclass_fields(cls: ast.ClassDef) -> set[str]:
    """Annotated class attributes, except `field(init=False)` ones."""
    fields = set()
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and any(
                keyword.arg == "init" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                for keyword in value.keywords
            ):
                continue
            fields.add(node.target.id)
    return fields


def _self_attributes(function: ast.FunctionDef) -> set[str]:
    return {
        node.attr
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


class MissingDefinition(RuntimeError):
    """The wheel does not define what the check reads (a moved class): the check needs updating, loudly."""


def _need(found, what: str, wheel: Wheel):
    if found is None:
        raise MissingDefinition(f"{wheel.path.name}: {what} not found where the check reads it")
    return found


# The configuration classes whose arguments `from_pretrained(**kwargs)` forwards: the common one (renamed
# PreTrainedConfig in 5.x) and the architectures of the course's model sets (BERT for the classifiers, MiniLM
# included; Llama for SmolLM2 and TinyLlama).
CONFIG_CLASSES = (
    ("PreTrainedConfig|PretrainedConfig", "transformers/configuration_utils.py"),
    ("BertConfig", "transformers/models/bert/configuration_bert.py"),
    ("LlamaConfig", "transformers/models/llama/configuration_llama.py"),
)


def _config_names(cls: ast.ClassDef) -> set[str]:
    """What a config class accepts: its dataclass fields (5.4+), its __init__/__post_init__ parameters and the
    keyword arguments and attributes they read and set (4.x), and its property setters."""
    names = _dataclass_fields(cls)
    for method in ("__init__", "__post_init__"):
        function = _method(cls, method)
        if function is not None:
            names |= _parameters(function) | _kwargs_read(function) | _self_attributes(function)
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(decorator, ast.Attribute) and decorator.attr == "setter" for decorator in node.decorator_list
        ):
            names.add(node.name)
    return names - {"self", "kwargs"}


def accepted_by_transformers(wheel: Wheel) -> dict[str, set[str]]:
    """What transformers' checked calls accept, per call name."""
    training_args = _need(
        wheel.find_class("TrainingArguments", ("transformers/training_args.py",)), "TrainingArguments", wheel
    )
    trainer = _need(wheel.find_class("Trainer", ("transformers/trainer.py",)), "Trainer", wheel)
    bnb = _need(
        wheel.find_class("BitsAndBytesConfig", ("transformers/utils/quantization_config.py",)),
        "BitsAndBytesConfig",
        wheel,
    )
    model = _need(wheel.find_class("PreTrainedModel", ("transformers/modeling_utils.py",)), "PreTrainedModel", wheel)
    from_pretrained = _need(_method(model, "from_pretrained"), "PreTrainedModel.from_pretrained", wheel)
    # from_pretrained passes what it does not take itself to the model's config: the common config's arguments and
    # attributes (num_labels, id2label, ...) and those of the architectures the course loads (dropout rates).
    config_names = set()
    for name, member in CONFIG_CLASSES:
        config_names |= _config_names(_need(wheel.find_class(name, (member,)), name, wheel))
    return {
        "TrainingArguments": _dataclass_fields(training_args),
        "Trainer": _parameters(_need(_method(trainer, "__init__"), "Trainer.__init__", wheel)),
        "BitsAndBytesConfig": _parameters(_need(_method(bnb, "__init__"), "BitsAndBytesConfig.__init__", wheel)),
        "from_pretrained": _parameters(from_pretrained) | _kwargs_read(from_pretrained) | config_names,
    }


def accepted_by_peft(wheel: Wheel) -> dict[str, set[str]]:
    members = ("peft/tuners/lora/config.py", "peft/config.py", "peft/tuners/lora.py")
    lora = _need(wheel.find_class("LoraConfig", members), "LoraConfig", wheel)
    fields = _dataclass_fields(lora)
    pending = [base.id for base in lora.bases if isinstance(base, ast.Name)]
    while pending:  # PeftConfig, PeftConfigMixin: their fields are LoraConfig's too
        base = wheel.find_class(pending.pop(), members)
        if base is not None:
            fields |= _dataclass_fields(base)
            pending += [name.id for name in base.bases if isinstance(name, ast.Name)]
    peft_model = _need(wheel.find_class("PeftModel", ("peft/peft_model.py",)), "PeftModel", wheel)
    from_pretrained = _need(_method(peft_model, "from_pretrained"), "PeftModel.from_pretrained", wheel)
    return {"LoraConfig": fields, "PeftModel.from_pretrained": _parameters(from_pretrained)}


def _function(wheel: Wheel, member: str, name: str) -> ast.FunctionDef:
    tree = _need(wheel.tree(member), member, wheel)
    return _need(
        next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name), None),
        f"{member}: {name}()",
        wheel,
    )


READERS = {
    "transformers": accepted_by_transformers,
    "peft": accepted_by_peft,
    "datasets": lambda wheel: {"load_dataset": _parameters(_function(wheel, "datasets/load.py", "load_dataset"))},
    "evaluate": lambda wheel: {"evaluate.load": _parameters(_function(wheel, "evaluate/loading.py", "load"))},
    "bitsandbytes": lambda wheel: {},  # the course passes it no keyword argument; its imports are checked
    "accelerate": lambda wheel: {},  # the course calls it through Trainer: see trainer_calls_into_accelerate
}


def accelerate_requirement(transformers: Wheel) -> str:
    """The accelerate versions a transformers release declares it works with (its `torch` extra)."""
    match = re.search(r"^Requires-Dist: accelerate\s*\(?([^;)\n]*)\)?", metadata_text(transformers), re.M)
    return match.group(1).strip() if match else ""


def trainer_calls_into_accelerate(transformers: Wheel) -> set[tuple[str, str]]:
    """(method, keyword) of every `self.accelerator.<method>(keyword=...)` call in the release's Trainer."""
    tree = _need(transformers.tree("transformers/trainer.py"), "transformers/trainer.py", transformers)
    found = set()
    for node in ast.walk(tree):
        function = node.func if isinstance(node, ast.Call) else None
        if (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Attribute)
            and function.value.attr == "accelerator"
        ):
            found.update((function.attr, keyword.arg) for keyword in node.keywords if keyword.arg)
    return found


def check_accelerate_against_trainers(accelerate: Wheel, trainers: list[Wheel], result: Result) -> None:
    """Every keyword a Trainer passes to `Accelerator` methods exists in this accelerate release, for each
    transformers release in range that declares it accepts this accelerate release."""
    from packaging.specifiers import SpecifierSet

    accelerator = _need(accelerate.find_class("Accelerator", ("accelerate/accelerator.py",)), "Accelerator", accelerate)
    methods = {node.name: node for node in accelerator.body if isinstance(node, ast.FunctionDef)}
    for transformers in trainers:
        if not SpecifierSet(accelerate_requirement(transformers)).contains(result.version):
            continue  # pip never pairs these two
        for method, keyword in sorted(trainer_calls_into_accelerate(transformers)):
            result.checked += 1
            function = methods.get(method)
            if function is None or (keyword not in _parameters(function) and function.args.kwarg is None):
                result.problems.append(
                    f"transformers {transformers.version}'s Trainer calls Accelerator.{method}({keyword}=...): "
                    "no such argument"
                )


CALL_PACKAGE = {**CHECKED_CALLS, "PeftModel.from_pretrained": "peft"}


def metadata_text(wheel: Wheel) -> str:
    member = next(name for name in wheel._names if name.endswith(".dist-info/METADATA"))
    return wheel._archive.read(member).decode()


def requires_python(wheel: Wheel) -> str:
    match = re.search(r"^Requires-Python: (.+)$", metadata_text(wheel), re.M)
    return match.group(1).strip() if match else ""


# --------------------------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Result:
    package: str
    version: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts that break nothing the course runs

    @property
    def ok(self) -> bool:
        return not self.problems


def check_release(package: str, wheel: Wheel, uses: list[Use], imports: set[Import]) -> Result:
    result = Result(package, wheel.version)
    python = requires_python(wheel)
    if python:  # pip gives an older interpreter an older release of the range: a note, not a break
        result.notes.append(f"Requires-Python {python}")
    accepted = READERS[package](wheel)
    result.checked += len(accepted)  # each signature read is a function or class the course calls
    for use in uses:
        if CALL_PACKAGE.get(use.call) != package:
            continue
        names = accepted[use.call]
        result.checked += 1
        if use.gate is not None and (use.gate.feature in names) != use.gate.present:
            continue  # the lesson's feature test keeps this argument away from this release
        if use.keyword not in names:
            gate = (
                f" (under the test {use.gate.feature!r} {'in' if use.gate.present else 'not in'})" if use.gate else ""
            )
            result.problems.append(f"{use.call}({use.keyword}=...) in {use.where}{gate}: no such argument")
    for imported in sorted(imports, key=lambda item: (item.module, item.name)):
        if imported.module.split(".")[0] != package:
            continue
        result.checked += 1
        if not wheel.defines(imported.module, imported.name):
            message = f"`from {imported.module} import {imported.name}`: not defined in {package} {wheel.version}"
            if imported.guarded:  # reached only on a path this release does not take: say so, do not fail
                result.notes.append(message + " (a guarded import: only reached where the release has it)")
            else:
                result.problems.append(message)
    return result


def check_all(cache: Path = DEFAULT_CACHE, packages=PACKAGES, root: Path = ROOT, echo=print) -> list[Result]:
    sources = course_sources(root)
    uses, imports = collect_uses(sources), collect_imports(sources)
    all_floors = floors(root)
    wheels = {
        package: [
            Wheel(wheel_path(package, version, cache))
            for version in releases_in_range(index_versions(package), all_floors[package])
        ]
        for package in packages
    }
    results = []
    for package in packages:
        for wheel in wheels[package]:
            result = check_release(package, wheel, uses, imports)
            if package == "accelerate":
                trainers = wheels.get("transformers") or [
                    Wheel(wheel_path("transformers", version, cache))
                    for version in releases_in_range(index_versions("transformers"), all_floors["transformers"])
                ]
                check_accelerate_against_trainers(wheel, trainers, result)
            echo(f"{package} {wheel.version}: {'ok' if result.ok else 'FAILS'} ({result.checked} checks)")
            for line in result.problems + [f"note: {note}" for note in result.notes]:
                echo(f"    {line}")
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the wheels are kept")
    parser.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated")
    parser.add_argument("--json", type=Path, help="also write the results here")
    arguments = parser.parse_args(argv)
    results = check_all(arguments.cache, arguments.packages.split(","))
    if arguments.json:
        arguments.json.write_text(json.dumps([vars(result) for result in results], indent=2) + "\n")
    failing = [f"{result.package} {result.version}" for result in results if not result.ok]
    print(f"{len(results)} release(s) checked, {len(failing)} failing{': ' + ', '.join(failing) if failing else ''}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
