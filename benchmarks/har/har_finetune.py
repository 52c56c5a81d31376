"""Fine-tune the reproduction's pre-trained TimeMAE encoders on HAR with all, 10 % and 1 % of the labels.

    python -m benchmarks.har.har_finetune                 # needs benchmarks/har/har_reproduction.py's runs first
    python -m benchmarks.har.har_finetune --init scratch  # the same fine-tuning from a random encoder, for comparison
    python -m benchmarks.har.har_finetune --smoke         # seconds: tiny model, 1 seed, 1 fraction

For every seed of benchmarks/runs/har_reproduction/seed<N> (the validation-selected pre-training checkpoint) and
every label fraction, runs `training/finetune.py training/configs/har_finetune.yaml` (Adam-style AdamW lr 1e-3 without
weight decay, batch 128, constant LR, as the authors' fine-tuning) on a stratified, seeded subset of the train split;
the epoch is selected on the validation split and the selected model is evaluated once on test. Fewer labels means
fewer steps per epoch, so smaller fractions get more epochs (--epochs_per_fraction). Reported: mean +- sample std
over seeds of test accuracy and macro-F1 per fraction. Published anchors (all labels): TimeMAE 92.04, SimMTM 92.00,
TimeDART 92.47; goals: >= 96 % with all labels, >= 85 % with 1 %.
"""

import argparse
import shutil
import time
from pathlib import Path

from benchmarks.common.launch import RUNS_DIR, SMOKE_MODEL, fresh_smoke_runs_dir, repository_relative, run_training
from benchmarks.common.results_io import default_har_path, figure_file, har_data_note, script_command, write_result
from benchmarks.common.stats import mean_std
from benchmarks.har.protocol import DEFAULT_EPOCHS, SMOKE_DATA

STUDY = "har_finetune"  # its results: benchmarks/results/har_finetune.json


def main(argv=None):
    started_at = time.time()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[3407, 1, 2], help="reproduction seeds to fine-tune")
    parser.add_argument("--label_fractions", type=float, nargs="+", default=[1.0, 0.1, 0.01])
    parser.add_argument(
        "--epochs_per_fraction",
        type=float,
        nargs="+",
        default=None,
        help=f"epochs for each label fraction, in order (default {DEFAULT_EPOCHS})",
    )
    parser.add_argument(
        "--init",
        choices=["pretrained", "scratch"],
        default="pretrained",
        help="start from the reproduction checkpoints or from a random native-size encoder",
    )
    parser.add_argument(
        "--pretrained_runs_dir",
        default=None,
        help="default: benchmarks/runs/har_reproduction (its _smoke twin with --smoke)",
    )
    parser.add_argument("--runs_dir", default=None, help="default: benchmarks/runs/har_finetune_<init>")
    parser.add_argument("--data_dir", default=default_har_path(), help="UCI HAR zip or folder ($TIMEMAE_HAR_PATH)")
    parser.add_argument(
        "--name", default=None, help="run name in benchmarks/results/har_finetune.json (default: har_finetune_<init>)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny model, 1 seed, 1 fraction, 2 epochs")
    args = parser.parse_args(argv)

    epochs = dict(zip(args.label_fractions, args.epochs_per_fraction)) if args.epochs_per_fraction else DEFAULT_EPOCHS
    runs_dir = Path(args.runs_dir or RUNS_DIR / f"har_finetune_{args.init}")
    runs_dir = fresh_smoke_runs_dir(runs_dir) if args.smoke else runs_dir
    args.pretrained_runs_dir = args.pretrained_runs_dir or str(
        RUNS_DIR / f"har_reproduction{'_smoke' if args.smoke else ''}"
    )
    extra = []
    if args.smoke:
        args.seeds, args.label_fractions, epochs = (
            args.seeds[:1],
            args.label_fractions[:1],
            {args.label_fractions[0]: 2},
        )
        extra = SMOKE_DATA + (SMOKE_MODEL if args.init == "scratch" else [])

    results = {}
    for fraction in args.label_fractions:
        per_seed = {}
        for seed in args.seeds:
            if args.init == "pretrained":
                model_arguments = ["--model_name_or_path", str(Path(args.pretrained_runs_dir) / f"seed{seed}")]
            else:
                model_arguments = ["--model_name_or_path", ""]
            test = run_training(
                "finetune.py",
                [
                    "training/configs/har_finetune.yaml",
                    "--data_dir",
                    args.data_dir,
                    *model_arguments,
                    "--label_fraction",
                    str(fraction),
                    "--num_train_epochs",
                    str(epochs[fraction]),
                    "--seed",
                    str(seed),
                    *extra,
                ],
                runs_dir / f"fraction{fraction}_seed{seed}",
                "test_results.json",
            )
            per_seed[seed] = {"test_accuracy": test["test_accuracy"], "test_macro_f1": test["test_macro_f1"]}
            print(f"fraction {fraction} seed {seed}: {test['test_accuracy']:.4f}", flush=True)
        results[str(fraction)] = {
            "num_train_epochs": epochs[fraction],
            "test_accuracy_percent": mean_std([r["test_accuracy"] for r in per_seed.values()]),
            "test_macro_f1_percent": mean_std([r["test_macro_f1"] for r in per_seed.values()]),
            "per_seed": per_seed,
        }

    payload = {
        "init": args.init,
        "pretrained_from": repository_relative(args.pretrained_runs_dir) if args.init == "pretrained" else None,
        "seeds": args.seeds,
        "selection": "fine-tuning epoch with the best validation accuracy (held-out train subjects)",
        "label_fractions": results,
        "reference": {
            "TimeMAE_paper": 92.04,
            "SimMTM": 92.00,
            "TimeDART": 92.47,
            "goal_all_labels": 96.0,
            "goal_1_percent": 85.0,
        },
    }
    name = args.name or f"har_finetune_{args.init}"
    # The README's confusion matrix: the first seed with the most labels (the PNG names its finetune.py command).
    first_run = runs_dir / f"fraction{max(args.label_fractions)}_seed{args.seeds[0]}"
    confusion_png = figure_file(STUDY, name, "_confusion_matrix", args.smoke)
    shutil.copyfile(first_run / "confusion_matrix.png", confusion_png)
    payload["confusion_matrix_png"] = repository_relative(confusion_png)
    payload["data_note"] = har_data_note(args.data_dir)  # which HAR copy: the re-derived one, or another
    write_result(STUDY, name, payload, started_at, script_command(__file__, argv), smoke=args.smoke)


if __name__ == "__main__":
    main()
