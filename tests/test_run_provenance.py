"""Every run folder records where it came from (training/run_provenance.py), and results that aggregate runs copy it."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from datasets import Dataset, DatasetDict
from run_provenance import RUN_PROVENANCE_FILE, data_fingerprint, write_run_provenance  # training/ (conftest)

from benchmarks.common.results_io import runs_provenance
from timemae_hf import TimeMAEConfig

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
TINY_MODEL = [
    "--hidden_size",
    "16",
    "--num_hidden_layers",
    "2",
    "--num_attention_heads",
    "2",
    "--intermediate_size",
    "32",
    "--codebook_size",
    "16",
    "--num_regressor_layers",
    "1",
]


@dataclass
class DataArguments:
    data_dir: str
    dataset_name: str = "har"
    dataset_config_name: str = "raw"


@dataclass
class TrainingArguments:
    output_dir: str
    process_index: int = 0


def splits() -> DatasetDict:
    return DatasetDict({name: Dataset.from_dict({"labels": [0, 1, 0]}) for name in ("train", "test")})


def test_the_data_fingerprint_names_the_content_not_the_path(tmp_path):
    first, second = tmp_path / "a" / "data.zip", tmp_path / "b" / "copy.zip"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_bytes(b"windows")
    shutil.copy(first, second)
    fingerprint = data_fingerprint(DataArguments(str(first)), splits())
    assert fingerprint["sha256"] == data_fingerprint(DataArguments(str(second)), splits())["sha256"]
    assert fingerprint["split_sizes"] == {"train": 3, "test": 3}
    second.write_bytes(b"other windows")
    assert fingerprint["sha256"] != data_fingerprint(DataArguments(str(second)), splits())["sha256"]


def test_a_run_folder_records_arguments_flags_device_and_data_and_a_resume_keeps_the_first_start(tmp_path):
    data = tmp_path / "data.zip"
    data.write_bytes(b"windows")
    training_args = TrainingArguments(str(tmp_path / "run"))
    config = TimeMAEConfig(num_input_channels=3, context_length=16, fast_dropout=True)
    path = write_run_provenance(
        training_args, (DataArguments(str(data)), training_args), config, DataArguments(str(data)), splits()
    )
    first = json.loads(path.read_text())
    assert len(first["git_sha"]) == 40 and isinstance(first["git_dirty"], bool)
    assert first["arguments"]["DataArguments"]["data_dir"] == str(data)
    assert first["model_config"]["fast_dropout"] is True
    assert {"cpu_model", "cpu_count", "torch_threads", "cuda"} <= set(first["device"])
    assert {"torch", "transformers", "datasets", "accelerate", "numpy"} <= set(first["versions"])
    assert first["data"]["files_sha256"]["data_dir"]

    write_run_provenance(training_args, (training_args,), config, DataArguments(str(data)), splits())
    resumed = json.loads(path.read_text())
    assert resumed["earlier_starts"] == [first]


def test_only_the_main_process_writes(tmp_path):
    training_args = TrainingArguments(str(tmp_path / "run"), process_index=1)
    assert write_run_provenance(training_args, (training_args,), None, None, None) is None
    assert not (tmp_path / "run").exists()


def test_results_copy_each_run_folders_provenance_and_say_when_a_run_has_none(tmp_path):
    recorded, old = tmp_path / "recorded", tmp_path / "old"
    recorded.mkdir()
    old.mkdir()
    (recorded / RUN_PROVENANCE_FILE).write_text(json.dumps({"git_sha": "abc", "model_config": {"fast_dropout": False}}))
    runs = runs_provenance([recorded, old])
    assert runs[str(recorded)]["model_config"] == {"fast_dropout": False}
    assert "made before the training scripts recorded it" in runs[str(old)]


def run_script(arguments: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT), "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(
        [sys.executable, *arguments], cwd=REPOSITORY_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


@pytest.mark.slow
def test_each_training_script_records_its_provenance(har_data_path, tmp_path):
    data = [
        "--data_dir",
        har_data_path,
        "--max_train_samples",
        "64",
        "--max_eval_samples",
        "32",
        "--max_test_samples",
        "32",
        "--per_device_train_batch_size",
        "16",
        "--disable_tqdm",
        "true",
    ]
    pretrained, finetuned = tmp_path / "pretrained", tmp_path / "finetuned"
    run_script(
        [
            "training/pretrain.py",
            "training/configs/har_native.yaml",
            *TINY_MODEL,
            *data,
            "--max_steps",
            "2",
            "--output_dir",
            str(pretrained),
        ]
    )
    run_script(
        [
            "training/finetune.py",
            "training/configs/har_finetune.yaml",
            "--model_name_or_path",
            str(pretrained),
            *data,
            "--max_steps",
            "2",
            "--output_dir",
            str(finetuned),
        ]
    )
    run_script(
        [
            "training/linear_probe.py",
            "--model_name_or_path",
            str(pretrained),
            *data[:8],
            "--output_file",
            str(tmp_path / "probe.json"),
        ]
    )

    pretraining = json.loads((pretrained / RUN_PROVENANCE_FILE).read_text())
    finetuning = json.loads((finetuned / RUN_PROVENANCE_FILE).read_text())
    probe = json.loads((tmp_path / "probe.json").read_text())["provenance"]
    assert pretraining["model_config"]["fast_dropout"] is True  # har_native.yaml turns it on
    assert pretraining["arguments"]["TimeMAETrainingArguments"]["max_steps"] == 2
    assert finetuning["arguments"]["FinetuningModelArguments"]["model_name_or_path"] == str(pretrained)
    # The same archive and subsets (all labels): one fingerprint for all three runs.
    assert pretraining["data"]["sha256"] == finetuning["data"]["sha256"] == probe["data"]["sha256"]
    assert "training/linear_probe.py" in probe["command"]
