"""What the HAR studies share: the fine-tuning epochs per label fraction, the smoke runs' data and tiny model, and
the authors' linear probe on an encoder's pooled features (with the feature variants the probe study compared)."""

from pathlib import Path

import numpy as np
import torch

from benchmarks.common.launch import SMOKE_MODEL, probe_curve
from benchmarks.common.stats import mean_curve, mean_std
from timemae_hf.training.metrics import classification_metrics
from timemae_hf.training.probing import linear_probe_classifier

# Fine-tuning epochs per label fraction (all, 10 %, 1 % of the train labels): fewer labels are fewer steps per
# epoch, so smaller fractions get more epochs.
DEFAULT_EPOCHS = {1.0: 30, 0.1: 100, 0.01: 300}

# A --smoke run's data: a few hundred windows, so that a study's whole pipeline runs in minutes.
SMOKE_DATA = [
    "--max_train_samples",
    "256",
    "--max_eval_samples",
    "128",
    "--max_test_samples",
    "128",
    "--per_device_train_batch_size",
    "64",
]

# A --smoke pre-training run: a tiny model on the smoke data, probed every epoch.
SMOKE_ARGUMENTS = [
    *SMOKE_MODEL,
    "--codebook_size",
    "16",
    "--num_regressor_layers",
    "1",
    "--probe_every_n_epochs",
    "1",
    "--max_train_samples",
    "256",
    "--max_eval_samples",
    "128",
    "--max_test_samples",
    "128",
    "--per_device_train_batch_size",
    "64",
    "--logging_steps",
    "2",
]

# At most this many fine-tuning epochs per label fraction: har_finetune's, except 150 instead of 300 at 1 % (the
# authors' recipe's mean validation curve over 300 epochs peaks at epoch 54 and never returns to it after epoch 60:
# benchmarks/runs/har_refit/selection_finetune_0.01_*), which halves the study's cost on a 2-core machine.
MAX_EPOCHS = {**DEFAULT_EPOCHS, 0.01: 150}

# name -> (features from the encoder's hidden states, logistic regression C); hidden_states[0] is the embeddings.
PROBE_VARIANTS = {
    "last_layer (authors')": ("last", 1.0),
    "last_layer, C=0.1": ("last", 0.1),
    "last_layer, C=10": ("last", 10.0),
    "last_2_layers_concatenated": ("concat_2", 1.0),
    "last_4_layers_concatenated": ("concat_4", 1.0),
    "all_layers_concatenated": ("concat_all", 1.0),
    "all_layers_averaged": ("average_all", 1.0),
    "last_layer, every patch concatenated (no pooling)": ("patches", 1.0),
}


def layer_features(encoder, past_values: torch.Tensor, batch_size: int = 512) -> tuple[list[np.ndarray], np.ndarray]:
    """
    For (windows, time, channels) float input: the mean-pooled output of every hidden state (embeddings, layer 1..L),
    and the last layer's patches unpooled, flattened to (windows, patches x hidden).
    """
    pooled, patches = [], []
    with torch.inference_mode():
        for start in range(0, len(past_values), batch_size):
            states = encoder(past_values[start : start + batch_size], output_hidden_states=True).hidden_states
            pooled.append([state.mean(dim=1).numpy() for state in states])  # HAR: no padding, every patch observed
            patches.append(states[-1].flatten(1).numpy())
    return [np.concatenate(layer) for layer in zip(*pooled)], np.concatenate(patches)


def probe_features(features: tuple[list[np.ndarray], np.ndarray], kind: str) -> np.ndarray:
    layers, patches = features
    if kind == "patches":
        return patches
    if kind == "last":
        return layers[-1]
    if kind.startswith("concat_"):
        count = len(layers) - 1 if kind == "concat_all" else int(kind.split("_")[1])
        return np.concatenate(layers[-count:], axis=1)
    if kind == "average_all":
        return np.mean(layers[1:], axis=0)
    raise ValueError(kind)


def fit_probe(variant: str, train: tuple, evaluated: dict[str, tuple]) -> dict:
    """
    The authors' probe (standardised one-vs-rest logistic regression) on `variant`'s features; `train` and each of
    `evaluated` are (layer_features(...), labels). Returns {name: accuracy and macro-F1}.
    """
    kind, c = PROBE_VARIANTS[variant]
    probe = linear_probe_classifier().set_params(onevsrestclassifier__estimator__C=c)
    probe.fit(probe_features(train[0], kind), train[1])
    return {
        name: classification_metrics(labels, probe.predict(probe_features(layers, kind)))
        for name, (layers, labels) in evaluated.items()
    }


def encoded(encoder, split) -> tuple:
    windows = split[:]
    return layer_features(encoder, windows["past_values"]), windows["labels"].numpy()


def summarise_variant(extra: list[str], folders: list[Path]) -> dict:
    """Validation accuracy of a variant's runs (one per seed): best epoch, last epoch, and the mean curve."""
    curves = [probe_curve(folder, "eval_accuracy") for folder in folders]
    return {
        "arguments": " ".join(extra) or "(none)",
        "best_epoch_validation_accuracy_percent": mean_std([max(a for _, a in curve) for curve in curves]),
        "last_epoch_validation_accuracy_percent": mean_std([curve[-1][1] for curve in curves]),
        "mean_validation_curve": mean_curve(curves),
    }
