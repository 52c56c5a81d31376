"""What a `.npz` or `.ts` reader hands over: the windows of one file, checked, before anything is written."""

import os
from dataclasses import dataclass, field

import numpy as np
from datasets.fingerprint import Hasher


@dataclass
class SeriesFile:
    """The windows of one file, in memory and already checked by `check_series`.

    Args:
        path: the file they came from (named in every error).
        past_values: one float32 array (time, channels) per window; lengths may differ, NaN = missing.
        labels: one raw label per window (str or int), or None for an unlabelled file.
        class_names: class names the file declares (npz `class_names`, `.ts` `@classLabel`), in their
            declared order, or None.
        labels_are_class_ids: True when `labels` are integer positions in `class_names` (npz `y` of
            ints beside `class_names`), False when they are the names (or raw values) themselves.
        columns: extra per-window columns to keep (e.g. npz `subject` for `group_column`).
        problem_name: the dataset's own name (`.ts` `@problemName`), for `dataset_display_name`.
    """

    path: str
    past_values: list[np.ndarray]
    labels: list | None = None
    class_names: list[str] | None = None
    labels_are_class_ids: bool = False
    columns: dict[str, list] = field(default_factory=dict)
    problem_name: str | None = None

    @property
    def num_channels(self) -> int:
        return self.past_values[0].shape[1]

    @property
    def lengths(self) -> list[int]:
        return [len(window) for window in self.past_values]


def check_series(past_values: list[np.ndarray], source: str, row_offset: int = 0, row_name: str = "row") -> None:
    """Raise a ValueError naming `source` and the row when a window is empty, NaN-only or has another channel count.

    Args:
        past_values: (time, channels) arrays, one per window.
        source: the file / split named in the error.
        row_offset: added to the position in the list, so errors count rows as the caller does.
        row_name: what a row is called in the error ("row", "case", "line").
    """
    if not past_values:
        raise ValueError(f"{source} holds no windows; give a file with at least one series.")
    num_channels = past_values[0].shape[1]
    for position, window in enumerate(past_values):
        row = position + row_offset
        if window.ndim != 2:
            raise ValueError(
                f"{source}, {row_name} {row}: a window must be (time, channels), got shape {window.shape}."
            )
        if window.shape[1] != num_channels:
            raise ValueError(
                f"{source}, {row_name} {row}: {window.shape[1]} channels where {row_name} {row_offset} has "
                f"{num_channels}; every window needs the same channels in the same order."
            )
        if window.shape[0] == 0:
            raise ValueError(f"{source}, {row_name} {row}: the series is empty; drop that {row_name}.")
        if np.isnan(window).all():
            raise ValueError(
                f"{source}, {row_name} {row}: every value is missing (NaN); drop that {row_name}, it holds nothing "
                "to learn from."
            )
        if np.isinf(window).any():
            raise ValueError(
                f"{source}, {row_name} {row}: holds +/-inf; replace it by NaN (missing) or a finite value."
            )


def file_stem(path: str) -> str:
    """'BasicMotions' from '.../BasicMotions_TRAIN.ts' (split suffixes dropped), 'x' from 'x.npz'."""
    stem = os.path.basename(os.fspath(path))
    for extension in (".jsonl", ".json", ".parquet", ".arrow", ".csv", ".npz", ".ts"):
        if stem.lower().endswith(extension):
            stem = stem[: -len(extension)]
            break
    for suffix in ("_train", "_test", "_validation", "_valid", "_val", "-train", "-test", "-validation"):
        if stem.lower().endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def source_fingerprint(path: str) -> str:
    """Hash of the (relative path, size, mtime) of every file under `path` (or of `path` itself): a builder's cache
    key, so two folders, or one folder whose files were replaced, never share a prepared cache."""
    if os.path.isfile(path):
        stat = os.stat(path)
        return Hasher.hash([(os.path.basename(path), stat.st_size, stat.st_mtime_ns)])
    entries = []
    for folder, _, file_names in os.walk(path):
        for file_name in file_names:
            stat = os.stat(os.path.join(folder, file_name))
            entries.append((os.path.relpath(os.path.join(folder, file_name), path), stat.st_size, stat.st_mtime_ns))
    return Hasher.hash(sorted(entries))
