"""The cheaper dropout of `timemae_hf.dropout`: same distribution as `nn.Dropout`, reproducible, identity in eval, and
wired into TimeMAE's modules without changing weights or eval outputs."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEModel
from timemae_hf.dropout import (
    FAST_DROPOUT_ATTENTION,
    FastDropout,
    LastDimSoftmax,
    fast_dropout,
    fast_dropout_mask,
    sdpa_attention_with_fast_dropout,
    use_fast_dropout,
)


def tiny_config(**overrides):
    defaults = dict(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_regressor_layers=1,
        codebook_size=8,
        context_length=32,
        patch_length=8,
        num_input_channels=2,
        hidden_dropout_prob=0.3,
        attention_probs_dropout_prob=0.3,
    )
    return TimeMAEConfig(**{**defaults, **overrides})


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5, 0.9])
def test_keep_rate_and_scale_match_the_dropout_probability(p):
    torch.manual_seed(0)
    n = 200_000
    mask = fast_dropout_mask(torch.Size([n]), p, torch.float32, torch.device("cpu"))
    kept = mask > 0
    # 5 standard errors of a binomial keep count: a keep rate off by 1 % (or a wrong threshold) fails.
    tolerance = 5 * math.sqrt(p * (1 - p) / n)
    assert abs(kept.float().mean().item() - (1 - p)) < tolerance
    # 1 / keep probability, which is within 2**-17 of 1 - p (16 random bits per element).
    scale = torch.full_like(mask[kept], 1 / (1 - p))
    torch.testing.assert_close(mask[kept], scale, rtol=2**-16 / (1 - p), atol=0)
    assert set(mask.unique().tolist()) <= {0.0, mask[kept][0].item()}
    # The scale makes the output's expectation the input: the mean of the mask is 1 within sampling error.
    assert abs(mask.mean().item() - 1) < 5 * math.sqrt(p / (1 - p) / n)


def test_the_four_elements_of_one_random_word_are_independent():
    """Neighbouring elements share a 64-bit draw: their keep decisions must still be uncorrelated."""
    torch.manual_seed(1)
    kept = (fast_dropout_mask(torch.Size([400_000]), 0.5, torch.float32, torch.device("cpu")) > 0).float()
    pairs = kept.view(-1, 4)
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 3)]:
        both = (pairs[:, a] * pairs[:, b]).mean().item()
        assert abs(both - 0.25) < 5 * math.sqrt(0.25 * 0.75 / pairs.shape[0])


def test_same_seed_gives_the_same_mask_and_another_seed_another():
    x = torch.ones(64, 7, 16)
    torch.manual_seed(3)
    first = fast_dropout(x, 0.2)
    torch.manual_seed(3)
    second = fast_dropout(x, 0.2)
    torch.manual_seed(4)
    third = fast_dropout(x, 0.2)
    assert torch.equal(first, second)
    assert not torch.equal(first, third)


def test_eval_mode_and_p_zero_are_identity_and_p_one_drops_everything():
    x = torch.randn(8, 5, 16)
    module = FastDropout(0.4).eval()
    assert module(x) is x
    assert fast_dropout(x, 0.0) is x
    assert torch.equal(fast_dropout(x, 1.0), torch.zeros_like(x))
    with pytest.raises(ValueError, match="between 0 and 1"):
        fast_dropout(x, 1.5)


def test_gradient_flows_through_the_kept_elements_only_with_the_same_scale():
    x = torch.randn(32, 7, 16, requires_grad=True)
    torch.manual_seed(5)
    out = fast_dropout(x, 0.25)
    out.sum().backward()
    kept = out.detach() != 0
    torch.testing.assert_close(x.grad[kept], torch.full_like(x.grad[kept], 1 / 0.75))
    assert torch.equal(x.grad[~kept], torch.zeros_like(x.grad[~kept]))


def test_inplace_dropout_writes_into_its_input():
    x = torch.ones(16, 16)
    torch.manual_seed(0)
    out = FastDropout(0.5, inplace=True)(x)
    assert out.data_ptr() == x.data_ptr() and set(x.unique().tolist()) <= {0.0, 2.0}


def test_last_dim_softmax_matches_torch_forward_and_backward():
    scores = torch.randn(4, 2, 7, 7, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(LastDimSoftmax.apply, (scores,))
    torch.testing.assert_close(LastDimSoftmax.apply(scores), F.softmax(scores, dim=-1))


class _Attention(nn.Module):
    is_causal = False


@pytest.mark.parametrize("mask_kind", [None, "bool", "additive"])
def test_training_attention_without_dropout_matches_eager_attention(mask_kind):
    """The written-out training path computes the same attention as transformers' eager path, masks included."""
    from transformers.models.bert.modeling_bert import eager_attention_forward

    torch.manual_seed(0)
    query, key, value = (torch.randn(3, 2, 5, 8, dtype=torch.float64) for _ in range(3))
    keep = torch.rand(3, 1, 1, 5) > 0.3
    keep[..., 0] = True
    masks = {
        None: None,
        "bool": keep,
        "additive": torch.zeros(keep.shape, dtype=torch.float64).masked_fill(~keep, -1e9),
    }
    module = _Attention().train()
    actual, _ = sdpa_attention_with_fast_dropout(module, query, key, value, masks[mask_kind], dropout=0.0, scaling=0.3)
    additive = masks["additive"] if mask_kind else None
    expected, _ = eager_attention_forward(module.eval(), query, key, value, additive, scaling=0.3, dropout=0.0)
    torch.testing.assert_close(actual, expected)


def test_attention_dropout_drops_probabilities_at_the_configured_rate():
    """With all-equal values the output row is the sum of the kept probabilities, scaled: its mean is 1."""
    torch.manual_seed(0)
    query, key = torch.randn(256, 4, 8, 8), torch.randn(256, 4, 8, 8)
    value = torch.ones(256, 4, 8, 1)
    out, _ = sdpa_attention_with_fast_dropout(_Attention().train(), query, key, value, None, dropout=0.5)
    assert abs(out.mean().item() - 1) < 0.02
    assert out.std().item() > 0.1  # probabilities were dropped


def test_fast_dropout_is_off_by_default_and_torch_dropout_stays():
    model = TimeMAEForPreTraining(tiny_config(momentum_encoder_dropout=True))
    assert all(type(m) is nn.Dropout for m in model.modules() if isinstance(m, nn.Dropout))
    assert model.config._attn_implementation == "sdpa"


def test_models_use_fast_dropout_modules_and_attention_and_keep_their_state_dict():
    config = tiny_config(momentum_encoder_dropout=True, fast_dropout=True)
    model = TimeMAEForPreTraining(config)
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert dropouts and all(type(m) is FastDropout for m in dropouts)
    # Every BERT dropout of the encoder, momentum encoder and regressor is swapped, with its probability.
    assert model.momentum_encoder.layer[0].output.dropout.p == config.hidden_dropout_prob
    assert model.regressor.layer[0].crossattention.self.dropout.p == config.attention_probs_dropout_prob
    assert model.config._attn_implementation == FAST_DROPOUT_ATTENTION
    keys = set(model.state_dict())
    use_fast_dropout(model, False)
    assert set(model.state_dict()) == keys
    assert all(type(m) is nn.Dropout for m in model.modules() if isinstance(m, nn.Dropout))
    assert model.config._attn_implementation == "sdpa"
    model.set_attn_implementation("eager")
    assert model.config._attn_implementation == "eager"


def test_eval_outputs_are_those_of_torch_dropout_and_sdpa_and_eager_agree():
    torch.manual_seed(0)
    fast = TimeMAEModel(tiny_config(fast_dropout=True)).eval()
    plain = TimeMAEModel(tiny_config()).eval()
    plain.load_state_dict(fast.state_dict())
    eager = TimeMAEModel(tiny_config()).eval()
    eager.load_state_dict(fast.state_dict())
    eager.set_attn_implementation("eager")
    past_values = torch.randn(4, 32, 2)
    with torch.no_grad():
        expected = plain(past_values).last_hidden_state
        torch.testing.assert_close(fast(past_values).last_hidden_state, expected, rtol=0, atol=0)
        torch.testing.assert_close(eager(past_values).last_hidden_state, expected, rtol=1e-5, atol=1e-5)


def test_seeded_pretraining_step_is_reproducible_and_gradients_reach_every_trainable_weight():
    config = tiny_config(momentum_encoder_dropout=True, fast_dropout=True)
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        model = TimeMAEForPreTraining(config).train()
        past_values = torch.randn(6, 32, 2)
        output = model(past_values)
        output.loss.backward()
        losses.append((output.loss.item(), output.target_representations.clone()))
    assert losses[0][0] == losses[1][0]
    assert torch.equal(losses[0][1], losses[1][1])
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())]
    assert not no_grad


def test_momentum_encoder_dropout_uses_the_fast_mask_when_on():
    torch.manual_seed(0)
    model = TimeMAEForPreTraining(tiny_config(momentum_encoder_dropout=True, fast_dropout=True)).train()
    assert model.momentum_encoder.training
    layer_output = model.momentum_encoder.layer[0].output
    assert type(layer_output.dropout) is FastDropout and layer_output.dropout.training
    off = TimeMAEForPreTraining(tiny_config(momentum_encoder_dropout=False)).train()
    assert not off.momentum_encoder.training
