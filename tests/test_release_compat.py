"""Every release in the declared range accepts every keyword argument the lessons and course_utils pass
(tools/release_compat/: wheels downloaded once into .cache/wheels, read with ast, never installed)."""

import ast
import json
from pathlib import Path

from tools.release_compat import check, releases, sources, wheels
from tools.release_compat.sources import Gate, Use

ROOT = Path(__file__).resolve().parents[1]

LESSON_LIKE = """
import dataclasses
from transformers import TrainingArguments, Trainer

fields = {f.name for f in dataclasses.fields(TrainingArguments)}
order = {"train_sampling_strategy": "group_by_length"} if "train_sampling_strategy" in fields else {"group_by_length": True}
has_best = "save_only_model" in fields
if has_best:
    best = {"save_only_model": True}
else:
    best = {}
if Version(transformers.__version__) >= Version("5"):
    numbered = {"new_name": 1}
else:
    numbered = {"old_name": 1}
speed = dict(**order, dataloader_num_workers=0)
args = TrainingArguments(output_dir="x", **(speed | best | numbered), **helper())
trainer = Trainer(model=None, args=args)
model = AutoModelForSequenceClassification.from_pretrained("m", num_labels=2)
tokenizer = AutoTokenizer.from_pretrained("m", use_fast=True)
adapter = PeftModel.from_pretrained(model, "a", is_trainable=False)
metric = evaluate.load("accuracy", module_type="metric")
"""


def uses_of(source: str) -> set[Use]:
    return set(sources.collect_uses({"lesson": source}))


def test_keyword_arguments_are_followed_through_dicts_unions_and_feature_tests():
    found = uses_of(LESSON_LIKE)
    on = Gate("train_sampling_strategy", True)
    expected = {
        Use("TrainingArguments", "output_dir", "lesson"),
        Use("TrainingArguments", "train_sampling_strategy", "lesson", on),
        Use("TrainingArguments", "group_by_length", "lesson", Gate("train_sampling_strategy", False)),
        Use("TrainingArguments", "dataloader_num_workers", "lesson"),
        Use("TrainingArguments", "save_only_model", "lesson", Gate("save_only_model", True)),
        # a version-number test is no feature test: both branches must work on every release
        Use("TrainingArguments", "new_name", "lesson"),
        Use("TrainingArguments", "old_name", "lesson"),
        Use("Trainer", "model", "lesson"),
        Use("Trainer", "args", "lesson"),
        Use("from_pretrained", "num_labels", "lesson"),
        Use("tokenizer.from_pretrained", "use_fast", "lesson"),
        Use("PeftModel.from_pretrained", "is_trainable", "lesson"),
        Use("evaluate.load", "module_type", "lesson"),
    }
    assert found == expected, found ^ expected


def test_the_newest_patch_of_every_minor_from_the_floor():
    listed = ["5.2.0", "5.1.0", "5.0.0", "5.0.0rc1", "4.57.6", "4.57.1", "4.56.2", "5.10.4", "5.10.1"]
    assert releases.releases_in_range(listed, "4.57") == ["4.57.6", "5.0.0", "5.1.0", "5.2.0", "5.10.4"]
    assert releases.releases_in_range(["0.46.0", "0.46.1", "0.47.0"], "0.46.1") == ["0.46.1", "0.47.0"]


def test_floors_are_read_from_the_package_metadata():
    floors = releases.floors()
    assert set(floors) == set(sources.PACKAGES)
    assert floors["transformers"] == "4.57" and floors["evaluate"] == "0.4.1"


def test_the_course_passes_what_the_check_reads():
    """The collector sees the lessons' real calls (so a new argument is checked without editing anything)."""
    uses = sources.collect_uses(sources.course_sources())
    seen = {(use.call, use.keyword) for use in uses}
    for expected in [
        ("TrainingArguments", "output_dir"),
        ("TrainingArguments", "dataloader_pin_memory"),  # reached through lesson 2's `**speed`
        ("Trainer", "processing_class"),
        ("from_pretrained", "num_labels"),
        ("BitsAndBytesConfig", "bnb_4bit_quant_type"),
        ("LoraConfig", "lora_alpha"),  # reached through lesson 5's `**lora_settings`
        ("load_dataset", "data_files"),
    ]:
        assert expected in seen, expected
    imports = sources.collect_imports(sources.course_sources())
    guarded = sources.Import("bitsandbytes.functional", "_convert_weight_packed_for_cpu_inverse", guarded=True)
    assert guarded in imports  # qlora.py imports it only for a layer bitsandbytes repacked
    assert sources.Import("peft", "LoraConfig") in imports


def wheel_of(package: str, version: str) -> wheels.Wheel:
    return wheels.Wheel(releases.wheel_path(package, version, releases.DEFAULT_CACHE))


def test_the_check_tells_a_gated_argument_from_a_missing_one():
    """transformers 5.0 has no `train_sampling_strategy` (5.2 has): ungated it fails there, gated it passes."""
    five_oh, five_two = wheel_of("transformers", "5.0.0"), wheel_of("transformers", "5.2.0")
    accepted = wheels.accepted_by_transformers(five_oh)["TrainingArguments"]
    assert "group_by_length" in accepted and "train_sampling_strategy" not in accepted
    assert "train_sampling_strategy" in wheels.accepted_by_transformers(five_two)["TrainingArguments"]
    ungated = [Use("TrainingArguments", "train_sampling_strategy", "lesson")]
    result = check.check_release("transformers", five_oh, ungated, set())
    assert result.problems == ["TrainingArguments(train_sampling_strategy=...) in lesson: no such argument"]
    gated = list(uses_of(LESSON_LIKE))
    gated = [use for use in gated if use.keyword in ("train_sampling_strategy", "group_by_length")]
    for wheel in (five_oh, five_two):
        assert check.check_release("transformers", wheel, gated, set()).ok


def test_accelerate_is_checked_against_what_each_trainer_passes_it():
    """transformers 4.57's Trainer calls `unwrap_model(keep_torch_compile=)`, new in accelerate 1.3 (the floor)."""
    floor = wheel_of("transformers", "4.57.6")
    assert ("unwrap_model", "keep_torch_compile") in wheels.trainer_calls_into_accelerate(floor)
    result = check.Result("accelerate", "1.3.0")
    wheels.check_accelerate_against_trainers(wheel_of("accelerate", "1.3.0"), [floor], result)
    assert result.ok and result.checked >= 1


def test_every_release_in_the_declared_range_accepts_what_the_course_passes():
    lines = []
    results = check.check_all(echo=lines.append)
    record = ROOT / "build" / "release-compat.json"
    record.parent.mkdir(exist_ok=True)
    record.write_text(json.dumps([vars(result) for result in results], indent=2) + "\n")
    print("\n".join(lines))
    covered = {result.package for result in results}
    assert covered == set(sources.PACKAGES)
    assert all(result.checked for result in results if result.package != "accelerate"), lines
    failing = [line for line in lines if not line.startswith(" ") and "FAILS" in line]
    assert not failing, "\n".join(lines)


def version_number_gates(source: str) -> list[int]:
    """Lines comparing a library's `__version__` (directly or through Version()/parse()): a gate on the number."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(
                isinstance(inner, ast.Attribute) and inner.attr == "__version__"
                for operand in operands
                for inner in ast.walk(operand)
            ):
                lines.append(node.lineno)
    return lines


def test_no_version_number_gates_in_lessons_or_course_utils():
    """Feature tests only: 5.0 and 5.1 are 5.x and still lack train_sampling_strategy (5.2.0 brought it)."""
    assert version_number_gates('if Version(transformers.__version__) >= Version("5"):\n    pass\n') == [1]
    assert version_number_gates('ok = "x" in {f.name for f in fields(TrainingArguments)}\n') == []
    found = {
        where: lines for where, source in sources.course_sources().items() if (lines := version_number_gates(source))
    }
    assert not found, f"version-number gates (file: lines of its code): {found}"
