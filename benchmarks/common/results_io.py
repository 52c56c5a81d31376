"""Write benchmark results as JSON with what is needed to trust and reproduce them."""

import json
import os
import shlex
import sys
import time
from pathlib import Path

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


# Run folders this process trained or reused (benchmarks/common/launch.py notes them): their provenance goes into the results.
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


def write_result(name: str, payload: dict, started_at: float, command: str, smoke: bool = False) -> Path:
    """Print the result as JSON and write it to benchmarks/results/<name>.json (smoke runs: <name>.smoke.json).

    `provenance` says how this file was made (its command, commit, machine); `runs` holds the provenance of each run
    folder it aggregates, which may have been trained at other commits, on other machines, with other flags: the runs
    this process used, added to those the payload already names (a later stage keeps its earlier stages' runs)."""
    record = {"benchmark": name, "smoke": smoke, **payload, "provenance": provenance(started_at, command)}
    if RUNS_USED:
        record["runs"] = {**payload.get("runs", {}), **runs_provenance(RUNS_USED)}
    print(json.dumps(record, indent=2))
    return write_json(RESULTS_DIR / f"{name}{'.smoke' if smoke else ''}.json", record)


def write_json(path: Path, record: dict) -> Path:
    """Write `record` to `path` through a temporary file, so a crash never leaves a half-written results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return path
