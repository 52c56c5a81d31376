"""Batching for TimeMAE: windows of any length, with missing values, into the model's inputs."""

import numpy as np
import torch

from ..windows_timemae import pad_past_values

WINDOW_INDEX_COLUMN = "window_index"


class TimeMAEDataCollator:
    """
    Batches rows with `past_values` (and, when present, `labels`) for any TimeMAE model: windows are padded to the
    batch's longest, NaN becomes 0, and `past_observed_mask` says which values are real (`pad_past_values`, the one
    routine that turns windows into model inputs). Other columns are left out.
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

    def __init__(self, num_patches: int, mask_seed: int | None = None):
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
