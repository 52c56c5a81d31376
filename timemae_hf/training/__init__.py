"""What the training scripts in `training/` share: arguments, data and model set-up, the pre-training Trainer and its
callbacks, TimeMAE's linear probe, metrics, figures and model cards."""

from ..windows_timemae import pad_past_values
from .arguments import (
    DataTrainingArguments,
    ModelArguments,
    TimeMAETrainingArguments,
    check_process_count,
    check_something_to_do,
    parse_arguments,
)
from .callbacks import (
    EvaluateEveryNEpochsCallback,
    MaskingEpochCallback,
    MomentumUpdateCallback,
    TrainingCurvesCallback,
)
from .collators import WINDOW_INDEX_COLUMN, TimeMAEDataCollator, TimeMAEPretrainingCollator
from .data_loading import (
    apply_min_train_steps,
    check_splits,
    class_names,
    fit_batch_size_to_split,
    in_memory,
    label_config,
    load_splits,
    refit_splits,
    small_data_batch_size,
    stratified_subset,
    training_data_card,
)
from .linear_probe import extract_features, linear_probe_classifier, run_linear_probe
from .logging_setup import setup_logging
from .metrics import classification_metrics, compute_classification_metrics
from .model_card import TrainingDataCard, benchmark_summary, har_training_data, render_model_card, training_command
from .model_loading import (
    build_model,
    check_data_fits_checkpoint,
    check_timemae_checkpoint,
    describe_patching,
    new_model,
)
from .plotting import plot_confusion_matrix, plot_training_curves, save_figure
from .trainer import TimeMAEPretrainingTrainer, TimeMAETrainer


__all__ = [
    "DataTrainingArguments",
    "EvaluateEveryNEpochsCallback",
    "MaskingEpochCallback",
    "ModelArguments",
    "MomentumUpdateCallback",
    "TimeMAEDataCollator",
    "TimeMAEPretrainingCollator",
    "TimeMAEPretrainingTrainer",
    "TimeMAETrainer",
    "TimeMAETrainingArguments",
    "TrainingCurvesCallback",
    "TrainingDataCard",
    "WINDOW_INDEX_COLUMN",
    "apply_min_train_steps",
    "benchmark_summary",
    "build_model",
    "check_data_fits_checkpoint",
    "check_process_count",
    "check_something_to_do",
    "check_splits",
    "check_timemae_checkpoint",
    "class_names",
    "classification_metrics",
    "compute_classification_metrics",
    "describe_patching",
    "extract_features",
    "fit_batch_size_to_split",
    "in_memory",
    "har_training_data",
    "label_config",
    "linear_probe_classifier",
    "load_splits",
    "new_model",
    "pad_past_values",
    "parse_arguments",
    "plot_confusion_matrix",
    "plot_training_curves",
    "refit_splits",
    "render_model_card",
    "run_linear_probe",
    "save_figure",
    "setup_logging",
    "small_data_batch_size",
    "stratified_subset",
    "training_command",
    "training_data_card",
]
