"""Figures a training run leaves in its output folder: training curves and the confusion matrix."""

import json
import os
import textwrap

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

# Figures are built as `matplotlib.figure.Figure` objects, not through pyplot: no backend is chosen (importing this
# package changes nothing in the user's matplotlib), no display is needed, and nothing stays open after saving.


# (panel title, y label, [(log key, legend label), ...]); a panel is drawn when one of its keys was logged.
CURVE_PANELS = (
    (
        "Losses",
        "loss",
        [
            ("loss", "train loss"),
            ("mrr_loss", "train MRR loss"),
            ("mcc_loss", "train MCC loss"),
            ("eval_loss", "validation loss"),
        ],
    ),
    (
        "Codeword prediction",
        "accuracy",
        # Training targets are sampled from the codebook scores (Gumbel-max), evaluation targets are their argmax.
        [("codeword_accuracy", "train (sampled targets)"), ("eval_codeword_accuracy", "validation (argmax targets)")],
    ),
    (
        "Validation",
        "score",
        [
            ("eval_probe_accuracy", "linear-probe accuracy"),
            ("eval_probe_macro_f1", "linear-probe macro-F1"),
            ("eval_accuracy", "accuracy"),
            ("eval_macro_f1", "macro-F1"),
        ],
    ),
)


# Validation metrics whose best value is marked (the ones checkpoints are usually selected on).
SELECTION_METRICS = ("eval_probe_accuracy", "eval_accuracy")


def save_figure(figure, path: str, command: str = "") -> str:
    """Write the figure with the command that made it in its bottom corner (so a PNG found alone still explains
    itself)."""
    if command:
        footer = "\n".join(textwrap.wrap(command, width=int(figure.get_figwidth() * 18)))
        figure.text(0.01, 0.005, footer, fontsize=6, color="gray", va="bottom")
        figure.tight_layout(rect=(0, 0.03 * (footer.count("\n") + 1), 1, 1))
    else:
        figure.tight_layout()
    figure.savefig(path, dpi=120, bbox_inches="tight", pad_inches=0.1)  # titles are never clipped
    return path


def _series(log_history: list[dict], key: str) -> tuple[list[float], list[float]]:
    points = [(entry["epoch"], entry[key]) for entry in log_history if key in entry and "epoch" in entry]
    return [epoch for epoch, _ in points], [value for _, value in points]


def plot_training_curves(log_history: list[dict], path: str, title: str = "", command: str = "") -> str | None:
    """
    Draw the logged losses, codeword accuracy and validation scores against epoch into `path` (PNG) and return
    `path`, or None when nothing was logged during training. `command`, if given, is printed in the corner. Entries
    logged after training ended (the final evaluation of the selected checkpoint) are not part of the curves.
    """
    end_of_training = next((i for i, entry in enumerate(log_history) if "train_runtime" in entry), len(log_history))
    log_history = log_history[:end_of_training]
    panels = [panel for panel in CURVE_PANELS if any(_series(log_history, key)[0] for key, _ in panel[2])]
    if not panels:  # nothing logged against epochs (e.g. an evaluation-only run)
        return None
    figure = Figure(figsize=(5.2 * len(panels), 4.2))
    axes = figure.subplots(1, len(panels), squeeze=False)
    for axis, (panel_title, y_label, curves) in zip(axes[0], panels):
        for key, label in curves:
            epochs, values = _series(log_history, key)
            if epochs:
                axis.plot(epochs, values, marker="o" if len(epochs) <= 30 else None, markersize=3, label=label)
                if key in SELECTION_METRICS:
                    best = int(np.argmax(values))
                    axis.annotate(
                        f"best {values[best]:.3f}",
                        (epochs[best], values[best]),
                        textcoords="offset points",
                        xytext=(0, 6),
                        ha="center",
                        fontsize=8,
                    )
                    axis.margins(y=0.15)
        axis.set_title(panel_title)
        axis.set_xlabel("epoch")
        axis.set_ylabel(y_label)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    return save_figure(figure, path, command)


def plot_confusion_matrix(
    labels, predictions, class_names: list[str], path: str, title: str = "", command: str = ""
) -> str:
    """Counts of true (rows) vs predicted (columns) activities, each cell also as a share of its true class. The counts
    are also written beside the PNG as JSON (same name, `.json`), for studies that add up confusions over runs."""
    matrix = confusion_matrix(labels, predictions, labels=list(range(len(class_names))))
    with open(os.path.splitext(path)[0] + ".json", "w") as file:
        json.dump({"class_names": list(class_names), "true_rows_predicted_columns": matrix.tolist()}, file, indent=2)
    row_share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure = Figure(figsize=(7.5, 6.5))
    axis = figure.subplots()
    display = ConfusionMatrixDisplay(row_share, display_labels=class_names).plot(
        ax=axis, cmap="Blues", values_format=".2f", xticks_rotation=40, colorbar=True
    )
    for tick_label in axis.get_xticklabels():
        tick_label.set(ha="right", rotation_mode="anchor")
    for text, count in zip(display.text_.ravel(), matrix.ravel()):
        text.set_text(f"{text.get_text()}\n({count})")
        text.set_fontsize(8)
    axis.set_title(
        f"{title}\ncells: share of the true class (count)" if title else "cells: share of the true class (count)"
    )
    return save_figure(figure, path, command)
