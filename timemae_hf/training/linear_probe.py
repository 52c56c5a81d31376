"""TimeMAE's linear-probe protocol: how good are frozen encoder features for classification?

The encoder is frozen and in eval mode; a window's feature is the mean over patches of the last hidden state
(`TimeMAEModel`'s `pooler_output`); a standardised logistic regression is fit on the labelled train split and scored on
the other splits. Unlike the authors' code, which kept the epoch with the best *test* score, checkpoints are selected
on the validation split (held-out train subjects) and the test split is only reported.
"""

import numpy as np
import torch
from datasets import Dataset
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from transformers import PreTrainedModel

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


@torch.no_grad()
def extract_features(model: PreTrainedModel, dataset: Dataset, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """
    Frozen mean-pooled encoder features of every window of `dataset` (rows with `past_values` and `labels`).

    `model` is any TimeMAE model (`TimeMAEModel`, `TimeMAEForPreTraining`, `TimeMAEForSequenceClassification`); its
    `TimeMAEModel` is run in eval mode (no dropout, no masking) and its previous train/eval mode is restored.

    Returns features (num_windows, hidden_size) float32 and labels (num_windows,) int64.
    """
    encoder = model.base_model
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    rows = dataset.with_format("torch", columns=["past_values", "labels"])
    features, labels = [], []
    try:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            pooled = encoder(past_values=batch["past_values"].to(device)).pooler_output
            features.append(pooled.float().cpu().numpy())
            labels.append(batch["labels"].numpy())
    finally:
        encoder.train(was_training)
    return np.concatenate(features), np.concatenate(labels).astype(np.int64)


def run_linear_probe(
    model: PreTrainedModel, train_dataset: Dataset, eval_datasets: dict[str, Dataset], batch_size: int = 256
) -> dict[str, dict[str, float]]:
    """
    Fit the probe on `train_dataset`'s features and score each of `eval_datasets`.

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
