"""Random augmentations of training windows and layer-wise learning-rate decay: the fine-tuning knobs that
time-series SSL papers (TS-TCC, TS2Vec) and BERT fine-tuning (ELECTRA, BEiT) use, applied inside `Trainer`."""

import re

import torch
from torch import nn

AUGMENTATIONS = ("jitter", "scaling")
JITTER_RELATIVE_STD = 0.05  # Gaussian noise at 5 % of each window-channel's own standard deviation
SCALING_STD = 0.1  # each window-channel multiplied by N(1, 0.1^2), as TS-TCC's weak augmentation


def augment_windows(
    past_values: torch.Tensor, augmentations: list[str], past_observed_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """
    `past_values` (batch, time, channels) with each of `augmentations` applied ("jitter", "scaling"), drawn from
    torch's global generator (seeded by `Trainer`). Jitter is relative to each window-channel's spread, so it means the
    same for accelerations and angular velocities; unobserved values (`past_observed_mask` False) stay as they are.
    """
    unknown = set(augmentations) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"Unknown augmentation(s) {sorted(unknown)}: choose from {AUGMENTATIONS}.")
    observed = torch.ones_like(past_values, dtype=torch.bool) if past_observed_mask is None else past_observed_mask
    observed = observed.to(torch.bool).expand_as(past_values)
    augmented = past_values
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
        group = groups.setdefault((depth, decays), {
            "params": [],
            "lr": learning_rate * decay_rate ** (num_layers + 1 - depth),
            "weight_decay": weight_decay if decays else 0.0,
        })  # fmt: skip
        group["params"].append(parameter)
    return [groups[key] for key in sorted(groups)]
