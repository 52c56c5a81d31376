#!/usr/bin/env python
"""
Pre-train TimeMAE with transformers' `Trainer`, on one process or under `accelerate launch`, on UCI HAR, on any
multivariate time series (`--train_file`, `--dataset_name`), or on an endless stream of generated series
(`--dataset_name synthetic`, the corpus of the universal encoder `timemae-base`).

    python training/pretrain.py training/configs/har_native.yaml
    python training/pretrain.py training/configs/har_native.yaml --num_train_epochs 3 --output_dir runs/native-3ep
    python training/pretrain.py training/configs/pretrain_default.yaml --train_file my_data.npz --output_dir runs/mine
    accelerate launch --num_processes 2 training/pretrain.py training/configs/har_native.yaml
    accelerate launch training/pretrain.py training/configs/timemae_base.yaml

Arguments come from the command line, or from a JSON/YAML file followed by overriding command-line arguments
(`--help` lists them all). Every `probe_every_n_epochs` epochs the frozen encoder is linear-probed on the validation
split (when the data is labelled); with `metric_for_best_model: probe_accuracy` and `load_best_model_at_end` the best
checkpoint by validation is kept. The test split is only probed once, at the end, on that checkpoint. `--refit`
pre-trains on train + validation with a budget chosen on validation before.
"""

import logging
import os
from dataclasses import dataclass, field

# beside this script, as in transformers' examples
from arguments import DataTrainingArguments, ModelArguments, check_process_count, check_something_to_do, parse_arguments
from data_setup import apply_min_train_steps, check_splits, fit_batch_size_to_split, load_splits, training_data_card
from logging_setup import setup_logging
from model_setup import build_model
from run_provenance import write_run_provenance
from transformers import HfArgumentParser, TrainerState, set_seed
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import get_last_checkpoint

from timemae_hf import TimeMAEForPreTraining
from timemae_hf.training import (
    WINDOW_INDEX_COLUMN,
    EvaluateEveryNEpochsCallback,
    MaskingEpochCallback,
    MomentumUpdateCallback,
    TimeMAEPretrainingCollator,
    TimeMAEPretrainingTrainer,
    TimeMAETrainingArguments,
    TrainingCurvesCallback,
    class_names,
    in_memory,
    label_config,
    refit_splits,
    training_command,
)

logger = logging.getLogger(__name__)


@dataclass
class PretrainingDataArguments(DataTrainingArguments):
    """The data, plus whether to stream it, when to probe and how to mask."""

    streaming: bool = field(
        default=False,
        metadata={
            "help": "Stream the data instead of loading it (a corpus larger than memory; not for 'har'): needs "
            "--max_steps; channel statistics and the window length come from a bounded sample of the stream "
            "(logged), and there is no linear probe (a label column is left aside)."
        },
    )

    synthetic_length: int = field(
        default=512,
        metadata={
            "help": "With --dataset_name synthetic: steps of every generated series (the model's context_length)."
        },
    )
    synthetic_validation_series: int = field(
        default=1024,
        metadata={
            "help": "With --dataset_name synthetic: series of the validation set (a separate generated stream, in "
            "memory), for the validation loss."
        },
    )
    probe_every_n_epochs: int = field(
        default=5,
        metadata={
            "help": "With --eval_strategy epoch, evaluate (validation loss and linear probe) every this many epochs "
            "and after the last step (TimeMAE: 5)."
        },
    )
    mask_seed: int | None = field(
        default=None,
        metadata={
            "help": "Draw each window's mask from a generator seeded by (mask_seed, epoch, window index), so masks do "
            "not depend on batch size or number of processes (for reproducibility checks). Default: the model draws "
            "masks from each process's torch RNG."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        if self.probe_every_n_epochs < 1:
            raise ValueError(f"--probe_every_n_epochs must be at least 1, got {self.probe_every_n_epochs}.")
        if self.streaming and self.is_har:
            raise ValueError("--streaming reads --dataset_name or --train_file; HAR is small enough to load: drop it.")
        if self.is_synthetic:
            self.streaming = True  # an endless generated stream


def main():
    parser = HfArgumentParser((ModelArguments, PretrainingDataArguments, TimeMAETrainingArguments))
    model_args, data_args, training_args = parse_arguments(parser)
    check_process_count(training_args)
    check_something_to_do(training_args, "training/pretrain.py")
    check_streaming(data_args, training_args)
    command = training_command()  # as typed: for the figures and the model card
    # The collator picks `past_values` (and `window_index`) itself and the linear probe reads `labels`, so Trainer must
    # not drop columns; naming `past_values` as the label makes Trainer compute the loss in evaluation (as run_mae.py).
    training_args.remove_unused_columns = False
    if training_args.label_names is None:
        training_args.label_names = ["past_values"]

    setup_logging(training_args, logger)

    set_seed(training_args.seed)

    stream_start = synthetic_stream_start(data_args, training_args)
    with training_args.main_process_first(desc="loading the data"):
        splits = load_splits(data_args, training_args.seed, streaming=data_args.streaming, stream_start=stream_start)
        check_splits(splits, training_args, data_args, needs_labels=False)
        data_card = training_data_card(splits, data_args, refit=training_args.refit)
        if training_args.refit:
            splits = refit_splits(splits)
        if data_args.mask_seed is not None:
            # (`map`, not `add_column`: datasets' add_column on a subsampled split loses the Array2D feature type)
            splits = splits.map(lambda _, index: {WINDOW_INDEX_COLUMN: index}, with_indices=True)
    names = None if data_args.streaming else class_names(splits)
    if names is None and "probe" in (training_args.metric_for_best_model or ""):
        raise ValueError(
            f"--metric_for_best_model {training_args.metric_for_best_model} needs the linear probe, which needs "
            f"labels (column --label_column {data_args.label_column!r}) and no --streaming: choose "
            "--metric_for_best_model loss, or give labelled data."
        )
    if training_args.do_train and not data_args.streaming:
        fit_batch_size_to_split(training_args, len(splits["train"]))
        apply_min_train_steps(training_args, len(splits["train"]))
    model = build_model(TimeMAEForPreTraining, model_args, splits, **label_config(names))
    write_run_provenance(training_args, (model_args, data_args, training_args), model.config, data_args, splits)

    collator = TimeMAEPretrainingCollator(model.config.num_patches, mask_seed=data_args.mask_seed)
    callbacks = [
        MomentumUpdateCallback(),
        EvaluateEveryNEpochsCallback(data_args.probe_every_n_epochs),
        TrainingCurvesCallback(
            title=f"TimeMAE pre-training - {os.path.basename(training_args.output_dir)}", command=command
        ),
    ]
    if data_args.mask_seed is not None:
        callbacks.append(MaskingEpochCallback(collator))
    trainer = TimeMAEPretrainingTrainer(
        model=model,
        args=training_args,
        train_dataset=in_memory(splits["train"]) if training_args.do_train else None,
        eval_dataset=splits["validation"] if training_args.do_eval else None,
        data_collator=collator,
        callbacks=callbacks,
        # The probe needs labelled windows in memory; unlabelled or streamed corpora are pre-trained without it.
        probe_train_dataset=splits["train"] if names else None,
        probe_batch_size=training_args.per_device_eval_batch_size,
        training_data=data_card,
    )

    results = {}
    if training_args.do_train:
        train_result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
        trainer.save_model()
        metrics = {**train_result.metrics, "refit": training_args.refit}
        if data_card.num_train_windows is not None:
            metrics["train_samples"] = data_card.num_train_windows
        trainer.log_metrics("train", metrics)
        trainer.save_metrics("train", metrics)
        trainer.save_state()
        results.update(metrics)

    if training_args.do_eval:
        metrics = trainer.evaluate()
        trainer.log_metrics("eval", metrics)
        trainer.save_metrics("eval", metrics)
        results.update(metrics)

    if training_args.do_predict:
        # The checkpoint was chosen on validation; the test split is probed once, here.
        metrics = trainer.evaluate(splits["test"], metric_key_prefix="test")
        trainer.log_metrics("test", metrics)
        trainer.save_metrics("test", metrics)
        results.update(metrics)

    card_kwargs = {"results": results, "training_command": command}
    if training_args.push_to_hub:
        trainer.push_to_hub(**card_kwargs)
    else:
        trainer.create_model_card(**card_kwargs)
    trainer.end_training()  # a multi-process run leaves its process group cleanly (see TimeMAETrainer.end_training)


def synthetic_stream_start(data_args: PretrainingDataArguments, training_args: TimeMAETrainingArguments) -> int:
    """
    The index of the synthetic series a run starts reading at: 0, or for a run resumed from a checkpoint the first
    series it has not read yet (optimizer steps x global batch), so the stream continues instead of starting over.
    Trainer's own way to resume a stream, reading and discarding every batch already seen, would generate them all
    again; it is switched off (`ignore_data_skip`) since the stream starts at the right place.
    """
    checkpoint = training_args.resume_from_checkpoint
    if not data_args.is_synthetic or not checkpoint:
        return 0
    if checkpoint is True or str(checkpoint).lower() == "true":
        output_dir = training_args.output_dir
        # (get_last_checkpoint raises FileNotFoundError on a folder that does not exist: no run has started there)
        checkpoint = get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None
        if checkpoint is None:
            raise ValueError(
                f"--resume_from_checkpoint true, but {training_args.output_dir!r} holds no checkpoint-* folder: drop "
                "the argument to start a new run, or name the checkpoint folder."
            )
        training_args.resume_from_checkpoint = checkpoint
    state_file = os.path.join(checkpoint, TRAINER_STATE_NAME)
    if not os.path.isfile(state_file):
        raise ValueError(
            f"--resume_from_checkpoint {checkpoint!r} has no {TRAINER_STATE_NAME}: name a checkpoint-* folder written "
            "by this script."
        )
    global_step = TrainerState.load_from_json(state_file).global_step
    training_args.ignore_data_skip = True
    global_batch = (
        training_args.per_device_train_batch_size * training_args.world_size * training_args.gradient_accumulation_steps
    )
    logger.info(
        f"Resuming at step {global_step}: the synthetic stream continues at series {global_step * global_batch}."
    )
    return global_step * global_batch


def check_streaming(data_args: PretrainingDataArguments, training_args: TimeMAETrainingArguments):
    """
    A stream has no length: Trainer needs --max_steps; a refit has no validation split to add to train; and no linear
    probe (its labels are left aside), so no checkpoint can be chosen by one. Checked before any data is read.
    """
    if not data_args.streaming:
        return
    if training_args.do_train and training_args.max_steps <= 0:
        raise ValueError("--streaming has no epochs (a stream has no length): set --max_steps.")
    if "probe" in (training_args.metric_for_best_model or ""):
        raise ValueError(
            f"--metric_for_best_model {training_args.metric_for_best_model} needs the linear probe, which a stream "
            "does not get (its labels are left aside): choose --metric_for_best_model loss."
        )
    if training_args.refit:
        raise ValueError("--refit concatenates train and validation, which --streaming cannot: drop one of them.")


if __name__ == "__main__":
    main()
