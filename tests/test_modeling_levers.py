"""Tests of the options beside TimeMAE's own behaviour (issue 21's levers): the conv patch embedding, overlapping
patches, per-window scaling with its statistics as features, and the spectral loss."""

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
from timemae_hf.modeling_timemae import amplitude_spectra

CONV = dict(patch_embedding_type="conv", conv_stem_channels=2, conv_stem_kernel_size=3, conv_stem_dilations=[1, 4])
OVERLAP = dict(patch_length=8, patch_stride=4)  # 32 steps -> 7 patches
SCALING = dict(scaling="std", window_statistics_as_features=True)
SPECTRAL = dict(spectral_loss_weight=0.5)
EVERY_LEVER = {**CONV, **OVERLAP, **SCALING, **SPECTRAL}
# Each lever alone, and all of them together: every one must keep masked patches out of the online encoder.
LEVERS = {
    "conv": CONV,
    "overlap": OVERLAP,
    "scaling": dict(scaling="std"),
    "scaling+statistics": SCALING,
    "spectral": SPECTRAL,
    "all": EVERY_LEVER,
}


class EveryLeverTester(TimeMAEModelTester):
    """The common tester's tiny configs with every lever on (conv stem, overlapping patches, window scaling with its
    statistics, spectral loss)."""

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
    assert (config.patch_stride, config.patch_embedding_type, config.scaling) == (8, "linear", None)
    assert (config.window_statistics_as_features, config.spectral_loss_weight) == (False, 0.0)
    assert (config.num_patches, config.padded_length) == (16, 128)
    saved = config.to_dict()
    for name in (
        "patch_stride",
        "patch_embedding_type",
        "conv_stem_channels",
        "conv_stem_kernel_size",
        "conv_stem_dilations",
        "scaling",
        "window_statistics_as_features",
        "spectral_loss_weight",
    ):
        assert name in saved, name


def test_a_config_saved_before_the_options_existed_loads_as_the_same_model():
    old = {"model_type": "timemae", "num_input_channels": 3, "context_length": 30, "patch_length": 4}
    config = TimeMAEConfig.from_dict(old)
    assert (config.patch_stride, config.num_patches, config.padded_length) == (4, 8, 32)
    assert config.patch_embedding_type == "linear" and config.scaling is None and config.spectral_loss_weight == 0.0
    assert not TimeMAEModel(config).embeddings.patch_embeddings.mixes_patches
    assert TimeMAEForPreTraining(config).spectral_head is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(patch_stride=5), "`patch_stride` \\(5\\) is longer than `patch_length` \\(4\\)"),
        (dict(patch_stride=0), "`patch_stride` must be a positive integer"),
        (dict(patch_embedding_type="cnn"), "`patch_embedding_type` must be one of"),
        (dict(conv_stem_kernel_size=4), "odd.*use 5"),
        (dict(conv_stem_dilations=[]), "non-empty list of positive integers"),
        (dict(conv_stem_dilations=[1, 0]), "non-empty list of positive integers"),
        (dict(scaling="mean"), "`scaling` must be None"),
        (dict(window_statistics_as_features=True), "needs `scaling='std'`"),
        (dict(spectral_loss_weight=-1.0), "`spectral_loss_weight` must be 0"),
    ],
)
def test_invalid_option_raises_naming_the_fix(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**overrides)


def test_overlapping_patches_cover_the_window_every_stride_steps():
    config = tiny_config(context_length=30, patch_length=8, patch_stride=4)
    assert (config.num_patches, config.padded_length) == (7, 32)  # ceil((30 - 8) / 4) + 1, the end zero-padded
    embeddings = TimeMAEModel(config).embeddings.patch_embeddings
    values = series(config, batch_size=2)
    patches = embeddings.patch_values(values)  # (batch, num_patches, patch_length, channels)
    padded = torch.nn.functional.pad(values, (0, 0, 0, 2))
    for index in range(config.num_patches):
        torch.testing.assert_close(patches[:, index], padded[:, 4 * index : 4 * index + 8], rtol=0, atol=0)
    flat = embeddings.patches(padded)
    torch.testing.assert_close(flat, patches.flatten(2), rtol=0, atol=0)


def test_non_overlapping_patches_are_cut_as_before():
    config = tiny_config()  # patch_length 4 = patch_stride
    embeddings = TimeMAEModel(config).embeddings.patch_embeddings
    values = series(config)
    torch.testing.assert_close(embeddings.patches(values), values.reshape(4, 8, -1), rtol=0, atol=0)


# --- the online encoder never sees a masked patch ------------------------------------------------------------------


@pytest.mark.parametrize("lever", list(LEVERS))
def test_visible_encoder_never_sees_masked_patches_whatever_the_lever(lever):
    """
    With a conv stem, overlapping patches or window statistics a patch's embedding reads steps of other patches; the
    online encoder must still learn nothing of a masked patch: overwriting every step of every masked patch leaves
    the visible representations and the predictions unchanged (the targets, read from the whole window, change).
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


def test_hidden_steps_are_every_step_of_a_masked_patch_also_where_a_visible_one_overlaps():
    config = tiny_config(**OVERLAP)  # patches of 8 every 4 steps
    embeddings = TimeMAEModel(config).embeddings.patch_embeddings
    mask = torch.zeros(1, config.num_patches)
    mask[0, 2] = 1.0  # steps 8..15
    hidden = embeddings.steps_of_patches(mask)[0]
    assert hidden.nonzero().flatten().tolist() == list(range(8, 16))


def test_conv_stem_lets_a_patch_read_beyond_its_own_steps():
    """The point of the stem: rhythm longer than a patch reaches the patch vectors (the linear embedding cannot)."""
    for overrides, reaches in ((CONV, True), ({}, False)):
        model = TimeMAEModel(tiny_config(**overrides)).eval()
        past_values = series(model.config, batch_size=1)
        changed = past_values.clone()
        changed[0, 0] += 1.0  # a step of patch 0
        before = model.embeddings.patch_embeddings(past_values)[0]
        after = model.embeddings.patch_embeddings(changed)[0]
        assert (not torch.equal(before[0, 1], after[0, 1])) is reaches
        assert torch.equal(before[0, 2:], after[0, 2:])  # beyond the widest branch (dilation 4, kernel 3: +-4 steps)


def test_the_stem_and_the_statistics_projection_learn_in_pretraining():
    model = TimeMAEForPreTraining(tiny_config(**EVERY_LEVER))
    model(series(model.config)).loss.backward()
    patch_embeddings = model.timemae.embeddings.patch_embeddings
    for parameter in [
        *patch_embeddings.stem.parameters(),
        patch_embeddings.statistics_projection.weight,
        *model.spectral_head.parameters(),
    ]:
        assert parameter.grad is not None and bool(parameter.grad.abs().sum() > 0)


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


# --- the spectral loss -------------------------------------------------------------------------------------------


def test_amplitude_spectra_are_the_orthonormal_rfft_magnitudes_of_each_patch():
    patches = torch.randn(2, 3, 8, 4, generator=torch.Generator().manual_seed(0))
    expected = np.abs(np.fft.rfft(patches.numpy(), axis=2)) / np.sqrt(8)
    expected = torch.from_numpy(expected).float().flatten(2)
    torch.testing.assert_close(amplitude_spectra(patches), expected, rtol=1e-5, atol=1e-5)


def test_spectral_loss_is_added_with_its_weight_and_only_when_weighted():
    config = tiny_config(**SPECTRAL)
    model = TimeMAEForPreTraining(config).eval()
    outputs = model(series(config), noise=torch.rand(4, config.num_patches))
    expected = 5.0 * outputs.mrr_loss + 1.0 * outputs.mcc_loss + 0.5 * outputs.spectral_loss
    torch.testing.assert_close(outputs.loss.detach(), expected)
    assert outputs.spectral_loss > 0

    plain = TimeMAEForPreTraining(tiny_config()).eval()
    assert plain.spectral_head is None
    assert plain(series(plain.config)).spectral_loss is None
    assert not any("spectral" in name for name in plain.state_dict())


def test_spectral_target_reads_the_masked_patches_normalised_values():
    """A head that outputs the true spectra would score a spectral loss of 0: the target is the masked patches'."""
    config = tiny_config(channel_mean=[0.5, 0.0, -1.0], channel_std=[2.0, 1.0, 3.0], **SPECTRAL)
    model = TimeMAEForPreTraining(config).eval()
    past_values = series(config)
    noise = torch.rand(4, config.num_patches, generator=torch.Generator().manual_seed(2))
    masked = model(past_values, noise=noise)
    spectra = amplitude_spectra(model.timemae.embeddings.patch_embeddings.patch_values(past_values))
    true_masked = torch.gather(spectra, 1, masked.mask.nonzero()[:, 1].view(4, -1, 1).expand(-1, -1, spectra.shape[-1]))
    model.spectral_head.forward = lambda representations: true_masked
    assert model(past_values, noise=noise).spectral_loss == 0


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
    assert list(loading["unexpected_keys"]) == []  # the spectral head is left behind silently, as the regressor is
    assert set(loading["missing_keys"]) == {"classifier.weight", "classifier.bias"}
    torch.testing.assert_close(
        classifier.timemae.eval()(past_values).pooler_output, model.timemae(past_values).pooler_output, rtol=0, atol=0
    )


def test_a_classifier_with_every_lever_exports_to_onnx_with_the_same_logits(tmp_path):
    pytest.importorskip("onnxruntime")
    from timemae_hf.onnx_export import export_onnx, inference_session

    torch.manual_seed(0)
    model = TimeMAEForSequenceClassification(tiny_config(**{**EVERY_LEVER, "spectral_loss_weight": 0.0})).eval()
    session = inference_session(export_onnx(model, tmp_path / "levers.onnx"))
    past_values = series(model.config, batch_size=5)
    logits = session.run(None, {session.get_inputs()[0].name: past_values.numpy()})[0]
    np.testing.assert_allclose(logits, model(past_values).logits.detach().numpy(), rtol=1e-4, atol=1e-5)
