"""Print the results tables (Markdown) from benchmarks/results/*.json, so the READMEs quote the JSON exactly.

    python -m benchmarks.common.report            # every benchmark whose results file exists
    python -m benchmarks.common.report --smoke    # the same from the *.smoke.json files (what the tests check)
    python -m benchmarks.common.report --update_readme   # write them between the results markers of the two READMEs

benchmarks/README.md holds the full results (the league first, then every table); README.md holds the headlines
(with their test-read counts from benchmarks/results/test_reads.json) and a link to the rest. Each table is followed
by the command that produced its numbers (from the results file's provenance). Benchmarks that have not been run yet
are listed at the end instead of being left out silently.
"""

import argparse
import re
import statistics
from pathlib import Path

from benchmarks.common.launch import REPOSITORY_ROOT
from benchmarks.common.ledger import target_history
from benchmarks.common.results_io import RESULTS_DIR, read_study

README_MARKERS = (
    "<!-- results tables: python -m benchmarks.common.report --update_readme -->",
    "<!-- end of results tables -->",
)
BENCHMARKS_README = REPOSITORY_ROOT / "benchmarks" / "README.md"
# README.md's headlines: (ledger target, what, results file, where its mean is in the file).
HEADLINES = (
    (
        "har_probe_refit",
        "linear probe, the authors' protocol (refit on all 7439 train windows, 100 epochs)",
        "har_refit",
        ("pretraining", "test_probe_accuracy_percent"),
    ),
    (
        "har_finetune_refit_100pct",
        "fine-tuning, all labels (refit; recipe and epochs chosen on validation)",
        "har_study_60",
        ("refit", "1.0", "test_accuracy_percent"),
    ),
    (
        "har_finetune_refit_10pct",
        "fine-tuning, 10 % of the labels (refit; chosen on validation)",
        "har_study_10",
        ("refit", "0.1", "test_accuracy_percent"),
    ),
    (
        "har_finetune_refit_1pct",
        "fine-tuning, 1 % of the labels (refit; chosen on validation)",
        "har_study",
        ("refit", "0.01", "test_accuracy_percent"),
    ),
)
# The league's HAR set with the labels of each headline target (the same stratified subsets, seeds and test split).
LEAGUE_SET_OF_TARGET = {
    "har_probe_refit": "HAR_100pct",
    "har_finetune_refit_100pct": "HAR_100pct",
    "har_finetune_refit_10pct": "HAR_10pct",
    "har_finetune_refit_1pct": "HAR_1pct",
}

ABLATIONS = (
    ("ablation_baseline", "per-sample masks, deterministic targets (package defaults)"),
    ("ablation_per_batch_masking", "per-batch masks (authors')"),
    ("ablation_target_dropout", "dropout in the momentum encoder (authors')"),
)
MULTI_SEED_VARIANTS = (
    ("ablation_raw_inputs", "... on the raw signals (the config before standardised channels)"),
    ("har_pretrain_200", "... pre-trained up to 200 epochs instead of 100"),
)
# Follow-ups of har_study, each one variant rerun on validation with something changed (then refit if it wins).
STUDY_FOLLOW_UPS = (
    ("har_study_60", "the all-labels winner with a 60-epoch cap (it peaked at the 30-epoch cap)"),
    (
        "har_study_200",
        "the same, from the encoders pre-trained up to 200 epochs (checkpoint chosen on validation; "
        "refit encoders: 165 epochs)",
    ),
    (
        "har_study_10",
        "10 % of the labels (left out of the study above): the authors' recipe and the other fractions' winner",
    ),
)
FINETUNING = (
    ("har_finetune_pretrained", "from TimeMAE pre-training"),
    ("ablation_raw_inputs_finetune", "from raw-signal pre-training"),
    ("har_finetune_scratch", "from scratch"),
)
BERT_COLUMNS = ("probe_at_init", "probe_after_timemae", "finetune_100", "finetune_1")
# The first speed tables (throughput.json, step_time*.json, 2026-11-25) were measured before the Trainer loop and the
# dropout masks were made cheaper; re-measuring them on a loaded 2-core machine would not give numbers worth printing.
SUPERSEDED_SPEED_TABLES = (
    "### Speed: where the current numbers are\n\n"
    "Pre-training speed: the table beside the authors' code above (authors_speed.json) and the per-step breakdown "
    "(`python -m benchmarks.speed.step_time --breakdown --threads 1`, the run step_time_breakdown of step_time.json); "
    "inference latency: the inference table (inference.json). The first speed tables of 2026-11-25 (897.8 "
    "pre-training windows/s, eager 5.59 ms) predate the cheaper Trainer loop and dropout masks and are no longer "
    "shown; git keeps their files (`git show dc93b22:benchmarks/results/throughput.json`, step_time.json, "
    "step_time_har_config.json, throughput_native_dropout_1thread.json).\n"
)
# Headlines and the test-read ledger's name for what they estimate (benchmarks/results/test_reads.json).
HEADLINE_TARGETS = {
    "har_probe_refit": "linear probe, refit on every training subject",
    "har_finetune_refit_100pct": "fine-tuning with all labels, refit",
    "har_finetune_refit_10pct": "fine-tuning with 10 % of the labels, refit",
    "har_finetune_refit_1pct": "fine-tuning with 1 % of the labels, refit",
}


# Scripts by the name results made before the benchmarks were grouped record them under (`benchmarks/<script>.py`).
SCRIPT_PATHS = {
    path.name: path.relative_to(REPOSITORY_ROOT).as_posix()
    for path in (REPOSITORY_ROOT / "benchmarks").glob("*/*.py")
    if path.name != "__init__.py"
}


def as_run_today(text: str) -> str:
    """`text` with an older record's `python benchmarks/<script>.py` written as the command that runs the same script
    today, `python -m benchmarks.<group>.<script>`, and `benchmarks/<script>.py` as the script's path today."""

    def command(match: re.Match) -> str:
        return "python -m " + SCRIPT_PATHS[match.group(1)].removesuffix(".py").replace("/", ".")

    text = re.sub(r"python benchmarks/(\w+\.py)", lambda m: command(m) if m.group(1) in SCRIPT_PATHS else m[0], text)
    return re.sub(r"(?<![\w/])benchmarks/(\w+\.py)", lambda m: SCRIPT_PATHS.get(m.group(1), m.group(0)), text)


def pm(summary: dict | None) -> str:
    """'mean ± std' of a benchmarks.common.launch.mean_std summary ('mean' for one seed), or '—' where it does not apply."""
    if not summary:
        return "—"
    return f"{summary['mean']:.2f} ± {summary['std']:.2f}" if len(summary["values"]) > 1 else f"{summary['mean']:.2f}"


def source(record: dict) -> str:
    """The command and commit behind a table; a file re-aggregated from earlier runs says so (its provenance is the
    aggregation's, not the training's)."""
    provenance = record["provenance"]
    aggregated = (
        "; aggregated from earlier runs, see the file's `aggregated_from_earlier_runs`"
        if "aggregated_from_earlier_runs" in record
        else ""
    )
    return (
        f"<sub>`{provenance['command']}` (git {provenance['git_sha'][:7]}, {provenance['finished_at'][:10]}"
        f"{aggregated})</sub>\n\n"
    )


def data_note(record: dict) -> str:
    """Which copy of HAR the numbers were measured on, where they are set beside published (official-file) ones."""
    note = record.get("data_note", {}).get("note")
    return f"Data: {note}\n\n" if note else ""


def test_reads_line(targets: list[str]) -> str:
    """How many times the test split was read on the way to each headline (the ledger), and what each read gave."""
    lines = []
    for target in targets:
        history = target_history(target)
        if history:
            reads = ", ".join(
                f"{value:.2f} (read {read})" if value is not None else f"read {read}" for read, value in history
            )
            lines.append(
                f"- {HEADLINE_TARGETS[target]}: {len(history)} test read{'s' * (len(history) > 1)}, in order: {reads}"
            )
    if not lines:
        return ""
    return (
        "Test reads per headline (benchmarks/results/test_reads.json; choices inside a study were made on "
        "validation, but which study ran next followed these reads):\n\n" + "\n".join(lines) + "\n\n"
    )


def validation_mean(record: dict) -> str:
    values = [100 * r["validation_probe_accuracy_at_selected_epoch"] for r in record["per_seed"].values()]
    return f"{sum(values) / len(values):.2f}"


def reproduction(record: dict, variants: dict[str, dict]) -> str:
    """The benchmark's row, its random-init baseline, multi-seed variants (e.g. standardised inputs), the paper."""
    seeds = ", ".join(str(s) for s in record["seeds"])

    def row(label: str, run: dict, bold: bool = False) -> str:
        epochs = ", ".join(f"{r['selected_epoch']:g}" for r in run["per_seed"].values())
        cells = [pm(run["test_accuracy_percent"]), pm(run["test_macro_f1_percent"])]
        cells = [f"**{c}**" for c in cells] if bold else cells
        return f"| {label} (selected epochs {epochs}) | {validation_mean(run)} | {cells[0]} | {cells[1]} |\n"

    table = (
        f"| linear probe (seeds {seeds}) | validation accuracy, mean | test accuracy | test macro-F1 |\n"
        "|---|---|---|---|\n" + row(f"TimeMAE, {record['num_train_epochs']} pre-training epochs", record, True)
    )
    for label, variant in variants.items():
        table += row(label, variant)
    table += (
        f"| same encoder and inputs, randomly initialised (no pre-training) | — | "
        f"{pm(record.get('random_init_test_accuracy_percent'))} | "
        f"{pm(record.get('random_init_test_macro_f1_percent'))} |\n"
        f"| paper (checkpoint chosen on test) | — | {record['reference']['paper_accuracy'].replace('+-', '±')} | "
        f"{record['reference']['paper_macro_f1'].replace('+-', '±')} |\n\n"
    )
    return table + data_note(record) + "".join(source(r) for r in (record, *variants.values()))


def like_for_like(refit: dict, reproduction: dict, longer: dict | None = None) -> str:
    """The HAR linear probe under the authors' protocol and under the honest ones, side by side; `longer`: a refit
    whose pre-training budget was chosen from longer validation runs (har_refit.py --stages pretraining)."""
    pretraining = refit["pretraining"]
    reference = refit["reference"]
    seeds = ", ".join(str(s) for s in refit["seeds"])
    longer_rows = []
    if longer is not None:
        budget = longer["pretraining"]
        most = max(epoch for epoch, _ in budget["budget_selection"]["mean_validation_probe_curve"])
        longer_rows.append(
            f"| this package, refit with the budget chosen on validation among up to {most:g} epochs | all "
            f"{budget['train_windows']} train windows | {budget['num_train_epochs']}, last | "
            f"{pm(budget['test_probe_accuracy_percent'])} | {pm(budget['test_probe_macro_f1_percent'])} |"
        )
    lines = [
        f"| linear probe on UCI HAR (seeds {seeds}) | pre-trained on | epochs | test accuracy | test macro-F1 |",
        "|---|---|---|---|---|",
        f"| paper (checkpoint chosen on test) | official train | 100, best on test | "
        f"{reference['paper_probe_accuracy'].replace('+-', '±')} | — |",
        f"| authors' code on this copy (seed 3407, data/README.md) | all 7439 train windows | 100, last | "
        f"{reference['authors_code_probe_on_this_copy']:.2f} | — |",
        f"| **this package, the authors' protocol = refit** (budget chosen on validation) | all "
        f"{pretraining['train_windows']} train windows | {pretraining['num_train_epochs']}, last | "
        f"**{pm(pretraining['test_probe_accuracy_percent'])}** | {pm(pretraining['test_probe_macro_f1_percent'])} |",
        *longer_rows,
        f"| this package, subject split, checkpoint chosen on validation | 6103 windows (4 subjects held out) | "
        f"{reproduction['num_train_epochs']}, best on validation | {pm(reproduction['test_accuracy_percent'])} | "
        f"{pm(reproduction['test_macro_f1_percent'])} |",
        f"| ... the same protocol rerun by har_refit's validation stage (machine not recorded) | 6103 windows | "
        f"{reproduction['num_train_epochs']}, best on validation | "
        f"{pm(refit['validation_stage_pretraining']['test_probe_accuracy_percent'])} | — |",
    ]
    sources = source(refit) + (source(longer) if longer is not None else "") + source(reproduction)
    return (
        "\n".join(lines)
        + f"\n\nGoal: {reference['goal_probe']} %.\n\n"
        + data_note(refit)
        + ("" if refit["smoke"] else test_reads_line(["har_probe_refit"]))
        + sources
    )


def refit_finetuning(refit: dict) -> str:
    """Fine-tuning per label fraction: refit on all training subjects vs validation-selected on the subject split."""
    lines = [
        "| labels | epochs (chosen on validation) | refit, test once: accuracy | macro-F1 | "
        "validation-selected (subject split): accuracy | goal |",
        "|---|---|---|---|---|---|",
    ]
    reference = refit["reference"]
    goals = {"1.0": reference["goal_finetune_all_labels"], "0.01": reference["goal_finetune_1_percent"]}
    for fraction, row in refit["finetuning"].items():
        lines.append(
            f"| {100 * float(fraction):g} % | {row['num_train_epochs']} | "
            f"**{pm(row['refit']['test_accuracy_percent'])}** | {pm(row['refit']['test_macro_f1_percent'])} | "
            f"{pm(row['validation_selected']['test_accuracy_percent'])} | {goals.get(fraction, '—')} |"
        )
    targets = ["har_finetune_refit_100pct", "har_finetune_refit_10pct", "har_finetune_refit_1pct"]
    return "\n".join(lines) + "\n\n" + ("" if refit["smoke"] else test_reads_line(targets)) + source(refit)


def har_study(record: dict) -> str:
    """What moved validation accuracy: probe and fine-tuning variants (per label fraction), each over the same seeds'
    encoders, and what the winner gave when refit and tested once."""
    seeds = ", ".join(record["encoders"])
    probes = record.get("probe_validation_accuracy_percent", {})
    lines = []
    if probes:
        lines += [f"| linear probe variant (validation accuracy, encoders of seeds {seeds}) | accuracy |", "|---|---|"]
        lines += [f"| {name} | {pm(value)} |" for name, value in probes.items()]
    for fraction, variants in record.get("finetune", {}).items():
        lines += [
            "",
            f"| fine-tuning variant ({100 * float(fraction):g} % of the labels, validation accuracy) | "
            "arguments | best epoch | last epoch | mean curve's peak (epoch): decides |",
            "|---|---|---|---|---|",
        ]
        for name, row in variants.items():
            epoch, peak = max(row["mean_validation_curve"], key=lambda point: point[1])
            lines.append(
                f"| {name} | `{row['arguments']}` | {pm(row['best_epoch_validation_accuracy_percent'])} | "
                f"{pm(row['last_epoch_validation_accuracy_percent'])} | {peak:.2f} ({epoch:g}) |"
            )
    refits = [
        f"- {100 * float(fraction):g} % of the labels: the winner on validation, **{row['variant']}**, "
        f"{row['num_train_epochs']} epochs, fine-tunes each seed's refit encoder on train + validation; test "
        f"once: accuracy **{pm(row['test_accuracy_percent'])}**, macro-F1 {pm(row['test_macro_f1_percent'])}."
        for fraction, row in record.get("refit", {}).items()
    ]
    if "probe_refit" in record:
        row = record["probe_refit"]
        refits.insert(
            0,
            f"- linear probe: the winner on validation, **{row['variant']}**, fit on each seed's refit "
            f"encoder's {row['train_windows']} train + validation windows; test once: accuracy "
            f"**{pm(row['test_accuracy_percent'])}**, macro-F1 {pm(row['test_macro_f1_percent'])}.",
        )
    if refits:
        chosen_by = next(iter(record["refit"].values()))["chosen_by"]
        refit = (
            f"Refit (second stage; chosen by {chosen_by}; ties go to the variant listed first):\n\n"
            + "\n".join(refits)
            + "\n\n"
        )
    else:
        refit = "Validation only: not refit, so the test split was not read for it.\n\n"
    return "\n".join(lines).strip() + f"\n\n{record['selection_split']}.\n\n" + refit + source(record)


def har_gap(record: dict, reference: dict | None = None) -> str:
    """The HAR-gap study's levers beside the baseline on validation (what each changes, its pre-trained encoders' probe,
    the peak of its mean fine-tuning curve per label fraction, the score that decides) and, from `reference`,
    MiniRocket on the same labelled windows and validation split; the variants still to run; and, once the final stage
    ran, the chosen variant's single test read against the study's goals."""
    from benchmarks.har.har_gap import (
        COMBINATION_MARGIN,
        TARGETS,
        combination,
        still_to_run,
    )  # (imports the training code)

    fractions = [str(fraction) for fraction in record["label_fractions"]]
    seeds = ", ".join(str(seed) for seed in record["seeds"])
    selection = record["selection"]
    lines = [
        f"| variant (validation accuracy %, seeds {seeds}) | what changes | pre-training windows | linear probe | "
        + " | ".join(f"fine-tune {100 * float(fraction):g} %: peak of the mean curve" for fraction in fractions)
        + " | score (decides) | vs baseline |",
        "|---|---|---|---|" + "---|" * len(fractions) + "---|---|",
    ]
    for name, row in record["variants"].items():
        peaks = [
            max(score for _, score in row["finetune"][fraction]["mean_validation_curve"]) for fraction in fractions
        ]
        difference = (selection["difference_to_baseline"] or {}).get(name)
        lines.append(
            f"| {'**' + name + '**' if name == selection['chosen'] else name} | {row['description']} | "
            f"{row['pretraining']['train_windows']} | "
            f"{pm(row['pretraining']['validation_probe_accuracy_percent'])} | "
            + " | ".join(f"{peak:.2f}" for peak in peaks)
            + f" | {row['selection_score']:.2f} | {'—' if difference is None else f'{difference:+.2f}'} |"
        )
    if reference:
        accuracies = [reference["validation"][fraction]["accuracy"]["mean"] for fraction in fractions]
        score = sum(accuracies) / len(accuracies)
        baseline = record["variants"].get("baseline", {}).get("selection_score")
        lines.append(
            f"| {reference['method']}: the reference, no pre-training | — | — | — | "
            + " | ".join(f"{pm(reference['validation'][fraction]['accuracy'])}" for fraction in fractions)
            + f" | {score:.2f} | {'—' if baseline is None else f'{score - baseline:+.2f}'} |"
        )
    waiting = still_to_run(record["variants"])
    combined = combination(record["variants"])
    status = (
        f"Chosen so far: **{selection['chosen']}** ({selection['rule']}). Not run yet: "
        + ", ".join(f"`{name}`" for name in waiting)
        + "; the choice is final when every variant has run."
        if waiting
        else f"Chosen: **{selection['chosen']}** ({selection['rule']})."
    )
    if not waiting and not combined:
        status += (
            f" No round 2: fewer than two levers beat the baseline by more than {COMBINATION_MARGIN} points, "
            "so no combination was run."
        )
    caveat = (
        " TimeMAE's fine-tuning columns are the best epoch of the mean curve on this same split, so they are "
        "optimistic by that choice; MiniRocket's is one fit with its defaults."
        if reference
        else ""
    )
    text = "\n".join(lines) + f"\n\n{record['selection_split']}. {status}{caveat}\n\n"
    final = record.get("final")
    if not final:
        return text + "Validation only so far: the test split has not been read for this study.\n\n" + source(record)
    results = [
        f"- linear probe (fit on the {final['probe_train_windows']} train + validation windows): "
        f"**{pm(final['probe_test']['accuracy_percent'])}**, macro-F1 {pm(final['probe_test']['macro_f1_percent'])}"
    ]
    for fraction, row in final["finetune_test"].items():
        verdict = (
            f"; the study's goal ≥ {row['goal']}: {'met' if row['goal_met'] else 'missed'}" if "goal" in row else ""
        )
        errors = ""
        if "confusions" in row:  # the study's diagnosis: which activities the errors mix up
            confusions = row["confusions"]
            groups = ", ".join(f"{group} {count:g}" for group, count in confusions["group_errors_per_run"].items())
            errors = f". Test errors per run: {confusions['errors_per_run']:g} ({groups})"
        results.append(
            f"- fine-tuned on {100 * float(fraction):g} % of the labels for {row['num_train_epochs']} "
            f"epochs: **{pm(row['accuracy_percent'])}**, macro-F1 {pm(row['macro_f1_percent'])}{verdict}{errors}"
        )
    targets = ["har_probe_refit", *(TARGETS[float(fraction)] for fraction in final["finetune_test"])]
    return (
        text + f"Final stage: **{final['variant']}** pre-trained on {final['pretraining']['train']} "
        f"({final['pretraining']['train_windows']} windows, {final['pretraining']['num_train_epochs']} epochs), "
        f"seeds {', '.join(str(seed) for seed in final['seeds'])}; test read once:\n\n"
        + "\n".join(results)
        + "\n\n"
        + ("" if record["smoke"] else test_reads_line(targets))
        + source(record)
    )


def authors_speed(record: dict) -> str:
    """Pre-training windows/s of the authors' code and ours, interleaved in one run."""
    lines = [
        "| pre-training on UCI HAR (paper size, batch 128) | windows/s (median) | ratio to the authors' |",
        "|---|---|---|",
    ]
    ratios = record.get("ratio_ours_to_authors", {})
    for side, value in record["windows_per_second_median"].items():
        ratio = 1.0 if side == "authors" else ratios.get(side)
        label = "the authors' code" if side == "authors" else f"this package, {side.removeprefix('ours_')}"
        lines.append(f"| {label} | {value:.1f} | {'—' if ratio is None else f'{ratio:.2f}'} |")
    load = record["load_average_1min"]
    return (
        "\n".join(lines) + f"\n\n{record['threads']} thread(s) each, {record['epochs_per_run']} epochs x "
        f"{record['data']['windows']} windows per run, {record['repeats']} interleaved rounds; 1-minute load "
        f"average {load['before']:g} before, {load['after']:g} after. Goal: ratio >= "
        f"{record['goal']['ratio_ours_to_authors']:g}. Machine: {machine_name(record)}.\n\n" + source(record)
    )


def machine_name(record: dict) -> str:
    machine = record["provenance"]["machine"]
    cpu = machine.get("cpu_model") or f"{machine.get('processor')}, CPU model not recorded"
    return f"{machine['cpu_count']} CPUs ({cpu})"


def speed_range(records: list[dict]) -> str:
    """A speed ratio belongs to the machine it was measured on: the range over the machines measured, and how to add
    another."""
    ratios = {
        side: [record["ratio_ours_to_authors"][side] for record in records]
        for side in records[0].get("ratio_ours_to_authors", {})
    }
    spans = "; ".join(
        f"{side.removeprefix('ours_')} {min(values):.2f}-{max(values):.2f}x" for side, values in ratios.items()
    )
    return (
        f"\nThe ratio depends on the machine (its cores, caches and load): over the {len(records)} machine(s) "
        f"measured above, this package / the authors' code: {spans}. On yours: `python -m benchmarks.speed.authors_speed "
        "--authors_repo <the authors' files> --name authors_speed_<n>` (2 threads, an otherwise idle machine).\n\n"
    )


def any_dataset(record: dict) -> str:
    """Probe and fine-tuning test accuracy per non-HAR set, beside published accuracies of other methods."""
    columns = ("probe_at_init", "probe_after_timemae", "finetune_from_timemae", "finetune_from_scratch")
    lines = [
        "| data set | probe at init | probe after TimeMAE | fine-tune from TimeMAE | fine-tune from scratch | "
        "published (other methods) |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in record["test_accuracy_percent"].items():
        published = ", ".join(
            f"{method} {accuracy:g}" for method, accuracy in row["published_test_accuracy_percent"].items()
        )
        lines.append(f"| {name} | " + " | ".join(pm(row[c]) for c in columns) + f" | {published or '—'} |")
    return (
        "\n".join(lines) + f"\n\nTest accuracy (%), seeds {record['seeds']}; {record['data']}. Published: "
        f"{record['published_source']}.\n\n" + source(record)
    )


def inference(record: dict) -> str:
    """Single-window latency and batched throughput of each inference path, beside the matmul peak."""
    lines = [
        "| encoder | path | p50 / p95 (ms, 1 window, 1 thread) | windows/s (batch "
        f"{record['batch_size']}, {record['batch_threads']} threads) | max logit difference vs eager |",
        "|---|---|---|---|---|",
    ]
    for size, result in record["sizes"].items():
        for path, row in result["paths"].items():
            lines.append(
                f"| {size} | {path} | {row['single_window_ms_p50']:.3f} / {row['single_window_ms_p95']:.3f} | "
                f"{row['batch_windows_per_second']:g} | {row['max_abs_logit_difference_vs_eager']:.1e} |"
            )
    extra = ""
    if "har_int8_accuracy" in record:
        accuracy = record["har_int8_accuracy"]
        percent = accuracy["test_accuracy_percent"]
        per_path = ", ".join(f"{path} {value:.2f}" for path, value in percent.items())
        extra = (
            f"HAR test accuracy of `{accuracy['classifier']}` ({accuracy['test_windows']} windows): {per_path} "
            f"({accuracy['int8_predictions_differing_from_fp32']} int8 predictions differ from fp32).\n\n"
        )
    encoder_alone = "".join(
        f"Eager {size}: transformers' `BertEncoder` alone on the window's embeddings, timed separately in the same "
        f"run: {result['paths']['eager']['bert_encoder_alone_ms_p50']:.3f} ms p50.\n\n"
        for size, result in record["sizes"].items()
        if "bert_encoder_alone_ms_p50" in result["paths"].get("eager", {})
    )
    load = record["load_average_1min"]
    return (
        "\n".join(lines)
        + "\n\n"
        + encoder_alone
        + f"Dense fp32 matmul peak in the same run: {record['matmul_peak_gflops']:g} GFLOP/s; "
        f"1-minute load average {load['before']:g} before, {load['after']:g} after.\n\n" + extra + source(record)
    )


def ablations(records: dict[str, dict], full: dict | None) -> str:
    rows = []
    for name, label in ABLATIONS:
        if name in records:
            ((seed, run),) = records[name]["per_seed"].items()
            rows.append((label, seed, run))
    if full and "3407" in full["per_seed"]:
        rows.append(("both (authors')", "3407", full["per_seed"]["3407"]))
    lines = [
        "| variant (raw signals, seed 3407, 100 epochs) | validation probe (selected epoch) | test probe |",
        "|---|---|---|",
    ]
    lines += [
        f"| {label} | {100 * run['validation_probe_accuracy_at_selected_epoch']:.2f} (epoch "
        f"{run['selected_epoch']:g}) | {100 * run['test_accuracy']:.2f} |"
        for label, seed, run in rows
    ]
    commands = "".join(source(records[name]) for name, _ in ABLATIONS if name in records)
    return "\n".join(lines) + "\n\n" + commands


def finetuning(columns: list[tuple[str, dict]]) -> str:
    """One accuracy / macro-F1 column pair per (label, har_finetune results) in `columns`, one row per label fraction."""
    fractions = list(dict.fromkeys(f for _, record in columns for f in record["label_fractions"]))
    header = " | ".join(f"{label}: accuracy | macro-F1" for label, _ in columns)
    lines = [f"| labels | epochs | {header} |", "|---|---|" + "---|---|" * len(columns)]
    for fraction in fractions:
        cells, epochs = [], None
        for _, record in columns:
            result = record["label_fractions"].get(fraction)
            epochs = epochs or (result["num_train_epochs"] if result else None)
            cells += [
                pm(result["test_accuracy_percent"]) if result else "—",
                pm(result["test_macro_f1_percent"]) if result else "—",
            ]
        lines.append(f"| {100 * float(fraction):g} % | {epochs} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + "".join(source(record) for _, record in columns)


def bert_question(record: dict) -> str:
    budget = record["budget"]
    lines = [
        f"| {record['bert_model']} architecture | probe at init | probe after TimeMAE | fine-tune 100 % "
        f"| fine-tune {100 * budget['small_label_fraction']:g} % |",
        "|---|---|---|---|---|",
    ]
    for variant, columns in record["table_test_accuracy_percent"].items():
        lines.append(f"| {variant} | " + " | ".join(pm(columns[c]) for c in BERT_COLUMNS) + " |")
    return (
        "\n".join(lines) + f"\n\nBudget: {budget['pretrain_epochs']} TimeMAE epochs, {budget['finetune_epochs_100']} "
        f"fine-tuning epochs with all labels, {budget['finetune_epochs_1_percent']} with "
        f"{100 * budget['small_label_fraction']:g} %, fine-tuning lr {budget['finetune_learning_rate']:g}, seeds "
        f"{budget['seeds']}; test accuracy (%).\n\n" + source(record)
    )


# (results name, section title): the league of today's defaults, then the one made before the defaults study.
LEAGUES = (
    ("league_base", "League: TimeMAE beside the classifiers practitioners use"),
    ("league_defaults", "League of the former defaults: a new encoder pre-trained on each set's own windows"),
    ("league", "League before the defaults study: TimeMAEClassifier's first defaults (commit 9d8624d)"),
)
# How each league was run (its rows of aeon and the former defaults copied from the league before it).
LEAGUE_COMMANDS = {
    "league_base": "python -m benchmarks.league.league --reuse_rows_from league_defaults",
    "league_defaults": "python -m benchmarks.league.league --name league_defaults --reuse_rows_from league",
    "league": "python -m benchmarks.league.league --name league",
}
REFERENCE_NAME = "MiniRocket"
# README.md's first screen: the practitioner's question, answered by the league of timemae-base.
FIRST_SCREEN_MARKERS = (
    "<!-- first-screen table: python -m benchmarks.common.report --update_readme -->",
    "<!-- end of first-screen table -->",
)
FIRST_SCREEN_COLUMNS = (
    ("TimeMAE_base_probe", "`TimeMAEClassifier()`"),
    ("TimeMAE_base_finetune", "fine-tuned from timemae-base"),
    ("MiniRocket", "MiniRocket"),
)
# Published means of pre-trained encoders read by a linear head, on the UCR archive (the Mantis repository's figures
# cover 128-159 sets, the bake-off 112): context for the gaps, not comparable digit for digit.
PUBLISHED_CONTEXT = (
    "Published, on the UCR archive (other set counts: compare gaps, not digits): MantisV2, pre-trained on synthetic "
    "series only, 83.6 % with a frozen encoder and logistic regression, 85.0 % fine-tuned; MOMENT-large 77-80 %; "
    "MiniRocket 85.80 % on the 112 sets of the bake-off redux (tsml-eval's results). The best pre-trained encoder "
    "published reads about 2 points below MiniRocket with a frozen encoder."
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="read the *.smoke.json files")
    parser.add_argument(
        "--update_readme", action="store_true", help="write the tables into README.md between its results markers"
    )
    args = parser.parse_args(argv)
    runs = {
        run: record
        for path in sorted(RESULTS_DIR.glob("*.smoke.json" if args.smoke else "*.json"))
        if path.name != "test_reads.json" and (args.smoke or not path.name.endswith(".smoke.json"))
        for run, record in read_study(path).items()
    }
    names = [
        "har_reproduction",
        *(name for name, _ in MULTI_SEED_VARIANTS),
        *(name for name, _ in ABLATIONS),
        *(name for name, _ in FINETUNING),
        "bert_question",
        "har_refit",
        "any_dataset",
        "inference",
        "har_study",
        *(name for name, _ in STUDY_FOLLOW_UPS),
        "authors_speed",
        "har_refit_200",
        "har_gap",
        "har_gap_reference",
        "timemae_base_validation",
        "synthetic_throughput",
    ]
    records = {name: runs[name] for name in names if name in runs}

    sections = []
    headline_league = None  # README's: (name, title, table) of the first league there is, today's defaults first
    headline_league_results = None
    for name, title in LEAGUES:
        if name not in runs:
            continue
        from benchmarks.league.league import (
            league_markdown,
        )  # only when there is a league to show (it imports the methods)

        league = runs[name]
        table = league_markdown(league)
        if headline_league is None:
            headline_league, headline_league_results = (name, title, table), league["results"]
        figure = league_figure_link(name, "results")
        sections.append(f"### {title}\n\n" + table + (f"\n{figure}\n" if figure else "") + "\n" + source(league))
    if "timemae_base_validation" in records:
        sections.append(
            "### timemae-base: pre-training steps and feature layer, chosen on validation\n\n"
            + timemae_base_validation(records["timemae_base_validation"])
        )
    if "synthetic_throughput" in records:
        sections.append(
            "### The synthetic corpus: generating against training\n\n"
            + synthetic_throughput(records["synthetic_throughput"])
        )
    if "har_gap" in records:
        sections.append(
            "### UCI HAR: closing the gap to MiniRocket, chosen on validation\n\n"
            + har_gap(records["har_gap"], records.get("har_gap_reference"))
        )
    if "har_refit" in records and "har_reproduction" in records:
        sections.append(
            "### UCI HAR linear probe: the authors' protocol and the honest ones, side by side\n\n"
            + like_for_like(records["har_refit"], records["har_reproduction"], records.get("har_refit_200"))
        )
    if "har_refit" in records:
        sections.append(
            "### UCI HAR fine-tuning: refit on every training subject\n\n" + refit_finetuning(records["har_refit"])
        )
    if "har_study" in records:
        sections.append("### UCI HAR: what moves accuracy, chosen on validation\n\n" + har_study(records["har_study"]))
    for name, title in STUDY_FOLLOW_UPS:
        if name in records:
            sections.append(f"#### Follow-up: {title}\n\n" + har_study(records[name]))
    if "any_dataset" in records:
        sections.append("### Other data sets, through the same commands\n\n" + any_dataset(records["any_dataset"]))
    if "har_reproduction" in records:
        variants = {label: records[name] for name, label in MULTI_SEED_VARIANTS if name in records}
        sections.append(
            "### Reproduction: linear probe on UCI HAR\n\n" + reproduction(records["har_reproduction"], variants)
        )
    if any(name in records for name, _ in ABLATIONS):
        sections.append(
            "### Ablation: the authors' training behaviours\n\n"
            + ablations(records, records.get("ablation_raw_inputs"))
        )
    columns = [(label, records[name]) for name, label in FINETUNING if name in records]
    if columns:
        sections.append("### Fine-tuning (test, validation-selected epoch)\n\n" + finetuning(columns))
    if "bert_question" in records:
        sections.append("### Does BERT's language pre-training help?\n\n" + bert_question(records["bert_question"]))
    if "inference" in records:
        sections.append("### Inference latency\n\n" + inference(records["inference"]))
    speed_runs = [record for name, record in runs.items() if name.startswith("authors_speed")]
    if speed_runs:
        sections.append(
            "### Pre-training speed beside the authors' code\n\n"
            + "\n".join(authors_speed(run) for run in speed_runs)
            + speed_range(speed_runs)
        )
    sections.append(SUPERSEDED_SPEED_TABLES)
    missing = [name for name in names if name not in records]
    if missing:
        sections.append("Not run yet: " + ", ".join(f"`{name}`" for name in missing) + ".\n")
    report = as_run_today("\n".join(section.rstrip() + "\n" for section in sections))
    print(report)
    if args.update_readme:
        update_readme(BENCHMARKS_README, report)
        update_readme(
            REPOSITORY_ROOT / "README.md", as_run_today(headlines(records, headline_league, headline_league_results))
        )
        update_readme(
            REPOSITORY_ROOT / "README.md",
            as_run_today(first_screen(runs.get("league_base"), runs.get("timemae_base_validation"))),
            FIRST_SCREEN_MARKERS,
        )
    return report


def league_figure_link(name: str, folder: str) -> str:
    """Markdown for the league's figure (benchmarks/league/league.py writes it beside the aggregate), `folder` relative to the
    page that shows it; empty when there is no figure."""
    if not (RESULTS_DIR / f"{name}.png").exists():
        return ""
    return f"![{name}: each method's test accuracy minus MiniRocket's]({folder}/{name}.png)"


def ordinal(number: int) -> str:
    return f"{number}{'th' if 10 <= number % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"


def headlines(
    records: dict[str, dict], league: tuple[str, str, str] | None = None, league_results: dict | None = None
) -> str:
    """README.md's results: the league first (whatever it shows), then the HAR headlines, each with which test
    read of its target it was, beside MiniRocket's test accuracy from the league on the same labelled windows
    (`league_results`: the league file's `results`), and a link to the rest."""
    league_lines = []
    if league:
        name, title, table = league
        command = f"`{LEAGUE_COMMANDS[name]}`"
        league_lines = [f"**{title}** ({command}; rows not run yet are said so):\n", table, ""]
        figure = league_figure_link(name, "benchmarks/results")
        if figure:
            league_lines += [figure, ""]

    def minirocket(target: str) -> str:
        methods = (league_results or {}).get(LEAGUE_SET_OF_TARGET.get(target), {}).get("methods", {})
        return pm(methods["MiniRocket"]["accuracy_percent"]) if "MiniRocket" in methods else "—"

    lines = [
        "| UCI HAR, this workplace's copy (seeds 3407, 1, 2) | test accuracy | MiniRocket, same labels (league) | "
        "test read of this target | results file |",
        "|---|---|---|---|---|",
    ]
    rows = list(HEADLINES)
    final = records.get("har_gap", {}).get("final")
    if final:  # the HAR-gap study's single test read of the variant it chose, under the same targets
        from benchmarks.har.har_gap import TARGETS

        chosen = f"HAR-gap study's choice, {final['variant']}"
        rows += [("har_probe_refit", f"linear probe, {chosen}", "har_gap", ("final", "probe_test", "accuracy_percent"))]
        rows += [
            (
                TARGETS[float(fraction)],
                f"fine-tuning, {100 * float(fraction):g} % of the labels, {chosen}",
                "har_gap",
                ("final", "finetune_test", fraction, "accuracy_percent"),
            )
            for fraction in final["finetune_test"]
        ]
    for target, label, name, keys in rows:
        if name not in records:
            continue
        summary = records[name]
        for key in keys:
            summary = summary[key]
        history = target_history(target)
        position = next((i for i, (_, value) in enumerate(history, 1) if value == summary["mean"]), None)
        read = f"{ordinal(position)} of {len(history)}" if position else "not in the ledger"
        lines.append(
            f"| {label} | **{pm(summary)}** | {minirocket(target)} | {read} | `benchmarks/results/{name}.json` |"
        )
    if "har_refit" in records:
        paper = records["har_refit"]["reference"]["paper_probe_accuracy"].replace("+-", "±")
        lines.append(f"| the paper's linear probe (official files, checkpoint chosen on test) | {paper} | — | — | — |")
    study = records.get("har_gap")
    if study and not final:
        from benchmarks.har.har_gap import VARIANTS

        selection = study["selection"]
        difference = (selection["difference_to_baseline"] or {}).get(selection["chosen"])
        lines += [
            "",
            f"The HAR-gap study (rhythm and frequency in the representation) is under way: "
            f"{len(study['variants'])} of {len(VARIANTS)} variants measured on validation, the best so far "
            f"**{selection['chosen']}**"
            + (
                f" ({difference:+.2f} points over the baseline)"
                if difference and selection["chosen"] != "baseline"
                else ""
            )
            + "; the test split is read once, for the final choice (table in benchmarks/README.md).",
        ]
    return (
        "\n".join(league_lines + lines) + "\n\nEvery test read, with what was decided after it: "
        "`benchmarks/results/test_reads.json`. The league beside other classifiers, every other table and the "
        "command under each: [benchmarks/README.md](benchmarks/README.md).\n"
    )


def first_screen(league: dict | None, validation: dict | None = None) -> str:
    """README.md's first table: per league set, `TimeMAEClassifier()` as it ships and fine-tuned from timemae-base
    beside MiniRocket (test accuracy %, mean over seeds, and fit seconds), the means over the sets where all three
    have every seed, and the published means of pre-trained encoders as context."""
    if league is None or not any("TimeMAE_base_probe" in r["methods"] for r in league["results"].values()):
        return (
            "timemae-base's league has not been run yet: `python -m benchmarks.league.league --reuse_rows_from "
            "league_defaults`.\n"
        )
    from benchmarks.league.league import base_goal_lines, every_seed

    header = ["set", *(f"{label} (fit s)" for _, label in FIRST_SCREEN_COLUMNS)]
    lines = [f"| {' | '.join(header)} |", "|" + "---|" * len(header)]
    complete = {method: [] for method, _ in FIRST_SCREEN_COLUMNS}  # the sets where each column has every seed
    for dataset, result in league["results"].items():
        methods = result["methods"]
        cells = []
        for method, _ in FIRST_SCREEN_COLUMNS:
            summary = methods.get(method)
            if summary is None:
                cells.append("not run yet")
                continue
            partial = (
                "" if every_seed(summary, league) else f", {len(summary['seeds'])} of {len(league['seeds'])} seeds"
            )
            cells.append(f"{summary['accuracy_percent']['mean']:.2f} ({summary['fit_seconds']:.3g} s{partial})")
            if every_seed(summary, league):
                complete[method].append(dataset)
        lines.append(f"| {dataset} | {' | '.join(cells)} |")
    if any(complete.values()):
        cells = []
        for method, _ in FIRST_SCREEN_COLUMNS:
            sets = complete[method]
            if not sets:
                cells.append("")
                continue
            mean = statistics.mean(
                league["results"][name]["methods"][method]["accuracy_percent"]["mean"] for name in sets
            )
            scope = "" if len(sets) == len(league["results"]) else f" ({len(sets)} set{'s' * (len(sets) != 1)} so far)"
            cells.append(f"**{mean:.2f}**{scope}")
        lines.append("| **mean** | " + " | ".join(cells) + " |")
    notes = [
        "",
        f"Test accuracy %, mean over seeds {', '.join(map(str, league['seeds']))}, each test split read once "
        f"(`{LEAGUE_COMMANDS['league_base']}`; ledger: `benchmarks/results/test_reads.json`); fit seconds on a shared "
        "2-core CPU. timemae-base's pre-training step and feature layer were chosen on folds of the train splits "
        "(`python -m benchmarks.league.timemae_base_validation`)" + chosen_text(validation) + ".",
        *base_goal_lines(league),
        PUBLISHED_CONTEXT,
    ]
    return "\n".join(lines + notes) + "\n"


def timemae_base_validation(record: dict) -> str:
    """Every (pre-training step, layer) candidate's mean validation accuracy over the league's train-split folds, the
    MiniRocket reference on the same folds, the rule and the choice."""
    candidates = sorted(record["summary"].values(), key=lambda entry: (entry["step"], entry["layers"]))
    layers = sorted({entry["layers"] for entry in candidates})
    steps = sorted({entry["step"] for entry in candidates})
    cells = {(entry["step"], entry["layers"]): entry for entry in candidates}
    chosen = record.get("chosen") or {}
    lines = [
        "| pre-training step | " + " | ".join(f"first {k} layers" for k in layers) + " |",
        "|---|" + "---|" * len(layers),
    ]
    for step in steps:
        row = []
        for k in layers:
            entry = cells.get((step, k))
            if entry is None:
                row.append("—")
                continue
            text = f"{entry['mean_validation_accuracy']:.2f}"
            if entry["datasets"] < len(record["datasets"]):
                text += f" ({entry['datasets']} sets)"
            row.append(f"**{text}** (chosen)" if (step, k) == (chosen.get("step"), chosen.get("layers")) else text)
        lines.append(f"| {step} | " + " | ".join(row) + " |")
    reference = record["reference"]
    notes = [
        "",
        f"Mean validation accuracy % over the {len(record['datasets'])} league sets' train-split folds ({record['protocol']}). "
        f"{REFERENCE_NAME} on the same folds: {reference['mean_validation_accuracy']:.2f} over {reference['datasets']} sets.",
        f"Rule, declared before any number: {record['selection_rule']}."
        + (
            f" Chosen: step {chosen['step']}, {chosen['layers']} layers ({chosen['mean_validation_accuracy']:.2f}, "
            f"{chosen['mean_gap_to_minirocket']:+.2f} points from {REFERENCE_NAME} on average)."
            if chosen
            else f" {record.get('chosen_note')}."
        ),
        "",
        source(record),
    ]
    figure = RESULTS_DIR / f"{record['benchmark']}.png"
    if figure.exists():
        notes[-1:-1] = [f"![{record['benchmark']}](results/{figure.name})", ""]
    return "\n".join(lines + notes) + "\n"


def synthetic_throughput(record: dict) -> str:
    """Does generating the synthetic corpus keep up with pre-training on it, and does memory stay flat."""
    verdict, memory = record["verdict"], record["memory"]
    rss = memory["rss_mb"]
    return (
        f"One generating process: {verdict['generation_series_per_second']:.0f} series/s "
        f"({verdict['generation_cpu_series_per_second']:.0f} per CPU second; the stream over series 20k-40k, kernel "
        f"bank redraws included); one training process of timemae_base.yaml at 1 torch thread: "
        f"{verdict['training_windows_per_second']:.0f} windows/s ({verdict['training_cpu_windows_per_second']:.0f} per "
        f"CPU second). Ratio {verdict['ratio']:.2f} by wall time, {verdict['cpu_ratio']:.2f} by CPU time: "
        f"{verdict['assessment']}. The real pre-training run read {verdict['real_run_windows_per_second']:.0f} "
        f"windows/s. Resident memory {rss['0']:.0f} MB before the stream, {rss['20000']:.0f} MB after 20,000 series, "
        f"{rss['40000']:.0f} MB after 40,000 (flat: {memory['flat']}). {record['machine_note']}\n\n" + source(record)
    )


def chosen_text(validation: dict | None) -> str:
    """What the validation study chose, as a clause for the first screen's note ('' when there is no study)."""
    if not validation:
        return ""
    chosen = validation.get("chosen")
    if not chosen:
        return f": {validation.get('chosen_note')}"
    return (
        f": step {chosen['step']}, read after its first {chosen['layers']} layers, "
        f"{chosen['mean_validation_accuracy']:.2f} % mean validation accuracy against {REFERENCE_NAME}'s "
        f"{validation['reference']['mean_validation_accuracy']:.2f} on the same folds"
    )


def update_readme(path: Path, report: str, markers: tuple[str, str] = README_MARKERS):
    text = path.read_text()
    begin, end = markers
    if begin not in text or end not in text:
        raise ValueError(f"{path} lacks the results markers; put {begin!r} and {end!r} where the tables belong.")
    head, rest = text.split(begin, 1)
    path.write_text(f"{head}{begin}\n\n{report}\n{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    main()
