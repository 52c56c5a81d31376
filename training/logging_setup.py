"""Logging set-up shared by the training scripts, as transformers' example scripts do it."""

import logging
import sys
from pathlib import Path

import datasets
import transformers
from transformers import TrainingArguments


def setup_logging(training_args: TrainingArguments, logger: logging.Logger):
    """Log to stdout at the level `training_args` gives this process (quieter on all but the main one)."""
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        datefmt="%m/%d/%Y %H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    if training_args.should_log:
        transformers.utils.logging.set_verbosity_info()
    log_level = training_args.get_process_log_level()
    logger.setLevel(log_level)
    # What the library decides for the run (patch length, lowered batch, raised epochs) is logged under `timemae_hf`.
    logging.getLogger("timemae_hf").setLevel(log_level)
    # ... and what the helpers beside the scripts decide (e.g. a stream's labels left aside) under their module names:
    # every module in this folder, so a new helper needs no entry here.
    for helper in sorted(path.stem for path in Path(__file__).parent.glob("*.py")):
        logging.getLogger(helper).setLevel(log_level)
    datasets.utils.logging.set_verbosity(log_level)
    transformers.utils.logging.set_verbosity(log_level)
    logger.warning(
        f"Process rank: {training_args.process_index}, device: {training_args.device}, "
        f"n_processes: {training_args.world_size}"
    )
    logger.info(f"Training/evaluation parameters {training_args}")
