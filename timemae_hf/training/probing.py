"""TimeMAE's linear-probe protocol: how good are frozen encoder features for classification?

The encoder is frozen and in eval mode; a window's feature is the mean over patches of the last hidden state
(`TimeMAEModel`'s `pooler_output`); a standardised logistic regression is fit on the labelled train split and scored on
the other splits. Unlike the authors' code, which kept the epoch with the best *test* score, checkpoints are selected
on the validation split and the test split is only reported.
"""

from typing import Any

import numpy as np
import torch
from datasets import Dataset
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from transformers import PreTrainedModel

from ..windows_timemae import pad_past_values
from .metrics import classification_metrics

PROBE_RANDOM_STATE = 3407


def linear_probe_classifier() -> Pipeline:
    """The authors' probe: `StandardScaler` + one-vs-rest `LogisticRegression(random_state=3407, max_iter=1e6)`."""
    # The authors wrote LogisticRegression(multi_class="ovr"); scikit-learn 1.7 removed `multi_class`, and
    # OneVsRestClassifier fits the same one binary logistic regression per class.
    return make_pipeline(
        StandardScaler(),
        OneVsRestClassifier(LogisticRegression(random_state=PROBE_RANDOM_STATE, max_iter=1_000_000)),
    )


# Labelled windows: a `datasets.Dataset` with `past_values` and `labels`, or numpy arrays `(X, y)` with X of shape
# (num_windows, time, channels) (or (num_windows, time) for one channel; a list of (time, channels) arrays of different
# lengths, NaN where missing, also works) and y (num_windows,) integer class ids.
LabelledWindows = Dataset | tuple[Any, Any]


def _windows_and_labels(data: LabelledWindows) -> tuple[Any, np.ndarray]:
    if isinstance(data, Dataset):
        missing = {"past_values", "labels"} - set(data.column_names)
        if missing:
            raise ValueError(
                f"The linear probe needs columns 'past_values' and 'labels'; the dataset lacks {sorted(missing)} "
                f"(it has {data.column_names})."
            )
        labels = data.with_format("numpy", columns=["labels"])[:]["labels"]
        return data.with_format("numpy", columns=["past_values"]), np.asarray(labels)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        series, labels = data
        labels = np.asarray(labels)
        if len(series) != len(labels):
            raise ValueError(f"X holds {len(series)} windows but y {len(labels)} labels; give one label per window.")
        return series, labels
    raise TypeError(
        f"Expected a datasets.Dataset with 'past_values' and 'labels' or a pair (X, y) of arrays, got "
        f"{type(data).__name__}."
    )


@torch.no_grad()
def extract_features(
    model: PreTrainedModel, data: LabelledWindows, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """
    Frozen mean-pooled encoder features of every window of `data` (a `Dataset` or `(X, y)`, see `LabelledWindows`).

    `model` is any TimeMAE model (`TimeMAEModel`, `TimeMAEForPreTraining`, `TimeMAEForSequenceClassification`); its
    `TimeMAEModel` is run in eval mode (no dropout, no masking) and its previous train/eval mode is restored. Windows
    are batched as in training (`pad_past_values`: padded to the batch's longest, NaN to 0 with an observed mask), so
    padding and missing values never reach the pooled features.

    Returns features (num_windows, hidden_size) float32 and labels (num_windows,) int64.
    """
    series, labels = _windows_and_labels(data)
    encoder = model.base_model
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    features = []
    try:
        for start in range(0, len(labels), batch_size):
            window_rows = series[start : start + batch_size]
            if isinstance(window_rows, dict):  # a slice of a Dataset
                window_rows = window_rows["past_values"]
            batch = {name: value.to(device) for name, value in pad_past_values(list(window_rows)).items()}
            features.append(encoder(**batch).pooler_output.float().cpu().numpy())
    finally:
        encoder.train(was_training)
    return np.concatenate(features), labels.astype(np.int64)


def run_linear_probe(
    model: PreTrainedModel,
    train_dataset: LabelledWindows,
    eval_datasets: dict[str, LabelledWindows],
    batch_size: int = 256,
) -> dict[str, dict[str, float]]:
    """
    Fit the probe on `train_dataset`'s features and score each of `eval_datasets`; each is a `datasets.Dataset` with
    `past_values` and `labels`, or numpy arrays `(X, y)`:

        run_linear_probe(encoder, (X_train, y_train), {"test": (X_test, y_test)})

    Returns `{name: {"accuracy": ..., "macro_f1": ...}}` for every name of `eval_datasets`.
    """
    train_features, train_labels = extract_features(model, train_dataset, batch_size)
    if len(np.unique(train_labels)) < 2:
        raise ValueError(
            f"The linear probe's train split has {len(train_labels)} windows of a single class; it needs at least two "
            "classes: raise --max_train_samples."
        )
    classifier = linear_probe_classifier().fit(train_features, train_labels)
    results = {}
    for name, dataset in eval_datasets.items():
        features, labels = extract_features(model, dataset, batch_size)
        results[name] = classification_metrics(labels, classifier.predict(features))
    return results
