"""tools/check_figures.py: a lesson's prose states no figure it did not print or cite, and the checker catches one."""

import pytest

from tools import check_figures
from tools.check_notebooks import lesson_notebooks


@pytest.mark.parametrize("notebook", lesson_notebooks(), ids=lambda path: path.stem)
def test_lesson_prose_has_no_unsourced_figure(notebook):
    assert check_figures.problems_in(notebook) == []


@pytest.mark.parametrize(
    "line, kind",
    [
        ("Fine-tuning took 41.3 s on this laptop.", "time"),
        ("That is 4.4 GB in fp32.", "memory size"),
        ("The model reached an accuracy of 0.762 after one epoch.", "score"),
        ("It ran at 1,439 tokens/s.", "speed"),
        ("It scores a little above 50%.", "percentage"),
        ("Your 4-bit model is only 3× smaller than in fp32.", "ratio"),
        ("the loss stays near 0.69", "score"),
    ],
)
def test_unsourced_figures_are_found(line, kind):
    assert [found_kind for _, found_kind, _ in check_figures.figures_in(line)] == [kind]


@pytest.mark.parametrize(
    "line",
    [
        "BERT-base took 4 days ([Devlin et al. 2019](https://arxiv.org/abs/1810.04805), section A.2).",
        "Llama 2 7B used 184,320 GPU-hours (Touvron et al. 2023, table 2), or 21 GB of text.",
        "Set `learning_rate=2e-5` and `per_device_train_batch_size=16` (a `16 × 1` batch).",
        "The rule of thumb is $C \\approx 6 \\cdot N \\cdot D$ with $N = 110 \\text{M}$, and a share in math: $90\\%$.",
        "## 3. Fine-tune for 2 epochs",
        "```\n12.5 s in a fenced block is code\n```",
    ],
)
def test_sourced_figures_code_and_math_pass(line):
    assert check_figures.figures_in(line) == []


def test_line_numbers_point_at_the_figure():
    assert check_figures.figures_in("intro\n\nit took 3 minutes") == [(3, "time", "3 minutes")]
