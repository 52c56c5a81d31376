"""benchmarks/release/release_timemae_base.py on a tiny stand-in run: the Hub-ready folder, the package's copy, the
card."""

import json

import pytest
import torch
from safetensors.torch import load_file

from benchmarks.release import release_timemae_base
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEModel

TINY_RUN = dict(
    num_input_channels=1,
    context_length=32,
    patch_length=8,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=32,
    codebook_size=16,
    num_regressor_layers=1,
    scaling="std",
    window_statistics_as_features=True,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
)


@pytest.fixture
def run_dir(tmp_path):
    """A pre-training run's folder as training/pretrain.py leaves it: two checkpoints and run_provenance.json."""
    run = tmp_path / "timemae_base"
    for step in (2, 4):
        torch.manual_seed(step)
        TimeMAEForPreTraining(TimeMAEConfig(**TINY_RUN)).save_pretrained(run / f"checkpoint-{step}")
        (run / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"train_batch_size": 8}))
    provenance = {
        "git_sha": "0123456789abcdef",
        "command": "python training/pretrain.py training/configs/timemae_base.yaml",
        "device": {"cpu_model": "AMD EPYC", "cpu_count": 2, "torch_threads": 1, "cuda": None},
        "arguments": {"TimeMAETrainingArguments": {"gradient_accumulation_steps": 1, "learning_rate": 0.001}},
        "model_config": {"num_hidden_layers": 2},
    }
    (run / "run_provenance.json").write_text(json.dumps(provenance))
    return run


@pytest.fixture
def validation_results(tmp_path):
    """A validation study's results as benchmarks/league/timemae_base_validation.py writes them: it chose step 4, 1
    layer."""
    summary = {
        f"checkpoint-{step}/layers{layers}": {
            "step": step,
            "layers": layers,
            "datasets": 2,
            "mean_validation_accuracy": 70.0 + step - layers,
        }
        for step in (2, 4)
        for layers in (1, 2)
    }
    record = {
        "selection_rule": "the candidate with the highest mean validation accuracy",
        "datasets": ["GunPoint", "Coffee"],
        "summary": summary,
        "chosen": {"candidate": "checkpoint-4/layers1", "step": 4, "layers": 1},
        "reference": {"mean_validation_accuracy": 95.0, "datasets": 2, "missing": []},
        "provenance": {"command": "python -m benchmarks.league.timemae_base_validation", "git_sha": "fedcba9876543210"},
    }
    path = tmp_path / "validation.json"
    path.write_text(json.dumps(record))
    return path


def release(tmp_path, run_dir, validation_results, *extra):
    release_timemae_base.main(
        [
            "--run_dir",
            str(run_dir),
            "--validation_results",
            str(validation_results),
            "--released_dir",
            str(tmp_path / "released"),
            "--shipped_dir",
            str(tmp_path / "shipped"),
            *extra,
        ]
    )
    return tmp_path / "released" / "timemae-base", tmp_path / "shipped" / "timemae-base"


def test_release_writes_the_chosen_checkpoint_as_a_universal_encoder_twice(tmp_path, run_dir, validation_results):
    released, shipped = release(tmp_path, run_dir, validation_results)  # validation's choice: step 4, 1 layer
    assert sorted(path.name for path in shipped.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert {"configuration_timemae.py", "modeling_timemae.py"} <= {path.name for path in released.iterdir()}
    assert load_file(shipped / "model.safetensors").keys() == load_file(released / "model.safetensors").keys()
    config = json.loads((shipped / "config.json").read_text())
    assert config["channel_independent"] and config["resize_to_context_length"] and config["num_hidden_layers"] == 1
    # the first layer is the checkpoint's own, and the encoder reads any channels and lengths
    source = load_file(run_dir / "checkpoint-4" / "model.safetensors")
    name = "timemae.encoder.layer.0.output.dense.weight"
    torch.testing.assert_close(load_file(shipped / "model.safetensors")[name], source[name])
    encoder = TimeMAEModel.from_pretrained(shipped, num_input_channels=3)
    assert encoder(past_values=torch.randn(2, 50, 3)).pooler_output.shape == (2, 3 * 16)
    card = " ".join((shipped / "README.md").read_text().split())
    assert "checkpoint of step **4** (32 generated series seen), its first **1** of 2 layers" in card
    assert "| 4 | 1 | 73.00 (chosen) |" in card and "MiniRocket on the same folds: 95.00." in card
    assert "commit `0123456789`" in card and "an AMD EPYC CPU, 2 cores, 1 torch thread" in card
    assert "## Test results" not in card  # no league given: no test numbers
    # From a clean clone: pre-train into the run folder as far as the last candidate, choose, release.
    assert f"training/configs/timemae_base.yaml --output_dir {run_dir} --max_steps 4 #" in card
    assert f"python -m benchmarks.league.timemae_base_validation --runs_dir {run_dir} #" in card
    assert f"python -m benchmarks.release.release_timemae_base --validation_results {validation_results}" in card


def test_only_validations_choice_is_released_and_nothing_is_written_otherwise(tmp_path, run_dir, validation_results):
    for extra in (["--step", "2"], ["--num_hidden_layers", "2"]):
        with pytest.raises(ValueError, match="is not what validation chose"):
            release(tmp_path, run_dir, validation_results, *extra)
    (run_dir / "checkpoint-4" / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"choose --step among \[2, 4\]"):
        release(tmp_path, run_dir, validation_results)
    assert not (tmp_path / "released").exists() and not (tmp_path / "shipped").exists()


def test_a_study_that_chose_nothing_yet_releases_nothing(tmp_path, run_dir, validation_results):
    record = {**json.loads(validation_results.read_text()), "chosen": None, "chosen_note": "no candidate yet"}
    validation_results.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="choose nothing yet"):
        release(tmp_path, run_dir, validation_results)
