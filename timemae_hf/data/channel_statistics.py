"""Per-channel mean and std of `past_values`, for the model config's input normalisation."""

import logging

import datasets
import numpy as np

from .streaming import reading_stream

logger = logging.getLogger(__name__)

STREAMING_STATISTICS_WINDOWS = 10_000  # windows of a streaming train split the statistics are computed from


def compute_channel_statistics(
    train_dataset: datasets.Dataset | datasets.IterableDataset | np.ndarray | list,
    min_std: float = 1e-8,
    max_windows: int | None = None,
) -> dict[str, list[float]]:
    """Mean and std of each channel over every observed value of the training split.

    The model stores these in its config (`channel_mean`, `channel_std`) and normalises inside, so
    evaluation and inference reuse the training numbers; computing them on validation or test data
    would leak those splits into the model, hence the check on `train_dataset.split`. Missing values
    (NaN) are ignored and windows may differ in length. A streaming split is read only for its first
    `max_windows` windows (default `STREAMING_STATISTICS_WINDOWS`), and a warning says so.

    Args:
        train_dataset: rows with `past_values` (time, num_channels), any format; a `Dataset` or an
            `IterableDataset`. Or the training windows themselves, already in memory: an array
            (num_windows, time, num_channels) or a list of (time, num_channels) arrays, read as they are
            (wrapping them into a `Dataset` would cost seconds: 14 s for 7,000 windows of 128 x 9).
        min_std: a channel whose std falls below this (a constant channel) gets std 1.0, so
            normalising never divides by zero.
        max_windows: read at most this many windows (None: all of a `Dataset`, a bounded sample of a stream).

    Returns:
        {"channel_mean": [num_channels floats], "channel_std": [num_channels floats]}
    """
    if not isinstance(train_dataset, (datasets.Dataset, datasets.IterableDataset)):
        windows = train_dataset if max_windows is None else train_dataset[:max_windows]
        return _statistics_of_batches([windows], "the training windows", min_std)
    if train_dataset.split is not None and str(train_dataset.split) != str(datasets.Split.TRAIN):
        raise ValueError(
            f"Channel statistics must come from the training split, got the '{train_dataset.split}' split: "
            "pass dataset['train']."
        )
    if isinstance(train_dataset, datasets.IterableDataset):
        max_windows = max_windows or STREAMING_STATISTICS_WINDOWS
        logger.warning(
            "Channel statistics come from the first %d windows of the streaming train split, not all of it.",
            max_windows,
        )
        with reading_stream(train_dataset.take(max_windows)) as examples:
            windows = [np.asarray(example["past_values"], dtype=np.float32) for example in examples]
        batches = _batches_of(windows, 256)
    else:
        if max_windows is not None:
            train_dataset = train_dataset.select(range(min(max_windows, len(train_dataset))))
        batches = (
            batch["past_values"]
            for batch in train_dataset.with_format("numpy", columns=["past_values"]).iter(batch_size=1024)
        )
    return _statistics_of_batches(batches, "the train split", min_std)


def _statistics_of_batches(batches, source: str, min_std: float) -> dict[str, list[float]]:
    """Per-channel mean and std over batches of windows (see `_stacked_time_steps`), NaN ignored."""
    count = mean = sum_of_squares = None  # per channel, combined batch by batch (Chan et al.)
    for batch in batches:
        values = _stacked_time_steps(batch)  # (time steps of the batch, num_channels)
        observed = ~np.isnan(values)
        batch_count = observed.sum(axis=0)
        batch_mean = np.divide(
            np.nansum(values, axis=0), batch_count, out=np.zeros(values.shape[1]), where=batch_count > 0
        )
        batch_sum_of_squares = np.nansum((values - batch_mean) ** 2, axis=0)
        if count is None:
            count, mean, sum_of_squares = batch_count, batch_mean, batch_sum_of_squares
            continue
        total = count + batch_count
        delta = batch_mean - mean
        safe_total = np.maximum(total, 1)
        mean = mean + delta * batch_count / safe_total
        sum_of_squares = sum_of_squares + batch_sum_of_squares + delta**2 * count * batch_count / safe_total
        count = total
    if count is None:
        raise ValueError(f"No windows in {source}; channel statistics need at least one.")
    if (count == 0).any():
        raise ValueError(
            f"Channel(s) {np.flatnonzero(count == 0).tolist()} hold no observed value in {source} (all NaN); "
            "drop them or fill them before training."
        )
    channel_std = np.sqrt(sum_of_squares / count)
    channel_std = np.where(channel_std < min_std, 1.0, channel_std)
    return {"channel_mean": mean.tolist(), "channel_std": channel_std.tolist()}


def _batches_of(windows, batch_size: int):
    batch = []
    for window in windows:
        batch.append(window)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _stacked_time_steps(batch) -> np.ndarray:
    """(sum of window lengths, num_channels) float64 from a 3-D array or a list of (time, channels) windows."""
    if isinstance(batch, np.ndarray) and batch.dtype != object:
        return batch.reshape(-1, batch.shape[-1]).astype(np.float64)
    windows = [np.asarray(window, dtype=np.float64) for window in batch]
    windows = [window[:, None] if window.ndim == 1 else window for window in windows]
    return np.concatenate(windows, axis=0)
