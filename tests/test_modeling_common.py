"""The checks every TimeMAE head must pass, in the spirit of transformers' `ModelTesterMixin`.

`TimeMAEModelTester` builds tiny configs and inputs; `TimeMAEModelTesterMixin` holds the generic checks (save/load
identity, Auto classes, hidden states and attentions, SDPA vs eager, gradient checkpointing, batch independence,
bf16, bad inputs, observed-mask invariance, ...), each run once per class of `all_model_classes` (the module's
`pytest_generate_tests` parametrises `model_class`). A new head is tested by adding it to `all_model_classes` and, where
its outputs differ, to `TimeMAEModelTesterMixin.window_outputs`.
"""

import inspect

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForSequenceClassification,
)

from timemae_hf import (
    TimeMAEConfig,
    TimeMAEForPreTraining,
    TimeMAEForSequenceClassification,
    TimeMAEModel,
)

AUTO_CLASS_OF = {
    TimeMAEModel: AutoModel,
    TimeMAEForPreTraining: AutoModelForPreTraining,
    TimeMAEForSequenceClassification: AutoModelForSequenceClassification,
}


def pytest_generate_tests(metafunc):
    """Run every test that takes `model_class` once per class of its test class's `all_model_classes`."""
    if "model_class" in metafunc.fixturenames and metafunc.cls is not None:
        classes = metafunc.cls.all_model_classes
        metafunc.parametrize("model_class", classes, ids=[model_class.__name__ for model_class in classes])


class TimeMAEModelTester:
    """Tiny configs and inputs: 3 channels, 32 steps in 8 patches of 4, a 2-layer 16-wide encoder."""

    def __init__(self, batch_size=3, num_input_channels=3, context_length=32, patch_length=4, num_labels=4):
        self.batch_size = batch_size
        self.num_input_channels = num_input_channels
        self.context_length = context_length
        self.patch_length = patch_length
        self.num_labels = num_labels
        self.window_lengths = (32, 21, 9)  # of the padded batch: 8, 6 and 3 observed patches

    def get_config(self, **overrides) -> TimeMAEConfig:
        values = dict(
            num_input_channels=self.num_input_channels,
            context_length=self.context_length,
            patch_length=self.patch_length,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            codebook_size=8,
            num_regressor_layers=1,
            num_labels=self.num_labels,
        )
        return TimeMAEConfig(**{**values, **overrides})

    def past_values(self, batch_size=None, seed=0) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        shape = (batch_size or self.batch_size, self.context_length, self.num_input_channels)
        return torch.randn(shape, generator=generator)

    def padded_batch(self, seed=0, padding_value=0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows of `window_lengths` steps right-padded to context_length with `padding_value`, and their mask."""
        past_values = self.past_values(len(self.window_lengths), seed)
        steps = torch.arange(self.context_length)[None, :, None]
        observed = steps < torch.tensor(self.window_lengths)[:, None, None]
        observed = observed.expand_as(past_values)
        return torch.where(observed, past_values, torch.full_like(past_values, padding_value)), observed

    def noise(self, batch_size, config, seed=1) -> torch.Tensor:
        return torch.rand(batch_size, config.num_patches, generator=torch.Generator().manual_seed(seed))


class TimeMAEModelTesterMixin:
    """Generic checks for every class of `all_model_classes`, as transformers' `ModelTesterMixin` runs them."""

    all_model_classes = ()
    model_tester = TimeMAEModelTester()

    # --- helpers -------------------------------------------------------------------------------------------------

    def build(self, model_class, seed=0, **config_overrides):
        """A seeded tiny `model_class` in eval mode, without dropout unless asked (so train-mode runs compare)."""
        torch.manual_seed(seed)
        no_dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
        return model_class(self.model_tester.get_config(**{**no_dropout, **config_overrides})).eval()

    def inputs_for(self, model_class, past_values, config, past_observed_mask=None, noise_seed=1, labels=False):
        """The keyword arguments `model_class` takes for `past_values`: fixed masking noise for pre-training
        (so outputs are comparable between calls), labels for the classifier when asked."""
        inputs = {"past_values": past_values}
        if past_observed_mask is not None:
            inputs["past_observed_mask"] = past_observed_mask
        if model_class is TimeMAEForPreTraining:
            inputs["noise"] = self.model_tester.noise(past_values.shape[0], config, noise_seed)
        if labels and model_class is TimeMAEForSequenceClassification:
            inputs["labels"] = torch.arange(past_values.shape[0]) % config.num_labels
        return inputs

    @staticmethod
    def window_outputs(model_class, outputs) -> list[torch.Tensor]:
        """
        Per-window outputs a head is judged by, each (batch, ...). Pre-training's masked-patch slots are compared
        only where filled: the test batches put the valid slots first (they are sorted so) and compare that many.
        """
        if model_class is TimeMAEModel:
            return [outputs.pooler_output]
        if model_class is TimeMAEForSequenceClassification:
            return [outputs.logits]
        return [outputs.predicted_representations, outputs.target_representations]

    @staticmethod
    def scalar_for_backward(outputs) -> torch.Tensor:
        """The loss, or for the bare encoder a function of every output value."""
        if getattr(outputs, "loss", None) is not None:
            return outputs.loss
        return outputs.last_hidden_state.square().mean()

    @staticmethod
    def encoded_length(model_class, config) -> int:
        """Patches the (online) encoder sees per window: the visible ones in pre-training, all of them otherwise."""
        if model_class is TimeMAEForPreTraining:
            return config.num_patches - config.num_masked_patches
        return config.num_patches

    # --- save / load / Auto classes ------------------------------------------------------------------------------

    def test_save_and_reload_give_identical_weights_and_outputs(self, model_class, tmp_path):
        model = self.build(model_class, channel_mean=[1.0, 2.0, 3.0], channel_std=[2.0, 2.0, 2.0])
        inputs = self.inputs_for(model_class, self.model_tester.past_values(), model.config)
        with torch.no_grad():
            expected = model(**inputs)
        model.save_pretrained(tmp_path)
        reloaded, info = model_class.from_pretrained(tmp_path, output_loading_info=True)
        assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
        for name, tensor in model.state_dict().items():
            assert torch.equal(reloaded.state_dict()[name], tensor), name
        with torch.no_grad():
            actual = reloaded.eval()(**inputs)
        for expected_tensor, actual_tensor in zip(expected.to_tuple(), actual.to_tuple()):
            torch.testing.assert_close(actual_tensor, expected_tensor, rtol=0, atol=0)

    def test_every_auto_class_loads_this_heads_checkpoint(self, model_class, tmp_path):
        assert type(AutoConfig.for_model("timemae")) is TimeMAEConfig
        model = self.build(model_class)
        model.save_pretrained(tmp_path)
        encoder = model.base_model.state_dict()
        for head_class, auto_class in AUTO_CLASS_OF.items():
            loaded = auto_class.from_pretrained(tmp_path)
            assert type(loaded) is head_class
            loaded_encoder = loaded.base_model.state_dict()
            assert loaded_encoder.keys() == encoder.keys()
            assert all(torch.equal(loaded_encoder[name], tensor) for name, tensor in encoder.items())
        assert type(AUTO_CLASS_OF[model_class].from_config(model.config)) is model_class

    # --- outputs -------------------------------------------------------------------------------------------------

    def test_hidden_states_have_one_entry_per_layer_plus_input(self, model_class):
        model = self.build(model_class)
        config = model.config
        inputs = self.inputs_for(model_class, self.model_tester.past_values(), config)
        shape = (self.model_tester.batch_size, self.encoded_length(model_class, config), config.hidden_size)
        configured = self.build(model_class, output_hidden_states=True)  # the config's flag counts too
        for outputs in (model(**inputs, output_hidden_states=True), configured(**inputs)):
            assert len(outputs.hidden_states) == config.num_hidden_layers + 1
            assert all(state.shape == shape for state in outputs.hidden_states)
        assert model(**inputs).hidden_states is None

    def test_attentions_have_one_map_per_layer_that_sums_to_one(self, model_class):
        model = self.build(model_class)
        model.set_attn_implementation("eager")
        config = model.config
        outputs = model(**self.inputs_for(model_class, self.model_tester.past_values(), config), output_attentions=True)
        length = self.encoded_length(model_class, config)
        assert len(outputs.attentions) == config.num_hidden_layers
        for attention in outputs.attentions:
            assert attention.shape == (self.model_tester.batch_size, config.num_attention_heads, length, length)
            torch.testing.assert_close(attention.sum(dim=-1), torch.ones(attention.shape[:-1]))

    def test_return_dict_false_gives_the_same_values_as_a_tuple(self, model_class):
        model = self.build(model_class)
        inputs = self.inputs_for(model_class, self.model_tester.past_values(), model.config, labels=True)
        as_dict = model(**inputs)
        as_tuple = model(**inputs, return_dict=False)
        assert isinstance(as_tuple, tuple) and len(as_tuple) == len(as_dict.to_tuple())
        for dict_value, tuple_value in zip(as_dict.to_tuple(), as_tuple):
            torch.testing.assert_close(tuple_value, dict_value, rtol=0, atol=0)

    def test_forward_takes_past_values_then_past_observed_mask_and_no_catch_all(self, model_class):
        parameters = inspect.signature(model_class.forward).parameters
        assert list(parameters)[1:3] == ["past_values", "past_observed_mask"]
        assert {"output_hidden_states", "output_attentions"} <= set(parameters)
        assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    def test_eval_forward_is_deterministic(self, model_class):
        model = self.build(model_class, hidden_dropout_prob=0.3, attention_probs_dropout_prob=0.3)
        inputs = self.inputs_for(model_class, self.model_tester.past_values(), model.config)
        for first, second in zip(
            self.window_outputs(model_class, model(**inputs)), self.window_outputs(model_class, model(**inputs))
        ):
            torch.testing.assert_close(first, second, rtol=0, atol=0)

    # --- attention implementations, checkpointing, precision -----------------------------------------------------

    @pytest.mark.parametrize("padded", [False, True], ids=["full_windows", "padded_windows"])
    def test_sdpa_and_eager_attention_agree(self, model_class, padded):
        sdpa = self.build(model_class)
        eager = self.build(model_class)
        eager.set_attn_implementation("eager")
        assert sdpa.config._attn_implementation == "sdpa"
        assert eager.config._attn_implementation == "eager"
        if padded:
            past_values, observed = self.model_tester.padded_batch()
        else:
            past_values, observed = self.model_tester.past_values(), None
        inputs = self.inputs_for(model_class, past_values, sdpa.config, observed)
        with torch.no_grad():
            for expected, actual in zip(
                self.window_outputs(model_class, eager(**inputs)), self.window_outputs(model_class, sdpa(**inputs))
            ):
                torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)

    def test_activation_checkpointing_recomputes_layers_and_gives_the_same_gradients(self, model_class):
        plain = self.build(model_class).train()
        checkpointed = self.build(model_class).train()
        checkpointed.activation_checkpointing_enable()
        assert checkpointed.is_activation_checkpointing
        layer_calls = []  # a module inside the checkpointed forward runs again when backward recomputes the layer
        checkpointed.base_model.encoder.layer[0].intermediate.register_forward_hook(lambda *args: layer_calls.append(1))
        inputs = self.inputs_for(model_class, self.model_tester.past_values(), plain.config, labels=True)
        for model in (plain, checkpointed):
            torch.manual_seed(0)  # the same Gumbel-sampled codeword targets in pre-training
            self.scalar_for_backward(model(**inputs)).backward()
        assert len(layer_calls) == 2, "the checkpointed layer was not recomputed in the backward pass"
        gradients = {name: p.grad for name, p in checkpointed.named_parameters() if p.grad is not None}
        expected = {name: p.grad for name, p in plain.named_parameters() if p.grad is not None}
        assert gradients.keys() == expected.keys() and expected
        for name, gradient in gradients.items():
            torch.testing.assert_close(gradient, expected[name], rtol=1e-5, atol=1e-6, msg=name)

    def test_backward_reaches_every_trainable_parameter_it_should(self, model_class):
        model = self.build(model_class).train()
        inputs = self.inputs_for(model_class, self.model_tester.past_values(), model.config, labels=True)
        self.scalar_for_backward(model(**inputs)).backward()
        for name, parameter in model.named_parameters():
            if name.startswith("momentum_encoder."):
                assert not parameter.requires_grad and parameter.grad is None, name
            else:
                assert parameter.grad is not None, f"{name} gets no gradient"

    def test_bf16_forward_is_finite_and_close_to_float32(self, model_class):
        model = self.build(model_class)
        inputs = self.inputs_for(model_class, self.model_tester.past_values(), model.config)
        with torch.no_grad():
            expected = self.window_outputs(model_class, model(**inputs))
            actual = self.window_outputs(model_class, model.to(torch.bfloat16)(**inputs))
        for expected_tensor, actual_tensor in zip(expected, actual):
            assert actual_tensor.dtype == torch.bfloat16 and torch.isfinite(actual_tensor).all()
            torch.testing.assert_close(actual_tensor.float(), expected_tensor, rtol=0.05, atol=0.1)

    @pytest.mark.parametrize(
        "model_dtype, input_dtype", [(torch.float32, torch.float64), (torch.bfloat16, torch.float32)]
    )
    def test_floating_input_of_another_dtype_is_cast_to_the_model_dtype(self, model_class, model_dtype, input_dtype):
        model = self.build(model_class).to(model_dtype)
        past_values = self.model_tester.past_values()
        inputs = self.inputs_for(model_class, past_values.to(model_dtype), model.config)
        with torch.no_grad():
            expected = self.window_outputs(model_class, model(**inputs))
            actual = self.window_outputs(model_class, model(**{**inputs, "past_values": past_values.to(input_dtype)}))
        for expected_tensor, actual_tensor in zip(expected, actual):
            assert actual_tensor.dtype == model_dtype
            torch.testing.assert_close(actual_tensor, expected_tensor, rtol=0, atol=0)

    # --- batches and padding -------------------------------------------------------------------------------------

    def test_a_windows_output_does_not_depend_on_the_rest_of_its_batch(self, model_class):
        model = self.build(model_class)
        past_values = self.model_tester.past_values()
        inputs = self.inputs_for(model_class, past_values, model.config)
        with torch.no_grad():
            batched = self.window_outputs(model_class, model(**inputs))
            for row in range(past_values.shape[0]):
                alone = {name: value[row : row + 1] for name, value in inputs.items()}
                for batched_tensor, alone_tensor in zip(batched, self.window_outputs(model_class, model(**alone))):
                    torch.testing.assert_close(alone_tensor[0], batched_tensor[row], rtol=1e-5, atol=1e-5)

    @pytest.mark.parametrize("attn_implementation", ["sdpa", "eager"])
    def test_a_windows_output_does_not_depend_on_how_much_padding_its_batch_needed(
        self, model_class, attn_implementation
    ):
        """
        A short window gives the same output in a model sized for it (no padding at all), passed alone to the full
        model (which pads it), padded inside a batch of longer windows, and with garbage in that padding: padded
        patches are neither attended to, pooled, masked nor counted.
        """
        model = self.build(model_class)
        model.set_attn_implementation(attn_implementation)
        tester = self.model_tester
        padded, observed = tester.padded_batch()
        garbage, _ = tester.padded_batch(padding_value=1e4)
        batch_inputs = self.inputs_for(model_class, padded, model.config, observed)
        with torch.no_grad():
            in_batch = self.window_outputs(model_class, model(**batch_inputs))
            with_garbage = self.window_outputs(model_class, model(**{**batch_inputs, "past_values": garbage}))
            for row, length in enumerate(tester.window_lengths):
                window = padded[row : row + 1, :length]
                alone = {name: value[row : row + 1] for name, value in batch_inputs.items()}
                alone.update(past_values=window, past_observed_mask=None)
                sized_for_it = self.model_sized_for(model, length)
                unpadded = dict(alone)
                if "noise" in alone:
                    unpadded["noise"] = alone["noise"][:, : sized_for_it.config.num_patches]
                expected = self.window_outputs(model_class, sized_for_it(**unpadded))
                candidates = (self.window_outputs(model_class, model(**alone)), in_batch, with_garbage)
                for index, expected_tensor in enumerate(expected):
                    filled = expected_tensor.shape[1] if model_class is TimeMAEForPreTraining else None
                    for outputs, batch_row in zip(candidates, (0, row, row)):
                        torch.testing.assert_close(
                            outputs[index][batch_row, :filled], expected_tensor[0], rtol=1e-5, atol=1e-5
                        )

    @staticmethod
    def model_sized_for(model, context_length):
        """A copy of `model` (same weights) whose context_length is `context_length`, so its input needs no padding."""
        config = model.config.to_dict()
        config.update(context_length=context_length, max_position_embeddings=model.config.max_position_embeddings)
        sized = type(model)(TimeMAEConfig.from_dict(config))
        sized.load_state_dict(model.state_dict())
        sized.set_attn_implementation(model.config._attn_implementation)
        return sized.eval()

    def test_losses_ignore_whatever_is_in_the_padding(self, model_class):
        if model_class is TimeMAEModel:
            pytest.skip("TimeMAEModel has no loss; its padding invariance is checked on pooler_output above")
        model = self.build(model_class)
        padded, observed = self.model_tester.padded_batch()
        garbage, _ = self.model_tester.padded_batch(padding_value=-3e3)
        inputs = self.inputs_for(model_class, padded, model.config, observed, labels=True)
        with torch.no_grad():
            clean = model(**inputs)
            dirty = model(**{**inputs, "past_values": garbage})
        loss_names = ["loss"]
        if model_class is TimeMAEForPreTraining:
            loss_names += ["mrr_loss", "mcc_loss", "codeword_accuracy"]
        for name in loss_names:
            torch.testing.assert_close(dirty[name], clean[name], rtol=1e-6, atol=1e-6, msg=name)
        assert torch.isfinite(clean.loss)

    def test_all_ones_observed_mask_changes_nothing(self, model_class):
        model = self.build(model_class)
        past_values = self.model_tester.past_values()
        inputs = self.inputs_for(model_class, past_values, model.config)
        with torch.no_grad():
            expected = self.window_outputs(model_class, model(**inputs))
            actual = self.window_outputs(model_class, model(**inputs, past_observed_mask=torch.ones_like(past_values)))
        for expected_tensor, actual_tensor in zip(expected, actual):
            torch.testing.assert_close(actual_tensor, expected_tensor, rtol=0, atol=0)

    # --- bad input -----------------------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "past_values, error, message",
        [
            ([[0.0]], TypeError, "must be a torch.Tensor"),
            (torch.ones(3, 32, 3, dtype=torch.long), TypeError, "floating-point"),
            (torch.randn(3, 32), ValueError, r"must have shape \(batch_size, time <= context_length=32"),
            (torch.randn(3, 32, 5), ValueError, "configured for 3 channels, the input has 5"),
            (torch.randn(3, 3, 32), ValueError, "channels-first"),
            (torch.randn(3, 40, 3), ValueError, "at most 32 steps"),
            (
                torch.randn(3, 32, 3).index_put_((torch.tensor([1]),) * 3, torch.tensor(float("nan"))),
                ValueError,
                "1 NaN or infinite value.*pass `past_observed_mask`",
            ),
            (torch.full((3, 32, 3), float("inf")), ValueError, "288 NaN or infinite value"),
        ],
    )
    def test_bad_past_values_get_a_clear_error(self, model_class, past_values, error, message):
        with pytest.raises(error, match=message):
            self.build(model_class)(past_values)

    def test_misspelt_arguments_are_rejected(self, model_class):
        with pytest.raises(TypeError, match="past_observd_mask"):
            self.build(model_class)(self.model_tester.past_values(), past_observd_mask=torch.ones(3, 32, 3))

    def test_empty_batch_gets_a_clear_error(self, model_class):
        with pytest.raises(ValueError, match="empty batch"):
            self.build(model_class)(torch.zeros(0, 32, 3))


class TestTimeMAEModels(TimeMAEModelTesterMixin):
    all_model_classes = (TimeMAEModel, TimeMAEForPreTraining, TimeMAEForSequenceClassification)
