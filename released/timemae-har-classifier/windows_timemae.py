"""Windows in, model inputs out: the one place where windows become `past_values` + `past_observed_mask`.

Windows come as numpy arrays, torch tensors or nested lists, as one `(batch, time, channels)` array or as a list of
`(time, channels)` (or `(time,)`) series of different lengths, with NaN where a value is missing. The collator, the
pipeline, the estimator and the linear probe all batch them here, as transformers' `SequenceFeatureExtractor.pad`
does for audio: right-padded values plus a mask of what is real.

This file imports nothing from `timemae_hf` (only numpy and torch): the pipeline imports it, and it is saved beside
released checkpoints with the pipeline's code, to be loaded with `trust_remote_code=True` where the package is not
installed.
"""

from typing import Any

import numpy as np
import torch


def window_array(values: Any) -> np.ndarray:
    """Any numeric array-like (numpy, torch, nested lists) as float32 numpy, or an error that says what was wrong."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu()
        if values.dtype == torch.bool or values.is_complex():
            raise TypeError(f"Windows must hold real numbers, got a {values.dtype} tensor.")
        return values.float().numpy()
    equal_tensors = isinstance(values, (list, tuple)) and values and all(isinstance(v, torch.Tensor) for v in values)
    if equal_tensors and len({tuple(value.shape) for value in values}) == 1:
        return window_array(torch.stack(list(values)))
    if isinstance(values, str) or values is None:
        raise TypeError(
            f"Windows must be numpy arrays, torch tensors or nested lists of numbers, got {type(values).__name__}."
        )
    try:
        array = np.asarray(values)
    except ValueError as error:  # numpy refuses ragged nesting
        raise ValueError(
            "Could not read the input as windows: nested lists must be rectangular (time, channels) per window "
            f"({error})."
        ) from error
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(
            f"Windows must hold real numbers, got an array of dtype {array.dtype} "
            f"({type(values).__name__} input): convert the values to floats first."
        )
    return array.astype(np.float32, copy=False)


def pad_windows(windows: Any, length: int | None = None) -> np.ndarray:
    """
    Windows as one float32 array `(batch, length, channels)`, NaN where a value is missing and after the end of a
    window shorter than `length` (default: the longest window's).

    `windows` is a `(batch, time, channels)` array or tensor (`(batch, time)` for one channel), or a sequence of
    windows `(time, channels)` (or `(time,)`) of any lengths, with the same channels.
    """
    if isinstance(windows, (np.ndarray, torch.Tensor)) and windows.ndim in (2, 3):
        batch = window_array(windows)
        batch = batch[..., None] if batch.ndim == 2 else batch
    else:
        series = [window_array(window) for window in windows]
        if not series:
            raise ValueError("No windows given: pass at least one window (time, channels).")
        series = [window[:, None] if window.ndim == 1 else window for window in series]
        channel_counts = {window.shape[-1] if window.ndim == 2 else None for window in series}
        if len(channel_counts) != 1 or None in channel_counts:
            raise ValueError(
                f"Windows must each be (time,) or (time, channels), with the same channels (lengths may differ), got "
                f"shapes {sorted({tuple(window.shape) for window in series})}."
            )
        if len({len(window) for window in series}) == 1:
            batch = np.stack(series)
        else:
            batch = np.full((len(series), max(map(len, series)), channel_counts.pop()), np.nan, dtype=np.float32)
            for row, window in enumerate(series):
                batch[row, : len(window)] = window
    if length is None or batch.shape[1] == length:
        return batch
    if batch.shape[1] > length:
        raise ValueError(f"Windows of {batch.shape[1]} steps do not fit in {length}: crop them to {length} steps.")
    return np.pad(batch, ((0, 0), (0, length - batch.shape[1]), (0, 0)), constant_values=np.nan)


def pad_past_values(windows: Any, length: int | None = None) -> dict[str, torch.Tensor]:
    """
    Windows (see `pad_windows`) as the model's inputs:

    - `past_values` (batch, length, channels) float32, right-padded with 0, NaN replaced by 0;
    - `past_observed_mask` (same shape) bool, False on padding and missing values; left out when every value is
      observed, so equal-length windows without NaN are exactly `torch.stack` of the windows.
    """
    batch = pad_windows(windows, length)
    observed = ~np.isnan(batch)
    if observed.all():
        return {"past_values": torch.from_numpy(batch)}
    return {
        "past_values": torch.from_numpy(np.where(observed, batch, np.float32(0))),
        "past_observed_mask": torch.from_numpy(observed),
    }
