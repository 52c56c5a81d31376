"""Model cards for the folders the training scripts and `TimeMAEClassifier.save_pretrained` write, rendered from
`model_cards/timemae.md` (package data `timemae_hf.model_cards`)."""

import importlib.resources
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from transformers import PreTrainedModel, TrainingArguments

from .. import TimeMAEForPreTraining, TimeMAEModel
from ..data import HAR_CHANNELS

# The top-level model_cards/ folder, which setup.cfg maps to this package name: a wheel carries a copy of the
# template, an editable install reads the folder itself.
TEMPLATE_PACKAGE = "timemae_hf.model_cards"
TEMPLATE_NAME = "timemae.md"
BASE_TAGS = ["time-series", "timemae", "self-supervised", "masked-autoencoder", "bert"]
HAR_TAGS = ["human-activity-recognition"]
TASK_TYPE = "time-series-classification"


@dataclass
class TrainingDataCard:
    """
    What a model card says about the data: its name, where it comes from, its channels, how its validation split was
    made (`timemae_hf.data.validation_split_description`), and whether the run refit on train + validation.
    """

    name: str  # as readers know it: "UCI HAR", a file stem, a Hub id
    validation_split: str | None  # how the validation split was made; None when the data has none
    hub_id: str | None = None  # the Hub dataset id for the card's `datasets` metadata (never a local path)
    description: str | None = None  # one phrase on what a window is, e.g. HAR's "2.56 s of smartphone signals"
    channel_names: list[str] | None = None
    num_train_windows: int | None = None
    refit: bool = False
    tags: list[str] = field(default_factory=list)  # dataset-specific tags, e.g. HAR's "human-activity-recognition"
    limitations: str | None = None  # what a user of this data should know; a generic sentence when None


# What a card says of data it was not told about (`render_model_card` without `training_data`): nothing it cannot know.
UNNAMED_TRAINING_DATA = TrainingDataCard(
    name="data this card was not told about (pass `training_data` to name it)", validation_split="not recorded"
)


def har_training_data(config_name: str = "raw", validation_split: str | None = None, **kwargs) -> TrainingDataCard:
    """UCI HAR as a card describes it. Its `pt` files' validation split is a subset of train, which the card says."""
    if validation_split is None:
        validation_split = (
            "train subjects held out from training"
            if config_name == "raw"
            else "the val.pt file as shipped, a subset of the train windows (its scores are not held-out numbers)"
        )
    return TrainingDataCard(
        name="UCI HAR",
        validation_split=validation_split,
        hub_id="uci_har",
        description="2.56 s windows (50 Hz) of the smartphone inertial signals of 30 volunteers, 6 activities",
        channel_names=list(HAR_CHANNELS),
        tags=list(HAR_TAGS),
        limitations="Trained and evaluated on one dataset of 30 volunteers carrying a waist-mounted phone; expect "
        "lower accuracy for other devices, placements, sampling rates or populations.",
        **kwargs,
    )


SPLIT_NAMES = {"eval": "validation", "test": "test"}
# metric key after the split prefix -> (metric type on the Hub, display name, metric arguments)
CARD_METRICS = {
    "probe_accuracy": ("accuracy", "Linear-probe accuracy", None),
    "probe_macro_f1": ("f1", "Linear-probe macro-F1", {"average": "macro"}),
    "accuracy": ("accuracy", "Accuracy", None),
    "macro_f1": ("f1", "Macro-F1", {"average": "macro"}),
}


def card_template(template_path: os.PathLike | None = None) -> str:
    """The text of the card template: `template_path`, or by default `model_cards/timemae.md` as installed with the
    package (`importlib.resources`, so that it is found in a wheel install as in a checkout)."""
    if template_path is not None:
        if not Path(template_path).is_file():
            raise FileNotFoundError(
                f"Model card template {template_path} not found: pass an existing file, or no "
                "template_path for the package's own template."
            )
        return Path(template_path).read_text(encoding="utf-8")
    try:
        return (importlib.resources.files(TEMPLATE_PACKAGE) / TEMPLATE_NAME).read_text(encoding="utf-8")
    except ModuleNotFoundError as error:
        raise FileNotFoundError(
            f"The model card template ({TEMPLATE_PACKAGE}/{TEMPLATE_NAME}) is not installed: install the package "
            "(`pip install timemae-hf`, or `pip install -e .` in a checkout, whose model_cards/ folder it maps)."
        ) from error


def training_command(argv: list[str] | None = None) -> str:
    """The command that started this process, as a user would type it (`accelerate launch` for several processes)."""
    argv = list(sys.argv if argv is None else argv)
    num_processes = int(os.environ.get("WORLD_SIZE", "1"))
    launcher = (
        ["accelerate", "launch", "--multi_gpu", "--num_processes", str(num_processes)]
        if num_processes > 1
        else ["python"]
    )
    return shlex.join(launcher + argv)


def eval_results(results: dict[str, float], training_data: TrainingDataCard) -> list[EvalResult]:
    """The run's validation/test scores among `results` (e.g. `test_probe_accuracy`) as Hub `EvalResult`s."""
    entries = []
    for prefix, split in SPLIT_NAMES.items():
        for key, (metric_type, metric_name, metric_args) in CARD_METRICS.items():
            value = results.get(f"{prefix}_{key}")
            if value is None:
                continue
            probe = key.startswith("probe_")
            entries.append(
                EvalResult(
                    task_type=TASK_TYPE,
                    task_name="Linear probe on frozen features" if probe else "Time series classification",
                    dataset_type=training_data.hub_id or training_data.name,
                    dataset_name=training_data.name,
                    dataset_split=split,
                    metric_type=metric_type,
                    metric_name=f"{metric_name} ({split})",
                    metric_value=round(float(value), 4),
                    metric_args=metric_args,
                )
            )
    return entries


def render_model_card(
    model: PreTrainedModel,
    model_name: str,
    results: dict[str, float],
    training_command: str | None,
    training_args: TrainingArguments,
    extra_tags: list[str] | None = None,
    selected_step: int | None = None,
    template_path: os.PathLike | None = None,
    benchmark: dict | None = None,
    training_data: TrainingDataCard | None = None,
    trained_steps: int | None = None,
    reproduce: dict | None = None,
) -> ModelCard:
    """
    The card of a TimeMAE model: YAML metadata (library, tags, dataset, metrics, a model-index holding the measured
    `results`) and a description with the data, the usage, the protocol and the exact `training_command`.
    `selected_step` is the optimizer step of the checkpoint that validation selected, if one was. `benchmark`
    (a description, rows of mean / std / per-seed values, and the command, commit and machine that measured them, as
    `benchmarks/common/benchmark_card.py` builds it from a results file) adds the multi-seed result of a benchmark this
    run belongs to. `training_data` describes
    the data (e.g. `har_training_data()`); without it the card names no data and says so. `trained_steps=0` says the
    run trained nothing (it only evaluated), and the card says so instead of calling the model trained.
    `reproduce` (`steps`: each a `comment` and a shell `command`; `folder`: where the last step writes this model)
    adds the commands that make the folder from a clean clone, in order, and how to load it from there.
    `template_path` replaces the package's template (`card_template`).
    """
    template = card_template(template_path)
    config = model.config
    training_data = training_data or UNNAMED_TRAINING_DATA
    # A released pre-trained encoder (`TimeMAEModel`, without momentum encoder, regressor and codebook) is described as
    # pre-trained but loads with `AutoModel`.
    encoder_only = isinstance(model, TimeMAEModel)
    is_pretraining = encoder_only or isinstance(model, TimeMAEForPreTraining)
    tags = list(BASE_TAGS) + training_data.tags + ([] if is_pretraining else [TASK_TYPE])
    tags += [tag for tag in (extra_tags or []) if tag not in tags]
    card_data = ModelCardData(
        model_name=model_name,
        library_name="transformers",
        license="apache-2.0",
        tags=tags,
        datasets=[training_data.hub_id] if training_data.hub_id else None,
        metrics=["accuracy", "f1"],
        # Only a Hub id can be a card's base_model; a local BERT folder is named in the text instead.
        base_model=_hub_id_or_none(config.bert_model_name_or_path),
        eval_results=eval_results(results, training_data) or None,
    )
    world_size = training_args.world_size
    return ModelCard.from_template(
        card_data,
        template_str=template,
        model_name=model_name,
        is_pretraining=is_pretraining,
        is_trained=trained_steps is None or trained_steps > 0,
        data=training_data,
        auto_class="AutoModel"
        if encoder_only
        else "AutoModelForPreTraining"
        if is_pretraining
        else "AutoModelForSequenceClassification",
        config=config,
        class_names=[config.id2label[i] for i in sorted(config.id2label)] if config.id2label else [],
        results=_card_results(results),
        training_command=training_command,
        learning_rate=training_args.learning_rate,
        weight_decay=training_args.weight_decay,
        lr_scheduler_type=getattr(training_args.lr_scheduler_type, "value", training_args.lr_scheduler_type),
        global_batch_size=training_args.per_device_train_batch_size
        * training_args.gradient_accumulation_steps
        * world_size,
        num_processes=world_size,
        num_train_epochs=training_args.num_train_epochs,
        max_steps=training_args.max_steps,
        seed=training_args.seed,
        metric_for_best_model=training_args.metric_for_best_model,
        selected_step=selected_step,
        benchmark=benchmark,
        reproduce=reproduce,
    )


ESTIMATOR_HIDDEN_PARAMS = ("output_dir", "verbose")  # where and how loudly `fit` ran, not what it fitted


def render_estimator_card(estimator, model_name: str, template_path: os.PathLike | None = None) -> ModelCard:
    """
    The card of a fitted `TimeMAEClassifier` (`save_pretrained` writes it), from the same template as the training
    scripts' cards. It says what the estimator knows of its data (channels, classes, longest series) and every
    parameter `fit` ran with; it does not name the data or count its windows, which the estimator never learns.
    """
    config = estimator.model_.config
    class_names = [config.id2label[i] for i in sorted(config.id2label)]
    params = estimator.get_params()
    data = TrainingDataCard(
        name="the windows given to `fit`",
        validation_split=None,
        description=f"{config.num_input_channels} channels, "
        + ("series of any length, each resized to " if config.resize_to_context_length else "series of up to ")
        + f"{config.context_length} steps, {len(class_names)} classes",
        limitations="Fitted on windows whose origin this card cannot know; expect lower accuracy on data recorded "
        "differently (other sensors, sampling rates, populations or preprocessing).",
    )
    card_data = ModelCardData(
        model_name=model_name,
        library_name="transformers",
        license="apache-2.0",
        tags=[*BASE_TAGS, TASK_TYPE, "scikit-learn"],
        base_model=_hub_id_or_none(config.bert_model_name_or_path),
    )
    return ModelCard.from_template(
        card_data,
        template_str=card_template(template_path),
        model_name=model_name,
        is_pretraining=False,
        is_trained=True,
        data=data,
        auto_class="AutoModelForSequenceClassification",
        config=config,
        class_names=class_names,
        results=[],
        training_command=None,
        estimator={
            "pretrained_model": params.get("pretrained_model"),
            "head": params["head"],
            "pretrain_steps": params["pretrain_steps"],
            "finetune_steps": params["finetune_steps"],
            "params": sorted((name, value) for name, value in params.items() if name not in ESTIMATOR_HIDDEN_PARAMS),
        },
    )


def _card_results(results: dict[str, float]) -> list[tuple[str, float]]:
    """The scores and losses among `results`, without runtimes, throughputs and FLOPs."""
    return sorted(
        (key, round(float(value), 4))
        for key, value in results.items()
        if isinstance(value, (int, float))
        and not isinstance(value, bool)  # flags such as `refit` are said in the text, not listed as scores
        and not key.endswith(("_runtime", "_per_second", "_flos"))
    )


def _hub_id_or_none(name_or_path: str | None) -> str | None:
    if name_or_path is None or os.path.exists(name_or_path) or name_or_path.startswith(("/", ".", "~")):
        return None
    return name_or_path
