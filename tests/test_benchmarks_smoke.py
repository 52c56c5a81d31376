"""Every benchmark script runs end to end in its --smoke mode, so the scripts cannot rot (CI runs no full benchmark)."""

import json

from benchmarks import step_time, throughput
from benchmarks.results_io import RESULTS_DIR


def read_smoke_result(name: str) -> dict:
    record = json.loads((RESULTS_DIR / f"{name}.smoke.json").read_text())
    assert record["benchmark"] == name and record["smoke"] is True
    assert record["provenance"]["git_sha"] and "--smoke" in record["provenance"]["command"]
    return record


def test_step_time_smoke_measures_a_positive_step_time():
    step_time.main(["--smoke"])
    record = read_smoke_result("step_time")
    assert 0 < record["step_ms_min"] <= record["step_ms_median"] <= record["step_ms_p95"]
    assert record["windows_per_second"] > 0


def test_throughput_smoke_reports_speed_latency_and_flops():
    throughput.main(["--smoke"])
    record = read_smoke_result("throughput")
    tiny = record["sizes"]["tiny"]
    assert record["matmul_peak_gflops"] > 0
    assert tiny["pretraining_windows_per_second"] > 0 and tiny["pretraining_gflop_per_step"] > 0
    assert 0 < tiny["inference_latency_ms_p50"] <= tiny["inference_latency_ms_p95"]
