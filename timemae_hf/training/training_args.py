"""`TimeMAETrainingArguments`: transformers' `TrainingArguments` plus what `TimeMAETrainer` and the scripts read."""

from dataclasses import dataclass, field

from transformers import TrainingArguments
from transformers.trainer_utils import IntervalStrategy

from .augmentation import AUGMENTATIONS


@dataclass
class TimeMAETrainingArguments(TrainingArguments):
    """
    transformers' `TrainingArguments`, plus the training budget and the refit stage of the two-stage protocol.

    `--refit` is the second stage: the budget and hyperparameters were chosen on the validation split in a first run;
    the refit run trains with them on train + validation and evaluates on test once. With no validation split left,
    anything that evaluates or selects on validation is refused.
    """

    refit: bool = field(
        default=False,
        metadata={
            "help": "Train on train + validation concatenated, with the budget chosen on validation in an earlier "
            "run (the second stage of the two-stage protocol); no validation split is left, so --do_eval, "
            "--eval_strategy, --load_best_model_at_end and --metric_for_best_model must be off. Recorded in the "
            "results and the model card."
        },
    )
    min_train_steps: int = field(
        default=0,
        metadata={
            "help": "Raise --num_train_epochs so that at least this many optimizer steps run (logged), so that a "
            "recipe written for thousands of windows still trains on a few dozen. 0: off. Ignored with --max_steps."
        },
    )

    augmentations: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Random augmentations of each training batch (never of evaluation): 'jitter' (Gaussian noise at 5 "
            "percent of each window-channel's standard deviation), 'scaling' (each window-channel times N(1, 0.1^2)) "
            "and/or 'time_warp' (each window replayed at a smooth random speed, Um et al. 2017: 4 knots, N(1, "
            "0.2^2)), e.g. --augmentations jitter scaling time_warp. Default: none (the authors' recipe)."
        },
    )
    layerwise_lr_decay: float = field(
        default=1.0,
        metadata={
            "help": "Multiply the learning rate by this factor per encoder layer from the head down (layer-wise "
            "learning-rate decay, as ELECTRA/BEiT fine-tuning), e.g. 0.75; the patch embeddings get the smallest. "
            "1.0: off."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        unknown = sorted(set(self.augmentations) - set(AUGMENTATIONS))
        if unknown:
            raise ValueError(f"--augmentations {' '.join(unknown)}: unknown; choose from {' '.join(AUGMENTATIONS)}.")
        if not 0.0 < self.layerwise_lr_decay <= 1.0:
            raise ValueError(f"--layerwise_lr_decay must be in (0, 1] (1.0 = off), got {self.layerwise_lr_decay}.")
        if self.min_train_steps < 0:
            raise ValueError(
                f"--min_train_steps must be 0 (off) or a positive number of steps, got {self.min_train_steps}."
            )
        if self.refit:
            needs_validation = {
                "--do_eval": self.do_eval,
                "--eval_strategy": self.eval_strategy != IntervalStrategy.NO,
                "--load_best_model_at_end": self.load_best_model_at_end,
                "--metric_for_best_model": bool(self.metric_for_best_model),
            }
            conflicts = [name for name, is_set in needs_validation.items() if is_set]
            if conflicts:
                raise ValueError(
                    f"--refit trains on train + validation, so no validation split is left for {', '.join(conflicts)}. "
                    "Add --do_eval false --eval_strategy no --load_best_model_at_end false --metric_for_best_model "
                    '"" (and the budget chosen on validation, e.g. --num_train_epochs N).'
                )
