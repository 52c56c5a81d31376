#!/usr/bin/env python
"""
Pre-train TimeMAE on UCI HAR with transformers' `Trainer`, on one process or under `accelerate launch`.

    python training/pretrain.py training/configs/har_native.yaml
    python training/pretrain.py training/configs/har_native.yaml --num_train_epochs 3 --output_dir runs/native-3ep
    accelerate launch --num_processes 2 training/pretrain.py training/configs/har_native.yaml

Arguments come from the command line, or from a JSON/YAML file followed by overriding command-line arguments
(`--help` lists them all). Every `probe_every_n_epochs` epochs the frozen encoder is linear-probed on the validation
split (held-out train subjects); with `metric_for_best_model: probe_accuracy` and `load_best_model_at_end` the best
checkpoint by validation is kept. The test split is only probed once, at the end, on that checkpoint.
"""

import logging
import os
from dataclasses import dataclass, field
from typing import Optional

from transformers import HfArgumentParser, TrainingArguments, set_seed

from timemae_hf import TimeMAEForPreTraining
from timemae_hf.training import (
    WINDOW_INDEX_COLUMN,
    DataTrainingArguments,
    EvaluateEveryNEpochsCallback,
    MaskingEpochCallback,
    ModelArguments,
    MomentumUpdateCallback,
    TimeMAEPretrainingCollator,
    TimeMAEPretrainingTrainer,
    TrainingCurvesCallback,
    apply_refit,
    build_model,
    check_process_count,
    class_names,
    label_config,
    load_har_splits,
    parse_arguments,
    setup_logging,
    training_command,
)


logger = logging.getLogger(__name__)


@dataclass
class PretrainingDataArguments(DataTrainingArguments):
    """HAR data, plus when to probe and how to mask."""

    probe_every_n_epochs: int = field(
        default=5,
        metadata={
            "help": "With --eval_strategy epoch, evaluate (validation loss and linear probe) every this many epochs "
            "and after the last step (TimeMAE: 5)."
        },
    )
    mask_seed: Optional[int] = field(
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


def main():
    parser = HfArgumentParser((ModelArguments, PretrainingDataArguments, TrainingArguments))
    model_args, data_args, training_args = parse_arguments(parser)
    check_process_count(training_args)
    command = training_command()  # as typed: for the figures and the model card
    # The collator picks `past_values` (and `window_index`) itself and the linear probe reads `labels`, so Trainer must
    # not drop columns; naming `past_values` as the label makes Trainer compute the loss in evaluation (as run_mae.py).
    training_args.remove_unused_columns = False
    if training_args.label_names is None:
        training_args.label_names = ["past_values"]

    setup_logging(training_args, logger)
    apply_refit(data_args, training_args, logger)

    set_seed(training_args.seed)

    with training_args.main_process_first(desc="loading HAR"):
        splits = load_har_splits(data_args, training_args.seed)
        if data_args.mask_seed is not None:
            # (`map`, not `add_column`: datasets' add_column on a subsampled split loses the Array2D feature type)
            splits = splits.map(lambda _, index: {WINDOW_INDEX_COLUMN: index}, with_indices=True)
    model = build_model(TimeMAEForPreTraining, model_args, splits["train"], **label_config(class_names(splits)))

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
        train_dataset=splits["train"] if training_args.do_train else None,
        eval_dataset=splits["validation"] if training_args.do_eval else None,
        data_collator=collator,
        callbacks=callbacks,
        probe_train_dataset=splits["train"],
        probe_batch_size=training_args.per_device_eval_batch_size,
    )

    results = {}
    if training_args.do_train:
        train_result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
        trainer.save_model()
        metrics = {**train_result.metrics, "train_samples": len(splits["train"])}
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


if __name__ == "__main__":
    main()
