"""Command-line arguments shared by the training scripts, and the parser front end they all use.

Every script accepts its arguments on the command line, or as one JSON/YAML file whose keys are argument names,
optionally followed by command-line arguments that override the file:

    python training/pretrain.py training/configs/har_native.yaml --num_train_epochs 3 --output_dir runs/try
"""

import difflib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml
from transformers import HfArgumentParser, TrainingArguments
from transformers.trainer_utils import IntervalStrategy


CONFIG_FILE_SUFFIXES = (".json", ".yaml", ".yml")

# TimeMAEConfig fields that fix the weights' shapes: they can be chosen for a new model, not changed on a checkpoint.
ARCHITECTURE_FIELDS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "patch_length",
    "codebook_size",
    "num_regressor_layers",
)
# TimeMAEConfig fields that only change training behaviour: they can also be set on a loaded checkpoint.
BEHAVIOUR_FIELDS = (
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "classifier_dropout",
    "mask_ratio",
    "momentum",
    "mrr_loss_weight",
    "mcc_loss_weight",
    "mcc_label_smoothing",
    "per_sample_masking",
    "momentum_encoder_dropout",
)


@dataclass
class ModelArguments:
    """Where the model comes from, and the TimeMAEConfig values to use; unset values keep the model's own."""

    model_name_or_path: Optional[str] = field(
        default=None,
        metadata={
            "help": "A TimeMAE checkpoint to start from (a folder written by training/pretrain.py or finetune.py, or "
            'a Hub id). Leave unset (or "") to build a new model (from --bert_model_name_or_path, or randomly '
            "initialised)."
        },
    )
    bert_model_name_or_path: Optional[str] = field(
        default=None,
        metadata={
            "help": "Initialise the encoder from this BERT checkpoint (Hub id such as bert-base-uncased, or a local "
            "folder). Its config sets hidden_size, num_hidden_layers, num_attention_heads and intermediate_size. "
            '"" unsets a value from a config file.'
        },
    )
    hidden_size: Optional[int] = field(
        default=None, metadata={"help": "Encoder width (new random models; default 64)."}
    )
    num_hidden_layers: Optional[int] = field(
        default=None, metadata={"help": "Number of BertLayers in the encoder (new random models; default 8)."}
    )
    num_attention_heads: Optional[int] = field(
        default=None,
        metadata={"help": "Attention heads per layer, must divide hidden_size (new random models; default 4)."},
    )
    intermediate_size: Optional[int] = field(
        default=None, metadata={"help": "Feed-forward width of each layer (new random models; default 256)."}
    )
    patch_length: Optional[int] = field(
        default=None,
        metadata={"help": "Time steps per patch (new models; default 8, i.e. 16 patches of a HAR window)."},
    )
    codebook_size: Optional[int] = field(
        default=None,
        metadata={"help": "Codewords of the tokenizer giving masked patches their targets (new models; default 192)."},
    )
    num_regressor_layers: Optional[int] = field(
        default=None,
        metadata={"help": "Cross-attention layers of the masked-representation regressor (new models; default 4)."},
    )
    hidden_dropout_prob: Optional[float] = field(
        default=None, metadata={"help": "Dropout on embeddings and residual branches (default 0.2; BERT: its own)."}
    )
    attention_probs_dropout_prob: Optional[float] = field(
        default=None, metadata={"help": "Dropout on attention probabilities (default 0.2; BERT: its own)."}
    )
    classifier_dropout: Optional[float] = field(
        default=None, metadata={"help": "Dropout before the classification head (fine-tuning; default 0.0)."}
    )
    mask_ratio: Optional[float] = field(
        default=None, metadata={"help": "Fraction of patches masked in pre-training (default 0.6)."}
    )
    momentum: Optional[float] = field(
        default=None,
        metadata={"help": "EMA factor of the momentum (target) encoder, per optimizer step (default 0.99)."},
    )
    mrr_loss_weight: Optional[float] = field(
        default=None,
        metadata={"help": "Weight of the masked representation regression loss (TimeMAE's alpha; default 5)."},
    )
    mcc_loss_weight: Optional[float] = field(
        default=None,
        metadata={"help": "Weight of the masked codeword classification loss (TimeMAE's beta; default 1)."},
    )
    mcc_label_smoothing: Optional[float] = field(
        default=None, metadata={"help": "Label smoothing of the codeword cross-entropy (default 0.2)."}
    )
    per_sample_masking: Optional[bool] = field(
        default=None,
        metadata={"help": "Draw a new mask per window (default true); false masks the same patches for the whole "
                  "batch, as the original code does."},
    )
    momentum_encoder_dropout: Optional[bool] = field(
        default=None,
        metadata={"help": "Apply dropout in the momentum encoder that encodes the targets (default false; the "
                  "original code did)."},
    )
    normalize_channels: Optional[bool] = field(
        default=None,
        metadata={
            "help": "Standardise each input channel with train-split mean/std stored in the model config (applied "
            "inside the model, so inference reuses them). New models default to False, as the authors' HAR code; "
            "checkpoints keep what they were trained with."
        },
    )

    def __post_init__(self):
        # An empty string unsets a path that a config file set (e.g. `--bert_model_name_or_path ""` for a random model).
        self.model_name_or_path = self.model_name_or_path or None
        self.bert_model_name_or_path = self.bert_model_name_or_path or None
        if self.model_name_or_path is not None and self.bert_model_name_or_path is not None:
            raise ValueError(
                "Give either --model_name_or_path (a TimeMAE checkpoint) or --bert_model_name_or_path (a BERT "
                "checkpoint for a new model), not both."
            )

    def config_values(self, names) -> dict:
        """The TimeMAEConfig values among `names` that were set."""
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


@dataclass
class DataTrainingArguments:
    """Which HAR data to read, and how much of it (the max_* options are for quick runs and tests)."""

    data_dir: Optional[str] = field(
        default=None,
        metadata={
            "help": "HAR data: 'UCI HAR Dataset.zip', its extracted folder, or (--dataset_config_name pt) a folder "
            "with train.pt/val.pt/test.pt. Default: $TIMEMAE_HAR_PATH, else '../shared/data/UCI HAR Dataset.zip'."
        },
    )
    dataset_config_name: str = field(
        default="raw",
        metadata={
            "help": "'raw': the official UCI files, validation = held-out train subjects; 'pt': TS-TCC/TimeMAE .pt "
            "files as they are.",
            "choices": ["raw", "pt"],
        },
    )
    validation_subject_fraction: float = field(
        default=0.2, metadata={"help": "Share of train subjects held out as the validation split ('raw' only)."}
    )
    max_train_samples: Optional[int] = field(
        default=None,
        metadata={"help": "Use a seeded random subset of this many train windows (for quick runs and tests)."},
    )
    max_eval_samples: Optional[int] = field(
        default=None, metadata={"help": "Use a seeded random subset of this many validation windows."}
    )
    max_test_samples: Optional[int] = field(
        default=None, metadata={"help": "Use a seeded random subset of this many test windows."}
    )
    refit: bool = field(
        default=False,
        metadata={
            "help": "Train on train + validation (for HAR: all official-train subjects) and keep no validation split: "
            "the second stage of the two-stage protocol, once the budget (epochs) and hyperparameters were chosen on "
            "validation. Evaluation during training and best-checkpoint selection are turned off; the last step is "
            "kept and --do_predict scores it once on test."
        },
    )

    def __post_init__(self):
        if not 0.0 < self.validation_subject_fraction < 1.0:
            raise ValueError(
                "--validation_subject_fraction must lie strictly between 0 and 1, got "
                f"{self.validation_subject_fraction}."
            )
        for name in ("max_train_samples", "max_eval_samples", "max_test_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(
                    f"--{name} must be a positive number of windows, got {value}; leave it unset to use all."
                )


def apply_refit(data_args: DataTrainingArguments, training_args: TrainingArguments, logger) -> None:
    """
    With `--refit` there is no validation split, so nothing can be evaluated or selected during training: turn off
    `do_eval`, evaluation during training and `load_best_model_at_end` (saying so), and keep the last step.
    """
    if not data_args.refit:
        return
    changed = {
        "do_eval": training_args.do_eval,
        "eval_strategy": training_args.eval_strategy != IntervalStrategy.NO,
        "load_best_model_at_end": training_args.load_best_model_at_end,
        "metric_for_best_model": training_args.metric_for_best_model is not None,
    }
    training_args.do_eval = False
    training_args.eval_strategy = IntervalStrategy.NO
    training_args.load_best_model_at_end = False
    training_args.metric_for_best_model = None
    turned_off = [name for name, was_on in changed.items() if was_on]
    if turned_off:
        logger.warning(
            f"--refit trains on train + validation, so there is no validation split: {', '.join(turned_off)} turned "
            "off; the model of the last step is kept."
        )


def parse_arguments(parser: HfArgumentParser, argv: Optional[list[str]] = None) -> tuple:
    """
    Parse `argv` (default: `sys.argv[1:]`) into the parser's dataclasses.

    `argv` is either plain command-line arguments, or a JSON/YAML file path followed by command-line arguments that
    override the file's values. Unknown keys in the file and unknown command-line arguments are errors that name the
    closest known argument.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    known = {action.dest for action in parser._actions if action.dest != "help"}
    if argv and argv[0].endswith(CONFIG_FILE_SUFFIXES):
        config_path = Path(argv.pop(0))
        file_values = _read_config_file(config_path)
        _reject_unknown(file_values, known, f"the config file {config_path}", parser.prog)
        parser.set_defaults(**file_values)
    *dataclass_objects, remaining = parser.parse_args_into_dataclasses(
        args=argv, return_remaining_strings=True, look_for_args_file=False
    )
    if remaining:
        unknown = [arg.lstrip("-").split("=")[0] for arg in remaining if arg.startswith("--")]
        _reject_unknown(dict.fromkeys(unknown or remaining), known, "the command line", parser.prog)
    return tuple(dataclass_objects)


def _read_config_file(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"Config file {path} does not exist; the shipped ones are in training/configs/.")
    text = path.read_text(encoding="utf-8")
    values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(values, dict):
        raise ValueError(
            f"Config file {path} must hold a mapping of argument names to values, got {type(values).__name__}."
        )
    return values


def _reject_unknown(values: dict, known: set, source: str, prog: str):
    unknown = [key for key in values if key not in known]
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), known, n=1)
        hints.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    raise ValueError(
        f"Unknown argument(s) in {source}: {', '.join(hints)}. Fix or remove them; `python {prog} --help` lists "
        "every accepted argument."
    )


def check_process_count(training_args: TrainingArguments):
    """
    Fail when the launcher started several processes but Trainer does not run them as one distributed job.

    On a machine without GPU, `accelerate launch --multi_gpu --num_processes N` (or `torchrun`) starts N processes,
    but Trainer only joins them into a (gloo) process group with `--use_cpu true`; otherwise each process would train
    alone on all the data and all would write the same output folder. And `accelerate launch --cpu --num_processes N`
    starts a single process (with one thread) unless given an MPI hostfile, which would train with 1/N of the
    intended global batch.
    """
    single_process_launcher_asked_for_more = (
        os.environ.get("ACCELERATE_USE_CPU", "").lower() == "true"
        and "MASTER_ADDR" in os.environ  # accelerate's single-process launcher sets it when asked for several
        and not any(name in os.environ for name in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"))
    )
    if single_process_launcher_asked_for_more:
        raise RuntimeError(
            "`accelerate launch --cpu --num_processes N` started a single process (accelerate's CPU launcher needs MPI "
            "and --mpirun_hostfile for more). For N processes on CPU run `accelerate launch --multi_gpu "
            f"--num_processes N {sys.argv[0]} ... --use_cpu true`, or drop --num_processes for one process."
        )
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > 1 and training_args.world_size != launched:
        raise RuntimeError(
            f"{launched} processes were launched but Trainer runs {training_args.world_size}: without a GPU, add "
            f"--use_cpu true (e.g. `accelerate launch --multi_gpu --num_processes {launched} {sys.argv[0]} ... "
            "--use_cpu true`)."
        )
