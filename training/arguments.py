"""Command-line arguments shared by the training scripts (beside them, as in transformers' examples), and the parser
front end they all use. The third dataclass, `TimeMAETrainingArguments`, is the library's: the Trainer reads it.

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

import yaml
from transformers import HfArgumentParser, TrainingArguments

from timemae_hf.data import SYNTHETIC_DATASET_NAME

CONFIG_FILE_SUFFIXES = (".json", ".yaml", ".yml")

# TimeMAEConfig fields that fix the weights' shapes, or what the weights learnt to read: they can be chosen for a new
# model, not changed on a checkpoint. `resize_to_context_length` leaves the shapes alone, but a checkpoint's encoder
# learnt its positions from windows resized to context_length (or padded to it): switching it would give the encoder
# series on another time scale than it was trained on, and a checkpoint that does not resize fails clearly on windows
# longer than its context_length instead. (`channel_independent` with one channel also keeps the shapes; it is refused
# all the same, since with more channels it decides whether the patch projection reads one channel or all of them.)
ARCHITECTURE_FIELDS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "patch_length",
    "codebook_size",
    "num_regressor_layers",
    "scaling",
    "window_statistics_as_features",
    "channel_independent",
    "first_difference_view",
    "resize_to_context_length",
)
# TimeMAEConfig fields that leave a checkpoint's weights as they are: they can also be set on a loaded checkpoint.
# `channel_pooling` decides the size of the classification head only, which a pre-trained checkpoint does not have
# (a fine-tuned one whose head it would resize is refused by training/model_setup.py).
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
    "fast_dropout",
    "channel_pooling",
)


@dataclass
class ModelArguments:
    """Where the model comes from, and the TimeMAEConfig values to use; unset values keep the model's own."""

    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "A TimeMAE checkpoint to start from (a folder written by training/pretrain.py or finetune.py, a "
            "Hub id, or timemae-base: the universal encoder shipped with the package, for any channel count and "
            'length). Leave unset (or "") to build a new model (from --bert_model_name_or_path, or randomly '
            "initialised)."
        },
    )
    bert_model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Initialise the encoder from this BERT checkpoint (Hub id such as bert-base-uncased, or a local "
            "folder). Its config sets hidden_size, num_hidden_layers, num_attention_heads and intermediate_size. "
            '"" unsets a value from a config file.'
        },
    )
    hidden_size: int | None = field(default=None, metadata={"help": "Encoder width (new random models; default 64)."})
    num_hidden_layers: int | None = field(
        default=None, metadata={"help": "Number of BertLayers in the encoder (new random models; default 8)."}
    )
    num_attention_heads: int | None = field(
        default=None,
        metadata={"help": "Attention heads per layer, must divide hidden_size (new random models; default 4)."},
    )
    intermediate_size: int | None = field(
        default=None, metadata={"help": "Feed-forward width of each layer (new random models; default 256)."}
    )
    patch_length: int | None = field(
        default=None,
        metadata={"help": "Time steps per patch (new models; default 8, i.e. 16 patches of a HAR window)."},
    )
    codebook_size: int | None = field(
        default=None,
        metadata={"help": "Codewords of the tokenizer giving masked patches their targets (new models; default 192)."},
    )
    num_regressor_layers: int | None = field(
        default=None,
        metadata={"help": "Cross-attention layers of the masked-representation regressor (new models; default 4)."},
    )
    hidden_dropout_prob: float | None = field(
        default=None, metadata={"help": "Dropout on embeddings and residual branches (default 0.2; BERT: its own)."}
    )
    attention_probs_dropout_prob: float | None = field(
        default=None, metadata={"help": "Dropout on attention probabilities (default 0.2; BERT: its own)."}
    )
    classifier_dropout: float | None = field(
        default=None, metadata={"help": "Dropout before the classification head (fine-tuning; default 0.0)."}
    )
    mask_ratio: float | None = field(
        default=None, metadata={"help": "Fraction of patches masked in pre-training (default 0.6)."}
    )
    momentum: float | None = field(
        default=None,
        metadata={"help": "EMA factor of the momentum (target) encoder, per optimizer step (default 0.99)."},
    )
    mrr_loss_weight: float | None = field(
        default=None,
        metadata={"help": "Weight of the masked representation regression loss (TimeMAE's alpha; default 5)."},
    )
    mcc_loss_weight: float | None = field(
        default=None,
        metadata={"help": "Weight of the masked codeword classification loss (TimeMAE's beta; default 1)."},
    )
    mcc_label_smoothing: float | None = field(
        default=None, metadata={"help": "Label smoothing of the codeword cross-entropy (default 0.2)."}
    )
    per_sample_masking: bool | None = field(
        default=None,
        metadata={
            "help": "Draw a new mask per window (default true); false masks the same patches for the whole "
            "batch, as the original code does."
        },
    )
    momentum_encoder_dropout: bool | None = field(
        default=None,
        metadata={
            "help": "Apply dropout in the momentum encoder that encodes the targets (default false; the "
            "original code did)."
        },
    )
    fast_dropout: bool | None = field(
        default=None,
        metadata={
            "help": "Cheaper dropout masks on CPU (timemae_hf.dropout; same keep rate and scaling, other random "
            "masks than torch's for a seed; default false). The recommended settings, with their evidence, are "
            "the configs in training/configs/ (this one is on there)."
        },
    )
    scaling: str | None = field(
        default=None,
        metadata={
            "help": "Per-window normalisation (new models): 'std' standardises each channel of each window by "
            "its own mean and std (RevIN, PatchTST's scaling), after the dataset statistics; 'none' (the "
            "default) keeps the dataset statistics only.",
            "choices": ["std", "none"],
        },
    )
    window_statistics_as_features: bool | None = field(
        default=None,
        metadata={
            "help": "With --scaling std, give each window-channel's mean and log std back to the model as a "
            "feature (new models; default false). What HAR's static postures are told apart by."
        },
    )
    channel_independent: bool | None = field(
        default=None,
        metadata={
            "help": "Encode each channel of a window alone with one univariate encoder (new models; default "
            "false; PatchTST's channel independence). The weights then do not depend on the channel count, so "
            "the checkpoint serves data with any number of channels, as timemae-base does. A checkpoint keeps "
            "its own."
        },
    )
    channel_pooling: str | None = field(
        default=None,
        metadata={
            "help": "How a channel-independent model pools its channels into one representation (the "
            "classification head's input, the probe's features): 'concat' (the default) puts each channel's "
            "pooled features side by side (channels x hidden_size values), "
            "'mean' averages them (hidden_size values whatever the channel count: a smaller head for data with "
            "many channels). May be set when starting from a channel-independent checkpoint: the encoder's "
            "weights do not depend on it.",
            "choices": ["concat", "mean"],
        },
    )
    resize_to_context_length: bool | None = field(
        default=None,
        metadata={
            "help": "Resample each window's observed part to exactly context_length steps before encoding, so "
            "that series of any length fit, also longer ones at prediction time (new models; default false; "
            "Mantis resizes every series to 512). A checkpoint keeps its own: its weights learnt from resized, "
            "or from padded, windows."
        },
    )
    first_difference_view: bool | None = field(
        default=None,
        metadata={
            "help": "Give the patch projection each normalised channel's first difference beside its values, "
            "a second view of the same series as Mantis uses (new models; default false; the projection reads "
            "twice the values per step, so a checkpoint keeps its own)."
        },
    )
    normalize_channels: bool | None = field(
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
        """The TimeMAEConfig values among `names` that were set (`--scaling none` is the config's None)."""
        values = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if values.get("scaling") == "none":
            values["scaling"] = None
        return values


HAR_DATASET_NAME = "har"
HAR_CONFIG_NAMES = ("raw", "pt")


@dataclass
class DataTrainingArguments:
    """
    Which data to read, and how much of it (the max_* options are for quick runs and tests).

    UCI HAR is the named dataset `har` (the default), read from `--data_dir`. Any other data comes from
    `--dataset_name` (a Hub id or a local `datasets` folder) or from `--train_file` (and `--validation_file`,
    `--test_file`), as transformers' example scripts take it; see `timemae_hf.data.load_timeseries_dataset`.
    """

    dataset_name: str | None = field(
        default=HAR_DATASET_NAME,
        metadata={
            "help": "The data: 'har' (UCI HAR, from --data_dir; the default), 'synthetic' (an endless stream of "
            "generated univariate series, for pre-training one encoder for any data: timemae_hf.data.synthetic), a "
            "Hub dataset id, or a local folder holding a saved or loadable `datasets` dataset. Ignored when "
            "--train_file is given."
        },
    )
    dataset_config_name: str | None = field(
        default=None,
        metadata={
            "help": "The dataset's configuration. For 'har': 'raw' (the official UCI files, validation = held-out "
            "train subjects; the default) or 'pt' (the TS-TCC/TimeMAE .pt files as they are, whose validation is a "
            "subset of train). For other datasets: the `datasets` config name, if it has several."
        },
    )
    data_dir: str | None = field(
        default=None,
        metadata={
            "help": "Where the HAR data lies: 'UCI HAR Dataset.zip', its extracted folder, or (--dataset_config_name "
            "pt) a folder with train.pt/val.pt/test.pt. Default: $TIMEMAE_HAR_PATH, else the official archive, "
            "downloaded from UCI. Only for --dataset_name har."
        },
    )
    train_file: str | None = field(
        default=None,
        metadata={
            "help": "A file of training series instead of a named dataset: .npz (arrays X (windows, time, channels) "
            "and y), UEA/UCR .ts, .parquet, .csv, .json/.jsonl or .arrow."
        },
    )
    validation_file: str | None = field(
        default=None,
        metadata={
            "help": "A file of validation series (formats as --train_file). Without it, --validation_fraction of "
            "the train file is held out (by --group_column if given, else stratified by label)."
        },
    )
    test_file: str | None = field(
        default=None,
        metadata={"help": "A file of test series (formats as --train_file), scored once with --do_predict."},
    )
    past_values_column: str = field(
        default="past_values",
        metadata={"help": "The column holding each series, (time, channels) or (time,) (datasets and files)."},
    )
    label_column: str = field(
        default="labels",
        metadata={"help": "The column holding each series' class (datasets and files); fine-tuning needs it."},
    )
    group_column: str | None = field(
        default=None,
        metadata={
            "help": "Hold out whole groups of this column (e.g. 'subject') as the validation split, so that no group "
            "is in both train and validation. Default: a stratified random split."
        },
    )
    validation_fraction: float = field(
        default=0.2,
        metadata={
            "help": "Share of the train split (of its groups with --group_column; of HAR's train subjects for 'har' "
            "raw) held out as the validation split when the data has none."
        },
    )
    max_train_samples: int | None = field(
        default=None,
        metadata={"help": "Use a seeded random subset of this many train windows (for quick runs and tests)."},
    )
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Use a seeded random subset of this many validation windows."}
    )
    max_test_samples: int | None = field(
        default=None, metadata={"help": "Use a seeded random subset of this many test windows."}
    )

    def __post_init__(self):
        # "" unsets a value that a config file set, as for the model arguments.
        for name in (
            "dataset_name",
            "dataset_config_name",
            "data_dir",
            "train_file",
            "validation_file",
            "test_file",
            "group_column",
        ):
            setattr(self, name, getattr(self, name) or None)
        if self.dataset_name is None and self.train_file is None:
            raise ValueError("No data given: pass --dataset_name (e.g. 'har' or a Hub id/folder) or --train_file.")
        if self.train_file is not None and self.dataset_name not in (None, HAR_DATASET_NAME):
            raise ValueError(
                f"Give either --dataset_name ({self.dataset_name!r}) or --train_file ({self.train_file!r}), not both."
            )
        if self.train_file is None and (self.validation_file or self.test_file):
            raise ValueError(
                "--validation_file/--test_file need --train_file as well (a named --dataset_name brings its own "
                "splits)."
            )
        if self.is_har:
            if self.dataset_config_name is None:
                self.dataset_config_name = "raw"
            if self.dataset_config_name not in HAR_CONFIG_NAMES:
                raise ValueError(
                    f"--dataset_config_name {self.dataset_config_name!r} is not a HAR configuration: use 'raw' or "
                    "'pt' with --dataset_name har."
                )
        elif self.data_dir is not None:
            raise ValueError(
                f"--data_dir is where the HAR data lies, but the data here is "
                f"{self.train_file or self.dataset_name!r}: drop --data_dir, or use --dataset_name har."
            )
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"--validation_fraction must lie strictly between 0 and 1, got {self.validation_fraction}."
            )
        for name in ("max_train_samples", "max_eval_samples", "max_test_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(
                    f"--{name} must be a positive number of windows, got {value}; leave it unset to use all."
                )

    @property
    def is_har(self) -> bool:
        """Whether the data is UCI HAR (the named dataset, not files)."""
        return self.train_file is None and self.dataset_name == HAR_DATASET_NAME

    @property
    def is_synthetic(self) -> bool:
        """Whether the data is the generated corpus of `timemae_hf.data.synthetic` (an endless, unlabelled stream)."""
        return self.train_file is None and self.dataset_name == SYNTHETIC_DATASET_NAME


def check_something_to_do(training_args: TrainingArguments, script: str):
    """Refuse a run that would neither train nor evaluate: it would only leave a card about a model nobody trained."""
    if not (training_args.do_train or training_args.do_eval or training_args.do_predict):
        raise ValueError(
            f"Nothing to do: {script} was given none of --do_train, --do_eval (or an --eval_strategy) and "
            "--do_predict. Add --do_train to train (the shipped configs in training/configs/ set all three)."
        )


def parse_arguments(parser: HfArgumentParser, argv: list[str] | None = None) -> tuple:
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
