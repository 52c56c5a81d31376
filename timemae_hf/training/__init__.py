"""Training TimeMAE with transformers' `Trainer`: the pre-training and fine-tuning Trainers, their arguments,
callbacks and collators, TimeMAE's linear probe, metrics, figures, model cards, and the data and model helpers that
the training scripts in `training/` and `TimeMAEClassifier` share. What only the scripts use (their argument
dataclasses, config-file parsing, launcher checks, data loading by argument) lives beside them in `training/`."""

from ..windows_timemae import pad_past_values
from .callbacks import (
    EvaluateEveryNEpochsCallback,
    MaskingEpochCallback,
    MomentumUpdateCallback,
    TrainingCurvesCallback,
)
from .collators import WINDOW_INDEX_COLUMN, TimeMAEDataCollator, TimeMAEPretrainingCollator
from .data_loading import (
    class_names,
    in_memory,
    label_config,
    refit_splits,
    small_data_batch_size,
    stratified_subset,
)
from .metrics import classification_metrics, compute_classification_metrics
from .model_card import TrainingDataCard, har_training_data, render_model_card, training_command
from .model_loading import describe_patching, new_model
from .plotting import plot_confusion_matrix, plot_training_curves, save_figure
from .probing import extract_features, linear_probe_classifier, run_linear_probe
from .trainer import TimeMAEPretrainingTrainer, TimeMAETrainer
from .training_args import TimeMAETrainingArguments

__all__ = [
    "EvaluateEveryNEpochsCallback",
    "MaskingEpochCallback",
    "MomentumUpdateCallback",
    "TimeMAEDataCollator",
    "TimeMAEPretrainingCollator",
    "TimeMAEPretrainingTrainer",
    "TimeMAETrainer",
    "TimeMAETrainingArguments",
    "TrainingCurvesCallback",
    "TrainingDataCard",
    "WINDOW_INDEX_COLUMN",
    "class_names",
    "classification_metrics",
    "compute_classification_metrics",
    "describe_patching",
    "extract_features",
    "har_training_data",
    "in_memory",
    "label_config",
    "linear_probe_classifier",
    "new_model",
    "pad_past_values",
    "plot_confusion_matrix",
    "plot_training_curves",
    "refit_splits",
    "render_model_card",
    "run_linear_probe",
    "save_figure",
    "small_data_batch_size",
    "stratified_subset",
    "training_command",
]
