"""`TrainerCallback`s for TimeMAE pre-training: what must happen inside Trainer's loop without forking it."""

import math
import os

from accelerate.utils import extract_model_from_parallel
from transformers import TrainerCallback
from transformers.trainer_utils import IntervalStrategy

from .collators import TimeMAEPretrainingCollator
from .plotting import plot_training_curves


class MomentumUpdateCallback(TrainerCallback):
    """
    EMA update of the momentum (target) encoder after every optimizer step, as TimeMAE does.

    `on_step_end` runs once per optimizer step: after the last micro-batch under gradient accumulation, and on every
    process, each updating its own replica from the same, already synchronised, online weights.
    """

    def on_step_end(self, args, state, control, model=None, **kwargs):
        model = extract_model_from_parallel(model)
        if not hasattr(model, "momentum_update"):
            raise TypeError(
                f"MomentumUpdateCallback needs a model with `momentum_update()` (TimeMAEForPreTraining), got "
                f"{type(model).__name__}."
            )
        model.momentum_update()


class EvaluateEveryNEpochsCallback(TrainerCallback):
    """
    With `eval_strategy="epoch"`, evaluate (and so run the linear probe) only every `every_n_epochs` epochs and after
    the last step, as TimeMAE probes every 5 epochs. Saving is left to `save_strategy`, so checkpoints for resuming
    can still be written every epoch.
    """

    def __init__(self, every_n_epochs: int):
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be at least 1, got {every_n_epochs}.")
        self.every_n_epochs = every_n_epochs

    def on_epoch_end(self, args, state, control, **kwargs):
        if args.eval_strategy != IntervalStrategy.EPOCH or not control.should_evaluate:
            return
        is_last_step = state.global_step >= state.max_steps
        if round(state.epoch) % self.every_n_epochs != 0 and not is_last_step:
            control.should_evaluate = False


class MaskingEpochCallback(TrainerCallback):
    """Tells a seeded `TimeMAEPretrainingCollator` which epoch starts, so each epoch brings new masks."""

    def __init__(self, collator: TimeMAEPretrainingCollator):
        self.collator = collator

    def on_epoch_begin(self, args, state, control, **kwargs):
        # state.epoch is the number of epochs done so far, fractional when resuming inside an epoch.
        self.collator.set_epoch(math.floor(state.epoch or 0))


class TrainingCurvesCallback(TrainerCallback):
    """Redraws `output_dir/training_curves.png` from the Trainer's log history after each evaluation and at the end."""

    file_name = "training_curves.png"

    def __init__(self, title: str, command: str = ""):
        self.title = title
        self.command = command

    def _plot(self, args, state):
        if state.is_world_process_zero and state.log_history:
            os.makedirs(args.output_dir, exist_ok=True)
            plot_training_curves(
                state.log_history, os.path.join(args.output_dir, self.file_name), self.title, self.command
            )

    def on_evaluate(self, args, state, control, **kwargs):
        self._plot(args, state)

    def on_train_end(self, args, state, control, **kwargs):
        self._plot(args, state)
