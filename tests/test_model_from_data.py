"""The scripts and `TimeMAEClassifier` build a new model from data the same way (`new_model`), with one small-data
batch policy (`small_data_batch_size`)."""

import numpy as np
import pytest
import torch
from arguments import ModelArguments  # training/, beside the scripts (conftest puts it on sys.path)
from data_setup import fit_batch_size_to_split
from datasets import Dataset, DatasetDict
from model_setup import build_model
from transformers import TrainingArguments

from timemae_hf import TimeMAEClassifier, TimeMAEForSequenceClassification
from timemae_hf.estimator import training_batch_size
from timemae_hf.training import small_data_batch_size

SIZES = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32}


def test_estimator_and_scripts_build_the_same_model_from_the_same_windows():
    windows = np.random.default_rng(0).normal(size=(12, 25, 3)).astype(np.float32)
    windows[2, 20:] = np.nan  # a shorter series
    classes = np.array(["rest", "walk"])
    torch.manual_seed(0)
    from_estimator = TimeMAEClassifier(pretrained_model=None, **SIZES)._new_classifier(windows, classes)
    splits = DatasetDict(train=Dataset.from_dict({"past_values": windows.tolist()}, split="train"))
    torch.manual_seed(0)
    from_scripts = build_model(
        TimeMAEForSequenceClassification,
        ModelArguments(normalize_channels=True, **SIZES),
        splits,
        num_labels=2,
        id2label=from_estimator.config.id2label,
        label2id=from_estimator.config.label2id,
    )
    for field in ("context_length", "num_input_channels", "patch_length", "channel_mean", "channel_std", *SIZES):
        assert getattr(from_estimator.config, field) == pytest.approx(getattr(from_scripts.config, field)), field
    assert from_estimator.config.patch_length == 2  # TimeMAEConfig.default_patch_length(25)


@pytest.mark.parametrize("num_windows, per_step", [(5, 1), (40, 1), (40, 4), (1000, 2)])
def test_scripts_and_estimator_lower_the_batch_by_the_same_policy(num_windows, per_step, tmp_path):
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=64,
        use_cpu=True,
        gradient_accumulation_steps=per_step,
        report_to="none",
    )
    fit_batch_size_to_split(args, num_windows)
    assert args.per_device_train_batch_size == small_data_batch_size(64, num_windows, per_step)
    assert training_batch_size(64, num_windows) == small_data_batch_size(64, num_windows, 4)
    assert small_data_batch_size(64, num_windows, 4) == max(1, min(64, num_windows // 4))


def test_the_scripts_build_a_new_model_with_the_model_options_from_their_arguments():
    windows = np.random.default_rng(0).normal(size=(6, 32, 3)).astype(np.float32)
    splits = DatasetDict(train=Dataset.from_dict({"past_values": windows.tolist()}, split="train"))
    levers = {
        "patch_length": 8,
        "scaling": "std",
        "window_statistics_as_features": True,
    }
    model = build_model(TimeMAEForSequenceClassification, ModelArguments(**SIZES, **levers), splits, num_labels=2)
    assert {name: getattr(model.config, name) for name in levers} == levers
    assert model.timemae.embeddings.patch_embeddings.statistics_projection is not None

    plain = build_model(TimeMAEForSequenceClassification, ModelArguments(**SIZES, scaling="none"), splits, num_labels=2)
    assert (plain.config.scaling, plain.config.window_statistics_as_features) == (None, False)


def test_a_checkpoints_scaling_cannot_be_changed_by_an_argument(tmp_path):
    windows = np.random.default_rng(0).normal(size=(6, 32, 3)).astype(np.float32)
    splits = DatasetDict(train=Dataset.from_dict({"past_values": windows.tolist()}, split="train"))
    build_model(
        TimeMAEForSequenceClassification, ModelArguments(**SIZES, scaling="std"), splits, num_labels=2
    ).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="scaling.*a checkpoint's shape is fixed"):
        build_model(
            TimeMAEForSequenceClassification,
            ModelArguments(model_name_or_path=str(tmp_path), scaling="none"),
            splits,
            num_labels=2,
        )
