"""Choose timemae-base's pre-training step and feature layer on validation folds of the league's train splits only.

    python -m benchmarks.league.timemae_base_validation                      # every checkpoint x layer x set, resumable
    python -m benchmarks.league.timemae_base_validation --checkpoints 8000 10000 --datasets Coffee GunPoint
    python -m benchmarks.league.timemae_base_validation --reference_har_100pct  # also MiniRocket on HAR_100pct's folds
    python -m benchmarks.league.timemae_base_validation --aggregate_only        # rebuild the summary and figure

timemae-base (training/configs/timemae_base.yaml) is one univariate encoder pre-trained on generated series only;
anyone's series are read by it frozen, each channel encoded alone and resized to its 512 steps, and a linear head is
fitted on the pooled features (the channels' features side by side). Two things are left to choose: how long to
pre-train (which `checkpoint-<step>` of the run) and which layer to read (the features of the first k layers, k in
2, 3, 4; later layers of a masked autoencoder can specialise in its pre-training task). Both are chosen here, on the
league's 13 sets (benchmarks/league/league_data.py), without reading any test split: each set's test split is dropped
as soon as it is loaded.

Protocol. The folds are benchmarks/league/league_data.py's (`folds`: stratified, 3 folds or fewer when a class is
rarer, seeded 0) on each set's train split; HAR_100pct (7439 windows) is included here, since the encoder is frozen
and a fold costs a head fit only. A window's features do not depend on the fold (the encoder never sees labels), so
each (checkpoint, layer, set) computes its train split's features once -- `TimeMAEForSequenceClassification` loaded
with `channel_independent=True, channel_pooling="concat", resize_to_context_length=True, num_hidden_layers=k`, read
by `extract_features` on the windows padded with NaN to the split's longest (the model resizes each series' observed
part; PLAID's longer series are resampled down to 512) -- and fits only the head per fold: TimeMAEClassifier's probe,
`StandardScaler` + `LogisticRegression(max_iter=1_000_000)`, on the training folds, scored on the held-out fold.

Reference: MiniRocket on the same folds, whose rows benchmarks/league/estimator_defaults.py already wrote for the 12
sets other than HAR_100pct (read from benchmarks/results/estimator_defaults.jsonl, after checking that each row has this
study's fold sizes and data); `--reference_har_100pct` runs MiniRocket on HAR_100pct's folds (minutes; off
by default), built as the league builds it. Its rows are kept in the results file.

Selection rule (declared before any number was measured): the candidate (checkpoint, layer) with the highest mean
validation accuracy over the 13 sets (each set's accuracy the mean over its folds) is chosen, among candidates with a
row on every set; candidates within 0.05 points of the best count as tied, and a tie goes to the later checkpoint,
then to the deeper layer (more pre-training and the full encoder are what a user would take without this study).

Every (checkpoint, layer, set) is one row in ONE results file, benchmarks/results/timemae_base_validation.json, with
its folds' validation and training accuracy, the head's fit seconds and the feature seconds; a rerun skips rows that
exist, so a run after more checkpoints landed only adds theirs (a checkpoint whose weights changed since its rows
were made is refused). The file also holds each candidate's per-set numbers, its mean, its gap to MiniRocket per set
and on average, the choice, and the provenance of every run that added rows; the figure beside it
(timemae_base_validation.png) draws mean validation accuracy against pre-training step, one line per layer, with
MiniRocket's mean dashed, and the chosen layer per set.
"""

import argparse
import hashlib
import json
import re
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import transformers
from matplotlib.figure import Figure
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from benchmarks.common.results_io import (
    REPOSITORY_ROOT,
    RESULTS_DIR,
    loaded_code_state,
    provenance,
    read_rows,
    read_study,
    rows_file,
    runs_provenance,
    script_command,
    write_json,
)
from benchmarks.league import estimator_defaults
from benchmarks.league.league_data import (
    DATASET_NAMES,
    FOLD_SEED,
    MAX_FOLDS,
    SEED,
    LeagueData,
    folds,
    load_league_data,
)
from benchmarks.league.methods import METHODS
from timemae_hf import TimeMAEForSequenceClassification
from timemae_hf.estimator import PROBE_MAX_ITER
from timemae_hf.training.plotting import save_figure
from timemae_hf.training.probing import extract_features
from timemae_hf.windows_timemae import pad_windows

STUDY = "timemae_base_validation"  # its results: benchmarks/results/timemae_base_validation.json

BENCHMARK = "timemae_base_validation"
RUNS_DIR = REPOSITORY_ROOT / "benchmarks" / "runs" / "timemae_base"
RESULTS_FILE = RESULTS_DIR / f"{BENCHMARK}.json"
REFERENCE = "MiniRocket"
REFERENCE_ROWS = rows_file("estimator_defaults")  # its MiniRocket rows, by estimator_defaults.py
REFERENCE_RUN_HERE = ("HAR_100pct",)  # the sets estimator_defaults.py left out: --reference_har_100pct runs them
DATASETS = DATASET_NAMES  # all 13 league sets, HAR_100pct included
LAYERS = (2, 3, 4)
TIE_POINTS = 0.05
SELECTION_RULE = (
    "the candidate (checkpoint, layer) with the highest mean validation accuracy over the 13 league sets (each set's "
    "mean over its folds), among candidates with a row on every set; candidates within 0.05 points of the best are "
    "tied, and a tie goes to the later checkpoint, then to the deeper layer"
)
FEATURE_BATCH_SIZE = 64  # windows per forward pass (each window is C series of 512 steps); 64 beat 256 on one thread
TORCH_THREADS = 1  # the study shares two cores with pre-training; one thread is also what the other studies use
CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
WEIGHTS_FILE = "model.safetensors"
READY_FILE = "trainer_state.json"  # the Trainer writes it last: a checkpoint without it is still being written


# ----------------------------------------------------------------------------------------------------------------------
# data and checkpoints


def train_split(name: str) -> LeagueData:
    """A league set with its test split dropped as soon as it is read: nothing after this can touch it."""
    data = load_league_data(name, SEED)
    return LeagueData(data.name, data.train_series, data.train_labels, [], np.array([], dtype=str), data.source)


def train_description(data: LeagueData) -> dict:
    """Sizes, lengths, classes and a fingerprint of the train split alone (`LeagueData.description` hashes the test
    split too)."""
    lengths = [len(series) for series in data.train_series]
    classes, counts = np.unique(data.train_labels, return_counts=True)
    digest = hashlib.sha256()
    for series in data.train_series:
        digest.update(np.ascontiguousarray(series, dtype=np.float32).tobytes())
        digest.update(str(series.shape).encode())
    digest.update("\n".join(map(str, data.train_labels)).encode())
    return {
        "name": data.name,
        "source": data.source,
        "num_train": len(lengths),
        "num_channels": int(data.train_series[0].shape[1]),
        "length": lengths[0] if len(set(lengths)) == 1 else {"min": min(lengths), "max": max(lengths)},
        "num_classes": len(classes),
        "class_counts": {str(label): int(count) for label, count in zip(classes, counts)},
        "train_fingerprint": digest.hexdigest()[:16],
    }


def find_checkpoints(runs_dir: Path) -> dict[str, Path]:
    """Every finished `checkpoint-<step>` folder of the run, by name, in step order."""
    found = [
        (int(match.group(1)), path)
        for path in Path(runs_dir).glob("checkpoint-*")
        if (match := CHECKPOINT_NAME.match(path.name)) and (path / READY_FILE).exists()
    ]
    return {path.name: path for _, path in sorted(found)}


def checkpoint_step(name: str) -> int:
    return int(CHECKPOINT_NAME.match(name).group(1))


def describe_checkpoint(path: Path) -> dict:
    """Its step, weights' sha256, depth, and the pre-training validation loss logged at its step (if any)."""
    state = json.loads((path / READY_FILE).read_text())
    eval_losses = [
        entry["eval_loss"]
        for entry in state.get("log_history", [])
        if "eval_loss" in entry and entry.get("step") == state.get("global_step")
    ]
    config = json.loads((path / "config.json").read_text())
    return {
        "step": checkpoint_step(path.name),
        "weights_sha256": hashlib.sha256((path / WEIGHTS_FILE).read_bytes()).hexdigest(),
        "num_hidden_layers": config["num_hidden_layers"],
        "pretraining_eval_loss": eval_losses[-1] if eval_losses else None,
    }


# ----------------------------------------------------------------------------------------------------------------------
# features, head, reference


def encoder_features(checkpoint: Path, layers: int, data: LeagueData, label_ids: np.ndarray, batch_size: int):
    """The frozen features of every train window, (windows, channels * hidden_size), read after the first `layers`
    layers; and the seconds `extract_features` took."""
    verbosity, progress_bars = transformers.logging.get_verbosity(), transformers.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()  # the load report lists the unused later layers: expected here
    transformers.logging.disable_progress_bar()  # one bar per load would bury the study's own in the log
    try:
        model = TimeMAEForSequenceClassification.from_pretrained(
            checkpoint,
            num_input_channels=int(data.train_series[0].shape[1]),
            channel_independent=True,
            channel_pooling="concat",
            resize_to_context_length=True,
            num_labels=len(np.unique(label_ids)),
            num_hidden_layers=layers,
        )
    finally:
        transformers.logging.set_verbosity(verbosity)
        if progress_bars:
            transformers.logging.enable_progress_bar()
    windows = pad_windows(data.train_series, max(len(series) for series in data.train_series))
    started = time.perf_counter()
    features, _ = extract_features(model, (windows, label_ids), batch_size=batch_size)
    return features, time.perf_counter() - started


def head() -> object:
    """TimeMAEClassifier's probe head (`TimeMAEClassifier._fit_probe`)."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=PROBE_MAX_ITER))


def fold_scores(features: np.ndarray, label_ids: np.ndarray, dataset_folds) -> list[dict]:
    """The head fitted on each fold's training windows: validation and training accuracy, fit seconds."""
    scores = []
    for fold, (train_index, validation_index) in enumerate(dataset_folds):
        classifier = head()
        started = time.perf_counter()
        classifier.fit(features[train_index], label_ids[train_index])
        fit_seconds = time.perf_counter() - started
        scores.append(
            {
                "fold": fold,
                "num_train": len(train_index),
                "num_validation": len(validation_index),
                "validation_accuracy": float(classifier.score(features[validation_index], label_ids[validation_index])),
                "train_accuracy": float(classifier.score(features[train_index], label_ids[train_index])),
                "head_fit_seconds": round(fit_seconds, 3),
            }
        )
    return scores


def imported_reference(rows_path: Path, data: LeagueData, dataset_folds) -> dict | None:
    """estimator_defaults.py's MiniRocket rows of this set, checked to be on the same data and folds; None if absent."""
    # one row per fold, the last written when a fold was measured again
    rows = list({row["fold"]: row for row in read_rows(rows_path, candidate=REFERENCE, dataset=data.name)}.values())
    if not rows:
        return None
    rows.sort(key=lambda row: row["fold"])
    described = train_description(data)
    problems = []
    if [row["fold"] for row in rows] != list(range(len(dataset_folds))):
        problems.append(f"folds {[row['fold'] for row in rows]}, this study has {len(dataset_folds)}")
    for row, (train_index, validation_index) in zip(rows, dataset_folds):
        if (row["num_train"], row["num_validation"]) != (len(train_index), len(validation_index)):
            problems.append(
                f"fold {row['fold']} holds {row['num_train']} + {row['num_validation']} windows, this "
                f"study's {len(train_index)} + {len(validation_index)}"
            )
        for key in ("num_train", "num_channels", "num_classes", "source"):
            if row["data"][key] != described[key]:
                problems.append(
                    f"fold {row['fold']}'s data has {key} {row['data'][key]!r}, this study's {described[key]!r}"
                )
    if problems:
        raise ValueError(
            f"{REFERENCE}'s {data.name} rows in {rows_path} are not on this study's folds: " + "; ".join(problems)
        )
    return {
        "dataset": data.name,
        "origin": f"{repository_relative(rows_path)}, {REFERENCE} on {data.name} "
        "(benchmarks/league/estimator_defaults.py)",
        "folds": [
            {
                "fold": row["fold"],
                "num_train": row["num_train"],
                "num_validation": row["num_validation"],
                "validation_accuracy": row["validation_accuracy"],
                "train_accuracy": row["train_accuracy"],
                "fit_seconds": row["fit_seconds"],
                "git_sha": row["provenance"].get("git_sha"),
            }
            for row in rows
        ],
        "params": rows[0]["params"],
    }


def run_reference(data: LeagueData, dataset_folds, run_id: int, command: str, code: dict) -> dict:
    """MiniRocket on this set's folds, each fold a row as benchmarks/league/estimator_defaults.py writes it (built as
    the league builds it: aeon's defaults, random_state 3407; `data` holds the train split only)."""
    rows = [
        estimator_defaults.run_row(REFERENCE, data, fold, train_index, validation_index, command, code)
        for fold, (train_index, validation_index) in enumerate(dataset_folds)
    ]
    torch.set_num_threads(TORCH_THREADS)  # aeon's numba leaves the OpenMP runtime torch shares at the core count
    origin = (
        f"run here (run {run_id}) by estimator_defaults.run_row on the train split alone (its data: num_test 0, "
        "fingerprint of train); the first fold's fit includes numba's compilation"
    )
    return {"dataset": data.name, "origin": origin, "folds": rows, "params": rows[0]["params"], "run": run_id}


def repository_relative(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(REPOSITORY_ROOT)) if path.is_relative_to(REPOSITORY_ROOT) else str(path)


# ----------------------------------------------------------------------------------------------------------------------
# the study


def load_record(results_file: Path) -> dict:
    """What earlier runs left: rows, reference rows, checkpoints, runs (the rest is rebuilt by `aggregate`)."""
    empty = {"rows": [], "reference_rows": [], "checkpoints": {}, "runs": [], "pretraining_run": None}
    record = read_study(results_file).get(BENCHMARK)
    if record is None:
        return empty
    return {key: record.get(key, value) for key, value in empty.items()}


def selected_checkpoints(available: dict[str, Path], requested: list[str] | None) -> dict[str, Path]:
    """`--checkpoints` (names or steps) among those found; every one when not given."""
    if not requested:
        return available
    names = [name if name.startswith("checkpoint-") else f"checkpoint-{name}" for name in requested]
    missing = [name for name in names if name not in available]
    if missing:
        raise ValueError(f"No finished checkpoint {missing} (with {READY_FILE}); found {list(available)}.")
    return {name: path for name, path in available.items() if name in names}


def run(args, record: dict, results_file: Path, command: str, started_at: float) -> None:
    """Add the missing rows of the requested checkpoints x layers x sets to `record`, saving after each set."""
    torch.set_num_threads(TORCH_THREADS)
    checkpoints = selected_checkpoints(find_checkpoints(args.runs_dir), args.checkpoints)
    if not checkpoints:
        print(f"No finished checkpoint-<step> folder under {args.runs_dir}: no candidate rows to add.", flush=True)
    done = {(row["checkpoint"], row["layers"], row["dataset"]) for row in record["rows"]}
    references = {row["dataset"] for row in record["reference_rows"]}
    run_id = max((entry["run"] for entry in record["runs"]), default=-1) + 1
    code = loaded_code_state("study")
    run_entry = {"run": run_id, "rows_added": 0}
    if Path(args.runs_dir).exists():
        record["pretraining_run"] = runs_provenance([args.runs_dir])
    for name, path in checkpoints.items():
        described = describe_checkpoint(path)
        known = record["checkpoints"].get(name)
        if known and known["weights_sha256"] != described["weights_sha256"]:
            raise ValueError(
                f"{path}'s weights differ from those its rows were computed on (sha256 "
                f"{known['weights_sha256'][:12]}...): remove its rows from {results_file} to redo them."
            )
        record["checkpoints"][name] = {**described, "path": repository_relative(path)}
    data_cache: dict[str, tuple[LeagueData, np.ndarray, list, dict]] = {}

    def dataset(name: str):
        """The set's train split, its class ids, folds and description, read once."""
        if name not in data_cache:
            data = train_split(name)
            _, label_ids = np.unique(data.train_labels, return_inverse=True)
            data_cache[name] = (data, label_ids, folds(data.train_labels), train_description(data))
        return data_cache[name]

    def save():
        run_entry.update({**provenance(started_at, command), **code})
        runs = [entry for entry in record["runs"] if entry["run"] != run_id]
        record["runs"] = [*runs, run_entry] if run_entry["rows_added"] else runs
        write_study_run(results_file, aggregate(record, started_at, command))

    for name in args.datasets:  # the reference first: it is what every candidate is read against
        if name in references:
            continue
        if name in REFERENCE_RUN_HERE and not args.reference_har_100pct:
            continue
        data, _, dataset_folds, _ = dataset(name)
        if name in REFERENCE_RUN_HERE:
            if METHODS[REFERENCE].available is not None:
                print(f"{REFERENCE} left out on {name}: {METHODS[REFERENCE].available}", flush=True)
                continue
            reference = run_reference(data, dataset_folds, run_id, command, code)
            run_entry["rows_added"] += 1
        else:
            reference = imported_reference(args.reference_rows, data, dataset_folds)
        if reference is not None:
            record["reference_rows"].append(reference)
            save()

    pairs = [(checkpoint, dataset_name) for checkpoint in checkpoints for dataset_name in args.datasets]
    for checkpoint, dataset_name in tqdm(pairs, desc="(checkpoint, set)", mininterval=5):
        depth = record["checkpoints"][checkpoint]["num_hidden_layers"]
        todo = [k for k in args.layers if k <= depth and (checkpoint, k, dataset_name) not in done]
        if not todo:
            continue
        data, label_ids, dataset_folds, described = dataset(dataset_name)
        for layers in todo:
            features, feature_seconds = encoder_features(
                checkpoints[checkpoint], layers, data, label_ids, args.batch_size
            )
            scores = fold_scores(features, label_ids, dataset_folds)
            record["rows"].append(
                {
                    "checkpoint": checkpoint,
                    "step": checkpoint_step(checkpoint),
                    "layers": layers,
                    "dataset": dataset_name,
                    "validation_accuracy": mean_percent(scores, "validation_accuracy"),
                    "train_accuracy": mean_percent(scores, "train_accuracy"),
                    "feature_seconds": round(feature_seconds, 3),
                    "num_features": int(features.shape[1]),
                    "folds": scores,
                    "data": described,
                    "run": run_id,
                }
            )
            run_entry["rows_added"] += 1
            tqdm.write(
                f"{checkpoint:<17} layers {layers} {dataset_name:<16} validation "
                f"{record['rows'][-1]['validation_accuracy']:6.2f} %, train "
                f"{record['rows'][-1]['train_accuracy']:6.2f} %, features {feature_seconds:.1f} s"
            )
        save()
    if run_entry["rows_added"]:
        save()


def mean_percent(scores: list[dict], key: str) -> float:
    return 100 * statistics.mean(score[key] for score in scores)


# ----------------------------------------------------------------------------------------------------------------------
# aggregate and choice


def candidate_name(checkpoint: str, layers: int) -> str:
    return f"{checkpoint}/layers{layers}"


def choose(summary: dict[str, dict], num_datasets: int = len(DATASETS)) -> str | None:
    """The selection rule (`SELECTION_RULE`) over `summary` {candidate: {"step", "layers", "datasets",
    "mean_validation_accuracy"}}; None while no candidate has a row on every set."""
    complete = {name: entry for name, entry in summary.items() if entry["datasets"] == num_datasets}
    if not complete:
        return None
    best = max(entry["mean_validation_accuracy"] for entry in complete.values())
    tied = [name for name, entry in complete.items() if entry["mean_validation_accuracy"] >= best - TIE_POINTS]
    return max(tied, key=lambda name: (complete[name]["step"], complete[name]["layers"]))


def reference_summary(reference_rows: list[dict]) -> dict:
    per_dataset = {}
    for row in sorted(reference_rows, key=lambda row: DATASETS.index(row["dataset"])):
        per_dataset[row["dataset"]] = {
            "folds": len(row["folds"]),
            "validation_accuracy": round(mean_percent(row["folds"], "validation_accuracy"), 2),
            "train_accuracy": round(mean_percent(row["folds"], "train_accuracy"), 2),
            "fit_seconds": round(statistics.mean(fold["fit_seconds"] for fold in row["folds"]), 2),
            "origin": row["origin"],
        }
    accuracies = [entry["validation_accuracy"] for entry in per_dataset.values()]
    return {
        "datasets": len(per_dataset),
        "missing": [name for name in DATASETS if name not in per_dataset],
        "mean_validation_accuracy": round(statistics.mean(accuracies), 2) if accuracies else None,
        "per_dataset": per_dataset,
    }


def candidate_summary(record: dict, reference: dict) -> dict[str, dict]:
    """Every candidate's per-set numbers, mean, and gap to MiniRocket per set and on average (means unrounded)."""
    summary = {}
    reference_accuracy = {name: entry["validation_accuracy"] for name, entry in reference["per_dataset"].items()}
    candidates = sorted({(row["step"], row["layers"], row["checkpoint"]) for row in record["rows"]})
    for step, layers, checkpoint in candidates:
        rows = {
            row["dataset"]: row for row in record["rows"] if row["checkpoint"] == checkpoint and row["layers"] == layers
        }
        rows = {name: rows[name] for name in DATASETS if name in rows}
        per_dataset = {
            name: {
                "validation_accuracy": round(row["validation_accuracy"], 2),
                "train_accuracy": round(row["train_accuracy"], 2),
                "gap_to_minirocket": (
                    round(row["validation_accuracy"] - reference_accuracy[name], 2)
                    if name in reference_accuracy
                    else None
                ),
                "folds": len(row["folds"]),
                "head_fit_seconds": round(statistics.mean(fold["head_fit_seconds"] for fold in row["folds"]), 3),
                "feature_seconds": row["feature_seconds"],
            }
            for name, row in rows.items()
        }
        gaps = [entry["gap_to_minirocket"] for entry in per_dataset.values() if entry["gap_to_minirocket"] is not None]
        shared = [name for name in rows if name in reference_accuracy]
        summary[candidate_name(checkpoint, layers)] = {
            "checkpoint": checkpoint,
            "step": step,
            "layers": layers,
            "datasets": len(rows),
            "mean_validation_accuracy": statistics.mean(row["validation_accuracy"] for row in rows.values()),
            "mean_train_accuracy": round(statistics.mean(row["train_accuracy"] for row in rows.values()), 2),
            "mean_gap_to_minirocket": round(statistics.mean(gaps), 2) if gaps else None,
            "gap_sets": len(gaps),
            "mean_validation_accuracy_on_minirocket_sets": (
                round(statistics.mean(rows[name]["validation_accuracy"] for name in shared), 2) if shared else None
            ),
            "worst_gap_to_minirocket": min(gaps) if gaps else None,
            "feature_seconds": round(sum(row["feature_seconds"] for row in rows.values()), 1),
            "per_dataset": per_dataset,
        }
    return summary


def aggregate(record: dict, started_at: float, command: str) -> dict:
    """The results file: the rule first, then the reference, every candidate, the choice, and the rows."""
    reference = reference_summary(record["reference_rows"])
    summary = candidate_summary(record, reference)
    chosen = choose(summary)
    for entry in summary.values():
        entry["mean_validation_accuracy"] = round(entry["mean_validation_accuracy"], 2)
    return {
        "benchmark": BENCHMARK,
        "selection_rule": SELECTION_RULE,
        "question": (
            "which pre-training step and which encoder layer of timemae-base give the best frozen features "
            "for a linear head, on the league's train splits only"
        ),
        "protocol": (
            f"stratified {MAX_FOLDS}-fold cross-validation (fewer when a class is rarer) of each league set's "
            f"train split, folds seeded {FOLD_SEED} (benchmarks/estimator_defaults.folds); features of the "
            "train split computed once per (checkpoint, layer) by the frozen encoder (channel-independent, "
            "channels concatenated, every series resized to the context length) and a head fitted per fold: "
            f"StandardScaler + LogisticRegression(max_iter={PROBE_MAX_ITER}), TimeMAEClassifier's probe; "
            "test splits dropped when loaded, never read"
        ),
        "datasets": list(DATASETS),
        "layers": list(LAYERS),
        "reference": {"method": REFERENCE, **reference},
        "chosen": chosen
        and {
            "candidate": chosen,
            **{
                key: summary[chosen][key]
                for key in ("checkpoint", "step", "layers", "mean_validation_accuracy", "mean_gap_to_minirocket")
            },
        },
        "chosen_note": None if chosen else f"no candidate has a row on all {len(DATASETS)} sets yet",
        "summary": summary,
        "seconds_note": (
            "on a shared 2-core machine beside a pre-training run, one torch thread: feature_seconds is "
            "extract_features on a set's whole train split (model loading excluded), head_fit_seconds "
            "the mean over folds"
        ),
        "checkpoints": record["checkpoints"],
        "pretraining_run": record["pretraining_run"],
        "runs": record["runs"],
        "reference_rows": record["reference_rows"],
        "rows": record["rows"],
        "provenance": provenance(started_at, command),
    }


# ----------------------------------------------------------------------------------------------------------------------
# figure


def validation_figure(record: dict) -> Figure:
    """Left: mean validation accuracy over the sets against pre-training step, one line per layer, MiniRocket's mean
    dashed. Right: the chosen layer per set: the chosen step's accuracy, the range over steps, MiniRocket's."""
    summary, reference = record["summary"], record["reference"]
    figure = Figure(figsize=(13, 5.2))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
    complete = {name: entry for name, entry in summary.items() if entry["datasets"] == len(DATASETS)}
    for layers in sorted({entry["layers"] for entry in summary.values()}):
        points = sorted(
            (entry["step"], entry["mean_validation_accuracy"])
            for entry in complete.values()
            if entry["layers"] == layers
        )
        if points:
            left.plot(*zip(*points), marker="o", markersize=4, label=f"features after layer {layers}")
    if reference["mean_validation_accuracy"] is not None:
        missing = f": {', '.join(reference['missing'])} not run" if reference["missing"] else ""
        label = f"{REFERENCE}, same folds ({reference['datasets']} sets{missing})"
        left.axhline(reference["mean_validation_accuracy"], color="black", linestyle="--", linewidth=1, label=label)
    chosen = record["chosen"]
    if chosen:
        left.plot(
            [chosen["step"]],
            [chosen["mean_validation_accuracy"]],
            marker="*",
            markersize=14,
            color="gold",
            markeredgecolor="black",
            linestyle="none",
            label=f"chosen: step {chosen['step']}, layer {chosen['layers']}",
        )
    left.set_xlabel("pre-training step")
    left.set_ylabel(f"mean validation accuracy over the {len(DATASETS)} sets (%)")
    left.set_title("timemae-base frozen features + linear head, train-split folds")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)

    def coverage_then_mean(name):
        return summary[name]["datasets"], summary[name]["mean_validation_accuracy"]

    shown = chosen["candidate"] if chosen else max(summary, key=coverage_then_mean, default=None)
    if shown is not None:
        layers = summary[shown]["layers"]
        same_layer = [entry for entry in summary.values() if entry["layers"] == layers]
        datasets = [name for name in DATASETS if name in summary[shown]["per_dataset"]]
        for y, name in enumerate(datasets):
            accuracies = [
                entry["per_dataset"][name]["validation_accuracy"]
                for entry in same_layer
                if name in entry["per_dataset"]
            ]
            right.plot(
                [min(accuracies), max(accuracies)],
                [y, y],
                color="tab:blue",
                alpha=0.35,
                linewidth=4,
                solid_capstyle="round",
                label="range over steps" if y == 0 else None,
            )
            right.plot(
                summary[shown]["per_dataset"][name]["validation_accuracy"],
                y,
                "o",
                color="tab:blue",
                label=f"step {summary[shown]['step']}" if y == 0 else None,
            )
            if name in reference["per_dataset"]:
                right.plot(
                    reference["per_dataset"][name]["validation_accuracy"],
                    y,
                    "x",
                    color="black",
                    markersize=8,
                    label=REFERENCE if y == 0 else None,
                )
        right.set_yticks(range(len(datasets)), datasets)
        right.invert_yaxis()
        right.set_xlabel("validation accuracy, mean over folds (%)")
        which = "chosen" if chosen else "the best so far; no candidate has every set yet"
        right.set_title(f"features after layer {layers}, per set ({which})")
        right.grid(axis="x", alpha=0.3)
        right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


# ----------------------------------------------------------------------------------------------------------------------


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--runs_dir",
        type=Path,
        default=RUNS_DIR,
        help="the pre-training run whose checkpoint-<step> folders are the candidates "
        f"(default {repository_relative(RUNS_DIR)})",
    )
    parser.add_argument(
        "--checkpoints",
        nargs="+",
        default=None,
        help="only these checkpoints (names such as checkpoint-8000, or steps); default: every finished one",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=list(DATASETS),
        choices=list(DATASETS),
        metavar="SET",
        help=f"only these league sets, of {' '.join(DATASETS)} (default: all; only a candidate with "
        "a row on every set can be chosen)",
    )
    parser.add_argument(
        "--layers",
        nargs="+",
        type=int,
        default=list(LAYERS),
        help="feature layers k to try: the first k layers' features (default 2 3 4; those deeper "
        "than a checkpoint are skipped)",
    )
    parser.add_argument(
        "--reference_har_100pct",
        action="store_true",
        help=f"also run {REFERENCE} on HAR_100pct's folds (minutes), which estimator_defaults.py left out",
    )
    parser.add_argument(
        "--reference_rows",
        type=Path,
        default=REFERENCE_ROWS,
        help=f"{REFERENCE}'s rows from estimator_defaults.py, a JSONL file "
        f"(default {repository_relative(REFERENCE_ROWS)})",
    )
    parser.add_argument(
        "--results_file",
        type=Path,
        default=RESULTS_FILE,
        help=f"the study's results file, rows included (its run {BENCHMARK!r}); the figure goes beside it as .png "
        f"(default "
        f"{repository_relative(RESULTS_FILE)})",
    )
    parser.add_argument("--batch_size", type=int, default=FEATURE_BATCH_SIZE, help="windows per forward pass")
    parser.add_argument(
        "--aggregate_only",
        action="store_true",
        help="rebuild the summary, choice and figure from the rows in the results file",
    )
    args = parser.parse_args(argv)
    if min(args.layers) < 1:
        parser.error(f"--layers are layer counts, 1 or more; got {args.layers}")
    return args


def write_study_run(results_file: Path, record: dict) -> None:
    """The study's record under its run name in `results_file` (the layout every study's results file has)."""
    write_json(results_file, {**read_study(results_file), BENCHMARK: record})


def print_table(record: dict) -> None:
    reference = record["reference"]
    print(
        f"\n{REFERENCE}: mean validation accuracy {reference['mean_validation_accuracy']} over "
        f"{reference['datasets']} sets"
    )
    print(f"{'candidate':<28} {'sets':>4} {'mean':>7} {'gap':>7}")
    for name, entry in record["summary"].items():
        print(
            f"{name:<28} {entry['datasets']:>4} {entry['mean_validation_accuracy']:>7.2f} "
            f"{entry['mean_gap_to_minirocket'] if entry['mean_gap_to_minirocket'] is not None else '-':>7}"
        )
    print(f"chosen: {record['chosen'] or record['chosen_note']}")


def main(argv=None) -> dict:
    started_at = time.time()
    args = parse_arguments(argv)
    command = script_command(__file__, argv)
    results_file = Path(args.results_file)
    record = load_record(results_file)
    if not args.aggregate_only:
        run(args, record, results_file, command, started_at)
    result = aggregate(record, started_at, command)
    write_study_run(results_file, result)
    save_figure(validation_figure(result), str(results_file.with_suffix(".png")), command)
    print_table(result)
    return result


if __name__ == "__main__":
    main()
