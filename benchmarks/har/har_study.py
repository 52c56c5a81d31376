"""What moves HAR accuracy, decided on the validation split only: linear-probe and fine-tuning variants.

    python -m benchmarks.har.har_study                 # the validation-stage encoders of har_refit.py, 3 seeds
    python -m benchmarks.har.har_study --parallel 2 --stages probe finetune refit   # then refit each winner, test once
    python -m benchmarks.har.har_study --smoke         # seconds: a tiny encoder, 2 fine-tuning epochs, one variant
    python -m benchmarks.har.har_study --label_fractions 1.0 --variants 6 --max_epochs 60 --stages finetune refit \\
        --runs_dir benchmarks/runs/har_study_60 --name har_study_60   # a longer cap for a winner that peaked at it

`--encoders` are validation-stage pre-training runs (trained on the train split only, 6103 windows; subjects 5, 14, 22,
28 held out as validation), one per seed of `--seeds` (default: har_refit's selection runs, seeds 3407, 1, 2; each
fine-tuning run uses its encoder's seed). The probe and fine-tuning stages never read the test split: every number is
validation accuracy (mean ± std over the seeds), so the variant that wins is carried to the refit stage without
having been chosen on test.

Probe variants (in process, the authors' probe: standardised one-vs-rest logistic regression): features are the
mean-pooled output of the last layer (the authors' and the package's probe), of the last 2 / 4 / all layers
concatenated, or averaged over all layers; the last layer with weaker or stronger regularisation (C); and the last
layer unpooled, every patch's vector concatenated (position in the window kept).

Fine-tuning variants (training/finetune.py with training/configs/har_finetune.yaml, i.e. the authors' recipe: Adam
lr 1e-3 constant, batch 128), each changing one thing, for each of `--label_fractions` (a stratified, seeded subset of
the labelled windows, the same for every variant of a seed; at most 30 / 100 / 150 epochs for 100 / 10 / 1 %:
MAX_EPOCHS); the validation accuracy of every epoch is read, and a variant is summarised by its best epoch, its last,
and the peak of its mean curve over seeds (which decides). Runs live in --runs_dir and are reused when finished.

Stage `refit` (the second stage of the two-stage protocol, run after the study), per label fraction: the fine-tuning
variant whose mean validation curve peaks highest, with the epoch of that peak as its budget, fine-tunes each seed's
refit encoder (benchmarks/runs/har_refit/refit_pretrain_seed<seed>: pre-trained on train + validation) on the same
fraction of train + validation, and the test split is read once per seed. With stage `probe` too, the probe variant
with the best mean validation accuracy is fit on each refit encoder's train + validation windows and scored on test.
"""

import argparse
import time
from pathlib import Path

from datasets import concatenate_datasets
from transformers import AutoModel

from benchmarks.common.launch import (
    REFIT_OVERRIDES,
    RUNS_DIR,
    fresh_smoke_runs_dir,
    probe_curve,
    repository_relative,
    run_all,
)
from benchmarks.common.results_io import default_har_path, har_data_note, note_run, script_command, write_result
from benchmarks.common.stats import best_mean_epoch, mean_std
from benchmarks.har.protocol import MAX_EPOCHS, PROBE_VARIANTS, SMOKE_DATA, encoded, fit_probe, summarise_variant
from timemae_hf.data import load_har

STUDY = "har_study"  # its results: benchmarks/results/har_study.json


# name -> arguments added to training/configs/har_finetune.yaml
FINETUNE_VARIANTS = {
    "authors' recipe (Adam 1e-3 constant; har_finetune.yaml as is)": [],
    "lr 3e-4, cosine, 10 % warm-up": [
        "--learning_rate",
        "3e-4",
        "--lr_scheduler_type",
        "cosine",
        "--warmup_steps",
        "0.1",
    ],
    "label smoothing 0.1": ["--label_smoothing_factor", "0.1"],
    "layer-wise lr decay 0.75": ["--layerwise_lr_decay", "0.75"],
    "augmentations: jitter + scaling": ["--augmentations", "jitter", "scaling"],
    "augmentations: time warp": ["--augmentations", "time_warp"],
    "augmentations: jitter + scaling + time warp": ["--augmentations", "jitter", "scaling", "time_warp"],
}


def probe_study(encoder_dirs: list[str], splits) -> dict:
    accuracies = {name: [] for name in PROBE_VARIANTS}
    for encoder_dir in encoder_dirs:
        encoder = AutoModel.from_pretrained(encoder_dir).eval()
        train, validation = encoded(encoder, splits["train"]), encoded(encoder, splits["validation"])
        for name in PROBE_VARIANTS:
            accuracies[name].append(fit_probe(name, train, {"validation": validation})["validation"]["accuracy"])
            print(f"probe {name} ({encoder_dir}): validation accuracy {accuracies[name][-1]:.4f}", flush=True)
    return {name: mean_std(values) for name, values in accuracies.items()}


def probe_refit_stage(study: dict, encoders: list, splits) -> dict:
    """The probe variant that won on validation, fit on each refit encoder's train + validation windows; test once."""
    # max() keeps the first of equal means: ties go to the variant listed first (the authors' probe).
    variant = max(study, key=lambda name: study[name]["mean"])
    train_split = concatenate_datasets([splits["train"], splits["validation"]])
    tests = []
    for encoder_dir in encoders:
        encoder = AutoModel.from_pretrained(encoder_dir).eval()
        test = encoded(encoder, splits["test"])
        tests.append(fit_probe(variant, encoded(encoder, train_split), {"test": test})["test"])
    return {
        "variant": variant,
        "chosen_by": "the highest mean validation accuracy over seeds",
        "encoders": [repository_relative(encoder) for encoder in encoders],
        "train_windows": len(train_split),
        "test_accuracy_percent": mean_std([test["accuracy"] for test in tests]),
        "test_macro_f1_percent": mean_std([test["macro_f1"] for test in tests]),
    }


def study_folder(runs_dir: Path, fraction: float, variant: str, seed: int, stage: str = "finetune") -> Path:
    return runs_dir / f"{stage}_{fraction}_{list(FINETUNE_VARIANTS).index(variant)}_seed{seed}"


def finetune_study(args, runs_dir: Path) -> dict:
    """{label fraction: {variant: validation summary}}, every variant of every fraction trained side by side."""
    variants = {name: FINETUNE_VARIANTS[name] for name in args.variants}
    # The test split is never evaluated here: --do_predict false.
    common = [
        "training/configs/har_finetune.yaml",
        "--data_dir",
        args.data_dir,
        "--do_predict",
        "false",
        *(SMOKE_DATA if args.smoke else []),
    ]
    jobs = [
        (
            "finetune.py",
            [
                *common,
                "--model_name_or_path",
                encoder,
                "--seed",
                str(seed),
                "--label_fraction",
                str(fraction),
                "--num_train_epochs",
                str(max_epochs(args, fraction)),
                *extra,
            ],
            study_folder(runs_dir, fraction, name, seed),
            "eval_results.json",
        )
        for fraction in args.label_fractions
        for name, extra in variants.items()
        for encoder, seed in zip(args.encoders, args.seeds)
    ]
    run_all(jobs, args.parallel)
    return {
        str(fraction): {
            name: summarise_variant(extra, [study_folder(runs_dir, fraction, name, seed) for seed in args.seeds])
            for name, extra in variants.items()
        }
        for fraction in args.label_fractions
    }


def max_epochs(args, fraction: float) -> int:
    return 2 if args.smoke else args.max_epochs or MAX_EPOCHS[fraction]


def refit_encoders(args) -> list:
    """Encoders pre-trained on train + validation, one per seed (--refit_encoders, or har_refit's)."""
    return args.refit_encoders or [RUNS_DIR / "har_refit" / f"refit_pretrain_seed{seed}" for seed in args.seeds]


def refit_stage(study: dict, fraction: float, args, runs_dir: Path) -> dict:
    """Fine-tune the refit encoders with the variant that won on validation, for its chosen epochs; test once."""
    # max() keeps the first of equal peaks: ties go to the variant listed first in FINETUNE_VARIANTS.
    name = max(study, key=lambda variant: max(score for _, score in study[variant]["mean_validation_curve"]))
    curves = [probe_curve(study_folder(runs_dir, fraction, name, seed), "eval_accuracy") for seed in args.seeds]
    epochs = best_mean_epoch(curves)
    arguments = [
        "training/configs/har_finetune.yaml",
        "--data_dir",
        args.data_dir,
        *FINETUNE_VARIANTS[name],
        *REFIT_OVERRIDES,
        "--do_predict",
        "true",
        "--num_train_epochs",
        str(epochs),
        "--label_fraction",
        str(fraction),
        *(SMOKE_DATA if args.smoke else []),
    ]
    encoders = refit_encoders(args)
    jobs = [
        (
            "finetune.py",
            [*arguments, "--model_name_or_path", repository_relative(encoder), "--seed", str(seed)],
            study_folder(runs_dir, fraction, name, seed, stage="refit_finetune"),
            "test_results.json",
        )
        for encoder, seed in zip(encoders, args.seeds)
    ]
    tests = run_all(jobs, args.parallel)
    return {
        "variant": name,
        "chosen_by": "the highest mean validation accuracy over seeds of any epoch of any variant",
        "num_train_epochs": epochs,
        "encoders": [repository_relative(encoder) for encoder in encoders],
        "test_accuracy_percent": mean_std([test["test_accuracy"] for test in tests]),
        "test_macro_f1_percent": mean_std([test["test_macro_f1"] for test in tests]),
    }


def main(argv=None):
    started_at = time.time()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[3407, 1, 2], help="one per encoder")
    parser.add_argument(
        "--encoders",
        nargs="+",
        default=None,
        help="validation-stage pre-training output folders (train split only), one per seed; default: "
        "benchmarks/runs/har_refit/selection_pretrain_seed<seed> (python -m benchmarks.har.har_refit "
        "--stages selection)",
    )
    parser.add_argument("--data_dir", default=default_har_path(), help="UCI HAR zip or folder ($TIMEMAE_HAR_PATH)")
    parser.add_argument("--runs_dir", default=str(RUNS_DIR / "har_study"), help="where fine-tuning runs go")
    parser.add_argument("--parallel", type=int, default=2, help="fine-tuning runs side by side")
    parser.add_argument(
        "--label_fractions",
        type=float,
        nargs="+",
        default=[1.0, 0.01],
        choices=list(MAX_EPOCHS),
        help="fractions of the labelled windows the fine-tuning study (and its refit) is run with",
    )
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=["probe", "finetune", "refit"],
        default=["probe", "finetune"],
        help="'refit' (after 'finetune'): the winning fine-tuning variant on the refit encoders, test once",
    )
    parser.add_argument(
        "--refit_encoders",
        nargs="+",
        default=None,
        help="refit-stage encoders (train + validation), one per seed; default: "
        "benchmarks/runs/har_refit/refit_pretrain_seed<seed>",
    )
    parser.add_argument(
        "--variants",
        type=int,
        nargs="+",
        default=None,
        choices=range(len(FINETUNE_VARIANTS)),
        metavar="INDEX",
        help="fine-tuning variants to run (default: all; the refit stage chooses among these): "
        + "; ".join(f"{index} {name}".replace("%", "%%") for index, name in enumerate(FINETUNE_VARIANTS)),
    )
    parser.add_argument(
        "--max_epochs",
        type=int,
        default=None,
        help="fine-tuning epochs of every run, instead of MAX_EPOCHS per label fraction: a longer cap "
        "where the study's winner peaked at its cap (give another --runs_dir and --name)",
    )
    parser.add_argument("--name", default="har_study", help="run name in benchmarks/results/har_study.json")
    parser.add_argument("--smoke", action="store_true", help="a tiny random encoder, 2 epochs, one variant, one seed")
    args = parser.parse_args(argv)

    runs_dir = fresh_smoke_runs_dir(args.runs_dir) if args.smoke else Path(args.runs_dir)
    if args.smoke:
        from timemae_hf import TimeMAEConfig, TimeMAEModel

        args.seeds, args.label_fractions, args.variants = args.seeds[:1], args.label_fractions[:1], [0]
        args.encoders = [repository_relative(runs_dir / "tiny_encoder")]
        TimeMAEModel(
            TimeMAEConfig(
                hidden_size=16,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=32,
                num_input_channels=9,
                context_length=128,
            )
        ).save_pretrained(args.encoders[0])
    args.variants = [list(FINETUNE_VARIANTS)[index] for index in (args.variants or range(len(FINETUNE_VARIANTS)))]
    args.encoders = args.encoders or [
        repository_relative(RUNS_DIR / "har_refit" / f"selection_pretrain_seed{seed}") for seed in args.seeds
    ]
    if len(args.encoders) != len(args.seeds):
        parser.error(f"--encoders ({len(args.encoders)}) and --seeds ({len(args.seeds)}) must pair up one to one.")
    missing = [encoder for encoder in args.encoders if not (Path(encoder) / "config.json").is_file()]
    if missing:
        parser.error(
            f"{missing} hold no checkpoint (config.json): give validation-stage pre-training runs (train "
            "split only), e.g. from `python -m benchmarks.har.har_refit --stages selection`."
        )
    for encoder in [*args.encoders, *(refit_encoders(args) if "refit" in args.stages else [])]:
        note_run(encoder)  # the encoders' own provenance goes into the results beside the fine-tuning runs'
    splits = load_har(data_dir=args.data_dir)
    if args.smoke:
        splits = {name: splits[name].select(range(256)) for name in ("train", "validation", "test")}
    payload = {
        "encoders": dict(zip(map(str, args.seeds), map(repository_relative, args.encoders))),
        "selection_split": "validation (train subjects 5, 14, 22, 28); the test split is read only by the refit stage, "
        "once per seed",
        "validation_windows": len(splits["validation"]),
    }
    if "probe" in args.stages:
        payload["probe_validation_accuracy_percent"] = probe_study(args.encoders, splits)
    if "finetune" in args.stages or "refit" in args.stages:
        payload["finetune"] = finetune_study(args, runs_dir)
    if "refit" in args.stages:
        if args.smoke:
            args.refit_encoders = args.encoders  # stands in for a refit encoder
        payload["refit"] = {
            str(fraction): refit_stage(payload["finetune"][str(fraction)], fraction, args, runs_dir)
            for fraction in args.label_fractions
        }
        if "probe" in args.stages:
            payload["probe_refit"] = probe_refit_stage(
                payload["probe_validation_accuracy_percent"], refit_encoders(args), splits
            )
    if args.max_epochs:
        payload["max_epochs"] = args.max_epochs
    payload["data_note"] = har_data_note(args.data_dir)  # which HAR copy: the re-derived one, or another
    write_result(STUDY, args.name, payload, started_at, script_command(__file__, argv), smoke=args.smoke)


if __name__ == "__main__":
    main()
