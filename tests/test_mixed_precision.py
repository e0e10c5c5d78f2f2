"""The one training-precision decision every Trainer lesson takes (`course_utils.gpu.mixed_precision`), on recorded
GPUs and CPU flags, and the `TrainingArguments` it produces on this CPU-only machine."""

import json
import re
from pathlib import Path

import pytest
from transformers import TrainingArguments

from course_utils import gpu

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024**3
T4 = gpu.DeviceProperties("Tesla T4", (7, 5), 15 * GIB, 14 * GIB)
A100 = gpu.DeviceProperties("NVIDIA A100-SXM4-40GB", (8, 0), 40 * GIB, 39 * GIB)
AMD_EPYC = {"avx2", "avx512f", "avx512_bf16"}  # the course's AMD machine kind: AVX512-BF16, no AMX
SAPPHIRE_RAPIDS = {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
LAPTOP = {"avx2"}  # bf16 would be emulated


@pytest.mark.parametrize(
    "device, flags, expected",
    [
        (T4, LAPTOP, ("fp16", True, False, False)),  # a GPU's plan, whatever the host CPU has
        (A100, SAPPHIRE_RAPIDS, ("bf16", False, True, False)),
        (None, AMD_EPYC, ("bf16", False, True, True)),
        (None, SAPPHIRE_RAPIDS, ("bf16", False, True, True)),
        (None, LAPTOP, ("fp32", False, False, False)),
        (None, (), ("fp32", False, False, False)),
    ],
)
def test_one_decision_for_gpus_and_cpus(device, flags, expected):
    decision = gpu.mixed_precision(device, flags)
    assert (decision.label, decision.fp16, decision.bf16, decision.use_cpu) == expected
    assert decision.reason


def test_bf16_on_a_cpu_needs_use_cpu_and_the_decision_passes_it(tmp_path):
    """Change the cause, watch the effect: transformers refuses bf16 without a bf16 GPU unless use_cpu says so."""
    decision = gpu.mixed_precision(None, AMD_EPYC)
    fields = dict(fp16=decision.fp16, bf16=decision.bf16, use_cpu=decision.use_cpu)
    assert TrainingArguments(output_dir=str(tmp_path), **fields).bf16
    with pytest.raises(ValueError, match="use_cpu"):
        TrainingArguments(output_dir=str(tmp_path), bf16=True)
    fp32 = gpu.mixed_precision(None, LAPTOP)
    arguments = TrainingArguments(output_dir=str(tmp_path), fp16=fp32.fp16, bf16=fp32.bf16, use_cpu=fp32.use_cpu)
    assert not (arguments.fp16 or arguments.bf16)


@pytest.mark.parametrize(
    "notebook", ["01_pretraining_vs_finetuning", "03_trainer", "04_new_head_warnings"], ids=lambda name: name[:2]
)
def test_trainer_lessons_train_with_the_one_decision(notebook):
    """Lessons 1, 3 and 4 pass all three fields of `mixed_precision` to TrainingArguments (lesson 2 measures it)."""
    cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    assert re.search(r"mixed_precision\((gpu\.)?current_device\(\), (gpu\.)?cpu_bf16_flags\(\)\)", code)
    for field in ("fp16", "bf16", "use_cpu"):
        assert f"{field}=precision.{field}" in code, f"{notebook} does not pass {field}=precision.{field}"
