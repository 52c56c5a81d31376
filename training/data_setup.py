"""The training scripts' data: load the splits a run asks for, check them against the run, and fit the run to them.

Every check here runs before a model is built or an output folder is created, and names the argument to change.
"""

from __future__ import annotations

import logging
import math
import os
from typing import TYPE_CHECKING

from datasets import DatasetDict, IterableDataset, IterableDatasetDict
from transformers import TrainingArguments

from timemae_hf.data import (
    dataset_display_name,
    default_har_path,
    load_har,
    load_timeseries_dataset,
    synthetic_series_dataset,
    synthetic_series_stream,
    validation_split_description,
)
from timemae_hf.data.synthetic import SyntheticSeriesConfig
from timemae_hf.training import small_data_batch_size
from timemae_hf.training.model_card import TrainingDataCard, har_training_data

if TYPE_CHECKING:  # only annotations: importable as `training.data_setup` from the repository root too
    from arguments import DataTrainingArguments


logger = logging.getLogger(__name__)

SPLIT_LIMITS = {"train": "max_train_samples", "validation": "max_eval_samples", "test": "max_test_samples"}
SPLIT_ARGUMENTS = {"train": "--train_file", "validation": "--validation_file", "test": "--test_file"}


def load_splits(
    data_args: DataTrainingArguments, seed: int, streaming: bool = False, stream_start: int = 0
) -> DatasetDict | IterableDatasetDict:
    """
    The "train", "validation" and (when the data has one) "test" splits the arguments name, each cut to its
    `max_*_samples` by a seeded shuffle (files are often ordered by class, so a plain head would hold few classes).

    - `--dataset_name har` (the default): UCI HAR from `--data_dir`, as `timemae_hf.data.load_har` reads it.
    - `--dataset_name synthetic`: the generated corpus of `timemae_hf.data.synthetic`, seeded by `seed`: an endless
      "train" stream from series `stream_start` on, and a fixed "validation" set drawn from a separate stream.
    - otherwise `timemae_hf.data.load_timeseries_dataset` on `--dataset_name` or `--train_file` (+ validation/test
      files), with the column names, the group column and the validation fraction of `data_args`.

    `streaming` (pre-training only) returns an `IterableDatasetDict`; its `max_*_samples` take the first windows.
    Raises `ValueError` naming the argument to change when the data cannot be read, before any model is built.
    """
    if data_args.is_har:
        splits = _load_har(data_args)
    elif data_args.is_synthetic:
        splits = _load_synthetic(data_args, seed, stream_start)
    else:
        splits = _load_timeseries(data_args, seed, streaming)
    for split, limit_name in SPLIT_LIMITS.items():
        limit = getattr(data_args, limit_name)
        if limit is None or split not in splits:
            continue
        if isinstance(splits[split], IterableDataset):
            splits[split] = splits[split].take(limit)
        elif limit < len(splits[split]):
            splits[split] = splits[split].shuffle(seed=seed).select(range(limit))
    return splits


def _load_har(data_args: DataTrainingArguments) -> DatasetDict:
    data_dir = data_args.data_dir or default_har_path()
    config_kwargs = {}
    if data_args.dataset_config_name == "raw":
        config_kwargs["validation_subject_fraction"] = data_args.validation_fraction
    try:
        return load_har(data_dir, config_name=data_args.dataset_config_name, **config_kwargs)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{har_source(data_args)} does not hold readable HAR data ({error}) Point --data_dir (or "
            "$TIMEMAE_HAR_PATH) at 'UCI HAR Dataset.zip' or its extracted folder, or give your own data with "
            "--dataset_name or --train_file."
        ) from error


def _load_synthetic(data_args: DataTrainingArguments, seed: int, stream_start: int) -> IterableDatasetDict:
    config = SyntheticSeriesConfig(length=data_args.synthetic_length, seed=seed)
    return IterableDatasetDict(
        train=synthetic_series_stream(config, start_index=stream_start),
        validation=synthetic_series_dataset(data_args.synthetic_validation_series, config),
    )


def har_source(data_args: DataTrainingArguments) -> str:
    """Where HAR is read from: --data_dir, else $TIMEMAE_HAR_PATH, else the official download."""
    data_dir = data_args.data_dir or default_har_path()
    return f"--data_dir {data_dir!r}" if data_dir else "the official UCI download (no --data_dir, no $TIMEMAE_HAR_PATH)"


def _load_timeseries(data_args: DataTrainingArguments, seed: int, streaming: bool):
    label_column = data_args.label_column
    if streaming and label_column is not None:
        # Pre-training needs no labels, and a stream's classes cannot be counted without reading all of it.
        logger.info(
            f"--streaming: the label column {label_column!r}, if the data has one, is left aside: pre-training reads "
            "only the series, and a stream gets no linear probe."
        )
        label_column = None
    data_files = None
    if data_args.train_file is not None:
        data_files = {
            split: path
            for split, path in (
                ("train", data_args.train_file),
                ("validation", data_args.validation_file),
                ("test", data_args.test_file),
            )
            if path is not None
        }
    return load_timeseries_dataset(
        None if data_files else data_args.dataset_name,
        data_files=data_files,
        name=data_args.dataset_config_name,
        past_values_column=data_args.past_values_column,
        label_column=label_column,
        group_column=data_args.group_column,
        validation_fraction=data_args.validation_fraction,
        seed=seed,
        streaming=streaming,
    )


def check_splits(
    splits: DatasetDict | IterableDatasetDict,
    training_args: TrainingArguments,
    data_args: DataTrainingArguments,
    needs_labels: bool,
):
    """
    Fail before training when the run needs a split (or labels) that the data lacks: `--do_train` needs "train",
    `--do_eval` "validation", `--do_predict` "test"; `needs_labels` (fine-tuning, the probe) needs a `labels` column.
    """
    needed = {"train": True, "validation": training_args.do_eval, "test": training_args.do_predict}
    for split, is_needed in needed.items():
        if is_needed and split not in splits:
            flag = {"validation": "--do_eval", "test": "--do_predict"}.get(split, "--do_train")
            source = "" if data_args.is_har else f" or give {SPLIT_ARGUMENTS[split]}"
            raise ValueError(
                f"{flag} needs a '{split}' split, but the data ({data_source(data_args)}) has only "
                f"{sorted(splits)}: drop {flag}{source}."
            )
    if needs_labels:
        for split in splits:
            if "labels" not in (splits[split].features or {}):
                raise ValueError(
                    f"The '{split}' split of {data_source(data_args)} has no labels (column "
                    f"{data_args.label_column!r}): name the column holding the classes with --label_column."
                )


def data_source(data_args: DataTrainingArguments) -> str:
    """The data as the user named it, for messages."""
    if data_args.is_har:
        return f"HAR from {har_source(data_args)}"
    if data_args.is_synthetic:
        return "the synthetic corpus (--dataset_name synthetic)"
    if data_args.train_file:
        return f"--train_file {data_args.train_file!r}"
    return f"--dataset_name {data_args.dataset_name!r}"


def fit_batch_size_to_split(training_args: TrainingArguments, num_train_windows: int):
    """
    Lower `per_device_train_batch_size` (logged) when one global batch would be larger than the train split
    (`small_data_batch_size`): such a "batch" is the whole split, so the run would take one step per epoch with fewer
    windows than it asked for. Fails when there are fewer windows than processes.
    """
    per_step = training_args.world_size * training_args.gradient_accumulation_steps
    if num_train_windows < per_step:
        raise ValueError(
            f"The train split has {num_train_windows} windows, fewer than the {training_args.world_size} processes x "
            f"{training_args.gradient_accumulation_steps} accumulation steps of one optimizer step: use fewer "
            "processes or a smaller --gradient_accumulation_steps, or more data (--max_train_samples)."
        )
    batch_size = small_data_batch_size(training_args.per_device_train_batch_size, num_train_windows, per_step)
    if batch_size != training_args.per_device_train_batch_size:
        logger.warning(
            f"--per_device_train_batch_size {training_args.per_device_train_batch_size} x {per_step} exceeds the "
            f"{num_train_windows} train windows: lowered to {batch_size}."
        )
        training_args.per_device_train_batch_size = batch_size


def steps_per_epoch(training_args: TrainingArguments, num_train_windows: int) -> int:
    """Optimizer steps of one epoch over `num_train_windows` (Trainer keeps the last, smaller batch)."""
    batches = math.ceil(num_train_windows / (training_args.per_device_train_batch_size * training_args.world_size))
    return max(1, batches // training_args.gradient_accumulation_steps)


def apply_min_train_steps(training_args, num_train_windows: int):
    """
    With `--min_train_steps N` (and no `--max_steps`), raise `num_train_epochs` (logged) so that at least N optimizer
    steps run: "30 epochs" is 1700 steps on HAR but 30 on 40 windows, too few for fine-tuning to converge.
    """
    min_steps = getattr(training_args, "min_train_steps", 0)
    if not min_steps or training_args.max_steps > 0:
        return
    per_epoch = steps_per_epoch(training_args, num_train_windows)
    needed_epochs = math.ceil(min_steps / per_epoch)
    if training_args.num_train_epochs < needed_epochs:
        logger.warning(
            f"{training_args.num_train_epochs:g} epochs of {per_epoch} steps ({num_train_windows} windows) are fewer "
            f"than --min_train_steps {min_steps}: training {needed_epochs} epochs instead."
        )
        training_args.num_train_epochs = float(needed_epochs)


def training_data_card(
    splits: DatasetDict | IterableDatasetDict, data_args: DataTrainingArguments, refit: bool = False
) -> TrainingDataCard:
    """What the model card says about `splits` (as loaded, before `refit_splits`): name, channels, validation split."""
    if data_args.is_synthetic:
        return TrainingDataCard(
            name="synthetic series (timemae_hf.data.synthetic)",
            validation_split=f"{data_args.synthetic_validation_series} series of a separate generated stream",
            description=(
                "a univariate series generated on the fly: Gaussian-process samples of composed kernels, their "
                "mixtures through random causal graphs, sinusoids, AR(2) noise, random walks, square and sawtooth "
                "waves, piecewise trends and spike trains, at random scales and offsets; no real data"
            ),
            tags=["synthetic-data"],
            limitations=(
                "Pre-trained on generated series only: no real recording was seen. How well its features serve a "
                "real data set is measured in the project's benchmarks, not guaranteed."
            ),
        )
    validation = validation_split_description(splits) if "validation" in splits else None
    num_train_windows = None if isinstance(splits["train"], IterableDataset) else len(splits["train"])
    if refit and "validation" in splits:
        num_train_windows += len(splits["validation"])
    if data_args.is_har:
        if data_args.dataset_config_name == "pt":  # TimeMAE's val.pt is a subset of train.pt: say it plainly
            validation = None
        return har_training_data(
            data_args.dataset_config_name, validation, num_train_windows=num_train_windows, refit=refit
        )
    name = dataset_display_name(splits)
    is_hub_id = data_args.train_file is None and not os.path.exists(data_args.dataset_name)
    return TrainingDataCard(
        name=name,
        validation_split=validation,
        hub_id=data_args.dataset_name if is_hub_id else None,
        num_train_windows=num_train_windows,
        refit=refit,
    )
