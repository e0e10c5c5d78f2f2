"""A lesson's headline results: printed for the student, saved as JSON for `make course` and the tests."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .paths import cache_dir


def results_file(lesson: str) -> Path:
    folder = cache_dir() / "results"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{lesson}.json"


def record_results(lesson: str, headline: str, **measured) -> dict:
    """Save what a lesson measured (numbers it computed, never pre-written ones) and print the headline.

    `headline` names the one entry of `measured` that `make course` shows in its summary line.
    """
    if headline not in measured:
        raise ValueError(f"headline {headline!r} must be one of the measured values {sorted(measured)}")
    payload = {"lesson": lesson, "headline": headline, "measured": measured, "saved_at": time.time()}
    results_file(lesson).write_text(json.dumps(payload, indent=2, default=float))
    value = measured[headline]
    print(
        f"Headline for {lesson}: {headline} = {value:.4g}"
        if isinstance(value, float)
        else f"Headline for {lesson}: {headline} = {value}"
    )
    return payload


def load_results(lesson: str) -> dict | None:
    path = results_file(lesson)
    return json.loads(path.read_text()) if path.is_file() else None
