"""benchmarks/league/estimator_defaults.py: folds of train splits only, resumable rows, the aggregate and its choice."""

import json

import numpy as np
import pytest

from benchmarks.league import estimator_defaults
from benchmarks.league.league_data import folds


def test_folds_are_stratified_and_fewer_when_a_class_is_rare():
    labels = np.array(["a"] * 6 + ["b"] * 2)
    split = folds(labels)
    assert len(split) == 2  # the rarest class has two windows
    for train_index, validation_index in split:
        assert sorted(np.concatenate([train_index, validation_index]).tolist()) == list(range(8))
        assert set(labels[validation_index]) == {"a", "b"}
    with pytest.raises(ValueError, match="single train window"):
        folds(np.array(["a", "a", "b"]))


def test_every_candidate_is_a_new_encoder_whose_parameters_the_estimator_accepts():
    """The candidates are the study's from-scratch recipes: they must not take the estimator's later defaults (the
    shipped timemae-base encoder, which refuses the context_length the study sets)."""
    for candidate in estimator_defaults.CANDIDATES:
        estimator = estimator_defaults.build(candidate, data=None, longest=16)
        assert estimator.pretrained_model is None and estimator.normalize_channels, candidate
        estimator._check_params()


@pytest.mark.slow
def test_a_tiny_candidate_runs_resumes_and_is_chosen(tmp_path, monkeypatch):
    tiny = {
        "pretrained_model": None,
        "pretrain_steps": 2,
        "finetune_steps": 2,
        "hidden_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 32,
    }
    monkeypatch.setattr(estimator_defaults, "CANDIDATES", {"tiny": tiny, "tiny_probe": {**tiny, "head": "probe"}})
    monkeypatch.setattr(estimator_defaults, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(estimator_defaults, "DATASETS", ("BasicMotions",))
    monkeypatch.setattr(estimator_defaults.torch, "set_num_threads", lambda threads: None)  # the suite's one thread
    record = estimator_defaults.main(["--datasets", "BasicMotions", "--candidates", "tiny", "tiny_probe"])
    lines = (tmp_path / "estimator_defaults.jsonl").read_text().splitlines()
    rows = [row for row in map(json.loads, lines) if row["candidate"].startswith("tiny")]  # MiniRocket's too
    assert len(rows) == 6  # two candidates x three folds of the 40 train windows (10 per class)
    row = rows[0]
    assert row["num_train"] + row["num_validation"] == 40 and row["params"]["hidden_size"] == 16
    assert record["chosen"] in ("tiny", "tiny_probe")
    best = max(("tiny", "tiny_probe"), key=lambda name: record["summary"][name]["mean_validation_accuracy"])
    assert record["chosen"] == best
    assert json.loads((tmp_path / "estimator_defaults.json").read_text()) == {"estimator_defaults": record}
    # a rerun trains nothing: every row exists
    monkeypatch.setattr(estimator_defaults, "run_row", lambda *args: pytest.fail("a finished row was rerun"))
    estimator_defaults.main(["--datasets", "BasicMotions", "--candidates", "tiny", "tiny_probe"])
