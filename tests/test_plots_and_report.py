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
