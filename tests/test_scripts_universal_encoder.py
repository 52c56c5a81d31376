"""The training scripts starting from a universal encoder such as `timemae-base`: channel-independent (any channel
count) and resizing every window to its context_length (any length), named by a folder, a Hub id or, for the models
shipped with the package, by name (`--model_name_or_path timemae-base`).

A tiny checkpoint of the same kind stands in for timemae-base (which is trained separately); the shipped-models folder
is pointed at a temporary one holding it. The fast tests call the scripts' model set-up and run linear_probe.py in
this process; the slow ones run linear_probe.py and finetune.py as a user does, in a subprocess.
"""

import json
import logging
import runpy
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
import yaml
from arguments import ARCHITECTURE_FIELDS, BEHAVIOUR_FIELDS, ModelArguments, parse_arguments  # training/
from model_setup import build_model, check_timemae_checkpoint
from safetensors.torch import load_file
from test_estimator_pretrained import UNIVERSAL
from test_synthetic_pretraining import TINY_BASE_RUN
from test_training_scripts import log_history, run_script
from transformers import HfArgumentParser

import timemae_hf.shipped
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEForSequenceClassification
from timemae_hf.estimator import TimeMAEClassifier
from timemae_hf.training import TimeMAETrainingArguments, linear_probe_classifier

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPOSITORY_ROOT / "training" / "configs"
# UNIVERSAL (test_estimator_pretrained.py's stand-in for timemae-base): the same kind of checkpoint, one channel of 32
# steps, 16 wide.
NUM_CHANNELS, LENGTH = 3, 50  # the data: other channels and a longer window than the checkpoint's

pytestmark = pytest.mark.usefixtures("training_scripts_on_sys_path")


def save_checkpoint(path: Path, model_class=TimeMAEForPreTraining, **changes) -> str:
    torch.manual_seed(0)
    model_class(TimeMAEConfig(**{**UNIVERSAL, **changes})).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def universal_checkpoint(tmp_path_factory) -> str:
    return save_checkpoint(tmp_path_factory.mktemp("universal") / "checkpoint")


@pytest.fixture
def shipped_models(tmp_path, monkeypatch) -> Path:
    """A shipped-models folder holding a tiny `timemae-base`, in place of the package's."""
    folder = tmp_path / "shipped_models"
    save_checkpoint(folder / "timemae-base")
    monkeypatch.setattr(timemae_hf.shipped, "SHIPPED_MODELS_DIR", folder)
    return folder


@pytest.fixture(autouse=True)
def datasets_cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "datasets_cache"))


def windows(num_windows: int, seed: int, num_classes: int = 3, length: int = LENGTH, channels: int = NUM_CHANNELS):
    """Class ids 0, 1, ... cycling; class c adds a sine of frequency 2**c to channel 1, on noise of random scales."""
    generator = np.random.default_rng(seed)
    labels = np.arange(num_windows) % num_classes
    past_values = generator.normal(size=(num_windows, length, channels)).astype(np.float32)
    for index, label in enumerate(labels):
        past_values[index, :, min(1, channels - 1)] += 3 * np.sin(np.linspace(0, 2 * np.pi * 2**label, length))
    return past_values * generator.uniform(0.5, 20.0, size=(num_windows, 1, 1)).astype(np.float32), labels


def splits_of(**lengths) -> datasets.DatasetDict:
    """A DatasetDict of `past_values` and `labels`, one split per keyword, each of windows of its given length."""
    splits = {}
    for seed, (split, length) in enumerate(lengths.items()):
        past_values, labels = windows(12, seed, length=length)
        splits[split] = datasets.Dataset.from_dict({"past_values": list(past_values), "labels": labels})
    return datasets.DatasetDict(splits)


def model_arguments(*argv: str) -> ModelArguments:
    return HfArgumentParser(ModelArguments).parse_args_into_dataclasses(args=list(argv))[0]


CLASSIFIER_LABELS = {"num_labels": 3, "id2label": {0: "a", 1: "b", 2: "c"}, "label2id": {"a": 0, "b": 1, "c": 2}}


# ---------------------------------------------------------------------------------------------------------------------
# arguments


def test_the_universal_options_parse_and_reach_the_config_of_a_new_model():
    args = model_arguments(
        "--channel_independent",
        "true",
        "--channel_pooling",
        "mean",
        "--resize_to_context_length",
        "true",
        "--first_difference_view",
        "true",
    )
    assert args.config_values(ARCHITECTURE_FIELDS + BEHAVIOUR_FIELDS) == {
        "channel_independent": True,
        "channel_pooling": "mean",
        "resize_to_context_length": True,
        "first_difference_view": True,
    }
    model = build_model(TimeMAEForSequenceClassification, args, splits_of(train=LENGTH), **CLASSIFIER_LABELS)
    config = model.config
    assert (config.channel_independent, config.channel_pooling, config.resize_to_context_length) == (True, "mean", True)
    assert config.first_difference_view and config.step_channels == 2  # values and differences of one channel
    assert model.classifier.in_features == config.hidden_size  # mean pooling: one channel's size
    with pytest.raises(SystemExit):
        model_arguments("--channel_pooling", "max")


def test_options_that_change_weights_or_inputs_are_fixed_by_a_checkpoint_and_pooling_is_not():
    assert {"channel_independent", "first_difference_view", "resize_to_context_length"} <= set(ARCHITECTURE_FIELDS)
    assert "channel_pooling" in BEHAVIOUR_FIELDS and "channel_pooling" not in ARCHITECTURE_FIELDS


def test_the_base_recipe_saves_a_channel_independent_resizing_encoder():
    parser = HfArgumentParser(
        (
            ModelArguments,
            runpy.run_path(str(REPOSITORY_ROOT / "training" / "pretrain.py"), run_name="pretrain")[
                "PretrainingDataArguments"
            ],
            TimeMAETrainingArguments,
        )
    )
    model_args, data_args, _ = parse_arguments(parser, [str(CONFIGS / "timemae_base.yaml"), "--output_dir", "unused"])
    assert data_args.is_synthetic
    assert model_args.channel_independent is True and model_args.resize_to_context_length is True
    assert model_args.first_difference_view is None and model_args.channel_pooling is None


def test_on_the_univariate_stream_of_full_length_series_the_two_switches_change_nothing():
    """Why adding them to timemae_base.yaml is safe, also for resuming a run saved before: same weights, same loss."""
    recipe = yaml.safe_load((CONFIGS / "timemae_base.yaml").read_text())
    shape = {name: recipe[name] for name in ("scaling", "window_statistics_as_features")}
    small = dict(
        num_input_channels=1,
        context_length=64,
        patch_length=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        codebook_size=16,
        num_regressor_layers=1,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        **shape,
    )
    torch.manual_seed(0)
    before = TimeMAEForPreTraining(TimeMAEConfig(**small))
    after = TimeMAEForPreTraining(TimeMAEConfig(**small, channel_independent=True, resize_to_context_length=True))
    after.load_state_dict(before.state_dict())  # strict: the same names and shapes
    series = torch.randn(4, 64, 1) * 3 + 1
    losses = []
    for model in (before, after):
        torch.manual_seed(1)  # the same masks
        losses.append(model(past_values=series).loss)
    torch.testing.assert_close(losses[0], losses[1])


# ---------------------------------------------------------------------------------------------------------------------
# model set-up


def test_a_universal_checkpoint_takes_other_channels_and_longer_windows_and_says_so(universal_checkpoint, caplog):
    args = model_arguments("--model_name_or_path", universal_checkpoint)
    with caplog.at_level(logging.INFO, logger="model_setup"):
        model = build_model(
            TimeMAEForSequenceClassification, args, splits_of(train=LENGTH, test=LENGTH + 10), **CLASSIFIER_LABELS
        )
    assert model.config.num_input_channels == NUM_CHANNELS and model.config.context_length == 32
    assert model.classifier.in_features == NUM_CHANNELS * 16  # each channel's pooled features side by side
    assert "encodes each channel alone" in caplog.text
    assert "resampled to its context_length of 32 steps (the data's windows have up to 60)" in caplog.text
    saved = load_file(f"{universal_checkpoint}/model.safetensors")
    loaded = model.state_dict()
    for name, value in saved.items():
        if name.startswith("timemae."):
            torch.testing.assert_close(loaded[name], value, msg=name)


def test_mean_pooling_may_be_chosen_on_a_universal_checkpoint(universal_checkpoint):
    args = model_arguments("--model_name_or_path", universal_checkpoint, "--channel_pooling", "mean")
    model = build_model(TimeMAEForSequenceClassification, args, splits_of(train=LENGTH), **CLASSIFIER_LABELS)
    assert model.config.channel_pooling == "mean" and model.classifier.in_features == 16


@pytest.mark.parametrize(
    "argv",
    [
        ("--channel_independent", "false"),
        ("--resize_to_context_length", "false"),
        ("--first_difference_view", "true"),
    ],
)
def test_a_checkpoints_channel_independence_resizing_and_views_are_not_changed(universal_checkpoint, argv):
    args = model_arguments("--model_name_or_path", universal_checkpoint, *argv)
    with pytest.raises(ValueError, match=f"{argv[0][2:]}.*a checkpoint's shape is fixed"):
        build_model(TimeMAEForSequenceClassification, args, splits_of(train=LENGTH), **CLASSIFIER_LABELS)


def test_a_checkpoint_that_encodes_channels_together_keeps_todays_errors(tmp_path):
    """Resizing alone does not make a checkpoint take other channels, nor channel independence other lengths."""
    resizing = save_checkpoint(tmp_path / "resizing", num_input_channels=2, channel_independent=False)
    with pytest.raises(ValueError, match="The data has 3 channels but the checkpoint --model_name_or_path .* takes 2"):
        build_model(TimeMAEForPreTraining, model_arguments("--model_name_or_path", resizing), splits_of(train=LENGTH))
    independent = save_checkpoint(tmp_path / "independent", resize_to_context_length=False)
    with pytest.raises(ValueError, match="windows of up to 50 steps .* takes at most 32 .*context_length"):
        build_model(
            TimeMAEForPreTraining, model_arguments("--model_name_or_path", independent), splits_of(train=LENGTH)
        )
    together = save_checkpoint(tmp_path / "together", num_input_channels=3, channel_independent=False)
    with pytest.raises(ValueError, match="--channel_pooling mean pools the channels .* drop --channel_pooling"):
        build_model(
            TimeMAEForPreTraining,
            model_arguments("--model_name_or_path", together, "--channel_pooling", "mean"),
            splits_of(train=LENGTH),
        )


def test_channel_statistics_of_other_channels_are_dropped_and_the_data_may_bring_its_own(tmp_path):
    one_channel = save_checkpoint(tmp_path / "normalised", channel_mean=[5.0], channel_std=[2.0])
    splits = splits_of(train=LENGTH)
    dropped = build_model(TimeMAEForPreTraining, model_arguments("--model_name_or_path", one_channel), splits)
    assert dropped.config.channel_mean is None and dropped.config.channel_std is None
    own = build_model(
        TimeMAEForPreTraining,
        model_arguments("--model_name_or_path", one_channel, "--normalize_channels", "true"),
        splits,
    )
    assert len(own.config.channel_mean) == NUM_CHANNELS and all(std > 1.0 for std in own.config.channel_std)
    three_channels = save_checkpoint(
        tmp_path / "three", num_input_channels=3, channel_mean=[1.0, 2.0, 3.0], channel_std=[1.0, 1.0, 1.0]
    )
    kept = build_model(TimeMAEForPreTraining, model_arguments("--model_name_or_path", three_channels), splits)
    assert kept.config.channel_mean == [1.0, 2.0, 3.0]


def test_a_fine_tuned_head_that_other_channels_would_resize_is_refused(tmp_path):
    finetuned = save_checkpoint(
        tmp_path / "finetuned", TimeMAEForSequenceClassification, num_input_channels=2, **CLASSIFIER_LABELS
    )
    args = model_arguments("--model_name_or_path", finetuned)
    with pytest.raises(ValueError, match="head reads 32 features .* give it 48 \\(3 channels"):
        build_model(TimeMAEForSequenceClassification, args, splits_of(train=LENGTH), **CLASSIFIER_LABELS)


def test_the_name_timemae_base_is_read_from_the_shipped_models(shipped_models):
    config = check_timemae_checkpoint("timemae-base")
    assert config.channel_independent and config.resize_to_context_length
    model = build_model(
        TimeMAEForSequenceClassification,
        model_arguments("--model_name_or_path", "timemae-base"),
        splits_of(train=LENGTH),
        **CLASSIFIER_LABELS,
    )
    assert model.config.num_input_channels == NUM_CHANNELS
    saved = load_file(shipped_models / "timemae-base" / "model.safetensors")
    name = "timemae.encoder.layer.0.output.dense.weight"
    torch.testing.assert_close(model.state_dict()[name], saved[name])


def test_a_shipped_model_missing_from_the_installation_fails_naming_the_argument(tmp_path, monkeypatch):
    monkeypatch.setattr(timemae_hf.shipped, "SHIPPED_MODELS_DIR", tmp_path / "empty")
    with pytest.raises(ValueError, match="--model_name_or_path 'timemae-base': The shipped model .* is missing"):
        check_timemae_checkpoint("timemae-base")


# ---------------------------------------------------------------------------------------------------------------------
# the linear probe, as TimeMAEClassifier's


def write_npz(folder: Path, num_classes: int) -> dict[str, Path]:
    files = {}
    for split, num_windows, seed in (("TRAIN", 30, 0), ("TEST", 24, 1)):
        past_values, labels = windows(num_windows, seed, num_classes)
        files[split] = folder / f"Waves{num_classes}_{split}.npz"
        np.savez(files[split], X=past_values, y=labels)
    return files


def run_linear_probe_script(argv: list, monkeypatch) -> dict:
    output_file = Path(argv[argv.index("--output_file") + 1])
    monkeypatch.setattr(sys, "argv", ["training/linear_probe.py", *map(str, argv)])
    runpy.run_path(str(REPOSITORY_ROOT / "training" / "linear_probe.py"), run_name="training_linear_probe")["main"]()
    return json.loads(output_file.read_text())


@pytest.mark.parametrize("num_classes", [2, 3])
def test_the_linear_probe_scores_what_the_estimators_probe_scores(
    num_classes, universal_checkpoint, shipped_models, tmp_path, monkeypatch
):
    """Same windows, same features; with two classes the same probe, so the same accuracy. With three, the script's
    one-vs-rest probe on the estimator's features scores what the script does (the estimator's is multinomial)."""
    files = write_npz(tmp_path, num_classes)
    # --validation_file: the script's probe then trains on every train window, as the estimator does
    results = run_linear_probe_script(
        [
            "--model_name_or_path",
            "timemae-base",
            "--train_file",
            files["TRAIN"],
            "--validation_file",
            files["TEST"],
            "--test_file",
            files["TEST"],
            "--output_file",
            tmp_path / "probe.json",
        ],
        monkeypatch,
    )
    assert results["num_train_windows"] == 30 and results["model_name_or_path"] == "timemae-base"
    train, test = np.load(files["TRAIN"]), np.load(files["TEST"])
    clf = TimeMAEClassifier(pretrained_model=universal_checkpoint, head="probe", random_state=0)
    clf.fit(train["X"], train["y"])
    script_probe = linear_probe_classifier().fit(clf.embed(train["X"]), train["y"])
    assert results["test_accuracy"] == pytest.approx(script_probe.score(clf.embed(test["X"]), test["y"]))
    if num_classes == 2:
        assert results["test_accuracy"] == pytest.approx(clf.score(test["X"], test["y"]))
    assert results["test_accuracy"] > 1 / num_classes  # the sines are told apart: the features are not noise


def test_the_linear_probe_fails_on_other_channels_for_a_checkpoint_that_encodes_them_together(tmp_path, monkeypatch):
    together = save_checkpoint(tmp_path / "together", num_input_channels=2, channel_independent=False)
    files = write_npz(tmp_path, 2)
    with pytest.raises(ValueError, match="The data has 3 channels but the checkpoint"):
        run_linear_probe_script(
            [
                "--model_name_or_path",
                together,
                "--train_file",
                files["TRAIN"],
                "--output_file",
                tmp_path / "probe.json",
            ],
            monkeypatch,
        )
    assert not (tmp_path / "probe.json").exists()


# ---------------------------------------------------------------------------------------------------------------------
# the scripts as a user runs them


# Runs a training script as `python training/<script>.py ...` does, with the shipped-models folder pointed elsewhere:
# python -c RUN_WITH_SHIPPED_MODELS <shipped models folder> training/<script>.py <arguments>
RUN_WITH_SHIPPED_MODELS = """
import runpy, sys
from pathlib import Path
import timemae_hf.shipped
timemae_hf.shipped.SHIPPED_MODELS_DIR = Path(sys.argv[1])
sys.argv = sys.argv[2:]
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.slow
def test_linear_probe_and_finetune_take_timemae_base_for_other_channels_and_lengths(shipped_models, tmp_path):
    files = write_npz(tmp_path, 3)
    data = ["--train_file", str(files["TRAIN"]), "--test_file", str(files["TEST"])]
    launcher = (sys.executable, "-c", RUN_WITH_SHIPPED_MODELS, str(shipped_models))

    probe = run_script(
        [
            "training/linear_probe.py",
            "--model_name_or_path",
            "timemae-base",
            *data,
            "--output_file",
            str(tmp_path / "probe.json"),
        ],
        launcher=launcher,
    )
    assert "resampled to its context_length of 32 steps" in probe.stdout + probe.stderr
    results = json.loads((tmp_path / "probe.json").read_text())
    assert {"validation_accuracy", "test_accuracy"} <= set(results)
    assert results["provenance"]["model_config"]["num_input_channels"] == NUM_CHANNELS

    output = tmp_path / "finetuned"
    finetuning = run_script(
        [
            "training/finetune.py",
            str(CONFIGS / "finetune_default.yaml"),
            "--model_name_or_path",
            "timemae-base",
            *data,
            "--max_steps",
            "4",
            "--eval_steps",
            "2",
            "--save_steps",
            "2",
            "--logging_steps",
            "2",
            "--disable_tqdm",
            "true",
            "--output_dir",
            str(output),
        ],
        launcher=launcher,
    )
    assert "encodes each channel alone" in finetuning.stdout + finetuning.stderr
    config = json.loads((output / "config.json").read_text())
    assert (config["num_input_channels"], config["context_length"]) == (NUM_CHANNELS, 32)
    assert config["channel_independent"] and config["resize_to_context_length"]
    assert 0.0 <= json.loads((output / "test_results.json").read_text())["test_accuracy"] <= 1.0
    finetuned = TimeMAEForSequenceClassification.from_pretrained(output)
    assert finetuned.classifier.in_features == NUM_CHANNELS * 16
    start = load_file(shipped_models / "timemae-base" / "model.safetensors")
    name = "timemae.encoder.layer.0.output.dense.weight"
    assert not torch.allclose(finetuned.state_dict()[name], start[name])  # it trained
    longer, _ = windows(2, seed=5, length=80)
    assert finetuned(past_values=torch.from_numpy(longer)).logits.shape == (2, 3)


@pytest.mark.slow
def test_a_run_saved_before_the_recipe_set_the_two_switches_resumes_under_it(tmp_path):
    output = tmp_path / "base"
    before = ["--channel_independent", "false", "--resize_to_context_length", "false"]
    run_script([*TINY_BASE_RUN, *before, "--max_steps", "3", "--output_dir", str(output)])
    assert not json.loads((output / "checkpoint-3" / "config.json").read_text())["channel_independent"]
    run_script([*TINY_BASE_RUN, "--max_steps", "6", "--output_dir", str(output), "--resume_from_checkpoint", "true"])
    assert [entry["step"] for entry in log_history(output) if "loss" in entry] == [1, 2, 3, 4, 5, 6]
    config = json.loads((output / "config.json").read_text())
    assert config["channel_independent"] and config["resize_to_context_length"]
