"""benchmarks/speed/synthetic_throughput.py --quick: every rate it reports is there and positive, in seconds."""

import json
import os

from benchmarks.speed import synthetic_throughput
from timemae_hf.data.synthetic import DEFAULT_FAMILY_WEIGHTS


def test_quick_run_reports_positive_generation_training_and_memory(benchmark_outputs):
    synthetic_throughput.main(["--quick"])
    record = json.loads((benchmark_outputs.results / "synthetic_throughput.smoke.json").read_text())[
        "synthetic_throughput"
    ]
    assert record["smoke"] is True and "--quick" in record["provenance"]["command"]

    generation = record["generation"]
    assert set(generation["per_family"]) == set(DEFAULT_FAMILY_WEIGHTS)
    for measured in [generation["overall"], generation["stream"], *generation["per_family"].values()]:
        assert measured["series_per_second"] > 0 and measured["cpu_series_per_second"] > 0
    assert generation["overall"]["amortized_with_bank_redraw"]["series_per_second"] > 0
    assert generation["bank_redraw"]["wall_s"] > 0

    assert set(record["training"]) == {"1", "2"}
    for measured in record["training"].values():
        assert measured["windows_per_second"] > 0 and measured["cpu_windows_per_second"] > 0

    rss = record["memory"]["rss_mb"]
    assert list(rss) == ["0", "200", "400"] and all(value > 0 for value in rss.values())
    assert isinstance(record["memory"]["flat"], bool)

    # The fixture points the runs folder at an empty tmp folder: no real run to read, and the results file says so.
    assert record["real_run"]["measured"] is False and "skipped" in record["real_run"]["note"]

    verdict = record["verdict"]
    assert verdict["ratio"] > 0 and verdict["cpu_ratio"] > 0 and isinstance(verdict["keeps_up"], bool)
    assert verdict["generation_series_per_second"] > 0 and verdict["training_windows_per_second"] > 0
    assert verdict["assessment"] in ("keeps up", "does not keep up", "borderline")
    assert record["load_average_before"] and "CPU cores" in record["machine_note"]


def test_real_run_rate_from_checkpoints_and_progress_bar(tmp_path):
    """The real run's rate: steps of each checkpoint over the time since the run started, and the log's last bar."""
    run_dir = tmp_path / "timemae_base"
    run_dir.mkdir()
    (run_dir / "run_provenance.json").write_text(json.dumps({"started_at": "2026-01-01T00:00:00+0000"}))
    start = 1767225600  # 2026-01-01T00:00:00Z
    for step, seconds in ((100, 50), (300, 150)):
        checkpoint = run_dir / f"checkpoint-{step}"
        checkpoint.mkdir()
        state = checkpoint / "trainer_state.json"
        state.write_text(json.dumps({"global_step": step, "train_batch_size": 128}))
        os.utime(state, (start + seconds, start + seconds))
    # A bar of one second per step, two seconds for the step before each 32nd (where a new kernel bank starts).
    elapsed, bars = 0, []
    for step in range(1, 1601):
        elapsed += 2 if step % 32 == 31 else 1
        bars.append(f" 1%|          | {step}/60000 [{elapsed // 60:02d}:{elapsed % 60:02d}<8:00:00,  2.0it/s]")
    (tmp_path / "timemae_base.log").write_text("\r".join(bars))

    run = synthetic_throughput.real_run(run_dir)
    assert run["since_start"]["windows_per_second"] == 300 * 128 / 150
    assert run["between_last_two_checkpoints"]["windows_per_second"] == 200 * 128 / 100
    assert run["progress_bar"]["step"] == 1600 and run["progress_bar"]["elapsed_s"] == 1650
    assert synthetic_throughput.real_run_rate(run) == 256.0
    stall = run["bank_redraw_stall"]
    assert stall["mean_step_s_by_place_in_block"][31] == 2 and stall["median_step_s_elsewhere"] == 1
    assert stall["excess_s_near_new_bank"] == 1 and stall["noise_s"] == 0
