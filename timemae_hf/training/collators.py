"""Batching for TimeMAE: windows of any length, with missing values, into the model's inputs."""

from typing import Optional

import numpy as np
import torch


WINDOW_INDEX_COLUMN = "window_index"


def pad_past_values(series: list) -> dict[str, torch.Tensor]:
    """
    Stack windows of `(time, channels)` (or `(time,)`) values, of any lengths and with NaN where a value is missing,
    into the model's inputs:

    - `past_values` (batch, longest time, channels) float32, right-padded with 0, NaN replaced by 0;
    - `past_observed_mask` (same shape) bool, False on padding and missing values; left out when every window of the
      batch has the same length and no missing value, so such batches are exactly `torch.stack` of the windows.
    """
    windows = [values.float() if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values, np.float32))
               for values in series]  # fmt: skip
    windows = [window.unsqueeze(-1) if window.dim() == 1 else window for window in windows]
    channel_counts = {window.shape[-1] for window in windows}
    if len(channel_counts) > 1 or any(window.dim() != 2 for window in windows):
        raise ValueError(
            f"Windows of one batch must all be (time, channels) with the same channels, got shapes "
            f"{sorted({tuple(window.shape) for window in windows})}."
        )
    lengths = [window.shape[0] for window in windows]
    if len(set(lengths)) == 1:
        stacked = torch.stack(windows)
        if not torch.isnan(stacked).any():  # one check for the batch, not one per window
            return {"past_values": stacked}
    past_values = torch.zeros(len(windows), max(lengths), channel_counts.pop())
    observed = torch.zeros(past_values.shape, dtype=torch.bool)
    for row, window in enumerate(windows):
        is_observed = ~torch.isnan(window)
        past_values[row, : len(window)] = torch.where(is_observed, window, 0.0)
        observed[row, : len(window)] = is_observed
    return {"past_values": past_values, "past_observed_mask": observed}


class TimeMAEDataCollator:
    """
    Batches rows with `past_values` (and, when present, `labels`) for any TimeMAE model: windows are padded to the
    batch's longest, NaN becomes 0, and `past_observed_mask` says which values are real (see `pad_past_values`).
    Other columns are left out.
    """

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        batch = pad_past_values([example["past_values"] for example in examples])
        if "labels" in examples[0]:
            batch["labels"] = torch.as_tensor(np.asarray([example["labels"] for example in examples]))
        return batch


class TimeMAEPretrainingCollator(TimeMAEDataCollator):
    """
    Batches windows into `past_values` (batch, time, num_input_channels) (+ `past_observed_mask` for padded or
    incomplete windows) for `TimeMAEForPreTraining`; labels are not passed (pre-training uses none).

    By default the model draws its masks from the torch RNG of each process. With `mask_seed`, the collator also
    passes `noise` (batch, num_patches): each window's masking noise comes from its own generator seeded by
    `(mask_seed, epoch, window_index)`, so a window gets the same mask whatever the batch size, the number of
    processes or the position in the batch; and a new one every epoch. Windows then need a `window_index` column
    (their row number in the dataset), and `set_epoch` must be called at the start of each epoch (see
    `MaskingEpochCallback`).
    """

    def __init__(self, num_patches: int, mask_seed: Optional[int] = None):
        self.num_patches = num_patches
        self.mask_seed = mask_seed
        self.epoch = 0

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        batch = pad_past_values([example["past_values"] for example in examples])
        if self.mask_seed is not None:
            if WINDOW_INDEX_COLUMN not in examples[0]:
                raise ValueError(
                    f"mask_seed needs a '{WINDOW_INDEX_COLUMN}' column (the row number of each window); add it with "
                    f"dataset.add_column('{WINDOW_INDEX_COLUMN}', range(len(dataset)))."
                )
            batch["noise"] = torch.stack(
                [self.masking_noise(int(example[WINDOW_INDEX_COLUMN])) for example in examples]
            )
        return batch

    def masking_noise(self, window_index: int) -> torch.Tensor:
        """(num_patches,) uniform noise of one window in the current epoch; the highest values get masked."""
        generator = np.random.default_rng([self.mask_seed, self.epoch, window_index])
        return torch.from_numpy(generator.random(self.num_patches, dtype=np.float32))
