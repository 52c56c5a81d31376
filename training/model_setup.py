"""Build the model a training script asked for: from a TimeMAE checkpoint, from a BERT checkpoint, or new.

Every wrong combination fails here, before training, with the argument to change.
"""

import logging

from arguments import ARCHITECTURE_FIELDS, BEHAVIOUR_FIELDS, ModelArguments  # beside this file
from datasets import DatasetDict
from transformers import AutoConfig

from timemae_hf import TimeMAEConfig, TimeMAEPreTrainedModel
from timemae_hf.data import compute_channel_statistics, series_shape
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


def check_timemae_checkpoint(path: str, argument: str = "--model_name_or_path") -> TimeMAEConfig:
    """Read `path`'s config and make sure it is a TimeMAE checkpoint, not e.g. a plain BERT folder."""
    config = read_checkpoint_config(path, argument)
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

    - `--model_name_or_path`: loads the TimeMAE checkpoint; only behaviour fields (dropouts, mask ratio, loss weights,
      momentum) may be changed, and the data must have the checkpoint's channels and windows no longer than its
      `context_length`. A pre-training model loaded from a checkpoint without momentum encoder (e.g. a fine-tuned
      one) starts its momentum encoder as a copy of the encoder.
    - `--bert_model_name_or_path`: a new model whose encoder is that BERT's (`from_bert`).
    - neither: a new randomly initialised model.

    New models get `patch_length` from `TimeMAEConfig.default_patch_length` when it is not given (logged, with the
    padding it implies), and `channel_mean`/`channel_std` from the train split when `--normalize_channels`.
    `config_kwargs` are further config fields, e.g. `num_labels`, `id2label`, `label2id`.
    """
    shapes = [series_shape(split) for split in splits.values()]
    context_length, num_input_channels = max(length for length, _ in shapes), shapes[0][1]
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
                f"({ {name: getattr(config, name) for name in conflicts} }): a checkpoint's shape is fixed. Drop these "
                "arguments, or leave --model_name_or_path unset to train a new model."
            )
        normalized = config.channel_mean is not None
        if model_args.normalize_channels is not None and model_args.normalize_channels != normalized:
            raise ValueError(
                f"The checkpoint {path!r} was trained {'with' if normalized else 'without'} channel normalisation; "
                f"--normalize_channels {model_args.normalize_channels} would change its inputs. Drop the argument."
            )
        # (TimeMAEForPreTraining copies the encoder into a momentum encoder the checkpoint lacks, and says so.)
        return model_class.from_pretrained(path, **behaviour, **config_kwargs)

    statistics = compute_channel_statistics(splits["train"]) if model_args.normalize_channels else {}
    if model_args.bert_model_name_or_path is not None:
        path = model_args.bert_model_name_or_path
        bert_config = read_checkpoint_config(path, "--bert_model_name_or_path")
        if bert_config.model_type == TimeMAEConfig.model_type:
            raise ValueError(
                f"--bert_model_name_or_path {path!r} is a TimeMAE checkpoint: pass it as --model_name_or_path instead."
            )
    return new_model(
        model_class, context_length, num_input_channels, model_args.bert_model_name_or_path,
        **architecture, **{**statistics, **behaviour, **config_kwargs},
    )  # fmt: skip


def check_data_fits_checkpoint(config: TimeMAEConfig, path: str, context_length: int, num_input_channels: int):
    """Fail, naming what to change, when the data's channels or window length do not fit the checkpoint at `path`."""
    if num_input_channels != config.num_input_channels:
        raise ValueError(
            f"The data has {num_input_channels} channels but the checkpoint --model_name_or_path {path!r} takes "
            f"{config.num_input_channels}: give data with the checkpoint's channels (--past_values_column, "
            "--train_file, --dataset_name), or leave --model_name_or_path unset to train a new model."
        )
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
