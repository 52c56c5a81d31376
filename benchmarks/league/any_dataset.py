"""TimeMAE on public multivariate sets other than HAR, through the README's own commands, 3 seeds.

    pip install --no-deps aeon==1.6.0             # ships the data files (see benchmarks/league/any_dataset_data.py)
    python -m benchmarks.league.any_dataset              # BasicMotions and JapaneseVowels, seeds 3407 1 2
    python -m benchmarks.league.any_dataset --smoke      # seconds: tiny model, few steps, 1 seed, BasicMotions

For each set and seed, exactly what a user with a train and a test `.ts` file runs (no code):
  1. `training/pretrain.py training/configs/pretrain_default.yaml --train_file X_TRAIN.ts --test_file X_TEST.ts`:
     TimeMAE pre-training on the train windows (20 % of them carved as a stratified, seeded validation split that
     picks the checkpoint by its linear probe); the probe of that checkpoint on test = "probe after TimeMAE";
  2. the same command with `--do_train false`: the probe of the randomly initialised encoder ("probe at init");
  3. `training/finetune.py training/configs/finetune_default.yaml --model_name_or_path <1>`: fine-tuning, the
     checkpoint picked on the validation split, test once ("fine-tune from TimeMAE");
  4. the same from a random encoder of the same size and input standardisation ("fine-tune from scratch").
Reported: mean +- sample std over seeds of test accuracy, beside published accuracies of other methods on the same
train/test cases. Runs live in benchmarks/runs/any_dataset and are reused when finished.
"""

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common.launch import RUNS_DIR, SMOKE_MODEL, fresh_smoke_runs_dir, run_training
from benchmarks.common.results_io import script_command, write_result
from benchmarks.common.stats import mean_std
from benchmarks.league.any_dataset_data import (
    AEON_VERSION,
    BENCHMARK_DATASET_NAMES,
    PUBLISHED_ACCURACY,
    benchmark_data_files,
)

STUDY = "any_dataset"  # its results: benchmarks/results/any_dataset.json

SMOKE_PRETRAINING = [
    *SMOKE_MODEL,
    "--codebook_size",
    "16",
    "--num_regressor_layers",
    "1",
    "--min_train_steps",
    "4",
    "--num_train_epochs",
    "1",
]
SMOKE_FINETUNING = ["--min_train_steps", "4", "--num_train_epochs", "1"]
COLUMNS = ("probe_at_init", "probe_after_timemae", "finetune_from_timemae", "finetune_from_scratch")


def runs_of_one_seed(name: str, seed: int, runs_dir: Path, smoke: bool) -> dict[str, float]:
    """The four runs of one set and seed (module docstring), in order; test accuracy of each."""
    files = benchmark_data_files(name)
    data = ["--train_file", files["train"], "--test_file", files["test"], "--seed", str(seed)]
    folder = runs_dir / name
    pretrain = ["training/configs/pretrain_default.yaml", *data, *(SMOKE_PRETRAINING if smoke else [])]
    finetune = ["training/configs/finetune_default.yaml", *data, *(SMOKE_FINETUNING if smoke else [])]
    pretrained = folder / f"pretrain_seed{seed}"
    after = run_training("pretrain.py", pretrain, pretrained, "test_results.json")
    at_init = run_training(
        "pretrain.py", [*pretrain, "--do_train", "false"], folder / f"probe_at_init_seed{seed}", "test_results.json"
    )
    from_timemae = run_training(
        "finetune.py",
        [*finetune, "--model_name_or_path", str(pretrained)],
        folder / f"finetune_seed{seed}",
        "test_results.json",
    )
    scratch_model = ["--model_name_or_path", "", "--normalize_channels", "true", *(SMOKE_MODEL if smoke else [])]
    from_scratch = run_training(
        "finetune.py", [*finetune, *scratch_model], folder / f"scratch_seed{seed}", "test_results.json"
    )
    scores = dict(
        zip(
            COLUMNS,
            (
                at_init["test_probe_accuracy"],
                after["test_probe_accuracy"],
                from_timemae["test_accuracy"],
                from_scratch["test_accuracy"],
            ),
        )
    )
    print(f"{name} seed {seed}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()), flush=True)
    return scores


def main(argv=None):
    started_at = time.time()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(BENCHMARK_DATASET_NAMES), choices=BENCHMARK_DATASET_NAMES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[3407, 1, 2])
    parser.add_argument("--runs_dir", default=str(RUNS_DIR / "any_dataset"), help="where runs and checkpoints go")
    parser.add_argument("--parallel", type=int, default=1, help="(set, seed) pairs to run side by side")
    parser.add_argument("--name", default="any_dataset", help="run name in benchmarks/results/any_dataset.json")
    parser.add_argument("--smoke", action="store_true", help="tiny model, a few steps, 1 seed, BasicMotions")
    args = parser.parse_args(argv)

    runs_dir = fresh_smoke_runs_dir(args.runs_dir) if args.smoke else Path(args.runs_dir)
    if args.smoke:
        args.datasets, args.seeds = args.datasets[:1], args.seeds[:1]
    pairs = [(name, seed) for name in args.datasets for seed in args.seeds]
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        scores = dict(zip(pairs, pool.map(lambda pair: runs_of_one_seed(*pair, runs_dir, args.smoke), pairs)))

    results = {
        name: {
            **{column: mean_std([scores[(name, seed)][column] for seed in args.seeds]) for column in COLUMNS},
            "published_test_accuracy_percent": {
                method: round(100 * accuracy, 1)
                for method, accuracy in PUBLISHED_ACCURACY["accuracy"].get(name, {}).items()
            },
        }
        for name in args.datasets
    }
    payload = {
        "datasets": args.datasets,
        "data": f"aeon {AEON_VERSION}'s .ts files (UEA archive train/test cases)",
        "seeds": args.seeds,
        "commands": "training/pretrain.py training/configs/pretrain_default.yaml and training/finetune.py "
        "training/configs/finetune_default.yaml with --train_file/--test_file (module docstring)",
        "selection": "checkpoints picked on a stratified 20 % validation split carved from train (seed 42)",
        "test_accuracy_percent": results,
        "published_source": PUBLISHED_ACCURACY["source"],
    }
    write_result(STUDY, args.name, payload, started_at, script_command(__file__, argv), smoke=args.smoke)


if __name__ == "__main__":
    main()
