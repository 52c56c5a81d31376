"""
Dropout with a cheaper random mask, for small models on CPU.

PyTorch's CPU dropout draws one Bernoulli sample per element from the Mersenne twister (~10 ns each, measured), which
at TimeMAE's width (64) costs more than the matmuls it sits between. Here one 64-bit draw gives the random bits of four
elements (16 bits each), and the keep decision is made with arithmetic ops that vectorise (a comparison producing a
bool tensor does not, on CPU): about 5x less time for the same mask distribution.

The distribution: an element is kept with probability `round((1 - p) * 2**16) / 2**16` (within 2**-17 of `1 - p`) and
scaled by the inverse of that probability, so the expectation of the output is exactly the input, as with
`nn.Dropout`. Masks come from torch's default generator of the input's device: `torch.manual_seed` makes them
reproducible (they differ from `nn.Dropout`'s, which uses the same generator differently).

Applied through the modules BERT already has, so weights, checkpoints and `from_bert` are unchanged:
  * hidden dropout: `nn.Dropout` modules swapped for [`FastDropout`] (a subclass, no parameters);
  * attention dropout: the attention function registered as `"sdpa_fast_dropout"`: transformers' SDPA in eval mode and
    off CPU; when training on CPU, softmax attention written out (as `eager_attention_forward`) with this mask and a
    softmax whose backward is four vectorised ops. Over 7-16 patches (a last dimension of 7-16) torch's CPU softmax
    and SDPA spend most of their time outside the arithmetic: SDPA forward + backward with dropout took 2.6 ms for
    (128, 4, 7, 16) queries, this path 1.2 ms (1 thread, `benchmarks/speed/step_time.py` has the whole-step numbers).

On other devices (CUDA's dropout is one fused kernel already) both fall back to torch's own dropout.
"""

import torch
from torch import nn
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

RANDOM_BITS = 16  # per element: the keep probability's resolution is 2**-16
FAST_DROPOUT_ATTENTION = "sdpa_fast_dropout"


def fast_dropout_mask(shape: torch.Size, p: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """
    A dropout mask of `shape`: `1 / keep_probability` where an element is kept, 0 where it is dropped, in `dtype`, with
    `keep_probability = round((1 - p) * 2**16) / 2**16`. Four elements share one 64-bit draw of torch's generator.
    """
    numel = shape.numel()
    kept_values = round((1.0 - p) * 2**RANDOM_BITS)  # how many of the 2**16 values of an element's bits keep it
    words = torch.empty((numel + 3) // 4, dtype=torch.int64, device=device).random_(-(2**63), None)  # all 64 bits
    bits = words.view(torch.int16)[:numel].view(shape)  # uniform over [-2**15, 2**15)
    threshold = -(2**15) + kept_values  # kept where bits < threshold
    scale = 2**RANDOM_BITS / kept_values
    # (threshold - bits) * scale is >= scale where kept and <= 0 where dropped (bits are integers): clamp to {0, scale}.
    # float32 holds every int16 exactly; the mask is cast to `dtype` at the end.
    mask = bits.to(torch.float32).sub_(threshold).mul_(-scale).clamp_(min=0.0, max=scale)
    return mask.to(dtype)


def fast_dropout(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    """`nn.functional.dropout` with the mask of [`fast_dropout_mask`]; gradients flow through the same mask."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input.device.type != "cpu":
        return nn.functional.dropout(input, p, training, inplace)
    if p == 1.0 or round((1.0 - p) * 2**RANDOM_BITS) == 0:
        return input.mul_(0.0) if inplace else input * 0.0
    mask = fast_dropout_mask(input.shape, p, input.dtype, input.device)
    return input.mul_(mask) if inplace else input * mask


class FastDropout(nn.Dropout):
    """`nn.Dropout` drawing its mask with [`fast_dropout`]: same `p`, `inplace`, state dict (none) and eval
    behaviour."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return fast_dropout(input, self.p, self.training, self.inplace)


class LastDimSoftmax(torch.autograd.Function):
    """Softmax over the last dimension in vectorised elementwise ops (torch's CPU kernel is slow for short rows)."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor) -> torch.Tensor:
        exponentials = (scores - scores.amax(dim=-1, keepdim=True)).exp_()
        probabilities = exponentials.div_(exponentials.sum(dim=-1, keepdim=True))
        ctx.save_for_backward(probabilities)
        return probabilities

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        (probabilities,) = ctx.saved_tensors
        weighted = grad_output * probabilities
        return weighted.sub_(probabilities * weighted.sum(dim=-1, keepdim=True))


def sdpa_attention_with_fast_dropout(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs,
):
    """
    transformers' `sdpa_attention_forward` in eval mode and off CPU; when training on CPU, softmax attention as
    `eager_attention_forward` computes it, with [`LastDimSoftmax`] and the attention probabilities dropped by
    [`fast_dropout`]. query (batch, heads, q_len, head_dim), key/value (batch, heads, kv_len, head_dim),
    `attention_mask` broadcastable to (batch, heads, q_len, kv_len): bool (True = attend) or additive float, as
    `sdpa_mask` builds it. Returns (batch, q_len, heads, head_dim) and None (no attention weights, as SDPA).
    """
    is_causal = kwargs.get("is_causal", getattr(module, "is_causal", False))
    if (
        not module.training
        or query.device.type != "cpu"
        or is_causal
        or kwargs.get("position_bias") is not None
        or key.shape[1] != query.shape[1]  # grouped-query attention: SDPA handles the head grouping
    ):
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probabilities = fast_dropout(LastDimSoftmax.apply(scores), p=dropout)
    return torch.matmul(probabilities, value).transpose(1, 2).contiguous(), None


AttentionInterface.register(FAST_DROPOUT_ATTENTION, sdpa_attention_with_fast_dropout)
AttentionMaskInterface.register(FAST_DROPOUT_ATTENTION, sdpa_mask)  # the same masks as "sdpa"


def use_fast_dropout(model: nn.Module, enabled: bool = True) -> nn.Module:
    """
    Swap every `nn.Dropout` of `model` for [`FastDropout`] (or back, `enabled=False`), and its "sdpa" attention for
    `"sdpa_fast_dropout"` (or back). Weights and state dict are untouched. Returns `model`.
    """
    source, target = (nn.Dropout, FastDropout) if enabled else (FastDropout, nn.Dropout)
    for module in model.modules():
        for name, child in list(module.named_children()):
            if type(child) is source:
                replacement = target(child.p, child.inplace)
                replacement.train(child.training)
                setattr(module, name, replacement)
    config = getattr(model, "config", None)
    if config is not None:
        current, wanted = ("sdpa", FAST_DROPOUT_ATTENTION) if enabled else (FAST_DROPOUT_ATTENTION, "sdpa")
        if config._attn_implementation == current:
            config._attn_implementation_internal = wanted
    return model
