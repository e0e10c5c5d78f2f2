import base64
import json

import matplotlib
import pytest

matplotlib.use("Agg")

from course_utils import plots, report

HISTORY = [
    {"loss": 0.69, "step": 5},
    {"loss": 0.55, "step": 10},
    {"eval_loss": 0.5, "eval_accuracy": 0.7, "step": 10},
    {"loss": 0.41, "step": 15},
    {"eval_loss": 0.45, "eval_accuracy": 0.78, "step": 15},
    {"train_runtime": 3.2, "step": 15},
]


def test_history_series_picks_one_quantity():
    assert plots.history_series(HISTORY, "loss") == ([5, 10, 15], [0.69, 0.55, 0.41])
    assert plots.history_series(HISTORY, "eval_accuracy") == ([10, 15], [0.7, 0.78])


def test_learning_curves_draw_one_line_per_run_and_quantity():
    figure = plots.plot_learning_curves({"pretrained": HISTORY, "scratch": HISTORY})
    loss_axes, metric_axes = figure.axes
    assert len(loss_axes.lines) == 4 and len(metric_axes.lines) == 2
    assert list(metric_axes.lines[0].get_ydata()) == [0.7, 0.78]


def test_confusion_matrix_counts_cells():
    figure = plots.plot_confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    texts = sorted(text.get_text() for text in figure.axes[0].texts)
    assert texts == ["1", "1", "1", "2"]


def test_memory_bars_label_values():
    figure = plots.plot_memory_bars({"fp32": 90.9, "nf4": 53.2})
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels == ["90.9 MB", "53.2 MB"]


def test_results_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    report.record_results("lesson9", headline="accuracy", accuracy=0.8125, steps=12)
    assert "Headline for lesson9: accuracy = 0.8125" in capsys.readouterr().out
    saved = report.load_results("lesson9")
    assert saved["measured"] == {"accuracy": 0.8125, "steps": 12}
    assert json.loads((tmp_path / "results" / "lesson9.json").read_text())["headline"] == "accuracy"
    with pytest.raises(ValueError):
        report.record_results("lesson9", headline="f1", accuracy=0.5)


def test_figures_are_returned_detached_from_pyplot():
    """Notebooks display() the returned figure; one left open in pyplot would be shown a second time by Jupyter."""
    import matplotlib.pyplot as plt

    plt.close("all")
    figures = [
        plots.plot_learning_curves({"run": HISTORY}),
        plots.plot_confusion_matrix([0, 1], [0, 1]),
        plots.plot_bars({"a": 1.0}, ylabel="x"),
        plots.plot_memory_bars({"fp32": 90.9}),
        plots.plot_lr_schedules({"linear": [1e-4, 5e-5]}),
    ]
    assert plt.get_fignums() == []
    for figure in figures:  # still drawable after leaving pyplot
        figure.canvas.draw()
        assert figure.axes


def test_a_run_keeps_one_palette_colour_in_every_panel_and_figure():
    figure = plots.plot_learning_curves({"pretrained": HISTORY, "from scratch": HISTORY})
    loss_axes, metric_axes = figure.axes
    colour_of = {}
    for line in loss_axes.lines + metric_axes.lines:
        run = line.get_label().removesuffix(" (train)").removesuffix(" (eval)")
        colour_of.setdefault(run, set()).add(matplotlib.colors.to_hex(line.get_color()).upper())
    assert set(colour_of) == {"pretrained", "from scratch"}
    assert all(len(colours) == 1 for colours in colour_of.values()), colour_of
    assert colour_of["pretrained"] != colour_of["from scratch"]
    assert {colour for colours in colour_of.values() for colour in colours} <= set(plots.PALETTE)
    bars = plots.plot_bars({"from scratch\naccuracy": 0.5, "pretrained\naccuracy": 0.8, "pretrained\nF1": 0.7}, "x")
    bar_colours = [matplotlib.colors.to_hex(patch.get_facecolor()).upper() for patch in bars.axes[0].patches]
    assert bar_colours == [*colour_of["from scratch"], *colour_of["pretrained"], *colour_of["pretrained"]]


def test_every_figure_carries_alt_text_saying_what_it_plots():
    curves = plots.plot_learning_curves({"pretrained": HISTORY})
    data, metadata = curves._repr_mimebundle_()
    assert data["text/plain"] == metadata["image/png"]["alt"] == curves.alt_text
    assert not data["text/plain"].startswith("<Figure")
    assert data["text/html"] == f'<img src="data:image/png;base64,{data["image/png"]}" alt="{curves.alt_text}"/>'
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert "Loss" in curves.alt_text and "pretrained (train): 3 points from 0.69 to 0.41" in curves.alt_text
    bars = plots.plot_memory_bars({"fp32": 90.9, "nf4": 53.2})
    assert "bars: fp32 90.9, nf4 53.2" in bars.alt_text
    matrix = plots.plot_confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    assert "cells: 1, 1, 1, 2" in matrix.alt_text and "Figure with 1 panel(s)" in matrix.alt_text
    assert "linear: 2 points" in plots.plot_lr_schedules({"linear": [1e-4, 5e-5]}).alt_text
    assert plots.set_alt_text(bars, "Memory per loading mode.")._repr_mimebundle_()[0]["text/plain"] == (
        "Memory per loading mode."
    )
