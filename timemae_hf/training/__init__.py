"""What the training scripts in `training/` share: arguments, data and model set-up, the pre-training Trainer and its
callbacks, TimeMAE's linear probe, metrics, figures and model cards."""

from .arguments import DataTrainingArguments, ModelArguments, apply_refit, check_process_count, parse_arguments
from .callbacks import (
    EvaluateEveryNEpochsCallback,
    MaskingEpochCallback,
    MomentumUpdateCallback,
    TrainingCurvesCallback,
)
from .collators import WINDOW_INDEX_COLUMN, TimeMAEPretrainingCollator
from .data_loading import class_names, label_config, load_har_splits, stratified_subset
from .linear_probe import extract_features, linear_probe_classifier, run_linear_probe
from .logging_setup import setup_logging
from .metrics import classification_metrics, compute_classification_metrics
from .model_card import benchmark_summary, render_model_card, training_command
from .model_loading import build_model, check_timemae_checkpoint
from .plotting import plot_confusion_matrix, plot_training_curves, save_figure
from .trainer import TimeMAEPretrainingTrainer, TimeMAETrainer


__all__ = [
    "DataTrainingArguments",
    "EvaluateEveryNEpochsCallback",
    "MaskingEpochCallback",
    "ModelArguments",
    "MomentumUpdateCallback",
    "TimeMAEPretrainingCollator",
    "TimeMAEPretrainingTrainer",
    "TimeMAETrainer",
    "TrainingCurvesCallback",
    "WINDOW_INDEX_COLUMN",
    "apply_refit",
    "benchmark_summary",
    "build_model",
    "check_process_count",
    "check_timemae_checkpoint",
    "class_names",
    "classification_metrics",
    "compute_classification_metrics",
    "extract_features",
    "label_config",
    "linear_probe_classifier",
    "load_har_splits",
    "parse_arguments",
    "plot_confusion_matrix",
    "plot_training_curves",
    "save_figure",
    "render_model_card",
    "run_linear_probe",
    "setup_logging",
    "stratified_subset",
    "training_command",
]
