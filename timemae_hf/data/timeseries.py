"""Any labelled (or unlabelled) multivariate time series as TimeMAE's `DatasetDict`.

    from timemae_hf.data import load_timeseries_dataset, validation_split_description
    splits = load_timeseries_dataset(data_files={"train": "BasicMotions_TRAIN.ts", "test": "BasicMotions_TEST.ts"})
    splits["train"][0]["past_values"]            # (time, channels) float32, NaN = missing
    splits["train"].features["labels"].names     # ['Standing', 'Running', 'Walking', 'Badminton']
    validation_split_description(splits)         # 'stratified 20 % of train, seed 42'

Sources (see `load_timeseries_dataset`): a Hub id, a `save_to_disk` folder, a folder of
parquet/arrow/json/csv files, a folder of `.npz`/`.ts` files named by split, one file, or
`data_files={"train": ..., "validation": ..., "test": ...}`.

Column conventions for `datasets` formats (parquet, arrow, json, csv, Hub):
- `past_values` (or `past_values_column`): per row a (time, channels) nested list, or a flat
  list (univariate: one channel). In csv a cell holds that list JSON-encoded, e.g.
  `"[[0.1, 2.0], [0.3, 1.9]]"` or `"[0.1, 0.3, 0.2]"`; `null` / `NaN` = missing.
- `labels` (or `label_column`): class names (str) or integer labels, or a `ClassLabel`. With the
  default name and no such column the source is unlabelled (a pre-training corpus); a column named
  by the caller must exist.
"""

import json
import logging
import os
from dataclasses import dataclass

import datasets
import numpy as np
import pyarrow.compute

from .npz_format import read_npz_file
from .series_file import SeriesFile, check_series, file_stem, source_fingerprint
from .streaming import first_example, reading_stream
from .ts_format import read_ts_file
from .validation_split import (
    VALIDATION_DESCRIPTION_PREFIX,
    carve_streaming_validation_split,
    carve_validation_split,
)

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
FILE_FORMATS = {
    ".npz": "npz",
    ".ts": "ts",
    ".parquet": "parquet",
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".arrow": "arrow",
}
DEFAULT_LABEL_COLUMN = "labels"
STREAMING_SAMPLE_WINDOWS = 1000  # windows read from a stream to find its shape


def load_timeseries_dataset(
    path: str | os.PathLike | None = None,
    *,
    data_files: dict[str, str | list[str]] | None = None,
    name: str | None = None,
    past_values_column: str = "past_values",
    label_column: str | None = DEFAULT_LABEL_COLUMN,
    group_column: str | None = None,
    validation_fraction: float = 0.2,
    seed: int = 42,
    streaming: bool = False,
    cache_dir: str | None = None,
) -> datasets.DatasetDict | datasets.IterableDatasetDict:
    """Load windows as "train", "validation" and (when given) "test", ready for TimeMAE.

    Every split has `past_values` (time, channels) float32 — `Array2D((None, channels))` when lengths
    vary, NaN where a value is missing — and, when labelled, `labels` as a `ClassLabel`. Classes come
    from train (plus names a file declares: npz `class_names`, `.ts` `@classLabel`); a validation or
    test label unseen in train is an error. Without a validation split one is carved from train
    (stratified by label, or by `group_column` so no group is in both, seeded);
    `validation_split_description(splits)` tells which.

    Args:
        path: a Hub id, a `save_to_disk` folder, a folder of data files, or one file (.npz, .ts,
            .parquet, .csv, .json/.jsonl, .arrow) used as the train split.
        data_files: {"train": ..., "validation": ..., "test": ...} file paths (one format), instead of `path`.
        name: the Hub / `datasets` configuration name.
        past_values_column: the column (npz: array, else `X`) holding the series.
        label_column: the column (npz: array, else `y`) holding the class; None = unlabelled.
        group_column: a column (npz: a (N,) array) whose groups (e.g. subject) must not straddle the
            carved train / validation splits.
        validation_fraction: share of train (or of its groups) held out when no validation split is given.
        seed: seed of that split.
        streaming: return an `IterableDatasetDict` (for corpora larger than memory); `datasets` formats
            stream from their files, `.npz` / `.ts` / saved folders are read, checked and then iterated.
        cache_dir: where prepared Arrow files live (default: the `datasets` cache).

    Returns:
        `DatasetDict` (or `IterableDatasetDict` when streaming) with "train", "validation" and maybe "test".
    """
    if (path is None) == (data_files is None):
        raise ValueError("Give either `path` (Hub id, folder or file) or `data_files={'train': ...}`, not both.")
    if data_files is not None:
        split_files = _checked_data_files(data_files)
        display_name = file_stem(split_files["train"][0])
    else:
        path = os.fspath(path)
        split_files = None
        display_name = file_stem(path.rstrip("/\\")) if os.path.exists(path) else path
        if os.path.isfile(path):
            split_files = _checked_data_files({"train": path})
        elif os.path.isdir(path):
            split_files = _split_files_in_folder(path)
        elif "." in os.path.basename(path) and os.path.splitext(path)[1].lower() in FILE_FORMATS:
            raise FileNotFoundError(f"File '{path}' does not exist; check the path.")

    file_format = None if split_files is None else FILE_FORMATS[os.path.splitext(split_files["train"][0])[1].lower()]
    if file_format in ("npz", "ts"):
        builder = TimeSeriesFiles(
            cache_dir=cache_dir,
            split_files=split_files,
            past_values_column=past_values_column,
            label_column=label_column,
        )
        builder.download_and_prepare()
        splits = builder.as_dataset()
        display_name = builder.info.dataset_name or display_name
        validation_origin = _given_validation_origin(split_files)
    else:
        if split_files is not None:
            raw = datasets.load_dataset(file_format, data_files=split_files, cache_dir=cache_dir, streaming=streaming)
            validation_origin = _given_validation_origin(split_files)
        elif os.path.isdir(path) and _is_saved_dataset(path):
            raw = datasets.load_from_disk(path)
            if isinstance(raw, datasets.Dataset):
                raw = datasets.DatasetDict({"train": raw})
            validation_origin = f"given (validation split of '{display_name}')"
        else:
            raw = datasets.load_dataset(path, name, cache_dir=cache_dir, streaming=streaming)
            validation_origin = f"given (validation split of '{display_name}')"
        splits = _as_timeseries_splits(raw, past_values_column, label_column)

    if "validation" in splits:
        description = validation_origin
    elif isinstance(splits["train"], datasets.IterableDataset):
        splits["train"], splits["validation"], description = carve_streaming_validation_split(
            splits["train"], validation_fraction=validation_fraction, seed=seed, group_column=group_column
        )
    else:
        splits["train"], splits["validation"], description = carve_validation_split(
            splits["train"], validation_fraction=validation_fraction, seed=seed, group_column=group_column
        )
    splits = splits.__class__({split: splits[split] for split in SPLITS if split in splits})
    if streaming and isinstance(splits, datasets.DatasetDict):
        splits = datasets.IterableDatasetDict(
            {split: dataset.to_iterable_dataset() for split, dataset in splits.items()}
        )
    for dataset in splits.values():
        dataset.info.description = VALIDATION_DESCRIPTION_PREFIX + description
        dataset.info.dataset_name = display_name
    return splits


def dataset_display_name(splits: datasets.DatasetDict | datasets.IterableDatasetDict) -> str:
    """The data's own name for logs and the model card, as its loader recorded it (`info.dataset_name`): a file stem
    ("BasicMotions"), a Hub id, or the name a dataset's own loader gave it."""
    return splits["train"].info.dataset_name or "time series"


def series_shape(dataset: datasets.Dataset | datasets.IterableDataset) -> tuple[int, int]:
    """(max_length, num_channels) of `past_values`: read from the features when the length is fixed.

    Variable lengths are measured over the whole split, or, for a streaming split, over its first
    `STREAMING_SAMPLE_WINDOWS` windows (logged: a longer window later in the stream is not seen).
    """
    feature = dataset.features["past_values"] if dataset.features else None
    if isinstance(feature, datasets.Array2D) and feature.shape[0] is not None:
        return int(feature.shape[0]), int(feature.shape[1])
    max_length, num_channels = 0, None
    if isinstance(dataset, datasets.IterableDataset):
        logger.warning(
            "series_shape: the maximum length comes from the first %d windows of a streaming dataset.",
            STREAMING_SAMPLE_WINDOWS,
        )
        with reading_stream(dataset.take(STREAMING_SAMPLE_WINDOWS)) as examples:
            windows = [np.asarray(example["past_values"], dtype=np.float32) for example in examples]
    else:
        windows = (
            window
            for batch in dataset.with_format("numpy", columns=["past_values"]).iter(256)
            for window in batch["past_values"]
        )
    for window in windows:
        window = np.asarray(window)
        max_length = max(max_length, len(window))
        num_channels = window.shape[1]
    if num_channels is None:
        raise ValueError("series_shape: the dataset holds no windows.")
    return max_length, int(num_channels)


# ----------------------------------------------------------------------------------------- npz / .ts files


@dataclass
class TimeSeriesFilesConfig(datasets.BuilderConfig):
    """Which `.npz` / `.ts` files make which split; every field names the cache, so changes prepare afresh."""

    split_files: dict[str, list[str]] | None = None
    past_values_column: str = "past_values"
    label_column: str | None = DEFAULT_LABEL_COLUMN


class TimeSeriesFiles(datasets.GeneratorBasedBuilder):
    """`.npz` and UEA/UCR `.ts` files as a `datasets` builder, so a second load reads the Arrow cache.

    Every file is read and checked in `_split_generators`, before the first example is written, and
    the features (channels, fixed or variable length, class names) are set from what was read.
    """

    VERSION = datasets.Version("1.0.0")
    BUILDER_CONFIG_CLASS = TimeSeriesFilesConfig

    def __init__(self, *args, split_files: dict[str, list[str]], hash: str | None = None, **kwargs):
        split_files = {split: [os.path.abspath(file) for file in files] for split, files in split_files.items()}
        hash = hash or _source_fingerprint_of_files([file for files in split_files.values() for file in files])
        super().__init__(*args, split_files=split_files, hash=hash, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description="Time series windows read from .npz / .ts files.")

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        series_files = {
            split: [_read_series_file(file, self.config) for file in files]
            for split, files in self.config.split_files.items()
        }
        _check_same_channels(series_files)
        label_ids, class_names = _label_ids_of_files(series_files)
        columns = set.intersection(*(set(f.columns) for files in series_files.values() for f in files))
        lengths = {length for files in series_files.values() for f in files for length in f.lengths}
        num_channels = series_files["train"][0].num_channels
        features = {
            "past_values": datasets.Array2D(
                shape=(lengths.pop() if len(lengths) == 1 else None, num_channels), dtype="float32"
            )
        }
        if class_names is not None:
            features["labels"] = datasets.ClassLabel(names=class_names)
        for column in sorted(columns):
            features[column] = datasets.Value(_value_dtype(series_files["train"][0].columns[column][0]))
        self.info.features = datasets.Features(features)
        problem_names = {f.problem_name for f in series_files["train"]}
        self.info.dataset_name = (
            problem_names.pop()
            if len(problem_names) == 1 and None not in problem_names
            else (file_stem(self.config.split_files["train"][0]))
        )
        return [
            datasets.SplitGenerator(
                name=split,
                gen_kwargs={"series_files": files, "label_ids": label_ids.get(split), "columns": sorted(columns)},
            )
            for split, files in series_files.items()
        ]

    def _generate_examples(self, series_files: list[SeriesFile], label_ids: list[int] | None, columns: list[str]):
        """Yields (key, example): past_values (time, channels), labels (class id), the kept columns."""
        key = 0
        for series_file in series_files:
            for row, past_values in enumerate(series_file.past_values):
                example = {"past_values": past_values}
                if label_ids is not None:
                    example["labels"] = label_ids[key]
                for column in columns:
                    example[column] = series_file.columns[column][row]
                yield key, example
                key += 1


def _value_dtype(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return "string"


def _read_series_file(path: str, config: TimeSeriesFilesConfig) -> SeriesFile:
    if path.lower().endswith(".ts"):
        series_file = read_ts_file(path)
    else:
        series_file = read_npz_file(path, config.past_values_column, config.label_column)
    if config.label_column is None:  # read as an unlabelled corpus
        series_file.labels, series_file.class_names, series_file.labels_are_class_ids = None, None, False
    return series_file


def _check_same_channels(series_files: dict[str, list[SeriesFile]]) -> None:
    reference = series_files["train"][0]
    for files in series_files.values():
        for series_file in files:
            if series_file.num_channels != reference.num_channels:
                raise ValueError(
                    f"{series_file.path} has {series_file.num_channels} channels but {reference.path} has "
                    f"{reference.num_channels}; every split needs the same channels in the same order."
                )


def _label_ids_of_files(series_files: dict[str, list[SeriesFile]]) -> tuple[dict[str, list[int]], list[str] | None]:
    """({split: class id per window}, class names), or ({}, None) for unlabelled files."""
    labelled = {f.path: f.labels is not None for files in series_files.values() for f in files}
    if not any(labelled.values()):
        return {}, None
    if not all(labelled.values()):
        unlabelled = [path for path, has_labels in labelled.items() if not has_labels]
        raise ValueError(
            f"{unlabelled} hold no labels while other files do; label every file (npz `y`, `.ts` `@classLabel true`) "
            "or none (unlabelled pre-training data)."
        )
    declared = [f.class_names for files in series_files.values() for f in files if f.class_names is not None]
    for names in declared[1:]:
        if names != declared[0]:
            raise ValueError(
                f"The files declare different classes: {declared[0]} and {names}; give every file the same class list."
            )
    labels_by_split = {}
    for split, files in series_files.items():
        labels = []
        for series_file in files:
            if series_file.labels_are_class_ids:
                labels.extend(series_file.class_names[label] for label in series_file.labels)
            else:
                labels.extend(series_file.labels)
        labels_by_split[split] = labels
    sources = {split: ", ".join(f.path for f in files) for split, files in series_files.items()}
    class_names = resolve_class_names(labels_by_split, declared[0] if declared else None, sources)
    label2id = {name: index for index, name in enumerate(class_names)}
    return {split: [label2id[str(label)] for label in labels] for split, labels in labels_by_split.items()}, class_names


def resolve_class_names(
    labels_by_split: dict[str, list], declared: list[str] | None, sources: dict[str, str]
) -> list[str]:
    """Class names: the declared ones in their order, else train's distinct labels sorted (numbers numerically).

    Raises a ValueError when train holds a single class, or a validation / test label is neither
    declared nor in train (a class the model could never learn).
    """
    train_labels = labels_by_split["train"]
    train_classes = set(train_labels)
    if len(train_classes) < 2:
        raise ValueError(
            f"The train split ({sources['train']}) holds a single class {sorted(map(str, train_classes))}; "
            "classification needs at least two. For pre-training only, load it unlabelled (label_column=None)."
        )
    if declared is not None:
        class_names = list(declared)
    else:
        class_names = [str(label) for label in sorted(train_classes)]
    for split, labels in labels_by_split.items():
        unknown = sorted({str(label) for label in labels} - set(class_names), key=str)
        if unknown:
            raise ValueError(
                f"The {split} split ({sources[split]}) holds label(s) {unknown} that train does not have "
                f"(train classes: {class_names}); the model cannot learn them. Drop those windows or add training "
                "windows of those classes."
            )
    return class_names


# ------------------------------------------------------------------------- datasets formats and the Hub


def _as_timeseries_splits(
    raw: datasets.DatasetDict | datasets.IterableDatasetDict, past_values_column: str, label_column: str | None
) -> datasets.DatasetDict | datasets.IterableDatasetDict:
    """Rename, check and convert every split to `past_values` Array2D float32 and `labels` ClassLabel."""
    raw = _named_splits(raw)
    streaming = isinstance(raw, datasets.IterableDatasetDict)
    renamed = {}
    for split, dataset in raw.items():
        column_names = dataset.column_names or list(first_example(dataset))
        if past_values_column not in column_names:
            raise ValueError(
                f"The {split} split has no column '{past_values_column}' (columns: {column_names}); pass "
                "past_values_column=<the column holding the series>."
            )
        has_labels = label_column is not None and label_column in column_names
        if label_column is not None and not has_labels and (split != "train" or label_column != DEFAULT_LABEL_COLUMN):
            raise ValueError(
                f"The {split} split has no label column '{label_column}' (columns: {column_names}); pass "
                "label_column=<the column holding the class>, or label_column=None for unlabelled data."
            )
        if has_labels and label_column != "labels":
            if "labels" in column_names:
                dataset = dataset.remove_columns("labels")
            dataset = dataset.rename_column(label_column, "labels")
        if past_values_column != "past_values":
            if "past_values" in column_names:
                dataset = dataset.remove_columns("past_values")
            dataset = dataset.rename_column(past_values_column, "past_values")
        if not has_labels and "labels" in column_names:
            dataset = dataset.remove_columns("labels")
        renamed[split] = dataset
    labelled = "labels" in (renamed["train"].column_names or list(first_example(renamed["train"])))
    if not labelled:  # an unlabelled train split makes the whole source unlabelled
        renamed = {
            split: dataset.remove_columns("labels") if "labels" in (dataset.column_names or []) else dataset
            for split, dataset in renamed.items()
        }

    first_window = first_example(renamed["train"])["past_values"]
    num_channels = _window_from_value(first_window, "train", 0).shape[1]
    label_feature, label2id = None, None
    if labelled:
        label_feature, label2id = _label_feature(renamed, streaming)

    converted = {}
    for split, dataset in renamed.items():
        features = dataset.features.copy() if dataset.features is not None else None
        if features is not None:
            features["past_values"] = datasets.Array2D(shape=(None, num_channels), dtype="float32")
            if labelled:
                features["labels"] = label_feature
        convert_kwargs = {"fn_kwargs": {"split": split, "num_channels": num_channels, "label2id": label2id}}
        if not streaming:
            convert_kwargs["desc"] = f"Checking the {split} windows"
        dataset = dataset.map(_convert_batch, batched=True, with_indices=True, features=features, **convert_kwargs)
        converted[split] = dataset if streaming else _with_fixed_length_if_uniform(dataset, num_channels)
    return raw.__class__(converted)


def _named_splits(raw):
    unknown = [split for split in raw if split not in SPLITS]
    if "train" not in raw:
        raise ValueError(f"The source has no 'train' split (splits: {list(raw)}); name the training files 'train'.")
    if unknown:
        logger.warning("Ignoring split(s) %s: only %s are used.", unknown, list(SPLITS))
    return raw.__class__({split: raw[split] for split in SPLITS if split in raw})


def _label_feature(renamed: dict, streaming: bool) -> tuple[datasets.ClassLabel, dict | None]:
    """The `ClassLabel` for every split, and {raw label: id} (None when the source is a ClassLabel already)."""
    feature = renamed["train"].features["labels"] if renamed["train"].features else None
    if isinstance(feature, datasets.ClassLabel):
        if not streaming:
            train_names = feature.int2str(renamed["train"].unique("labels"))
            resolve_class_names({"train": train_names}, feature.names, {"train": "train"})
        return feature, None
    if streaming:
        raise ValueError(
            "A streaming source needs its label column typed as a `datasets.ClassLabel` (its classes cannot be "
            "counted without reading the whole stream). Load it without streaming, or unlabelled for pre-training "
            "(label_column=None)."
        )
    labels_by_split = {}
    for split, dataset in renamed.items():
        labels = dataset.unique("labels")
        if None in labels:
            row = dataset["labels"].index(None)
            raise ValueError(f"The {split} split, row {row}: the label is missing; give every window a class.")
        labels_by_split[split] = [_plain_label(label) for label in labels]
    class_names = resolve_class_names(labels_by_split, None, {split: split for split in renamed})
    label2id = {}
    for labels in labels_by_split.values():
        for label in labels:
            if str(label) in class_names:
                label2id[label] = class_names.index(str(label))
    return datasets.ClassLabel(names=class_names), label2id


def _plain_label(label):
    """Integral floats (csv reads `1` as 1.0 next to a missing cell) become ints, so '1.0' is class '1'."""
    if isinstance(label, float) and label.is_integer():
        return int(label)
    return label


def _convert_batch(batch: dict, indices: list[int], split: str, num_channels: int, label2id: dict | None) -> dict:
    converted = {"past_values": []}
    for value, row in zip(batch["past_values"], indices, strict=True):
        window = _window_from_value(value, split, row)
        if window.shape[1] != num_channels:
            raise ValueError(
                f"The {split} split, row {row}: {window.shape[1]} channels where train row 0 has {num_channels}; every "
                "window needs the same channels in the same order."
            )
        check_series([window], f"The {split} split", row_offset=row)
        converted["past_values"].append(window)
    if label2id is not None:
        converted["labels"] = [label2id[_plain_label(label)] for label in batch["labels"]]
    return converted


def _window_from_value(value, split: str, row: int) -> np.ndarray:
    """(time, channels) float32 from a nested list, a flat (univariate) list or a JSON-encoded list."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"The {split} split, row {row}: past_values holds text that is not a JSON list ('{value[:40]}'); "
                "in csv "
                'a cell holds the series JSON-encoded, e.g. "[[0.1, 2.0], [0.3, 1.9]]" (time, channels) or '
                '"[0.1, 0.3]" (univariate).'
            ) from error
    if value is None:
        raise ValueError(f"The {split} split, row {row}: past_values is missing; drop that row.")
    try:
        window = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"The {split} split, row {row}: past_values is ragged or not numeric ({error}); every time step needs "
            "the same number of channels."
        ) from error
    if window.ndim == 1:
        window = window[:, None]
    if window.ndim != 2:
        raise ValueError(
            f"The {split} split, row {row}: past_values has shape {window.shape}; expected (time, channels) or (time,)."
        )
    return window


def _with_fixed_length_if_uniform(dataset: datasets.Dataset, num_channels: int) -> datasets.Dataset:
    """Array2D((time, channels)) when every window has one length, so batches stack without padding."""
    lengths = set()
    for batch in dataset.with_format("arrow", columns=["past_values"]).iter(4096):
        windows = batch.column("past_values").combine_chunks().storage  # Array2D's list<list<float32>>
        lengths.update(pyarrow.compute.list_value_length(windows).unique().to_pylist())
        if len(lengths) > 1:
            return dataset
    if len(lengths) != 1:
        return dataset
    return dataset.cast_column("past_values", datasets.Array2D(shape=(lengths.pop(), num_channels), dtype="float32"))


# ------------------------------------------------------------------------------------------ file sources


def _checked_data_files(data_files: dict[str, str | list[str]]) -> dict[str, list[str]]:
    unknown = [split for split in data_files if split not in SPLITS]
    if unknown:
        raise ValueError(f"data_files has split(s) {unknown}; use {list(SPLITS)} ('train' required).")
    if "train" not in data_files:
        raise ValueError(f"data_files needs a 'train' file, got splits {list(data_files)}.")
    split_files = {
        split: [os.fspath(file) for file in ([files] if isinstance(files, str | os.PathLike) else files)]
        for split, files in data_files.items()
        if files
    }
    formats = set()
    for files in split_files.values():
        for file in files:
            extension = os.path.splitext(file)[1].lower()
            if extension not in FILE_FORMATS:
                raise ValueError(f"'{file}': unknown file extension '{extension}'; use one of {sorted(FILE_FORMATS)}.")
            if not os.path.isfile(file):
                raise FileNotFoundError(f"'{file}' does not exist (or is not a file); check the path.")
            formats.add(FILE_FORMATS[extension])
    if len(formats) > 1:
        raise ValueError(f"data_files mixes formats {sorted(formats)}; give every split in one format.")
    return split_files


def _split_files_in_folder(folder: str) -> dict[str, list[str]] | None:
    """{split: files} for a folder of `.npz` / `.ts` files named by split (`*_TRAIN.ts`, `test.npz`), else None.

    A folder of other data files is left to `datasets.load_dataset`, which reads splits from names the same way.
    """
    files = sorted(
        os.path.join(folder, file_name)
        for file_name in os.listdir(folder)
        if os.path.splitext(file_name)[1].lower() in (".npz", ".ts")
    )
    if not files or _is_saved_dataset(folder):
        return None
    split_files: dict[str, list[str]] = {}
    for file in files:
        stem = os.path.splitext(os.path.basename(file))[0].lower()
        split = "test" if "test" in stem else "validation" if "val" in stem or "dev" in stem else "train"
        split_files.setdefault(split, []).append(file)
    return _checked_data_files(split_files)


def _is_saved_dataset(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "dataset_dict.json")) or os.path.isfile(
        os.path.join(folder, "state.json")
    )


def _given_validation_origin(split_files: dict[str, list[str]]) -> str:
    if "validation" in split_files:
        return f"given (validation file {', '.join(os.path.basename(file) for file in split_files['validation'])})"
    return ""


def _source_fingerprint_of_files(files: list[str]) -> str:
    return datasets.fingerprint.Hasher.hash([source_fingerprint(file) for file in files] + files)
