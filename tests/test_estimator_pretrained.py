"""`TimeMAEClassifier` starting from a pre-trained universal encoder (the default, `timemae-base`): a frozen,
channel-independent, resizing encoder read by a standardised logistic regression, on any channels and lengths.

A tiny checkpoint of the same kind as timemae-base stands in for it here, so these tests need no real pre-training;
the shipped model itself is checked in test_shipped_model.py."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining
from timemae_hf.estimator import TimeMAEClassifier

UNIVERSAL = dict(
    num_input_channels=1,
    context_length=32,
    patch_length=8,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=32,
    codebook_size=16,
    num_regressor_layers=1,
    scaling="std",
    window_statistics_as_features=True,
    channel_independent=True,
    resize_to_context_length=True,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
)


@pytest.fixture(scope="module")
def universal_checkpoint(tmp_path_factory) -> str:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("universal") / "checkpoint"
    TimeMAEForPreTraining(TimeMAEConfig(**UNIVERSAL)).save_pretrained(path)
    return str(path)


def windows(num_windows=30, length=20, channels=3, seed=0):
    """Three classes: a sine of a class-dependent frequency on channel 1 (0 if alone), noise, random scales."""
    rng = np.random.default_rng(seed)
    y = np.array(["a", "b", "c"] * (num_windows // 3))
    X = rng.normal(size=(num_windows, length, channels)).astype(np.float32)
    frequency = {"a": 1.0, "b": 2.0, "c": 4.0}
    for index, label in enumerate(y):
        X[index, :, min(1, channels - 1)] += 3 * np.sin(np.linspace(0, 2 * np.pi * frequency[label], length))
    return X * rng.uniform(0.5, 20.0, size=(num_windows, 1, 1)).astype(np.float32), y


def test_the_defaults_read_the_shipped_universal_encoder_with_a_probe():
    params = TimeMAEClassifier().get_params()
    assert (params["pretrained_model"], params["head"], params["pretrain_steps"]) == ("timemae-base", "probe", 0)
    assert params["normalize_channels"] is None


def test_any_channels_and_lengths_fit_and_predict(universal_checkpoint):
    X, y = windows(channels=3, length=20)
    clf = TimeMAEClassifier(pretrained_model=universal_checkpoint, random_state=0).fit(X, y)
    assert clf.model_.config.num_input_channels == 3
    assert clf.model_.classifier.in_features == 3 * 16  # each channel's pooled features, side by side
    assert clf.model_.config.channel_mean is None  # the encoder scales each window itself
    longer, _ = windows(num_windows=6, length=75, channels=3, seed=1)  # longer than the model's 32 steps: resized
    assert clf.predict_proba(longer).shape == (6, 3)
    univariate, y1 = windows(channels=1, length=40)
    clf1 = TimeMAEClassifier(pretrained_model=universal_checkpoint).fit(univariate[:, :, 0], y1)
    assert clf1.predict(univariate[:3, :, 0]).shape == (3,)


def test_the_probe_is_a_standardised_logistic_regression_on_frozen_features(universal_checkpoint):
    X, y = windows()
    clf = TimeMAEClassifier(pretrained_model=universal_checkpoint, random_state=0).fit(X, y)
    checkpoint = load_file(f"{universal_checkpoint}/model.safetensors")
    fitted = clf.model_.state_dict()
    for name, value in checkpoint.items():
        if name.startswith("timemae."):
            torch.testing.assert_close(fitted[name], value, msg=name)  # frozen: the encoder is the checkpoint's
    features = clf.embed(X)
    assert features.shape == (30, 48) and np.isfinite(features).all()
    reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000_000)).fit(features, y)
    np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(features), atol=1e-4)
    assert clf.score(X, y) == reference.score(features, y)


def test_missing_values_gaps_and_an_empty_channel_give_finite_predictions(universal_checkpoint):
    X, y = windows()
    clf = TimeMAEClassifier(pretrained_model=universal_checkpoint).fit(X, y)
    holes = X[:4].copy()
    holes[0, 5:9, 0] = np.nan  # a gap
    holes[1, 12:, :] = np.nan  # a shorter series
    holes[2, :, 2] = np.nan  # a channel never observed in this window
    assert np.isfinite(clf.predict_proba(holes)).all()


def test_fine_tuning_and_further_pretraining_move_the_encoder(universal_checkpoint):
    X, y = windows()
    start = load_file(f"{universal_checkpoint}/model.safetensors")["timemae.encoder.layer.0.output.dense.weight"]
    for params in ({"head": "finetune", "finetune_steps": 3}, {"pretrain_steps": 2}):
        clf = TimeMAEClassifier(pretrained_model=universal_checkpoint, batch_size=8, random_state=0, **params)
        clf.fit(X, y)
        moved = clf.model_.timemae.encoder.layer[0].output.dense.weight.detach()
        assert not torch.allclose(moved, start), params
        assert clf.predict(X).shape == (30,)


def test_fewer_layers_read_features_from_an_intermediate_layer(universal_checkpoint):
    X, y = windows()
    clf = TimeMAEClassifier(pretrained_model=universal_checkpoint, num_hidden_layers=1).fit(X, y)
    assert len(clf.model_.timemae.encoder.layer) == 1 and clf.model_.config.num_hidden_layers == 1
    start = load_file(f"{universal_checkpoint}/model.safetensors")["timemae.encoder.layer.0.output.dense.weight"]
    torch.testing.assert_close(clf.model_.timemae.encoder.layer[0].output.dense.weight.detach(), start)


def test_a_fitted_classifier_saves_and_reloads_with_its_encoder(universal_checkpoint, tmp_path):
    X, y = windows()
    clf = TimeMAEClassifier(pretrained_model=universal_checkpoint).fit(X, y)
    clf.save_pretrained(tmp_path / "fitted")
    again = TimeMAEClassifier.from_pretrained(tmp_path / "fitted")
    longer, _ = windows(num_windows=6, length=50, seed=2)
    np.testing.assert_allclose(again.predict_proba(longer), clf.predict_proba(longer), atol=1e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_size": 32}, "fixes the encoder"),
        ({"context_length": 64}, "fixes the encoder"),
        ({"num_hidden_layers": 3}, "choose at most 2"),
        ({"pretrained_model": 3}, "pretrained_model must be"),
    ],
)
def test_options_the_checkpoint_fixes_are_refused(universal_checkpoint, params, match):
    X, y = windows()
    with pytest.raises(ValueError, match=match):
        TimeMAEClassifier(**{"pretrained_model": universal_checkpoint, **params}).fit(X, y)


def test_a_checkpoint_that_encodes_channels_together_names_the_channel_mismatch(tmp_path):
    mixed = {**UNIVERSAL, "num_input_channels": 2, "channel_independent": False, "resize_to_context_length": False}
    TimeMAEForPreTraining(TimeMAEConfig(**mixed)).save_pretrained(tmp_path / "mixed")
    X, y = windows(channels=3)
    with pytest.raises(ValueError, match="encodes 2 channels together"):
        TimeMAEClassifier(pretrained_model=str(tmp_path / "mixed")).fit(X, y)
    X2, y2 = windows(channels=2, length=40)
    with pytest.raises(ValueError, match="takes at most 32"):
        TimeMAEClassifier(pretrained_model=str(tmp_path / "mixed")).fit(X2, y2)


def test_a_fitted_model_classifies_windows_of_any_length_through_the_pipeline(universal_checkpoint):
    from transformers import pipeline

    X, y = windows()
    clf = TimeMAEClassifier(pretrained_model=universal_checkpoint).fit(X, y)
    classify = pipeline("time-series-classification", model=clf.model_)
    longer, _ = windows(num_windows=2, length=90, seed=3)
    predictions = classify(longer, top_k=1)
    assert [prediction[0]["label"] for prediction in predictions] == list(clf.predict(longer))


def test_the_estimator_card_names_the_pretrained_encoder(universal_checkpoint, tmp_path):
    X, y = windows()
    TimeMAEClassifier(pretrained_model=universal_checkpoint).fit(X, y).save_pretrained(tmp_path / "fitted")
    card = " ".join((tmp_path / "fitted" / "README.md").read_text().split())
    assert f"starting from the pre-trained encoder `{universal_checkpoint}`" in card
    assert "3 channels, series of any length, each resized to 32 steps, 3 classes" in card


def test_an_estimator_saved_before_pretrained_encoders_reloads_as_fitted_with_a_new_one(universal_checkpoint, tmp_path):
    X, y = windows()
    TimeMAEClassifier(pretrained_model=universal_checkpoint).fit(X, y).save_pretrained(tmp_path / "old")
    state_file = tmp_path / "old" / "timemae_estimator.json"
    state = json.loads(state_file.read_text())
    del state["params"]["pretrained_model"]  # as written by a version without the parameter
    state_file.write_text(json.dumps(state))
    assert TimeMAEClassifier.from_pretrained(tmp_path / "old").pretrained_model is None
