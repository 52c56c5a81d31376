#!/usr/bin/env python
"""
Fine-tune TimeMAE for time-series classification with transformers' `Trainer` (also under `accelerate launch`), on UCI
HAR or on any labelled multivariate time series (`--train_file`, `--dataset_name`).

    # from a pre-training output folder (training/pretrain.py)
    python training/finetune.py training/configs/har_finetune.yaml --model_name_or_path outputs/timemae-har-native
    # with 1 % of the labels
    python training/finetune.py training/configs/har_finetune.yaml --label_fraction 0.01
    # from a BERT checkpoint, or from scratch ("" unsets the config file's checkpoint)
    python training/finetune.py training/configs/har_finetune.yaml --model_name_or_path "" \
        --bert_model_name_or_path bert-base-uncased --learning_rate 1e-4
    # your own data, with the generic recipe (a minimum number of steps, clipping, lr 1e-4)
    python training/finetune.py training/configs/finetune_default.yaml --train_file train.npz --test_file test.npz \
        --model_name_or_path runs/mine --output_dir runs/mine-finetuned
    # from timemae-base, the universal encoder shipped with the package: any channel count, any length
    python training/finetune.py training/configs/finetune_default.yaml --model_name_or_path timemae-base \
        --train_file X_TRAIN.ts --test_file X_TEST.ts --output_dir runs/x-finetuned

The mean-pooled encoder output feeds a linear head trained with cross-entropy. Epochs are selected on the validation
split; the selected model is then evaluated once on the test split: `test_results.json`, `all_results.json` and
`confusion_matrix.png` in the output folder. `--refit` trains on train + validation with a budget chosen before.
"""

import logging
import os
from dataclasses import dataclass, field

import numpy as np

# beside this script, as in transformers' examples
from arguments import DataTrainingArguments, ModelArguments, check_process_count, check_something_to_do, parse_arguments
from data_setup import apply_min_train_steps, check_splits, fit_batch_size_to_split, load_splits, training_data_card
from logging_setup import setup_logging
from model_setup import build_model
from run_provenance import write_run_provenance
from transformers import HfArgumentParser, set_seed

from timemae_hf import TimeMAEForSequenceClassification
from timemae_hf.training import (
    TimeMAETrainer,
    TimeMAETrainingArguments,
    TrainingCurvesCallback,
    class_names,
    compute_classification_metrics,
    in_memory,
    label_config,
    plot_confusion_matrix,
    refit_splits,
    stratified_subset,
    training_command,
)

logger = logging.getLogger(__name__)


@dataclass
class FinetuningModelArguments(ModelArguments):
    """Where the model comes from, plus which of its parts fine-tuning may change."""

    freeze_encoder_body: bool = field(
        default=False,
        metadata={
            "help": "Freeze the attention and feed-forward weights of the encoder's layers; train only the patch "
            "projection, positions, LayerNorms and the head (a 'frozen pretrained transformer', as GPT4TS does with "
            "language models)."
        },
    )


@dataclass
class FinetuningDataArguments(DataTrainingArguments):
    """The data, plus how many labels fine-tuning may use."""

    label_fraction: float = field(
        default=1.0,
        metadata={
            "help": "Fine-tune on a stratified, seeded random fraction of the labelled train windows (those left after "
            "--max_train_samples), e.g. 0.01, 0.05, 0.1 or 1.0. Must be in (0, 1]."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        if not 0.0 < self.label_fraction <= 1.0:
            raise ValueError(
                f"--label_fraction must be in (0, 1], got {self.label_fraction}: e.g. 0.01, 0.05, 0.1 or 1.0."
            )


def main():
    parser = HfArgumentParser((FinetuningModelArguments, FinetuningDataArguments, TimeMAETrainingArguments))
    model_args, data_args, training_args = parse_arguments(parser)
    check_process_count(training_args)
    check_something_to_do(training_args, "training/finetune.py")
    command = training_command()  # as typed: for the figures and the model card

    setup_logging(training_args, logger)

    set_seed(training_args.seed)

    with training_args.main_process_first(desc="loading the data"):
        splits = load_splits(data_args, training_args.seed)
        check_splits(splits, training_args, data_args, needs_labels=True)
        data_card = training_data_card(splits, data_args, refit=training_args.refit)
        if training_args.refit:
            splits = refit_splits(splits)
        splits["train"] = stratified_subset(splits["train"], data_args.label_fraction, training_args.seed)
    data_card.num_train_windows = len(splits["train"])
    logger.info(f"Fine-tuning on {len(splits['train'])} labelled windows (label_fraction={data_args.label_fraction})")
    if training_args.do_train:
        fit_batch_size_to_split(training_args, len(splits["train"]))
        apply_min_train_steps(training_args, len(splits["train"]))
    names = class_names(splits)
    model = build_model(TimeMAEForSequenceClassification, model_args, splits, **label_config(names))
    write_run_provenance(training_args, (model_args, data_args, training_args), model.config, data_args, splits)

    if model_args.freeze_encoder_body:
        model.freeze_encoder_body()
        logger.info("Encoder attention and feed-forward weights frozen; LayerNorms, embeddings and head train")

    trainer = TimeMAETrainer(
        model=model,
        args=training_args,
        train_dataset=in_memory(splits["train"]) if training_args.do_train else None,
        eval_dataset=splits["validation"] if training_args.do_eval else None,
        compute_metrics=compute_classification_metrics,
        training_data=data_card,
        callbacks=[
            TrainingCurvesCallback(
                title=f"TimeMAE fine-tuning - {os.path.basename(training_args.output_dir)}", command=command
            )
        ],
    )

    results = {}
    if training_args.do_train:
        train_result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
        trainer.save_model()
        metrics = {**train_result.metrics, "train_samples": len(splits["train"]), "refit": training_args.refit}
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
        # The model was selected on validation; the test split is used once, here.
        prediction = trainer.predict(splits["test"], metric_key_prefix="test")
        trainer.log_metrics("test", prediction.metrics)
        trainer.save_metrics("test", prediction.metrics)
        results.update(prediction.metrics)
        if trainer.is_world_process_zero():
            plot_confusion_matrix(
                prediction.label_ids,
                np.argmax(prediction.predictions, axis=-1),
                names,
                os.path.join(training_args.output_dir, "confusion_matrix.png"),
                title=f"Test split: accuracy {prediction.metrics['test_accuracy']:.3f}, "
                f"macro-F1 {prediction.metrics['test_macro_f1']:.3f}",
                command=command,
            )

    card_kwargs = {"results": results, "training_command": command}
    if training_args.push_to_hub:
        trainer.push_to_hub(**card_kwargs)
    else:
        trainer.create_model_card(**card_kwargs)
    trainer.end_training()  # a multi-process run leaves its process group cleanly (see TimeMAETrainer.end_training)


if __name__ == "__main__":
    main()
