"""Pre-training windows/s of the authors' TimeMAE code beside ours, interleaved in one run on this CPU.

    git clone https://github.com/Mingyue-Cheng/TimeMAE ../timemae-authors         # the authors' files, anywhere
    python -m benchmarks.speed.authors_speed --authors_repo ../timemae-authors          # 2 epochs, 2 repeats, 2 threads
    python -m benchmarks.speed.authors_speed --authors_repo ../timemae-authors --smoke  # seconds: tiny models
    python -m benchmarks.speed.authors_speed                                            # our side only

Both sides pre-train at the paper's HAR size (hidden 64, 8 layers, 4 heads, patch 8, mask 0.6, codebook 192,
4 regressor layers, batch 128, AdamW lr 1e-3) on the same windows: the UCI HAR official train split, train +
validation of our loader (all 7439 windows, as the authors pre-train on their train + val), raw signals.

- Authors: their own `process.Trainer.pretrain()` on their `model.TimeMAE.TimeMAE`, `dataset.Dataset(mode='pretrain')`
  and a shuffled batch-128 DataLoader, as their main.py builds them, in a subprocess that has --authors_repo on
  `sys.path` (their files are not modified or copied). Their args.py is not imported (it parses the command line and
  loads their .pt files at import): a namespace with its defaults stands in for it. Their loop probes every 5 epochs,
  so --epochs stays below 5 and only pre-training is timed.
- Ours: `training/pretrain.py training/configs/har_native.yaml --refit true` as a pure training run (no evaluation,
  probe, test or checkpoints), once with torch's dropout and once with `--fast_dropout true`.

Measure: windows/s of the whole training loop, first epoch included = epochs x windows / wall seconds of the authors'
`pretrain()` call, and Trainer's `train_samples_per_second` (the same quantity over its epoch loop) for ours. Each run
is its own subprocess with OMP_NUM_THREADS = --threads (the authors' main.py sets 12 threads; both sides get the same
here). Runs are interleaved (authors, ours, ours-fast, authors, ...) so that every side sees the same machine load;
the medians over --repeats give the ratios ours / authors. Goal: ratio >= 2 (GOAL_RATIO).
Run it on an otherwise idle machine: with more threads than idle cores, OpenMP threads wait on descheduled peers and
steps slow down many times over (for both sides, but not equally); the JSON records the load average and says when
it was too high for --threads (then rerun, or use --threads 1).
Writes the run --name (default authors_speed) into benchmarks/results/authors_speed.json (--smoke:
authors_speed.smoke.json).
"""

import argparse
import hashlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common.launch import REFIT_OVERRIDES, REPOSITORY_ROOT, repository_env
from benchmarks.common.results_io import har_data_note, script_command, write_result

STUDY = "authors_speed"  # its results: benchmarks/results/authors_speed.json

GET_AUTHORS_CODE = (
    "git clone https://github.com/Mingyue-Cheng/TimeMAE DIR   (or, from a local mirror of it: mkdir -p DIR && "
    "git -C <mirror> archive HEAD | tar -x -C DIR)"
)
SEED = 3407  # har_native.yaml's seed; the authors' main.py seeds 3407 too
GOAL_RATIO = 2.0

# The authors' args.py defaults (what their run.sh passes for HAR agrees), for the namespace their code reads.
AUTHORS_DEFAULTS = dict(
    dataset="har",
    device="cpu",
    train_batch_size=128,
    test_batch_size=128,
    d_model=64,
    dropout=0.2,
    attn_heads=4,
    enable_res_parameter=1,
    layers=8,
    alpha=5.0,
    beta=1.0,
    momentum=0.99,
    vocab_size=192,
    wave_length=8,
    mask_ratio=0.6,
    reg_layers=4,
    lr=1e-3,
    lr_decay_rate=1.0,
    weight_decay=0.01,
    load_pretrained_model=1,
    num_epoch=0,  # no fine-tuning: their Trainer then opens no result.txt either
)
# --smoke: the same tiny encoder on both sides (their feed-forward width is fixed at 4 x d_model).
SMOKE_AUTHORS = dict(d_model=16, layers=1, attn_heads=2, vocab_size=16, reg_layers=1)
SMOKE_OURS = [
    "--hidden_size",
    "16",
    "--num_hidden_layers",
    "1",
    "--num_attention_heads",
    "2",
    "--intermediate_size",
    "64",
    "--codebook_size",
    "16",
    "--num_regressor_layers",
    "1",
]
OURS_VARIANTS = {"ours_torch_dropout": "false", "ours_fast_dropout": "true"}


def check_authors_repo(path: str) -> Path:
    """The folder with the authors' files; a clear error saying how to get them otherwise."""
    folder = Path(path)
    if not (folder / "model" / "TimeMAE.py").is_file() or not (folder / "process.py").is_file():
        what = "does not exist" if not folder.exists() else "lacks model/TimeMAE.py or process.py"
        raise ValueError(
            f"--authors_repo {path!r} {what}: it must hold the authors' TimeMAE files (github.com/Mingyue-Cheng/"
            f"TimeMAE). Get them with: {GET_AUTHORS_CODE.replace('DIR', shlex.quote(path))}; or leave "
            "--authors_repo out to measure our side only."
        )
    return folder.resolve()


def authors_code_sha256(folder: Path) -> str:
    """One hash over the authors' files that pre-training runs, to name the snapshot measured."""
    digest = hashlib.sha256()
    for name in ("model/TimeMAE.py", "model/layers.py", "process.py", "dataset.py", "loss.py", "classification.py"):
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return digest.hexdigest()


def split_sizes(max_windows: int | None, num_train: int, num_validation: int) -> tuple[int, int]:
    """(train, validation) windows whose sum is `max_windows`, in the splits' proportion (both at least 1)."""
    if max_windows is None or max_windows >= num_train + num_validation:
        return num_train, num_validation
    if max_windows < 2:
        raise ValueError(f"--max_windows must be at least 2 (one train and one validation window), got {max_windows}.")
    train = min(max_windows - 1, max(1, round(max_windows * num_train / (num_train + num_validation))))
    return train, max_windows - train


def pretraining_windows(data_dir: str, max_windows: int | None):
    """
    The windows training/pretrain.py --refit trains on (train + validation of UCI HAR 'raw', each cut by its seeded
    `max_*_samples` as the script cuts it), as (past_values (N, 128, 9) float32, labels (N,) int64), and the
    `--max_train_samples` / `--max_eval_samples` arguments that make the script pick exactly these.
    """
    import numpy as np

    from timemae_hf.training import refit_splits
    from training.arguments import DataTrainingArguments
    from training.data_setup import load_splits

    full = load_splits(DataTrainingArguments(dataset_config_name="raw", data_dir=data_dir), seed=SEED)
    num_train, num_validation = split_sizes(max_windows, len(full["train"]), len(full["validation"]))
    data_args = DataTrainingArguments(
        dataset_config_name="raw", data_dir=data_dir, max_train_samples=num_train, max_eval_samples=num_validation
    )
    train = refit_splits(load_splits(data_args, seed=SEED))["train"]
    limits = ["--max_train_samples", str(num_train), "--max_eval_samples", str(num_validation)]
    return np.asarray(train["past_values"], dtype=np.float32), np.asarray(train["labels"], dtype=np.int64), limits


def run_logged(command: list[str], log_path: Path, threads: int, cwd: Path) -> float:
    """Run `command` with its output in `log_path`; its wall seconds. A failure raises with the log's tail."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        env = repository_env(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        completed = subprocess.run(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    if completed.returncode != 0:
        tail = log_path.read_text()[-3000:]
        raise RuntimeError(f"{shlex.join(command[:3])} ... failed (exit {completed.returncode}):\n{tail}")
    return time.perf_counter() - start


def run_authors(authors_repo: Path, windows_file: Path, epochs: int, threads: int, smoke: bool, work: Path) -> dict:
    """One pre-training run of the authors' code in a fresh interpreter; see `time_authors_pretraining`."""
    work.mkdir()
    spec = {
        "authors_repo": str(authors_repo),
        "windows": str(windows_file),
        "epochs": epochs,
        "threads": threads,
        "hyperparameters": {**AUTHORS_DEFAULTS, **(SMOKE_AUTHORS if smoke else {})},
        "save_path": str(work),
        "result": str(work / "result.json"),
    }
    (work / "spec.json").write_text(json.dumps(spec))
    code = "import sys; from benchmarks.speed.authors_speed import time_authors_pretraining as t; t(sys.argv[1])"
    process_s = run_logged([sys.executable, "-c", code, str(work / "spec.json")], work / "log.txt", threads, work)
    result = json.loads((work / "result.json").read_text())
    return {**result, "process_wall_s": round(process_s, 2)}


def time_authors_pretraining(spec_path: str):
    """
    (Runs in the subprocess.) Build the authors' dataset, loader, model and Trainer as their main.py does, time
    `Trainer.pretrain()` for `epochs` epochs, and write windows/s to the spec's result file.
    """
    import random
    import types

    import numpy as np
    import torch

    spec = json.loads(Path(spec_path).read_text())
    torch.set_num_threads(spec["threads"])
    sys.path.insert(0, spec["authors_repo"])
    data = np.load(spec["windows"])
    windows, labels = data["past_values"], data["labels"]
    args = argparse.Namespace(**spec["hyperparameters"])
    args.num_epoch_pretrain = spec["epochs"]
    args.save_path = spec["save_path"]
    args.num_class = len(set(labels.tolist()))
    args.eval_per_steps = max(1, int(len(windows) / args.train_batch_size))  # as their args.py derives it
    args.lr_decay_steps = args.eval_per_steps
    # process.py imports classification.py (the every-5-epochs probe), which runs `from args import args`; their
    # args.py parses this process's command line and loads their .pt files at import, so this namespace stands in.
    sys.modules["args"] = types.ModuleType("args")
    sys.modules["args"].args = args
    from dataset import Dataset
    from model.TimeMAE import TimeMAE
    from process import Trainer

    random.seed(SEED)  # their masks come from `random.shuffle`
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    train_dataset = Dataset(device=args.device, mode="pretrain", data=(windows, labels), wave_len=args.wave_length)
    train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=args.train_batch_size, shuffle=True)
    args.data_shape = train_dataset.shape()
    trainer = Trainer(args, TimeMAE(args), train_loader, None, None, verbose=True)
    cpu_start, start = time.process_time(), time.perf_counter()
    trainer.pretrain()
    wall_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    result = {
        "windows": len(windows),
        "epochs": spec["epochs"],
        "train_wall_s": round(wall_s, 3),
        "train_cpu_s": round(cpu_s, 3),
        "windows_per_second": round(spec["epochs"] * len(windows) / wall_s, 1),
        "torch_threads": torch.get_num_threads(),
    }
    Path(spec["result"]).write_text(json.dumps(result))


def run_ours(
    fast_dropout: str, data_dir: str, limits: list[str], epochs: int, threads: int, smoke: bool, work: Path
) -> dict:
    """One pure training run of training/pretrain.py: har_native.yaml, --refit, nothing evaluated or checkpointed."""
    command = [
        sys.executable,
        "training/pretrain.py",
        "training/configs/har_native.yaml",
        "--data_dir",
        data_dir,
        *limits,
        *REFIT_OVERRIDES,
        "--do_predict",
        "false",
        "--save_strategy",
        "no",
        "--report_to",
        "none",
        "--num_train_epochs",
        str(epochs),
        "--seed",
        str(SEED),
        "--fast_dropout",
        fast_dropout,
        *(SMOKE_OURS if smoke else []),
        "--output_dir",
        str(work),
    ]
    work.mkdir()
    process_s = run_logged(command, work.parent / f"{work.name}.log", threads, REPOSITORY_ROOT)
    metrics = json.loads((work / "train_results.json").read_text())
    return {
        "windows": metrics["train_samples"],
        "epochs": epochs,
        "train_wall_s": round(metrics["train_runtime"], 3),
        "windows_per_second": round(metrics["train_samples_per_second"], 1),
        "process_wall_s": round(process_s, 2),
    }


def load_note(load_before: float, threads: int) -> dict:
    """A warning for the JSON when other work already ran on the cores that `threads` asks for."""
    idle_cores = (os.cpu_count() or 1) - load_before
    if threads <= idle_cores + 0.5:
        return {}
    waits = ", and OpenMP threads waited on descheduled peers" if threads > 1 else ""
    return {
        "load_warning": f"1-minute load average {load_before:.2f} on {os.cpu_count()} cores before the runs: "
        f"fewer idle cores than --threads {threads}, so the runs shared their cores with other work{waits}; "
        "these numbers understate both sides, not necessarily equally: rerun on an idle machine"
        + (" or with --threads 1" if threads > 1 else "")
    }


def main(argv=None):
    started_at = time.time()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--authors_repo",
        default=None,
        help=f"folder with the authors' TimeMAE files; get it with: {GET_AUTHORS_CODE}. "
        "Left out: only our side is measured",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=2,
        help="pre-training epochs per run (1-4: the authors' loop "
        "probes, with a LogisticRegression argument recent scikit-learn refuses, every 5 epochs)",
    )
    parser.add_argument("--repeats", type=int, default=2, help="interleaved rounds (authors, ours, ours-fast)")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch threads of every run (OMP_NUM_THREADS); no more than the idle cores",
    )
    parser.add_argument(
        "--dropout",
        choices=["both", "torch", "fast"],
        default="both",
        help="our runs: with torch's dropout, with --fast_dropout true, or both (the default)",
    )
    parser.add_argument(
        "--max_windows",
        type=int,
        default=None,
        help="cap the 7439 train + validation windows (split in their proportion)",
    )
    parser.add_argument(
        "--data_dir",
        default=None,
        help="UCI HAR zip or folder (default: $TIMEMAE_HAR_PATH, else ../shared/data/UCI HAR Dataset.zip)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny encoders on both sides, 384 windows, 1 epoch, 1 repeat: check the script runs",
    )
    parser.add_argument(
        "--name",
        default="authors_speed",
        help="results file benchmarks/results/<name>.json: give another machine's run its own name "
        "(e.g. authors_speed_2), so that the report shows the ratio as a range over machines",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.epochs <= 4:
        parser.error(f"--epochs must be 1 to 4 (the authors' loop probes at epoch 5), got {args.epochs}.")
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be at least 1.")
    try:
        authors_repo = check_authors_repo(args.authors_repo) if args.authors_repo is not None else None
    except ValueError as error:
        parser.error(str(error))
    if args.smoke:
        args.epochs, args.repeats = 1, 1
        args.max_windows = min(args.max_windows or 384, 384)

    import numpy as np

    from benchmarks.common.results_io import default_har_path

    data_dir = args.data_dir or default_har_path()
    past_values, labels, limits = pretraining_windows(data_dir, args.max_windows)
    ours = [f"ours_{dropout}_dropout" for dropout in (["torch", "fast"] if args.dropout == "both" else [args.dropout])]
    sides = (["authors"] if authors_repo else []) + ours
    runs = {side: [] for side in sides}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="authors_speed_") as tmp:
        windows_file = Path(tmp) / "windows.npz"
        np.savez(windows_file, past_values=past_values, labels=labels)
        for repeat in range(args.repeats):
            for side in sides:
                work = Path(tmp) / f"{side}_{repeat}"
                if side == "authors":
                    run = run_authors(authors_repo, windows_file, args.epochs, args.threads, args.smoke, work)
                else:
                    run = run_ours(OURS_VARIANTS[side], data_dir, limits, args.epochs, args.threads, args.smoke, work)
                if run["windows"] != len(past_values):
                    raise RuntimeError(f"{side} trained on {run['windows']} windows, expected {len(past_values)}.")
                runs[side].append(run)
                print(side, run, flush=True)
    load_after = os.getloadavg()

    median = {
        side: round(statistics.median(r["windows_per_second"] for r in side_runs), 1)
        for side, side_runs in runs.items()
    }
    payload = {
        "data": {
            "source": "UCI HAR official train split, train + validation of timemae_hf's loader (held-out subjects "
            "5, 14, 22, 28 as validation, concatenated back: the official-train windows, as the authors pre-train "
            "on their train + val), raw signals, the same windows on both sides",
            "windows": len(past_values),
            "max_windows": args.max_windows,
            "window_shape": list(past_values.shape[1:]),
            "copy": har_data_note(data_dir),  # which HAR copy: the re-derived one, or another
        },
        "epochs_per_run": args.epochs,
        "repeats": args.repeats,
        "threads": args.threads,
        "batch_size": 128,
        "model": "tiny (smoke): hidden 16, 1 layer, 2 heads, codebook 16, 1 regressor layer"
        if args.smoke
        else "paper's HAR size: hidden 64, 8 layers, 4 heads, feed-forward 256, patch 8, mask 0.6, codebook 192, "
        "4 regressor layers, dropout 0.2",
        "measure": "windows/s = epochs x windows / wall seconds of the whole training loop, first epoch included: "
        "the authors' Trainer.pretrain() call, and Trainer's train_samples_per_second (its epoch loop) for ours; "
        "process_wall_s adds interpreter start, data loading and model building. Median over repeats.",
        "order": f"interleaved {' -> '.join(sides)}, {args.repeats} rounds, each run a fresh subprocess",
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        **load_note(load_before[0], args.threads),
        "windows_per_second_median": median,
        "runs": runs,
        "authors": (
            {
                "run": True,
                "code_sha256": authors_code_sha256(authors_repo),
                "hyperparameters": {**AUTHORS_DEFAULTS, **(SMOKE_AUTHORS if args.smoke else {})},
                "notes": [
                    "their files are used unmodified from --authors_repo on the subprocess's sys.path",
                    "args.py is not imported (it parses sys.argv and loads their .pt files at import); "
                    "classification.py's `from args import args` gets a stand-in module holding a namespace of "
                    "args.py's defaults (num_epoch 0: no fine-tuning)",
                    "only pre-training runs: their every-5-epochs probe is never reached (epochs < 5), so "
                    "classification.fit_lr's LogisticRegression(multi_class='ovr'), which scikit-learn >= 1.8 "
                    "refuses, is never called",
                    f"torch.set_num_threads({args.threads}) in place of their main.py's 12",
                    "their AdamW has no weight_decay argument (torch's default 0.01, equal to args.py's)",
                ],
            }
            if authors_repo
            else {"run": False, "reason": "--authors_repo not given: only our side was measured"}
        ),
        "goal": {
            "ratio_ours_to_authors": GOAL_RATIO,
            "source": "at least twice the authors' pre-training throughput, same machine and threads",
        },
    }
    if authors_repo:
        ratios = {side: round(median[side] / median["authors"], 2) for side in ours}
        payload["ratio_ours_to_authors"] = ratios
        payload["goal_met"] = {side: ratio >= GOAL_RATIO for side, ratio in ratios.items()}
    write_result(STUDY, args.name, payload, started_at, script_command(__file__, argv), smoke=args.smoke)
    return payload


if __name__ == "__main__":
    main()
