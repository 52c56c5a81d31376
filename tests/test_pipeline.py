import inspect
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from transformers import pipeline

from timemae_hf import TimeMAEConfig, TimeMAEForSequenceClassification, TimeSeriesClassificationPipeline

LABELS = ["WALKING", "SITTING", "LAYING"]


def tiny_classifier(num_input_channels: int = 3) -> TimeMAEForSequenceClassification:
    torch.manual_seed(0)
    config = TimeMAEConfig(
        num_input_channels=num_input_channels,
        context_length=32,
        patch_length=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    return TimeMAEForSequenceClassification(config).eval()


@pytest.fixture(scope="module")
def classifier():
    return pipeline("time-series-classification", model=tiny_classifier())


def probabilities(model, past_values: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(past_values).logits.softmax(-1)


def takes_observed_mask(model) -> bool:
    return "past_observed_mask" in inspect.signature(model.forward).parameters


def test_task_is_registered_on_import(classifier):
    assert type(classifier) is TimeSeriesClassificationPipeline


def test_one_window_gives_labels_sorted_by_probability_in_any_input_type(classifier):
    window = torch.randn(32, 3, generator=torch.Generator().manual_seed(1))
    expected = probabilities(classifier.model, window[None])[0]
    for given in (window, window.numpy(), window.numpy().astype(np.float64), window.tolist()):
        result = classifier(given)
        assert [entry["label"] for entry in result] == [LABELS[i] for i in expected.argsort(descending=True)]
        assert [entry["score"] for entry in result] == pytest.approx(expected.sort(descending=True).values.tolist())


def test_top_k_keeps_the_most_likely_classes(classifier):
    window = np.random.default_rng(2).normal(size=(32, 3))
    full = classifier(window)
    assert classifier(window, top_k=1) == full[:1]
    assert len(classifier(window, top_k=100)) == len(LABELS)
    with pytest.raises(ValueError, match="top_k"):
        classifier(window, top_k=0)


def test_batch_gives_one_list_per_window_from_one_forward(classifier):
    batch = torch.randn(5, 32, 3, generator=torch.Generator().manual_seed(3))
    expected = probabilities(classifier.model, batch)
    for given in (batch, batch.numpy(), batch.tolist(), list(batch)):
        results = classifier(given, top_k=1)
        assert len(results) == 5
        for result, window_probabilities in zip(results, expected):
            assert result == [
                {
                    "label": LABELS[int(window_probabilities.argmax())],
                    "score": pytest.approx(float(window_probabilities.max())),
                }
            ]


def test_one_channel_model_reads_1d_as_a_window_and_2d_as_a_batch():
    classifier = pipeline("time-series-classification", model=tiny_classifier(num_input_channels=1))
    batch = np.random.default_rng(4).normal(size=(4, 32))
    assert len(classifier(batch[0])) == len(LABELS) and isinstance(classifier(batch[0])[0], dict)
    assert len(classifier(batch)) == 4
    assert classifier(batch)[1] == classifier(batch[1])


@pytest.mark.parametrize(
    "bad_input, error, message",
    [
        (np.zeros((32, 4)), ValueError, "configured for 3 channels"),
        (np.zeros((3, 32)), ValueError, "channels-first"),
        (np.zeros((2, 2, 32, 3)), ValueError, r"Expected one window \(time, channels=3\)"),
        (np.zeros((0, 32, 3)), ValueError, "empty input"),
        (np.full((32, 3), np.inf), ValueError, "infinite"),
        ("walking.csv", TypeError, "numpy arrays, torch tensors or nested lists"),
        (np.array([["a", "b", "c"]] * 32), TypeError, "real numbers"),
        (torch.ones(32, 3, dtype=torch.bool), TypeError, "real numbers"),
        ([[0.0, 1.0, 2.0], [0.0, 1.0]], ValueError, "rectangular"),
    ],
)
def test_bad_input_gets_an_error_that_names_the_problem(classifier, bad_input, error, message):
    with pytest.raises(error, match=message):
        classifier(bad_input)


def test_windows_of_different_lengths_and_nan_are_passed_as_unobserved(classifier):
    if not takes_observed_mask(classifier.model):
        pytest.skip("the model's forward does not take `past_observed_mask` yet (the observed-mask model change)")
    generator = torch.Generator().manual_seed(5)
    long_window, short_window = torch.randn(32, 3, generator=generator), torch.randn(20, 3, generator=generator)
    # A short window padded in a batch reads the same as the short window alone, which the model pads itself.
    padded = classifier([long_window, short_window])
    assert padded[0] == classifier(long_window) and padded[1] == classifier(short_window)
    with_nan = long_window.clone()
    with_nan[3:9, 1] = float("nan")
    mask = ~torch.isnan(with_nan)
    with torch.no_grad():
        expected = classifier.model(torch.nan_to_num(with_nan)[None], past_observed_mask=mask[None]).logits.softmax(-1)
    assert classifier(with_nan, top_k=1)[0]["score"] == pytest.approx(float(expected.max()))


@pytest.mark.slow  # a fresh Python process
def test_saved_pipeline_runs_with_remote_code_where_timemae_hf_cannot_be_imported(classifier, tmp_path):
    checkpoint = tmp_path / "classifier"
    classifier.save_pretrained(checkpoint)
    config = json.loads((checkpoint / "config.json").read_text())
    assert config["custom_pipelines"]["time-series-classification"] == {
        "impl": "pipeline_timemae.TimeSeriesClassificationPipeline",
        "pt": ["AutoModelForSequenceClassification"],
    }
    assert (checkpoint / "pipeline_timemae.py").exists()
    window = np.random.default_rng(6).normal(size=(32, 3)).astype(np.float32)
    np.save(tmp_path / "window.npy", window)
    (tmp_path / "expected.json").write_text(json.dumps(classifier(window)))

    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["timemae_hf"] = None  # any import of the package now fails
        import numpy as np
        from transformers import pipeline
        classifier = pipeline("time-series-classification", model={str(checkpoint)!r}, trust_remote_code=True)
        assert "timemae_hf" not in type(classifier).__module__ + type(classifier.model).__module__
        result = classifier(np.load({str(tmp_path / "window.npy")!r}))
        expected = json.loads(open({str(tmp_path / "expected.json")!r}).read())
        assert [r["label"] for r in result] == [e["label"] for e in expected], (result, expected)
        assert np.allclose([r["score"] for r in result], [e["score"] for e in expected], atol=1e-6)
        print("remote pipeline ok")
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "remote pipeline ok" in result.stdout
