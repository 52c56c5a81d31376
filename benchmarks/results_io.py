"""Write benchmark results as JSON with what is needed to trust and reproduce them."""

import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def script_command(script_file: str, argv: list[str] | None) -> str:
    """The command line that reproduces this run, from the repository root."""
    argv = sys.argv[1:] if argv is None else argv
    script = Path(script_file).resolve().relative_to(Path(__file__).resolve().parents[1])
    return " ".join(shlex.quote(arg) for arg in ["python", str(script), *argv])


def git_state() -> dict:
    """The commit this checkout is at and whether its code differs from it."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
        # Code that differs from the commit; results files and docs being rewritten by a study do not count.
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                     ":!benchmarks/results", ":!*.md"], cwd=root, capture_output=True,
                                    text=True).stdout.strip())  # fmt: skip
    except OSError:
        sha, dirty = "", False
    return {"git_sha": sha or "unknown", "git_dirty": dirty}


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), since `platform.processor()` is often just "x86_64"."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device() -> dict:
    """The machine a number was measured on: speed and, through kernels and threads, accuracy depend on it."""
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def library_versions() -> dict:
    """Versions of the libraries a result depends on (from package metadata, so nothing is imported); those not
    installed are left out."""
    versions = {"python": platform.python_version()}
    for name in ["torch", "transformers", "scikit-learn", "datasets", "accelerate", "numpy", "aeon"]:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def provenance(started_at: float, command: str) -> dict:
    """Git sha, exact command, machine and library versions of this run."""
    return {
        **git_state(),
        "command": command,
        "machine": device(),
        "versions": library_versions(),
        "wall_time_s": round(time.time() - started_at, 2),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_result(name: str, payload: dict, started_at: float, command: str, smoke: bool = False) -> Path:
    """Print the result as JSON and write it to benchmarks/results/<name>.json (smoke runs: <name>.smoke.json)."""
    record = {"benchmark": name, "smoke": smoke, **payload, "provenance": provenance(started_at, command)}
    print(json.dumps(record, indent=2))
    return write_json(RESULTS_DIR / f"{name}{'.smoke' if smoke else ''}.json", record)


def write_json(path: Path, record: dict) -> Path:
    """Write `record` to `path` through a temporary file, so a crash never leaves a half-written results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return path
