"""PyTorch TimeMAE: decoupled masked autoencoder pre-training for time series on transformers' `BertEncoder`.

TimeMAE (Cheng et al., 2023, arXiv:2303.00320) cuts a multivariate series into non-overlapping patches, hides most of
them, encodes only the visible ones and learns by predicting, for each masked patch,
  * its representation under a momentum (EMA) copy of the encoder (masked representation regression, MRR), and
  * its codeword, a discrete id that a learned codebook assigns to the patch embedding (masked codeword
    classification, MCC).

Here the encoder is transformers' `BertEncoder`, so its weights can come from any BERT checkpoint: the answer to
"BertModel wants integer input_ids, my data are float patches" is to skip the word embeddings and feed projected
patches as embeddings, which is what `BertModel(inputs_embeds=...)` does too.
"""

import math
import os
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F
from transformers import AutoConfig, BertModel, PreTrainedModel
from transformers import initialization as init
from transformers.masking_utils import create_bidirectional_mask
from transformers.modeling_outputs import BaseModelOutput, SequenceClassifierOutput
from transformers.models.bert.modeling_bert import (
    BertAttention,
    BertEncoder,
    BertIntermediate,
    BertLayer,
    BertOutput,
    BertSelfAttention,
)
from transformers.models.patchtst.modeling_patchtst import PatchTSTStdScaler
from transformers.utils import ModelOutput, logging
from transformers.utils.generic import can_return_tuple
from transformers.utils.output_capturing import capture_outputs

from .configuration_timemae import TimeMAEConfig
from .dropout import FAST_DROPOUT_ATTENTION, FastDropout, use_fast_dropout

logger = logging.get_logger(__name__)

# Written into every saved config, so a checkpoint loads through any of these Auto classes with
# `trust_remote_code=True` where timemae_hf is not installed (the code files are saved beside the weights).
TIMEMAE_AUTO_MAP = {
    "AutoConfig": "configuration_timemae.TimeMAEConfig",
    "AutoModel": "modeling_timemae.TimeMAEModel",
    "AutoModelForPreTraining": "modeling_timemae.TimeMAEForPreTraining",
    "AutoModelForSequenceClassification": "modeling_timemae.TimeMAEForSequenceClassification",
}

# Checkpoint families whose encoder is, weight for weight, a `BertEncoder` loadable through `BertModel`.
BERT_STYLE_MODEL_TYPES = ("bert",)

# Optimizer steps without `momentum_update()` after which `TimeMAEForPreTraining` warns that the targets are frozen.
MOMENTUM_UPDATE_WARNING_STEPS = 3

# Codeword target of the masked-patch slots a window does not fill (F.cross_entropy's default ignore_index).
IGNORED_CODEWORD_ID = -100


@dataclass
class TimeMAEModelOutput(ModelOutput):
    r"""
    A channel-independent model (`channel_independent=True`, C = `num_input_channels`) encodes each channel alone and
    returns PatchTST's layout: `last_hidden_state` `(batch_size, C, num_patches, hidden_size)`, `patch_mask`
    `(batch_size, C, num_patches)`, and `pooler_output` `(batch_size, C * hidden_size)`, each channel's pooled features
    side by side in channel order (`channel_pooling="concat"`), or `(batch_size, hidden_size)`, their mean
    (`"mean"`). Its `hidden_states` and `attentions` keep the encoder's layout, one row per window-channel
    (`batch_size * C`, row `b * C + c` for channel c of window b).

    last_hidden_state (`torch.FloatTensor` of shape `(batch_size, num_patches, hidden_size)`):
        Encoder output for every patch.
    pooler_output (`torch.FloatTensor` of shape `(batch_size, hidden_size)`):
        Mean of `last_hidden_state` over the observed patches: the series representation TimeMAE's linear probe and
        classifier use.
    hidden_states (`tuple(torch.FloatTensor)`, *optional*, returned when `output_hidden_states=True`):
        Output of each encoder layer, each of shape `(batch_size, num_patches, hidden_size)`.
    attentions (`tuple(torch.FloatTensor)`, *optional*, returned when `output_attentions=True`):
        Attention probabilities of each layer (needs `attn_implementation="eager"`).
    patch_mask (`torch.BoolTensor` of shape `(batch_size, num_patches)`):
        True for the patches with at least one observed value; the others (padding) were not attended to and not
        pooled, and their rows of `last_hidden_state` carry no information.
    """

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    patch_mask: torch.BoolTensor | None = None


@dataclass
class TimeMAEForPreTrainingOutput(ModelOutput):
    r"""
    With padded windows (`past_observed_mask`, or input shorter than `context_length`) each window masks
    `int(mask_ratio * its observed patches)` patches, so windows differ in how many visible and masked patches they
    have: `num_visible_patches` and `num_masked_patches` below are then the batch's largest counts, and the slots a
    window does not fill are ignored by every loss and metric (their `codeword_ids` are -100).

    A channel-independent model (`channel_independent=True`) pre-trains on every channel as a window of its own:
    `batch_size` below is then `batch_size * num_input_channels`, row `b * num_input_channels + c` for channel c of
    window b.

    loss (`torch.FloatTensor` of shape `()`):
        `mrr_loss_weight * mrr_loss + mcc_loss_weight * mcc_loss`.
    mrr_loss (`torch.FloatTensor` of shape `()`):
        Masked representation regression: MSE between predicted and momentum-encoder representations.
    mcc_loss (`torch.FloatTensor` of shape `()`):
        Masked codeword classification: label-smoothed cross-entropy of the codeword logits.
    codeword_accuracy (`torch.FloatTensor` of shape `()`):
        Fraction of masked patches whose codeword is predicted exactly (a progress signal, not part of the loss).
    codeword_logits (`torch.FloatTensor` of shape `(batch_size, num_masked_patches, codebook_size)`):
        Codeword scores the regressor's predictions get from the codebook.
    codeword_ids (`torch.LongTensor` of shape `(batch_size, num_masked_patches)`):
        Target codewords of the masked patches; -100 in unfilled slots.
    predicted_representations (`torch.FloatTensor` of shape `(batch_size, num_masked_patches, hidden_size)`):
        The regressor's predictions for the masked patches.
    target_representations (`torch.FloatTensor` of shape `(batch_size, num_masked_patches, hidden_size)`):
        The momentum encoder's representations of the masked patches.
    mask (`torch.FloatTensor` of shape `(batch_size, num_patches)`):
        1 where a patch was masked, 0 where it was visible or padding.
    ids_restore (`torch.LongTensor` of shape `(batch_size, num_patches)`):
        Permutation that puts `[visible, masked, padding]` patches (each in noise order) back in time order.
    visible_representations (`torch.FloatTensor` of shape `(batch_size, num_visible_patches, hidden_size)`):
        Encoder output of the visible patches.
    hidden_states (`tuple(torch.FloatTensor)`, *optional*, returned when `output_hidden_states=True`):
        The online encoder's input and the output of each of its layers, over the visible patches: each of shape
        `(batch_size, num_visible_patches, hidden_size)`.
    attentions (`tuple(torch.FloatTensor)`, *optional*, returned when `output_attentions=True`):
        Attention probabilities of each online encoder layer over the visible patches (needs
        `attn_implementation="eager"`).
    patch_mask (`torch.BoolTensor` of shape `(batch_size, num_patches)`):
        True for the patches with at least one observed value; the others are never masked, encoded or counted.
    """

    loss: torch.FloatTensor | None = None
    mrr_loss: torch.FloatTensor | None = None
    mcc_loss: torch.FloatTensor | None = None
    codeword_accuracy: torch.FloatTensor | None = None
    codeword_logits: torch.FloatTensor | None = None
    codeword_ids: torch.LongTensor | None = None
    predicted_representations: torch.FloatTensor | None = None
    target_representations: torch.FloatTensor | None = None
    mask: torch.FloatTensor | None = None
    ids_restore: torch.LongTensor | None = None
    visible_representations: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    patch_mask: torch.BoolTensor | None = None


def gather_patches(sequence: torch.Tensor, index: torch.LongTensor) -> torch.Tensor:
    """Select patches per sample: `sequence` (batch, num_patches, dim), `index` (batch, k) -> (batch, k, dim)."""
    return torch.gather(sequence, 1, index.unsqueeze(-1).expand(-1, -1, sequence.shape[-1]))


def masked_mean(hidden_states: torch.Tensor, patch_mask: torch.BoolTensor | None) -> torch.Tensor:
    """Mean over patches (batch, num_patches, hidden_size) -> (batch, hidden_size), of the True ones of `patch_mask`."""
    if patch_mask is None:
        return hidden_states.mean(dim=1)
    weights = patch_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * weights).sum(dim=1) / weights.sum(dim=1)


def padding_attention_mask(
    config: TimeMAEConfig, queries: torch.Tensor, key_mask: torch.BoolTensor | None, keys: torch.Tensor | None = None
):
    """
    The encoder's attention mask that hides the False keys of `key_mask` (batch, num_keys), built as `BertModel`
    builds it (`create_bidirectional_mask`), so that sdpa, eager and the other attention implementations agree.
    None (no mask: every key is attended to) when `key_mask` is None.
    """
    if key_mask is None:
        return None
    return create_bidirectional_mask(
        config=config, inputs_embeds=queries, attention_mask=key_mask, encoder_hidden_states=keys
    )


class PatchMasking(NamedTuple):
    """
    Which patches a window shows the online encoder and which it hides, as fixed-width index tensors.

    `visible_index` (batch, num_visible) and `masked_index` (batch, num_masked) are in time order. Without padding
    every window has the same counts and `visible_valid` / `masked_valid` are None; with padding, windows with fewer
    observed patches fill only the first `visible_valid.sum(1)` / `masked_valid.sum(1)` slots and the other slots
    (pointing at arbitrary patches) must be ignored. `mask` (batch, num_patches) is 1 where a patch is masked;
    `ids_restore` (batch, num_patches) is each patch's rank in the shuffle.
    """

    visible_index: torch.LongTensor
    masked_index: torch.LongTensor
    mask: torch.Tensor
    ids_restore: torch.LongTensor
    visible_valid: torch.BoolTensor | None = None
    masked_valid: torch.BoolTensor | None = None


def sort_valid_slots_in_time_order(index: torch.LongTensor, valid: torch.BoolTensor, num_patches: int):
    """Sort each row of `index` (batch, k) in time order with its valid slots first; returns (index, valid)."""
    sorted_keys = (index + (~valid).long() * num_patches).sort(dim=1).values
    return sorted_keys.remainder(num_patches), sorted_keys < num_patches


def resize_observed_part(values: torch.Tensor, observed: torch.BoolTensor | None, length: int) -> torch.Tensor:
    """
    Resample every window-channel of `values` (batch, time, channels) to `length` steps: (batch, length, channels).

    Why: one encoder for series of every length (Mantis resizes every series to 512 steps by linear interpolation).
    Each window-channel's observed part, from its first to its last observed step per `observed` (bool, the shape of
    `values`; None when all are observed), is read as the line through its observed values (unobserved steps inside
    it are interpolated between their observed neighbours) at `length` evenly spaced points, both ends kept
    (`align_corners=True`): `np.interp(np.linspace(first, last, length), observed_steps, observed_values)`. One
    observed step gives a constant series; a window-channel with no observed value gives a constant 0.
    """
    time = values.shape[1]
    observed = torch.ones_like(values, dtype=torch.bool) if observed is None else observed
    steps = torch.arange(time, device=values.device).view(1, time, 1)
    # For every step, the nearest observed step at or before it (-1 if none) and at or after it (`time` if none).
    previous = torch.where(observed, steps, -1).cummax(dim=1).values
    following = time - 1 - torch.where(observed.flip(1), steps, -1).cummax(dim=1).values.flip(1)
    first, last = following[:, :1], previous[:, -1:]  # (batch, 1, channels)
    has_observed = last >= 0
    first, last = torch.where(has_observed, first, 0), torch.where(has_observed, last, 0)
    points = torch.arange(length, device=values.device).view(1, length, 1)
    positions = first + (last - first) * points / max(length - 1, 1)  # float32 (batch, length, channels)
    left = previous.gather(1, positions.floor().long()).clamp(min=0)
    right = following.gather(1, positions.ceil().long()).clamp(max=time - 1)
    gap = right - left
    weight = torch.where(gap > 0, (positions - left) / gap.clamp(min=1), 0.0).to(values.dtype)
    left_values, right_values = values.gather(1, left), values.gather(1, right)
    resized = left_values + weight * (right_values - left_values)
    return resized.masked_fill(~has_observed, 0.0)


def first_difference(series: torch.Tensor, seen: torch.BoolTensor) -> torch.Tensor:
    """`series[:, t] - series[:, t - 1]` of (batch, time, channels), 0 at the first step and wherever either step is
    not `seen` (unobserved, padding or hidden in pre-training), so a difference never reads a value the model may not
    see."""
    previous = F.pad(series[:, :-1], (0, 0, 1, 0))
    both_seen = seen & F.pad(seen[:, :-1], (0, 0, 1, 0))
    return (series - previous).masked_fill(~both_seen, 0.0)


class TimeMAEPatchProjection(nn.Linear):
    """The patch -> hidden_size projection. A class of its own so that it keeps PyTorch's default initialisation (that
    of the original's strided Conv1d) rather than BERT's std 0.02, which would leave the codeword targets as noise."""


class TimeMAEPatchEmbeddings(nn.Module):
    """
    Checks and normalises `past_values` (batch, time <= context_length, num_input_channels), right-pads them to
    `config.padded_length` steps, cuts them into patches of `patch_length` steps and projects each patch to
    `hidden_size`: (batch, num_patches, hidden_size). With `resize_to_context_length` any time is taken and resized to
    `context_length`; with `channel_independent` every channel is a window of its own (batch * num_input_channels
    windows of one channel). The projection is what adapts a series to BERT's width (TimeMAE's strided Conv1d,
    written as a Linear on the flattened patch, which is the same map).

    Normalisation: the dataset's channel statistics (`channel_mean`/`channel_std`), then with `scaling="std"` each
    window-channel's own mean and standard deviation over its observed steps (transformers' `PatchTSTStdScaler`), whose
    mean and log standard deviation can be added back as a projected feature (`window_statistics_as_features`). With
    `first_difference_view` each channel's first difference is read beside it.

    Also returns the patch mask (batch, num_patches): True for patches with at least one observed value, or None when
    every patch of every window has one (the common, fast case). Unobserved values are set to 0 after normalisation,
    so whatever the caller put there never reaches the model. `hidden_steps` (batch, padded_length), True for the
    steps of masked patches in pre-training, hides those steps the same way (and from the window statistics) without
    changing the patch mask.
    """

    def __init__(self, config: TimeMAEConfig):
        super().__init__()
        self.config = config
        self.num_patches = config.num_patches
        self.patch_length = config.patch_length
        self.projection = TimeMAEPatchProjection(config.patch_length * config.step_channels, config.hidden_size)
        self.normalize = config.channel_mean is not None
        if self.normalize:
            self.register_buffer("channel_mean", torch.tensor(config.channel_mean), persistent=False)
            self.register_buffer("channel_std", torch.tensor(config.channel_std), persistent=False)
        self.scaler = PatchTSTStdScaler(config) if config.scaling == "std" else None
        self.statistics_projection = None
        if config.window_statistics_as_features:
            self.statistics_projection = TimeMAEPatchProjection(
                2 * config.encoded_channels, config.hidden_size, bias=False
            )

    @property
    def mixes_patches(self) -> bool:
        """
        Whether a patch's embedding can depend on steps outside the patch: through per-window statistics or the
        first difference. Masked pre-training then embeds the window again for the online encoder
        with the masked patches' steps hidden (see [`TimeMAEForPreTraining.forward`]).
        """
        return self.scaler is not None or self.config.first_difference_view

    def forward(
        self,
        past_values: torch.Tensor,
        past_observed_mask: torch.Tensor | None = None,
        hidden_steps: torch.BoolTensor | None = None,
    ) -> tuple[torch.Tensor, torch.BoolTensor | None]:
        past_values, observed = self.windows(past_values, past_observed_mask)
        batch_size, length, _ = past_values.shape
        series, statistics = self.normalized_series(
            past_values, observed, hidden_steps, with_first_difference=self.config.first_difference_view
        )
        patch_embeddings = self.projection(self.patches(series))
        if statistics is not None:
            patch_embeddings = patch_embeddings + self.statistics_projection(statistics).unsqueeze(1)
        return patch_embeddings, self.observed_patches(observed, batch_size, length)

    def windows(
        self, past_values: torch.Tensor, past_observed_mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.BoolTensor | None]:
        """
        The checked input as the windows the encoder reads, (windows, time, `encoded_channels`), with their observed
        mask (None when every value is observed): resized to `context_length` steps with `resize_to_context_length`;
        with `channel_independent`, normalised by the dataset statistics (one per channel) and split so that each
        channel is a window of its own, window `b * num_input_channels + c` holding channel c of window b.
        """
        past_values = check_past_values(past_values, self.config, self.projection.weight.dtype)
        observed = check_past_observed_mask(past_observed_mask, past_values)
        if self.config.resize_to_context_length:
            past_values, observed = self.resized(past_values, observed)
        if self.config.channel_independent:
            if self.normalize:
                past_values = (past_values - self.channel_mean) / self.channel_std
            past_values = past_values.transpose(1, 2).flatten(0, 1).unsqueeze(-1)
            if observed is not None:
                observed = observed.transpose(1, 2).flatten(0, 1).unsqueeze(-1)
        return past_values, observed

    def resized(
        self, past_values: torch.Tensor, observed: torch.BoolTensor | None
    ) -> tuple[torch.Tensor, torch.BoolTensor | None]:
        """`resize_observed_part` to `context_length` steps, after which every step counts as observed (the mask is
        None). Fully observed windows of that length are returned as they are."""
        length, context_length = past_values.shape[1], self.config.context_length
        if length == context_length and observed is None:
            return past_values, None
        if length > context_length:
            logger.warning_once(
                f"Input longer than context_length={context_length} steps is resampled down to it "
                "(resize_to_context_length=True), so detail shorter than a resampled step is lost; a model with a "
                "larger context_length keeps it."
            )
        compiling = torch.compiler.is_compiling() or torch.jit.is_tracing()
        if length == context_length and not compiling and bool(observed.all()):
            return past_values, None
        return resize_observed_part(past_values, observed, context_length), None

    def normalized_series(
        self,
        past_values: torch.Tensor,
        observed: torch.BoolTensor | None,
        hidden_steps: torch.BoolTensor | None = None,
        with_first_difference: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """
        The windows (batch, time, channels) normalised (dataset statistics, unless `windows` already applied them
        before splitting the channels) and zero-padded at the end to (batch, padded_length, channels), with
        unobserved and hidden steps at 0, and scaled with `scaling="std"`; with `with_first_difference`, each
        channel's first difference stacked behind them (batch, padded_length, 2 * channels). Also, with
        `window_statistics_as_features`, each window-channel's mean and log standard deviation (batch, 2 * channels),
        else None.
        """
        length = past_values.shape[1]
        if self.normalize and not self.config.channel_independent:
            past_values = (past_values - self.channel_mean) / self.channel_std
        seen = observed
        if hidden_steps is not None:
            visible = ~hidden_steps[:, :length, None]
            seen = visible.expand_as(past_values) if seen is None else seen & visible
        if seen is not None:
            past_values = past_values.masked_fill(~seen, 0.0)
        padding_length = self.config.padded_length - length
        if padding_length:
            # Zero-pad the end to a whole number of patches, as the original TimeMAE data loader does.
            past_values = F.pad(past_values, (0, 0, 0, padding_length))
        if self.scaler is None and not with_first_difference:
            return past_values, None
        seen = torch.ones_like(past_values[:, :length], dtype=torch.bool) if seen is None else seen
        seen = F.pad(seen, (0, 0, 0, padding_length))  # padding is unobserved
        statistics = None
        if self.scaler is not None:
            scaled, loc, scale = self.scaler(past_values, seen.to(past_values.dtype))  # (a bool mask: float32)
            if self.statistics_projection is not None:
                statistics = torch.cat([loc, scale.log()], dim=-1).squeeze(1)
            past_values = scaled.masked_fill(~seen, 0.0)
        if with_first_difference:
            past_values = torch.cat([past_values, first_difference(past_values, seen)], dim=-1)
        return past_values, statistics

    def patches(self, series: torch.Tensor) -> torch.Tensor:
        """(batch, padded_length, channels) -> (batch, num_patches, patch_length * channels), steps in time order."""
        return series.reshape(series.shape[0], self.num_patches, -1)

    def steps_of_patches(self, patch_weights: torch.Tensor) -> torch.BoolTensor:
        """(batch, num_patches) with non-zero for chosen patches -> (batch, padded_length), True on their steps."""
        return (patch_weights != 0).repeat_interleave(self.patch_length, dim=1)

    def observed_patches(self, observed: torch.BoolTensor | None, batch_size: int, length: int):
        """
        (batch, num_patches) True where a patch has an observed value; None when all have one.
        """
        if observed is None:
            if length == self.config.context_length:
                return None
            # A patch counts when it starts before the window's end.
            starts = torch.arange(self.num_patches, device=self.projection.weight.device) * self.patch_length
            patch_mask = (starts < length).expand(batch_size, -1)
        else:
            padded = F.pad(observed, (0, 0, 0, self.config.padded_length - length))
            patch_mask = self.patches(padded).any(dim=-1)
        if torch.compiler.is_compiling() or torch.jit.is_tracing():
            # As in `check_past_values`: the shortcut and the check below read the data, which would split a
            # torch.compile graph and stop torch.export (ONNX graphs with `past_observed_mask`). Compiled and exported
            # models always use the mask, and leave windows with no observed value to the caller.
            return patch_mask
        if bool(patch_mask.all()):
            return None
        empty_windows = (~patch_mask.any(dim=1)).nonzero().flatten().tolist()
        if empty_windows and self.config.channel_independent:
            channels = self.config.num_input_channels
            empty = [f"window {index // channels} channel {index % channels}" for index in empty_windows[:10]]
            raise ValueError(
                f"{', '.join(empty)} of the batch have no observed value, and a channel-independent model encodes "
                "every channel alone: drop or fill those channels, or set `resize_to_context_length=True`, which "
                "encodes them as a constant 0."
            )
        if empty_windows:
            raise ValueError(
                f"Window(s) {empty_windows[:10]} of the batch have no observed value (`past_observed_mask` is 0 "
                "everywhere): drop them, there is nothing to encode."
            )
        return patch_mask


class TimeMAEEmbeddings(nn.Module):
    """
    Patch embeddings plus learned patch positions, then LayerNorm and dropout as in `BertEmbeddings`, whose position
    table and LayerNorm load into these. Returns the positioned embeddings (what the encoder reads), the bare patch
    embeddings (what the codeword tokenizer reads), both (batch, num_patches, hidden_size), and the patch mask
    (batch, num_patches) or None (see [`TimeMAEPatchEmbeddings`]).
    """

    def __init__(self, config: TimeMAEConfig):
        super().__init__()
        self.patch_embeddings = TimeMAEPatchEmbeddings(config)
        # (max_position_embeddings, hidden_size); a plain parameter, as in ViTMAE, initialised N(0, 1) like TimeMAE's.
        self.position_embeddings = nn.Parameter(torch.empty(config.max_position_embeddings, config.hidden_size))
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        past_values: torch.Tensor,
        past_observed_mask: torch.Tensor | None = None,
        hidden_steps: torch.BoolTensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.BoolTensor | None]:
        patch_embeddings, patch_mask = self.patch_embeddings(past_values, past_observed_mask, hidden_steps)
        positions = self.position_embeddings[: patch_embeddings.shape[1]]
        embeddings = self.dropout(self.LayerNorm(patch_embeddings + positions))
        return embeddings, patch_embeddings, patch_mask


class TimeMAECodewordTokenizer(nn.Module):
    """
    TimeMAE's tokenizer: a codebook of `codebook_size` learned codewords scored by one linear layer. A patch's target
    codeword is sampled from the softmax over codebook scores (the Gumbel-max trick, as the original's
    `gumbel_softmax(...).max()`; the argmax in eval mode); the same codebook scores the regressor's predictions.
    """

    def __init__(self, config: TimeMAEConfig):
        super().__init__()
        self.codewords = nn.Parameter(torch.empty(config.codebook_size, config.hidden_size))
        self.bias = nn.Parameter(torch.empty(config.codebook_size))

    def forward(self, representations: torch.Tensor) -> torch.Tensor:
        """(batch, k, hidden_size) -> codeword logits (batch, k, codebook_size)."""
        return F.linear(representations, self.codewords, self.bias)

    @torch.no_grad()
    def codeword_ids(self, patch_embeddings: torch.Tensor) -> torch.LongTensor:
        """(batch, k, hidden_size) patch embeddings -> (batch, k) codeword ids, without gradient."""
        logits = self(patch_embeddings)
        if self.training:
            uniform = torch.rand_like(logits).clamp_(min=torch.finfo(logits.dtype).tiny)
            logits = logits - torch.log(-torch.log(uniform))
        return logits.argmax(dim=-1)


class TimeMAERegressorLayer(nn.Module):
    """
    One layer of TimeMAE's regressor, built from BERT's parts: the mask queries cross-attend to the visible patches'
    representations (no self-attention among queries, as in the paper), then a feed-forward block.
    """

    def __init__(self, config: TimeMAEConfig):
        super().__init__()
        self.crossattention = BertAttention(config, is_cross_attention=True)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(
        self, queries: torch.Tensor, visible_representations: torch.Tensor, visible_attention_mask=None
    ) -> torch.Tensor:
        attended, _ = self.crossattention(
            queries, encoder_hidden_states=visible_representations, encoder_attention_mask=visible_attention_mask
        )
        return self.output(self.intermediate(attended), attended)


class TimeMAERegressor(nn.Module):
    """
    Stack of `TimeMAERegressorLayer`s; every layer reads the same visible representations. `visible_valid`
    (batch, num_visible), when given, hides the unfilled visible slots of windows with padding.
    """

    def __init__(self, config: TimeMAEConfig):
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList([TimeMAERegressorLayer(config) for _ in range(config.num_regressor_layers)])

    def forward(
        self,
        queries: torch.Tensor,
        visible_representations: torch.Tensor,
        visible_valid: torch.BoolTensor | None = None,
    ) -> torch.Tensor:
        visible_attention_mask = padding_attention_mask(
            self.config, queries, visible_valid, keys=visible_representations
        )
        for layer in self.layer:
            queries = layer(queries, visible_representations, visible_attention_mask)
        return queries


def check_past_values(past_values: torch.Tensor, config: TimeMAEConfig, dtype: torch.dtype) -> torch.Tensor:
    """
    Validate `past_values` against the config and return it as (batch, time, num_input_channels) in the model's
    `dtype`, with `time <= context_length` (any `time` with `resize_to_context_length`). Floating input of another
    dtype is cast, as transformers' vision models cast `pixel_values`, so float64 numpy data reaches a float32 model
    and float32 data a bf16 one; wrong shapes, empty batches and non-finite values fail with the expected shape or the
    fix instead of a matmul error.
    """
    longest = None if config.resize_to_context_length else config.context_length
    time = "time" if longest is None else f"time <= context_length={longest}"
    expected = f"(batch_size, {time}, num_input_channels={config.num_input_channels})"
    if not isinstance(past_values, torch.Tensor):
        raise TypeError(f"`past_values` must be a torch.Tensor of shape {expected}, got {type(past_values).__name__}.")
    if not past_values.is_floating_point():
        raise TypeError(
            f"`past_values` must be a floating-point tensor, got {past_values.dtype}: convert it with "
            "`past_values.float()` (TimeMAE reads real-valued series, not token ids)."
        )
    if past_values.ndim == 2 and config.num_input_channels == 1:
        past_values = past_values.unsqueeze(-1)
    if past_values.ndim != 3:
        raise ValueError(f"`past_values` must have shape {expected}, got {tuple(past_values.shape)}.")
    batch_size, length, channels = past_values.shape
    if batch_size == 0:
        raise ValueError(
            f"`past_values` is an empty batch (shape {tuple(past_values.shape)}): pass at least one window, or skip "
            "the call when there is nothing to encode."
        )
    if channels != config.num_input_channels or not 1 <= length <= (longest or length):
        any_length = config.resize_to_context_length
        if length == config.num_input_channels and (channels == config.context_length or any_length):
            hint = " It looks channels-first (batch, channels, time): pass `past_values.transpose(1, 2)`."
        elif channels != config.num_input_channels:
            hint = f" The model was configured for {config.num_input_channels} channels, the input has {channels}."
            if config.channel_independent:
                hint += (
                    " Its weights do not depend on the channel count (channel_independent=True): load it with "
                    f"`from_pretrained(path, num_input_channels={channels})`."
                )
        else:
            hint = (
                f" The model takes windows of at most {config.context_length} steps (shorter ones are padded): crop "
                "the input, build a model with a larger `context_length`, or set `resize_to_context_length=True`."
            )
        raise ValueError(f"`past_values` must have shape {expected}, got {tuple(past_values.shape)}.{hint}")
    past_values = past_values.to(dtype)
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        # This data-dependent check would split a torch.compile graph in two (~0.2 ms a window at the paper's size),
        # stop torch.export and be traced into ONNX as a constant: compiled and exported models leave it to the caller.
        return past_values
    finite = torch.isfinite(past_values)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ValueError(
            f"`past_values` contains {bad} NaN or infinite value(s) (in {dtype}): set missing values to 0 and pass "
            "`past_observed_mask` (0 where a value is missing), as the training collator does, or drop those "
            "windows."
        )
    return past_values


def check_past_observed_mask(
    past_observed_mask: torch.Tensor | None, past_values: torch.Tensor
) -> torch.BoolTensor | None:
    """
    `past_observed_mask` (PatchTST's name and meaning: 1 = observed, 0 = missing or padding) as a bool tensor of
    `past_values`' shape (batch, time, channels); (batch, time) masks apply to every channel. None stays None.
    """
    if past_observed_mask is None:
        return None
    if not isinstance(past_observed_mask, torch.Tensor):
        raise TypeError(f"`past_observed_mask` must be a torch.Tensor, got {type(past_observed_mask).__name__}.")
    shape, expected = tuple(past_observed_mask.shape), tuple(past_values.shape)
    if past_observed_mask.ndim == 2 and shape == expected[:2]:
        past_observed_mask = past_observed_mask.unsqueeze(-1).expand(expected)
    elif shape != expected:
        raise ValueError(
            f"`past_observed_mask` must have the shape of `past_values` {expected} (or {expected[:2]} for all "
            f"channels), got {shape}."
        )
    if past_observed_mask.dtype == torch.bool:
        return past_observed_mask.to(past_values.device)
    if not bool(((past_observed_mask == 0) | (past_observed_mask == 1)).all()):
        raise ValueError(
            "`past_observed_mask` must hold 1 (observed) or 0 (missing/padding), or be a bool tensor; got other values."
        )
    return (past_observed_mask != 0).to(past_values.device)


class TimeMAEPreTrainedModel(PreTrainedModel):
    config: TimeMAEConfig
    config_class = TimeMAEConfig
    base_model_prefix = "timemae"
    main_input_name = "past_values"
    supports_gradient_checkpointing = True
    _no_split_modules = ["TimeMAEEmbeddings", "BertLayer", "TimeMAERegressorLayer"]
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    _can_record_outputs = {"hidden_states": BertLayer, "attentions": BertSelfAttention}

    def __init__(self, config: TimeMAEConfig, *inputs, **kwargs):
        # Fields can change after the config was built (`from_pretrained(path, mask_ratio=...)`, `config.momentum =
        # ...`); check them again here, before any layer is sized from them.
        config.validate()
        super().__init__(config, *inputs, **kwargs)

    def post_init(self):
        super().post_init()
        if self.config.fast_dropout:
            # Cheaper dropout masks (see `timemae_hf.dropout`); `use_fast_dropout(model, False)` restores torch's.
            use_fast_dropout(self)

    def set_attn_implementation(self, attn_implementation, *args, **kwargs):
        """transformers' `set_attn_implementation`; "sdpa" stays the fast-dropout SDPA while fast dropout is on."""
        super().set_attn_implementation(attn_implementation, *args, **kwargs)
        if self.config._attn_implementation == "sdpa" and any(isinstance(m, FastDropout) for m in self.modules()):
            self.config._attn_implementation_internal = FAST_DROPOUT_ATTENTION

    def _init_weights(self, module):
        """
        BERT's initialisation for the encoder side; TimeMAE's own for the parts BERT has no counterpart for. The
        scale matters for the codeword targets: with BERT's std 0.02 on the projection and codebook the codebook
        scores are ~0.01 and the Gumbel-sampled targets are pure noise, so MCC cannot learn.
        """
        if isinstance(module, TimeMAEPatchProjection):
            # PyTorch's default for Linear, as the original's projection (a strided Conv1d).
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            if module.bias is not None:
                fan_in = module.weight[0].numel()
                init.uniform_(module.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
            return
        super()._init_weights(module)
        if isinstance(module, TimeMAEPatchEmbeddings) and module.normalize:
            init.copy_(module.channel_mean, torch.tensor(self.config.channel_mean))
            init.copy_(module.channel_std, torch.tensor(self.config.channel_std))
        elif isinstance(module, TimeMAEEmbeddings):
            init.normal_(module.position_embeddings, std=1.0)  # nn.Embedding's default, as in TimeMAE
        elif isinstance(module, TimeMAECodewordTokenizer):
            init.xavier_normal_(module.codewords)  # as TimeMAE's codebook Linear
            init.constant_(module.bias, 0.1)
        elif isinstance(module, TimeMAEForPreTraining):
            init.normal_(module.mask_token, std=1.0)  # torch.randn, as in TimeMAE

    def save_pretrained(self, save_directory, *args, **kwargs):
        self.config.auto_map = {**TIMEMAE_AUTO_MAP, **(getattr(self.config, "auto_map", None) or {})}
        return super().save_pretrained(save_directory, *args, **kwargs)

    def freeze_encoder_body(self):
        """
        Freeze the encoder's attention and feed-forward weights; its LayerNorms, the patch projection, the positions
        and every head stay trainable. This is the "frozen pretrained transformer" recipe of GPT4TS (Zhou et al., 2023),
        the setting where language pre-training is claimed to matter for time series.
        """
        base = getattr(self, self.base_model_prefix, self)
        for name, parameter in base.encoder.named_parameters():
            parameter.requires_grad_("LayerNorm" in name)
        return self

    @classmethod
    def from_bert(cls, bert_model_name_or_path: str, **config_kwargs):
        """
        Build this model with the encoder of a BERT checkpoint (a Hub id such as `"bert-base-uncased"` or a local
        folder). Hidden size, depth, heads, feed-forward width, activation, LayerNorm epsilon, dropouts and the
        position table come from the BERT config; `config_kwargs` set the time-series side (`num_input_channels`,
        `context_length`, `patch_length`, `mask_ratio`, ...). The encoder weights are copied exactly, and so are the
        position embeddings and embedding LayerNorm; the patch projection, which BERT has no counterpart for, is new.

        The result saves and reloads on its own: the BERT checkpoint is not needed afterwards.
        """
        bert_model_name_or_path = os.fspath(bert_model_name_or_path)
        bert_config = load_bert_config(bert_model_name_or_path)
        architecture = {
            "hidden_size": bert_config.hidden_size,
            "num_hidden_layers": bert_config.num_hidden_layers,
            "num_attention_heads": bert_config.num_attention_heads,
            "intermediate_size": bert_config.intermediate_size,
            "hidden_act": bert_config.hidden_act,
            "layer_norm_eps": bert_config.layer_norm_eps,
            "max_position_embeddings": bert_config.max_position_embeddings,
        }
        conflicts = {k: v for k, v in config_kwargs.items() if k in architecture and v != architecture[k]}
        if conflicts:
            raise ValueError(
                f"{sorted(conflicts)} conflict with the BERT checkpoint {bert_model_name_or_path!r} "
                f"({ {k: architecture[k] for k in conflicts} }): the encoder's shape comes from the checkpoint, so "
                "drop these arguments or build a randomly initialised model with `TimeMAEConfig(...)` instead."
            )
        defaults = {
            "hidden_dropout_prob": bert_config.hidden_dropout_prob,
            "attention_probs_dropout_prob": bert_config.attention_probs_dropout_prob,
            "initializer_range": bert_config.initializer_range,
        }
        config = TimeMAEConfig(
            **{**defaults, **config_kwargs, **architecture, "bert_model_name_or_path": bert_model_name_or_path}
        )
        model = cls(config)
        bert = BertModel.from_pretrained(bert_model_name_or_path, add_pooling_layer=False)
        model.load_bert_weights(bert)
        return model

    @torch.no_grad()
    def load_bert_weights(self, bert: BertModel):
        """Copy a `BertModel`'s encoder, position table and embedding LayerNorm into this model's encoder side."""
        base = getattr(self, self.base_model_prefix, self)
        base.encoder.load_state_dict(bert.encoder.state_dict())
        num_positions = base.embeddings.position_embeddings.shape[0]
        base.embeddings.position_embeddings.copy_(bert.embeddings.position_embeddings.weight[:num_positions])
        base.embeddings.LayerNorm.load_state_dict(bert.embeddings.LayerNorm.state_dict())
        if isinstance(self, TimeMAEForPreTraining):
            self.reset_momentum_encoder()


def load_bert_config(bert_model_name_or_path: str):
    """Load a checkpoint's config and make sure it describes a BERT-style encoder."""
    bert_model_name_or_path = os.fspath(bert_model_name_or_path)
    try:
        bert_config = AutoConfig.from_pretrained(bert_model_name_or_path)
    except (OSError, ValueError) as error:
        raise OSError(
            f"Could not load a BERT config from {bert_model_name_or_path!r}: give a Hub id such as "
            "'bert-base-uncased' (needs internet or the HF cache) or a local folder with config.json and "
            f"model.safetensors. Original error: {error}"
        ) from error
    if bert_config.model_type not in BERT_STYLE_MODEL_TYPES:
        raise ValueError(
            f"{bert_model_name_or_path!r} is a {bert_config.model_type!r} checkpoint, not a BERT-style encoder: "
            f"`from_bert` needs model_type in {BERT_STYLE_MODEL_TYPES} (e.g. bert-base-uncased, "
            "sentence-transformers/all-MiniLM-L6-v2). For a TimeMAE checkpoint use `from_pretrained`."
        )
    return bert_config


class TimeMAEModel(TimeMAEPreTrainedModel):
    """
    The TimeMAE encoder: patch embeddings + positions -> `BertEncoder`, over all patches (no masking). Its mean-pooled
    output is the representation used for linear probing and fine-tuning.
    """

    # Pre-training checkpoints also hold these; the encoder alone does not need them.
    _keys_to_ignore_on_load_unexpected = [
        r"^momentum_encoder\.",
        r"^regressor\.",
        r"^tokenizer\.",
        r"^mask_token$",
    ]

    def __init__(self, config: TimeMAEConfig):
        super().__init__(config)
        self.embeddings = TimeMAEEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings.patch_embeddings

    # hidden_states[-1] is the last layer's output as captured (`last_hidden_state`, which a channel-independent
    # model reshapes to (batch, C, ...) while its captured layers stay one row per window-channel).
    @capture_outputs(tie_last_hidden_states=False)
    def forward(
        self,
        past_values: torch.Tensor,
        past_observed_mask: torch.Tensor | None = None,
        *,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ) -> TimeMAEModelOutput:
        r"""
        past_values (`torch.FloatTensor` of shape `(batch_size, time, num_input_channels)`):
            The input windows, `time <= context_length`; shorter windows are right-padded and the padding counts as
            unobserved. With `resize_to_context_length` any `time` is taken and each window-channel's observed part is
            resampled to `context_length` steps (see [`resize_observed_part`]). `(batch_size, time)` is taken as one
            channel when `num_input_channels == 1`. No NaN: set missing values to 0 and mark them in
            `past_observed_mask`.
        past_observed_mask (`torch.Tensor` of shape `(batch_size, time, num_input_channels)`, *optional*):
            1 (or True) where a value is observed, 0 where it is missing or padding; a `(batch_size, time)` mask
            applies to every channel. Patches with no observed value
            are neither attended to nor pooled, so a window's representation does not depend on how much padding its
            batch needed.
        output_hidden_states (`bool`, *optional*):
            Also return the encoder's input and every layer's output (`hidden_states`).
        output_attentions (`bool`, *optional*):
            Also return every layer's attention probabilities (needs `attn_implementation="eager"`).
        return_dict (`bool`, *optional*):
            `False` returns a tuple instead of a [`TimeMAEModelOutput`].
        """
        embeddings, _, patch_mask = self.embeddings(past_values, past_observed_mask)
        attention_mask = padding_attention_mask(self.config, embeddings, patch_mask)
        last_hidden_state = self.encoder(embeddings, attention_mask=attention_mask).last_hidden_state
        pooler_output = masked_mean(last_hidden_state, patch_mask)
        patch_mask = all_patches_if_none(patch_mask, last_hidden_state)
        if self.config.channel_independent:
            # Window-channels b * C + c back to (batch, C, ...), PatchTST's layout; then the channels are pooled.
            channels = self.config.num_input_channels
            last_hidden_state, patch_mask, pooler_output = (
                tensor.unflatten(0, (-1, channels)) for tensor in (last_hidden_state, patch_mask, pooler_output)
            )
            concat = self.config.channel_pooling == "concat"
            pooler_output = pooler_output.flatten(1) if concat else pooler_output.mean(dim=1)
        return TimeMAEModelOutput(
            last_hidden_state=last_hidden_state, pooler_output=pooler_output, patch_mask=patch_mask
        )

    @capture_outputs
    def encode_visible_patches(
        self,
        visible_embeddings: torch.Tensor,
        visible_valid: torch.BoolTensor | None = None,
        *,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ) -> BaseModelOutput:
        """
        The encoder over the visible patches' embeddings (batch, num_visible_patches, hidden_size), for
        [`TimeMAEForPreTraining`]; `visible_valid` (batch, num_visible_patches) hides unfilled slots. A method of
        this model, so that hidden states and attentions are captured from the online encoder only, never from the
        momentum encoder.
        """
        attention_mask = padding_attention_mask(self.config, visible_embeddings, visible_valid)
        return BaseModelOutput(
            last_hidden_state=self.encoder(visible_embeddings, attention_mask=attention_mask).last_hidden_state
        )


def all_patches_if_none(patch_mask: torch.BoolTensor | None, hidden_states: torch.Tensor) -> torch.BoolTensor:
    """The patch mask to return: `patch_mask`, or all True (batch, num_patches) when every patch was observed."""
    if patch_mask is not None:
        return patch_mask
    return torch.ones(hidden_states.shape[:2], dtype=torch.bool, device=hidden_states.device)


def requested_outputs(output_hidden_states: bool | None, output_attentions: bool | None) -> dict:
    """The output flags a head was given, to pass on to [`TimeMAEModel`]; unset ones fall back to its config."""
    flags = {"output_hidden_states": output_hidden_states, "output_attentions": output_attentions}
    return {name: value for name, value in flags.items() if value is not None}


class TimeMAEForPreTraining(TimeMAEPreTrainedModel):
    """
    TimeMAE's decoupled masked autoencoder. Per sample, a random `mask_ratio` of the patches is masked; the visible
    patches alone go through the encoder; a momentum (EMA) copy of the encoder encodes the masked patches without
    gradient; a cross-attention regressor predicts the masked patches' representations from mask queries (a learned
    token plus the patch position) and the visible representations. Call `momentum_update()` after every optimizer
    step (the training scripts do this with a `TrainerCallback`).

    When a patch's embedding reads steps outside the patch (`scaling="std"`, `first_difference_view`), masking
    patches after embedding would let a visible patch carry part of a masked one. The window is then embedded twice:
    whole, without gradient, for the targets (momentum encoder, codewords), and with every step of every masked patch
    zeroed and left out of the window statistics, for the online encoder (ConvMAE's masked convolution). The price is
    that visible patches next to masked ones see zeros in pre-training that they do not see when fine-tuned.

    `from_pretrained` on a checkpoint without momentum encoder (one saved from [`TimeMAEModel`] or
    [`TimeMAEForSequenceClassification`]) starts the momentum encoder as an exact copy of the loaded encoder, as a new
    model does, and logs that it did; those keys are then not reported missing.
    """

    def __init__(self, config: TimeMAEConfig):
        super().__init__(config)
        self.timemae = TimeMAEModel(config)
        self.momentum_encoder = BertEncoder(config)
        self.momentum_encoder.requires_grad_(False)
        self.mask_token = nn.Parameter(torch.zeros(config.hidden_size))
        self.regressor = TimeMAERegressor(config)
        self.tokenizer = TimeMAECodewordTokenizer(config)
        self.post_init()
        self.reset_momentum_encoder()
        # See `warn_if_momentum_update_is_forgotten`.
        self._optimizer_steps_without_momentum_update = 0
        self._encoder_version_at_last_forward = None
        self._momentum_warning_given = False

    def train(self, mode: bool = True):
        super().train(mode)
        if not self.config.momentum_encoder_dropout:
            self.momentum_encoder.eval()
        return self

    def _adjust_missing_and_unexpected_keys(self, loading_info) -> None:
        """
        `from_pretrained` hook, run after the checkpoint's weights are in and missing ones initialised: a checkpoint
        without momentum encoder gets one copied from its encoder, not a random one that continued pre-training would
        regress onto.
        """
        super()._adjust_missing_and_unexpected_keys(loading_info)
        prefix = "momentum_encoder."
        missing = sorted(key for key in loading_info.missing_keys if key.startswith(prefix))
        if not missing:
            return
        online = self.timemae.encoder.state_dict()
        with torch.no_grad():
            for key in missing:
                self.get_parameter_or_buffer(key).copy_(online[key[len(prefix) :]])
        loading_info.missing_keys = {key for key in loading_info.missing_keys if not key.startswith(prefix)}
        logger.warning(
            f"The checkpoint has no momentum encoder (it was saved from an encoder or a classifier): the momentum "
            f"encoder of {type(self).__name__} starts as an exact copy of the loaded encoder ({len(missing)} tensors), "
            "as at the start of pre-training."
        )

    @torch.no_grad()
    def reset_momentum_encoder(self):
        """Make the momentum encoder an exact copy of the online encoder (TimeMAE's `copy_weight`)."""
        for target, online in zip(self.momentum_encoder.parameters(), self.timemae.encoder.parameters()):
            target.copy_(online)

    @torch.no_grad()
    def momentum_update(self):
        """EMA step of the momentum encoder: `target = momentum * target + (1 - momentum) * online`."""
        targets = list(self.momentum_encoder.parameters())
        onlines = list(self.timemae.encoder.parameters())
        torch._foreach_lerp_(targets, onlines, 1.0 - self.config.momentum)
        self._optimizer_steps_without_momentum_update = 0

    def warn_if_momentum_update_is_forgotten(self):
        """
        Count optimizer steps taken without `momentum_update()` and warn once, at the third, that the targets are
        frozen. An optimizer step is seen as a change, between two training forwards (training mode, gradients on),
        of the version counter of a trainable encoder weight (PyTorch bumps it on every in-place update), so
        gradient accumulation does not count and nothing is read from the tensor itself.
        """
        if self._momentum_warning_given or not (self.training and torch.is_grad_enabled()):
            return
        if torch.compiler.is_compiling():
            return  # bookkeeping on Python state; not traced
        version = self.timemae.encoder.layer[0].output.LayerNorm.weight._version
        if self._encoder_version_at_last_forward not in (None, version):
            self._optimizer_steps_without_momentum_update += 1
        self._encoder_version_at_last_forward = version
        if self._optimizer_steps_without_momentum_update >= MOMENTUM_UPDATE_WARNING_STEPS:
            self._momentum_warning_given = True
            logger.warning(
                f"{type(self).__name__} has taken {self._optimizer_steps_without_momentum_update} optimizer steps "
                "without `momentum_update()`: the momentum (target) encoder is not following the encoder, so the "
                "regression targets stay those of the initial weights. Train with `TimeMAEPretrainingTrainer`, add "
                "`MomentumUpdateCallback` to your `Trainer` (both in `timemae_hf.training`), or call "
                "`model.momentum_update()` after every optimizer step."
            )

    def random_masking(
        self,
        batch_size: int,
        device: torch.device,
        noise: torch.Tensor | None = None,
        patch_mask: torch.BoolTensor | None = None,
    ) -> PatchMasking:
        """
        Per-sample random masking (ViTMAE's argsort trick; the original TimeMAE masked the same patches for the whole
        batch, which `per_sample_masking=False` does). Each window masks `int(mask_ratio * n)` of its `n` observed
        patches, at least one when `n >= 2` and never all of them; padded patches are never masked nor visible.

        noise (`torch.FloatTensor` of shape `(batch_size, num_patches)`, *optional*): among a window's observed
        patches, those with the largest noise are masked; pass it to make masking reproducible.
        patch_mask (`torch.BoolTensor` of shape `(batch_size, num_patches)`, *optional*): True for observed patches;
        None when all are.
        """
        num_patches = self.config.num_patches
        if noise is None:
            noise = torch.rand(batch_size if self.config.per_sample_masking else 1, num_patches, device=device)
            noise = noise.expand(batch_size, -1)
        elif noise.shape != (batch_size, num_patches):
            raise ValueError(f"`noise` must have shape {(batch_size, num_patches)}, got {tuple(noise.shape)}.")
        if patch_mask is None:
            num_visible = num_patches - self.config.num_masked_patches
            ids_shuffle = torch.argsort(noise, dim=1)
            ids_restore = torch.argsort(ids_shuffle, dim=1)
            visible_index = ids_shuffle[:, :num_visible].sort(dim=1).values
            masked_index = ids_shuffle[:, num_visible:].sort(dim=1).values
            mask = (ids_restore >= num_visible).to(noise.dtype)
            return PatchMasking(visible_index, masked_index, mask, ids_restore)

        # Padded patches sort last; each window's observed ones split at its own count into visible | masked.
        ids_shuffle = torch.argsort(noise.masked_fill(~patch_mask, float("inf")), dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        num_observed = patch_mask.sum(dim=1, keepdim=True)
        num_masked = self.masked_patch_counts(device)[num_observed]
        num_visible = num_observed - num_masked
        visible_width, masked_width = int(num_visible.max()), int(num_masked.max())
        if masked_width == 0:
            raise ValueError(
                "No window of the batch has 2 or more observed patches, so none can hide a patch: masked pre-training "
                f"needs windows longer than one patch ({self.config.patch_length} steps)."
            )
        slots = torch.arange(num_patches, device=device)
        visible_index, visible_valid = sort_valid_slots_in_time_order(
            ids_shuffle[:, :visible_width], slots[:visible_width] < num_visible, num_patches
        )
        masked_ranks = (num_visible + slots[:masked_width]).clamp(max=num_patches - 1)
        masked_index, masked_valid = sort_valid_slots_in_time_order(
            ids_shuffle.gather(1, masked_ranks), slots[:masked_width] < num_masked, num_patches
        )
        mask = ((ids_restore >= num_visible) & (ids_restore < num_observed)).to(noise.dtype)
        return PatchMasking(visible_index, masked_index, mask, ids_restore, visible_valid, masked_valid)

    def masked_patch_counts(self, device: torch.device) -> torch.LongTensor:
        """
        (num_patches + 1,): how many patches a window with n observed patches masks. `int(mask_ratio * n)`, as
        `config.num_masked_patches` is for a full window, kept between 1 and n - 1 so that a window has something to
        predict and something to predict it from; a window of one patch masks none.
        """
        counts = []
        for num_observed in range(self.config.num_patches + 1):
            count = int(self.config.mask_ratio * num_observed)
            counts.append(min(max(count, 1), num_observed - 1) if num_observed >= 2 else 0)
        return torch.tensor(counts, device=device)

    @can_return_tuple
    def forward(
        self,
        past_values: torch.Tensor,
        past_observed_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        *,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ) -> TimeMAEForPreTrainingOutput:
        r"""
        past_values (`torch.FloatTensor` of shape `(batch_size, time, num_input_channels)`):
            The input windows, `time <= context_length` (see [`TimeMAEModel.forward`]).
        past_observed_mask (`torch.Tensor` of shape `(batch_size, time, num_input_channels)`, *optional*):
            1 where a value is observed, 0 where it is missing or padding (`(batch_size, time)`: every channel).
            Patches with no observed value are never masked, encoded or counted in a loss.
        noise (`torch.FloatTensor` of shape `(batch_size, num_patches)`, *optional*):
            Masking noise; the highest-noise observed patches are masked. Random when not given. A
            channel-independent model masks each channel on its own: `(batch_size * num_input_channels, num_patches)`.
        output_hidden_states (`bool`, *optional*):
            Also return the online encoder's hidden states over the visible patches.
        output_attentions (`bool`, *optional*):
            Also return the online encoder's attention probabilities (needs `attn_implementation="eager"`).
        return_dict (`bool`, *optional*):
            `False` returns a tuple instead of a [`TimeMAEForPreTrainingOutput`].
        """
        self.warn_if_momentum_update_is_forgotten()
        embedder = self.timemae.embeddings
        if not embedder.patch_embeddings.mixes_patches:
            embeddings, patch_embeddings, patch_mask = embedder(past_values, past_observed_mask)
            masking = self.random_masking(embeddings.shape[0], embeddings.device, noise, patch_mask)
            online_embeddings = embeddings
        else:
            # A patch's embedding reads steps of other patches (window statistics, differences): the targets
            # come from the whole window, the online encoder's embeddings from the window with the masked patches'
            # steps zeroed (ConvMAE's masked convolution), so nothing of a masked patch reaches a visible one.
            with torch.no_grad():
                embeddings, patch_embeddings, patch_mask = embedder(past_values, past_observed_mask)
            masking = self.random_masking(embeddings.shape[0], embeddings.device, noise, patch_mask)
            hidden_steps = embedder.patch_embeddings.steps_of_patches(masking.mask)
            online_embeddings = embedder(past_values, past_observed_mask, hidden_steps)[0]

        # The online encoder is given the visible patches only: masked ones never enter it.
        encoded = self.timemae.encode_visible_patches(
            gather_patches(online_embeddings, masking.visible_index),
            masking.visible_valid,
            **requested_outputs(output_hidden_states, output_attentions),
        )
        visible_representations = encoded.last_hidden_state
        with torch.no_grad():
            target_representations = self.encode_targets(embeddings, masking)
            codeword_ids = self.tokenizer.codeword_ids(gather_patches(patch_embeddings, masking.masked_index))
            if masking.masked_valid is not None:
                codeword_ids = codeword_ids.masked_fill(~masking.masked_valid, IGNORED_CODEWORD_ID)

        mask_queries = self.mask_token + self.timemae.embeddings.position_embeddings[masking.masked_index]
        predicted_representations = self.regressor(mask_queries, visible_representations, masking.visible_valid)
        codeword_logits = self.tokenizer(predicted_representations)

        mrr_loss = masked_mse(predicted_representations, target_representations, masking.masked_valid)
        mcc_loss = F.cross_entropy(  # ignores the IGNORED_CODEWORD_ID slots
            codeword_logits.flatten(0, 1), codeword_ids.flatten(), label_smoothing=self.config.mcc_label_smoothing
        )
        loss = self.config.mrr_loss_weight * mrr_loss + self.config.mcc_loss_weight * mcc_loss
        codeword_hits = codeword_logits.detach().argmax(dim=-1) == codeword_ids
        if masking.masked_valid is not None:
            codeword_hits = codeword_hits[masking.masked_valid]

        return TimeMAEForPreTrainingOutput(
            loss=loss,
            mrr_loss=mrr_loss.detach(),
            mcc_loss=mcc_loss.detach(),
            codeword_accuracy=codeword_hits.float().mean(),
            codeword_logits=codeword_logits,
            codeword_ids=codeword_ids,
            predicted_representations=predicted_representations,
            target_representations=target_representations,
            mask=masking.mask,
            ids_restore=masking.ids_restore,
            visible_representations=visible_representations,
            hidden_states=encoded.hidden_states,
            attentions=encoded.attentions,
            patch_mask=all_patches_if_none(patch_mask, embeddings),
        )

    def encode_targets(self, embeddings: torch.Tensor, masking: PatchMasking) -> torch.Tensor:
        """The momentum encoder's representations of the masked patches (batch, num_masked, hidden_size)."""
        masked_embeddings = gather_patches(embeddings, masking.masked_index).detach()
        attention_mask = padding_attention_mask(self.config, masked_embeddings, masking.masked_valid)
        return self.momentum_encoder(masked_embeddings, attention_mask=attention_mask).last_hidden_state


def masked_mse(predicted: torch.Tensor, target: torch.Tensor, valid: torch.BoolTensor | None) -> torch.Tensor:
    """MSE over the valid slots (batch, k) of (batch, k, hidden_size) tensors; over all of them when `valid` is None."""
    if valid is None:
        return F.mse_loss(predicted, target)
    weights = valid.unsqueeze(-1).to(predicted.dtype)
    return ((predicted - target).square() * weights).sum() / (weights.sum() * predicted.shape[-1])


class TimeMAEForSequenceClassification(TimeMAEPreTrainedModel):
    """
    TimeMAE encoder + linear head on the mean-pooled patch representations (`config.pooled_size` of them: a
    channel-independent model's `"concat"` pooling gives `num_input_channels * hidden_size`). `from_pretrained` on a
    pre-training checkpoint loads the encoder and initialises the head (the momentum encoder, regressor and tokenizer
    are dropped).

    The loss follows `BertForSequenceClassification`: `config.problem_type` "regression" (MSE),
    "single_label_classification" (cross-entropy on class ids) or "multi_label_classification" (BCE with logits on
    multi-hot targets); when unset it is inferred from the first labels as BERT does (one label -> regression, integer
    labels -> single-label, anything else -> multi-label) and stored in the config.
    """

    _keys_to_ignore_on_load_unexpected = TimeMAEModel._keys_to_ignore_on_load_unexpected

    def __init__(self, config: TimeMAEConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.timemae = TimeMAEModel(config)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(config.pooled_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        past_values: torch.Tensor,
        past_observed_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        *,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ) -> SequenceClassifierOutput:
        r"""
        past_values (`torch.FloatTensor` of shape `(batch_size, time, num_input_channels)`):
            The input windows, `time <= context_length` (see [`TimeMAEModel.forward`]).
        past_observed_mask (`torch.Tensor` of shape `(batch_size, time, num_input_channels)`, *optional*):
            1 where a value is observed, 0 where it is missing or padding (`(batch_size, time)`: every channel);
            unobserved patches are not pooled.
        labels (`torch.Tensor`, *optional*):
            Regression: targets of shape `(batch_size,)` or `(batch_size, num_labels)`. Single-label classification:
            class ids in `[0, num_labels)` of shape `(batch_size,)` or `(batch_size, 1)` (-100 is ignored, as in
            transformers). Multi-label classification: multi-hot (or one-hot) targets `(batch_size, num_labels)`.
        output_hidden_states (`bool`, *optional*):
            Also return the encoder's hidden states.
        output_attentions (`bool`, *optional*):
            Also return the encoder's attention probabilities (needs `attn_implementation="eager"`).
        return_dict (`bool`, *optional*):
            `False` returns a tuple instead of a [`SequenceClassifierOutput`].
        """
        outputs = self.timemae(
            past_values, past_observed_mask, **requested_outputs(output_hidden_states, output_attentions)
        )
        logits = self.classifier(self.dropout(outputs.pooler_output))
        loss = self.classification_loss(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )

    def classification_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """`BertForSequenceClassification`'s loss for `config.problem_type`, with shape and value checks."""
        if not isinstance(labels, torch.Tensor):
            raise TypeError(f"`labels` must be a torch.Tensor, got {type(labels).__name__}.")
        if self.config.problem_type is None:
            if self.num_labels == 1:
                self.config.problem_type = "regression"
            elif self.num_labels > 1 and labels.dtype in (torch.long, torch.int):
                self.config.problem_type = "single_label_classification"
            else:
                self.config.problem_type = "multi_label_classification"
        problem_type = self.config.problem_type
        batch_size = logits.shape[0]
        labels = labels.to(logits.device)
        if problem_type == "regression":
            check_label_shape(
                labels, [(batch_size, self.num_labels)] + [(batch_size,)] * (self.num_labels == 1), problem_type
            )
            return F.mse_loss(logits.view(labels.shape), labels.to(logits.dtype))
        if problem_type == "single_label_classification":
            labels = single_label_class_ids(labels, batch_size, self.num_labels)
            return F.cross_entropy(logits, labels)
        if problem_type == "multi_label_classification":
            check_label_shape(labels, [(batch_size, self.num_labels)], problem_type)
            return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        raise ValueError(
            f"`config.problem_type` is {problem_type!r}; use 'regression', 'single_label_classification' or "
            "'multi_label_classification'."
        )


def check_label_shape(labels: torch.Tensor, allowed: list[tuple[int, ...]], problem_type: str):
    """Raise a `ValueError` naming the expected shapes unless `labels` has one of the `allowed` shapes."""
    if tuple(labels.shape) not in allowed:
        raise ValueError(
            f"`labels` has shape {tuple(labels.shape)}, but {problem_type} with these logits needs "
            f"{' or '.join(str(shape) for shape in allowed)}. Pass one label row per window, or set "
            "`config.problem_type` ('regression', 'single_label_classification', 'multi_label_classification') "
            "to what the labels are."
        )


def single_label_class_ids(labels: torch.Tensor, batch_size: int, num_labels: int) -> torch.LongTensor:
    """
    Class ids (batch_size,) from single-label `labels` of shape (batch_size,) or (batch_size, 1); floats must be whole
    numbers (1.7 is an error, not class 1), ids must lie in [0, num_labels) or be -100 (ignored).
    """
    problem_type = "single_label_classification"
    if labels.ndim == 2 and labels.shape == (batch_size, num_labels) and num_labels > 1:
        raise ValueError(
            f"`labels` has shape {tuple(labels.shape)}, one column per class: for one-hot or multi-hot targets set "
            "`config.problem_type='multi_label_classification'` (or pass float labels); for single-label "
            "classification pass class ids of shape (batch_size,), e.g. `labels.argmax(-1)`."
        )
    check_label_shape(labels, [(batch_size,), (batch_size, 1)], problem_type)
    labels = labels.view(-1)
    if labels.is_floating_point():
        if not bool((labels == labels.round()).all()):
            raise ValueError(
                "`labels` are floats with fractional values, but single_label_classification needs class ids (whole "
                "numbers): pass integer class ids, or set `config.problem_type` to 'regression' or "
                "'multi_label_classification'."
            )
        labels = labels.long()
    elif labels.dtype == torch.bool:
        labels = labels.long()
    valid = (labels >= 0) & (labels < num_labels) | (labels == -100)
    if not bool(valid.all()):
        out_of_range = labels[~valid]
        raise ValueError(
            f"`labels` must be class ids in [0, {num_labels}) (or -100 to ignore a window), got "
            f"{sorted(set(out_of_range.tolist()))[:5]}: set `num_labels` to the number of classes."
        )
    return labels


__all__ = [
    "TimeMAEForPreTraining",
    "TimeMAEForPreTrainingOutput",
    "TimeMAEForSequenceClassification",
    "TimeMAEModel",
    "TimeMAEModelOutput",
    "TimeMAEPreTrainedModel",
]
