"""Per-channel mean and std of `past_values`, for the model config's input normalisation."""

import datasets
import numpy as np


def compute_channel_statistics(train_dataset: datasets.Dataset, min_std: float = 1e-8) -> dict[str, list[float]]:
    """Mean and std of each channel over every window and time step of the training split.

    The model stores these in its config (`channel_mean`, `channel_std`) and normalises inside, so
    evaluation and inference reuse the training numbers; computing them on validation or test data
    would leak those splits into the model, hence the check on `train_dataset.split`.

    Args:
        train_dataset: rows with `past_values` (window_length, num_channels), any format.
        min_std: a channel whose std falls below this (a constant channel) gets std 1.0, so
            normalising never divides by zero.

    Returns:
        {"channel_mean": [num_channels floats], "channel_std": [num_channels floats]}
    """
    if train_dataset.split is not None and str(train_dataset.split) != str(datasets.Split.TRAIN):
        raise ValueError(
            f"Channel statistics must come from the training split, got the '{train_dataset.split}' split: "
            "pass dataset['train']."
        )
    past_values = train_dataset.with_format("numpy", columns=["past_values"])[:]["past_values"]
    past_values = np.asarray(past_values, dtype=np.float64)  # (num_windows, window_length, num_channels)
    channel_mean = past_values.mean(axis=(0, 1))
    channel_std = past_values.std(axis=(0, 1))
    channel_std = np.where(channel_std < min_std, 1.0, channel_std)
    return {"channel_mean": channel_mean.tolist(), "channel_std": channel_std.tolist()}
