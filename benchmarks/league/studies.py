"""The league studies' declarations (benchmarks/common/study.py): their results files, sections and README.md's
first screen."""

import statistics

from benchmarks.common.results_io import RESULTS_DIR
from benchmarks.common.study import Runs, Section, Study, pm, source

# (run, section title): the league of today's defaults, then the one made before the defaults study.
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


def league_section(name: str):
    """A league's table, its figure and the command under it."""

    def render(runs: Runs) -> str:
        from benchmarks.league.league import league_markdown  # (imports the league's methods)

        figure = league_figure_link(name, "results")
        return league_markdown(runs[name]) + (f"\n{figure}\n" if figure else "") + "\n" + source(runs[name])

    return render


def readme_league(runs: Runs) -> str | None:
    """README.md's results open with the newest league there is, today's defaults first."""
    for name, title in LEAGUES:
        if name in runs:
            from benchmarks.league.league import league_markdown  # (imports the league's methods)

            lines = [
                f"**{title}** (`{LEAGUE_COMMANDS[name]}`; rows not run yet are said so):\n",
                league_markdown(runs[name]),
                "",
            ]
            figure = league_figure_link(name, "benchmarks/results")
            return "\n".join(lines + ([figure, ""] if figure else []))
    return None


def league_results(runs: Runs) -> dict:
    """The newest league's per-set results (MiniRocket beside README.md's headlines), {} when none has run."""
    return next((runs[name]["results"] for name, _ in LEAGUES if name in runs), {})


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


def league_figure_link(name: str, folder: str) -> str:
    """Markdown for the league's figure (benchmarks/league/league.py writes it beside the aggregate), `folder`
    relative to the page that shows it; empty when there is no figure."""
    if not (RESULTS_DIR / f"{name}.png").exists():
        return ""
    return f"![{name}: each method's test accuracy minus MiniRocket's]({folder}/{name}.png)"


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
        f"Mean validation accuracy % over the {len(record['datasets'])} league sets' train-split folds "
        f"({record['protocol']}). {REFERENCE_NAME} on the same folds: {reference['mean_validation_accuracy']:.2f} over "
        f"{reference['datasets']} sets.",
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


STUDIES = (
    Study(
        "league",
        "benchmarks.league.league",
        "TimeMAE beside the classifiers practitioners use, each test split read once",
        sections=tuple(
            Section(f"### {title}", (name,), league_section(name), 10 + index)
            for index, (name, title) in enumerate(LEAGUES)
        ),
        rows=True,
        readme_lead=readme_league,
        reference_results=league_results,
        first_screen=lambda runs: first_screen(runs.get("league_base"), runs.get("timemae_base_validation")),
    ),
    Study(
        "timemae_base_validation",
        "benchmarks.league.timemae_base_validation",
        "Which pre-training step and feature layer of timemae-base, chosen on train-split folds?",
        sections=(
            Section.of_run(
                "### timemae-base: pre-training steps and feature layer, chosen on validation",
                "timemae_base_validation",
                timemae_base_validation,
                20,
            ),
        ),
    ),
    Study(
        "estimator_defaults",
        "benchmarks.league.estimator_defaults",
        "Which TimeMAEClassifier defaults, chosen on folds of the league's train splits?",
        rows=True,
    ),
    Study(
        "any_dataset",
        "benchmarks.league.any_dataset",
        "The same commands on other data sets",
        sections=(Section.of_run("### Other data sets, through the same commands", "any_dataset", any_dataset, 80),),
    ),
)
