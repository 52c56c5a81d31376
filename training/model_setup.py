"""Build the model a training script asked for: from a TimeMAE checkpoint, from a BERT checkpoint, or new.

A TimeMAE checkpoint is a folder, a Hub id, or the name of a model shipped inside the package (`timemae-base`, the
universal encoder). Every wrong combination fails here, before training, with the argument to change.
"""

import copy
import logging

from arguments import ARCHITECTURE_FIELDS, BEHAVIOUR_FIELDS, ModelArguments  # beside this file
from datasets import Dataset, DatasetDict
from transformers import AutoConfig

from timemae_hf import TimeMAEConfig, TimeMAEForSequenceClassification, TimeMAEPreTrainedModel
from timemae_hf.data import compute_channel_statistics, series_shape
from timemae_hf.shipped import resolve_model_name_or_path
from timemae_hf.training import new_model

logger = logging.getLogger(__name__)


def read_checkpoint_config(path: str, argument: str):
    """The config of the checkpoint at `path` (a folder or Hub id), with an error naming `argument` if unreadable."""
    try:
        return AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{argument} {path!r} is not a readable checkpoint ({error}). Give a folder holding config.json and "
            "model.safetensors, or a Hub id."
        ) from error


def checkpoint_location(path: str, argument: str = "--model_name_or_path") -> str:
    """
    Where the checkpoint `path` is read from: a folder as it is; the name of a model shipped with the package
    (`"timemae-base"`) as its folder inside the package; anything else unchanged (a Hub id).
    """
    try:
        return resolve_model_name_or_path(path)
    except OSError as error:  # a shipped model missing from this installation
        raise ValueError(f"{argument} {path!r}: {error}") from error


def check_timemae_checkpoint(path: str, argument: str = "--model_name_or_path") -> TimeMAEConfig:
    """Read `path`'s config (a folder, Hub id or shipped model's name) and make sure it is a TimeMAE checkpoint, not
    e.g. a plain BERT folder."""
    config = read_checkpoint_config(checkpoint_location(path, argument), argument)
    if config.model_type != TimeMAEConfig.model_type:
        hint = (
            " To start a new TimeMAE model from this BERT encoder, pass it as --bert_model_name_or_path instead."
            if config.model_type == "bert"
            else ""
        )
        raise ValueError(
            f"{argument} {path!r} is a {config.model_type!r} checkpoint, not a TimeMAE one (model_type "
            f"'{TimeMAEConfig.model_type}'): give a folder written by training/pretrain.py or training/finetune.py."
            f"{hint}"
        )
    return config


def build_model(
    model_class: type[TimeMAEPreTrainedModel], model_args: ModelArguments, splits: DatasetDict, **config_kwargs
) -> TimeMAEPreTrainedModel:
    """
    `model_class` built as `model_args` says, for windows shaped like the `past_values` of `splits`: the longest
    window of any split sets `context_length` (in UEA's JapaneseVowels test series are longer than every train one;
    only shapes are read, never labels) and the channels `num_input_channels` (shorter windows are padded by the
    collator and the model, and count as unobserved).

    - `--model_name_or_path`: loads the TimeMAE checkpoint (a folder, a Hub id, or `timemae-base`, the universal
      encoder shipped with the package); only behaviour fields (dropouts, mask ratio, loss weights, momentum, channel
      pooling) may be changed. The data must have the checkpoint's channels, unless it encodes each channel alone
      (`channel_independent`: then it is loaded for the data's channel count), and windows no longer than its
      `context_length`, unless it resizes every window to that length (`resize_to_context_length`). A pre-training
      model loaded from a checkpoint without momentum encoder (e.g. a fine-tuned one) starts its momentum encoder as
      a copy of the encoder.
    - `--bert_model_name_or_path`: a new model whose encoder is that BERT's (`from_bert`).
    - neither: a new randomly initialised model.

    New models get `patch_length` from `TimeMAEConfig.default_patch_length` when it is not given (logged, with the
    padding it implies), and `channel_mean`/`channel_std` from the train split when `--normalize_channels`.
    `config_kwargs` are further config fields, e.g. `num_labels`, `id2label`, `label2id`.
    """
    context_length, num_input_channels = data_shape(splits)
    architecture = model_args.config_values(ARCHITECTURE_FIELDS)
    behaviour = model_args.config_values(BEHAVIOUR_FIELDS)

    if model_args.model_name_or_path is not None:
        path = model_args.model_name_or_path
        config = check_timemae_checkpoint(path)
        check_data_fits_checkpoint(config, path, context_length, num_input_channels)
        conflicts = {name: value for name, value in architecture.items() if getattr(config, name) != value}
        if conflicts:
            raise ValueError(
                f"{sorted(conflicts)} = {conflicts} differ from the checkpoint {path!r} "
                f"({ {name: getattr(config, name) for name in conflicts} }): a checkpoint's shape is fixed, and so is "
                "what its weights learnt to read (channels alone or together, resized or padded windows, a first-"
                "difference view). Drop these arguments, or leave --model_name_or_path unset to train a new model."
            )
        check_channel_pooling(config, path, behaviour.get("channel_pooling"))
        if model_class is TimeMAEForSequenceClassification:
            check_classification_head_fits(config, path, num_input_channels, behaviour.get("channel_pooling"))
        overrides = checkpoint_overrides(
            config, path, num_input_channels, model_args.normalize_channels, splits["train"]
        )
        # (TimeMAEForPreTraining copies the encoder into a momentum encoder the checkpoint lacks, and says so.)
        return model_class.from_pretrained(checkpoint_location(path), **{**overrides, **behaviour, **config_kwargs})

    statistics = compute_channel_statistics(splits["train"]) if model_args.normalize_channels else {}
    if model_args.bert_model_name_or_path is not None:
        path = model_args.bert_model_name_or_path
        bert_config = read_checkpoint_config(path, "--bert_model_name_or_path")
        if bert_config.model_type == TimeMAEConfig.model_type:
            raise ValueError(
                f"--bert_model_name_or_path {path!r} is a TimeMAE checkpoint: pass it as --model_name_or_path instead."
            )
    return new_model(
        model_class,
        context_length,
        num_input_channels,
        model_args.bert_model_name_or_path,
        **architecture,
        **{**statistics, **behaviour, **config_kwargs},
    )


def data_shape(splits: DatasetDict) -> tuple[int, int]:
    """(longest window of any split, channels of the train split) of `splits`' `past_values`."""
    shapes = [series_shape(split) for split in splits.values()]
    return max(length for length, _ in shapes), shapes[0][1]


def check_data_fits_checkpoint(config: TimeMAEConfig, path: str, context_length: int, num_input_channels: int):
    """
    Fail, naming what to change, when the data's channels or window length do not fit the checkpoint at `path`.

    A `channel_independent` checkpoint takes any channel count, and one that resizes (`resize_to_context_length`) any
    window length: both are logged, since they change what the model reads.
    """
    if num_input_channels != config.num_input_channels:
        if not config.channel_independent:
            raise ValueError(
                f"The data has {num_input_channels} channels but the checkpoint --model_name_or_path {path!r} takes "
                f"{config.num_input_channels}: give data with the checkpoint's channels (--past_values_column, "
                "--train_file, --dataset_name), or leave --model_name_or_path unset to train a new model."
            )
        logger.info(
            f"The checkpoint {path!r} encodes each channel alone (channel_independent): it is loaded for the data's "
            f"{num_input_channels} channels (it was saved with {config.num_input_channels})."
        )
    if config.resize_to_context_length:
        if context_length != config.context_length:
            logger.info(
                f"The checkpoint {path!r} resizes every window (resize_to_context_length): each window's observed "
                f"part is resampled to its context_length of {config.context_length} steps (the data's windows have "
                f"up to {context_length})."
            )
        return
    if context_length > config.context_length:
        raise ValueError(
            f"The data has windows of up to {context_length} steps but the checkpoint --model_name_or_path {path!r} "
            f"takes at most {config.context_length} (its context_length): cut the windows to "
            f"{config.context_length} steps, or leave --model_name_or_path unset to train a new model."
        )
    if context_length < config.context_length:
        logger.info(
            f"The data's windows (up to {context_length} steps) are shorter than the checkpoint's context_length "
            f"{config.context_length}: the model pads them, and the padding counts as unobserved."
        )


def checkpoint_overrides(
    config: TimeMAEConfig,
    path: str,
    num_input_channels: int,
    normalize_channels: bool | None = None,
    train_split: Dataset | None = None,
) -> dict:
    """
    The config values the checkpoint at `path` is loaded with for data of `num_input_channels` channels (after
    `check_data_fits_checkpoint`), as `TimeMAEClassifier` loads a pre-trained encoder.

    A checkpoint that encodes its channels together keeps them and its channel statistics; `normalize_channels`
    (`--normalize_channels`) must then be unset or agree with it. A `channel_independent` one is loaded with the
    data's channel count, and its `channel_mean`/`channel_std` belong to the data it was trained on, not to its
    weights: `normalize_channels=True` standardises with `train_split`'s statistics instead, `False` with none, and
    unset keeps the checkpoint's when they are of the data's channel count (dropped, and logged, when not).
    """
    has_statistics = config.channel_mean is not None
    if not config.channel_independent:
        if normalize_channels is not None and normalize_channels != has_statistics:
            raise ValueError(
                f"The checkpoint {path!r} was trained {'with' if has_statistics else 'without'} channel "
                f"normalisation; --normalize_channels {normalize_channels} would change its inputs. Drop the argument."
            )
        return {}
    overrides = {"num_input_channels": num_input_channels}
    if normalize_channels:
        overrides.update(compute_channel_statistics(train_split))
        logger.info("Channels standardised with the train split's mean and std (--normalize_channels true).")
    elif has_statistics and (normalize_channels is False or len(config.channel_mean) != num_input_channels):
        overrides.update(channel_mean=None, channel_std=None)
        reason = (
            "--normalize_channels false"
            if normalize_channels is False
            else f"they are of {len(config.channel_mean)} channels, the data has {num_input_channels}"
        )
        logger.info(f"The channel statistics of the checkpoint {path!r} are not used ({reason}).")
    return overrides


def check_channel_pooling(config: TimeMAEConfig, path: str, channel_pooling: str | None):
    """Fail when `--channel_pooling` asks a checkpoint that encodes its channels together to pool them."""
    if channel_pooling is not None and channel_pooling != "concat" and not config.channel_independent:
        raise ValueError(
            f"--channel_pooling {channel_pooling} pools the channels of a channel-independent checkpoint, but "
            f"{path!r} encodes its channels together: drop --channel_pooling."
        )


def check_classification_head_fits(
    config: TimeMAEConfig, path: str, num_input_channels: int, channel_pooling: str | None = None
):
    """
    Fail when the checkpoint at `path` holds a trained classification head that the data's `num_input_channels` or
    `channel_pooling` would give another input size: a channel-independent model with `channel_pooling="concat"`
    reads `num_input_channels * hidden_size` features.
    """
    if TimeMAEForSequenceClassification.__name__ not in (config.architectures or []):
        return  # a pre-trained checkpoint: the head is new anyway
    loaded = copy.copy(config)
    loaded.num_input_channels, loaded.channel_pooling = num_input_channels, channel_pooling or config.channel_pooling
    if loaded.pooled_size != config.pooled_size:
        raise ValueError(
            f"The checkpoint {path!r} is a classifier whose head reads {config.pooled_size} features "
            f"({config.num_input_channels} channels, channel_pooling {config.channel_pooling!r}); this data and "
            f"these arguments give it {loaded.pooled_size} ({num_input_channels} channels, channel_pooling "
            f"{loaded.channel_pooling!r}). Start from the pre-trained checkpoint it was fine-tuned from, or give data "
            "with its channels and drop --channel_pooling."
        )
