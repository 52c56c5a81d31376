"""`Trainer` subclasses: TimeMAE's batching and model card, and pre-training's momentum update and extra logs (loss
parts, linear probe)."""

import atexit
import os

import torch
from accelerate.utils import broadcast_object_list
from datasets import Dataset
from transformers import Trainer

from .. import TimeMAEForPreTraining
from .augmentation import augment_windows, layerwise_parameter_groups
from .callbacks import MomentumUpdateCallback
from .collators import TimeMAEDataCollator, TimeMAEPretrainingCollator
from .model_card import TrainingDataCard, render_model_card
from .probing import run_linear_probe


class TimeMAETrainer(Trainer):
    """
    A `Trainer` for TimeMAE models that

    - batches with `TimeMAEDataCollator` unless given another `data_collator`: windows of any length are padded to the
      batch's longest, NaN becomes 0 and `past_observed_mask` tells the model which values are real;
    - writes TimeMAE's model card in `create_model_card` (also called by `push_to_hub`), rendered from
      `model_cards/timemae.md` with the run's measured results, command and `training_data` (a `TrainingDataCard`:
      the data's name, channels and how its validation split was made), instead of Trainer's generic draft;
    - augments training batches (evaluation never) with `augmentations`, or with `TimeMAETrainingArguments`'
      `--augmentations`, and decays the learning rate layer by layer (`--layerwise_lr_decay`).
    """

    def __init__(
        self,
        *args,
        training_data: TrainingDataCard | None = None,
        augmentations: list[str] | None = None,
        **kwargs,
    ):
        if kwargs.get("data_collator") is None and len(args) < 3:
            kwargs["data_collator"] = self.default_collator(kwargs.get("model", args[0] if args else None))
        super().__init__(*args, **kwargs)
        self.training_data = training_data
        self.augmentations = list(augmentations or getattr(self.args, "augmentations", None) or [])

    @staticmethod
    def default_collator(model):
        return TimeMAEDataCollator()

    def end_training(self):
        """
        Leave the process group of a multi-process run before the script exits, without the exit deadlock of gloo.

        gloo's worker threads may still hold the last collectives (an allgather kept alive by the barrier after it),
        and freeing their tensors needs the GIL. Whoever drops the last reference to the gloo backend joins those
        workers: the DDP wrapper's reducer does, when the script's trainer goes out of scope, holding the GIL, so
        the join never returns (py-spy: main thread in `~ProcessGroupGloo` under `~Reducer`, worker in
        `gil_scoped_acquire` under `~AsyncBarrierWork`; about 1 run in 7 on a busy 2-core machine). So this keeps a
        reference to the backend through its typed Python handle, whose destructor releases the GIL, and drops it at
        interpreter exit, after every other holder is gone: the workers then take the GIL, finish and are joined.
        """
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()  # every process is done with its collectives before any leaves
            process_group = torch.distributed.group.WORLD
            if torch.distributed.get_backend(process_group) == "gloo":
                _release_at_exit(process_group._get_backend(torch.device("cpu")))
        self.accelerator.end_training()  # destroy_process_group in a multi-process run

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self.augmentations:
            inputs = {
                **inputs,
                "past_values": augment_windows(
                    inputs["past_values"], self.augmentations, inputs.get("past_observed_mask")
                ),
            }
        return super().training_step(model, inputs, num_items_in_batch)

    def create_optimizer(self, model=None):
        decay_rate = getattr(self.args, "layerwise_lr_decay", 1.0)
        if decay_rate == 1.0 or self.optimizer is not None:
            return super().create_optimizer(model)
        model = self.model if model is None else model
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
        groups = layerwise_parameter_groups(
            model, self.args.learning_rate, self.args.weight_decay, decay_rate, self.get_decay_parameter_names(model)
        )
        self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer

    def create_model_card(
        self,
        model_name: str | None = None,
        tags: list[str] | None = None,
        results: dict[str, float] | None = None,
        training_command: str | None = None,
        **kwargs,
    ) -> None:
        if not self.is_world_process_zero():
            return
        card = render_model_card(
            model=self.accelerator.unwrap_model(self.model),
            # The Hub id when pushing ("org/name": the card's usage snippet loads it), else the given or folder name.
            model_name=self.args.hub_model_id or model_name or os.path.basename(os.path.abspath(self.args.output_dir)),
            results=results or {},
            training_command=training_command,
            training_args=self.args,
            extra_tags=tags,
            selected_step=self.state.best_global_step if self.args.load_best_model_at_end else None,
            training_data=self.training_data,
            trained_steps=self.state.global_step,
        )
        card.save(os.path.join(self.args.output_dir, "README.md"))


class TimeMAEPretrainingTrainer(TimeMAETrainer):
    """
    Trainer for `TimeMAEForPreTraining` that also logs

    - the parts of the loss, `mrr_loss`, `mcc_loss`, and `codeword_accuracy` (training logs: mean since the last log;
      evaluations: `eval_mrr_loss`, ...), averaged over processes;
    - at each evaluation, TimeMAE's linear probe: fit on `probe_train_dataset`, scored on the evaluated split, as
      `eval_probe_accuracy` and `eval_probe_macro_f1` (`test_probe_*` for `evaluate(test, metric_key_prefix="test")`).
      They are part of the evaluation metrics, so `metric_for_best_model="probe_accuracy"` selects checkpoints on them.

    The probe is part of the evaluation rather than a `TrainerCallback.on_evaluate` because Trainer logs an
    evaluation's metrics before it calls `on_evaluate`: a callback's probe scores could steer checkpoint selection but
    would be missing from the logs, `trainer_state.json` and the curves. Which epochs evaluate is a callback's choice
    (`EvaluateEveryNEpochsCallback`), and so is the EMA update of the momentum encoder (`MomentumUpdateCallback`),
    which this trainer adds itself when none was given: without it the target encoder would never move, silently.
    Without a `data_collator` it batches with `TimeMAEPretrainingCollator` (random masks from the model).
    """

    LOSS_PARTS = ("mrr_loss", "mcc_loss", "codeword_accuracy")

    @staticmethod
    def default_collator(model):
        return TimeMAEPretrainingCollator(model.config.num_patches)

    def __init__(self, *args, probe_train_dataset: Dataset | None = None, probe_batch_size: int = 256, **kwargs):
        super().__init__(*args, **kwargs)
        model = self.accelerator.unwrap_model(self.model)
        has_momentum_update = any(isinstance(cb, MomentumUpdateCallback) for cb in self.callback_handler.callbacks)
        if isinstance(model, TimeMAEForPreTraining) and not has_momentum_update:
            self.add_callback(MomentumUpdateCallback())
        self.probe_train_dataset = probe_train_dataset
        self.probe_batch_size = probe_batch_size
        # Per mode ("train" / "eval"): summed loss parts (on device, no sync per step) and micro-batch count.
        self._loss_part_sums = {"train": None, "eval": None}
        self._loss_part_counts = {"train": 0, "eval": 0}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        mode = "train" if model.training else "eval"
        parts = torch.stack([outputs[name].detach().float() for name in self.LOSS_PARTS])
        sums = self._loss_part_sums[mode]
        self._loss_part_sums[mode] = parts if sums is None else sums + parts
        self._loss_part_counts[mode] += 1
        return (loss, outputs) if return_outputs else loss

    def _pop_loss_parts(self, mode: str) -> dict[str, float]:
        """Mean of each loss part over the micro-batches since the last call, averaged over processes; then reset."""
        sums, count = self._loss_part_sums[mode], self._loss_part_counts[mode]
        self._loss_part_sums[mode], self._loss_part_counts[mode] = None, 0
        if sums is None:
            return {}
        means = self.accelerator.gather((sums / count).unsqueeze(0)).mean(dim=0)
        return {name: value.item() for name, value in zip(self.LOSS_PARTS, means)}

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:  # a training log (evaluation logs only hold prefixed keys)
            logs.update(self._pop_loss_parts("train"))
        super().log(logs, start_time)

    def evaluation_loop(
        self, dataloader, description, prediction_loss_only=None, ignore_keys=None, metric_key_prefix="eval"
    ):
        self._loss_part_sums["eval"], self._loss_part_counts["eval"] = None, 0
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        output.metrics.update({f"{metric_key_prefix}_{k}": v for k, v in self._pop_loss_parts("eval").items()})
        if self.probe_train_dataset is not None:
            probe = self.linear_probe(dataloader.dataset)
            output.metrics.update({f"{metric_key_prefix}_probe_{name}": value for name, value in probe.items()})
        return output

    def linear_probe(self, eval_dataset: Dataset) -> dict[str, float]:
        """Probe accuracy and macro-F1 on `eval_dataset`, computed on the main process and shared with the others."""
        results = [None]
        if self.accelerator.is_main_process:
            model = self.accelerator.unwrap_model(self.model)
            results[0] = run_linear_probe(
                model, self.probe_train_dataset, {"eval": eval_dataset}, batch_size=self.probe_batch_size
            )["eval"]
        return broadcast_object_list(results)[0]


def _release_at_exit(backend) -> None:
    """Hold `backend` until interpreter exit, then drop it while the interpreter is still whole (see `end_training`)."""
    held = [backend]
    atexit.register(held.clear)
