"""Write benchmark results as JSON with what is needed to trust and reproduce them.

One study, one results file: benchmarks/results/<study>.json maps each run of the study (its first run and every
follow-up, e.g. har_study, har_study_10, har_study_60) to its record; a study made of many rows (a league's
set x method x seed) also appends each row, as it finishes, to benchmarks/results/<study>.jsonl, which a rerun reads
back to skip what is done; figures are benchmarks/results/<study>*.png."""

import hashlib
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from timemae_hf.data.uci_har import HAR_PATH_ENV_VAR
from training.run_provenance import RUN_PROVENANCE_FILE, device, file_sha256, git_state, library_versions

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPOSITORY_ROOT / "benchmarks" / "results"
# The HAR copy every committed HAR result was measured on (../shared/data/UCI HAR Dataset.zip), by its sha256.
REDERIVED_HAR_SHA256 = "4818420dc290c30769fc08c3de9aa651ef7c909a14f4af84cabeeb76dd398db3"
REDERIVED_HAR_NOTE = (
    "UCI HAR as re-derived from the raw 50 Hz recordings of the same 30 volunteers (the official archive could not be "
    "downloaded; ../shared/data/README.md): the test split is exactly the official 2947 windows (same positions, "
    "labels, subjects and order); the official-train subjects give 7439 windows against the official 7352, cut by the "
    "same rule; accelerometer channels agree with the official values within about 0.012 g (median max-abs difference "
    "per window), the gyroscope channels were processed differently (correlation 0.84). Comparisons with published "
    "numbers (measured on the official files) are close, not like for like."
)
# This checkout's HAR copy, beside the repository (run from its root): the HAR benchmarks' default data. The library
# has no default folder (`timemae_hf.data.default_har_path` is $TIMEMAE_HAR_PATH or None, the official download).
REPOSITORY_HAR_PATH = os.path.join("..", "shared", "data", "UCI HAR Dataset.zip")


def default_har_path() -> str:
    """The HAR data a benchmark reads by default: $TIMEMAE_HAR_PATH, else this checkout's copy."""
    return os.environ.get(HAR_PATH_ENV_VAR) or REPOSITORY_HAR_PATH


# Run folders this process trained or reused (benchmarks/common/launch.py notes them): their provenance goes into the
# results.
RUNS_USED: list[Path] = []


def script_command(script_file: str, argv: list[str] | None) -> str:
    """The command line that reproduces this run, from the repository root: `python -m benchmarks.<group>.<script>`."""
    argv = sys.argv[1:] if argv is None else argv
    script = Path(script_file).resolve().relative_to(REPOSITORY_ROOT).with_suffix("")
    return " ".join(shlex.quote(arg) for arg in ["python", "-m", ".".join(script.parts), *argv])


def loaded_code_state(process: str) -> dict:
    """The commit (and dirty flag) of the code a long `process` loaded, taken when it starts: rows it writes later keep
    it even when commits land meanwhile (`provenance` reads the checkout when it is called)."""
    return {**git_state(), "git_state_taken": f"when the {process} started and loaded its code"}


def provenance(started_at: float, command: str) -> dict:
    """Git sha, exact command, machine and library versions of this process (the aggregation, for a results file
    that reads earlier runs: see `runs_provenance`)."""
    return {
        **git_state(),
        "command": command,
        "machine": device(),
        "versions": library_versions(),
        "wall_time_s": round(time.time() - started_at, 2),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def har_data_note(data_dir) -> dict:
    """Which copy of UCI HAR a result was measured on, for its results file: the re-derived copy, or another one."""
    if data_dir is None or not Path(data_dir).exists():
        return {"sha256": None, "note": f"not a local copy ({data_dir!r}): UCI HAR as the loader downloaded it"}
    sha256 = file_sha256(Path(data_dir))
    note = (
        REDERIVED_HAR_NOTE
        if sha256 == REDERIVED_HAR_SHA256
        else "a copy of UCI HAR other than the re-derived one the committed results used (another sha256)"
    )
    return {"sha256": sha256, "note": note}


def note_run(output_dir) -> None:
    """Remember a run folder whose results this process aggregates, so `write_result` copies its provenance."""
    output_dir = Path(output_dir).resolve()
    if output_dir not in RUNS_USED:
        RUNS_USED.append(output_dir)


def runs_provenance(run_dirs) -> dict:
    """Each run folder's own provenance (its `run_provenance.json`), by repository-relative folder; runs made before
    the training scripts recorded it say so instead."""
    runs = {}
    for run_dir in run_dirs:
        path = Path(run_dir) / RUN_PROVENANCE_FILE
        name = Path(run_dir).resolve()
        name = str(name.relative_to(REPOSITORY_ROOT)) if name.is_relative_to(REPOSITORY_ROOT) else str(run_dir)
        runs[name] = (
            json.loads(path.read_text())
            if path.exists()
            else f"no {RUN_PROVENANCE_FILE} (the run was made before the training scripts recorded it)"
        )
    return runs


def study_file(study: str, smoke: bool = False, results_dir: Path | None = None) -> Path:
    """benchmarks/results/<study>.json (smoke runs: <study>.smoke.json): every run of one study, by run name."""
    return Path(results_dir or RESULTS_DIR) / f"{study}{'.smoke' if smoke else ''}.json"


def rows_file(study: str, smoke: bool = False, results_dir: Path | None = None) -> Path:
    """benchmarks/results/<study>.jsonl: the study's rows, one JSON object a line, appended as each finishes."""
    return Path(results_dir or RESULTS_DIR) / f"{study}{'.smoke' if smoke else ''}.jsonl"


def figure_file(study: str, run: str, suffix: str = "", smoke: bool = False, results_dir: Path | None = None) -> Path:
    """A run's figure beside its study's results: <run><suffix>.png when the run is named after its study (the first
    run, or a follow-up such as har_study_60), else <study>_<run><suffix>.png, so every figure starts with its study."""
    stem = run if run.startswith(study) else f"{study}_{run}"
    return Path(results_dir or RESULTS_DIR) / f"{stem}{suffix}{'.smoke' if smoke else ''}.png"


def _lock(path: Path) -> FileLock:
    """A lock shared by every process writing `path`, kept outside the repository so it is never committed."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return FileLock(Path(tempfile.gettempdir()) / f"timemae_results_{digest}.lock")


def read_study(path: Path) -> dict:
    """{run name: record} of a study's results file; {} when it does not exist yet."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def read_result(study: str, run: str | None = None, smoke: bool = False, results_dir: Path | None = None):
    """One run's record (default: the run named after the study), or None when it has not been run."""
    return read_study(study_file(study, smoke, results_dir)).get(run or study)


def load_results(spec: str | Path) -> dict:
    """A record from the command line: `benchmarks/results/<study>.json` (the run named after the study, or its only
    run) or `benchmarks/results/<study>.json:<run>`; a file of one record (a smoke or an older run) as it is."""
    path, _, run = str(spec).partition(".json:")
    path = Path(path if run else spec)
    if run:
        path = path.with_name(path.name + ".json")
    record = json.loads(path.read_text())
    if "provenance" in record or isinstance(record.get("benchmark"), str):  # one record, not a study's runs
        return record
    if not run:
        study = path.name.removesuffix(".json").removesuffix(".smoke")
        run = study if study in record or len(record) != 1 else next(iter(record))
    if run not in record:
        raise KeyError(f"{path} has no run {run!r}; its runs: {sorted(record)}")
    return record[run]


def write_run(study: str, run: str, record: dict, smoke: bool = False, results_dir: Path | None = None) -> Path:
    """Put `record` under `run` in the study's results file (a rerun of that run replaces it; other runs stay)."""
    path = study_file(study, smoke, results_dir)
    with _lock(path):
        runs = read_study(path)
        runs[run] = record
        return write_json(path, runs)


def write_result(study: str, run: str, payload: dict, started_at: float, command: str, smoke: bool = False) -> Path:
    """Print the result as JSON and write it under `run` in benchmarks/results/<study>.json (smoke runs:
    <study>.smoke.json).

    `provenance` says how this record was made (its command, commit, machine); `runs` holds the provenance of each run
    folder it aggregates, which may have been trained at other commits, on other machines, with other flags: the runs
    this process used, added to those the payload already names (a later stage keeps its earlier stages' runs)."""
    record = {"benchmark": run, "smoke": smoke, **payload, "provenance": provenance(started_at, command)}
    if RUNS_USED:
        record["runs"] = {**payload.get("runs", {}), **runs_provenance(RUNS_USED)}
    print(json.dumps(record, indent=2))
    return write_run(study, run, record, smoke)


def read_rows(path: Path, **fields) -> list[dict]:
    """The rows of a study's JSONL file whose `fields` have the given values (all rows without `fields`)."""
    path = Path(path)
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if all(row.get(name) == value for name, value in fields.items())]


def append_row(path: Path, row: dict) -> None:
    """Append one row to a study's JSONL file (one line, written whole under a lock: parallel writers lose nothing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock(path), path.open("a") as file:
        file.write(json.dumps(row) + "\n")


def replace_whole(destination: Path, write: Callable[[Path], None]) -> Path:
    """`write(folder)` into a temporary sibling of `destination`, which then replaces it: a failed write leaves the
    old folder as it was, never a half-written one."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=f".{destination.name}.") as staging:
        folder = Path(staging) / destination.name
        write(folder)
        if destination.exists():
            shutil.rmtree(destination)
        folder.rename(destination)
    return destination


def write_json(path: Path, record: dict) -> Path:
    """Write `record` to `path` through a temporary file, so a crash never leaves a half-written results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return path
