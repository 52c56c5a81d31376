"""Reading and checking the files that UCI HAR comes in, before anything is written to a cache.

Two layouts are understood:

- the official UCI archive: `UCI HAR Dataset/{train,test}/Inertial Signals/<channel>_<split>.txt`
  (one window a row, `HAR_WINDOW_LENGTH` values a row), `y_<split>.txt` (activity 1..6) and
  `subject_<split>.txt` (volunteer id), read from the extracted folder, from `UCI HAR Dataset.zip`,
  or from the UCI download, a zip that holds `UCI HAR Dataset.zip`;
- the `.pt` files of TS-TCC and the original TimeMAE code: `{train,val,test}.pt`, each a dict with
  `samples` (num_windows, num_channels, window_length) and `labels` (num_windows,) in 0..5.

Every reader returns a `HarWindows` in the model's layout (num_windows, window_length,
num_channels) and raises `FileNotFoundError` / `ValueError` naming the file, what is wrong with
it and what to do, so a bad source fails before the builder writes anything.
"""

import io
import os
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

HAR_CHANNELS = (
    "body_acc_x",
    "body_acc_y",
    "body_acc_z",
    "body_gyro_x",
    "body_gyro_y",
    "body_gyro_z",
    "total_acc_x",
    "total_acc_y",
    "total_acc_z",
)
"""Channel order of `past_values`, as TimeMAE and TS-TCC stack them: body_acc, body_gyro, total_acc."""

HAR_ACTIVITIES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
"""Class names for label ids 0..5 (the official files number them 1..6, as activity_labels.txt does)."""

HAR_WINDOW_LENGTH = 128
"""Samples per window: 2.56 s at 50 Hz, as the UCI recordings were cut."""

UCI_HAR_ROOT_FOLDER = "UCI HAR Dataset"
UCI_HAR_SPLITS = ("train", "test")
PT_SPLIT_FILES = {"train": "train.pt", "validation": "val.pt", "test": "test.pt"}

_FIX_OFFICIAL = (
    "Re-extract or re-download 'UCI HAR Dataset.zip', or point data_dir at a folder in the official layout "
    "(UCI HAR Dataset/{train,test}/Inertial Signals/<channel>_<split>.txt, y_<split>.txt, subject_<split>.txt)."
)
_FIX_PT = (
    "Re-create it with torch.save({'samples': tensor (num_windows, 9, 128), "
    "'labels': tensor (num_windows,) in 0..5}, path) as TS-TCC's HAR preprocessing does."
)


@dataclass
class HarWindows:
    """One split as arrays, checked and ready to be written."""

    past_values: np.ndarray  # (num_windows, window_length, num_channels) float32
    labels: np.ndarray  # (num_windows,) int64 in 0..len(HAR_ACTIVITIES) - 1
    subjects: np.ndarray | None = None  # (num_windows,) int64 volunteer ids; None for the .pt layout


class _FolderLayout:
    """The official layout in an extracted folder; `member` paths are relative to its root."""

    def __init__(self, root: str):
        self.root = root

    def describe(self, member: str) -> str:
        return os.path.join(self.root, *member.split("/"))

    def read(self, member: str) -> bytes:
        path = self.describe(member)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"UCI HAR file '{path}' is missing. {_FIX_OFFICIAL}")
        with open(path, "rb") as file:
            return file.read()


class _ZipLayout:
    """The official layout inside a zip archive, below `root_prefix` (e.g. 'UCI HAR Dataset/')."""

    def __init__(self, archive: zipfile.ZipFile, root_prefix: str, description: str):
        self.archive = archive
        self.root_prefix = root_prefix
        self.description = description

    def describe(self, member: str) -> str:
        return f"{self.description}::{self.root_prefix}{member}"

    def read(self, member: str) -> bytes:
        try:
            return self.archive.read(self.root_prefix + member)
        except KeyError:
            raise FileNotFoundError(
                f"UCI HAR file '{self.describe(member)}' is missing from the zip. {_FIX_OFFICIAL}"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise ValueError(
                f"UCI HAR file '{self.describe(member)}' cannot be read, the zip is corrupt ({error}). {_FIX_OFFICIAL}"
            ) from error


def open_official_layout(location: str) -> _FolderLayout | _ZipLayout:
    """Finds the official layout in a folder, in a zip, or in a zip that holds 'UCI HAR Dataset.zip'."""
    if not os.path.exists(location):
        raise FileNotFoundError(
            f"UCI HAR source '{location}' does not exist. Pass data_dir as the path of 'UCI HAR Dataset.zip', "
            "of its extracted folder, or (config_name='pt') of a folder with train.pt, val.pt and test.pt."
        )
    if os.path.isdir(location):
        return _open_folder(location)
    return _open_zip(location)


def _open_folder(folder: str) -> _FolderLayout | _ZipLayout:
    entries = os.listdir(folder)
    if not entries:
        raise FileNotFoundError(
            f"UCI HAR folder '{folder}' is empty. Extract 'UCI HAR Dataset.zip' into it, "
            "or pass the zip itself as data_dir."
        )
    for root in (folder, os.path.join(folder, UCI_HAR_ROOT_FOLDER)):
        if any(os.path.isdir(os.path.join(root, split)) for split in UCI_HAR_SPLITS):
            return _FolderLayout(root)
    nested_zip = os.path.join(folder, UCI_HAR_ROOT_FOLDER + ".zip")
    if os.path.isfile(nested_zip):
        return _open_zip(nested_zip)
    if any(name in entries for name in PT_SPLIT_FILES.values()):
        raise ValueError(
            f"Folder '{folder}' holds .pt files, not the official UCI HAR layout: load it with config_name='pt'."
        )
    raise FileNotFoundError(f"Folder '{folder}' holds no UCI HAR data (no train/ or test/ folder). {_FIX_OFFICIAL}")


def _open_zip(path: str, archive_bytes: bytes | None = None) -> _ZipLayout:
    """Opens `path` (or the bytes of a zip found inside it) and locates the folder that holds train/ and test/."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(archive_bytes) if archive_bytes is not None else path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"UCI HAR source '{path}' is not a readable zip archive ({error}). {_FIX_OFFICIAL}") from error
    names = [name for name in archive.namelist() if not name.startswith("__MACOSX/")]
    for name in names:
        parts = name.split("/")
        for depth, part in enumerate(parts[:-1]):
            if part in UCI_HAR_SPLITS:
                root_prefix = "".join(folder + "/" for folder in parts[:depth])
                return _ZipLayout(archive, root_prefix, path)
    # The UCI download is a zip that holds 'UCI HAR Dataset.zip' (next to a .names file).
    nested = [name for name in names if os.path.basename(name) == UCI_HAR_ROOT_FOLDER + ".zip"]
    if nested and archive_bytes is None:
        try:
            inner_bytes = archive.read(nested[0])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise ValueError(
                f"'{path}::{nested[0]}' cannot be read, the zip is corrupt ({error}). {_FIX_OFFICIAL}"
            ) from error
        return _open_zip(f"{path}::{nested[0]}", archive_bytes=inner_bytes)
    raise FileNotFoundError(f"Zip '{path}' holds no UCI HAR data (no train/ or test/ folder inside). {_FIX_OFFICIAL}")


def _parse_text_table(raw: bytes, description: str, dtype: type) -> np.ndarray:
    """(num_rows, num_values) from whitespace-separated text; on failure names the offending line."""
    if not raw.strip():
        raise ValueError(f"UCI HAR file '{description}' is empty. {_FIX_OFFICIAL}")
    try:
        table = np.loadtxt(io.BytesIO(raw), dtype=dtype, ndmin=2)
    except ValueError as error:
        raise _describe_unparsable_text(raw, description, dtype, error) from None
    bad_rows = np.flatnonzero(~np.isfinite(table).all(axis=1))
    if bad_rows.size:
        raise ValueError(
            f"UCI HAR file '{description}' holds NaN or infinite values (first on line {bad_rows[0] + 1}). "
            f"{_FIX_OFFICIAL}"
        )
    return table


def _describe_unparsable_text(raw: bytes, description: str, dtype: type, error: ValueError) -> ValueError:
    """The error for text np.loadtxt rejected: a line of the wrong length, else the first value of the wrong kind."""
    lines = [(number, line.split()) for number, line in enumerate(raw.splitlines(), start=1) if line.strip()]
    usual_count = Counter(len(values) for _, values in lines).most_common(1)[0][0]
    for number, values in lines:
        if len(values) != usual_count:
            return ValueError(
                f"UCI HAR file '{description}' line {number} has {len(values)} values where the other lines have "
                f"{usual_count}: every line must hold one whole window. The file is truncated or corrupt. "
                f"{_FIX_OFFICIAL}"
            )
    expected_kind = "a whole number" if np.issubdtype(dtype, np.integer) else "a number"
    for number, values in lines:
        for position, value in enumerate(values, start=1):
            try:
                dtype(value)
            except ValueError:
                return ValueError(
                    f"UCI HAR file '{description}' line {number}, value {position} is "
                    f"{value.decode(errors='replace')!r}, not {expected_kind}. {_FIX_OFFICIAL}"
                )
    return ValueError(f"UCI HAR file '{description}' cannot be parsed ({error}). {_FIX_OFFICIAL}")


def _parse_id_column(raw: bytes, description: str) -> np.ndarray:
    """(num_rows,) int64 from a one-integer-a-line file (y_<split>.txt, subject_<split>.txt)."""
    table = _parse_text_table(raw, description, np.int64)
    if table.shape[1] != 1:
        raise ValueError(
            f"UCI HAR file '{description}' has {table.shape[1]} values a line; it must hold one id a line. "
            f"{_FIX_OFFICIAL}"
        )
    return table[:, 0]


def _check_label_range(labels: np.ndarray, first_label: int, description: str, fix: str, position: str) -> None:
    """Raises naming the first label outside first_label..first_label + len(HAR_ACTIVITIES) - 1.

    `position` words where it sits: "line" (1-based, text files) or "index" (0-based, tensors).
    """
    last_label = first_label + len(HAR_ACTIVITIES) - 1
    out_of_range = np.flatnonzero((labels < first_label) | (labels > last_label))
    if out_of_range.size:
        row = int(out_of_range[0])
        where = f"line {row + 1}" if position == "line" else f"index {row}"
        raise ValueError(
            f"HAR labels in '{description}' must be {first_label}..{last_label} "
            f"({first_label}={HAR_ACTIVITIES[0]} .. {last_label}={HAR_ACTIVITIES[-1]}), but {where} holds "
            f"{labels[row]} ({out_of_range.size} labels out of range). {fix}"
        )


def read_official_split(layout: _FolderLayout | _ZipLayout, split: str) -> HarWindows:
    """Reads and checks one official split ("train" or "test"); labels come back as 0..5."""
    labels_member = f"{split}/y_{split}.txt"
    labels = _parse_id_column(layout.read(labels_member), layout.describe(labels_member))
    _check_label_range(labels, 1, layout.describe(labels_member), _FIX_OFFICIAL, position="line")

    subjects_member = f"{split}/subject_{split}.txt"
    subjects = _parse_id_column(layout.read(subjects_member), layout.describe(subjects_member))
    _check_same_row_count(subjects, layout.describe(subjects_member), labels, layout.describe(labels_member))

    channels = []
    for channel in HAR_CHANNELS:
        channel_member = f"{split}/Inertial Signals/{channel}_{split}.txt"
        description = layout.describe(channel_member)
        windows = _parse_text_table(layout.read(channel_member), description, np.float32)
        _check_same_row_count(windows, description, labels, layout.describe(labels_member))
        if windows.shape[1] != HAR_WINDOW_LENGTH:
            raise ValueError(
                f"UCI HAR file '{description}' has windows of {windows.shape[1]} values; UCI HAR windows are "
                f"{HAR_WINDOW_LENGTH} samples (2.56 s at 50 Hz). {_FIX_OFFICIAL}"
            )
        channels.append(windows)
    return HarWindows(past_values=np.stack(channels, axis=-1), labels=labels - 1, subjects=subjects)


def _check_same_row_count(rows: np.ndarray, description: str, labels: np.ndarray, labels_description: str) -> None:
    if len(rows) != len(labels):
        raise ValueError(
            f"UCI HAR file '{description}' has {len(rows)} rows but '{labels_description}' has {len(labels)}: "
            f"every file of a split holds one row per window. {_FIX_OFFICIAL}"
        )


def read_pt_split(path: str) -> HarWindows:
    """Reads a TS-TCC / TimeMAE `.pt` split: samples (N, 9, 128) or (N, 128, 9), labels 0..5."""
    if not os.path.isfile(path):
        folder = os.path.dirname(path)
        raise FileNotFoundError(
            f"HAR .pt file '{path}' is missing. data_dir with config_name='pt' must be a folder holding "
            f"{', '.join(PT_SPLIT_FILES.values())} (like TimeMAE's data/HAR/); '{folder}' has "
            f"{sorted(os.listdir(folder)) if os.path.isdir(folder) else 'no such folder'}."
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged or foreign file
        raise ValueError(
            f"HAR .pt file '{path}' cannot be read by torch.load ({type(error).__name__}: {error}). {_FIX_PT}"
        ) from error
    if not isinstance(payload, dict) or not {"samples", "labels"} <= payload.keys():
        found = sorted(payload.keys()) if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(
            f"HAR .pt file '{path}' must hold a dict with 'samples' and 'labels'; it holds {found}. {_FIX_PT}"
        )

    samples = np.asarray(payload["samples"], dtype=np.float32)
    channels_first = (len(HAR_CHANNELS), HAR_WINDOW_LENGTH)
    if samples.ndim == 3 and samples.shape[1:] == channels_first:
        samples = samples.transpose(0, 2, 1)
    elif samples.ndim != 3 or samples.shape[1:] != channels_first[::-1]:
        raise ValueError(
            f"HAR .pt file '{path}' has samples of shape {tuple(samples.shape)}; expected "
            f"(num_windows, {channels_first[0]}, {channels_first[1]}) or "
            f"(num_windows, {channels_first[1]}, {channels_first[0]}). {_FIX_PT}"
        )

    if not np.isfinite(samples).all():
        raise ValueError(f"HAR .pt file '{path}' holds NaN or infinite samples. {_FIX_PT}")

    labels = np.asarray(payload["labels"]).reshape(-1)
    if len(labels) != len(samples):
        raise ValueError(f"HAR .pt file '{path}' has {len(samples)} samples but {len(labels)} labels. {_FIX_PT}")
    if not np.array_equal(labels, np.round(labels)):
        raise ValueError(f"HAR .pt file '{path}' has labels that are not whole numbers. {_FIX_PT}")
    labels = labels.astype(np.int64)
    _check_label_range(labels, 0, path, _FIX_PT, position="index")
    return HarWindows(past_values=np.ascontiguousarray(samples), labels=labels)
