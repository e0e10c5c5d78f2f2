"""Lesson 2's interactive explorer: sliders wired to the step arithmetic and the learning-rate schedule `Trainer`
would build (`training.batch_plan`, `training.lr_schedule`), drawn by `plots.plot_lr_schedules`.
"""

from __future__ import annotations

from .training import SCHEDULERS, batch_plan, lr_schedule


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

    from .plots import plot_lr_schedules

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
