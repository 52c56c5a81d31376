"""The released checkpoints (released/, made by benchmarks/release/release_checkpoints.py) load by path with the Auto
classes and through the pipeline, also where timemae_hf cannot be imported, and the classifier still scores what its
card says on HAR test windows. The same checks run on tiny releases made here from fake training runs, so the release
script and these checks are tested before the real folders exist."""

import json
import math
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard
from transformers import AutoModel, AutoModelForSequenceClassification, TrainingArguments

from benchmarks.release import release_checkpoints
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEForSequenceClassification, TimeMAEModel
from timemae_hf.data import HAR_ACTIVITIES

# $TIMEMAE_RELEASED_DIR checks another release (e.g. before committing it) instead of released/.
RELEASED_DIR = Path(os.environ.get("TIMEMAE_RELEASED_DIR") or release_checkpoints.RELEASED_DIR)
HAR_TEST_SLICE = 600  # windows scored against the card (of 2947)
SLICE_SEED = 0


def card_test_accuracy(folder: Path) -> float:
    """The test accuracy the card's model-index records (a fraction)."""
    for result in ModelCard.load(folder / "README.md").data.eval_results:
        if result.metric_type == "accuracy" and result.dataset_split == "test" and "probe" not in result.metric_name:
            return float(result.metric_value)
    raise AssertionError(f"{folder}/README.md has no test accuracy in its model-index")


def accuracy_tolerance(accuracy: float, num_windows: int, population: int) -> float:
    """
    Four standard deviations of the accuracy of a random `num_windows` sample of the `population` test windows around
    the card's full-test accuracy (binomial, with the finite-population correction): a correct release misses it with
    probability ~6e-5, a broken one (wrong weights, normalisation or label order: near 1/6 accuracy) cannot hit it.
    """
    correction = math.sqrt((population - num_windows) / (population - 1))
    return 4 * math.sqrt(accuracy * (1 - accuracy) / num_windows) * correction + 1e-9


def check_loads_with_auto_classes(encoder_dir: Path, classifier_dir: Path):
    encoder = AutoModel.from_pretrained(encoder_dir)
    assert type(encoder) is TimeMAEModel
    classifier = AutoModelForSequenceClassification.from_pretrained(classifier_dir)
    assert type(classifier) is TimeMAEForSequenceClassification
    assert [classifier.config.id2label[i] for i in range(6)] == list(HAR_ACTIVITIES)
    for folder in (encoder_dir, classifier_dir):
        config = json.loads((folder / "config.json").read_text())
        assert config["auto_map"]["AutoModel"] == "modeling_timemae.TimeMAEModel"
        assert (folder / "modeling_timemae.py").exists() and (folder / "configuration_timemae.py").exists()
        assert (folder / "model.safetensors").exists() and (folder / "README.md").exists()
    # The encoder folder holds the encoder alone, and its weights are the classifier's starting point's shape.
    assert not any(key.startswith(("momentum_encoder", "regressor", "tokenizer")) for key in encoder.state_dict())
    assert json.loads((classifier_dir / "config.json").read_text())["custom_pipelines"]["time-series-classification"]
    return encoder, classifier


def check_pipeline_in_fresh_process(classifier_dir: Path, tmp_path: Path, package_importable: bool):
    """The pipeline one-liner in a new process, with or without timemae_hf importable, predicts what PyTorch does."""
    classifier = AutoModelForSequenceClassification.from_pretrained(classifier_dir).eval()
    config = classifier.config
    windows = np.random.default_rng(0).normal(size=(3, config.context_length, config.num_input_channels))
    np.save(tmp_path / "windows.npy", windows.astype(np.float32))
    with torch.no_grad():
        expected = classifier(torch.from_numpy(windows).float()).logits.argmax(-1).tolist()
    block = "" if package_importable else 'sys.modules["timemae_hf"] = None  # any import of the package now fails'
    script = textwrap.dedent(
        f"""
        import sys
        {block}
        import numpy as np
        from transformers import pipeline
        classifier = pipeline("time-series-classification", model={str(classifier_dir)!r}, trust_remote_code=True)
        results = classifier(np.load({str(tmp_path / "windows.npy")!r}), top_k=1)
        print("labels:" + ",".join(result[0]["label"] for result in results))
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / f"modules{package_importable}")}
    if not package_importable:
        env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    labels = result.stdout.strip().splitlines()[-1].removeprefix("labels:").split(",")
    assert labels == [config.id2label[i] for i in expected]


def check_accuracy_matches_card(classifier_dir: Path, test_split):
    """Accuracy on a seeded random slice of HAR test windows, within `accuracy_tolerance` of the card's test number."""
    classifier = AutoModelForSequenceClassification.from_pretrained(classifier_dir).eval()
    population = len(test_split)
    indices = np.random.default_rng(SLICE_SEED).choice(population, size=min(HAR_TEST_SLICE, population), replace=False)
    windows = test_split.select(sorted(indices))[:]
    with torch.no_grad():
        predictions = classifier(windows["past_values"]).logits.argmax(-1)
    accuracy = float((predictions == windows["labels"]).float().mean())
    expected = card_test_accuracy(classifier_dir)
    tolerance = accuracy_tolerance(expected, len(indices), population)
    assert abs(accuracy - expected) <= tolerance, (accuracy, expected, tolerance)


# --- the released folders --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def released():
    encoder_dir = RELEASED_DIR / release_checkpoints.ENCODER_NAME
    classifier_dir = RELEASED_DIR / release_checkpoints.CLASSIFIER_NAME
    if not RELEASED_DIR.exists():
        pytest.skip(
            f"{RELEASED_DIR} does not exist yet: make it from the final HAR runs with "
            "benchmarks/release/release_checkpoints.py"
        )
    return encoder_dir, classifier_dir


def test_released_folders_load_by_path_with_the_auto_classes(released):
    check_loads_with_auto_classes(*released)


@pytest.mark.slow
@pytest.mark.parametrize("package_importable", [True, False], ids=["with_timemae_hf", "without_timemae_hf"])
def test_released_classifier_runs_through_the_pipeline_in_a_fresh_process(released, tmp_path, package_importable):
    check_pipeline_in_fresh_process(released[1], tmp_path, package_importable)


def test_released_classifier_scores_its_card_accuracy_on_har_test_windows(released, har_dataset):
    check_accuracy_matches_card(released[1], har_dataset["test"])


def test_released_onnx_files_match_their_weights_on_har_test_windows(released, har_dataset):
    pytest.importorskip("onnxruntime", reason="the ONNX files need the `onnx` extra")
    from timemae_hf.onnx_export import inference_session

    windows = har_dataset["test"].select(range(16))[:]["past_values"]
    classifier = AutoModelForSequenceClassification.from_pretrained(released[1]).eval()
    with torch.no_grad():
        expected = classifier(windows).logits.numpy()
    outputs = {
        name: inference_session(released[1] / name).run(None, {"past_values": windows.numpy()})[0]
        for name in ("model.onnx", "model.optimized.onnx", "model.int8.onnx")
    }
    np.testing.assert_allclose(outputs["model.onnx"], expected, atol=1e-4, rtol=0)
    np.testing.assert_allclose(outputs["model.optimized.onnx"], expected, atol=1e-4, rtol=0)
    # int8 moves logits, rarely a decision (benchmarks/speed/inference.py: 12 of 2947 HAR test windows).
    assert (outputs["model.int8.onnx"].argmax(-1) == expected.argmax(-1)).mean() >= 0.9


# --- the release script, on fake runs -------------------------------------------------------------------------------


def fake_run(run_dir: Path, model, results: dict, command: str) -> Path:
    """What training/pretrain.py or finetune.py leaves in its output folder, as far as the release reads it."""
    model.save_pretrained(run_dir)
    torch.save(TrainingArguments(output_dir=str(run_dir), learning_rate=1e-3, seed=3407), run_dir / "training_args.bin")
    (run_dir / "all_results.json").write_text(json.dumps(results))
    (run_dir / "README.md").write_text(f"# run\n\nCommand:\n\n```bash\n{command}\n```\n")
    return run_dir


def reproduction_steps(card: str) -> list[str]:
    """The commands of a card's Reproduce section, in order (comments left out)."""
    section = card.split("## Reproduce", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in section.splitlines() if line and not line.startswith("#")]


def option_values(command: str, *options: str) -> list[str]:
    arguments = shlex.split(command)
    return [arguments[index + 1] for index, argument in enumerate(arguments[:-1]) if argument in options]


@pytest.mark.parametrize("name", ["timemae-base", "timemae-har", "timemae-har-classifier"])
def test_a_released_cards_steps_read_only_folders_that_an_earlier_step_wrote(name):
    """Each committed card lists, from a clean clone, the commands that make its folder: none reads a run folder
    (git-ignored, absent from a clone) that no earlier step wrote, and the card loads the folder the steps write."""
    card = (release_checkpoints.RELEASED_DIR / name / "README.md").read_text()
    steps, written = reproduction_steps(card), set()
    assert steps[0].startswith("pip install -e")
    assert any(
        step.startswith(("python training/pretrain.py", "accelerate launch training/pretrain.py")) for step in steps
    )
    for step in steps:
        read = option_values(
            step, "--model_name_or_path", "--pretrain_run", "--finetune_run", "--run_dir", "--runs_dir"
        )
        assert set(read) <= written, f"{name}: {step!r} reads {set(read) - written}, which no earlier step wrote"
        written |= set(option_values(step, "--output_dir"))
    assert f'.from_pretrained("released/{name}", trust_remote_code=True' in card


def tiny_config(**kwargs) -> TimeMAEConfig:
    return TimeMAEConfig(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        codebook_size=8,
        num_regressor_layers=1,
        **kwargs,
    )


@pytest.fixture
def fake_runs(tmp_path):
    torch.manual_seed(0)
    pretrained = TimeMAEForPreTraining(tiny_config())
    pretrain_run = fake_run(tmp_path / "pretrain", pretrained, {"test_probe_accuracy": 0.5}, "python pretrain.py x")
    classifier = TimeMAEForSequenceClassification(
        tiny_config(
            num_labels=6,
            id2label=dict(enumerate(HAR_ACTIVITIES)),
            label2id={name: i for i, name in enumerate(HAR_ACTIVITIES)},
        )
    )
    classifier.timemae.load_state_dict(pretrained.timemae.state_dict())
    return pretrain_run, classifier


def release(tmp_path, pretrain_run, finetune_run, *extra) -> tuple[Path, Path]:
    output_dir = tmp_path / "released"
    release_checkpoints.main(
        [
            "--pretrain_run",
            str(pretrain_run),
            "--finetune_run",
            str(finetune_run),
            "--output_dir",
            str(output_dir),
            "--hub_org",
            "someone",
            *extra,
        ]
    )
    return output_dir / release_checkpoints.ENCODER_NAME, output_dir / release_checkpoints.CLASSIFIER_NAME


def test_release_writes_encoder_alone_and_classifier_with_pipeline_and_cards(tmp_path, fake_runs):
    pretrain_run, classifier = fake_runs
    finetune_run = fake_run(tmp_path / "finetune", classifier, {"test_accuracy": 0.25}, "python finetune.py y")
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            {
                "benchmark": "har_finetune",
                "test_accuracy_percent": {"mean": 25.0, "std": 0.0, "values": [25.0]},
                "provenance": {
                    "command": "python benchmarks/x.py",
                    "git_sha": "abc",
                    "machine": {"cpu_count": 2, "processor": "x86_64"},
                },
            }
        )
    )
    encoder_dir, classifier_dir = release(tmp_path, pretrain_run, finetune_run, "--finetune_results", str(results))
    encoder, released_classifier = check_loads_with_auto_classes(encoder_dir, classifier_dir)
    for name, tensor in TimeMAEForPreTraining.from_pretrained(pretrain_run).timemae.state_dict().items():
        assert torch.equal(encoder.state_dict()[name], tensor), name
    assert (classifier_dir / "pipeline_timemae.py").exists()
    assert not list((tmp_path / "released").glob(".*"))  # no staging folder left behind

    encoder_card = (encoder_dir / "README.md").read_text()
    classifier_card = (classifier_dir / "README.md").read_text()
    assert 'AutoModel.from_pretrained("someone/timemae-har"' in encoder_card
    assert "AutoModelForPreTraining" not in encoder_card
    assert "encoder alone" in encoder_card and "python pretrain.py x" in encoder_card
    assert 'pipeline("time-series-classification", model="someone/timemae-har-classifier"' in classifier_card
    assert "| test accuracy | 25.00 ± 0.00 | 25.00 |" in classifier_card
    assert "python benchmarks/x.py" in classifier_card
    assert card_test_accuracy(classifier_dir) == 0.25
    # From a clean clone: pre-train with the recipe's config, fine-tune the folder it wrote, release both.
    for card in (encoder_card, classifier_card):
        steps = reproduction_steps(card)
        assert steps[1].startswith("python training/pretrain.py training/configs/har_window_scaling.yaml --seed 3407")
        assert "--model_name_or_path outputs/timemae-har --seed 3407" in steps[2]
        assert f"--finetune_results {results}" in steps[3] and "--hub_org someone" in steps[3]
    assert f'AutoModelForSequenceClassification.from_pretrained("{classifier_dir}"' in classifier_card


def test_release_refuses_a_classifier_without_the_har_activities(tmp_path, fake_runs):
    pretrain_run, _ = fake_runs
    other = TimeMAEForSequenceClassification(tiny_config(num_labels=2))
    finetune_run = fake_run(tmp_path / "finetune", other, {"test_accuracy": 0.5}, "python finetune.py")
    with pytest.raises(ValueError, match="six HAR activities"):
        release(tmp_path, pretrain_run, finetune_run)
    assert not (tmp_path / "released").exists()


@pytest.mark.slow  # ONNX export of a release, every HAR test window, a fresh Python process
def test_release_of_tiny_runs_passes_the_released_checks(tmp_path, fake_runs, har_dataset):
    """The checks above, end to end on a release whose card holds the classifier's measured HAR test accuracy."""
    pytest.importorskip("onnxruntime", reason="--onnx needs the `onnx` extra")
    pretrain_run, classifier = fake_runs
    test = har_dataset["test"][:]
    with torch.no_grad():
        accuracy = float((classifier.eval()(test["past_values"]).logits.argmax(-1) == test["labels"]).float().mean())
    finetune_run = fake_run(tmp_path / "finetune", classifier, {"test_accuracy": accuracy}, "python finetune.py")
    encoder_dir, classifier_dir = release(tmp_path, pretrain_run, finetune_run, "--onnx")
    assert {"model.onnx", "model.optimized.onnx", "model.int8.onnx"} <= {path.name for path in classifier_dir.iterdir()}
    check_loads_with_auto_classes(encoder_dir, classifier_dir)
    check_accuracy_matches_card(classifier_dir, har_dataset["test"])
    check_pipeline_in_fresh_process(classifier_dir, tmp_path, package_importable=False)
