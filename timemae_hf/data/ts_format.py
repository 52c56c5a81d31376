"""Read the UEA/UCR `.ts` text format (the time-series classification archives' format).

A file is a header, `@data`, then one case per line:

    # comments
    @problemName BasicMotions
    @timeStamps false
    @missing false
    @univariate false
    @dimensions 6
    @equalLength true
    @seriesLength 100
    @classLabel true Standing Running Walking Badminton
    @data
    -0.74,0.13,...,0.2:0.31,...:...:Standing

Each case is `dim_1:dim_2:...:dim_D:label` (no `:label` when `@classLabel false`), each dimension
comma-separated values, `?` (or NaN) for a missing value. Lengths may differ between cases
(`@equalLength false`); inside one case a shorter dimension is padded with NaN at its end.

This is a small reader of our own rather than a dependency on aeon/sktime (both pull numba and
more for one text format); it checks the header against the data and names the line of any
mismatch. Not supported, with a clear error: `@timeStamps true` and regression files
(`@targetLabel true`).
"""

import math

import numpy as np

from ..windows_timemae import pad_windows
from .series_file import SeriesFile, check_series

_MISSING_TOKENS = ("?", "nan", "NaN", "NAN")


def read_ts_file(path: str) -> SeriesFile:
    """The cases of one `.ts` file, checked against its header.

    Returns:
        SeriesFile with one float32 (time, dimensions) array per case, the case labels (str) and
        `class_names` in `@classLabel`'s order (None when `@classLabel false`).
    """
    header: dict[str, tuple[int, str]] = {}  # tag (lower case) -> (line number, value)
    past_values: list[np.ndarray] = []
    labels: list[str] = []
    case_lines: list[int] = []
    in_data = False
    with open(path, encoding="utf-8") as file:
        for line_number, line in enumerate(file, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if not line.startswith("@"):
                    raise ValueError(
                        f"{path}, line {line_number}: '{line[:40]}' before '@data'; the header holds only '@tag value' "
                        "lines and '#' comments, and the cases follow '@data'."
                    )
                tag, _, value = line[1:].partition(" ")
                tag = tag.lower()
                if tag == "data":
                    in_data = True
                    has_labels, class_names, num_dimensions = _check_header(header, path)
                else:
                    header[tag] = (line_number, value.strip())
                continue
            parts = line.split(":")
            if has_labels:
                if len(parts) < 2:
                    raise ValueError(
                        f"{path}, line {line_number}: no ':label' at the end of the case, but the header says "
                        "'@classLabel true'."
                    )
                label = parts.pop().strip()
                if class_names and label not in class_names:
                    raise ValueError(
                        f"{path}, line {line_number}: class '{label}' is not listed in '@classLabel' "
                        f"({' '.join(class_names)}); add it to the header."
                    )
                labels.append(label)
            if num_dimensions is not None and len(parts) != num_dimensions:
                raise ValueError(
                    f"{path}, line {line_number}: {len(parts)} dimensions, but the header says '@dimensions "
                    f"{num_dimensions}'"
                    + ("" if has_labels else " (and '@classLabel false', so no label is read)")
                    + "; fix the header or the line."
                )
            past_values.append(_case_values(parts, path, line_number))
            case_lines.append(line_number)
    if not in_data:
        raise ValueError(f"{path}: no '@data' line; this is not a `.ts` file (or its header is cut short).")
    if not past_values:
        raise ValueError(f"{path}: no cases after '@data'; give a file with at least one series.")

    num_channels = past_values[0].shape[1]
    for case, window in enumerate(past_values):
        if window.shape[1] != num_channels:
            raise ValueError(
                f"{path}, line {case_lines[case]}: {window.shape[1]} dimensions where line {case_lines[0]} has "
                f"{num_channels}; every case needs the same dimensions (declare '@dimensions {num_channels}')."
            )
    _check_lengths(header, past_values, case_lines, path)
    for case, window in enumerate(past_values):
        check_series([window], path, row_offset=case_lines[case], row_name="line")
    return SeriesFile(
        path=path,
        past_values=past_values,
        labels=labels if has_labels else None,
        class_names=class_names,
        problem_name=header.get("problemname", (0, None))[1] or None,
    )


def _check_header(header: dict[str, tuple[int, str]], path: str) -> tuple[bool, list[str] | None, int | None]:
    """(has labels, declared class names, declared number of dimensions) from the header."""
    if _is_true(header, "timestamps"):
        raise ValueError(
            f"{path}, line {header['timestamps'][0]}: '@timeStamps true' is not supported; export the series "
            "without time stamps (values only, evenly sampled)."
        )
    if _is_true(header, "targetlabel"):
        raise ValueError(
            f"{path}, line {header['targetlabel'][0]}: '@targetLabel true' marks a regression file; TimeMAE's "
            "classification loader needs '@classLabel true <classes>' (or '@classLabel false' for unlabelled data)."
        )
    class_names = None
    has_labels = False
    if "classlabel" in header:
        line_number, value = header["classlabel"]
        flag, *names = value.split()
        if flag.lower() not in ("true", "false"):
            raise ValueError(
                f"{path}, line {line_number}: '@classLabel {value}' must start with true or false, e.g. "
                "'@classLabel true walk run'."
            )
        has_labels = flag.lower() == "true"
        if has_labels:
            if not names:
                raise ValueError(
                    f"{path}, line {line_number}: '@classLabel true' lists no classes; list them, e.g. "
                    "'@classLabel true walk run'."
                )
            if len(set(names)) != len(names):
                raise ValueError(f"{path}, line {line_number}: '@classLabel' lists a class twice: {names}.")
            class_names = names
    num_dimensions = None
    if "dimensions" in header:
        num_dimensions = _positive_int(header, "dimensions", path)
    if _is_true(header, "univariate"):
        if num_dimensions not in (None, 1):
            raise ValueError(
                f"{path}, line {header['univariate'][0]}: '@univariate true' contradicts "
                f"'@dimensions {num_dimensions}'."
            )
        num_dimensions = 1
    return has_labels, class_names, num_dimensions


def _check_lengths(
    header: dict[str, tuple[int, str]], past_values: list[np.ndarray], case_lines: list[int], path: str
) -> None:
    """With '@equalLength true', every case must have '@seriesLength' values (or all the same, if not given)."""
    equal_length = _is_true(header, "equallength")
    if "serieslength" in header and equal_length:
        declared = _positive_int(header, "serieslength", path)
    elif equal_length:
        declared = len(past_values[0])
    else:
        return
    for case, window in enumerate(past_values):
        if len(window) != declared:
            raise ValueError(
                f"{path}, line {case_lines[case]}: a series of length {len(window)}, but the header says "
                f"'@equalLength true' with length {declared}; fix the line, or declare '@equalLength false'."
            )


def _case_values(parts: list[str], path: str, line_number: int) -> np.ndarray:
    """(time, dimensions) float32 from the dimensions' value strings; shorter dimensions padded with NaN."""
    dimensions = []
    for dimension, text in enumerate(parts):
        values = [value.strip() for value in text.split(",")]
        try:
            dimensions.append(
                np.array([math.nan if value in _MISSING_TOKENS else float(value) for value in values], np.float32)
            )
        except ValueError as error:
            raise ValueError(
                f"{path}, line {line_number}, dimension {dimension + 1}: {error}; values must be numbers separated "
                "by ',' with '?' for a missing value."
            ) from error
    # Each dimension as a one-channel series, NaN-padded to the longest, then side by side as channels.
    return np.ascontiguousarray(pad_windows(dimensions)[..., 0].T)


def _is_true(header: dict[str, tuple[int, str]], tag: str) -> bool:
    return tag in header and header[tag][1].lower().split()[:1] == ["true"]


def _positive_int(header: dict[str, tuple[int, str]], tag: str, path: str) -> int:
    line_number, value = header[tag]
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{path}, line {line_number}: '@{tag} {value}' must be a positive whole number.")
    return number
