"""What a release accepts, read from its wheel with `ast`: the parameters and dataclass fields of the checked calls,
and the keywords a Trainer passes to accelerate."""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from .sources import CHECKED_CALLS

if TYPE_CHECKING:
    from .check import Result


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
