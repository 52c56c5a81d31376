"""Shared fixtures: the real HAR archive (skipped when absent) and small synthetic HAR sources."""

import gc
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
# The training scripts' helpers (arguments, data_setup, model_setup, ...) live beside them in training/, as in
# transformers' examples, and are imported as top-level modules, as `python training/<script>.py` finds them.
sys.path.insert(0, str(REPOSITORY_ROOT / "training"))
DEFAULT_REAL_HAR_PATH = REPOSITORY_ROOT.parent / "shared" / "data" / "UCI HAR Dataset.zip"

# Spelled out here rather than imported, so the synthetic files check the library against the official names.
HAR_CHANNELS = (
    "body_acc_x",
    "body_acc_y",
    "body_acc_z",
    "body_gyro_x",
    "body_gyro_y",
    "body_gyro_z",
    "total_acc_x",
    "total_acc_y",
    "total_acc_z",
)
SYNTHETIC_WINDOW_LENGTH = 128
SYNTHETIC_SUBJECTS = {"train": (1, 3, 5, 6, 7), "test": (2, 4)}
SYNTHETIC_WINDOWS_PER_SUBJECT = 6  # one window of every activity


def pytest_collection_finish(session):
    """Put what importing the test modules made (torch, transformers, scikit-learn: about half a million objects) out
    of the garbage collector's reach. Every `Trainer.train` ends with accelerate's `free_memory`, a full `gc.collect()`
    that would otherwise walk them all: most of a tiny in-process fit's time."""
    gc.freeze()


@pytest.fixture(scope="session")
def har_data_path() -> str:
    """The real 'UCI HAR Dataset.zip': $TIMEMAE_HAR_PATH, else <repo>/../shared/data/. Skips when absent, except under
    CI (`CI=true`), where a missing archive fails: a broken data path must not land green."""
    path = os.environ.get("TIMEMAE_HAR_PATH") or str(DEFAULT_REAL_HAR_PATH)
    if not os.path.exists(path):
        message = f"real HAR data not found at '{path}'; set TIMEMAE_HAR_PATH to 'UCI HAR Dataset.zip' to run this test"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true: {message} (CI runs every real-data test; a skip would hide a broken data path)")
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Every test's models are tiny, and tiny models run fastest on one thread: on a loaded 2-core machine two threads
    made a 40-step training loop ten times slower. Set again per test, since benchmark code sets its own count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def training_scripts_on_sys_path(monkeypatch):
    """The scripts' folder first on sys.path, as `python training/<script>.py` puts it, so a script run in this process
    (runpy) imports the helpers that live beside it."""
    monkeypatch.syspath_prepend(str(REPOSITORY_ROOT / "training"))


@dataclass
class BenchmarkOutputs:
    results: Path  # stands in for benchmarks/results (the JSON, PNG and report inputs)
    runs: Path  # stands in for benchmarks/runs (checkpoints and logs)


@pytest.fixture
def benchmark_outputs(tmp_path, monkeypatch) -> BenchmarkOutputs:
    """Sends what the benchmark scripts write (results and runs) into tmp_path instead of the repository.

    Every imported `benchmarks.*` module holding the repository's RESULTS_DIR or RUNS_DIR gets the temporary one. A
    module first imported during the test takes the temporary one from results_io and launch, and gets the
    repository's back when the test ends, so no later test inherits a deleted folder. The run folders a results file
    copies provenance from start empty, as in the fresh process a benchmark runs in.
    """
    from benchmarks.common import results_io
    from benchmarks.common.launch import RUNS_DIR
    from benchmarks.common.results_io import RESULTS_DIR

    outputs = BenchmarkOutputs(results=tmp_path / "benchmark_results", runs=tmp_path / "benchmark_runs")
    outputs.results.mkdir()  # both exist in the repository: scripts save figures into them before any JSON
    outputs.runs.mkdir()
    monkeypatch.setattr(results_io, "RUNS_USED", [])
    redirected = {"RESULTS_DIR": (RESULTS_DIR, outputs.results), "RUNS_DIR": (RUNS_DIR, outputs.runs)}

    def benchmark_modules():
        return [module for name, module in list(sys.modules.items()) if name.startswith("benchmarks.")]

    for module in benchmark_modules():
        for name, (repository_dir, temporary_dir) in redirected.items():
            if getattr(module, name, None) == repository_dir:
                monkeypatch.setattr(module, name, temporary_dir)
    yield outputs
    for module in benchmark_modules():  # monkeypatch restores the others
        for name, (repository_dir, temporary_dir) in redirected.items():
            if getattr(module, name, None) == temporary_dir:
                setattr(module, name, repository_dir)


@pytest.fixture(scope="session")
def har_dataset(har_data_path, tmp_path_factory):
    """The real HAR DatasetDict (train / validation / test, torch format), prepared once per test session."""
    from timemae_hf.data import load_har

    return load_har(data_dir=har_data_path, cache_dir=str(tmp_path_factory.mktemp("har_cache")))


@dataclass
class SyntheticUciHar:
    """A tiny UCI HAR source in the official layout, with the arrays that were written into it."""

    parent: Path  # folder that holds "UCI HAR Dataset/"
    past_values: dict = field(default_factory=dict)  # split -> (num_windows, window_length, 9) float32
    labels: dict = field(default_factory=dict)  # split -> (num_windows,) int64 in 0..5
    subjects: dict = field(default_factory=dict)  # split -> (num_windows,) int64

    @property
    def root(self) -> Path:
        return self.parent / "UCI HAR Dataset"

    def file(self, split: str, name: str) -> Path:
        """Path of `y`, `subject` or a channel name's file of `split`."""
        if name in ("y", "subject"):
            return self.root / split / f"{name}_{split}.txt"
        return self.root / split / "Inertial Signals" / f"{name}_{split}.txt"

    def write_zip(self, zip_path: Path, compression: int = zipfile.ZIP_DEFLATED) -> Path:
        """Zips the folder as the official 'UCI HAR Dataset.zip' (member names start 'UCI HAR Dataset/')."""
        with zipfile.ZipFile(zip_path, "w", compression=compression) as archive:
            for path in sorted(self.root.rglob("*")):
                archive.write(path, path.relative_to(self.parent).as_posix())
        return zip_path

    def write_download_zip(self, zip_path: Path) -> Path:
        """The shape of the UCI download: a zip holding 'UCI HAR Dataset.zip' and a .names file."""
        inner_zip = self.write_zip(zip_path.parent / "UCI HAR Dataset.zip")
        with zipfile.ZipFile(zip_path, "w") as archive:
            archive.write(inner_zip, "UCI HAR Dataset.zip")
            archive.writestr("UCI HAR Dataset.names", "Human Activity Recognition Using Smartphones\n")
        inner_zip.unlink()
        return zip_path


def write_synthetic_uci_har(parent: Path, seed: int = 0) -> SyntheticUciHar:
    """Writes random windows in the official text format (%.7e, leading spaces) under parent/'UCI HAR Dataset'."""
    generator = np.random.default_rng(seed)
    har = SyntheticUciHar(parent=Path(parent))
    for split, split_subjects in SYNTHETIC_SUBJECTS.items():
        num_windows = len(split_subjects) * SYNTHETIC_WINDOWS_PER_SUBJECT
        past_values = generator.normal(size=(num_windows, SYNTHETIC_WINDOW_LENGTH, len(HAR_CHANNELS)))
        har.past_values[split] = past_values.astype(np.float32)
        har.labels[split] = np.tile(np.arange(6), len(split_subjects))
        har.subjects[split] = np.repeat(split_subjects, SYNTHETIC_WINDOWS_PER_SUBJECT)
        (har.root / split / "Inertial Signals").mkdir(parents=True)
        np.savetxt(har.file(split, "y"), har.labels[split] + 1, fmt="%d")
        np.savetxt(har.file(split, "subject"), har.subjects[split], fmt="%d")
        for channel_index, channel in enumerate(HAR_CHANNELS):
            np.savetxt(har.file(split, channel), har.past_values[split][:, :, channel_index], fmt="%15.7e")
    return har


@pytest.fixture
def make_synthetic_uci_har(tmp_path):
    """Factory: make_synthetic_uci_har(name, seed=0) writes a tiny HAR source under tmp_path/name."""

    def make(name: str, seed: int = 0) -> SyntheticUciHar:
        return write_synthetic_uci_har(tmp_path / name, seed=seed)

    return make


@pytest.fixture
def synthetic_uci_har(make_synthetic_uci_har) -> SyntheticUciHar:
    """A fresh tiny official-layout HAR folder (5 train subjects, 2 test subjects, 6 windows each)."""
    return make_synthetic_uci_har("synthetic_har")


@pytest.fixture
def synthetic_pt_folder(tmp_path):
    """A tiny TS-TCC / TimeMAE `.pt` folder, returned as (folder, payloads).

    Each payload: samples (num_windows, 9, 128) float tensor, labels (num_windows,) in 0..5.
    """
    generator = torch.Generator().manual_seed(0)
    folder = tmp_path / "HAR"
    folder.mkdir()
    payloads = {}
    for file_name, num_windows in (("train.pt", 12), ("val.pt", 6), ("test.pt", 6)):
        payloads[file_name] = {
            "samples": torch.randn(num_windows, len(HAR_CHANNELS), SYNTHETIC_WINDOW_LENGTH, generator=generator),
            "labels": torch.arange(num_windows) % 6,
        }
        torch.save(payloads[file_name], folder / file_name)
    return folder, payloads
