"""Build a new TimeMAE model from the shape of the data: the one builder the scripts and `TimeMAEClassifier` share."""

import logging
import math

from ..configuration_timemae import TimeMAEConfig
from ..modeling_timemae import TimeMAEPreTrainedModel

logger = logging.getLogger(__name__)


def describe_patching(context_length: int, patch_length: int) -> str:
    """How windows of `context_length` steps are cut into patches, and how much padding that takes."""
    num_patches = math.ceil(context_length / patch_length)
    padding = num_patches * patch_length - context_length
    return f"patch_length {patch_length}: windows of {context_length} steps become {num_patches} patches" + (
        f", the last padded with {padding} steps ({100 * padding / (num_patches * patch_length):.0f} % of the input)"
        if padding
        else ", no padding"
    )


def new_model(
    model_class: type[TimeMAEPreTrainedModel],
    context_length: int,
    num_input_channels: int,
    bert_model_name_or_path: str | None = None,
    **config_kwargs,
) -> TimeMAEPreTrainedModel:
    """
    A new `model_class` for windows of up to `context_length` steps of `num_input_channels` channels, its encoder
    copied from the BERT checkpoint `bert_model_name_or_path` or randomly initialised: the one place where the
    training scripts (`build_model`, training/model_setup.py) and `TimeMAEClassifier` build a model from data.
    `config_kwargs` are further config fields; a `patch_length` left out or None is
    `TimeMAEConfig.default_patch_length(context_length)`, logged with the padding it implies.
    """
    if config_kwargs.get("patch_length") is None:
        config_kwargs["patch_length"] = TimeMAEConfig.default_patch_length(context_length)
        logger.info(
            f"patch_length not given: TimeMAEConfig.default_patch_length({context_length}) = "
            f"{config_kwargs['patch_length']}"
        )
    logger.info(describe_patching(context_length, config_kwargs["patch_length"]))
    config_kwargs.update(context_length=context_length, num_input_channels=num_input_channels)
    if bert_model_name_or_path is not None:
        return model_class.from_bert(bert_model_name_or_path, **config_kwargs)
    return model_class(TimeMAEConfig(**config_kwargs))
