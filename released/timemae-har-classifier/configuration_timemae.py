"""TimeMAE model configuration."""

import math

from transformers import PreTrainedConfig


class TimeMAEConfig(PreTrainedConfig):
    r"""
    Configuration of a TimeMAE model: a masked autoencoder for multivariate time series whose encoder is transformers'
    `BertEncoder`. Defaults reproduce the HAR setting of the TimeMAE paper (Cheng et al., 2023): 9 channels, 128 steps,
    patches of 8 steps, a 64-dim 8-layer encoder, 60 % of the patches masked.

    The encoder fields (`hidden_size` ... `max_position_embeddings`) have BERT's names and meaning, so that
    [`TimeMAEForPreTraining.from_bert`] can take them from any BERT checkpoint's config.

    Args:
        num_input_channels (`int`, *optional*, defaults to 9):
            Number of variates (channels) of the input series. With `channel_independent` the weights do not depend
            on it, except a `"concat"` classifier head's.
        context_length (`int`, *optional*, defaults to 128):
            The longest window the model takes. Shorter windows are right-padded by the model and the padding counts
            as unobserved (see `past_observed_mask`); with `resize_to_context_length` every window is resampled to
            this length instead. If it is not a multiple of `patch_length`, inputs are zero-padded at the end to the
            next multiple, as the original TimeMAE code does.
        patch_length (`int`, *optional*):
            Time steps per patch (TimeMAE's `wave_length`). Defaults to [`~TimeMAEConfig.default_patch_length`] of
            `context_length` (8 for 128 steps, the paper's HAR setting); the config stores the number it chose, so a
            saved config.json always names it.
        scaling (`str`, *optional*):
            Per-window normalisation, PatchTST's `scaling="std"` (RevIN without its affine weights): each channel of
            each window is standardised by its own mean and standard deviation over its observed steps, after the
            dataset statistics `channel_mean`/`channel_std` (if any). None (the default): the dataset statistics
            only. In pre-training the online encoder's statistics come from its visible steps only.
        window_statistics_as_features (`bool`, *optional*, defaults to `False`):
            With `scaling="std"`, give the model back what scaling removed: each window-channel's mean and log
            standard deviation, projected to `hidden_size` and added to every patch embedding (a posture lives in the
            mean of the gravity channels).
        channel_independent (`bool`, *optional*, defaults to `False`):
            Encode each channel of a window alone with the same univariate encoder (PatchTST's channel independence):
            the patch projection reads one channel, so the weights do not depend on `num_input_channels` and a
            pre-trained encoder serves data with any channel count (`from_pretrained(path, num_input_channels=C)`).
            The dataset statistics still apply per channel; pre-training treats every channel as a window of its own.
        channel_pooling (`str`, *optional*, defaults to `"concat"`):
            How a channel-independent model pools its channels into one series representation: `"concat"` puts each
            channel's pooled features side by side (`num_input_channels * hidden_size` values, in channel order),
            `"mean"` averages them (`hidden_size` values, the same size for every channel count).
        resize_to_context_length (`bool`, *optional*, defaults to `False`):
            Accept series of any length: each window-channel's observed part (first to last observed step, gaps
            filled linearly) is resampled linearly to exactly `context_length` steps before normalisation, as Mantis
            resizes every series to 512 (see [`resize_observed_part`]). Every step then counts as observed; a
            window-channel with no observed value becomes a constant 0.
        first_difference_view (`bool`, *optional*, defaults to `False`):
            Also give the patch projection each normalised channel's first difference (`x[t] - x[t-1]`, 0 at the first
            step and next to unobserved steps), a second view of the same series as in Mantis: the projection reads
            twice the values per step.
        hidden_size (`int`, *optional*, defaults to 64):
            Width of the encoder; patches are projected from `patch_length * step_channels` values to this size.
        num_hidden_layers (`int`, *optional*, defaults to 8):
            Number of `BertLayer`s in the encoder.
        num_attention_heads (`int`, *optional*, defaults to 4):
            Attention heads per layer; must divide `hidden_size`.
        intermediate_size (`int`, *optional*, defaults to 256):
            Width of the feed-forward block of each layer.
        hidden_act (`str`, *optional*, defaults to `"gelu"`):
            Activation of the feed-forward blocks.
        hidden_dropout_prob (`float`, *optional*, defaults to 0.2):
            Dropout on embeddings and residual branches (TimeMAE uses 0.2).
        attention_probs_dropout_prob (`float`, *optional*, defaults to 0.2):
            Dropout on attention probabilities.
        layer_norm_eps (`float`, *optional*, defaults to 1e-5):
            LayerNorm epsilon (PyTorch's default, as in TimeMAE; BERT checkpoints bring their own 1e-12).
        max_position_embeddings (`int`, *optional*):
            Size of the learned patch-position table. Defaults to the number of patches; BERT checkpoints bring 512.
        initializer_range (`float`, *optional*, defaults to 0.02):
            Standard deviation of the normal initialisation of linear and embedding weights.
        mask_ratio (`float`, *optional*, defaults to 0.6):
            Fraction of patches masked in pre-training; at least one patch must stay visible and one be masked.
        codebook_size (`int`, *optional*, defaults to 192):
            Number of codewords of the tokenizer that gives masked patches their discrete targets (TimeMAE's
            `vocab_size`).
        num_regressor_layers (`int`, *optional*, defaults to 4):
            Cross-attention layers of the regressor that predicts masked representations from visible ones.
        momentum (`float`, *optional*, defaults to 0.99):
            EMA factor of the momentum (target) encoder: `target = momentum * target + (1 - momentum) * online`.
        mrr_loss_weight (`float`, *optional*, defaults to 5.0):
            Weight of the masked representation regression loss (TimeMAE's `alpha`).
        mcc_loss_weight (`float`, *optional*, defaults to 1.0):
            Weight of the masked codeword classification loss (TimeMAE's `beta`).
        mcc_label_smoothing (`float`, *optional*, defaults to 0.2):
            Label smoothing of the codeword cross-entropy.
        channel_mean (`list[float]`, *optional*):
            Per-channel mean subtracted from inputs inside the model, so that inference applies the training
            statistics. Must be given together with `channel_std`.
        channel_std (`list[float]`, *optional*):
            Per-channel standard deviation that inputs are divided by.
        bert_model_name_or_path (`str`, *optional*):
            The BERT checkpoint the encoder was initialised from (set by `from_bert`; provenance only, nothing is
            downloaded when a TimeMAE checkpoint is loaded).
        per_sample_masking (`bool`, *optional*, defaults to `True`):
            Draw a different random mask for every window. `False` masks the same patches for the whole batch, as the
            original code does.
        momentum_encoder_dropout (`bool`, *optional*, defaults to `False`):
            Whether the momentum encoder applies dropout when it encodes the regression targets, as the original code
            does; off, the targets are deterministic (the usual choice for EMA teachers) and the pre-training step
            does a third less dropout work.
        fast_dropout (`bool`, *optional*, defaults to `False`):
            Draw dropout masks on CPU with 16 random bits per element instead of torch's (`timemae_hf.dropout`: same
            keep rate within 2**-17, same scaling, the same outputs in eval mode); the training masks differ from
            torch's for a seed.

            The recommended values of these three (and of every training setting) live in one place, the YAML
            configs in `training/configs/` (`pretrain_default.yaml`, `har_native.yaml`), each with the result that
            chose it; the defaults here are the plain behaviour.
        classifier_dropout (`float`, *optional*, defaults to 0.0):
            Dropout before the classification head of [`TimeMAEForSequenceClassification`].

    Example:

    ```python
    >>> from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining

    >>> config = TimeMAEConfig(num_input_channels=9, context_length=128)  # the paper's HAR setting
    >>> model = TimeMAEForPreTraining(config)
    ```
    """

    model_type = "timemae"

    num_input_channels: int = 9
    context_length: int = 128
    patch_length: int | None = None
    scaling: str | None = None
    window_statistics_as_features: bool = False
    channel_independent: bool = False
    channel_pooling: str = "concat"
    resize_to_context_length: bool = False
    first_difference_view: bool = False
    hidden_size: int = 64
    num_hidden_layers: int = 8
    num_attention_heads: int = 4
    intermediate_size: int = 256
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.2
    attention_probs_dropout_prob: float = 0.2
    layer_norm_eps: float = 1e-5
    max_position_embeddings: int | None = None
    initializer_range: float = 0.02
    mask_ratio: float = 0.6
    codebook_size: int = 192
    num_regressor_layers: int = 4
    momentum: float = 0.99
    mrr_loss_weight: float = 5.0
    mcc_loss_weight: float = 1.0
    mcc_label_smoothing: float = 0.2
    per_sample_masking: bool = True
    momentum_encoder_dropout: bool = False
    fast_dropout: bool = False
    channel_mean: list[float] | None = None
    channel_std: list[float] | None = None
    bert_model_name_or_path: str | None = None
    classifier_dropout: float = 0.0
    # Read by BertEncoder's layers; TimeMAE's encoder is never a decoder.
    is_decoder: bool = False
    add_cross_attention: bool = False

    def __post_init__(self, **kwargs):
        if self.patch_length is None and isinstance(self.context_length, int) and self.context_length >= 1:
            self.patch_length = self.default_patch_length(self.context_length)
        refuse_removed_options(kwargs, self.patch_length)
        patching = (self.context_length, self.patch_length)
        if self.max_position_embeddings is None and all(isinstance(v, int) and v >= 1 for v in patching):
            self.max_position_embeddings = self.num_patches  # (bad patching fields are reported by validate())
        # Plain floats, so numpy or torch statistics serialise to config.json.
        if self.channel_mean is not None:
            self.channel_mean = [float(value) for value in self.channel_mean]
        if self.channel_std is not None:
            self.channel_std = [float(value) for value in self.channel_std]
        self.validate()
        super().__post_init__(**kwargs)

    @staticmethod
    def default_patch_length(context_length: int) -> int:
        """
        The patch length used when none is given: among the lengths that cut `context_length` into 12 to 24 patches,
        the one that needs the least zero padding at the end, ties going to the one closest to 16 patches (then the
        shorter patch). 128 steps -> 8 (16 patches, the paper's HAR setting), 100 -> 5 (20), 25 -> 2 (13), 1000 -> 50
        (20); below 24 steps every step is a patch.

        Why: 16 patches is the paper's setting; with 60 % masked, 12 to 24 patches leave 5 to 10 visible patches to
        predict from, while attention cost grows with the square of the patch count. Padding is avoided because
        padded steps carry no signal: a series of 25 steps in patches of 8 would be 22 % padding.
        """
        if not isinstance(context_length, int) or context_length < 1:
            raise ValueError(f"`context_length` must be a positive integer, got {context_length!r}.")
        shortest = max(1, math.ceil(context_length / 24))
        longest = max(shortest, context_length // 12)

        def padding_then_distance_from_16_patches(patch_length: int) -> tuple[int, int, int]:
            num_patches = math.ceil(context_length / patch_length)
            return num_patches * patch_length - context_length, abs(num_patches - 16), patch_length

        return min(range(shortest, longest + 1), key=padding_then_distance_from_16_patches)

    @property
    def num_patches(self) -> int:
        """Patches per window, counting a zero-padded last patch: `ceil(context_length / patch_length)`."""
        return -(-self.context_length // self.patch_length)

    @property
    def padded_length(self) -> int:
        """Steps the patches cover, `context_length` plus the zero padding at the end that completes the last patch."""
        return self.num_patches * self.patch_length

    @property
    def num_masked_patches(self) -> int:
        """Patches hidden from the online encoder per window (TimeMAE: `int(mask_ratio * num_patches)`)."""
        return int(self.mask_ratio * self.num_patches)

    @property
    def encoded_channels(self) -> int:
        """Channels of each window the encoder reads: 1 with `channel_independent` (every channel is a window of its
        own), else `num_input_channels`."""
        return 1 if self.channel_independent else self.num_input_channels

    @property
    def step_channels(self) -> int:
        """Values the patch embedding reads per step: `encoded_channels`, twice as many with `first_difference_view`."""
        return self.encoded_channels * (2 if self.first_difference_view else 1)

    @property
    def pooled_size(self) -> int:
        """Size of the series representation (`pooler_output`): `num_input_channels * hidden_size` for a
        channel-independent model with `channel_pooling="concat"`, else `hidden_size`."""
        if self.channel_independent and self.channel_pooling == "concat":
            return self.num_input_channels * self.hidden_size
        return self.hidden_size

    def validate(self):
        """Raise a `ValueError` naming the field to change when the combination cannot build a model."""
        for name in (
            "num_input_channels",
            "context_length",
            "patch_length",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "codebook_size",
            "num_regressor_layers",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"`hidden_size` ({self.hidden_size}) must be a multiple of `num_attention_heads` "
                f"({self.num_attention_heads}): change one of them, e.g. num_attention_heads="
                f"{_largest_divisor_at_most(self.hidden_size, self.num_attention_heads)}."
            )
        if self.patch_length > self.context_length:
            raise ValueError(
                f"`patch_length` ({self.patch_length}) is longer than `context_length` ({self.context_length}): "
                "use a patch_length of at most context_length."
            )
        self.validate_levers()
        if self.num_patches < 2:
            raise ValueError(
                f"context_length={self.context_length} with patch_length={self.patch_length} gives "
                f"{self.num_patches} patch; masked pre-training needs at least 2. Use a shorter patch_length."
            )
        num_masked = self.num_masked_patches
        if not 0 < num_masked < self.num_patches:
            raise ValueError(
                f"mask_ratio={self.mask_ratio} masks {num_masked} of {self.num_patches} patches; it must leave at "
                f"least one patch visible and mask at least one: choose mask_ratio in "
                f"[{1 / self.num_patches:.3f}, {1 - 1 / self.num_patches:.3f}]."
            )
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"`momentum` must be in [0, 1], got {self.momentum}.")
        if not 0.0 <= self.mcc_label_smoothing < 1.0:
            raise ValueError(f"`mcc_label_smoothing` must be in [0, 1), got {self.mcc_label_smoothing}.")
        if self.max_position_embeddings < self.num_patches:
            raise ValueError(
                f"`max_position_embeddings` ({self.max_position_embeddings}) is smaller than the number of patches "
                f"({self.num_patches}): raise it or use a longer patch_length."
            )
        if (self.channel_mean is None) != (self.channel_std is None):
            raise ValueError("Give both `channel_mean` and `channel_std` (input normalisation), or neither.")
        if self.channel_mean is not None:
            for name in ("channel_mean", "channel_std"):
                if len(getattr(self, name)) != self.num_input_channels:
                    raise ValueError(
                        f"`{name}` has {len(getattr(self, name))} values but num_input_channels="
                        f"{self.num_input_channels}: give one value per channel (with `channel_mean` and "
                        "`channel_std` as keywords beside `num_input_channels`, or None for both)."
                    )
            if any(not std > 0 for std in self.channel_std):
                raise ValueError(f"`channel_std` must be positive for every channel, got {self.channel_std}.")

    def validate_levers(self):
        """The options beside TimeMAE's own behaviour: per-window scaling, channel independence, resizing and the
        first-difference view."""
        if self.scaling not in SCALINGS:
            raise ValueError(
                f"`scaling` must be None (dataset channel statistics only) or 'std' (each window standardised by its "
                f"own statistics), got {self.scaling!r}."
            )
        if self.window_statistics_as_features and self.scaling != "std":
            raise ValueError(
                "`window_statistics_as_features=True` gives back the statistics that per-window scaling removes; it "
                "needs `scaling='std'`. Set scaling='std' or drop window_statistics_as_features."
            )
        for name in ("channel_independent", "resize_to_context_length", "first_difference_view"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"`{name}` must be True or False, got {getattr(self, name)!r}.")
        if self.channel_pooling not in CHANNEL_POOLINGS:
            raise ValueError(
                f"`channel_pooling` must be one of {CHANNEL_POOLINGS} (how a channel-independent model pools its "
                f"channels), got {self.channel_pooling!r}."
            )
        if self.channel_pooling != "concat" and not self.channel_independent:
            raise ValueError(
                f"`channel_pooling={self.channel_pooling!r}` pools the channels of a channel-independent model; this "
                "one encodes all channels together. Set channel_independent=True or drop channel_pooling."
            )


SCALINGS = (None, "std")
CHANNEL_POOLINGS = ("concat", "mean")
# Options that lost on HAR's validation split (benchmarks/har/har_gap.py) and left the model; commit 9055664, the one
# the study's record names, still has them. Saved configs carry them at these values, which change nothing: any other
# value would have built another model, so it is refused rather than ignored. The conv stem's own sizes
# (`conv_stem_*`) only shaped that stem and are dropped with it.
REMOVED_OPTIONS = {
    # name: (the value that changes nothing, what another value asked for, its score; the baseline's was 88.90)
    "patch_embedding_type": ("linear", "the conv patch-embedding stem", 87.82),
    "spectral_loss_weight": (0.0, "the spectral loss", 88.86),
    "patch_stride": ("patch_length", "overlapping patches", 81.00),
}
REMOVED_WITH_THE_CONV_STEM = ("conv_stem_channels", "conv_stem_kernel_size", "conv_stem_dilations")


def refuse_removed_options(kwargs: dict, patch_length: int | None):
    """Drop the removed options from a config's extra keywords, or raise when one asks for what was removed."""
    for name in REMOVED_WITH_THE_CONV_STEM:
        kwargs.pop(name, None)
    for name, (harmless, what, score) in REMOVED_OPTIONS.items():
        harmless = patch_length if harmless == "patch_length" else harmless
        value = kwargs.pop(name, None)
        if value is not None and value != harmless:
            raise ValueError(
                f"`{name}={value!r}` asks for {what}: the option was removed after it lost on HAR's validation split "
                f"(score {score:.2f} against the baseline's 88.90; benchmarks/results/har_gap.json). Drop `{name}`; "
                "commit 9055664 still has it."
            )


def _largest_divisor_at_most(number: int, limit: int) -> int:
    return max(d for d in range(1, min(number, limit) + 1) if number % d == 0)


__all__ = ["TimeMAEConfig"]
