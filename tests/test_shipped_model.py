"""timemae-base as it ships inside the package: the folder, its card, its Hub-ready twin, and `TimeMAEClassifier()`
using it offline on awkward input."""

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from sklearn.utils.estimator_checks import parametrize_with_checks
from transformers import AutoModel

from timemae_hf import SHIPPED_MODEL_NAMES, TimeMAEClassifier, TimeMAEModel, shipped_model_path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
SHIPPED = Path(shipped_model_path("timemae-base"))
RELEASED = REPOSITORY_ROOT / "released" / "timemae-base"
VALIDATION = REPOSITORY_ROOT / "benchmarks" / "results" / "timemae_base_validation.json"


def test_the_package_ships_timemae_base_as_a_plain_small_checkpoint():
    assert SHIPPED_MODEL_NAMES == ("timemae-base",)
    assert sorted(path.name for path in SHIPPED.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert (SHIPPED / "model.safetensors").stat().st_size < 5_000_000  # small enough to travel in the wheel
    config = json.loads((SHIPPED / "config.json").read_text())
    assert config["channel_independent"] and config["resize_to_context_length"]
    assert (config["num_input_channels"], config["context_length"], config["scaling"]) == (1, 512, "std")
    assert config["window_statistics_as_features"] and config["channel_mean"] is None


def test_the_shipped_weights_are_the_released_ones_and_validations_choice():
    shipped, released = load_file(SHIPPED / "model.safetensors"), load_file(RELEASED / "model.safetensors")
    assert shipped.keys() == released.keys()
    for name in shipped:
        assert torch.equal(shipped[name], released[name]), name
    chosen = json.loads(VALIDATION.read_text())["timemae_base_validation"]["chosen"]
    assert json.loads((SHIPPED / "config.json").read_text())["num_hidden_layers"] == chosen["layers"]
    card = " ".join((SHIPPED / "README.md").read_text().split())
    assert f"checkpoint of step **{chosen['step']}**" in card
    assert f"{chosen['mean_validation_accuracy']:.2f} (chosen)" in card
    assert (RELEASED / "README.md").read_text() == (SHIPPED / "README.md").read_text()


def test_the_released_twin_loads_with_remote_code_for_any_channel_count():
    encoder = AutoModel.from_pretrained(RELEASED, trust_remote_code=True, num_input_channels=3)
    assert encoder(past_values=torch.randn(2, 700, 3)).pooler_output.shape == (2, 3 * encoder.config.hidden_size)


def test_awkward_series_give_finite_features():
    encoder = TimeMAEModel.from_pretrained(SHIPPED, num_input_channels=2).eval()
    one_step = torch.ones(1, 1, 2)
    two_steps = torch.tensor([[[1.0, -3.0], [2.0, -3.0]]])
    constant = torch.full((1, 40, 2), 7.0)
    with torch.no_grad():
        for past_values in (one_step, two_steps, constant):
            assert torch.isfinite(encoder(past_values=past_values).pooler_output).all()
        gaps = torch.randn(1, 60, 2)
        observed = torch.ones_like(gaps)
        observed[0, :, 1] = 0  # a channel never observed
        observed[0, 10:20, 0] = 0  # and a gap in the other
        assert torch.isfinite(encoder(past_values=gaps, past_observed_mask=observed).pooler_output).all()


def test_the_default_estimator_reads_the_shipped_encoder_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rng = np.random.default_rng(0)
    y = np.array(["flat", "wave"] * 20)
    X = rng.normal(scale=0.3, size=(40, 90)).astype(np.float32)
    X[y == "wave"] += np.sin(np.linspace(0, 6 * np.pi, 90)).astype(np.float32)
    X[3, 50:] = np.nan  # a shorter series
    clf = TimeMAEClassifier(random_state=0).fit(X[:30], y[:30])
    assert clf.model_.config.num_hidden_layers == json.loads((SHIPPED / "config.json").read_text())["num_hidden_layers"]
    assert clf.score(X[30:], y[30:]) >= 0.9
    assert clf.predict(rng.normal(size=(2, 1000)).astype(np.float32)).shape == (2,)  # longer than 512: resized


def expected_failed_checks(estimator) -> dict[str, str]:
    """The scikit-learn checks the default estimator fails on purpose, each with the reason."""
    no_feature_count = "series of any length are resized: there is no fixed n_features_in_ to set or check"
    return {
        "check_n_features_in": no_feature_count,
        "check_n_features_in_after_fitting": no_feature_count,
        "check_estimators_empty_data_messages": "the error names windows and steps, not the tabular 'feature(s)' "
        "wording the check matches",
        "check_classifiers_train": "a 2-D X is one channel of series, and a series of another length is resized, "
        "not refused: predict on fewer 'features' than fit is by design",
        "check_methods_subset_invariance": "float32 outputs of a batch and of its windows one by one differ by "
        "rounding, above the check's 1e-7",
    }


# Every check scikit-learn has, on the estimator as it ships: timemae-base's frozen features and the probe.
@parametrize_with_checks([TimeMAEClassifier(random_state=0)], expected_failed_checks=expected_failed_checks)
def test_scikit_learn_estimator_checks_on_the_defaults(estimator, check):
    check(estimator)
