"""HAR splits for the training scripts: load, check, subsample."""

from datasets import Dataset, DatasetDict, concatenate_datasets

from ..data import default_har_path, load_har
from .arguments import DataTrainingArguments


SPLIT_LIMITS = {"train": "max_train_samples", "validation": "max_eval_samples", "test": "max_test_samples"}


def load_har_splits(data_args: DataTrainingArguments, seed: int) -> DatasetDict:
    """
    HAR "train", "validation" (held-out train subjects) and "test" splits, each cut to its `max_*_samples` by a
    seeded shuffle (the files are ordered by subject and activity, so a plain head would hold few classes). With
    `--refit`, "train" is train + validation and there is no "validation" split.

    Raises `ValueError` naming `--data_dir` when the data cannot be read, before any model is built.
    """
    data_dir = data_args.data_dir or default_har_path()
    config_kwargs = {}
    if data_args.dataset_config_name == "raw":
        config_kwargs["validation_subject_fraction"] = data_args.validation_subject_fraction
    try:
        splits = load_har(data_dir, config_name=data_args.dataset_config_name, **config_kwargs)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"--data_dir {data_dir!r} does not hold readable HAR data ({error}) Point --data_dir (or "
            "$TIMEMAE_HAR_PATH) "
            "at 'UCI HAR Dataset.zip' or its extracted folder."
        ) from error
    for split, limit_name in SPLIT_LIMITS.items():
        limit = getattr(data_args, limit_name)
        if limit is not None and limit < len(splits[split]):
            splits[split] = splits[split].shuffle(seed=seed).select(range(limit))
    if data_args.refit:
        splits = refit_splits(splits)
    return splits


def refit_splits(splits: DatasetDict) -> DatasetDict:
    """Train on train + validation (`--refit`): the validation windows join the train split, which keeps its name."""
    refit = DatasetDict({"train": concatenate_datasets([splits["train"], splits["validation"]])})
    refit.update({name: split for name, split in splits.items() if name not in ("train", "validation")})
    return refit


def class_names(splits: DatasetDict) -> list[str]:
    """Activity names in label-id order, from the dataset's `labels` ClassLabel."""
    return list(splits["train"].features["labels"].names)


def label_config(names: list[str]) -> dict:
    """The config fields that name the classes: `num_labels`, `id2label`, `label2id`."""
    return {
        "num_labels": len(names),
        "id2label": dict(enumerate(names)),
        "label2id": {name: label for label, name in enumerate(names)},
    }


def stratified_subset(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """A seeded random `fraction` of `dataset` with the same class proportions (TimeMAE's label-fraction setting)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"--label_fraction must be in (0, 1], got {fraction}: e.g. 0.01, 0.05, 0.1 or 1.0.")
    if fraction == 1.0:
        return dataset
    num_classes = dataset.features["labels"].num_classes
    num_kept = int(fraction * len(dataset))  # what datasets' split keeps (it rounds a float train_size down)
    if num_kept < num_classes:
        raise ValueError(
            f"--label_fraction {fraction} keeps {num_kept} of {len(dataset)} train windows, fewer than the "
            f"{num_classes} classes: raise --label_fraction (or --max_train_samples)."
        )
    return dataset.train_test_split(train_size=fraction, stratify_by_column="labels", seed=seed)["train"]
