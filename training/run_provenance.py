"""
What a run records about itself when its output folder is made, so a number can be traced to the run that made it:
`run_provenance.json` holds the commit (and whether the code differed from it), the command, every resolved argument
of the script's argument dataclasses, the model config with every behaviour flag (e.g. `fast_dropout`), the device,
the library versions and a fingerprint of the data.

    write_run_provenance(training_args, (model_args, data_args, training_args), model.config, data_args, splits)

Benchmark results that aggregate runs copy each run's file (benchmarks/common/results_io.py). Used by the scripts in
this folder and by benchmarks/; nothing in `timemae_hf` depends on it.
"""

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import time
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
RUN_PROVENANCE_FILE = "run_provenance.json"
LIBRARIES = ["timemae-hf", "torch", "transformers", "scikit-learn", "datasets", "accelerate", "numpy", "aeon"]


def git_state() -> dict:
    """The commit this checkout is at and whether its code differs from it (results files and docs being rewritten by
    a study do not count)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPOSITORY_ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results", ":!*.md"],
                cwd=REPOSITORY_ROOT,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
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
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def file_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files (relative names and contents, in sorted order)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def data_fingerprint(data_args, splits) -> dict:
    """Which data a run saw: the sha256 of each local file or folder it was given, each split's size and `datasets`
    fingerprint, and one sha256 over the files' hashes, the source names and the split sizes (equal for the same data
    wherever it lies)."""
    sources = {
        name: getattr(data_args, name, None)
        for name in ("dataset_name", "dataset_config_name", "data_dir", "train_file", "validation_file", "test_file")
    }
    files = {
        name: file_sha256(Path(value))
        for name, value in sources.items()
        if name not in ("dataset_name", "dataset_config_name") and value and Path(value).exists()
    }
    split_sizes = {name: split.num_rows if hasattr(split, "num_rows") else None for name, split in splits.items()}
    summary = {
        "files_sha256": files,
        "dataset_name": sources["dataset_name"],
        "dataset_config_name": sources["dataset_config_name"],
        "split_sizes": split_sizes,
    }
    return {
        "sha256": hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest(),
        **summary,
        "sources": sources,
        "datasets_fingerprints": {name: getattr(split, "_fingerprint", None) for name, split in splits.items()},
    }


def arguments_dict(arguments) -> dict:
    """Every field of an argument dataclass as JSON values (`TrainingArguments.to_dict` hides tokens)."""
    values = arguments.to_dict() if hasattr(arguments, "to_dict") else dataclasses.asdict(arguments)
    return json.loads(json.dumps(values, default=str))


def run_provenance(arguments: tuple, config=None, data_args=None, splits=None, command: str | None = None) -> dict:
    """The provenance of a run starting now (see the module docstring)."""
    from timemae_hf.training import training_command

    return {
        **git_state(),
        "command": command or training_command(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "arguments": {type(args).__name__: arguments_dict(args) for args in arguments},
        "model_config": config.to_dict() if config is not None else None,
        "device": device(),
        "versions": library_versions(),
        "data": data_fingerprint(data_args, splits) if data_args is not None and splits is not None else None,
    }


def write_run_provenance(training_args, arguments: tuple, config, data_args, splits) -> Path | None:
    """Write `run_provenance.json` into the run's output folder (main process only). A resumed run keeps what the
    earlier starts recorded, under `earlier_starts`."""
    if training_args.process_index != 0:
        return None
    path = Path(training_args.output_dir) / RUN_PROVENANCE_FILE
    record = run_provenance(arguments, config, data_args, splits)
    if path.exists():
        earlier = json.loads(path.read_text())
        record["earlier_starts"] = [*earlier.pop("earlier_starts", []), earlier]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2, default=str) + "\n")
    temporary.replace(path)
    return path
