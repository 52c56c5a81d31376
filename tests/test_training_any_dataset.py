"""The training scripts on data other than HAR: .npz, UEA/UCR .ts (variable length, missing values) and a saved
`datasets` folder, end to end (pre-training, fine-tuning, linear probe), and the errors such data can bring.

Each script runs in this process as `python training/<script>.py ...` would (its `main()` with `sys.argv` set), on data
the tests write, with a tiny model and a few steps.
"""

import json
import runpy
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
from huggingface_hub import ModelCard

from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEForSequenceClassification
from timemae_hf.data import load_timeseries_dataset

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPOSITORY_ROOT / "training" / "configs"
TINY_MODEL = [
    "--hidden_size",
    "16",
    "--num_hidden_layers",
    "1",
    "--num_attention_heads",
    "2",
    "--intermediate_size",
    "32",
    "--codebook_size",
    "16",
    "--num_regressor_layers",
    "1",
]
FEW_STEPS = [
    "--max_steps",
    "4",
    "--eval_strategy",
    "steps",
    "--eval_steps",
    "2",
    "--save_strategy",
    "steps",
    "--save_steps",
    "2",
    "--logging_steps",
    "2",
    "--per_device_eval_batch_size",
    "64",
    "--disable_tqdm",
    "true",
]
CLASSES = ("walk", "run", "sit")
NUM_CHANNELS, LENGTH = 4, 24

pytestmark = pytest.mark.usefixtures("training_scripts_on_sys_path")


def run_script(name: str, argv: list[str], monkeypatch):
    monkeypatch.setattr(sys, "argv", [f"training/{name}.py", *map(str, argv)])
    runpy.run_path(str(REPOSITORY_ROOT / "training" / f"{name}.py"), run_name=f"training_{name}")["main"]()


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def card_text(folder: Path) -> str:
    return " ".join(ModelCard.load(folder / "README.md").text.split())


def labelled_windows(num_windows: int, seed: int, length: int = LENGTH, channels: int = NUM_CHANNELS):
    """Windows whose class shifts one channel, so a probe can tell the classes apart; labels cycle over CLASSES."""
    generator = np.random.default_rng(seed)
    labels = np.arange(num_windows) % len(CLASSES)
    past_values = generator.normal(size=(num_windows, length, channels)).astype(np.float32)
    past_values[np.arange(num_windows), :, labels] += 2.0
    return past_values, labels


@pytest.fixture(autouse=True)
def datasets_cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "datasets_cache"))


@pytest.fixture
def npz_files(tmp_path) -> dict[str, Path]:
    """Motions_TRAIN.npz (36 windows) and Motions_TEST.npz (12), X (windows, 24, 4), y class ids, class_names."""
    files = {}
    for split, num_windows, seed in (("TRAIN", 36, 0), ("TEST", 12, 1)):
        past_values, labels = labelled_windows(num_windows, seed)
        files[split] = tmp_path / f"Motions_{split}.npz"
        np.savez(files[split], X=past_values, y=labels, class_names=np.array(CLASSES))
    return files


def write_variable_length_ts(path: Path, num_windows: int, seed: int, max_length: int = 20) -> Path:
    """A UEA/UCR .ts file of 2-channel series of 12 to `max_length` steps, with '?' for a few missing values."""
    generator = np.random.default_rng(seed)
    lines = [
        "@problemName Ragged",
        "@timeStamps false",
        "@missing true",
        "@univariate false",
        "@dimensions 2",
        "@equalLength false",
        f"@classLabel true {' '.join(CLASSES)}",
        "@data",
    ]
    for row in range(num_windows):
        label = row % len(CLASSES)
        length = int(generator.integers(12, max_length + 1))
        channels = []
        for channel in range(2):
            values = generator.normal(size=length) + (2.0 if channel == label % 2 else 0.0) + label
            text = [f"{value:.4f}" for value in values]
            if row % 4 == 0:
                text[length // 2] = "?"
            channels.append(",".join(text))
        lines.append(":".join(channels) + f":{CLASSES[label]}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def ts_files(tmp_path) -> dict[str, Path]:
    return {
        "TRAIN": write_variable_length_ts(tmp_path / "Ragged_TRAIN.ts", 30, seed=0),
        # longer than every train series, as in UEA's JapaneseVowels (train up to 25 steps, test up to 29)
        "TEST": write_variable_length_ts(tmp_path / "Ragged_TEST.ts", 12, seed=1, max_length=26),
    }


@pytest.fixture
def saved_folder(tmp_path) -> Path:
    """A `save_to_disk` DatasetDict with its own column names (signal, activity) and a subject column."""
    folder = tmp_path / "saved_motions"
    splits = {}
    for split, num_windows, seed in (("train", 36, 2), ("test", 12, 3)):
        past_values, labels = labelled_windows(num_windows, seed)
        splits[split] = datasets.Dataset.from_dict(
            {
                "signal": past_values.tolist(),
                "activity": [CLASSES[label] for label in labels],
                "subject": (np.arange(num_windows) % 6).tolist(),
            }
        )
    datasets.DatasetDict(splits).save_to_disk(str(folder))
    return folder


def test_npz_files_pretrain_finetune_and_probe_with_the_generic_configs(npz_files, tmp_path, monkeypatch):
    data = ["--train_file", npz_files["TRAIN"], "--test_file", npz_files["TEST"]]
    pretrained = tmp_path / "pretrained"
    run_script(
        "pretrain",
        [CONFIGS / "pretrain_default.yaml", *data, *TINY_MODEL, *FEW_STEPS, "--output_dir", pretrained],
        monkeypatch,
    )

    config = TimeMAEConfig.from_pretrained(pretrained)
    assert (config.context_length, config.num_input_channels) == (LENGTH, NUM_CHANNELS)
    assert config.patch_length == TimeMAEConfig.default_patch_length(LENGTH)
    assert [config.id2label[i] for i in range(3)] == list(CLASSES)
    results = read_json(pretrained / "all_results.json")
    assert {"eval_probe_accuracy", "test_probe_accuracy"} <= set(results)
    # the validation split is carved from train as the data package does it: stratified 20 %, the config's seed
    splits = load_timeseries_dataset(data_files={"train": str(npz_files["TRAIN"])}, seed=3407)
    num_train = len(splits["train"])
    assert num_train + len(splits["validation"]) == 36
    assert results["train_samples"] == num_train and results["refit"] is False
    card = ModelCard.load(pretrained / "README.md")
    assert "human-activity-recognition" not in card.data.tags and not card.data.datasets
    assert card.data.eval_results[0].dataset_name == "Motions"
    text = card_text(pretrained)
    assert "pre-trained without labels on Motions" in text and "HAR" not in text
    assert "validation = stratified" in text

    finetuned = tmp_path / "finetuned"
    run_script(
        "finetune",
        [
            CONFIGS / "finetune_default.yaml",
            "--model_name_or_path",
            pretrained,
            *data,
            *FEW_STEPS,
            "--output_dir",
            finetuned,
        ],
        monkeypatch,
    )
    test_results = read_json(finetuned / "test_results.json")
    assert 0.0 <= test_results["test_accuracy"] <= 1.0
    # the generic config's batch of 128 was lowered to the train split's windows
    assert read_json(finetuned / "trainer_state.json")["train_batch_size"] == num_train
    assert "fine-tuned to classify 3 classes of Motions" in card_text(finetuned)

    probe_file = tmp_path / "probe.json"
    run_script("linear_probe", ["--model_name_or_path", pretrained, *data, "--output_file", probe_file], monkeypatch)
    probe = read_json(probe_file)
    assert probe["num_train_windows"] == num_train
    assert probe["test_accuracy"] == pytest.approx(results["test_probe_accuracy"])


def test_ragged_ts_with_missing_values_takes_the_longest_window_of_all_splits(ts_files, tmp_path, monkeypatch):
    data = ["--train_file", ts_files["TRAIN"], "--test_file", ts_files["TEST"]]
    pretrained = tmp_path / "pretrained"
    run_script(
        "pretrain",
        [
            *data,
            *TINY_MODEL,
            *FEW_STEPS,
            "--do_train",
            "--do_predict",
            "--normalize_channels",
            "true",
            "--output_dir",
            pretrained,
        ],
        monkeypatch,
    )
    model = TimeMAEForPreTraining.from_pretrained(pretrained)
    longest = max(
        len(line.split(":")[0].split(","))
        for line in ts_files["TEST"].read_text().splitlines()
        if line and not line.startswith("@")
    )
    # the longest test window is longer than any train window: it sets the length, so no test window is refused
    assert longest > 20 and model.config.context_length == longest and model.config.num_input_channels == 2
    assert all(np.isfinite(model.config.channel_mean)) and all(np.isfinite(model.config.channel_std))
    assert np.isfinite(read_json(pretrained / "test_results.json")["test_probe_accuracy"])

    finetuned = tmp_path / "finetuned"
    run_script(
        "finetune",
        [
            "--model_name_or_path",
            pretrained,
            *data,
            *FEW_STEPS,
            "--do_train",
            "--do_eval",
            "--do_predict",
            "--output_dir",
            finetuned,
        ],
        monkeypatch,
    )
    assert np.isfinite(read_json(finetuned / "all_results.json")["eval_loss"])
    assert 0.0 <= read_json(finetuned / "test_results.json")["test_accuracy"] <= 1.0


def test_saved_datasets_folder_with_its_own_column_names_and_groups(saved_folder, tmp_path, monkeypatch):
    output_dir = tmp_path / "pretrained"
    run_script(
        "pretrain",
        [
            "--dataset_name",
            saved_folder,
            "--past_values_column",
            "signal",
            "--label_column",
            "activity",
            "--group_column",
            "subject",
            *TINY_MODEL,
            *FEW_STEPS,
            "--do_train",
            "--output_dir",
            output_dir,
        ],
        monkeypatch,
    )
    config = TimeMAEConfig.from_pretrained(output_dir)
    assert sorted(config.id2label.values()) == sorted(CLASSES) and config.num_input_channels == NUM_CHANNELS
    assert "groups of column 'subject'" in card_text(output_dir)


def test_refit_fine_tunes_on_train_and_validation_and_says_so(npz_files, tmp_path, monkeypatch):
    output_dir = tmp_path / "refit"
    run_script(
        "finetune",
        [
            "--train_file",
            npz_files["TRAIN"],
            "--test_file",
            npz_files["TEST"],
            *TINY_MODEL,
            "--refit",
            "--do_train",
            "--do_predict",
            "--max_steps",
            "2",
            "--disable_tqdm",
            "true",
            "--output_dir",
            output_dir,
        ],
        monkeypatch,
    )
    train_results = read_json(output_dir / "train_results.json")
    assert train_results["refit"] is True and train_results["train_samples"] == 36  # all of train + validation
    assert "**Refit**: trained on train + validation concatenated (36 windows)" in card_text(output_dir)


def test_an_evaluation_only_run_writes_a_card_that_says_nothing_was_trained(npz_files, tmp_path, monkeypatch):
    output_dir = tmp_path / "evaluated"
    run_script(
        "pretrain",
        ["--train_file", npz_files["TRAIN"], *TINY_MODEL, "--do_eval", "--output_dir", output_dir],
        monkeypatch,
    )
    text = card_text(output_dir)
    assert "This run trained nothing" in text and "pre-trained" not in text
    assert not (output_dir / "model.safetensors").exists()


def test_predicting_without_a_test_split_fails_naming_test_file(npz_files, tmp_path, monkeypatch):
    argv = ["--train_file", npz_files["TRAIN"], "--do_train", "--do_predict", "--output_dir", tmp_path / "out"]
    with pytest.raises(ValueError, match="--do_predict needs a 'test' split.*give --test_file"):
        run_script("finetune", argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_finetuning_unlabelled_data_fails_naming_label_column(tmp_path, monkeypatch):
    np.savez(tmp_path / "corpus.npz", X=labelled_windows(12, seed=0)[0])
    argv = ["--train_file", tmp_path / "corpus.npz", "--do_train", "--output_dir", tmp_path / "out"]
    with pytest.raises(ValueError, match="has no labels.*--label_column"):
        run_script("finetune", argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_unlabelled_corpus_pretrains_without_a_probe(tmp_path, monkeypatch):
    np.savez(tmp_path / "corpus.npz", X=labelled_windows(12, seed=0)[0])
    output_dir = tmp_path / "corpus_model"
    run_script(
        "pretrain",
        ["--train_file", tmp_path / "corpus.npz", *TINY_MODEL, *FEW_STEPS, "--do_train", "--output_dir", output_dir],
        monkeypatch,
    )
    history = read_json(output_dir / "trainer_state.json")["log_history"]
    evaluations = [entry for entry in history if "eval_loss" in entry]
    assert evaluations and not any("eval_probe_accuracy" in entry for entry in evaluations)


@pytest.mark.parametrize("script", ["finetune", "linear_probe"])
def test_a_checkpoint_with_other_channels_fails_naming_the_checkpoint(script, npz_files, tmp_path, monkeypatch):
    checkpoint = tmp_path / "two_channels"
    TimeMAEForSequenceClassification(
        TimeMAEConfig(
            num_input_channels=2,
            context_length=LENGTH,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            num_labels=3,
        )
    ).save_pretrained(checkpoint)
    argv = ["--model_name_or_path", checkpoint, "--train_file", npz_files["TRAIN"]]
    if script == "finetune":
        argv += ["--do_train", "--output_dir", tmp_path / "out"]
    with pytest.raises(ValueError, match="The data has 4 channels but the checkpoint --model_name_or_path .* takes 2"):
        run_script(script, argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_windows_longer_than_the_checkpoint_fail_naming_its_context_length(npz_files, tmp_path, monkeypatch):
    checkpoint = tmp_path / "short"
    TimeMAEForPreTraining(
        TimeMAEConfig(
            num_input_channels=NUM_CHANNELS,
            context_length=16,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        )
    ).save_pretrained(checkpoint)
    argv = [
        "--model_name_or_path",
        checkpoint,
        "--train_file",
        npz_files["TRAIN"],
        "--do_train",
        "--output_dir",
        tmp_path / "out",
    ]
    with pytest.raises(ValueError, match="windows of up to 24 steps .* takes at most 16 .*context_length"):
        run_script("pretrain", argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_a_streamed_corpus_pretrains_with_statistics_from_a_sample(tmp_path, monkeypatch):
    np.savez(tmp_path / "corpus.npz", X=labelled_windows(20, seed=0)[0])
    output_dir = tmp_path / "streamed"
    run_script(
        "pretrain",
        [
            "--train_file",
            tmp_path / "corpus.npz",
            "--streaming",
            *TINY_MODEL,
            "--do_train",
            "--max_steps",
            "2",
            "--per_device_train_batch_size",
            "4",
            "--normalize_channels",
            "true",
            "--save_strategy",
            "no",
            "--disable_tqdm",
            "true",
            "--output_dir",
            output_dir,
        ],
        monkeypatch,
    )
    config = TimeMAEConfig.from_pretrained(output_dir)
    assert (config.context_length, config.num_input_channels) == (LENGTH, NUM_CHANNELS)
    assert len(config.channel_mean) == NUM_CHANNELS and all(np.isfinite(config.channel_std))
    assert read_json(output_dir / "trainer_state.json")["global_step"] == 2
