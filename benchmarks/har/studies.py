"""The HAR studies' declarations (benchmarks/common/study.py): their results files, sections and headlines."""

from benchmarks.common.study import Headline, Runs, Section, Study, data_note, pm, source, test_reads_line

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
# The league's HAR set with the labels of each headline target (the same stratified subsets, seeds and test split).
LEAGUE_SET_OF_TARGET = {
    "har_probe_refit": "HAR_100pct",
    "har_finetune_refit_100pct": "HAR_100pct",
    "har_finetune_refit_10pct": "HAR_10pct",
    "har_finetune_refit_1pct": "HAR_1pct",
}


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
    """One accuracy / macro-F1 column pair per (label, har_finetune run) in `columns`, one row per label fraction."""
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


# ----------------------------------------------------------------------------------------------------------------------
# README.md's headlines


def refit_headlines(runs: Runs) -> list[Headline]:
    return [
        Headline(
            "har_probe_refit",
            "linear probe, the authors' protocol (refit on all 7439 train windows, 100 epochs)",
            "har_refit",
            ("pretraining", "test_probe_accuracy_percent"),
            "HAR_100pct",
        )
    ]


def study_headlines(runs: Runs) -> list[Headline]:
    return [
        Headline(
            "har_finetune_refit_100pct",
            "fine-tuning, all labels (refit; recipe and epochs chosen on validation)",
            "har_study_60",
            ("refit", "1.0", "test_accuracy_percent"),
            "HAR_100pct",
        ),
        Headline(
            "har_finetune_refit_10pct",
            "fine-tuning, 10 % of the labels (refit; chosen on validation)",
            "har_study_10",
            ("refit", "0.1", "test_accuracy_percent"),
            "HAR_10pct",
        ),
        Headline(
            "har_finetune_refit_1pct",
            "fine-tuning, 1 % of the labels (refit; chosen on validation)",
            "har_study",
            ("refit", "0.01", "test_accuracy_percent"),
            "HAR_1pct",
        ),
    ]


def gap_headlines(runs: Runs) -> list[Headline]:
    """The HAR-gap study's single test read of the variant it chose, under the same targets as the refits."""
    final = runs.get("har_gap", {}).get("final")
    if not final:
        return []
    from benchmarks.har.har_gap import TARGETS  # (imports the training code)

    chosen = f"HAR-gap study's choice, {final['variant']}"
    rows = [
        Headline("har_probe_refit", f"linear probe, {chosen}", "har_gap", ("final", "probe_test", "accuracy_percent"))
    ]
    rows += [
        Headline(
            TARGETS[float(fraction)],
            f"fine-tuning, {100 * float(fraction):g} % of the labels, {chosen}",
            "har_gap",
            ("final", "finetune_test", fraction, "accuracy_percent"),
        )
        for fraction in final["finetune_test"]
    ]
    return [Headline(row.target, row.label, row.run, row.keys, LEAGUE_SET_OF_TARGET.get(row.target)) for row in rows]


def paper_probe_line(runs: Runs) -> str:
    """The paper's number under the headlines, for scale."""
    if "har_refit" not in runs:
        return ""
    paper = runs["har_refit"]["reference"]["paper_probe_accuracy"].replace("+-", "±")
    return f"| the paper's linear probe (official files, checkpoint chosen on test) | {paper} | — | — | — |"


def gap_under_way(runs: Runs) -> str:
    """Until its final read, README.md says how far the HAR-gap study has come."""
    study = runs.get("har_gap")
    if not study or study.get("final"):
        return ""
    from benchmarks.har.har_gap import VARIANTS  # (imports the training code)

    selection = study["selection"]
    difference = (selection["difference_to_baseline"] or {}).get(selection["chosen"])
    better = (
        f" ({difference:+.2f} points over the baseline)" if difference and selection["chosen"] != "baseline" else ""
    )
    return (
        f"\nThe HAR-gap study (rhythm and frequency in the representation) is under way: "
        f"{len(study['variants'])} of {len(VARIANTS)} variants measured on validation, the best so far "
        f"**{selection['chosen']}**{better}; the test split is read once, for the final choice (table in "
        "benchmarks/README.md)."
    )


# ----------------------------------------------------------------------------------------------------------------------
# the studies


def reproduction_section(runs: Runs) -> str:
    variants = {label: runs[name] for name, label in MULTI_SEED_VARIANTS if name in runs}
    return reproduction(runs["har_reproduction"], variants)


def ablation_section(runs: Runs) -> str:
    return ablations(runs, runs.get("ablation_raw_inputs"))


def finetuning_section(runs: Runs) -> str:
    return finetuning([(label, runs[name]) for name, label in FINETUNING if name in runs])


def follow_up(name: str, title: str, order: int) -> Section:
    return Section.of_run(f"#### Follow-up: {title}", name, har_study, order)


STUDIES = (
    Study(
        "har_refit",
        "benchmarks.har.har_refit",
        "Budgets chosen on validation, then refit on every training subject and read once on test",
        sections=(
            Section(
                "### UCI HAR linear probe: the authors' protocol and the honest ones, side by side",
                ("har_refit", "har_reproduction"),
                lambda runs: like_for_like(runs["har_refit"], runs["har_reproduction"], runs.get("har_refit_200")),
                50,
            ),
            Section.of_run(
                "### UCI HAR fine-tuning: refit on every training subject", "har_refit", refit_finetuning, 60
            ),
        ),
        headlines=refit_headlines,
        headline_note=paper_probe_line,
    ),
    Study(
        "har_study",
        "benchmarks.har.har_study",
        "Which probe and fine-tuning variant moves validation accuracy, and what its refit gives on test",
        sections=(
            Section.of_run("### UCI HAR: what moves accuracy, chosen on validation", "har_study", har_study, 70),
            *(follow_up(name, title, 71 + index) for index, (name, title) in enumerate(STUDY_FOLLOW_UPS)),
        ),
        headlines=study_headlines,
    ),
    Study(
        "har_gap",
        "benchmarks.har.har_gap",
        "Which lever closes the gap to MiniRocket on HAR, chosen on validation, then read once on test?",
        sections=(
            Section(
                "### UCI HAR: closing the gap to MiniRocket, chosen on validation",
                ("har_gap",),
                lambda runs: har_gap(runs["har_gap"], runs.get("har_gap_reference")),
                40,
            ),
        ),
        headlines=gap_headlines,
        headline_note=gap_under_way,
    ),
    Study(
        "har_reproduction",
        "benchmarks.har.har_reproduction",
        "Does the port reproduce the paper's HAR linear probe, and which of the authors' behaviours matter?",
        sections=(
            Section(
                "### Reproduction: linear probe on UCI HAR",
                ("har_reproduction",),
                reproduction_section,
                90,
            ),
            Section(
                "### Ablation: the authors' training behaviours",
                tuple(name for name, _ in ABLATIONS),
                ablation_section,
                100,
            ),
        ),
    ),
    Study(
        "har_finetune",
        "benchmarks.har.har_finetune",
        "Fine-tuning per label fraction, from pre-training and from scratch",
        sections=(
            Section(
                "### Fine-tuning (test, validation-selected epoch)",
                ("har_finetune_pretrained",),
                finetuning_section,
                110,
            ),
        ),
    ),
)
