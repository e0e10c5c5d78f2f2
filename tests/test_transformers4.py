"""Lesson 4's loads and course_utils.loading_report on the last transformers 4.x release (what older Colab images ship).

A second, small environment: transformers 4.57.6 with its own huggingface_hub and tokenizers, installed with
--no-deps into .cache/tf4 and put first on PYTHONPATH of a subprocess; torch, safetensors and the rest come from
the venv. (datasets 5.x cannot import next to huggingface_hub 0.x, so Trainer is not exercised here.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_loading_report import loading_scenarios

ROOT = Path(__file__).resolve().parents[1]
TF4_DIR = ROOT / ".cache" / "tf4"
TF4_VERSION = "4.57.6"
TF4_REQUIREMENTS = [f"transformers=={TF4_VERSION}", "huggingface_hub<1", "tokenizers<0.23"]


def tf4_installed() -> bool:
    return (TF4_DIR / f"transformers-{TF4_VERSION}.dist-info").is_dir() and (TF4_DIR / "huggingface_hub").is_dir()


@pytest.fixture(scope="session")
def tf4_path() -> Path:
    if not tf4_installed():
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(TF4_DIR),
            "--no-deps",
            "--upgrade",
            *TF4_REQUIREMENTS,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not tf4_installed():
            pytest.fail(
                f"could not install transformers {TF4_VERSION} into {TF4_DIR} "
                f"(needs PyPI access): {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
    return TF4_DIR


def run_under_tf4(tf4_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(tf4_path), os.environ.get("PYTHONPATH")])),
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


@pytest.fixture(scope="module")
def tf4_scenarios(tf4_path):
    done = run_under_tf4(tf4_path, str(Path(__file__).with_name("test_loading_report.py")))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def tf5_scenarios():
    return loading_scenarios()


def test_the_subprocess_really_runs_4x(tf4_scenarios, tf5_scenarios):
    assert tf4_scenarios["transformers"] == TF4_VERSION
    assert tf5_scenarios["transformers"].split(".")[0] != "4"


def test_4x_prints_the_newly_initialized_sentences(tf4_scenarios):
    text = tf4_scenarios["new_head"]["log_text"]
    assert "Some weights of BertForSequenceClassification were not initialized from the model checkpoint" in text
    assert "newly initialized: ['classifier.bias', 'classifier.weight']" in text
    assert "You should probably TRAIN this model" in text
    assert tf4_scenarios["new_head"]["format"] == "4.x 'Some weights of ...' sentences"
    assert "the shapes did not match" in tf4_scenarios["three_labels"]["log_text"]


@pytest.mark.parametrize("scenario", ["new_head", "same_class", "bare_encoder", "three_labels", "wrapped"])
def test_summaries_are_identical_across_versions(tf4_scenarios, tf5_scenarios, scenario):
    assert tf4_scenarios[scenario]["summary"] == tf5_scenarios[scenario]["summary"]
    assert tf4_scenarios[scenario]["newly_initialized"] == tf5_scenarios[scenario]["newly_initialized"]


def test_what_each_version_shows(tf4_scenarios, tf5_scenarios):
    """The data agree; the printed messages differ: 4.x keeps unused weights of another class at INFO level."""
    assert tf5_scenarios["bare_encoder"]["logged"] == ["unexpected"]
    assert tf4_scenarios["bare_encoder"]["logged"] == []
    for scenario in ("new_head", "three_labels"):
        assert tf4_scenarios[scenario]["logged"] == tf5_scenarios[scenario]["logged"]
    for name in ("comparison", "not_in_checkpoint", "three_labels_strict"):
        assert tf4_scenarios[name] == tf5_scenarios[name]
