"""Pre-training on the synthetic stream through training/pretrain.py, as timemae-base is trained: one process, two
processes under accelerate launch, and a resumed run that continues the stream where it stopped."""

import json
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file
from test_training_scripts import log_history, run_script

pytestmark = pytest.mark.slow  # training scripts and launchers run as a user runs them

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
BASE_CONFIG = "training/configs/timemae_base.yaml"
# The shipped recipe with a tiny model, a short stream and nothing but the steps asked for.
TINY_BASE_RUN = [
    "training/pretrain.py",
    BASE_CONFIG,
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
    "--synthetic_length",
    "64",
    "--patch_length",
    "8",
    "--synthetic_validation_series",
    "16",
    "--per_device_train_batch_size",
    "8",
    "--per_device_eval_batch_size",
    "16",
    "--warmup_steps",
    "0",
    "--logging_steps",
    "1",
    "--eval_steps",
    "3",
    "--save_steps",
    "3",
    "--dataloader_num_workers",
    "0",
    "--disable_tqdm",
    "true",
    "--seed",
    "5",
]


def test_the_shipped_recipe_is_the_universal_encoder_the_estimator_reads():
    recipe = yaml.safe_load((REPOSITORY_ROOT / BASE_CONFIG).read_text())
    assert recipe["dataset_name"] == "synthetic" and recipe["synthetic_length"] == 512
    assert recipe["scaling"] == "std" and recipe["window_statistics_as_features"] is True
    assert recipe["hidden_dropout_prob"] == recipe["attention_probs_dropout_prob"] == 0.0


def test_pretraining_streams_synthetic_series_and_evaluates_on_a_separate_set(tmp_path):
    output = tmp_path / "base"
    run_script([*TINY_BASE_RUN, "--max_steps", "6", "--output_dir", str(output)])
    history = log_history(output)
    assert [entry["step"] for entry in history if "eval_loss" in entry] == [3, 6]
    config = json.loads((output / "config.json").read_text())
    assert (config["num_input_channels"], config["context_length"]) == (1, 64)
    card = (output / "README.md").read_text()
    assert "synthetic series" in card and "no real recording was seen" in card


def test_a_resumed_run_continues_the_stream_where_it_stopped(tmp_path):
    # The stream restarts at the first series the checkpoint had not read (3 steps x 8 = series 24), instead of being
    # regenerated and skipped batch by batch. (Masks and codewords are drawn after the data loader has drawn its seed,
    # so they differ from an uninterrupted run's: the data is continued, not the random draws.)
    uninterrupted, resumed = tmp_path / "uninterrupted", tmp_path / "resumed"
    run_script([*TINY_BASE_RUN, "--max_steps", "6", "--output_dir", str(uninterrupted)])
    result = run_script(
        [
            *TINY_BASE_RUN,
            "--max_steps",
            "6",
            "--output_dir",
            str(resumed),
            "--resume_from_checkpoint",
            str(uninterrupted / "checkpoint-3"),
        ]
    )
    assert "the synthetic stream continues at series 24" in result.stdout + result.stderr
    history = log_history(resumed)
    assert [entry["step"] for entry in history if "loss" in entry] == [1, 2, 3, 4, 5, 6]
    at_checkpoint, final = (
        load_file(uninterrupted / "checkpoint-3" / "model.safetensors"),
        load_file(resumed / "model.safetensors"),
    )
    assert any(not torch.equal(final[name], at_checkpoint[name]) for name in final)  # it trained on


def test_two_processes_pretrain_on_the_stream(tmp_path):
    output = tmp_path / "two"
    launcher = (sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2")
    result = run_script(
        [*TINY_BASE_RUN, "--max_steps", "3", "--use_cpu", "true", "--output_dir", str(output)], launcher=launcher
    )
    assert "Process rank: 1, device: cpu:0, n_processes: 2" in result.stdout
    assert "Total train batch size (w. parallel, distributed & accumulation) = 16" in result.stdout + result.stderr
    losses = [entry["loss"] for entry in log_history(output) if "loss" in entry]
    assert len(losses) == 3 and all(loss == loss for loss in losses)
