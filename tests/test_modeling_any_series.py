"""Tests of the options that let one pre-trained univariate encoder serve any series: channel independence (any
channel count), resizing to `context_length` (any length), the robustness they promise on degenerate series, and the
first-difference view."""

import json

import numpy as np
import pytest
import torch
from test_modeling_common import (  # noqa: F401 (pytest_generate_tests parametrises the mixin's model_class)
    TimeMAEModelTester,
    TimeMAEModelTesterMixin,
    pytest_generate_tests,
)
from transformers.testing_utils import CaptureLogger
from transformers.utils import logging as transformers_logging

from timemae_hf import (
    TimeMAEConfig,
    TimeMAEForPreTraining,
    TimeMAEForSequenceClassification,
    TimeMAEModel,
    modeling_timemae,
)
from timemae_hf.modeling_timemae import resize_observed_part

NEW_OPTIONS = ("channel_independent", "channel_pooling", "resize_to_context_length", "first_difference_view")
CHANNEL_INDEPENDENT = dict(channel_independent=True)
ANY_SERIES = dict(
    channel_independent=True, resize_to_context_length=True, scaling="std", window_statistics_as_features=True
)


def tiny_config(**overrides) -> TimeMAEConfig:
    """3 channels, 32 steps in 8 patches of 4, a 2-layer 16-wide encoder with 2 heads, no dropout."""
    no_dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    return TimeMAEModelTester().get_config(**{**no_dropout, **overrides})


def build(model_class, seed=0, **overrides):
    torch.manual_seed(seed)
    return model_class(tiny_config(**overrides)).eval()


def series(batch_size=2, length=32, channels=3, seed=0) -> torch.Tensor:
    return torch.randn(batch_size, length, channels, generator=torch.Generator().manual_seed(seed))


def with_channels(model, num_input_channels):
    """The same weights in a model configured for another channel count (a channel-independent model allows it)."""
    config = TimeMAEConfig.from_dict({**model.config.to_dict(), "num_input_channels": num_input_channels})
    other = type(model)(config)
    other.load_state_dict(model.state_dict())
    return other.eval()


def with_options(model, **options):
    """The same weights in a model whose config differs by `options` that add no weights."""
    other = type(model)(TimeMAEConfig.from_dict({**model.config.to_dict(), **options}))
    other.load_state_dict(model.state_dict())
    return other.eval()


# --- configuration -----------------------------------------------------------------------------------------------


def test_defaults_leave_every_option_off_and_saved_configs_name_them():
    config = TimeMAEConfig()
    assert (config.channel_independent, config.channel_pooling, config.resize_to_context_length) == (
        False,
        "concat",
        False,
    )
    assert config.first_difference_view is False
    assert (config.encoded_channels, config.step_channels, config.pooled_size) == (9, 9, 64)
    saved = config.to_dict()
    assert all(name in saved for name in NEW_OPTIONS)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(channel_independent=True, channel_pooling="max"), "`channel_pooling` must be one of"),
        (dict(channel_pooling="mean"), "Set channel_independent=True or drop channel_pooling"),
        (dict(channel_independent="yes"), "`channel_independent` must be True or False"),
        (dict(resize_to_context_length=1), "`resize_to_context_length` must be True or False"),
        (dict(first_difference_view=None), "`first_difference_view` must be True or False"),
    ],
)
def test_bad_options_get_an_error_naming_the_fix(options, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**options)


def test_a_default_model_saved_before_the_options_existed_loads_with_the_same_outputs(tmp_path):
    model = build(TimeMAEForSequenceClassification, channel_mean=[1.0, 2.0, 3.0], channel_std=[2.0, 1.0, 0.5])
    past_values = series(3)
    with torch.no_grad():
        expected = model(past_values).logits
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert {name: saved[name] for name in NEW_OPTIONS} == dict(
        channel_independent=False,
        channel_pooling="concat",
        resize_to_context_length=False,
        first_difference_view=False,
    )
    for name in NEW_OPTIONS:  # as config.json was written before these options existed
        del saved[name]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    reloaded, info = TimeMAEForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert not any(info.values())
    assert reloaded.classifier.weight.shape == (4, 16)
    with torch.no_grad():
        torch.testing.assert_close(reloaded.eval()(past_values).logits, expected, rtol=0, atol=0)


# --- channel independence ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel_pooling", ["concat", "mean"])
def test_each_channel_is_encoded_alone_by_the_univariate_encoder(channel_pooling):
    model = build(TimeMAEModel, channel_independent=True, channel_pooling=channel_pooling)
    univariate = with_channels(model, 1)
    past_values = series(2)
    with torch.no_grad():
        outputs = model(past_values)
        alone = [univariate(past_values[:, :, channel : channel + 1]) for channel in range(3)]
    assert outputs.last_hidden_state.shape == (2, 3, 8, 16)
    assert outputs.patch_mask.shape == (2, 3, 8) and bool(outputs.patch_mask.all())
    for channel, channel_outputs in enumerate(alone):
        torch.testing.assert_close(outputs.last_hidden_state[:, channel], channel_outputs.last_hidden_state[:, 0])
    pooled = torch.stack([channel_outputs.pooler_output for channel_outputs in alone], dim=1)  # (2, 3, 16)
    expected = pooled.flatten(1) if channel_pooling == "concat" else pooled.mean(dim=1)
    assert outputs.pooler_output.shape == expected.shape == ((2, 48) if channel_pooling == "concat" else (2, 16))
    torch.testing.assert_close(outputs.pooler_output, expected)


def test_a_channel_independent_model_pools_only_the_observed_patches_of_each_channel():
    model = build(TimeMAEModel, channel_independent=True)
    univariate = with_channels(model, 1)
    past_values = series(1)
    observed = torch.ones_like(past_values, dtype=torch.bool)
    observed[0, 12:, 1] = False  # channel 1 has 3 observed patches of 8
    with torch.no_grad():
        outputs = model(past_values, observed)
        short = univariate(past_values[:, :12, 1:2])
    assert outputs.patch_mask[0].sum(dim=1).tolist() == [8, 3, 8]
    torch.testing.assert_close(outputs.pooler_output[:, 16:32], short.pooler_output)


def test_dataset_statistics_apply_to_each_channel_before_the_split():
    mean, std = [1.0, -2.0, 0.5], [2.0, 4.0, 0.5]
    model = build(TimeMAEModel, channel_independent=True, channel_mean=mean, channel_std=std)
    plain = with_options(model, channel_mean=None, channel_std=None)
    past_values = series(2)
    with torch.no_grad():
        expected = plain((past_values - torch.tensor(mean)) / torch.tensor(std)).pooler_output
        torch.testing.assert_close(model(past_values).pooler_output, expected)


@pytest.mark.parametrize("model_class", [TimeMAEModel, TimeMAEForPreTraining])
def test_channel_independent_weights_do_not_depend_on_the_channel_count(model_class):
    options = ANY_SERIES
    shapes = [
        {
            name: tuple(tensor.shape)
            for name, tensor in build(model_class, num_input_channels=c, **options).state_dict().items()
        }
        for c in (1, 9)
    ]
    assert shapes[0] == shapes[1]
    embeddings = build(TimeMAEModel, num_input_channels=9, **options).embeddings.patch_embeddings
    assert embeddings.projection.weight.shape == (16, 4)  # patch_length values of one channel
    assert embeddings.statistics_projection.weight.shape == (16, 2)  # its mean and log std


def test_a_checkpoint_saved_with_one_channel_loads_for_nine_channels(tmp_path):
    univariate = build(TimeMAEForPreTraining, num_input_channels=1, **ANY_SERIES)
    univariate.save_pretrained(tmp_path)
    model, info = TimeMAEModel.from_pretrained(tmp_path, num_input_channels=9, output_loading_info=True)
    assert not info["missing_keys"] and not info["mismatched_keys"]
    assert model.config.num_input_channels == 9
    past_values = series(2, length=50, channels=9)
    encoder = TimeMAEModel.from_pretrained(tmp_path).eval()  # the same weights, one channel
    with torch.no_grad():
        outputs = model.eval()(past_values)
        for channel in (0, 8):
            expected = encoder(past_values[:, :, channel : channel + 1]).last_hidden_state[:, 0]
            torch.testing.assert_close(outputs.last_hidden_state[:, channel], expected)
    assert outputs.pooler_output.shape == (2, 9 * 16)


def test_the_wrong_channel_count_error_says_how_to_reload_a_channel_independent_model():
    model = build(TimeMAEModel, num_input_channels=1, channel_independent=True)
    with pytest.raises(
        ValueError,
        match=r"do not depend on the channel count.*from_pretrained\(path, num_input_"
        r"channels=9\)",
    ):
        model(series(2, channels=9))
    with pytest.raises(ValueError, match="configured for 3 channels, the input has 9.$"):
        build(TimeMAEModel)(series(2, channels=9))  # a mixed-channel model's weights do depend on it
    with pytest.raises(ValueError, match="looks channels-first"):  # (batch, channels, time) of any length
        build(TimeMAEModel, num_input_channels=1, **ANY_SERIES)(series(2, length=1, channels=50))


@pytest.mark.parametrize("channel_pooling, pooled_size", [("concat", 48), ("mean", 16)])
def test_the_classifier_head_reads_the_pooled_size(channel_pooling, pooled_size):
    model = build(TimeMAEForSequenceClassification, channel_independent=True, channel_pooling=channel_pooling)
    assert model.config.pooled_size == pooled_size
    assert model.classifier.weight.shape == (4, pooled_size)
    past_values = series(3)
    with torch.no_grad():
        expected = model.classifier(model.timemae(past_values).pooler_output)
        outputs = model(past_values, labels=torch.tensor([0, 1, 3]))
    torch.testing.assert_close(outputs.logits, expected)
    assert torch.isfinite(outputs.loss)


@pytest.mark.parametrize(
    "levers", [{}, dict(scaling="std", window_statistics_as_features=True)], ids=["plain", "scaling+statistics"]
)
def test_pretraining_on_one_channel_is_the_same_with_and_without_channel_independence(levers):
    mixed = build(TimeMAEForPreTraining, num_input_channels=1, **levers).train()
    independent = build(TimeMAEForPreTraining, num_input_channels=1, channel_independent=True, **levers).train()
    for name, tensor in mixed.state_dict().items():
        assert torch.equal(independent.state_dict()[name], tensor), name
    past_values = series(4, channels=1)
    noise = torch.rand(4, 8, generator=torch.Generator().manual_seed(1))
    outputs = []
    for model in (mixed, independent):
        torch.manual_seed(0)  # the same Gumbel-sampled codeword targets
        outputs.append(model(past_values, noise=noise))
    for name in ("loss", "mrr_loss", "mcc_loss", "codeword_ids", "predicted_representations", "mask"):
        torch.testing.assert_close(outputs[1][name], outputs[0][name], rtol=0, atol=0, msg=name)
    outputs[0].loss.backward()
    outputs[1].loss.backward()
    gradient = independent.timemae.embeddings.patch_embeddings.projection.weight.grad
    torch.testing.assert_close(
        gradient, mixed.timemae.embeddings.patch_embeddings.projection.weight.grad, rtol=0, atol=0
    )


def test_pretraining_treats_every_channel_as_a_window_of_its_own():
    model = build(TimeMAEForPreTraining, channel_independent=True, scaling="std")
    univariate = with_channels(model, 1)
    past_values = series(2)
    noise = torch.rand(6, 8, generator=torch.Generator().manual_seed(1))  # one row per window-channel
    with torch.no_grad():
        outputs = model(past_values, noise=noise)
        # window b * 3 + c is channel c of window b
        expected = univariate(past_values.transpose(1, 2).reshape(6, 32, 1), noise=noise)
    assert outputs.mask.shape == (6, 8) and outputs.predicted_representations.shape == (6, 4, 16)
    for name in ("loss", "codeword_ids", "predicted_representations", "target_representations"):
        torch.testing.assert_close(outputs[name], expected[name], msg=name)
    with pytest.raises(ValueError, match=r"`noise` must have shape \(6, 8\)"):
        model(past_values, noise=noise[:2])


def test_a_channel_with_no_observed_value_is_named_without_resizing():
    model = build(TimeMAEModel, channel_independent=True)
    observed = torch.ones(2, 32, 3)
    observed[1, :, 2] = 0
    with pytest.raises(ValueError, match="window 1 channel 2 of the batch have no observed value.*resize_to_context"):
        model(series(2), observed)


class ChannelIndependentTester(TimeMAEModelTester):
    def get_config(self, **overrides) -> TimeMAEConfig:
        return super().get_config(**{**CHANNEL_INDEPENDENT, **overrides})


class TestChannelIndependentModels(TimeMAEModelTesterMixin):
    """Every generic check of the encoder and the classifier (save/load, padding invariance, batch independence,
    gradients, bf16, ...) on a channel-independent model; pre-training is the univariate model's on a batch of
    window-channels (checked above)."""

    all_model_classes = (TimeMAEModel, TimeMAEForSequenceClassification)
    model_tester = ChannelIndependentTester()

    def test_hidden_states_have_one_entry_per_layer_plus_input(self, model_class):
        model = self.build(model_class)
        outputs = model(self.model_tester.past_values(), output_hidden_states=True)
        assert len(outputs.hidden_states) == model.config.num_hidden_layers + 1
        assert all(state.shape == (3 * 3, 8, 16) for state in outputs.hidden_states)  # one row per window-channel

    def test_attentions_have_one_map_per_layer_that_sums_to_one(self, model_class):
        model = self.build(model_class)
        model.set_attn_implementation("eager")
        outputs = model(self.model_tester.past_values(), output_attentions=True)
        assert [attention.shape for attention in outputs.attentions] == [(3 * 3, 2, 8, 8)] * 2


# --- resizing to context_length ----------------------------------------------------------------------------------


def ragged_example():
    """Two windows of 10 steps, 3 channels, NaN where a value is missing: leading, interior and trailing gaps, a
    channel with one observed step and one with none."""
    nan = np.nan
    values = np.array(
        [
            [
                [nan, 1.0, 5.0],
                [2.0, nan, nan],
                [nan, 3.0, nan],
                [4.0, nan, nan],
                [nan, nan, nan],
                [nan, 6.0, nan],
                [-1.0, nan, nan],
                [nan, nan, nan],
                [nan, 0.5, nan],
                [nan, nan, nan],
            ],
            [
                [0.0, nan, nan],
                [1.0, nan, nan],
                [4.0, nan, nan],
                [9.0, nan, nan],
                [16.0, nan, nan],
                [25.0, nan, nan],
                [36.0, nan, nan],
                [49.0, nan, nan],
                [64.0, nan, nan],
                [81.0, 7.0, nan],
            ],
        ]
    )
    return values


def numpy_resize(values: np.ndarray, length: int) -> np.ndarray:
    """The promise, written with np.interp: each window-channel's observed part at `length` evenly spaced points."""
    resized = np.zeros((values.shape[0], length, values.shape[2]))
    for window in range(values.shape[0]):
        for channel in range(values.shape[2]):
            observed_steps = np.flatnonzero(~np.isnan(values[window, :, channel]))
            if observed_steps.size:
                points = np.linspace(observed_steps[0], observed_steps[-1], length)
                resized[window, :, channel] = np.interp(points, observed_steps, values[window, observed_steps, channel])
    return resized


@pytest.mark.parametrize("length", [32, 7, 10])
def test_resize_observed_part_is_np_interp_of_each_observed_part(length):
    values = ragged_example()
    observed = torch.from_numpy(~np.isnan(values))
    resized = resize_observed_part(torch.from_numpy(np.nan_to_num(values, nan=0.0)).float(), observed, length)
    assert resized.shape == (2, length, 3)
    np.testing.assert_allclose(resized.numpy(), numpy_resize(values, length), rtol=1e-5, atol=1e-5)
    assert bool((resized[1, :, 2] == 0).all())  # no observed value: a constant 0
    assert bool((resized[1, :, 1] == 7.0).all())  # one observed value: a constant


def test_resize_of_a_fully_observed_window_keeps_it_and_stretches_it_linearly():
    values = series(2, length=9)
    torch.testing.assert_close(resize_observed_part(values, None, 9), values, rtol=0, atol=0)
    doubled = resize_observed_part(values, None, 17)
    torch.testing.assert_close(doubled[:, ::2], values)
    torch.testing.assert_close(doubled[:, 1::2], (values[:, 1:] + values[:, :-1]) / 2)


def test_a_model_that_resizes_reads_the_resized_series():
    model = build(
        TimeMAEModel,
        resize_to_context_length=True,
        channel_mean=[1.0, 2.0, 3.0],
        channel_std=[2.0, 1.0, 0.5],
        scaling="std",
    )
    plain = with_options(model, resize_to_context_length=False)
    values = ragged_example()
    past_values = torch.from_numpy(np.nan_to_num(values, nan=0.0)).float()
    observed = torch.from_numpy(~np.isnan(values))
    with torch.no_grad():
        outputs = model(past_values, observed)
        expected = plain(torch.from_numpy(numpy_resize(values, 32)).float())
    assert bool(outputs.patch_mask.all())  # after resizing every step counts as observed
    torch.testing.assert_close(outputs.pooler_output, expected.pooler_output, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("observed", [None, "all ones"])
def test_fully_observed_input_of_context_length_is_not_resized(monkeypatch, observed):
    model = build(TimeMAEModel, resize_to_context_length=True)
    plain = with_options(model, resize_to_context_length=False)
    past_values = series(2)
    with torch.no_grad():
        expected = plain(past_values)

    def fail(*args, **kwargs):
        raise AssertionError("resize_observed_part ran on input that needs no resizing")

    monkeypatch.setattr(modeling_timemae, "resize_observed_part", fail)
    mask = None if observed is None else torch.ones_like(past_values)
    with torch.no_grad():
        outputs = model(past_values, mask)
    for name in ("last_hidden_state", "pooler_output"):
        assert torch.equal(outputs[name], expected[name]), name


def test_longer_input_is_resized_down_with_one_warning():
    model = build(TimeMAEModel, resize_to_context_length=True)
    plain = with_options(model, resize_to_context_length=False)
    past_values = series(2, length=94)
    transformers_logging.warning_once.cache_clear()
    with CaptureLogger(modeling_timemae.logger) as captured, torch.no_grad():
        outputs = model(past_values)
        model(past_values)
    assert captured.out.count("longer than context_length=32 steps is resampled down") == 1
    with torch.no_grad():
        expected = plain(past_values[:, ::3])  # 94 steps to 32: every third step
    torch.testing.assert_close(outputs.pooler_output, expected.pooler_output)
    with pytest.raises(ValueError, match="at most 32 steps.*set `resize_to_context_length=True`"):
        plain(past_values)


def test_shorter_input_is_stretched_not_padded():
    model = build(TimeMAEModel, resize_to_context_length=True)
    plain = with_options(model, resize_to_context_length=False)
    past_values = series(2, length=9)
    with torch.no_grad():
        outputs = model(past_values)
        expected = plain(resize_observed_part(past_values, None, 32))
    assert bool(outputs.patch_mask.all())
    torch.testing.assert_close(outputs.pooler_output, expected.pooler_output, rtol=0, atol=0)


# --- robustness: any series gives finite features ------------------------------------------------------------------


def degenerate_series():
    constant = torch.full((2, 32, 3), 4.5)
    nan_channel = series(2, length=20)
    nan_channel[:, :, 1] = float("nan")
    observed = torch.isfinite(nan_channel)
    return {
        "1 step": (series(2, length=1), None),
        "2 steps": (series(2, length=2), None),
        "constant": (constant, None),
        "all-NaN channel": (torch.nan_to_num(nan_channel, nan=0.0), observed),
    }


@pytest.mark.parametrize("name", list(degenerate_series()))
@pytest.mark.parametrize("model_class", [TimeMAEModel, TimeMAEForSequenceClassification, TimeMAEForPreTraining])
@pytest.mark.parametrize("first_difference_view", [False, True], ids=["values", "values+differences"])
def test_degenerate_series_give_finite_outputs(name, model_class, first_difference_view):
    past_values, observed = degenerate_series()[name]
    model = build(model_class, first_difference_view=first_difference_view, **ANY_SERIES)
    with torch.no_grad():
        outputs = model(past_values, observed)
    features = {TimeMAEModel: "pooler_output", TimeMAEForSequenceClassification: "logits"}.get(model_class, "loss")
    assert bool(torch.isfinite(outputs[features]).all()), name


def test_a_one_step_series_is_read_as_that_constant_and_a_missing_channel_as_zeros():
    model = build(TimeMAEModel, **ANY_SERIES)
    past_values = series(2, length=1)
    nan_channel = series(2, length=20)
    observed = torch.ones_like(nan_channel, dtype=torch.bool)
    observed[:, :, 1] = False
    with torch.no_grad():
        one_step = model(past_values).pooler_output
        constant = model(past_values.expand(-1, 32, -1)).pooler_output
        missing = model(nan_channel, observed).pooler_output
        zeros = model(nan_channel.index_fill(2, torch.tensor([1]), 0.0)).pooler_output
    assert torch.isfinite(one_step).all()
    torch.testing.assert_close(one_step, constant, rtol=0, atol=0)
    torch.testing.assert_close(missing[:, 16:32], zeros[:, 16:32])


# --- the first-difference view -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, projected_values",
    [
        (dict(first_difference_view=True), 4 * 2 * 3),  # patch_length * 2 views * 3 channels
        (
            dict(first_difference_view=True, channel_independent=True),
            4 * 2,
        ),  # patch_length * 2 views, any channel count
    ],
)
def test_the_patch_projection_reads_both_views(options, projected_values):
    model = build(TimeMAEModel, **options)
    assert model.embeddings.patch_embeddings.projection.in_features == projected_values
    with torch.no_grad():
        assert torch.isfinite(model(series(2)).pooler_output).all()


def test_the_second_view_is_the_first_difference_of_the_scaled_series_between_observed_steps():
    model = build(
        TimeMAEModel,
        first_difference_view=True,
        scaling="std",
        channel_mean=[1.0, 2.0, 3.0],
        channel_std=[2.0, 1.0, 0.5],
        context_length=30,
        patch_length=4,
    )
    embeddings = model.embeddings.patch_embeddings
    past_values = series(2, length=30)
    observed = torch.ones_like(past_values, dtype=torch.bool)
    observed[0, 10, 1] = False
    observed[1, 25:] = False
    values_only, _ = embeddings.normalized_series(past_values, observed)
    both, _ = embeddings.normalized_series(past_values, observed, with_first_difference=True)
    assert both.shape == (2, 32, 6)  # padded to 8 patches of 4
    torch.testing.assert_close(both[..., :3], values_only, rtol=0, atol=0)
    scaled = values_only.numpy()
    seen = np.pad(observed.numpy(), ((0, 0), (0, 2), (0, 0)))  # the padding is unobserved
    expected = np.zeros_like(scaled)
    expected[:, 1:] = np.where(seen[:, 1:] & seen[:, :-1], scaled[:, 1:] - scaled[:, :-1], 0.0)
    np.testing.assert_allclose(both[..., 3:].numpy(), expected, rtol=1e-6, atol=1e-6)
    assert bool((both[0, 10:12, 4] == 0).all()) and bool((both[1, 25:, 3:] == 0).all())
    assert not bool((both[0, 1:10, 4] == 0).any())


@pytest.mark.parametrize(
    "options",
    [dict(first_difference_view=True), dict(first_difference_view=True, **ANY_SERIES)],
    ids=["mixed", "channel-independent"],
)
def test_visible_encoder_never_sees_masked_patches_through_the_difference(options):
    """A visible patch's first difference reads the step before it, which may belong to a masked patch: overwriting
    every step of every masked patch must leave the visible representations and the predictions unchanged."""
    model = build(TimeMAEForPreTraining, **options)
    assert model.timemae.embeddings.patch_embeddings.mixes_patches
    past_values = series(2)
    windows = 6 if model.config.channel_independent else 2
    noise = torch.rand(windows, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = model(past_values, noise=noise)
        hidden = model.timemae.embeddings.patch_embeddings.steps_of_patches(before.mask)  # (windows, 32)
        corrupted = past_values.clone()
        hidden = hidden.view(2, -1, 32).transpose(1, 2).expand_as(past_values)  # (2, 32, 3 or 1 -> 3)
        corrupted[hidden] = 1000.0
        after = model(corrupted, noise=noise)
    torch.testing.assert_close(before.visible_representations, after.visible_representations, rtol=0, atol=0)
    torch.testing.assert_close(before.predicted_representations, after.predicted_representations, rtol=0, atol=0)
    assert not torch.allclose(before.target_representations, after.target_representations)


class FirstDifferenceTester(TimeMAEModelTester):
    def get_config(self, **overrides) -> TimeMAEConfig:
        return super().get_config(
            **{"first_difference_view": True, "scaling": "std", "window_statistics_as_features": True, **overrides}
        )


class TestFirstDifferenceViewModels(TimeMAEModelTesterMixin):
    """Every generic check of the three heads (save/load, padding invariance, batch independence, gradients, ...)
    with the first-difference view beside scaled values."""

    all_model_classes = (TimeMAEModel, TimeMAEForPreTraining, TimeMAEForSequenceClassification)
    model_tester = FirstDifferenceTester()


class ChannelIndependentFirstDifferenceTester(ChannelIndependentTester):
    def get_config(self, **overrides) -> TimeMAEConfig:
        return super().get_config(**{"first_difference_view": True, **overrides})


class TestChannelIndependentFirstDifferenceModels(TestChannelIndependentModels):
    model_tester = ChannelIndependentFirstDifferenceTester()


def test_a_channel_independent_classifier_with_every_option_exports_to_onnx_with_the_same_logits(tmp_path):
    pytest.importorskip("onnxruntime")
    from timemae_hf.onnx_export import export_onnx, inference_session

    model = build(TimeMAEForSequenceClassification, first_difference_view=True, **ANY_SERIES)
    session = inference_session(export_onnx(model, tmp_path / "any_series.onnx"))
    past_values = series(5)
    logits = session.run(None, {session.get_inputs()[0].name: past_values.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(past_values).logits.numpy(), rtol=1e-4, atol=1e-5)
