"""Every benchmark script runs end to end in its --smoke mode, so the scripts cannot rot (CI runs no full benchmark).

The scripts write into tmp_path (the `benchmark_outputs` fixture), never into the repository's benchmarks/results or
benchmarks/runs. These are end-to-end runs: the slow tier.
"""

import json
from pathlib import Path

import pytest

from benchmarks.common import benchmark_card, report
from benchmarks.har import har_finetune, har_refit, har_reproduction, har_study
from benchmarks.league import any_dataset
from benchmarks.questions import bert_question, representation_collapse
from benchmarks.speed import step_time, throughput

pytestmark = pytest.mark.slow


def read_smoke_result(results_dir: Path, name: str, study: str | None = None) -> dict:
    """The run `name` of the study's smoke results file (`study` defaults to `name`)."""
    record = json.loads((results_dir / f"{study or name}.smoke.json").read_text())[name]
    assert record["benchmark"] == name and record["smoke"] is True
    assert record["provenance"]["git_sha"] and "--smoke" in record["provenance"]["command"]
    return record


def test_step_time_smoke_measures_a_positive_step_time(benchmark_outputs):
    step_time.main(["--smoke"])
    record = read_smoke_result(benchmark_outputs.results, "step_time")
    assert 0 < record["step_ms_min"] <= record["step_ms_median"] <= record["step_ms_p95"]
    assert record["windows_per_second"] > 0


def test_throughput_smoke_reports_speed_latency_and_flops(benchmark_outputs):
    throughput.main(["--smoke"])
    record = read_smoke_result(benchmark_outputs.results, "throughput")
    tiny = record["sizes"]["tiny"]
    assert record["matmul_peak_gflops"] > 0
    assert tiny["pretraining_windows_per_second"] > 0 and tiny["pretraining_gflop_per_step"] > 0
    assert 0 < tiny["inference_latency_ms_p50"] <= tiny["inference_latency_ms_p95"]


def test_har_reproduction_then_finetune_smoke_runs_the_real_pipeline(har_data_path, benchmark_outputs):
    """Pre-train (tiny, 2 epochs) -> validation-selected probe on test -> fine-tune from that checkpoint."""
    results, runs = benchmark_outputs.results, benchmark_outputs.runs
    har_reproduction.main(["--smoke", "--data_dir", har_data_path])
    record = read_smoke_result(results, "har_reproduction")
    accuracy = record["test_accuracy_percent"]["mean"]
    assert 100 / 6 < accuracy <= 100, "the probe should beat chance even after 2 tiny epochs"
    assert 0 < record["random_init_test_accuracy_percent"]["mean"] <= 100  # the no-pre-training baseline
    (seed_record,) = record["per_seed"].values()
    assert seed_record["selected_epoch"] in [epoch for epoch, _ in seed_record["validation_probe_curve"]]
    assert (results / "har_reproduction_curve.smoke.png").stat().st_size > 0  # <study>*.png

    # The run's model card gets the benchmark's multi-seed table from the results JSON.
    run_dir = runs / "har_reproduction_smoke" / f"seed{record['seeds'][0]}"
    benchmark_card.main(["--results", str(results / "har_reproduction.smoke.json"), "--run_dir", str(run_dir)])
    card = (run_dir / "README.md").read_text()
    assert "## Benchmark" in card and f"| test accuracy | {accuracy:.2f} ± 0.00 |" in card
    assert "python -m benchmarks.har.har_reproduction --smoke" in card and "model-index" in card

    har_finetune.main(["--smoke", "--data_dir", har_data_path])
    finetune = read_smoke_result(results, "har_finetune_pretrained", study="har_finetune")
    (fraction,) = finetune["label_fractions"].values()
    assert 0 < fraction["test_accuracy_percent"]["mean"] <= 100
    assert (results / "har_finetune_pretrained_confusion_matrix.smoke.png").stat().st_size > 0
    # ... and a fine-tuned run's card gets the per-fraction table, nested as it is in the JSON.
    finetuned_dir = runs / "har_finetune_pretrained_smoke" / f"fraction1.0_seed{record['seeds'][0]}"
    benchmark_card.main(
        ["--results", f"{results / 'har_finetune.smoke.json'}:har_finetune_pretrained", "--run_dir", str(finetuned_dir)]
    )
    row = f"| label fractions / 1.0 / test accuracy | {fraction['test_accuracy_percent']['mean']:.2f} ± 0.00 |"
    assert row in (finetuned_dir / "README.md").read_text()

    # The README's tables are printed from these files, each with the command that made it.
    tables = report.main(["--smoke"])
    assert "### Reproduction" in tables and f"**{accuracy:.2f}**" in tables
    assert "### Fine-tuning" in tables and "python -m benchmarks.har.har_finetune --smoke" in tables


def test_bert_question_smoke_fills_every_column(har_data_path, benchmark_outputs):
    bert_question.main(["--smoke", "--data_dir", har_data_path])
    table = read_smoke_result(benchmark_outputs.results, "bert_question")["table_test_accuracy_percent"]
    assert set(table) == {"random", "language", "language_frozen"}
    assert table["language_frozen"]["probe_after_timemae"] is None  # frozen body: no TimeMAE pre-training
    for variant, columns in table.items():
        for column, value in columns.items():
            if value is not None:
                assert 0 <= value["mean"] <= 100, (variant, column)


def test_representation_collapse_smoke_measures_feature_spread(har_data_path, benchmark_outputs):
    representation_collapse.main(["--smoke", "--data_dir", har_data_path, "--num_windows", "64"])
    (run,) = read_smoke_result(benchmark_outputs.results, "representation_collapse")["runs"].values()
    statistics = run["checkpoint-0"]
    assert statistics["feature_std_mean"] > 0 and 1 <= statistics["effective_rank"] <= 16


def test_har_refit_smoke_chooses_budgets_on_validation_then_refits_and_tests_once(har_data_path, benchmark_outputs):
    results, runs = benchmark_outputs.results, benchmark_outputs.runs
    har_refit.main(["--smoke", "--data_dir", har_data_path, "--parallel", "2"])
    record = read_smoke_result(results, "har_refit")
    assert record["pretraining"]["train_windows"] == 256 + 128  # train + validation of the smoke's subsets
    assert 100 / 6 < record["pretraining"]["test_probe_accuracy_percent"]["mean"] <= 100
    (fraction,) = record["finetuning"].values()
    assert 1 <= fraction["num_train_epochs"] <= 2  # the best validation epoch of the selection runs
    assert 0 < fraction["refit"]["test_accuracy_percent"]["mean"] <= 100
    assert "### UCI HAR fine-tuning: refit on every training subject" in report.main(["--smoke"])
    # 'pretraining': both pre-training stages and the refit probe only (a pre-training budget study), no fine-tuning
    har_refit.main(
        ["--smoke", "--data_dir", har_data_path, "--stages", "pretraining", "--name", "har_refit_pretraining"]
    )
    record = read_smoke_result(results, "har_refit_pretraining", study="har_refit")
    assert record["finetuning"] == {} and 100 / 6 < record["pretraining"]["test_probe_accuracy_percent"]["mean"] <= 100
    assert not any(path.name.startswith("selection_finetune") for path in (runs / "har_refit_smoke").iterdir())


def test_har_study_smoke_compares_variants_on_validation_only(har_data_path, benchmark_outputs):
    har_study.main(["--smoke", "--data_dir", har_data_path, "--stages", "probe", "finetune", "refit"])
    record = read_smoke_result(benchmark_outputs.results, "har_study")
    assert set(record["probe_validation_accuracy_percent"]) == set(har_study.PROBE_VARIANTS)
    assert all(100 / 6 < accuracy["mean"] <= 100 for accuracy in record["probe_validation_accuracy_percent"].values())
    (variant,) = record["finetune"]["1.0"].values()  # smoke: one label fraction, one variant
    assert [epoch for epoch, _ in variant["mean_validation_curve"]] == [1.0, 2.0]
    assert not any("test" in key for key in json.dumps(record["finetune"]).split('"'))  # the study never reads test
    refit = record["refit"][
        "1.0"
    ]  # ... the refit stage reads it once, with the variant and epochs chosen on validation
    assert refit["variant"] in har_study.FINETUNE_VARIANTS and refit["num_train_epochs"] in (1, 2)
    assert 0 < refit["test_accuracy_percent"]["mean"] <= 100
    probe = record["probe_refit"]  # the probe that won on validation, fit on train + validation, scored on test once
    assert probe["variant"] in har_study.PROBE_VARIANTS and probe["train_windows"] == 512
    assert 0 < probe["test_accuracy_percent"]["mean"] <= 100


def test_any_dataset_smoke_runs_the_readme_commands_on_a_public_ts_set(benchmark_outputs):
    """BasicMotions' .ts files from aeon's wheel (README's test command installs it with --no-deps)."""
    any_dataset.main(["--smoke"])
    record = read_smoke_result(benchmark_outputs.results, "any_dataset")
    row = record["test_accuracy_percent"]["BasicMotions"]
    for column in any_dataset.COLUMNS:
        assert 0 < row[column]["mean"] <= 100, column
    assert row["published_test_accuracy_percent"]["KSig"] == 100.0
