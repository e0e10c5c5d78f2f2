"""The batch plan and a real learning-rate schedule (course_utils.training), their plot (course_utils.plots), and
the headless explorer that wires them to sliders (course_utils.widgets)."""

import math

import pytest

from course_utils.plots import plot_lr_schedules
from course_utils.training import batch_plan, lr_schedule
from course_utils.widgets import schedule_explorer


def test_batch_plan_matches_effective_batch_arithmetic():
    plan = batch_plan(1000, per_device_batch_size=8, accumulation=4, devices=2, epochs=2, warmup_ratio=0.1)
    assert plan == {"effective_batch_size": 64, "steps_per_epoch": 16, "total_steps": 32, "warmup_steps": 4}


def test_batch_plan_validates():
    with pytest.raises(ValueError):
        batch_plan(100, 8, warmup_ratio=1.0)
    with pytest.raises(ValueError):
        batch_plan(100, 8, epochs=0)


def test_linear_schedule_warms_up_then_decays_to_zero():
    rates = lr_schedule("linear", total_steps=10, warmup_steps=2, learning_rate=1e-4)
    assert len(rates) == 10
    assert rates[0] == 0.0 and rates[1] == pytest.approx(5e-5) and rates[2] == pytest.approx(1e-4)
    assert rates[-1] == pytest.approx(1e-4 / 8)
    assert all(later <= earlier for earlier, later in zip(rates[2:], rates[3:]))


def test_constant_and_cosine_schedules():
    assert lr_schedule("constant_with_warmup", 5, 0, 2e-5) == [2e-5] * 5
    cosine = lr_schedule("cosine", 100, 0, 1.0)
    assert cosine[50] == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))


def test_plot_and_explorer_build_headless():
    figure = plot_lr_schedules({"linear": lr_schedule("linear", 20, 2)}, warmup_steps=2)
    assert figure.axes[0].get_xlabel() == "optimizer step"
    explorer = schedule_explorer(n_examples=256, epochs=1)
    sliders = explorer.children[0].children
    assert [slider.description for slider in sliders] == ["per device", "accumulation", "devices"]
    summary = explorer.children[2]
    assert "16 optimizer steps per epoch" in summary.value
    sliders[1].value = 2  # moving a slider recomputes the plan
    assert "8 optimizer steps per epoch" in summary.value
