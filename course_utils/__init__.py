"""Plumbing for the Fine-Tuning Pretrained Models course.

Lessons call these helpers for set-up, assets, data, metrics and figures; the APIs a lesson teaches
(`from_pretrained`, `TrainingArguments`, `Trainer`, `BitsAndBytesConfig`, ...) stay in the notebooks.
"""

from . import quiz
from .assets import packaged_path
from .checkpoints import causal_lm_checkpoint, chat_template_checkpoint, classifier_checkpoint
from .data import load_rotten_tomatoes, rotten_tomatoes_data_files
from .errors import CourseError, MissingAssetError
from .metrics import compute_metrics, load_metric
from .paths import cache_dir, output_dir
from .runtime import MODEL_SETS, PROFILES, Runtime, setup

__version__ = "0.1.0"


__all__ = [
    "CourseError",
    "MissingAssetError",
    "MODEL_SETS",
    "PROFILES",
    "Runtime",
    "cache_dir",
    "causal_lm_checkpoint",
    "chat_template_checkpoint",
    "classifier_checkpoint",
    "compute_metrics",
    "load_metric",
    "load_rotten_tomatoes",
    "output_dir",
    "packaged_path",
    "quiz",
    "rotten_tomatoes_data_files",
    "setup",
]
