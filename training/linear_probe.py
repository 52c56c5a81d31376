#!/usr/bin/env python
"""
TimeMAE's linear-probe evaluation of any TimeMAE checkpoint folder (pre-trained, fine-tuned, or a checkpoint-N), Hub
id, or of `timemae-base`, the universal encoder shipped with the package.

    python training/linear_probe.py --model_name_or_path outputs/timemae-har-native
    python training/linear_probe.py --model_name_or_path runs/mine --train_file train.npz --test_file test.npz
    python training/linear_probe.py --model_name_or_path timemae-base --train_file X_TRAIN.ts --test_file X_TEST.ts

The encoder is frozen and in eval mode; features are the mean over patches of its last hidden state (a
channel-independent encoder's per channel, side by side or averaged as its channel_pooling says); the authors' probe
(StandardScaler + one-vs-rest LogisticRegression, random_state 3407) is fit on the labelled train split and scored on
the validation and (when the data has one) test splits. Prints the scores as JSON and writes them to --output_file.

A channel-independent checkpoint (such as timemae-base) takes data with any channel count, and one that resizes its
inputs any window length. The features are then those `TimeMAEClassifier(pretrained_model=..., head="probe")` reads;
its probe is a multinomial LogisticRegression instead of one-vs-rest (the same with two classes), and it is fit on
all the windows it is given, where this script holds out --validation_fraction of the train split unless
--validation_file is given.
"""

import json
import logging
import os
import sys
from dataclasses import dataclass, field

import torch

# beside this script, as in transformers' examples
from arguments import DataTrainingArguments, parse_arguments
from data_setup import load_splits
from model_setup import (
    check_data_fits_checkpoint,
    check_timemae_checkpoint,
    checkpoint_location,
    checkpoint_overrides,
    data_shape,
)
from run_provenance import run_provenance
from transformers import HfArgumentParser

from timemae_hf import TimeMAEModel
from timemae_hf.training import run_linear_probe

logger = logging.getLogger(__name__)


@dataclass
class ModelArguments:
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "The TimeMAE checkpoint to probe: an output folder of training/pretrain.py or finetune.py, one of "
            "their checkpoint-N folders, a Hub id, or timemae-base (the universal encoder shipped with the package). "
            "Required."
        },
    )

    def __post_init__(self):
        if not self.model_name_or_path:
            raise ValueError("--model_name_or_path is required: the TimeMAE checkpoint folder to probe.")


@dataclass
class LinearProbeArguments:
    output_file: str | None = field(
        default=None,
        metadata={
            "help": "Where to write the JSON results. Default: linear_probe_results.json inside the checkpoint folder "
            "(in the current folder for a Hub id or timemae-base)."
        },
    )
    batch_size: int = field(default=256, metadata={"help": "Windows per forward pass when extracting features."})
    seed: int = field(
        default=3407,
        metadata={
            "help": "Seed of the --max_*_samples subsets and of a validation split carved from train: give the "
            "training run's --seed to probe on its splits (the probe itself uses 3407)."
        },
    )


def main():
    parser = HfArgumentParser((ModelArguments, DataTrainingArguments, LinearProbeArguments))
    model_args, data_args, probe_args = parse_arguments(parser)
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        handlers=[logging.StreamHandler(sys.stdout)],
        level=logging.INFO,
    )
    config = check_timemae_checkpoint(model_args.model_name_or_path)
    # Under a multi-process launcher (`accelerate launch`, torchrun) the first process probes and the others stop.
    if int(os.environ.get("RANK", "0")) != 0:
        return
    device = (
        torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        if torch.cuda.is_available()
        else torch.device("cpu")
    )

    splits = load_splits(data_args, probe_args.seed)
    for split in splits:
        if "labels" not in splits[split].features:
            raise ValueError(
                f"The '{split}' split has no labels (column {data_args.label_column!r}); the probe needs them: name "
                "the column holding the classes with --label_column."
            )
    context_length, num_input_channels = data_shape(splits)
    check_data_fits_checkpoint(config, model_args.model_name_or_path, context_length, num_input_channels)
    overrides = checkpoint_overrides(config, model_args.model_name_or_path, num_input_channels)
    model = TimeMAEModel.from_pretrained(checkpoint_location(model_args.model_name_or_path), **overrides).to(device)
    evaluated = {split: splits[split] for split in ("validation", "test") if split in splits}
    scores = run_linear_probe(model, splits["train"], evaluated, probe_args.batch_size)
    results = {
        "model_name_or_path": model_args.model_name_or_path,
        "num_train_windows": len(splits["train"]),
        **{f"{split}_{metric}": value for split, metrics in scores.items() for metric, value in metrics.items()},
        "provenance": run_provenance((model_args, data_args, probe_args), model.config, data_args, splits),
    }
    output_file = probe_args.output_file
    if output_file is None:
        folder = model_args.model_name_or_path if os.path.isdir(model_args.model_name_or_path) else "."
        output_file = os.path.join(folder, "linear_probe_results.json")
    with open(output_file, "w", encoding="utf-8") as file:
        json.dump(results, file, indent=2)
    logger.info(f"Linear-probe results written to {output_file}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
