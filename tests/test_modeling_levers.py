"""Tests of the options beside TimeMAE's own behaviour: per-window scaling with its statistics as features; and of the
refusal of the options that were removed (the conv stem, overlapping patches, the spectral loss)."""

import json

import numpy as np
import pytest
import torch
from test_modeling_common import (  # noqa: F401 (pytest_generate_tests parametrises the mixin's model_class)
    TimeMAEModelTester,
    TimeMAEModelTesterMixin,
    pytest_generate_tests,
)
from transformers import AutoModelForPreTraining

from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEForSequenceClassification, TimeMAEModel

SCALING = dict(scaling="std", window_statistics_as_features=True)
EVERY_LEVER = {**SCALING, "first_difference_view": True}
# Each lever alone, and all of them together: every one must keep masked patches out of the online encoder.
LEVERS = {
    "scaling": dict(scaling="std"),
    "scaling+statistics": SCALING,
    "first_difference": dict(first_difference_view=True),
    "all": EVERY_LEVER,
}


class EveryLeverTester(TimeMAEModelTester):
    """The common tester's tiny configs with every lever on (window scaling with its statistics, the first-difference
    view)."""

    def get_config(self, **overrides) -> TimeMAEConfig:
        return super().get_config(**{**EVERY_LEVER, **overrides})


class TestTimeMAEModelsWithEveryLever(TimeMAEModelTesterMixin):
    """Every generic check of the three heads (save/load, padding invariance, batch independence, gradients, ...)
    with all levers on."""

    all_model_classes = (TimeMAEModel, TimeMAEForPreTraining, TimeMAEForSequenceClassification)
    model_tester = EveryLeverTester()


def tiny_config(**overrides) -> TimeMAEConfig:
    no_dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    return TimeMAEModelTester().get_config(**{**no_dropout, **overrides})


def series(config, batch_size=4, seed=0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch_size, config.context_length, config.num_input_channels, generator=generator)


# --- configuration -----------------------------------------------------------------------------------------------


def test_default_config_keeps_todays_model_and_names_every_option():
    config = TimeMAEConfig()
    assert (config.patch_length, config.scaling, config.window_statistics_as_features) == (8, None, False)
    assert (config.num_patches, config.padded_length) == (16, 128)
    saved = config.to_dict()
    for name in ("patch_length", "scaling", "window_statistics_as_features"):
        assert name in saved, name


def test_a_config_saved_before_the_options_existed_loads_as_the_same_model():
    old = {"model_type": "timemae", "num_input_channels": 3, "context_length": 30, "patch_length": 4}
    config = TimeMAEConfig.from_dict(old)
    assert (config.patch_length, config.num_patches, config.padded_length) == (4, 8, 32)
    assert config.scaling is None and not config.window_statistics_as_features
    assert not TimeMAEModel(config).embeddings.patch_embeddings.mixes_patches


REMOVED_AT_THEIR_HARMLESS_VALUES = {
    "patch_embedding_type": "linear",
    "conv_stem_channels": 8,
    "conv_stem_kernel_size": 9,
    "conv_stem_dilations": [1, 2, 4, 8],
    "spectral_loss_weight": 0.0,
    "patch_stride": 4,  # the patch length: no overlap
}


def test_a_config_saved_with_the_removed_options_off_loads_without_them(tmp_path):
    """Configs saved while the conv stem, overlapping patches and the spectral loss existed name them, off: they load
    as the same model, and the options are not saved again."""
    old = {"model_type": "timemae", "num_input_channels": 3, "context_length": 32, "patch_length": 4}
    (tmp_path / "config.json").write_text(json.dumps({**old, **REMOVED_AT_THEIR_HARMLESS_VALUES}))
    config = TimeMAEConfig.from_pretrained(tmp_path)
    assert config.to_dict() == TimeMAEConfig.from_dict(old).to_dict()
    assert not set(REMOVED_AT_THEIR_HARMLESS_VALUES) & set(config.to_dict())


@pytest.mark.parametrize(
    "option, value",
    [
        ("patch_embedding_type", "conv"),
        ("patch_embedding_type", "cnn"),
        ("spectral_loss_weight", 1.0),
        ("patch_stride", 2),  # patch_length is 4
    ],
)
def test_a_removed_option_asking_for_another_model_is_refused_naming_the_commit_that_has_it(option, value):
    with pytest.raises(ValueError, match=f"`{option}={value!r}` asks for .* removed.*commit 9055664"):
        tiny_config(**{option: value})


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(scaling="mean"), "`scaling` must be None"),
        (dict(window_statistics_as_features=True), "needs `scaling='std'`"),
    ],
)
def test_invalid_option_raises_naming_the_fix(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**overrides)


def test_patches_are_cut_every_patch_length_steps():
    config = tiny_config()  # 32 steps, patches of 4
    embeddings = TimeMAEModel(config).embeddings.patch_embeddings
    values = series(config)
    torch.testing.assert_close(embeddings.patches(values), values.reshape(4, 8, -1), rtol=0, atol=0)


# --- the online encoder never sees a masked patch ------------------------------------------------------------------


@pytest.mark.parametrize("lever", list(LEVERS))
def test_visible_encoder_never_sees_masked_patches_whatever_the_lever(lever):
    """
    With window statistics or first differences a patch's embedding reads steps of other patches; the online encoder
    must still learn nothing of a masked patch: overwriting every step of every masked patch leaves the visible
    representations and the predictions unchanged (the targets, read from the whole window, change).
    """
    config = tiny_config(**LEVERS[lever])
    model = TimeMAEForPreTraining(config).eval()
    past_values = series(config)
    noise = torch.rand(4, config.num_patches, generator=torch.Generator().manual_seed(1))
    before = model(past_values, noise=noise)
    hidden = model.timemae.embeddings.patch_embeddings.steps_of_patches(before.mask)[:, : config.context_length]
    corrupted = past_values.clone()
    corrupted[hidden] = 1000.0
    after = model(corrupted, noise=noise)
    torch.testing.assert_close(before.visible_representations, after.visible_representations, rtol=0, atol=0)
    torch.testing.assert_close(before.predicted_representations, after.predicted_representations, rtol=0, atol=0)
    assert not torch.allclose(before.target_representations, after.target_representations)


def test_hidden_steps_are_every_step_of_a_masked_patch():
    config = tiny_config(context_length=30)  # patches of 4 steps, the last zero-padded
    embeddings = TimeMAEModel(config).embeddings.patch_embeddings
    mask = torch.zeros(1, config.num_patches)
    mask[0, 2] = mask[0, 7] = 1.0  # steps 8..11 and 28..31
    hidden = embeddings.steps_of_patches(mask)[0]
    assert hidden.shape == (config.padded_length,) == (32,)
    assert hidden.nonzero().flatten().tolist() == [*range(8, 12), *range(28, 32)]


def test_the_statistics_projection_learns_in_pretraining():
    model = TimeMAEForPreTraining(tiny_config(**EVERY_LEVER))
    model(series(model.config)).loss.backward()
    gradient = model.timemae.embeddings.patch_embeddings.statistics_projection.weight.grad
    assert gradient is not None and bool(gradient.abs().sum() > 0)


# --- per-window scaling ----------------------------------------------------------------------------------------------


def test_window_scaling_forgets_a_windows_level_and_spread_unless_its_statistics_are_features():
    for statistics, invariant in ((False, True), (True, False)):
        model = TimeMAEModel(tiny_config(scaling="std", window_statistics_as_features=statistics)).eval()
        past_values = series(model.config)
        moved = 3.0 * past_values + 5.0
        same = torch.allclose(model(past_values).pooler_output, model(moved).pooler_output, atol=1e-4)
        assert same is invariant


def test_window_statistics_are_those_of_the_observed_steps_after_the_dataset_statistics():
    mean, std = [1.0, -2.0, 0.5], [2.0, 4.0, 0.5]
    config = tiny_config(channel_mean=mean, channel_std=std, **SCALING)
    embeddings = TimeMAEModel(config).embeddings.patch_embeddings
    past_values = series(config, batch_size=2)
    observed = torch.ones_like(past_values, dtype=torch.bool)
    observed[0, 20:] = False
    series_, statistics = embeddings.normalized_series(past_values, observed)
    standardised = (past_values - torch.tensor(mean)) / torch.tensor(std)
    window = standardised[0, :20]
    expected_mean = window.mean(dim=0)
    expected_std = (window.var(dim=0, unbiased=False) + 1e-5).sqrt()
    torch.testing.assert_close(statistics[0], torch.cat([expected_mean, expected_std.log()]))
    torch.testing.assert_close(series_[0, :20], (window - expected_mean) / expected_std)
    assert bool((series_[0, 20:] == 0).all())


# --- checkpoints -------------------------------------------------------------------------------------------------


def test_a_checkpoint_with_every_lever_reloads_with_identical_outputs_and_feeds_a_classifier(tmp_path):
    torch.manual_seed(0)
    model = TimeMAEForPreTraining(tiny_config(**EVERY_LEVER)).eval()
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert {key: saved[key] for key in EVERY_LEVER} == EVERY_LEVER
    reloaded = AutoModelForPreTraining.from_pretrained(tmp_path).eval()
    past_values = series(model.config)
    noise = torch.rand(4, model.config.num_patches)
    torch.testing.assert_close(
        model(past_values, noise=noise).loss, reloaded(past_values, noise=noise).loss, rtol=0, atol=0
    )

    classifier, loading = TimeMAEForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert list(loading["unexpected_keys"]) == []  # the pre-training parts are left behind silently
    assert set(loading["missing_keys"]) == {"classifier.weight", "classifier.bias"}
    torch.testing.assert_close(
        classifier.timemae.eval()(past_values).pooler_output, model.timemae(past_values).pooler_output, rtol=0, atol=0
    )


def test_a_classifier_with_every_lever_exports_to_onnx_with_the_same_logits(tmp_path):
    pytest.importorskip("onnxruntime")
    from timemae_hf.onnx_export import export_onnx, inference_session

    torch.manual_seed(0)
    model = TimeMAEForSequenceClassification(tiny_config(**EVERY_LEVER)).eval()
    session = inference_session(export_onnx(model, tmp_path / "levers.onnx"))
    past_values = series(model.config, batch_size=5)
    logits = session.run(None, {session.get_inputs()[0].name: past_values.numpy()})[0]
    np.testing.assert_allclose(logits, model(past_values).logits.detach().numpy(), rtol=1e-4, atol=1e-5)
