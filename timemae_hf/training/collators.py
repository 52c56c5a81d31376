"""Batching for pre-training."""

from typing import Optional

import numpy as np
import torch


WINDOW_INDEX_COLUMN = "window_index"


class TimeMAEPretrainingCollator:
    """
    Stacks windows into `past_values` (batch, context_length, num_input_channels) for `TimeMAEForPreTraining`.

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
        batch = {"past_values": torch.stack([torch.as_tensor(example["past_values"]) for example in examples])}
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
