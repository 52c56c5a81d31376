"""Read a numpy `.npz` of windows: `X`, optional `y`, `class_names` and per-window columns.

The file's arrays (names are fixed; `X` / `y` may also be called by `past_values_column` / `label_column`):

- `X`: (N, time, channels) float, or (N, time) for univariate series (one channel), or a 1-D object
  array of N arrays (time_i, channels) / (time_i,) for series of different lengths. NaN = missing.
  Layout is time-major, as `past_values`; aeon/sktime arrays (N, channels, time) must be transposed
  first (`X.transpose(0, 2, 1)`); a warning points at that when X has more channels than time steps.
- `y` (optional): (N,) class names (str) or integer labels. Without `y` the file is unlabelled.
- `class_names` (optional): (K,) str, the classes in their order. With it, integer `y` are positions
  in `class_names` (0..K-1), string `y` must be among `class_names`.
- any other (N,) array (e.g. `subject`) is kept as a column of that name, usable as `group_column`.

Object arrays (ragged `X`) are stored pickled by numpy; they are read with `allow_pickle=True`, so
only load `.npz` files you trust.
"""

import logging

import numpy as np

from .series_file import SeriesFile, check_series

logger = logging.getLogger(__name__)

NPZ_PAST_VALUES_KEY = "X"
NPZ_LABELS_KEY = "y"
NPZ_CLASS_NAMES_KEY = "class_names"


def read_npz_file(
    path: str, past_values_column: str = "past_values", label_column: str | None = "labels"
) -> SeriesFile:
    """The windows of one `.npz` file, checked; see the module docstring for the layout."""
    with np.load(path, allow_pickle=True) as archive:
        arrays = {key: archive[key] for key in archive.files}

    past_values_key = past_values_column if past_values_column in arrays else NPZ_PAST_VALUES_KEY
    if past_values_key not in arrays:
        raise ValueError(
            f"{path} has no array '{NPZ_PAST_VALUES_KEY}' (nor '{past_values_column}'), only {sorted(arrays)}; "
            f"save the windows as np.savez(path, X=X, y=y) with X of shape (N, time, channels)."
        )
    past_values = _windows_from_array(arrays[past_values_key], path, past_values_key)
    check_series(past_values, path)
    num_windows = len(past_values)
    if past_values[0].shape[1] > max(len(window) for window in past_values):
        logger.warning(
            "%s: '%s' has more channels (%d) than time steps (%d); it is read as (N, time, channels). If it is "
            "(N, channels, time) as in aeon/sktime, save X.transpose(0, 2, 1) instead.",
            path,
            past_values_key,
            past_values[0].shape[1],
            max(len(window) for window in past_values),
        )

    label_key = None
    if label_column is not None:
        label_key = label_column if label_column in arrays else NPZ_LABELS_KEY
        label_key = label_key if label_key in arrays else None
    if label_column not in (None, "labels") and label_key is None:
        raise ValueError(
            f"{path} has no label array '{label_column}' (nor '{NPZ_LABELS_KEY}'), only {sorted(arrays)}; pass "
            "label_column=<the array holding the class>, or label_column=None for unlabelled data."
        )
    class_names = None
    if NPZ_CLASS_NAMES_KEY in arrays:
        class_names = [str(name) for name in np.asarray(arrays[NPZ_CLASS_NAMES_KEY]).reshape(-1).tolist()]
    labels, labels_are_class_ids = None, False
    if label_key is not None:
        labels, labels_are_class_ids = _labels_from_array(arrays[label_key], num_windows, class_names, path, label_key)

    used = {past_values_key, label_key, NPZ_CLASS_NAMES_KEY}
    columns = {
        key: array.tolist()
        for key, array in arrays.items()
        if key not in used and array.ndim == 1 and len(array) == num_windows and array.dtype != object
    }
    return SeriesFile(
        path=path,
        past_values=past_values,
        labels=labels,
        class_names=class_names,
        labels_are_class_ids=labels_are_class_ids,
        columns=columns,
    )


def _windows_from_array(array: np.ndarray, path: str, key: str) -> list[np.ndarray]:
    if array.dtype == object:
        windows = []
        for row, window in enumerate(array.reshape(-1) if array.ndim == 1 else array):
            try:
                window = np.asarray(window, dtype=np.float32)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"{path}, '{key}' row {row}: cannot be read as numbers ({error}); each row must be a "
                    "(time, channels) or (time,) float array."
                ) from error
            windows.append(window[:, None] if window.ndim == 1 else window)
        return windows
    if array.ndim not in (2, 3) or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"{path}: '{key}' has shape {array.shape} and dtype {array.dtype}; expected numbers of shape "
            "(N, time, channels), (N, time) for univariate series, or an object array of N (time, channels) arrays "
            "for series of different lengths."
        )
    array = array.astype(np.float32, copy=False)
    if array.ndim == 2:
        array = array[:, :, None]
    return list(array)


def _labels_from_array(
    array: np.ndarray, num_windows: int, class_names: list[str] | None, path: str, key: str
) -> tuple[list, bool]:
    array = np.asarray(array)
    if array.ndim != 1 or len(array) != num_windows:
        raise ValueError(
            f"{path}: '{key}' has shape {array.shape}, expected ({num_windows},), one label per window of X."
        )
    if np.issubdtype(array.dtype, np.floating):
        if np.isnan(array).any() or not np.all(array == np.round(array)):
            row = int(np.flatnonzero(np.isnan(array) | (array != np.round(array)))[0])
            raise ValueError(
                f"{path}, '{key}' row {row}: label {array[row]} is not a class; labels must be class names or "
                "integer class ids (no NaN, no fractions)."
            )
        array = array.astype(np.int64)
    if np.issubdtype(array.dtype, np.integer):
        labels = [int(label) for label in array]
        if class_names is None:
            return labels, False
        for row, label in enumerate(labels):
            if not 0 <= label < len(class_names):
                raise ValueError(
                    f"{path}, '{key}' row {row}: class id {label} is outside class_names (0..{len(class_names) - 1}); "
                    "with class_names, integer labels are positions in it."
                )
        return labels, True
    labels = [str(label) for label in array.tolist()]
    if class_names is not None:
        for row, label in enumerate(labels):
            if label not in class_names:
                raise ValueError(
                    f"{path}, '{key}' row {row}: label '{label}' is not in class_names {class_names}; add it there."
                )
    return labels, False
