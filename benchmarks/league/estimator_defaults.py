"""Choose `TimeMAEClassifier`'s defaults by cross-validation on the league's *train* splits only (the defaults study).

    python -m benchmarks.league.estimator_defaults                             # every candidate x set x fold, resumable
    python -m benchmarks.league.estimator_defaults --candidates today lr1e-3 --datasets GunPoint ArrowHead
    python -m benchmarks.league.estimator_defaults --aggregate_only            # rebuild the results file from the rows

Each candidate is a set of `TimeMAEClassifier` parameters (`CANDIDATES`). Each is fit on the folds of a stratified
k-fold split of every league set's train split (HAR: the 1 % and 10 % subsets of seed 3407; the full 7439 windows
are left out, one 3-fold pass of it costs more than every small set together) and scored on the held-out fold; the
test splits are never read here. MiniRocket runs on the same folds as the reference the goal is measured against
("no more than 3 points below MiniRocket"). Each (candidate, set, fold) is one line of
benchmarks/results/estimator_defaults.jsonl, with its provenance; a rerun skips rows that exist. The aggregate,
benchmarks/results/estimator_defaults.json, holds every candidate's mean validation accuracy per set, its gap to
MiniRocket, its training accuracy (a recipe that does not fit its training folds is under-fitting) and fit time, and
names the candidate with the best mean validation accuracy over the sets: that one becomes the defaults, and only
then is the league rerun on the test splits.

Two rounds, both on validation folds: every candidate is screened on ItalyPowerDemand, Coffee and GunPoint (minutes
each); the leaders go on to every set (an hour or more each on 2 cores), and only a candidate run on every set can be
chosen. The rows of the screening stay in the results file, so the candidates left behind are reported too.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common.results_io import (
    RESULTS_DIR,
    append_row,
    loaded_code_state,
    provenance,
    read_rows,
    rows_file,
    script_command,
    write_run,
)
from benchmarks.league.league_data import DATASET_NAMES, FOLD_SEED, MAX_FOLDS, SEED, folds, load_league_data
from benchmarks.league.methods import METHODS, json_safe
from timemae_hf import TimeMAEClassifier

STUDY = "estimator_defaults"  # its results: benchmarks/results/estimator_defaults.json and estimator_defaults.jsonl

# The full HAR train split is left out (see the docstring); the league reads it on test with the chosen defaults.
DATASETS = tuple(name for name in DATASET_NAMES if name != "HAR_100pct")
REFERENCE = "MiniRocket"
# One thread: the study shares two cores with other work, and two threads there made a 100-step fit 40x slower
# (321 s against 7.5 s with one, ItalyPowerDemand) as OpenMP threads waited on each other.
TORCH_THREADS = 1
# The defaults before this study (commit 9d8624d), spelled out so that a candidate means the same after they change:
# also a new encoder with standardised channels, pre-trained on the fit windows alone, which stopped being the default
# when the estimator started from timemae-base (after commit 4e7d3da).
BEFORE = {
    "pretrained_model": None,
    "normalize_channels": True,
    "head": "finetune",
    "pretrain_steps": 1000,
    "finetune_steps": 500,
    "pretrain_learning_rate": 1e-3,
    "finetune_learning_rate": 1e-4,
    "batch_size": 64,
    "dropout": None,
    "augmentations": None,
    "probe_before_finetuning": False,
}
AUGMENTED = ("jitter", "scaling", "time_warp")  # what HAR's fine-tuning study chose on validation
# name -> TimeMAEClassifier parameters (the rest at the estimator's defaults).
CANDIDATES = {
    "before": BEFORE,
    "lr1e-3": {**BEFORE, "finetune_learning_rate": 1e-3},
    "lr1e-3_augmented": {**BEFORE, "finetune_learning_rate": 1e-3, "augmentations": AUGMENTED},
    "lr1e-3_augmented_no_pretraining": {
        **BEFORE,
        "finetune_learning_rate": 1e-3,
        "augmentations": AUGMENTED,
        "pretrain_steps": 0,
    },
    # The league's first rows: after pre-training the probe fits ItalyPowerDemand's train split (95-99 %) where
    # fine-tuning from a random head collapses to one class on 2 of 3 seeds (train 50.75 %): start from the probe.
    "lp-ft": {**BEFORE, "probe_before_finetuning": True},
    "lp-ft_augmented": {**BEFORE, "probe_before_finetuning": True, "augmentations": AUGMENTED},
    # Coffee's train split, seed 3407: after pre-training, fine-tuning's loss stays at ln 2 (train accuracy 50 %) and
    # LP-FT's starts at 3674 (grad norm 1e5), while the probe on the same features fits it: the pooled features vary
    # little between windows, the probe's standardisation finds that variation, and dropout's noise hides it. Without
    # dropout both fit (train accuracy 100 %). A diagnosis on one train split, not yet a result: these go on every set.
    "no_dropout": {**BEFORE, "dropout": 0.0},
    "no_dropout_lp-ft": {**BEFORE, "dropout": 0.0, "probe_before_finetuning": True},
    # Second round, after no_dropout_lp-ft led the first three sets (92.41) but still left GunPoint's training folds at
    # 90 %: a larger fine-tuning step, the augmentations, and the same recipe without pre-training (does it help?).
    "no_dropout_lp-ft_lr1e-3": {
        **BEFORE,
        "dropout": 0.0,
        "probe_before_finetuning": True,
        "finetune_learning_rate": 1e-3,
    },
    "no_dropout_lp-ft_augmented": {
        **BEFORE,
        "dropout": 0.0,
        "probe_before_finetuning": True,
        "augmentations": AUGMENTED,
    },
    "no_dropout_lr1e-3_no_pretraining": {**BEFORE, "dropout": 0.0, "finetune_learning_rate": 1e-3, "pretrain_steps": 0},
    # LP-FT still lost its probe's fit on some folds (BasicMotions fold 2: train 70 %), while the probe fits the
    # training windows (Coffee's diagnosis above): the probe head itself, with and without dropout in pre-training.
    # (Disclosed: the baseline league's test reads, probe ahead of fine-tuning, were on record when this was added.)
    "probe": {**BEFORE, "head": "probe"},
    "no_dropout_probe": {**BEFORE, "head": "probe", "dropout": 0.0},
}


def subset(inputs, indices: np.ndarray):
    return inputs[indices] if isinstance(inputs, np.ndarray) else [inputs[i] for i in indices]


def build(candidate: str, data, longest: int):
    """The estimator a row fits: MiniRocket as the league builds it, or `TimeMAEClassifier` with the candidate's
    parameters (context_length = the set's longest series, so that a held-out fold never holds a longer one)."""
    if candidate == REFERENCE:
        return METHODS[REFERENCE].build(data, SEED, {})
    return TimeMAEClassifier(random_state=SEED, context_length=longest, **CANDIDATES[candidate])


def run_row(candidate: str, data, fold: int, train_index, validation_index, command: str, code: dict) -> dict:
    started_at = time.time()
    # Again before every row: aeon's numba code leaves the OpenMP runtime torch shares at the machine's core count,
    # and a TimeMAE fit after a MiniRocket row then ran two spinning threads (seen: 15 min instead of 2 for a fold).
    torch.set_num_threads(TORCH_THREADS)
    # aeon's layout for MiniRocket, TimeMAEClassifier's for every candidate (whatever its head)
    inputs = data.aeon_inputs("train") if candidate == REFERENCE else data.timemae_inputs("train")
    labels = data.train_labels
    estimator = build(candidate, data, max(len(series) for series in data.train_series))
    fit_start = time.perf_counter()
    estimator.fit(subset(inputs, train_index), labels[train_index])
    fit_seconds = time.perf_counter() - fit_start
    return {
        "candidate": candidate,
        "dataset": data.name,
        "fold": fold,
        "num_train": len(train_index),
        "num_validation": len(validation_index),
        "validation_accuracy": float(estimator.score(subset(inputs, validation_index), labels[validation_index])),
        "train_accuracy": float(estimator.score(subset(inputs, train_index), labels[train_index])),
        "fit_seconds": round(fit_seconds, 3),
        "params": json_safe(estimator.get_params()),
        "data": data.description(),
        "provenance": {**provenance(started_at, command), **code},
    }


def run(args, rows: Path, command: str):
    code = loaded_code_state("study")
    reference = [REFERENCE]
    if METHODS[REFERENCE].available is not None:
        print(f"{REFERENCE} left out: {METHODS[REFERENCE].available}", flush=True)
        reference = []
    for dataset in args.datasets:
        data = load_league_data(dataset, SEED)
        dataset_folds = folds(data.train_labels)
        for candidate in [*reference, *args.candidates]:
            for fold, (train_index, validation_index) in enumerate(dataset_folds):
                if read_rows(rows, candidate=candidate, dataset=dataset, fold=fold):
                    continue
                row = run_row(candidate, data, fold, train_index, validation_index, command, code)
                append_row(rows, row)
                print(
                    f"{dataset:<16} {candidate:<24} fold {fold}: validation {100 * row['validation_accuracy']:6.2f}"
                    f" %, train {100 * row['train_accuracy']:6.2f} %, fit {row['fit_seconds']:.1f} s",
                    flush=True,
                )


def aggregate(rows_path: Path, started_at: float, command: str) -> dict:
    """Mean validation / training accuracy and fit time per candidate and set, the gap to MiniRocket, and the choice."""
    rows = read_rows(rows_path)
    table: dict[str, dict[str, dict]] = {}
    for candidate in sorted({row["candidate"] for row in rows}):
        for dataset in DATASETS:
            done = [row for row in rows if row["candidate"] == candidate and row["dataset"] == dataset]
            if not done:
                continue
            table.setdefault(candidate, {})[dataset] = {
                "folds": len(done),
                "validation_accuracy": round(100 * statistics.mean(r["validation_accuracy"] for r in done), 2),
                "train_accuracy": round(100 * statistics.mean(r["train_accuracy"] for r in done), 2),
                "fit_seconds": round(statistics.mean(r["fit_seconds"] for r in done), 2),
            }
    reference = table.get(REFERENCE, {})
    summary = {}
    for candidate, by_dataset in table.items():
        shared = [dataset for dataset in by_dataset if dataset in reference]
        gaps = {d: round(by_dataset[d]["validation_accuracy"] - reference[d]["validation_accuracy"], 2) for d in shared}
        summary[candidate] = {
            "datasets": len(by_dataset),
            "mean_validation_accuracy": round(
                statistics.mean(v["validation_accuracy"] for v in by_dataset.values()), 2
            ),
            "gap_to_minirocket": gaps,
            "worst_gap": min(gaps.values()) if gaps else None,
            "mean_fit_seconds": round(statistics.mean(v["fit_seconds"] for v in by_dataset.values()), 2),
        }
    complete = [c for c in summary if c != REFERENCE and summary[c]["datasets"] == len(DATASETS)]
    chosen = max(complete, key=lambda c: summary[c]["mean_validation_accuracy"]) if complete else None
    record = {
        "benchmark": "estimator_defaults",
        "protocol": (
            f"stratified {MAX_FOLDS}-fold cross-validation (fewer when a class is rarer) of each set's train "
            f"split, folds seeded {FOLD_SEED}, random_state {SEED}; test splits never read"
        ),
        "candidates": {name: CANDIDATES.get(name, "aeon defaults") for name in table},
        "per_dataset": table,
        "summary": summary,
        "chosen": chosen,
        "chosen_by": "best mean validation accuracy over the sets, among candidates run on every set",
        "fit_seconds_note": (
            "on a shared 2-core machine, one torch thread, up to three studies at once; MiniRocket's "
            "first fold of a set in a fresh process includes numba's compilation (the league times "
            "it after a warm-up); accuracy is this study's measure, not time"
        ),
        "rows": {f"{row['candidate']}/{row['dataset']}/fold{row['fold']}": row["provenance"] for row in rows},
    }
    record["provenance"] = provenance(started_at, command)
    return record


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--candidates",
        nargs="+",
        default=list(CANDIDATES),
        choices=list(CANDIDATES),
        help="TimeMAEClassifier parameter sets to cross-validate (default: all)",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=list(DATASETS),
        choices=list(DATASETS),
        help="league sets whose train splits are cross-validated (default: all but HAR_100pct)",
    )
    parser.add_argument(
        "--name",
        default="estimator_defaults",
        help="results file benchmarks/results/<name>.json (the run <name>) and rows file <name>.jsonl",
    )
    parser.add_argument("--aggregate_only", action="store_true", help="rebuild the results file from the rows")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    started_at = time.time()
    args = parse_arguments(argv)
    command = script_command(__file__, argv)
    rows = rows_file(args.name, results_dir=RESULTS_DIR)
    if not args.aggregate_only:
        run(args, rows, command)
    record = aggregate(rows, started_at, command)
    write_run(args.name, args.name, record, results_dir=RESULTS_DIR)
    print(json.dumps(record["summary"], indent=2))
    return record


if __name__ == "__main__":
    main()
