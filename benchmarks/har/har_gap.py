"""Can TimeMAE itself close the HAR gap to MiniRocket? One variant per lever against the baseline, decided
on the validation split only; the test split is read by a separate final stage, once per seed, for the variant that
validation chose.

    python -m benchmarks.har.har_gap                          # the study: every variant, 3 seeds (validation only)
    python -m benchmarks.har.har_gap --variants baseline small_patches --parallel 2   # some variants (resumable)
    python -m benchmarks.har.har_gap --stages final           # after the study: refit the chosen variant, test once
    python -m benchmarks.har.har_gap --stages estimate        # time each variant's steps at full size: the study's cost
    python -m benchmarks.har.har_gap --stages reference       # MiniRocket on the study's label subsets (validation)
    python -m benchmarks.har.har_gap --smoke                  # a minute or two: tiny encoders, 1 seed, every stage

Variants (VARIANTS): the baseline is training/configs/har_native.yaml as it is; every other variant changes one thing:
smaller patches, per-window scaling (RevIN) with and without its statistics as features, or more unlabelled data (the
HAPT recordings' windows outside the HAR activity segments, benchmarks/har/hapt.py). Three more levers ran in the
recorded study, at commit 9055664, and lost on validation, so their options left the model: a conv patch embedding
(`conv_stem`, a multi-scale dilated stem), overlapping patches (`overlapping_patches`, 16 steps every 8) and an added
spectral loss (`spectral_loss`); their rows stay in benchmarks/results/har_gap.json, and that commit reruns them.
A model lever is a config option, so each variant's new model is built and saved here, untrained, and
training/pretrain.py starts from it (`--model_name_or_path`): the training scripts take no lever options of their own.

Study (validation split = train subjects 5, 14, 22, 28, as benchmarks/har/har_study.py): per variant and seed, pre-train
on the train split for `--pretrain_epochs` (har_native's 100) and keep the last epoch (every variant alike: the
extra-data variant's corpus is unlabelled, so it has no in-loop probe to select by); linear-probe it (the authors'
probe, fit on the train split, scored on validation); fine-tune it with training/configs/har_finetune.yaml on 1 %,
10 % and 100 % of the train labels (stratified, seeded; at most har_study's MAX_EPOCHS) and read the validation
accuracy every epoch. Runs live in --runs_dir and are reused when finished (interrupted ones resume);
benchmarks/results/har_gap.json is rewritten as each variant completes.

Selection (declared before any result): the variant whose fine-tuning validation curves (mean over seeds) peak
highest on average over the three label fractions; ties go to the variant listed first (the baseline).

Round 2 (declared before any lever's result was known): once every lever has run, the levers whose score beats the
baseline's by more than COMBINATION_MARGIN points run once more together, as one variant named by its parts
('small_patches+window_scaling'); of levers that set the same option, only the higher-scoring one joins. It needs two
such levers, and it competes under the same selection rule (listed after the levers, so it loses ties).

Reference (`--stages reference`, in the default stages; needs aeon with numba, `pip install -e '.[bench]'`): aeon's
MiniRocket with the league's defaults, fit per fraction and seed on exactly the windows that fine-tuning gets
(`stratified_subset` of the train split, seeded alike) and scored on the same validation split, so each lever's
numbers sit beside the gap they are meant to close where the levers are chosen. Written to <name>_reference.json.

Final stage (`--stages final`, read from har_gap.json): the chosen variant is pre-trained on train + validation
(all 21 official-train subjects; with extra data, their HAPT windows too) for the same epochs, probed (fit on all
7439 labelled train windows) and fine-tuned per fraction for the epochs where its mean validation curve peaked; the
test split is read once per seed and every read goes into benchmarks/results/test_reads.json.
"""

import argparse
import json
import math
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml
from datasets import DatasetDict, concatenate_datasets
from transformers import AutoModel, set_seed

from benchmarks.common.launch import (
    REFIT_OVERRIDES,
    REPOSITORY_ROOT,
    RUNS_DIR,
    fresh_smoke_runs_dir,
    probe_curve,
    repository_relative,
    run_in_order,
)
from benchmarks.common.ledger import record_test_read
from benchmarks.common.results_io import (
    RESULTS_DIR,
    default_har_path,
    har_data_note,
    read_result,
    script_command,
    study_file,
    write_result,
)
from benchmarks.common.stats import best_mean_epoch, mean_curve, mean_std
from benchmarks.har.protocol import MAX_EPOCHS, SMOKE_DATA, encoded, fit_probe, summarise_variant
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEForSequenceClassification
from timemae_hf.data import (
    HAR_ACTIVITIES,
    HAR_CHANNELS,
    HAR_WINDOW_LENGTH,
    compute_channel_statistics,
    load_har,
)
from timemae_hf.training import classification_metrics, label_config, stratified_subset
from training.arguments import ARCHITECTURE_FIELDS

STUDY = "har_gap"  # its results: benchmarks/results/har_gap.json

NATIVE_CONFIG = REPOSITORY_ROOT / "training" / "configs" / "har_native.yaml"
FINETUNE_CONFIG = "training/configs/har_finetune.yaml"
PROBE = "last_layer (authors')"  # benchmarks/har/har_study.py's PROBE_VARIANTS entry
LABEL_FRACTIONS = (0.01, 0.1, 1.0)
TARGETS = {1.0: "har_finetune_refit_100pct", 0.1: "har_finetune_refit_10pct", 0.01: "har_finetune_refit_1pct"}
PROBE_TARGET = "har_probe_refit"
# The study's goals for the final read (test accuracy %, mean of the seeds): half of each gap to MiniRocket.
GOALS = {1.0: 95.8, 0.1: 94.3, 0.01: 90.0}
SELECTION_RULE = (
    "the variant whose mean (over seeds) fine-tuning validation curve peaks highest on average over the label "
    "fractions; ties go to the variant listed first"
)
# Round 2 takes the levers that beat the baseline's score by more than this many points: about the seed-to-seed spread
# of the all-labels validation accuracy, so that noise alone rarely qualifies a lever.
COMBINATION_MARGIN = 0.5
# --smoke: a tiny encoder (the same for every variant), few windows, one epoch of pre-training, two of fine-tuning.
SMOKE_MODEL = {
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "codebook_size": 16,
    "num_regressor_layers": 1,
}
SMOKE_VARIANTS = ["baseline", "window_scaling_with_statistics"]
SMOKE_PRETRAIN = [
    "--probe_every_n_epochs",
    "1",
    "--max_train_samples",
    "256",
    "--max_eval_samples",
    "128",
    "--per_device_train_batch_size",
    "64",
    "--logging_steps",
    "2",
]


@dataclass
class Variant:
    """One lever: TimeMAEConfig values over har_native.yaml's, and whether HAPT windows join the pre-training data."""

    description: str
    config: dict = field(default_factory=dict)
    extra_windows: bool = False


VARIANTS = {
    "baseline": Variant("training/configs/har_native.yaml as it is: linear patches of 8 steps, dataset statistics"),
    "small_patches": Variant(
        "patches of 4 steps (32 patches): a finer grid for the stride of a walking step",
        {"patch_length": 4},
    ),
    "window_scaling": Variant(
        "each window-channel standardised by its own statistics (RevIN, PatchTST's 'std')", {"scaling": "std"}
    ),
    "window_scaling_with_statistics": Variant(
        "window scaling, its mean and log std added back as a feature",
        {"scaling": "std", "window_statistics_as_features": True},
    ),
    "hapt_extra_windows": Variant(
        "the train subjects' HAPT windows outside the HAR activity segments join the (unlabelled) pre-training data",
        extra_windows=True,
    ),
}


def variant(name: str) -> Variant:
    """The lever `name` of VARIANTS, or round 2's combination of levers, named by its parts joined with '+'."""
    if name in VARIANTS:
        return VARIANTS[name]
    parts = [VARIANTS[part] for part in name.split("+")]
    return Variant(
        "together: " + "; ".join(part.description for part in parts),
        {key: value for part in parts for key, value in part.config.items()},
        any(part.extra_windows for part in parts),
    )


def still_to_run(variants: dict, names=tuple(VARIANTS)) -> list[str]:
    """The variants among `names` with no results in `variants` yet, and round 2's combination once it is due."""
    waiting = [name for name in names if name not in variants]
    combined = combination(variants)
    return waiting + ([combined] if combined and combined not in variants else [])


def combination(variants: dict) -> str | None:
    """Round 2's variant from the levers' validation results (`variants`: name -> results), or None: before every lever
    has run, or when fewer than two beat the baseline by more than COMBINATION_MARGIN points. Of levers that set the
    same option, the higher-scoring one (the one listed first on ties) is kept."""
    if not set(VARIANTS) <= set(variants):
        return None
    bar = variants["baseline"]["selection_score"] + COMBINATION_MARGIN
    better = sorted(
        (name for name in VARIANTS if name != "baseline" and variants[name]["selection_score"] > bar),
        key=lambda name: -variants[name]["selection_score"],
    )
    kept = []
    for name in better:
        if not any(set(VARIANTS[name].config) & set(VARIANTS[other].config) for other in kept):
            kept.append(name)
    return "+".join(sorted(kept, key=list(VARIANTS).index)) if len(kept) >= 2 else None


def native_model_fields() -> dict:
    """har_native.yaml's TimeMAEConfig values (architecture and pre-training behaviour)."""
    native = yaml.safe_load(NATIVE_CONFIG.read_text())
    config_fields = TimeMAEConfig().to_dict()
    return {name: value for name, value in native.items() if name in config_fields}


def variant_config(variant: Variant, smoke: bool, **values) -> TimeMAEConfig:
    """har_native.yaml's model (the smoke's tiny one with --smoke) for HAR windows, with the variant's options."""
    values = {**native_model_fields(), **(SMOKE_MODEL if smoke else {}), **variant.config, **values}
    return TimeMAEConfig(context_length=HAR_WINDOW_LENGTH, num_input_channels=len(HAR_CHANNELS), **values)


# --- data -------------------------------------------------------------------------------------------------------------


def har_splits(data_dir: str, smoke: bool) -> DatasetDict:
    splits = load_har(data_dir=data_dir)
    if smoke:
        splits = DatasetDict({name: splits[name].select(range(256)) for name in ("train", "validation", "test")})
    return splits


def extra_windows_corpus(folder: Path, splits: DatasetDict, refit: bool, smoke: bool) -> Path:
    """
    A saved `datasets` folder for pre-training with extra data: train = the HAR train windows and the HAPT windows of
    the same subjects (refit: of all 21 official-train subjects), unlabelled; validation = the HAR validation windows.
    Written once; training/pretrain.py reads it with --dataset_name.
    """
    from benchmarks.har.hapt import HAR_TRAIN_SUBJECTS, hapt_pretraining_windows

    if (folder / "dataset_dict.json").exists():
        return folder
    train_subjects = sorted(set(splits["train"]["subject"]))
    subjects = HAR_TRAIN_SUBJECTS if refit else train_subjects
    if smoke:
        subjects = subjects[:1]
    extra = hapt_pretraining_windows(subjects)
    # An unlabelled train split makes the whole corpus unlabelled when it is loaded (validation's labels are dropped).
    train = concatenate_datasets([splits["train"].remove_columns("labels"), extra])
    DatasetDict({"train": train, "validation": splits["validation"]}).save_to_disk(str(folder))
    return folder


def pretraining_corpus(variant: Variant, splits: DatasetDict, runs_dir: Path, refit: bool, smoke: bool):
    """(what pre-training reads as its train split, the pretrain.py data arguments) for `variant`."""
    if not variant.extra_windows:
        train = concatenate_datasets([splits["train"], splits["validation"]]) if refit else splits["train"]
        return train, []
    folder = extra_windows_corpus(runs_dir / f"corpus_hapt_{'refit' if refit else 'validation'}", splits, refit, smoke)
    corpus = DatasetDict.load_from_disk(str(folder))
    train = corpus["train"]
    if refit:
        train = concatenate_datasets([train, corpus["validation"].remove_columns("labels")])
    return train, ["--dataset_name", repository_relative(folder), "--dataset_config_name", ""]


# --- runs -------------------------------------------------------------------------------------------------------------


def initial_checkpoint(folder: Path, variant: Variant, seed: int, corpus, smoke: bool) -> TimeMAEConfig:
    """Save `variant`'s new, untrained model (seeded; channel statistics of its pre-training corpus) into `folder`,
    unless it is there already. Returns its config."""
    if (folder / "config.json").exists():
        return TimeMAEConfig.from_pretrained(folder)
    config = variant_config(variant, smoke, **compute_channel_statistics(corpus), **label_config(list(HAR_ACTIVITIES)))
    set_seed(seed)
    TimeMAEForPreTraining(config).save_pretrained(folder)
    return config


def pretraining_job(name: str, seed: int, args, splits, runs_dir: Path, refit: bool = False) -> tuple:
    chosen = variant(name)
    stage = "refit" if refit else "validation"
    corpus, data_arguments = pretraining_corpus(chosen, splits, runs_dir, refit, args.smoke)
    init = runs_dir / f"{stage}_init_{name}_seed{seed}"
    config = initial_checkpoint(init, chosen, seed, corpus, args.smoke)
    # har_native.yaml's shape arguments, given the init checkpoint's values (a lever may change them).
    native = native_model_fields()
    architecture = [
        argument
        for field_name in ARCHITECTURE_FIELDS
        if field_name in native
        for argument in (f"--{field_name}", str(getattr(config, field_name)))
    ]
    arguments = [
        str(NATIVE_CONFIG.relative_to(REPOSITORY_ROOT)),
        "--model_name_or_path",
        repository_relative(init),
        *architecture,
        *(data_arguments or ["--data_dir", args.data_dir]),
        "--seed",
        str(seed),
        "--num_train_epochs",
        str(1 if args.smoke else args.pretrain_epochs),
        "--do_predict",
        "false",
        "--load_best_model_at_end",
        "false",
        "--metric_for_best_model",
        "loss",
        *(REFIT_OVERRIDES if refit else []),
        *(SMOKE_PRETRAIN if args.smoke else []),
    ]
    done_file = "train_results.json" if refit else "eval_results.json"
    return "pretrain.py", arguments, runs_dir / f"{stage}_pretrain_{name}_seed{seed}", done_file


def finetuning_job(name: str, seed: int, fraction: float, epochs: int, args, runs_dir: Path, refit=False) -> tuple:
    stage = "refit" if refit else "validation"
    encoder = runs_dir / f"{stage}_pretrain_{name}_seed{seed}"
    arguments = [
        FINETUNE_CONFIG,
        "--data_dir",
        args.data_dir,
        "--model_name_or_path",
        repository_relative(encoder),
        "--seed",
        str(seed),
        "--label_fraction",
        str(fraction),
        "--num_train_epochs",
        str(epochs),
        "--do_predict",
        "true" if refit else "false",
        *(REFIT_OVERRIDES if refit else []),
        *(SMOKE_DATA if args.smoke else []),
    ]
    folder = runs_dir / f"{stage}_finetune_{name}_{fraction}_seed{seed}"
    return "finetune.py", arguments, folder, "test_results.json" if refit else "eval_results.json"


def probe_accuracy(encoder_dir: Path, train, evaluated, split_name: str) -> dict:
    """The authors' probe on `encoder_dir`'s last layer: fit on `train`, scored on `evaluated`."""
    encoder = AutoModel.from_pretrained(encoder_dir).eval()
    return fit_probe(PROBE, encoded(encoder, train), {split_name: encoded(encoder, evaluated)})[split_name]


def max_epochs(args, fraction: float) -> int:
    return 2 if args.smoke else MAX_EPOCHS[fraction]


# --- stages -----------------------------------------------------------------------------------------------------------


def study_jobs(names: list[str], args, splits, runs_dir: Path) -> list[tuple]:
    """
    `(key, job, requires)` for every run of the variants `names`, for launch.run_in_order: a seed's fine-tuning runs
    require its pre-training; listed variant by variant, so each variant finishes before the next, whose pre-training
    only fills workers that would otherwise wait.
    """
    jobs = []
    for name in names:
        jobs += [
            (("pretrain", name, seed), pretraining_job(name, seed, args, splits, runs_dir), None) for seed in args.seeds
        ]
        jobs += [
            (
                ("finetune", name, seed, fraction),
                finetuning_job(name, seed, fraction, max_epochs(args, fraction), args, runs_dir),
                ("pretrain", name, seed),
            )
            for fraction in args.label_fractions
            for seed in args.seeds
        ]
    return jobs


def summarise_study_variant(name: str, args, splits, runs_dir: Path) -> dict:
    """One variant's validation numbers, from its finished runs: the authors' probe on each pre-trained encoder, the
    in-loop probe curves and the fine-tuning curves."""
    pretrain_dirs = [runs_dir / f"validation_pretrain_{name}_seed{seed}" for seed in args.seeds]
    probes = [probe_accuracy(folder, splits["train"], splits["validation"], "validation") for folder in pretrain_dirs]
    finetune = {
        str(fraction): summarise_variant(
            [], [runs_dir / f"validation_finetune_{name}_{fraction}_seed{seed}" for seed in args.seeds]
        )
        for fraction in args.label_fractions
    }
    in_loop_curves = [probe_curve(folder) for folder in pretrain_dirs]
    studied = variant(name)
    return {
        "description": studied.description,
        "config": studied.config,
        "extra_windows": studied.extra_windows,
        "pretraining": {
            "train_windows": json.loads((pretrain_dirs[0] / "train_results.json").read_text())["train_samples"],
            "num_train_epochs": 1 if args.smoke else args.pretrain_epochs,
            "checkpoint": "last epoch",
            "validation_probe_accuracy_percent": mean_std([probe["accuracy"] for probe in probes]),
            "validation_probe_macro_f1_percent": mean_std([probe["macro_f1"] for probe in probes]),
            "in_loop_validation_probe_curve": mean_curve(in_loop_curves) if all(in_loop_curves) else None,
        },
        "finetune": finetune,
        "selection_score": selection_score(finetune),
    }


def selection_score(finetune: dict) -> float:
    """Mean over label fractions of the peak of the mean validation curve (percent)."""
    return round(
        statistics.mean(max(score for _, score in summary["mean_validation_curve"]) for summary in finetune.values()), 2
    )


def selection(variants: dict) -> dict:
    scores = {name: result["selection_score"] for name, result in variants.items()}
    chosen = max(scores, key=scores.get)  # the first of equal scores: VARIANTS' order
    baseline = scores.get("baseline")
    return {
        "rule": SELECTION_RULE,
        "scores": scores,
        "difference_to_baseline": {name: round(score - baseline, 2) for name, score in scores.items()}
        if baseline is not None
        else None,
        "chosen": chosen,
    }


def final_stage(study: dict, args, splits, runs_dir: Path) -> dict:
    """Refit the chosen variant on train + validation, then read the test split once per seed and fraction."""
    name = study["selection"]["chosen"]
    fractions = [float(fraction) for fraction in study["variants"][name]["finetune"]]
    seeds = study["seeds"]
    epochs = {}
    for fraction in fractions:
        curves = [
            probe_curve(runs_dir / f"validation_finetune_{name}_{fraction}_seed{seed}", "eval_accuracy")
            for seed in seeds
        ]
        epochs[fraction] = best_mean_epoch(curves)
    # One pool, as the study's: a seed's fine-tuning runs start as soon as its own refit pre-training has finished.
    jobs = [
        (("pretrain", seed), pretraining_job(name, seed, args, splits, runs_dir, refit=True), None) for seed in seeds
    ]
    jobs += [
        (
            ("finetune", fraction, seed),
            finetuning_job(name, seed, fraction, epochs[fraction], args, runs_dir, refit=True),
            ("pretrain", seed),
        )
        for fraction in fractions
        for seed in seeds
    ]
    results = run_in_order(jobs, args.parallel)
    tests = {(fraction, seed): results[("finetune", fraction, seed)] for fraction in fractions for seed in seeds}
    labelled = concatenate_datasets([splits["train"], splits["validation"]])
    probes = [
        probe_accuracy(runs_dir / f"refit_pretrain_{name}_seed{seed}", labelled, splits["test"], "test")
        for seed in seeds
    ]

    results_file = repository_relative(study_file(STUDY, args.smoke))
    ledger = RESULTS_DIR / "test_reads.smoke.json" if args.smoke else None  # smoke reads stay out of the ledger
    refit_train = json.loads((runs_dir / f"refit_pretrain_{name}_seed{seeds[0]}" / "train_results.json").read_text())
    final = {
        "variant": name,
        "chosen_by": SELECTION_RULE,
        "seeds": seeds,
        "pretraining": {
            "train": "train + validation"
            + (", and the HAPT windows of every official-train subject" if variant(name).extra_windows else ""),
            "train_windows": refit_train["train_samples"],
            "num_train_epochs": 1 if args.smoke else args.pretrain_epochs,
        },
        "probe_train_windows": len(labelled),
    }
    probe_result = {
        "accuracy_percent": mean_std([p["accuracy"] for p in probes]),
        "macro_f1_percent": mean_std([p["macro_f1"] for p in probes]),
    }
    record_test_read(
        study=args.name,
        what=f"HAR test ({len(splits['test'])} windows), linear probe on the refit "
        f"'{name}' encoders (fit on train + validation), seeds {seeds}",
        result=probe_result,
        decision="",
        results_file=results_file,
        targets={PROBE_TARGET: probe_result["accuracy_percent"]["mean"]},
        ledger=ledger,
    )
    final["probe_test"] = probe_result
    final["finetune_test"] = {}
    for fraction in fractions:
        result = {
            "accuracy_percent": mean_std([tests[(fraction, s)]["test_accuracy"] for s in seeds]),
            "macro_f1_percent": mean_std([tests[(fraction, s)]["test_macro_f1"] for s in seeds]),
        }
        what = (
            f"HAR test ({len(splits['test'])} windows), '{name}' fine-tuned on {100 * fraction:g} % of the train + "
            f"validation labels for {epochs[fraction]} epochs, seeds {seeds}"
        )
        record_test_read(
            study=args.name,
            what=what,
            result=result,
            decision="",
            results_file=results_file,
            targets={TARGETS[fraction]: result["accuracy_percent"]["mean"]},
            ledger=ledger,
        )
        goal = {"goal": GOALS[fraction], "goal_met": result["accuracy_percent"]["mean"] >= GOALS[fraction]}
        confusions = confusion_summary([runs_dir / f"refit_finetune_{name}_{fraction}_seed{seed}" for seed in seeds])
        final["finetune_test"][str(fraction)] = {
            "num_train_epochs": epochs[fraction],
            **result,
            **goal,
            "confusions": confusions,
        }
    return final


# The gap, as the test confusion matrices show it: MiniRocket confuses only the two static postures; TimeMAE also
# mixes up the three walking activities, which differ in rhythm and frequency. The final read counts both kinds of
# error.
ERROR_GROUPS = {
    "walking activities among themselves": ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS"),
    "sitting and standing": ("SITTING", "STANDING"),
}


def confusion_summary(run_dirs: list[Path]) -> dict:
    """The test confusions of `run_dirs` (each run's confusion_matrix.json), summed over the runs: the matrix, the
    errors within each of ERROR_GROUPS and the most frequent (true, predicted) pairs, each also per run on average."""
    matrices = [json.loads((folder / "confusion_matrix.json").read_text()) for folder in run_dirs]
    names = matrices[0]["class_names"]
    total = [
        [sum(matrix["true_rows_predicted_columns"][i][j] for matrix in matrices) for j in range(len(names))]
        for i in range(len(names))
    ]
    errors = sorted(
        ((total[i][j], names[i], names[j]) for i in range(len(names)) for j in range(len(names)) if i != j),
        reverse=True,
    )
    groups = {
        group: sum(count for count, true, predicted in errors if true in members and predicted in members)
        for group, members in ERROR_GROUPS.items()
    }
    return {
        "runs": len(run_dirs),
        "class_names": names,
        "true_rows_predicted_columns_summed": total,
        "errors_per_run": round(sum(count for count, _, _ in errors) / len(run_dirs), 1),
        "group_errors_per_run": {group: round(count / len(run_dirs), 1) for group, count in groups.items()},
        "most_frequent_errors_per_run": [
            {"true": true, "predicted": predicted, "count": round(count / len(run_dirs), 1)}
            for count, true, predicted in errors[:5]
            if count
        ],
    }


def reference_stage(args, splits) -> dict:
    """MiniRocket's validation accuracy per label fraction (mean ± std over the seeds), each seed fit on the labelled
    windows that `training/finetune.py --label_fraction F --seed S` fine-tunes on."""
    from benchmarks.league.league_data import LeagueData
    from benchmarks.league.methods import METHODS, REFERENCE_METHOD, aeon_version

    method = METHODS[REFERENCE_METHOD]
    validation = splits["validation"].with_format("numpy")[:]
    per_fraction = {}
    for fraction in args.label_fractions:
        scores = []
        for seed in args.seeds:
            labelled = stratified_subset(splits["train"], fraction, seed).with_format("numpy")[:]
            # LeagueData's "test" side is the validation split here: the study never reads test.
            data = LeagueData(
                f"HAR validation, {100 * fraction:g} % of the train labels",
                list(labelled["past_values"]),
                labelled["labels"].astype(str),
                list(validation["past_values"]),
                validation["labels"].astype(str),
                "benchmarks/har/har_gap.py splits",
            )
            classifier = method.build(data, seed, {})
            classifier.fit(method.inputs(data, "train"), data.train_labels)
            scores.append(classification_metrics(data.test_labels, classifier.predict(method.inputs(data, "test"))))
        per_fraction[str(fraction)] = {
            "labelled_windows": len(labelled["labels"]),
            "accuracy": mean_std([score["accuracy"] for score in scores]),
            "macro_f1": mean_std([score["macro_f1"] for score in scores]),
        }
    return {
        "method": f"{REFERENCE_METHOD} (aeon {aeon_version()}, defaults, as benchmarks/league/league.py builds it)",
        "seeds": args.seeds,
        "validation_windows": len(validation["labels"]),
        "validation": per_fraction,
    }


def estimate_stage(args, splits) -> dict:
    """
    Time each variant's pre-training and fine-tuning steps at full size in this process (batch 128, `--threads_per_run`
    threads, after warm-up), and the authors' probe once; project the study's cost from the steps it will take.
    """
    batch = splits["train"].with_format("torch").select(range(128))[:]["past_values"]
    statistics_ = compute_channel_statistics(splits["train"])
    repetitions = 2 if args.smoke else 9
    per_variant = {}
    for name in args.variants:
        config = variant_config(VARIANTS[name], args.smoke, num_labels=len(HAR_ACTIVITIES), **statistics_)
        pretrain_step = time_training_step(TimeMAEForPreTraining(config), batch, None, repetitions)
        labels = torch.arange(128) % 6
        finetune_step = time_training_step(TimeMAEForSequenceClassification(config), batch, labels, repetitions)
        classifier = TimeMAEForSequenceClassification(config).eval()
        forward = []
        with torch.inference_mode():
            for _ in range(repetitions):
                started = time.perf_counter()
                classifier(batch)
                forward.append(time.perf_counter() - started)
        forward = statistics.median(forward)
        per_variant[name] = {
            "pretraining_step_s": round(pretrain_step, 4),
            "finetuning_step_s": round(finetune_step, 4),
            "forward_128_windows_s": round(forward, 4),
        }
    started = time.perf_counter()
    encoder = TimeMAEForSequenceClassification(variant_config(VARIANTS["baseline"], args.smoke, **statistics_))
    fit_probe(
        PROBE,
        encoded(encoder.timemae.eval(), splits["train"]),
        {"validation": encoded(encoder.timemae, splits["validation"])},
    )
    probe_s = time.perf_counter() - started

    train_windows, validation_windows = len(splits["train"]), len(splits["validation"])
    extra_windows = 0
    if any(VARIANTS[name].extra_windows for name in per_variant):
        from benchmarks.har.hapt import hapt_pretraining_windows

        train_subjects = sorted(set(splits["train"]["subject"]))
        extra_windows = len(hapt_pretraining_windows(train_subjects[:1] if args.smoke else train_subjects))
    epochs = 1 if args.smoke else args.pretrain_epochs
    seconds = {}
    for name, timing in per_variant.items():
        windows = train_windows + (extra_windows if VARIANTS[name].extra_windows else 0)
        pretrain = math.ceil(windows / 128) * epochs * timing["pretraining_step_s"]
        in_loop_probes = (epochs // 5) * probe_s if not VARIANTS[name].extra_windows else 0.0
        finetune = sum(
            max_epochs(args, fraction)
            * (
                math.ceil(fraction * train_windows / 128) * timing["finetuning_step_s"]
                + math.ceil(validation_windows / 128) * timing["forward_128_windows_s"]
            )
            for fraction in args.label_fractions
        )
        seconds[name] = len(args.seeds) * (pretrain + in_loop_probes + probe_s + finetune)
    total = sum(seconds.values())
    return {
        "timings": per_variant,
        "probe_s": round(probe_s, 2),
        "threads_per_run": args.threads_per_run,
        "train_windows": train_windows,
        "hapt_extra_windows": extra_windows,
        "projected_cpu_hours_per_variant": {name: round(s / 3600, 2) for name, s in seconds.items()},
        "projected_cpu_hours_study": round(total / 3600, 2),
        "projected_wall_hours": {"parallel": args.parallel, "hours": round(total / 3600 / args.parallel, 2)},
        "notes": "step times measured in this process at the study's sizes, on a machine shared with other work; "
        "subprocess start-up, checkpoint saving, validation losses and the final stage are not included",
    }


def time_training_step(model, past_values, labels, repetitions: int) -> float:
    """Seconds of one forward + backward + AdamW step (+ momentum update), after two warm-up steps: the median of
    `repetitions` steps, as other work on a shared machine slows some of them."""
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        outputs = model(past_values, labels=labels) if labels is not None else model(past_values)
        outputs.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if isinstance(model, TimeMAEForPreTraining):
            model.momentum_update()

    for _ in range(2):
        step()
    seconds = []
    for _ in range(repetitions):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


# --- main -------------------------------------------------------------------------------------------------------------


def main(argv=None):
    started_at = time.time()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=list(VARIANTS),
        default=None,
        help="variants of the study (default: all; --smoke: baseline and window_scaling_with_statistics); the final "
        "stage "
        "chooses among those in the results",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[3407, 1, 2])
    parser.add_argument(
        "--label_fractions", type=float, nargs="+", default=list(LABEL_FRACTIONS), choices=list(LABEL_FRACTIONS)
    )
    parser.add_argument("--pretrain_epochs", type=int, default=100, help="har_native.yaml's 100")
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=["reference", "study", "final", "estimate"],
        default=["reference", "study"],
        help="'reference': MiniRocket on the study's label subsets, scored on validation (once; needs "
        "numba); 'study': the validation-only variants; 'final' (after it): the chosen variant, "
        "refit, test once per seed; 'estimate': time the variants' steps, project the study's CPU "
        "hours",
    )
    parser.add_argument("--data_dir", default=default_har_path(), help="UCI HAR zip or folder ($TIMEMAE_HAR_PATH)")
    parser.add_argument("--runs_dir", default=str(RUNS_DIR / "har_gap"), help="where runs and checkpoints go")
    parser.add_argument("--parallel", type=int, default=2, help="training runs side by side")
    parser.add_argument(
        "--threads_per_run",
        type=int,
        default=1,
        help="torch threads of each run (OMP_NUM_THREADS of the training subprocesses)",
    )
    parser.add_argument(
        "--name",
        default="har_gap",
        help="run name in benchmarks/results/har_gap.json (its reference and cost estimate: <name>_reference, "
        "<name>_cost_estimate)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny encoders, 256 windows a split, 1 seed, the 100 %% fraction, 1 + 2 epochs",
    )
    args = parser.parse_args(argv)

    os.environ["OMP_NUM_THREADS"] = str(args.threads_per_run)  # the training subprocesses inherit it
    torch.set_num_threads(args.threads_per_run)
    runs_dir = fresh_smoke_runs_dir(args.runs_dir) if args.smoke else Path(args.runs_dir)
    if args.smoke:
        args.seeds, args.label_fractions = args.seeds[:1], [1.0]
    args.variants = args.variants or (SMOKE_VARIANTS if args.smoke else list(VARIANTS))
    if any(VARIANTS[name].extra_windows for name in args.variants) and "study" in args.stages:
        from benchmarks.har.hapt import hapt_package_file

        hapt_package_file()  # fails now, naming the install, rather than after hours of other variants
    splits = har_splits(args.data_dir, args.smoke)
    results_path = f"{repository_relative(study_file(STUDY, args.smoke))}, run {args.name!r}"

    if "estimate" in args.stages:
        payload = {
            "estimate": estimate_stage(args, splits),
            "variants": args.variants,
            "seeds": args.seeds,
            "label_fractions": args.label_fractions,
            "pretrain_epochs": args.pretrain_epochs,
        }
        write_result(
            STUDY, f"{args.name}_cost_estimate", payload, started_at, script_command(__file__, argv), args.smoke
        )

    measured = read_result(STUDY, f"{args.name}_reference", args.smoke)
    if "reference" in args.stages and measured is None:  # measured once; remove its run from the file to measure again
        write_result(
            STUDY,
            f"{args.name}_reference",
            reference_stage(args, splits),
            started_at,
            script_command(__file__, argv),
            smoke=args.smoke,
        )

    study = read_result(STUDY, args.name, args.smoke)
    if "study" in args.stages:
        variants = dict(study["variants"]) if study and study.get("seeds") == args.seeds else {}
        study_round(args.variants, variants, args, splits, runs_dir, started_at, argv)
        combined = combination(variants)  # round 2, once every lever has run
        if combined:
            study_round([combined], variants, args, splits, runs_dir, started_at, argv)
        study = read_result(STUDY, args.name, args.smoke)
    if "final" in args.stages:
        if study is None:
            parser.error(f"--stages final reads the study's choice from {results_path}; run --stages study first.")
        waiting = still_to_run(study["variants"], args.variants)
        if waiting:  # the test split is read once, for the choice of the whole study
            parser.error(
                f"the study has not finished: {waiting} have no validation results in {results_path}, so its "
                "choice is not final. Run --stages study first (or name the variants studied, --variants)."
            )
        study["final"] = final_stage(study, args, splits, runs_dir)
        # (the study's runs stay: its validation numbers are reported beside the final read)
        study = {key: value for key, value in study.items() if key not in ("benchmark", "smoke", "provenance")}
        write_result(STUDY, args.name, study, started_at, script_command(__file__, argv), smoke=args.smoke)


def study_round(names: list[str], variants: dict, args, splits, runs_dir: Path, started_at: float, argv) -> None:
    """Run the variants `names` through one pool of workers; as each variant's last run ends, add its summary to
    `variants` and rewrite the results file."""
    jobs = study_jobs(names, args, splits, runs_dir)
    unfinished = {name: {key for key, _, _ in jobs if key[1] == name} for name in names}

    def record_variant_when_finished(key, _):
        unfinished[key[1]].discard(key)
        if not unfinished[key[1]]:
            variants[key[1]] = summarise_study_variant(key[1], args, splits, runs_dir)
            write_study(variants, args, splits, started_at, argv)

    run_in_order(jobs, args.parallel, on_result=record_variant_when_finished)


def in_study_order(variants: dict) -> dict:
    """`variants` with the levers in VARIANTS' order and round 2's combination last, the order ties are broken in."""
    return dict(
        sorted(
            variants.items(), key=lambda item: list(VARIANTS).index(item[0]) if item[0] in VARIANTS else len(VARIANTS)
        )
    )


def write_study(variants: dict, args, splits, started_at: float, argv) -> None:
    """The results file: the variants studied so far (the levers in VARIANTS' order, then round 2's combination) and
    the choice among them."""
    variants = in_study_order(variants)
    study = {
        "question": "which lever closes the gap to MiniRocket on HAR, chosen on validation",
        "seeds": args.seeds,
        "label_fractions": args.label_fractions,
        "selection_split": f"validation ({len(splits['validation'])} windows of train subjects 5, 14, 22, 28); "
        "the test split is read only by --stages final",
        "variants": variants,
        "selection": selection(variants),
        "data_note": har_data_note(args.data_dir),
    }
    write_result(STUDY, args.name, study, started_at, script_command(__file__, argv), smoke=args.smoke)


if __name__ == "__main__":
    main()
