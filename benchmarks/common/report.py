"""Write the READMEs' results (Markdown) from the studies' results files, so the READMEs quote them exactly.

    python -m benchmarks.common.report            # every study whose results file exists
    python -m benchmarks.common.report --smoke    # the same from the *.smoke.json files (what the tests check)
    python -m benchmarks.common.report --update_readme   # write them between the results markers of the two READMEs

What is written comes from each study's declaration (`STUDIES` in benchmarks/<group>/studies.py; see
benchmarks/common/study.py): benchmarks/README.md holds a map of the studies (question, command, results file) and
then every study's sections, in their declared order, each followed by the command that produced its numbers (from
the results file's provenance); README.md holds the headlines the studies declare (with their test-read counts from
benchmarks/results/test_reads.json) and a link to the rest. Sections whose runs have not been made yet are listed at
the end instead of being left out silently. tests/test_readme_results.py checks that the committed READMEs say what
this writes.
"""

import argparse
from pathlib import Path

from benchmarks.common.ledger import target_history
from benchmarks.common.results_io import REPOSITORY_ROOT
from benchmarks.common.study import Runs, as_run_today, current_results_paths, load_runs, pm, studies

README_MARKERS = (
    "<!-- results tables: python -m benchmarks.common.report --update_readme -->",
    "<!-- end of results tables -->",
)
# README.md's first screen: the practitioner's question, answered by the league of timemae-base.
FIRST_SCREEN_MARKERS = (
    "<!-- first-screen table: python -m benchmarks.common.report --update_readme -->",
    "<!-- end of first-screen table -->",
)
BENCHMARKS_README = REPOSITORY_ROOT / "benchmarks" / "README.md"
README = REPOSITORY_ROOT / "README.md"


def study_map(held: dict[str, list[str]]) -> str:
    """Where every number below comes from: each study's question, the command that runs it, its results file and
    the runs `held` in it."""
    lines = [
        "### Where each number comes from\n",
        "| study | question | command | results file: runs |",
        "|---|---|---|---|",
    ]
    for study in sorted(studies(), key=lambda study: (study.script, study.name)):
        files = f"`{study.results_file}`" + (f" (rows: `{study.rows_file}`)" if study.rows_file else "")
        in_file = f"{files}: {', '.join(held[study.name])}" if held.get(study.name) else study.note or "not run yet"
        lines.append(f"| {study.name} | {study.question} | `{study.command}` | {in_file} |")
    return "\n".join(lines) + "\n"


def benchmarks_report(runs: Runs, held: dict[str, list[str]]) -> str:
    """benchmarks/README.md's results: the map of the studies (`held`: each one's runs), then every section in its
    declared order."""
    sections, missing = [study_map(held)], []
    declared = sorted((section for study in studies() for section in study.sections), key=lambda s: s.order)
    for section in declared:
        absent = [name for name in section.needs if name not in runs]
        if absent:
            missing += [name for name in absent if name not in missing]
            continue
        sections.append(f"{section.title}\n\n" + section.render(runs))
    if missing:
        sections.append("Not run yet: " + ", ".join(f"`{name}`" for name in missing) + ".\n")
    return as_run_today(current_results_paths("\n".join(section.rstrip() + "\n" for section in sections), held))


def ordinal(number: int) -> str:
    return f"{number}{'th' if 10 <= number % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"


def headlines(runs: Runs, lead: str | None = None, league_results: dict | None = None, held=None) -> str:
    """README.md's results: `lead` first (the newest league), then the headlines the studies declare, each with which
    test read of its target it was, beside MiniRocket's test accuracy from the league on the same labelled windows
    (`league_results`: the league's `results`), and a link to the rest. `held`: each study's runs (default: those of
    the committed results files)."""
    held = load_runs()[1] if held is None else held
    study_of = {run: study for study in studies() for run in held.get(study.name, [])}

    def minirocket(league_set: str | None) -> str:
        methods = (league_results or {}).get(league_set, {}).get("methods", {})
        return pm(methods["MiniRocket"]["accuracy_percent"]) if "MiniRocket" in methods else "—"

    lines = [
        "| UCI HAR, the re-derived copy (seeds 3407, 1, 2) | test accuracy | MiniRocket, same labels (league) | "
        "test read of this target | results file |",
        "|---|---|---|---|---|",
    ]
    rows = [row for study in studies() if study.headlines for row in study.headlines(runs)]
    for row in rows:
        if row.run not in runs:
            continue
        summary = runs[row.run]
        for key in row.keys:
            summary = summary[key]
        history = target_history(row.target)
        position = next((i for i, (_, value) in enumerate(history, 1) if value == summary["mean"]), None)
        read = f"{ordinal(position)} of {len(history)}" if position else "not in the ledger"
        study = study_of.get(row.run)
        where = f"`{study.results_file}{f':{row.run}' if row.run != study.name else ''}`" if study else "—"
        lines.append(f"| {row.label} | **{pm(summary)}** | {minirocket(row.league_set)} | {read} | {where} |")
    notes = [note for study in studies() if study.headline_note for note in [study.headline_note(runs)] if note]
    return (
        "\n".join(([lead] if lead else []) + lines + notes) + "\n\nEvery test read, with what was decided after it: "
        "`benchmarks/results/test_reads.json`. The league beside other classifiers, every other table and the "
        "command under each: [benchmarks/README.md](benchmarks/README.md).\n"
    )


def readme_blocks(runs: Runs, held: dict[str, list[str]]) -> dict[tuple[str, str], str]:
    """README.md's generated blocks, by their markers: the results (headlines) and the first screen."""
    lead = next((text for study in studies() if study.readme_lead for text in [study.readme_lead(runs)] if text), None)
    league = next((study.reference_results(runs) for study in studies() if study.reference_results), None)
    first = next((study.first_screen(runs) for study in studies() if study.first_screen), "")
    return {
        README_MARKERS: as_run_today(current_results_paths(headlines(runs, lead, league, held), held)),
        FIRST_SCREEN_MARKERS: as_run_today(current_results_paths(first, held)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="read the *.smoke.json files")
    parser.add_argument(
        "--update_readme", action="store_true", help="write the tables into README.md between its results markers"
    )
    args = parser.parse_args(argv)
    runs, held = load_runs(smoke=args.smoke)
    report = benchmarks_report(runs, held)
    print(report)
    if args.update_readme:
        update_readme(BENCHMARKS_README, report)
        for markers, text in readme_blocks(runs, held).items():
            update_readme(README, text, markers)
    return report


def with_section(text: str, report: str, markers: tuple[str, str] = README_MARKERS, where: str = "the text") -> str:
    """`text` with `report` between its `markers`."""
    begin, end = markers
    if begin not in text or end not in text:
        raise ValueError(f"{where} lacks the results markers; put {begin!r} and {end!r} where the tables belong.")
    head, rest = text.split(begin, 1)
    return f"{head}{begin}\n\n{report}\n{end}{rest.split(end, 1)[1]}"


def update_readme(path: Path, report: str, markers: tuple[str, str] = README_MARKERS):
    path.write_text(with_section(path.read_text(), report, markers, str(path)))


if __name__ == "__main__":
    main()
