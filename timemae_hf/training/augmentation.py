"""Random augmentations of training windows and layer-wise learning-rate decay: the fine-tuning knobs that
time-series SSL papers (TS-TCC, TS2Vec) and BERT fine-tuning (ELECTRA, BEiT) use, applied inside `Trainer`."""

import re

import torch
from torch import nn

AUGMENTATIONS = ("jitter", "scaling", "time_warp")
JITTER_RELATIVE_STD = 0.05  # Gaussian noise at 5 % of each window-channel's own standard deviation
SCALING_STD = 0.1  # each window-channel multiplied by N(1, 0.1^2), as TS-TCC's weak augmentation
TIME_WARP_KNOTS = 4  # time warping as Um et al. (2017): a smooth random speed through 4 inner knots ...
TIME_WARP_STD = 0.2  # ... each N(1, 0.2^2)


def time_warp(past_values: torch.Tensor, fully_observed: torch.Tensor) -> torch.Tensor:
    """
    Each window replayed at a smoothly varying random speed (one warp shared by its channels, so synchronised sensors
    stay synchronised), resampled by linear interpolation to its own length; its first and last values stay put.
    Windows with unobserved values (`fully_observed` False) are returned as they are: warping would drag padding in.
    """
    batch, length, channels = past_values.shape
    if length < 2:
        return past_values
    knots = 1 + TIME_WARP_STD * torch.randn(batch, 1, TIME_WARP_KNOTS + 2, dtype=past_values.dtype)
    speed = nn.functional.interpolate(knots, size=length, mode="linear", align_corners=True)[:, 0].clamp(min=0.1)
    elapsed = torch.cumsum(speed, dim=1) - speed[:, :1]
    positions = (elapsed / elapsed[:, -1:] * (length - 1)).to(past_values.device)  # 0 .. length-1, increasing
    lower = positions.floor().long().clamp(max=length - 2)
    weight = (positions - lower).unsqueeze(-1)
    index = lower.unsqueeze(-1).expand(-1, -1, channels)
    warped = past_values.gather(1, index) * (1 - weight) + past_values.gather(1, index + 1) * weight
    return torch.where(fully_observed.view(batch, 1, 1), warped, past_values)


def augment_windows(
    past_values: torch.Tensor, augmentations: list[str], past_observed_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """
    `past_values` (batch, time, channels) with each of `augmentations` applied ("time_warp", then "scaling", then
    "jitter"), drawn from torch's global generator (seeded by `Trainer`). Jitter is relative to each window-channel's
    spread, so it means the same for accelerations and angular velocities; unobserved values (`past_observed_mask`
    False) stay as they are.
    """
    unknown = set(augmentations) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"Unknown augmentation(s) {sorted(unknown)}: choose from {AUGMENTATIONS}.")
    observed = torch.ones_like(past_values, dtype=torch.bool) if past_observed_mask is None else past_observed_mask
    observed = observed.to(torch.bool).expand_as(past_values)
    augmented = past_values
    if "time_warp" in augmentations:
        augmented = time_warp(past_values, observed.flatten(1).all(dim=1))
    if "scaling" in augmentations:
        scale = 1 + SCALING_STD * torch.randn(past_values.shape[0], 1, past_values.shape[2], dtype=past_values.dtype)
        augmented = augmented * scale.to(past_values.device)
    if "jitter" in augmentations:
        counts = observed.sum(dim=1, keepdim=True).clamp(min=1)
        mean = (past_values * observed).sum(dim=1, keepdim=True) / counts
        spread = (((past_values - mean) * observed) ** 2).sum(dim=1, keepdim=True).div(counts).sqrt()
        augmented = augmented + JITTER_RELATIVE_STD * spread * torch.randn_like(past_values)
    return torch.where(observed, augmented, past_values)


def layerwise_parameter_groups(
    model: nn.Module, learning_rate: float, weight_decay: float, decay_rate: float, decay_parameter_names: list[str]
) -> list[dict]:
    """
    Optimizer parameter groups whose learning rate shrinks by `decay_rate` per layer from the head down: the head (and
    anything above the encoder) gets `learning_rate`, layer i of L gets `learning_rate * decay_rate ** (L - i)`, the
    patch embeddings `learning_rate * decay_rate ** (L + 1)`. Pre-trained lower layers move less than the new head.
    Weight decay goes to `decay_parameter_names` only, as `Trainer` does.
    """
    num_layers = model.config.num_hidden_layers
    groups: dict[tuple[int, bool], dict] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        layer = re.search(r"encoder\.layer\.(\d+)\.", name)
        depth = int(layer.group(1)) + 1 if layer else 0 if "embeddings." in name else num_layers + 1
        decays = name in decay_parameter_names
        group = groups.setdefault(
            (depth, decays),
            {
                "params": [],
                "lr": learning_rate * decay_rate ** (num_layers + 1 - depth),
                "weight_decay": weight_decay if decays else 0.0,
            },
        )
        group["params"].append(parameter)
    return [groups[key] for key in sorted(groups)]
