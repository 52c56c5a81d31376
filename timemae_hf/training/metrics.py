"""Classification metrics for HAR: accuracy and macro-F1, computed with scikit-learn.

We do not use the Hub's `evaluate` metrics (`evaluate.load("accuracy")`): `evaluate` fetches each metric's script from
the Hugging Face Hub on first use, so it fails on machines without Hub access (such as the one this project is built
and tested on, and many compute clusters). scikit-learn computes the same numbers locally.
"""

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from transformers import EvalPrediction


def classification_metrics(labels, predictions) -> dict[str, float]:
    """Accuracy and macro-F1 (the unweighted mean of per-class F1, so every activity counts equally)."""
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": float(f1_score(labels, predictions, average="macro")),
    }


def compute_classification_metrics(eval_prediction: EvalPrediction) -> dict[str, float]:
    """`Trainer(compute_metrics=...)` hook: logits (num_samples, num_labels) and labels (num_samples,) -> metrics."""
    logits = eval_prediction.predictions
    if isinstance(logits, tuple):  # models that return more than logits put them first
        logits = logits[0]
    return classification_metrics(eval_prediction.label_ids, np.argmax(logits, axis=-1))
