"""benchmarks/speed/inference.py runs end to end in its --smoke mode, so the script cannot rot (CI runs no full
benchmark).

Its results go to tmp_path (the `benchmark_outputs` fixture). End-to-end runs: the slow tier."""

import pytest
import torch

from benchmarks.speed import inference
from tests.test_benchmarks_smoke import read_smoke_result
from timemae_hf import TimeMAEConfig, TimeMAEForSequenceClassification

pytest.importorskip("onnxruntime", reason="the ONNX paths need the `onnx` extra: pip install 'timemae-hf[onnx]'")
pytestmark = pytest.mark.slow


def test_inference_smoke_times_every_path_and_checks_it_against_eager(benchmark_outputs):
    inference.main(["--smoke"])
    record = read_smoke_result(benchmark_outputs.results, "inference")
    assert record["matmul_peak_gflops"] > 0 and set(record["load_average_1min"]) == {"before", "after"}
    paths = record["sizes"]["tiny"]["paths"]
    assert set(paths) == set(inference.PATHS)
    for name, row in paths.items():
        assert 0 < row["single_window_ms_p50"] <= row["single_window_ms_p95"], name
        assert row["batch_windows_per_second"] > 0, name
    for name in ("compile", "onnx_fp32", "onnx_optimized"):
        assert paths[name]["max_abs_logit_difference_vs_eager"] < 1e-4, name
    assert paths["onnx_int8"]["max_abs_logit_difference_vs_eager"] < 0.05  # int8 weights: close, not equal
    # (measured, not compared with the whole path's time: on a loaded machine the order of two timings is noise)
    assert paths["eager"]["bert_encoder_alone_ms_p50"] > 0


def test_inference_smoke_scores_a_classifier_on_har_test_in_fp32_and_int8(har_data_path, tmp_path, benchmark_outputs):
    torch.manual_seed(0)
    config = TimeMAEConfig(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, num_labels=6
    )
    classifier = tmp_path / "classifier"
    TimeMAEForSequenceClassification(config).save_pretrained(classifier)
    inference.main(["--smoke", "--paths", "onnx_fp32", "--classifier", str(classifier), "--data_dir", har_data_path])
    accuracy = read_smoke_result(benchmark_outputs.results, "inference")["har_int8_accuracy"]
    assert accuracy["test_windows"] == 64
    assert set(accuracy["test_accuracy_percent"]) == {"pytorch", "onnx_fp32", "onnx_optimized", "onnx_int8"}
    assert accuracy["test_accuracy_percent"]["onnx_fp32"] == accuracy["test_accuracy_percent"]["pytorch"]
    assert accuracy["test_accuracy_percent"]["onnx_optimized"] == accuracy["test_accuracy_percent"]["pytorch"]
    assert 0 <= accuracy["int8_predictions_differing_from_fp32"] <= 64
