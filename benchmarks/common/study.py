"""What each study declares, so that the READMEs' results are written from its results file and nothing else.

A study is one question and the script that answers it, e.g. `har_study` (`python -m benchmarks.har.har_study`), whose
runs, its first and every follow-up (har_study, har_study_10, har_study_60, ...), are in ONE results file,
benchmarks/results/<study>.json, its rows (where it has some) in benchmarks/results/<study>.jsonl. Each benchmark group
declares its studies in its `studies.py` (`STUDIES`): the results file, the script, the question, the sections of
benchmarks/README.md with how each renders, and the README.md headlines it gives. `studies()` finds them by walking
the benchmark packages; `python -m benchmarks.common.report` renders them.
"""

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import benchmarks
from benchmarks.common.ledger import target_history
from benchmarks.common.results_io import REPOSITORY_ROOT, RESULTS_DIR, read_study, study_file

Runs = dict[str, dict]  # every run of every study with a results file, by run name (run names are unique)


@dataclass(frozen=True)
class Section:
    """One table of benchmarks/README.md: its title, the runs it shows (it is written when the first exists, and the
    others it needs are listed as not run yet), its place among all sections, and how it renders from the runs."""

    title: str
    needs: tuple[str, ...]
    render: Callable[[Runs], str]
    order: int

    @classmethod
    def of_run(cls, title: str, run: str, render: Callable[[dict], str], order: int) -> "Section":
        """A section that shows one run: `render(record)`, written once `run` exists."""
        return cls(title, (run,), lambda runs: render(runs[run]), order)


@dataclass(frozen=True)
class Headline:
    """A row of README.md's headline table: the test-read ledger's target, what it is, the run and the keys leading
    to its mean +- std, and the league set of the same labelled windows (MiniRocket's number beside it)."""

    target: str
    label: str
    run: str
    keys: tuple[str, ...]
    league_set: str | None = None


@dataclass(frozen=True)
class Study:
    """A study's declaration: its results file is benchmarks/results/<name>.json (and .jsonl when `rows`)."""

    name: str
    script: str
    question: str
    sections: tuple[Section, ...] = ()
    rows: bool = False
    headlines: Callable[[Runs], list[Headline]] | None = None
    # extra lines under README.md's headline table (e.g. a study under way), and README.md's own blocks
    headline_note: Callable[[Runs], str] | None = None
    readme_lead: Callable[[Runs], str | None] | None = None
    first_screen: Callable[[Runs], str] | None = None
    # per-set results a headline's `league_set` is looked up in (the newest league's)
    reference_results: Callable[[Runs], dict] | None = None
    note: str = ""

    @property
    def command(self) -> str:
        return f"python -m {self.script}"

    @property
    def results_file(self) -> str:
        """Where the study's results are in the repository (what the READMEs name)."""
        return f"benchmarks/results/{self.name}.json"

    @property
    def rows_file(self) -> str | None:
        return f"benchmarks/results/{self.name}.jsonl" if self.rows else None


def studies() -> list[Study]:
    """Every study declared in a benchmark package's `studies.py`, in the packages' alphabetical order."""
    found = []
    for package in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda module: module.name):
        if not package.ispkg:
            continue
        path = Path(benchmarks.__path__[0]) / package.name / "studies.py"
        if path.exists():
            found += importlib.import_module(f"benchmarks.{package.name}.studies").STUDIES
    names = [study.name for study in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"studies declared twice: {duplicates}")
    return found


def load_runs(smoke: bool = False, results_dir: Path | None = None) -> tuple[Runs, dict[str, list[str]]]:
    """Every run of every declared study whose results file exists (smoke: the *.smoke.json files), by run name, and
    the runs each study's file holds, by study (none for a study not run yet): each file is read once."""
    runs, held = {}, {}
    for study in studies():
        records = read_study(study_file(study.name, smoke, results_dir or RESULTS_DIR))
        held[study.name] = list(records)
        for run, record in records.items():
            if run in runs:
                raise ValueError(f"the run {run!r} is in two studies' results files")
            runs[run] = record
    return runs, held


# ----------------------------------------------------------------------------------------------------------------------
# what every table uses

# Scripts by the name results made before the benchmarks were grouped record them under (`benchmarks/<script>.py`).
SCRIPT_PATHS = {
    path.name: path.relative_to(REPOSITORY_ROOT).as_posix()
    for path in (REPOSITORY_ROOT / "benchmarks").glob("*/*.py")
    if path.name not in ("__init__.py", "studies.py")
}
# Headlines and the test-read ledger's name for what they estimate (benchmarks/results/test_reads.json).
HEADLINE_TARGETS = {
    "har_probe_refit": "linear probe, refit on every training subject",
    "har_finetune_refit_100pct": "fine-tuning with all labels, refit",
    "har_finetune_refit_10pct": "fine-tuning with 10 % of the labels, refit",
    "har_finetune_refit_1pct": "fine-tuning with 1 % of the labels, refit",
}


def as_run_today(text: str) -> str:
    """`text` with an older record's `python benchmarks/<script>.py` written as the command that runs the same script
    today, `python -m benchmarks.<group>.<script>`, and `benchmarks/<script>.py` as the script's path today."""

    def command(match: re.Match) -> str:
        if match.group(1) not in SCRIPT_PATHS:
            return match.group(0)
        return "python -m " + SCRIPT_PATHS[match.group(1)].removesuffix(".py").replace("/", ".")

    text = re.sub(r"python benchmarks/(\w+\.py)", command, text)
    return re.sub(r"(?<![\w/])benchmarks/(\w+\.py)", lambda match: SCRIPT_PATHS.get(match.group(1), match[0]), text)


def current_results_paths(text: str, held: dict[str, list[str]]) -> str:
    """`text` with an older record's `benchmarks/results/<run>.json`, a file of one run, written as where that run is
    now: `benchmarks/results/<study>.json:<run>` (the form the scripts' results options take)."""
    moved = {run: study for study, runs in held.items() for run in runs if run != study}
    return re.sub(
        r"benchmarks/results/(\w+)\.json\b(?!:)",
        lambda match: (
            f"benchmarks/results/{moved[match.group(1)]}.json:{match.group(1)}"
            if match.group(1) in moved
            else match.group(0)
        ),
        text,
    )


def pm(summary: dict | None) -> str:
    """'mean ± std' of a `benchmarks.common.stats.mean_std` summary ('mean' for one seed), '—' where none applies."""
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


test_reads_line.__test__ = False  # a renderer, not a pytest test, despite its name
