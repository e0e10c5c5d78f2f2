"""Lesson 2's interactive explorer: batch-size arithmetic and the learning-rate schedule `Trainer` would build.

The arithmetic and the schedule are plain functions (tested); `schedule_explorer()` only wires them to sliders.
The schedule comes from a real `torch.optim.AdamW` driven by `transformers.get_scheduler`, as inside `Trainer`.
"""

from __future__ import annotations

import math

from .training import steps_per_epoch

SCHEDULERS = ("linear", "cosine", "constant_with_warmup", "polynomial", "inverse_sqrt")


def batch_plan(
    n_examples: int,
    per_device_batch_size: int,
    accumulation: int = 1,
    devices: int = 1,
    epochs: float = 1.0,
    warmup_ratio: float = 0.0,
) -> dict:
    """Effective batch size, optimizer steps per epoch and in total, and warmup steps (as `Trainer` rounds them)."""
    if not 0 <= warmup_ratio < 1:
        raise ValueError("warmup_ratio must be in [0, 1)")
    if epochs <= 0:
        raise ValueError("epochs must be positive")
    per_epoch = steps_per_epoch(n_examples, per_device_batch_size, accumulation, devices)
    total = max(1, math.ceil(per_epoch * epochs))
    return {
        "effective_batch_size": per_device_batch_size * accumulation * devices,
        "steps_per_epoch": per_epoch,
        "total_steps": total,
        "warmup_steps": math.ceil(total * warmup_ratio),  # TrainingArguments: warmup_steps < 1 is a ratio, rounded up
    }


def lr_schedule(
    scheduler_type: str, total_steps: int, warmup_steps: int = 0, learning_rate: float = 1e-4
) -> list[float]:
    """The learning rate at each of `total_steps` optimizer steps, read from a real optimizer and scheduler."""
    import torch
    from transformers import get_scheduler

    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([parameter], lr=learning_rate)
    scheduler = get_scheduler(scheduler_type, optimizer, num_warmup_steps=warmup_steps, num_training_steps=total_steps)
    rates = []
    for _ in range(total_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def plot_lr_schedules(schedules: dict[str, list[float]], title: str = "Learning-rate schedule", warmup_steps: int = 0):
    """One line per named schedule (learning rate against optimizer step); returns the Figure."""
    import matplotlib.pyplot as plt

    from .plots import _detached

    figure, axes = plt.subplots(figsize=(7, 3.4))
    for name, rates in schedules.items():
        axes.plot(range(len(rates)), rates, label=name)
    if warmup_steps:
        axes.axvline(warmup_steps, color="grey", linestyle=":", label=f"end of warmup ({warmup_steps} steps)")
    axes.set(title=title, xlabel="optimizer step", ylabel="learning rate")
    axes.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return _detached(figure)


def describe_plan(plan: dict, devices: int) -> str:
    return (
        f"effective batch size = per-device × accumulation × devices = {plan['effective_batch_size']} | "
        f"{plan['steps_per_epoch']} optimizer steps per epoch | {plan['total_steps']} steps in total | "
        f"{plan['warmup_steps']} warmup steps" + ("" if devices == 1 else f" | {devices} devices")
    )


def schedule_explorer(n_examples: int, epochs: float = 1.0, learning_rate: float = 1e-4):
    """Sliders for batch size, accumulation, devices, warmup ratio and scheduler; returns the widget to display.

    Headless (nbmake, nbconvert) the widget is built and displayed but nothing moves the sliders: the notebook draws
    the default plot statically as well.
    """
    import ipywidgets as widgets
    from IPython.display import display

    controls = {
        "per_device_batch_size": widgets.IntSlider(value=16, min=1, max=64, description="per device"),
        "accumulation": widgets.IntSlider(value=1, min=1, max=16, description="accumulation"),
        "devices": widgets.IntSlider(value=1, min=1, max=8, description="devices"),
        "warmup_ratio": widgets.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.05, description="warmup ratio"),
        "scheduler": widgets.Dropdown(options=SCHEDULERS, value="linear", description="scheduler"),
    }
    summary = widgets.HTML()
    output = widgets.Output()

    def redraw(*_):
        values = {name: control.value for name, control in controls.items()}
        plan = batch_plan(
            n_examples,
            values["per_device_batch_size"],
            values["accumulation"],
            values["devices"],
            epochs,
            values["warmup_ratio"],
        )
        summary.value = f"<b>{n_examples} examples, {epochs:g} epoch(s):</b> {describe_plan(plan, values['devices'])}"
        rates = lr_schedule(values["scheduler"], plan["total_steps"], plan["warmup_steps"], learning_rate)
        with output:
            output.clear_output(wait=True)
            figure = plot_lr_schedules({values["scheduler"]: rates}, warmup_steps=plan["warmup_steps"])
            display(figure)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [widgets.HBox(list(controls.values())[:3]), widgets.HBox(list(controls.values())[3:]), summary, output]
    )
