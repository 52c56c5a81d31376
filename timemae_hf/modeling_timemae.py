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
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from transformers import AutoConfig, BertModel, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.models.bert.modeling_bert import (
    BertAttention,
    BertEncoder,
    BertIntermediate,
    BertLayer,
    BertOutput,
    BertSelfAttention,
)
from transformers.utils import ModelOutput
from transformers.utils.generic import can_return_tuple
from transformers.utils.output_capturing import capture_outputs

from .configuration_timemae import TimeMAEConfig


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


@dataclass
class TimeMAEModelOutput(ModelOutput):
    r"""
    last_hidden_state (`torch.FloatTensor` of shape `(batch_size, num_patches, hidden_size)`):
        Encoder output for every patch.
    pooler_output (`torch.FloatTensor` of shape `(batch_size, hidden_size)`):
        Mean of `last_hidden_state` over patches: the series representation TimeMAE's linear probe and
        classifier use.
    hidden_states (`tuple(torch.FloatTensor)`, *optional*, returned when `output_hidden_states=True`):
        Output of each encoder layer, each of shape `(batch_size, num_patches, hidden_size)`.
    attentions (`tuple(torch.FloatTensor)`, *optional*, returned when `output_attentions=True`):
        Attention probabilities of each layer (needs `attn_implementation="eager"`).
    """

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class TimeMAEForPreTrainingOutput(ModelOutput):
    r"""
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
        Target codewords of the masked patches.
    predicted_representations (`torch.FloatTensor` of shape `(batch_size, num_masked_patches, hidden_size)`):
        The regressor's predictions for the masked patches.
    target_representations (`torch.FloatTensor` of shape `(batch_size, num_masked_patches, hidden_size)`):
        The momentum encoder's representations of the masked patches.
    mask (`torch.FloatTensor` of shape `(batch_size, num_patches)`):
        1 where a patch was masked, 0 where it was visible.
    ids_restore (`torch.LongTensor` of shape `(batch_size, num_patches)`):
        Permutation that puts `[visible, masked]` patches back in time order.
    visible_representations (`torch.FloatTensor` of shape `(batch_size, num_visible_patches, hidden_size)`):
        Encoder output of the visible patches.
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


def gather_patches(sequence: torch.Tensor, index: torch.LongTensor) -> torch.Tensor:
    """Select patches per sample: `sequence` (batch, num_patches, dim), `index` (batch, k) -> (batch, k, dim)."""
    return torch.gather(sequence, 1, index.unsqueeze(-1).expand(-1, -1, sequence.shape[-1]))


class TimeMAEPatchProjection(nn.Linear):
    """The patch -> hidden_size projection. A class of its own so that it keeps PyTorch's default initialisation (that
    of the original's strided Conv1d) rather than BERT's std 0.02, which would leave the codeword targets as noise."""


class TimeMAEPatchEmbeddings(nn.Module):
    """
    Checks and normalises `past_values` (batch, context_length, num_input_channels), cuts them into non-overlapping
    patches and projects each patch to `hidden_size`: (batch, num_patches, hidden_size). The projection is what
    adapts a series of any channel count to BERT's width (TimeMAE's strided Conv1d, written as a Linear on the
    flattened patch, which is the same map).
    """

    def __init__(self, config: TimeMAEConfig):
        super().__init__()
        self.config = config
        self.num_patches = config.num_patches
        self.padding_length = config.num_patches * config.patch_length - config.context_length
        self.projection = TimeMAEPatchProjection(config.patch_length * config.num_input_channels, config.hidden_size)
        self.normalize = config.channel_mean is not None
        if self.normalize:
            self.register_buffer("channel_mean", torch.tensor(config.channel_mean), persistent=False)
            self.register_buffer("channel_std", torch.tensor(config.channel_std), persistent=False)

    def forward(self, past_values: torch.Tensor) -> torch.Tensor:
        past_values = check_past_values(past_values, self.config)
        if self.normalize:
            past_values = (past_values - self.channel_mean) / self.channel_std
        if self.padding_length:
            # Zero-pad the end to a whole number of patches, as the original TimeMAE data loader does.
            past_values = F.pad(past_values, (0, 0, 0, self.padding_length))
        batch_size = past_values.shape[0]
        patches = past_values.reshape(batch_size, self.num_patches, -1)  # (batch, num_patches, patch_length * channels)
        return self.projection(patches)


class TimeMAEEmbeddings(nn.Module):
    """
    Patch embeddings plus learned patch positions, then LayerNorm and dropout as in `BertEmbeddings`, whose position
    table and LayerNorm load into these. Returns both the positioned embeddings (what the encoder reads) and the
    bare patch embeddings (what the codeword tokenizer reads).
    """

    def __init__(self, config: TimeMAEConfig):
        super().__init__()
        self.patch_embeddings = TimeMAEPatchEmbeddings(config)
        # (max_position_embeddings, hidden_size); a plain parameter, as in ViTMAE, initialised N(0, 1) like TimeMAE's.
        self.position_embeddings = nn.Parameter(torch.empty(config.max_position_embeddings, config.hidden_size))
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, past_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        patch_embeddings = self.patch_embeddings(past_values)
        positions = self.position_embeddings[: patch_embeddings.shape[1]]
        embeddings = self.dropout(self.LayerNorm(patch_embeddings + positions))
        return embeddings, patch_embeddings


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

    def forward(self, queries: torch.Tensor, visible_representations: torch.Tensor) -> torch.Tensor:
        attended, _ = self.crossattention(queries, encoder_hidden_states=visible_representations)
        return self.output(self.intermediate(attended), attended)


class TimeMAERegressor(nn.Module):
    """Stack of `TimeMAERegressorLayer`s; every layer reads the same visible representations."""

    def __init__(self, config: TimeMAEConfig):
        super().__init__()
        self.layer = nn.ModuleList([TimeMAERegressorLayer(config) for _ in range(config.num_regressor_layers)])

    def forward(self, queries: torch.Tensor, visible_representations: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            queries = layer(queries, visible_representations)
        return queries


def check_past_values(past_values: torch.Tensor, config: TimeMAEConfig) -> torch.Tensor:
    """Validate `past_values` against the config; fail with the expected shape instead of a matmul error."""
    expected = f"(batch_size, context_length={config.context_length}, num_input_channels={config.num_input_channels})"
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
    _, length, channels = past_values.shape
    if (length, channels) != (config.context_length, config.num_input_channels):
        hint = ""
        if (channels, length) == (config.context_length, config.num_input_channels):
            hint = " It looks channels-first (batch, channels, time): pass `past_values.transpose(1, 2)`."
        elif channels != config.num_input_channels:
            hint = f" The model was configured for {config.num_input_channels} channels, the input has {channels}."
        else:
            hint = (
                f" The model was configured for windows of {config.context_length} steps; crop or pad the input, "
                "or build a model with a matching `context_length`."
            )
        raise ValueError(f"`past_values` must have shape {expected}, got {tuple(past_values.shape)}.{hint}")
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        # This data-dependent check would split a torch.compile graph in two (~0.2 ms a window at the paper's size),
        # stop torch.export and be traced into ONNX as a constant: compiled and exported models leave it to the caller.
        return past_values
    finite = torch.isfinite(past_values)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ValueError(
            f"`past_values` contains {bad} NaN or infinite value(s); impute or drop those windows before calling "
            "the model (e.g. `torch.nan_to_num(past_values)` if zeros are a sensible fill)."
        )
    return past_values


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

    def _init_weights(self, module):
        """
        BERT's initialisation for the encoder side; TimeMAE's own for the parts BERT has no counterpart for. The
        scale matters for the codeword targets: with BERT's std 0.02 on the projection and codebook the codebook
        scores are ~0.01 and the Gumbel-sampled targets are pure noise, so MCC cannot learn.
        """
        if isinstance(module, TimeMAEPatchProjection):
            # PyTorch's default for Linear/Conv1d, as the original's projection.
            init.kaiming_uniform_(module.weight, a=math.sqrt(5))
            bound = 1 / math.sqrt(module.in_features)
            init.uniform_(module.bias, -bound, bound)
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
            **{**defaults, **config_kwargs, **architecture, "bert_model_name_or_path": str(bert_model_name_or_path)}
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
    _keys_to_ignore_on_load_unexpected = [r"^momentum_encoder\.", r"^regressor\.", r"^tokenizer\.", r"^mask_token$"]

    def __init__(self, config: TimeMAEConfig):
        super().__init__(config)
        self.embeddings = TimeMAEEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings.patch_embeddings

    @capture_outputs
    def forward(self, past_values: torch.Tensor, **kwargs) -> TimeMAEModelOutput:
        r"""
        past_values (`torch.FloatTensor` of shape `(batch_size, context_length, num_input_channels)`):
            The input windows.
        """
        embeddings, _ = self.embeddings(past_values)
        last_hidden_state = self.encoder(embeddings, **kwargs).last_hidden_state
        return TimeMAEModelOutput(last_hidden_state=last_hidden_state, pooler_output=last_hidden_state.mean(dim=1))


class TimeMAEForPreTraining(TimeMAEPreTrainedModel):
    """
    TimeMAE's decoupled masked autoencoder. Per sample, a random `mask_ratio` of the patches is masked; the visible
    patches alone go through the encoder; a momentum (EMA) copy of the encoder encodes the masked patches without
    gradient; a cross-attention regressor predicts the masked patches' representations from mask queries (a learned
    token plus the patch position) and the visible representations. Call `momentum_update()` after every optimizer
    step (the training scripts do this with a `TrainerCallback`).
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

    def train(self, mode: bool = True):
        super().train(mode)
        if not self.config.momentum_encoder_dropout:
            self.momentum_encoder.eval()
        return self

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

    def random_masking(self, batch_size: int, device: torch.device, noise: torch.Tensor | None = None):
        """
        Per-sample random masking (ViTMAE's argsort trick; the original TimeMAE masked the same patches for the whole
        batch). Returns `visible_index` (batch, num_visible), `masked_index` (batch, num_masked), each sorted in time
        order, `mask` (batch, num_patches) with 1 = masked, and `ids_restore` (batch, num_patches).

        noise (`torch.FloatTensor` of shape `(batch_size, num_patches)`, *optional*): the patches with the largest
        noise are masked; pass it to make masking reproducible.
        """
        num_patches = self.config.num_patches
        num_visible = num_patches - self.config.num_masked_patches
        if noise is None:
            noise = torch.rand(batch_size if self.config.per_sample_masking else 1, num_patches, device=device)
            noise = noise.expand(batch_size, -1)
        elif noise.shape != (batch_size, num_patches):
            raise ValueError(f"`noise` must have shape {(batch_size, num_patches)}, got {tuple(noise.shape)}.")
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        visible_index = ids_shuffle[:, :num_visible].sort(dim=1).values
        masked_index = ids_shuffle[:, num_visible:].sort(dim=1).values
        mask = (ids_restore >= num_visible).to(noise.dtype)
        return visible_index, masked_index, mask, ids_restore

    @can_return_tuple
    def forward(self, past_values: torch.Tensor, noise: torch.Tensor | None = None) -> TimeMAEForPreTrainingOutput:
        r"""
        past_values (`torch.FloatTensor` of shape `(batch_size, context_length, num_input_channels)`):
            The input windows.
        noise (`torch.FloatTensor` of shape `(batch_size, num_patches)`, *optional*):
            Masking noise; the highest-noise patches are masked. Random when not given.
        """
        embeddings, patch_embeddings = self.timemae.embeddings(past_values)
        visible_index, masked_index, mask, ids_restore = self.random_masking(
            embeddings.shape[0], embeddings.device, noise
        )

        # The online encoder is given the visible patches only: masked ones never enter it.
        visible_representations = self.timemae.encoder(gather_patches(embeddings, visible_index)).last_hidden_state
        with torch.no_grad():
            target_representations = self.momentum_encoder(
                gather_patches(embeddings, masked_index).detach()
            ).last_hidden_state
            codeword_ids = self.tokenizer.codeword_ids(gather_patches(patch_embeddings, masked_index))

        mask_queries = self.mask_token + self.timemae.embeddings.position_embeddings[masked_index]
        predicted_representations = self.regressor(mask_queries, visible_representations)
        codeword_logits = self.tokenizer(predicted_representations)

        mrr_loss = F.mse_loss(predicted_representations, target_representations)
        mcc_loss = F.cross_entropy(
            codeword_logits.flatten(0, 1), codeword_ids.flatten(), label_smoothing=self.config.mcc_label_smoothing
        )
        loss = self.config.mrr_loss_weight * mrr_loss + self.config.mcc_loss_weight * mcc_loss
        codeword_accuracy = (codeword_logits.detach().argmax(dim=-1) == codeword_ids).float().mean()

        return TimeMAEForPreTrainingOutput(
            loss=loss,
            mrr_loss=mrr_loss.detach(),
            mcc_loss=mcc_loss.detach(),
            codeword_accuracy=codeword_accuracy,
            codeword_logits=codeword_logits,
            codeword_ids=codeword_ids,
            predicted_representations=predicted_representations,
            target_representations=target_representations,
            mask=mask,
            ids_restore=ids_restore,
            visible_representations=visible_representations,
        )


class TimeMAEForSequenceClassification(TimeMAEPreTrainedModel):
    """
    TimeMAE encoder + linear head on the mean-pooled patch representations. `from_pretrained` on a pre-training
    checkpoint loads the encoder and initialises the head (the momentum encoder, regressor and tokenizer are dropped).
    """

    _keys_to_ignore_on_load_unexpected = TimeMAEModel._keys_to_ignore_on_load_unexpected

    def __init__(self, config: TimeMAEConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.timemae = TimeMAEModel(config)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self, past_values: torch.Tensor, labels: torch.LongTensor | None = None, **kwargs
    ) -> SequenceClassifierOutput:
        r"""
        past_values (`torch.FloatTensor` of shape `(batch_size, context_length, num_input_channels)`):
            The input windows.
        labels (`torch.LongTensor` of shape `(batch_size,)`, *optional*):
            Class ids in `[0, num_labels)`; with `num_labels == 1` a float regression target.
        """
        outputs = self.timemae(past_values, **kwargs)
        logits = self.classifier(self.dropout(outputs.pooler_output))
        loss = None
        if labels is not None:
            if self.num_labels == 1:
                loss = F.mse_loss(logits.squeeze(-1), labels.to(logits.dtype))
            else:
                if labels.min() < 0 or labels.max() >= self.num_labels:
                    raise ValueError(
                        f"`labels` must be class ids in [0, {self.num_labels}), got values in "
                        f"[{int(labels.min())}, {int(labels.max())}]: set `num_labels` to the number of classes."
                    )
                loss = F.cross_entropy(logits, labels.long())
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


__all__ = [
    "TimeMAEForPreTraining",
    "TimeMAEForPreTrainingOutput",
    "TimeMAEForSequenceClassification",
    "TimeMAEModel",
    "TimeMAEModelOutput",
    "TimeMAEPreTrainedModel",
]
