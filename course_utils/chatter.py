"""Library chatter a student cannot act on, kept off the screen (`quiet_library_chatter`, called by `setup()`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

# bitsandbytes (which transformers imports whenever it is installed) warns on AVX-512 CPUs that it found no optional
# `kernels` package: true, harmless, and nothing a student should act on.
KERNELS_NOTICE = ("bitsandbytes.backends.cpu.ops", "Failed to load CPU gemm_4bit_forward from kernels-community")
# transformers 5.x logs a table of unexpected, missing and newly initialised weights after every `from_pretrained`.
LOAD_REPORT = " LOAD REPORT"
# The transformers verbosity `setup()` sets: WARNING less one, so every warning still shows, but a lesson that sets
# a verbosity of its own (`transformers.logging.set_verbosity_warning()`) is told apart and sees the load report.
COURSE_VERBOSITY = logging.WARNING - 1


class DropMessage(logging.Filter):
    """Drops the records that contain `text` (on a logger or a handler), while `active()` says so."""

    def __init__(self, text: str, active: Callable[[], bool] = lambda: True):
        super().__init__()
        self.text, self.active = text, active

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.text in record.getMessage() and self.active())


def course_verbosity_in_effect() -> bool:
    return logging.getLogger("transformers").level == COURSE_VERBOSITY


def quiet_library_chatter() -> None:
    """Keep exactly two messages off the student's screen; every other warning stays.

    - bitsandbytes' notice about the optional `kernels` package: dropped at the logger that emits it.
    - transformers 5.x's per-load report table: dropped by transformers' own printing handler only, while the
      transformers verbosity is the one set here; a handler a tool adds (lesson 4's log capture) still receives
      it. Lesson 4, which teaches that report, calls `transformers.logging.set_verbosity_warning()` to see it.
    Idempotent; works before bitsandbytes is imported (a logger is the same object before and after)."""
    import transformers

    logger_name, text = KERNELS_NOTICE
    kernels_logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, DropMessage) for existing in kernels_logger.filters):
        kernels_logger.addFilter(DropMessage(text))
    transformers.logging.get_verbosity()  # makes transformers attach its printing handler, if not done yet
    for handler in logging.getLogger("transformers").handlers:
        if not any(isinstance(existing, DropMessage) for existing in handler.filters):
            handler.addFilter(DropMessage(LOAD_REPORT, course_verbosity_in_effect))
    if "TRANSFORMERS_VERBOSITY" not in os.environ and transformers.logging.get_verbosity() == logging.WARNING:
        transformers.logging.set_verbosity(COURSE_VERBOSITY)
