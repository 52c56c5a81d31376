"""benchmarks/league/league.py: rows, resumption, the test-read ledger, the aggregate and its markdown, on a tiny
league."""

import importlib.util
import json

import pytest
import torch

from benchmarks.common.ledger import test_reads
from benchmarks.league import league
from benchmarks.league.league_data import load_league_data, published_accuracies
from benchmarks.league.methods import METHODS, json_safe

HAS_NUMBA = importlib.util.find_spec("numba") is not None
HAS_TSML_EVAL = importlib.util.find_spec("tsml_eval") is not None
# CI installs aeon with --no-deps: its data files are there, its classifiers (numba) are not.
RUNNABLE = [name for name, method in METHODS.items() if method.is_timemae or HAS_NUMBA]


def run_smoke(results_dir, *extra):
    """The smoke league into `results_dir`, on this process's torch threads (main() sets them for the whole process)."""
    threads = str(torch.get_num_threads())
    return league.main(["--smoke", "--results_dir", str(results_dir), "--torch_threads", threads, *extra])


@pytest.mark.slow
def test_smoke_league_writes_rows_ledger_and_aggregate_and_resumes(tmp_path):
    record = run_smoke(tmp_path)

    rows_file = tmp_path / "league.jsonl"
    rows = {row["method"]: row for row in map(json.loads, rows_file.read_text().splitlines())}
    assert {row["league"] for row in rows.values()} == {"league_base_smoke"} and set(rows) == set(RUNNABLE)
    for method in RUNNABLE:
        row = rows[method]
        assert 0.0 <= row["accuracy"] <= 1.0 and 0.0 <= row["macro_f1"] <= 1.0
        assert row["fit_seconds"] > 0 and row["predict_seconds"] >= 0
        assert row["data"]["fingerprint"] and row["data"]["num_test"] == 40
        assert row["provenance"]["git_sha"] and row["params"]["random_state"] == 3407
        assert (row["train_accuracy"] is not None) == METHODS[method].is_timemae
    if HAS_NUMBA:  # labels misaligned with their series would score near chance (25 %), not MiniRocket's 100 %
        assert rows["MiniRocket"]["accuracy"] >= 0.9

    aggregate = json.loads((tmp_path / "league.json").read_text())["league_base_smoke"]
    assert aggregate == json.loads(json.dumps(record))
    assert set(aggregate["results"]["BasicMotions"]["methods"]) == set(RUNNABLE)
    assert aggregate["complete"] == HAS_NUMBA
    assert len(aggregate["rows"]) == len(RUNNABLE)
    markdown = league.league_markdown(aggregate)
    assert markdown.startswith("| set | MiniRocket |") and "| BasicMotions |" in markdown
    assert "TimeMAE training accuracy %" in markdown

    smoke_ledger = tmp_path / "test_reads.json"
    reads = json.loads(smoke_ledger.read_text())["reads"]
    assert sorted(read["what"].split(", ")[-2] for read in reads) == sorted(RUNNABLE)
    assert all(read["decision"] == league.BASE_DECISION for read in reads)
    assert not test_reads(
        study="league_base_smoke"
    )  # the smoke's reads go to its own ledger, never to the committed one

    written = rows_file.read_text()
    run_smoke(tmp_path)  # everything exists: nothing is refit, no read is entered twice
    assert rows_file.read_text() == written
    assert len(json.loads(smoke_ledger.read_text())["reads"]) == len(reads)

    with pytest.raises(ValueError, match="pretrain_steps.*Delete that set's TimeMAE_finetune rows"):
        run_smoke(tmp_path, "--methods", "TimeMAE_finetune", "--timemae_params", '{"pretrain_steps": 5}')


@pytest.mark.slow
def test_rows_of_another_league_are_copied_only_with_todays_parameters_and_read_once(tmp_path):
    def rows(name):
        lines = map(json.loads, (tmp_path / "league.jsonl").read_text().splitlines())
        return {row["method"]: {**row, "league": None} for row in lines if row["league"] == f"{name}_smoke"}

    def reads():
        return json.loads((tmp_path / "test_reads.json").read_text())["reads"]

    run_smoke(tmp_path, "--name", "base", "--methods", "TimeMAE_probe")
    base, reads_before = rows("base"), len(reads())
    run_smoke(tmp_path, "--name", "new", "--methods", "TimeMAE_probe", "--reuse_rows_from", "base_smoke")
    assert rows("new") == base  # copied whole, provenance included: the row was made once, in the base league
    assert len(reads()) == reads_before  # and its test read is not entered a second time

    run_smoke(
        tmp_path,
        "--name",
        "other",
        "--methods",
        "TimeMAE_probe",
        "--reuse_rows_from",
        "base_smoke",
        "--timemae_params",
        '{"pretrain_steps": 5}',
    )
    (row,) = rows("other").values()
    assert row["params"]["pretrain_steps"] == 5  # other parameters: fitted here, not copied
    assert len(reads()) == reads_before + 1 and reads()[-1]["decision"] == league.BASE_DECISION


def test_markdown_marks_missing_rows_and_partial_seeds():
    summary = {
        "seeds": [3407],
        "accuracy_percent": {"mean": 90.0, "std": 0.0, "values": [90.0]},
        "macro_f1_percent": {"mean": 89.0, "std": 0.0, "values": [89.0]},
        "fit_seconds": 1.5,
        "predict_seconds": 0.1,
    }
    record = {
        "methods": ["MiniRocket", "TimeMAE_probe"],
        "seeds": [3407, 1, 2],
        "datasets": ["GunPoint"],
        "missing_rows": ["GunPoint/MiniRocket_seed1"],
        "published_source": "the bake-off",
        "results": {
            "GunPoint": {"methods": {"MiniRocket": summary}, "published": {"unavailable": "not published there"}}
        },
    }
    markdown = league.league_markdown(record)
    assert "| GunPoint | 90.00 ± 0.00 (1.5 s, 1 of 3 seeds) | not run yet | not published there |" in markdown
    assert "1 of 6 rows not run yet." in markdown
    assert "Goal" not in markdown  # no TimeMAE set with every seed: nothing to count


def test_variable_length_note_names_timemae_context_length_only_when_it_was_set():
    def result(timemae_note):
        return {
            "data": {"length": {"min": 7, "max": 29}},
            "methods": {
                "MiniRocket": {"note": "aeon's MiniRocket takes equal lengths only: zero-padded"},
                "TimeMAE_probe": {"note": timemae_note},
            },
        }

    record = {
        "results": {
            "JapaneseVowels": result(
                "ragged series passed as a list of (time, channels) arrays, context_length=29 (test series are longer)"
            ),
            "PLAID": result("ragged series passed as a list of (time, channels) arrays"),
        }
    }
    japanese_vowels, plaid = league.variable_length_notes(record)
    assert japanese_vowels.endswith(
        "TimeMAE takes the series as they are with context_length=29 (test series are longer)."
    )
    assert plaid.endswith("TimeMAE takes the series as they are.")


def test_goal_line_counts_sets_within_three_points_of_minirocket_over_complete_rows():
    def summary(accuracy, seeds=(3407, 1, 2)):
        return {"seeds": list(seeds), "accuracy_percent": {"mean": accuracy, "std": 0.0}}

    record = {
        "methods": ["MiniRocket", "TimeMAE_finetune"],
        "seeds": [3407, 1, 2],
        "results": {
            "A": {"methods": {"MiniRocket": summary(90.0), "TimeMAE_finetune": summary(88.0)}},
            "B": {"methods": {"MiniRocket": summary(100.0), "TimeMAE_finetune": summary(80.0)}},
            "C": {"methods": {"MiniRocket": summary(50.0), "TimeMAE_finetune": summary(10.0, [1])}},
        },
    }
    (line,) = league.goal_lines(record)
    assert line == (
        "Goal (no more than 3 points below MiniRocket on every set), TimeMAE_finetune: met on 1 of 2 sets "
        "(A); largest gap -20.00 (B); mean accuracy over these sets 84.00 against MiniRocket's 95.00."
    )


def test_figure_draws_each_method_against_minirocket_and_hollows_partial_seeds(tmp_path):
    def summary(accuracy, seeds):
        return {"seeds": seeds, "accuracy_percent": {"mean": accuracy, "std": 1.0}}

    record = {
        "benchmark": "league_test",
        "complete": False,
        "methods": ["MiniRocket", "TimeMAE_probe"],
        "seeds": [3407, 1, 2],
        "results": {
            "GunPoint": {
                "methods": {"MiniRocket": summary(99.0, [3407, 1, 2]), "TimeMAE_probe": summary(89.0, [3407, 1, 2])}
            },
            "Coffee": {"methods": {"MiniRocket": summary(100.0, [3407, 1, 2]), "TimeMAE_probe": summary(97.5, [3407])}},
            "PLAID": {"methods": {"TimeMAE_probe": summary(50.0, [3407, 1, 2])}},
        },  # no MiniRocket: not drawn
    }
    figure = league.league_figure(record)
    (axes,) = figure.axes
    assert [label.get_text() for label in axes.get_yticklabels()] == ["GunPoint", "Coffee"]
    markers = [line for line in axes.lines if line.get_marker() == "D"]
    assert [(list(line.get_xdata()), line.get_markerfacecolor()) for line in markers][0][0] == [-10.0]
    (hollow,) = [line for line in markers if line.get_markerfacecolor() == "none"]
    assert list(hollow.get_xdata()) == [-2.5]  # Coffee: one seed of three
    assert league.save_figure(figure, str(tmp_path / "league.png"), "python -m benchmarks.league.league")
    assert (tmp_path / "league.png").stat().st_size > 0


def test_variable_length_sets_keep_ragged_series_for_timemae_and_pad_for_aeon():
    data = load_league_data("JapaneseVowels", seed=3407)
    assert not data.equal_length and data.test_longer_than_train and data.longest_series == 29
    assert isinstance(data.timemae_inputs("train"), list) and data.timemae_inputs("train")[0].shape[1] == 12
    assert data.aeon_inputs("test")[0].shape[0] == 12  # aeon: (n_channels, length)
    estimator = METHODS["TimeMAE_probe"].build(data, 3407, {})
    assert estimator.context_length == 29  # else the default refuses the longer test series
    assert "zero-padded by aeon's Padder to 29 steps" in league.padding_note(data, METHODS["MiniRocket"])


@pytest.mark.skipif(not HAS_TSML_EVAL, reason="the tsml-eval wheel (published results) is not installed")
def test_published_accuracies_are_30_resample_means_from_the_bakeoff_files():
    published = published_accuracies("GunPoint", {"MiniRocket": "convolution/MiniROCKET_accuracy.csv"})
    assert published["MiniRocket"]["num_resamples"] == 30
    assert 90.0 <= published["MiniRocket"]["mean_30_resamples"] <= 100.0
    assert published_accuracies("BasicMotions", {"MiniRocket": "convolution/MiniROCKET_accuracy.csv"}) is None
    assert league.published_for("PLAID")["QUANT"]["dataset"] == "PLAID_eq"


def test_rows_are_reused_only_with_the_parameters_they_were_made_with(tmp_path):
    data = load_league_data("BasicMotions", seed=3407)
    method = METHODS["TimeMAE_probe"]
    params = json_safe(method.build(data, 3407, {}).get_params())
    league.check_row_params(tmp_path / "row.json", {"params": params}, data, method, 3407, {})
    # A parameter added to the estimator since the row was made, off (None or False), keeps the row.
    older = {key: value for key, value in params.items() if key not in ("bert_model_name_or_path", "augmentations")}
    league.check_row_params(tmp_path / "row.json", {"params": older}, data, method, 3407, {})
    # ... but not when today's value is on (LP-FT, a default since the defaults study): the row was made without it.
    without_lp_ft = {key: value for key, value in params.items() if key != "probe_before_finetuning"}
    with pytest.raises(ValueError, match="probe_before_finetuning differ"):
        league.check_row_params(tmp_path / "row.json", {"params": without_lp_ft}, data, method, 3407, {})
    with pytest.raises(ValueError, match="finetune_steps differ"):
        league.check_row_params(
            tmp_path / "row.json", {"params": {**params, "finetune_steps": 1}}, data, method, 3407, {}
        )


def summary_of(accuracy: float, fit_seconds: float = 1.0) -> dict:
    return {
        "seeds": [3407, 1, 2],
        "accuracy_percent": {"mean": accuracy, "std": 0.0, "values": [accuracy] * 3},
        "macro_f1_percent": {"mean": accuracy, "std": 0.0, "values": [accuracy] * 3},
        "fit_seconds": fit_seconds,
        "predict_seconds": 0.1,
    }


def test_base_goal_lines_say_each_goal_met_or_missed_from_the_rows():
    results = {
        "GunPoint": {"MiniRocket": summary_of(99.0), "TimeMAE_base_probe": summary_of(95.0, 2.0)},
        "OSULeaf": {"MiniRocket": summary_of(95.0), "TimeMAE_base_probe": summary_of(80.0, 12.0)},
        "HAR_1pct": {"MiniRocket": summary_of(91.0), "TimeMAE_base_probe": summary_of(90.5, 3.0)},
        "HAR_100pct": {"MiniRocket": summary_of(97.5), "TimeMAE_base_probe": summary_of(96.0, 70.0)},
    }
    record = {
        "seeds": [3407, 1, 2],
        "datasets": list(results),
        "results": {name: {"methods": methods} for name, methods in results.items()},
    }
    lines = league.base_goal_lines(record)
    assert lines[0].startswith("Goals of TimeMAEClassifier() as it ships")
    assert "over all 4 sets:" in lines[0]
    assert "mean accuracy 90.38 (goal >= 92.5: missed; MiniRocket 95.62, moonshot above it: missed)" in lines[0]
    assert "largest gap to MiniRocket -15.00 on OSULeaf (goal >= -10: missed)" in lines[0]
    assert "OSULeaf (12.0 s)" in lines[0] and "(missed)." in lines[0]
    assert lines[1] == "HAR with 1 % of the labels: 90.50 (goal >= 90: met)."
    assert lines[2] == "HAR with all labels: fit 70.0 s (goal <= 60 s: missed)."
    assert league.base_goal_lines({**record, "results": {}}) == []


def test_a_timemae_row_is_reused_only_with_the_pretrained_weights_it_started_from(tmp_path, monkeypatch):
    data = load_league_data("BasicMotions", seed=3407)
    method = METHODS["TimeMAE_base_probe"]
    weights = {"pretrained_model": "timemae-base", "sha256": "a" * 64}
    monkeypatch.setattr(league, "encoder_weights", lambda estimator: weights)
    params = json_safe(method.build(data, 3407, {}).get_params())
    assert params["pretrained_model"] == "timemae-base" and params["head"] == "probe"
    league.check_row_params(
        tmp_path / "row.json", {"params": params, "encoder_weights": weights}, data, method, 3407, {}
    )
    with pytest.raises(ValueError, match="other pre-trained weights"):
        league.check_row_params(
            tmp_path / "row.json",
            {"params": params, "encoder_weights": {**weights, "sha256": "b"}},
            data,
            method,
            3407,
            {},
        )


def test_from_scratch_columns_keep_the_former_defaults_and_take_encoder_sizes():
    data = load_league_data("BasicMotions", seed=3407)
    sizes = {"hidden_size": 16, "pretrain_steps": 4}
    scratch = METHODS["TimeMAE_finetune"].build(data, 3407, sizes).get_params()
    assert (scratch["pretrained_model"], scratch["pretrain_steps"], scratch["normalize_channels"]) == (None, 4, True)
    assert scratch["hidden_size"] == 16
    base = METHODS["TimeMAE_base_finetune"].build(data, 3407, sizes).get_params()
    assert (base["pretrained_model"], base["hidden_size"], base["pretrain_steps"]) == ("timemae-base", None, 4)


def test_the_har_recipe_column_shows_the_newest_validation_chosen_recipe(tmp_path):
    gap = json.loads((league.RESULTS_DIR / "har_gap.json").read_text())["har_gap"]["final"]["finetune_test"]
    for dataset, fraction in (("HAR_1pct", "0.01"), ("HAR_10pct", "0.1"), ("HAR_100pct", "1.0")):
        recipe = league.har_recipe(dataset, tmp_path)  # an empty folder: the committed files are read
        assert recipe["accuracy_percent"] == gap[fraction]["accuracy_percent"]
        assert "har_gap.json's final read" in recipe["source"]
    (tmp_path / "har_gap.json").write_text(json.dumps({"har_gap": {"provenance": {}}}))  # no final read yet
    assert league.har_recipe("HAR_1pct", tmp_path)["source"].startswith("from benchmarks/results/har_study.json")
