"""Every documented error of the training scripts ends the process that hit it.

Each error path of training/pretrain.py, finetune.py and linear_probe.py (the checks the scripts and their helpers make,
also tested in-process by tests/test_training_*.py) runs here as a user runs it: a fresh `python training/<script>.py`
process, on small data the tests write, with a timeout. It must exit non-zero, within the timeout, printing its message.
A process that prints its error and then hangs at exit (as pre-training on a streamed parquet file once did, see
timemae_hf/data/streaming.py) fails with what it printed.
"""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from transformers import BertConfig, BertModel

from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEForSequenceClassification

pytestmark = pytest.mark.slow  # one fresh Python process per error path, ~10 s each

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPOSITORY_ROOT / "training" / "configs"
SCRIPT_TIMEOUT = 180  # an error comes within ~20 s on a loaded 2-core machine; a hang never does
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
NUM_CHANNELS, LENGTH, NUM_CLASSES = 4, 24, 3
# Enough row groups that reading the first one leaves pyarrow reads of the next in flight, as in the hang's report.
STREAM_WINDOWS, STREAM_LENGTH, STREAM_ROW_GROUP = 20_000, 64, 1_000


def run_script_process(arguments: list, env_overrides: dict, timeout: float = SCRIPT_TIMEOUT) -> tuple[int, str]:
    """Run `python <arguments>` from the repository root in a process session of its own; (exit code, stdout +
    stderr). A run that outlives `timeout` is killed with everything it started, and the test fails with what it
    printed."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPOSITORY_ROOT),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        **env_overrides,
    }
    process = subprocess.Popen(
        [sys.executable, *map(str, arguments)],
        cwd=REPOSITORY_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{arguments[0]} did not end within {timeout} s; it printed last:\n{output[-4000:]}")
    return process.returncode, output


def labelled_windows(num_windows: int, seed: int, length: int = LENGTH) -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(seed)
    return (
        generator.normal(size=(num_windows, length, NUM_CHANNELS)).astype(np.float32),
        np.arange(num_windows) % NUM_CLASSES,
    )


def write_stream_parquet(path: Path, num_windows: int, length: int) -> Path:
    """A parquet file of `past_values` (time, channels) lists with integer `labels`, in row groups of
    STREAM_ROW_GROUP."""
    past_values, labels = labelled_windows(num_windows, seed=2, length=length)
    steps = pa.ListArray.from_arrays(
        np.arange(0, past_values.size + 1, NUM_CHANNELS, dtype=np.int32), pa.array(past_values.reshape(-1))
    )
    windows = pa.ListArray.from_arrays(np.arange(0, num_windows * length + 1, length, dtype=np.int32), steps)
    pq.write_table(pa.table({"past_values": windows, "labels": labels}), path, row_group_size=STREAM_ROW_GROUP)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Data, configs and checkpoints that make each script fail in one documented way."""
    folder = tmp_path_factory.mktemp("script_errors")
    files = {"folder": folder}
    for name, num_windows, seed in (("train", 36, 0), ("test", 12, 1)):
        past_values, labels = labelled_windows(num_windows, seed)
        files[name] = folder / f"Motions_{name.upper()}.npz"
        np.savez(files[name], X=past_values, y=labels, class_names=np.array(["walk", "run", "sit"]))
    files["corpus"] = folder / "corpus.npz"
    np.savez(files["corpus"], X=labelled_windows(12, seed=3)[0])
    files["stream"] = write_stream_parquet(folder / "labelled.parquet", STREAM_WINDOWS, STREAM_LENGTH)
    files["not_har"] = folder / "not_har"
    files["not_har"].mkdir()

    config = yaml.safe_load((CONFIGS / "har_native.yaml").read_text())
    config["hiden_size"] = config.pop("hidden_size")
    files["typo_config"] = folder / "typo.yaml"
    files["typo_config"].write_text(yaml.safe_dump(config))

    tiny = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32}
    files["two_channels"] = folder / "two_channels"
    TimeMAEForSequenceClassification(
        TimeMAEConfig(num_input_channels=2, context_length=LENGTH, num_labels=NUM_CLASSES, **tiny)
    ).save_pretrained(files["two_channels"])
    files["short_context"] = folder / "short_context"
    TimeMAEForPreTraining(TimeMAEConfig(num_input_channels=NUM_CHANNELS, context_length=16, **tiny)).save_pretrained(
        files["short_context"]
    )
    files["timemae"] = folder / "timemae"
    TimeMAEForPreTraining(
        TimeMAEConfig(num_input_channels=NUM_CHANNELS, context_length=LENGTH, **tiny)
    ).save_pretrained(files["timemae"])
    files["bert"] = folder / "bert"
    BertModel(BertConfig(vocab_size=32, max_position_embeddings=32, **tiny)).save_pretrained(files["bert"])
    return files


def output(files) -> list:
    return ["--output_dir", files["folder"] / "never_written"]


# (script, arguments from the files above, the message it must print). Checks before the data is read come first.
ERROR_PATHS = {
    # the command line and config files (parse_arguments, the argument dataclasses, check_something_to_do)
    "pretrain: a misspelt key in a config file": (
        "pretrain",
        lambda f: [f["typo_config"], *output(f)],
        r"'hiden_size' \(did you mean 'hidden_size'\?\)",
    ),
    "pretrain: nothing to do": (
        "pretrain",
        lambda f: ["--train_file", f["corpus"], *output(f)],
        r"Nothing to do: .*--do_train",
    ),
    "pretrain: files and a HAR folder at once": (
        "pretrain",
        lambda f: ["--train_file", f["corpus"], "--data_dir", f["not_har"], "--do_train", *output(f)],
        r"--data_dir is where the HAR data lies.*drop --data_dir",
    ),
    "pretrain: probing every 0 epochs": (
        "pretrain",
        lambda f: ["--probe_every_n_epochs", "0", "--do_train", *output(f)],
        r"--probe_every_n_epochs must be at least 1",
    ),
    "pretrain: streaming HAR": (
        "pretrain",
        lambda f: ["--streaming", "true", "--max_steps", "2", "--do_train", *output(f)],
        r"--streaming reads --dataset_name or --train_file",
    ),
    "pretrain: streaming without --max_steps": (
        "pretrain",
        lambda f: ["--train_file", f["stream"], "--streaming", "true", "--do_train", *output(f)],
        r"--streaming has no epochs .*set --max_steps",
    ),
    # the command of the hang's report: a labelled stream with a config that selects checkpoints by the probe
    "pretrain: streaming with a probe metric": (
        "pretrain",
        lambda f: [
            CONFIGS / "pretrain_default.yaml",
            "--train_file",
            f["stream"],
            "--streaming",
            "true",
            "--max_steps",
            "300",
            *output(f),
        ],
        r"--metric_for_best_model probe_accuracy needs the linear probe, which a stream does not get",
    ),
    "pretrain: streaming with --refit": (
        "pretrain",
        lambda f: [
            "--train_file",
            f["stream"],
            "--streaming",
            "true",
            "--max_steps",
            "2",
            "--refit",
            "true",
            "--do_train",
            *output(f),
        ],
        r"--refit concatenates train and validation, which --streaming cannot",
    ),
    "pretrain: a HAR folder without HAR": (
        "pretrain",
        lambda f: ["--data_dir", f["not_har"], "--do_train", *output(f)],
        r"does not hold readable HAR data.*UCI HAR Dataset.zip",
    ),
    # after the data is read (check_splits, the probe, the checkpoint against the data)
    "pretrain: predicting on a stream without a test split": (  # fails after reading part of the stream
        "pretrain",
        lambda f: [
            CONFIGS / "pretrain_default.yaml",
            "--train_file",
            f["stream"],
            "--streaming",
            "true",
            "--max_steps",
            "300",
            "--metric_for_best_model",
            "loss",
            *output(f),
        ],
        r"--do_predict needs a 'test' split.*give --test_file",
    ),
    "pretrain: a probe metric on unlabelled data": (
        "pretrain",
        lambda f: [
            "--train_file",
            f["corpus"],
            "--do_train",
            "--metric_for_best_model",
            "probe_accuracy",
            *TINY_MODEL,
            *output(f),
        ],
        r"needs the linear probe, which needs labels",
    ),
    "pretrain: windows longer than the checkpoint's": (
        "pretrain",
        lambda f: ["--model_name_or_path", f["short_context"], "--train_file", f["train"], "--do_train", *output(f)],
        r"windows of up to 24 steps .* takes at most 16 .*context_length",
    ),
    "finetune: a misspelt command-line argument": (
        "finetune",
        lambda f: ["--do_train", "--label_fractoin", "0.1", *output(f)],
        r"'label_fractoin' \(did you mean 'label_fraction'\?\)",
    ),
    "finetune: a label fraction outside (0, 1]": (
        "finetune",
        lambda f: ["--label_fraction", "1.5", "--do_train", *output(f)],
        r"--label_fraction must be in \(0, 1\]",
    ),
    "finetune: an unknown augmentation": (
        "finetune",
        lambda f: ["--augmentations", "mixup", "--do_train", *output(f)],
        r"--augmentations mixup: unknown",
    ),
    "finetune: two model sources": (
        "finetune",
        lambda f: [
            "--model_name_or_path",
            f["timemae"],
            "--bert_model_name_or_path",
            f["bert"],
            "--do_train",
            *output(f),
        ],
        r"not both",
    ),
    "finetune: --refit with a config that selects on validation": (
        "finetune",
        lambda f: [CONFIGS / "har_finetune.yaml", "--refit", "true", *output(f)],
        r'--refit trains on train \+ validation.*--metric_for_best_model ""',
    ),
    "finetune: a TimeMAE checkpoint as the BERT one": (
        "finetune",
        lambda f: ["--bert_model_name_or_path", f["timemae"], "--train_file", f["train"], "--do_train", *output(f)],
        r"is a TimeMAE checkpoint: pass it as --model_name_or_path",
    ),
    "finetune: reshaping a checkpoint": (
        "finetune",
        lambda f: [
            "--model_name_or_path",
            f["timemae"],
            "--hidden_size",
            "32",
            "--train_file",
            f["train"],
            "--do_train",
            *output(f),
        ],
        r"hidden_size.*a checkpoint's shape is fixed",
    ),
    "finetune: unlabelled data": (
        "finetune",
        lambda f: ["--train_file", f["corpus"], "--do_train", *TINY_MODEL, *output(f)],
        r"has no labels.*--label_column",
    ),
    "finetune: a label fraction that keeps fewer windows than classes": (
        "finetune",
        lambda f: ["--train_file", f["train"], "--label_fraction", "0.01", "--do_train", *TINY_MODEL, *output(f)],
        r"fewer than the 3 classes: raise --label_fraction",
    ),
    "finetune: predicting without a test split": (
        "finetune",
        lambda f: ["--train_file", f["train"], "--do_train", "--do_predict", *TINY_MODEL, *output(f)],
        r"--do_predict needs a 'test' split.*give --test_file",
    ),
    "finetune: a checkpoint with other channels": (
        "finetune",
        lambda f: ["--model_name_or_path", f["two_channels"], "--train_file", f["train"], "--do_train", *output(f)],
        r"The data has 4 channels but the checkpoint --model_name_or_path .* takes 2",
    ),
    "linear_probe: a config file that does not exist": (
        "linear_probe",
        lambda f: [CONFIGS / "no_such_config.yaml"],
        r"does not exist; the shipped ones are in",
    ),
    "linear_probe: no checkpoint": (
        "linear_probe",
        lambda f: ["--train_file", f["train"]],
        r"--model_name_or_path is required",
    ),
    "linear_probe: a BERT folder as the checkpoint": (
        "linear_probe",
        lambda f: ["--model_name_or_path", f["bert"], "--train_file", f["train"]],
        r"is a 'bert' checkpoint, not a TimeMAE one",
    ),
    "linear_probe: unlabelled data": (
        "linear_probe",
        lambda f: ["--model_name_or_path", f["timemae"], "--train_file", f["corpus"]],
        r"has no labels .*the probe needs them",
    ),
    "linear_probe: a checkpoint with other channels": (
        "linear_probe",
        lambda f: ["--model_name_or_path", f["two_channels"], "--train_file", f["train"]],
        r"The data has 4 channels but the checkpoint --model_name_or_path .* takes 2",
    ),
}


@pytest.mark.parametrize("error_path", list(ERROR_PATHS))
def test_each_documented_error_ends_the_script_with_its_message(error_path, files):
    script, arguments, message = ERROR_PATHS[error_path]
    returncode, printed = run_script_process(
        [f"training/{script}.py", *arguments(files)], {"HF_DATASETS_CACHE": str(files["folder"] / "datasets_cache")}
    )
    assert returncode != 0, f"{error_path}: exit code 0; it printed:\n{printed[-3000:]}"
    assert re.search(message, printed), f"{error_path}: no /{message}/ in what it printed:\n{printed[-3000:]}"
    assert not (files["folder"] / "never_written").exists()


def test_a_labelled_stream_pretrains_with_its_labels_left_aside(files):
    output_dir = files["folder"] / "streamed"
    returncode, printed = run_script_process(
        [
            "training/pretrain.py",
            "--train_file",
            files["stream"],
            "--streaming",
            "true",
            "--do_train",
            "--max_steps",
            "2",
            "--per_device_train_batch_size",
            "8",
            "--save_strategy",
            "no",
            "--disable_tqdm",
            "true",
            *TINY_MODEL,
            "--output_dir",
            output_dir,
        ],
        {"HF_DATASETS_CACHE": str(files["folder"] / "datasets_cache")},
    )
    assert returncode == 0, printed[-3000:]
    assert "the label column 'labels', if the data has one, is left aside" in printed
    config = TimeMAEConfig.from_pretrained(output_dir)
    assert (config.context_length, config.num_input_channels) == (STREAM_LENGTH, NUM_CHANNELS)


LIBRARY_ERROR_AFTER_A_PARTIAL_READ = """
import sys
from timemae_hf.data import load_timeseries_dataset
import timemae_hf.training  # what the scripts import: a heavier interpreter, with more to tear down
load_timeseries_dataset(data_files={"train": sys.argv[1]}, streaming=True)
"""


@pytest.mark.parametrize("attempt", range(3))
def test_an_error_right_after_reading_part_of_a_parquet_stream_ends_the_process(attempt, files):
    """The root cause of the hang: reading one example of a streamed parquet file left pyarrow reads running, and an
    error right after it (here the library's, for integer labels in a stream) made the interpreter's exit abort in 3 of
    6 runs on a file like this one (32 MB) and hang in 2 of 8 on a 166 MB one, before `reading_stream`. A race, so it
    runs three times."""
    returncode, printed = run_script_process(
        ["-c", LIBRARY_ERROR_AFTER_A_PARTIAL_READ, files["stream"]],
        {"HF_DATASETS_CACHE": str(files["folder"] / "datasets_cache")},
        timeout=120,
    )
    assert returncode == 1, f"exit code {returncode} (134: aborted at exit); it printed:\n{printed[-3000:]}"
    assert "A streaming source needs its label column typed as a `datasets.ClassLabel`" in printed
