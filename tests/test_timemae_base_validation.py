"""benchmarks/league/timemae_base_validation.py: every checkpoint x layer x set scored on train-split folds, the
declared selection rule, rows kept and skipped on a rerun, and no test split touched."""

import json
import statistics

import numpy as np
import pytest
import torch

from benchmarks.common.results_io import RESULTS_DIR, append_row
from benchmarks.league import timemae_base_validation as validation
from benchmarks.league.league_data import LeagueData, folds
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining

TINY = {
    "num_input_channels": 1,
    "context_length": 32,
    "patch_length": 8,
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "scaling": "std",
    "window_statistics_as_features": True,
    "codebook_size": 16,
    "num_regressor_layers": 1,
}


class UntouchableSplit(list):
    """A test split that fails the test as soon as anything looks at it."""

    def _touched(self, *args):
        pytest.fail("a test split was read")

    __getitem__ = __iter__ = __len__ = __bool__ = __contains__ = _touched


def tiny_set(name: str, index: int) -> LeagueData:
    """12-18 labelled windows whose classes differ in level; ragged lengths with NaN on some sets, 1-3 channels."""
    rng = np.random.default_rng(index)
    num_classes, channels = 2 + index % 2, 1 + index % 3
    labels = np.array([f"class{i % num_classes}" for i in range(6 * num_classes)])
    series = []
    for label in labels:
        length = 40 if index % 4 else int(rng.integers(20, 60))
        window = rng.normal(size=(length, channels)).astype(np.float32) + float(label[-1])
        if index % 5 == 0:
            window[rng.integers(length)] = np.nan
        series.append(window)
    return LeagueData(name, series, labels, UntouchableSplit(), UntouchableSplit(), f"random ({name})")


def save_checkpoint(runs_dir, step: int, seed: int):
    """A tiny pre-training checkpoint as the Trainer leaves it (trainer_state.json written last)."""
    torch.manual_seed(seed)
    folder = runs_dir / f"checkpoint-{step}"
    TimeMAEForPreTraining(TimeMAEConfig(**TINY)).save_pretrained(folder)
    state = {"global_step": step, "log_history": [{"eval_loss": 1.0 / step, "step": step}]}
    (folder / "trainer_state.json").write_text(json.dumps(state))


def write_minirocket_rows(rows_file, data: LeagueData, shift_validation: int = 0):
    """estimator_defaults.py's MiniRocket rows for `data`, on its folds (`shift_validation` moves windows between
    fold 0's parts, as rows made on other folds would)."""
    described = validation.train_description(data)
    for fold, (train_index, validation_index) in enumerate(folds(data.train_labels)):
        shift = shift_validation if fold == 0 else 0
        row = {
            "fold": fold,
            "num_train": len(train_index) - shift,
            "num_validation": len(validation_index) + shift,
            "validation_accuracy": 0.5 + 0.1 * fold,
            "train_accuracy": 1.0,
            "fit_seconds": 0.1,
            "params": {"n_kernels": 10000},
            "data": {**described, "num_test": 5, "fingerprint": "ffff"},
            "provenance": {"git_sha": "0" * 40},
        }
        append_row(rows_file, {"candidate": "MiniRocket", "dataset": data.name, **row})


@pytest.fixture
def study(tmp_path, monkeypatch):
    """Tiny league sets in place of the real ones, two tiny checkpoints, MiniRocket rows for all sets but HAR_100pct,
    and a count of feature extractions."""
    sets = {name: tiny_set(name, index) for index, name in enumerate(validation.DATASETS)}
    monkeypatch.setattr(validation, "load_league_data", lambda name, seed: sets[name])
    runs_dir, reference_rows = tmp_path / "runs", tmp_path / "estimator_defaults.jsonl"
    for step, seed in ((2, 0), (4, 1)):
        save_checkpoint(runs_dir, step, seed)
    for name, data in sets.items():
        if name != "HAR_100pct":
            write_minirocket_rows(reference_rows, data)
    extracted = []
    extract = validation.extract_features

    def counted(model, data, batch_size):
        extracted.append(model.config.num_hidden_layers)
        return extract(model, data, batch_size=batch_size)

    monkeypatch.setattr(validation, "extract_features", counted)
    results_file = tmp_path / "results" / "timemae_base_validation.json"
    argv = [
        "--runs_dir",
        str(runs_dir),
        "--reference_rows",
        str(reference_rows),
        "--results_file",
        str(results_file),
        "--layers",
        "1",
        "2",
        "3",
    ]
    return {
        "sets": sets,
        "runs_dir": runs_dir,
        "reference_rows": reference_rows,
        "results_file": results_file,
        "argv": argv,
        "extracted": extracted,
    }


def rule_from_rows(rows: list[dict]) -> str:
    """The declared rule, worked out again from the rows' fold accuracies."""
    means = {}
    for checkpoint, layers in {(row["checkpoint"], row["layers"]) for row in rows}:
        per_set = [
            100 * statistics.mean(fold["validation_accuracy"] for fold in row["folds"])
            for row in rows
            if (row["checkpoint"], row["layers"]) == (checkpoint, layers)
        ]
        if len(per_set) == len(validation.DATASETS):
            means[(checkpoint, layers)] = statistics.mean(per_set)
    best = max(means.values())
    tied = [key for key, mean in means.items() if mean >= best - 0.05]
    checkpoint, layers = max(tied, key=lambda key: (int(key[0].split("-")[1]), key[1]))
    return f"{checkpoint}/layers{layers}"


def test_the_study_scores_every_candidate_on_train_folds_and_chooses_by_its_rule(study):
    test_reads = RESULTS_DIR / "test_reads.json"
    ledger_before = test_reads.read_bytes() if test_reads.exists() else None
    record = validation.main(study["argv"])

    # 2 checkpoints x 2 layers (the tiny encoder has 2; layer 3 is skipped) x 13 sets, each set's features once
    assert len(record["rows"]) == 2 * 2 * 13 and len(study["extracted"]) == 2 * 2 * 13
    assert sorted(set(study["extracted"])) == [1, 2]
    assert set(record["summary"]) == {f"checkpoint-{step}/layers{k}" for step in (2, 4) for k in (1, 2)}
    for row in record["rows"]:
        expected = folds(study["sets"][row["dataset"]].train_labels)
        assert [(fold["num_train"], fold["num_validation"]) for fold in row["folds"]] == [
            (len(train), len(held_out)) for train, held_out in expected
        ]
        assert row["num_features"] == 16 * study["sets"][row["dataset"]].train_series[0].shape[1]
        assert row["feature_seconds"] >= 0 and all(fold["head_fit_seconds"] >= 0 for fold in row["folds"])
    assert record["chosen"]["candidate"] == rule_from_rows(record["rows"])

    reference = record["reference"]
    assert reference["missing"] == ["HAR_100pct"] and reference["per_dataset"]["Coffee"]["validation_accuracy"] == 60.0
    chosen = record["summary"][record["chosen"]["candidate"]]
    coffee = chosen["per_dataset"]["Coffee"]
    assert coffee["gap_to_minirocket"] == pytest.approx(coffee["validation_accuracy"] - 60.0, abs=0.011)
    assert chosen["per_dataset"]["HAR_100pct"]["gap_to_minirocket"] is None and chosen["gap_sets"] == 12

    saved = json.loads(study["results_file"].read_text())["timemae_base_validation"]
    assert list(saved)[:2] == ["benchmark", "selection_rule"]  # the rule comes before any number
    assert saved["chosen"] == record["chosen"] and len(saved["rows"]) == 52
    assert study["results_file"].with_suffix(".png").stat().st_size > 0
    assert (test_reads.read_bytes() if test_reads.exists() else None) == ledger_before

    # a rerun computes nothing; a later checkpoint adds only its own rows
    validation.main(study["argv"])
    assert len(study["extracted"]) == 52
    save_checkpoint(study["runs_dir"], 6, seed=2)
    record = validation.main(study["argv"])
    assert len(study["extracted"]) == 52 + 2 * 13
    assert record["rows"][:52] == saved["rows"]
    assert {row["checkpoint"] for row in record["rows"][52:]} == {"checkpoint-6"}
    assert record["chosen"]["candidate"] == rule_from_rows(record["rows"])
    assert [run["rows_added"] for run in record["runs"]] == [52, 26]

    # --aggregate_only reads the rows back to the same summary
    assert validation.main([*study["argv"], "--aggregate_only"])["summary"] == record["summary"]
    # a checkpoint whose weights changed under its rows is refused, not mixed in
    save_checkpoint(study["runs_dir"], 4, seed=7)
    with pytest.raises(ValueError, match="weights differ"):
        validation.main(study["argv"])


def test_minirocket_rows_on_other_folds_are_refused(study):
    write_minirocket_rows(study["reference_rows"], study["sets"]["Coffee"], shift_validation=1)
    with pytest.raises(ValueError, match="not on this study's folds"):
        validation.main([*study["argv"], "--datasets", "Coffee", "--checkpoints", "2"])


def test_ties_within_005_points_go_to_the_later_checkpoint_then_the_deeper_layer():
    def candidate(step, layers, mean, datasets=13):
        return {"step": step, "layers": layers, "mean_validation_accuracy": mean, "datasets": datasets}

    summary = {
        "a": candidate(2000, 4, 80.00),
        "b": candidate(4000, 2, 79.96),
        "c": candidate(4000, 3, 79.96),
        "d": candidate(6000, 4, 79.90),
        "e": candidate(8000, 4, 90.0, datasets=12),
    }
    assert validation.choose(summary) == "c"  # b, c tied with a; later step, then deeper; d is 0.10 behind
    summary["c"]["mean_validation_accuracy"] = 79.94
    assert validation.choose(summary) == "b"
    summary["a"]["mean_validation_accuracy"] = 80.10
    assert validation.choose(summary) == "a"
    assert validation.choose({"e": summary["e"]}) is None  # a candidate missing a set is never chosen
