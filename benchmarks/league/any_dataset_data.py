"""Public multivariate classification sets for the any-dataset benchmark, read from aeon's wheel.

    pip install --no-deps aeon==1.6.0          # the data files only: aeon itself is never imported
    python -m benchmarks.league.any_dataset_data      # prints what load_timeseries_dataset reads from them (JSON)

aeon ships a few UEA archive problems as `.ts` files inside its wheel (aeon/datasets/data/<Name>/<Name>_TRAIN.ts
and _TEST.ts). Two are multivariate classification sets:

- BasicMotions: 6 channels (3-D accelerometer + 3-D gyroscope of a smart watch), length 100, 4 classes
  (Standing, Running, Walking, Badminton), 40 train / 40 test cases, no missing values.
- JapaneseVowels: 12 channels (LPC cepstrum coefficients), variable length 7-29, 9 classes (speakers),
  270 train / 370 test cases, no missing values. aeon also ships JapaneseVowels_eq_*.ts, an equal-length
  version; the variable-length original is used here because handling ragged series is part of the point.

`--no-deps` matters: aeon 1.6.0 requires numba (with llvmlite), scipy, pandas, scikit-learn, deprecated and
more, none of which is needed to read two text files; the files are located with `importlib.metadata`, without
importing aeon. The data is not committed to this repository.

`PUBLISHED_ACCURACY` holds published test accuracies of other methods on the same train/test splits, with their
source. Only numbers found in text we could read are listed: Tóth, Oberhauser and Szabó's table (kernel and
random-feature methods). The UEA archive paper's DTW baselines (Bagnall et al. 2018) and Ruiz et al. 2021's "great
multivariate time series classification bake off" tables could not be read from here, so none of their numbers
are listed. The published table used the archive's own copies from timeseriesclassification.com (for
JapaneseVowels: its 2018 equal-length version, padded to length 29); the train/test cases are the same.
"""

import argparse
import importlib.metadata
import json
import os
from pathlib import Path

AEON_VERSION = "1.6.0"
AEON_INSTALL_COMMAND = f"pip install --no-deps aeon=={AEON_VERSION}"
BENCHMARK_DATASET_NAMES = ("BasicMotions", "JapaneseVowels")

PUBLISHED_ACCURACY = {
    "source": (
        "C. Tóth, H. Oberhauser, Z. Szabó, 'Random Fourier Signature Features', arXiv:2311.12214 (2023): test "
        "accuracy on the UEA multivariate datasets with N <= 1000, as reproduced in the README of "
        "https://github.com/tgcsaba/KSig ('Results' section)"
    ),
    "methods": {
        "RFSF-DP": "random Fourier signature features, diagonal projection",
        "RFSF-TRP": "random Fourier signature features, tensorised random projection",
        "KSig": "truncated signature kernel",
        "KSigPDE": "signature-PDE kernel",
        "RWS": "random warping series",
        "GAK": "global alignment kernel",
        "RBF": "RBF kernel",
        "RFF": "random Fourier features",
    },
    "accuracy": {
        "BasicMotions": {
            "RFSF-DP": 1.000,
            "RFSF-TRP": 1.000,
            "KSig": 1.000,
            "KSigPDE": 1.000,
            "RWS": 0.995,
            "GAK": 1.000,
            "RBF": 0.975,
            "RFF": 0.860,
        },
        "JapaneseVowels": {
            "RFSF-DP": 0.978,
            "RFSF-TRP": 0.978,
            "KSig": 0.986,
            "KSigPDE": 0.986,
            "RWS": 0.955,
            "GAK": 0.981,
            "RBF": 0.981,
            "RFF": 0.979,
        },
    },
}


def aeon_data_folder() -> Path:
    """aeon's `datasets/data` folder in the installed wheel; a clear error naming the pip command when absent."""
    try:
        distribution = importlib.metadata.distribution("aeon")
    except importlib.metadata.PackageNotFoundError as error:
        raise FileNotFoundError(
            f"The benchmark datasets are read from the aeon package's files, and aeon is not installed. Install it "
            f"without its dependencies (only its data files are used): {AEON_INSTALL_COMMAND}"
        ) from error
    folder = Path(distribution.locate_file("aeon/datasets/data"))
    if not folder.is_dir():
        raise FileNotFoundError(
            f"aeon {distribution.version} is installed but has no '{folder}'; install the version these benchmarks "
            f"were written for: {AEON_INSTALL_COMMAND}"
        )
    return folder


def benchmark_data_files(name: str) -> dict[str, str]:
    """{"train": path, "test": path}: one set's `.ts` files, for `load_timeseries_dataset(data_files=...)`."""
    if name not in BENCHMARK_DATASET_NAMES:
        raise ValueError(f"Unknown benchmark dataset '{name}'; choose one of {list(BENCHMARK_DATASET_NAMES)}.")
    folder = aeon_data_folder() / name
    data_files = {split: str(folder / f"{name}_{split.upper()}.ts") for split in ("train", "test")}
    for path in data_files.values():
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"'{path}' is missing from the installed aeon ({importlib.metadata.version('aeon')}); "
                f"{AEON_INSTALL_COMMAND}"
            )
    return data_files


def describe_benchmark_dataset(name: str, cache_dir: str | None = None) -> dict:
    """What `load_timeseries_dataset` reads from one set: split sizes, channels, lengths, classes, missing values."""
    import numpy as np

    from timemae_hf.data import load_timeseries_dataset, series_shape, validation_split_description

    splits = load_timeseries_dataset(data_files=benchmark_data_files(name), cache_dir=cache_dir)
    description = {
        "aeon_version": importlib.metadata.version("aeon"),
        "class_names": splits["train"].features["labels"].names,
        "validation_split": validation_split_description(splits),
        "splits": {},
    }
    for split, dataset in splits.items():
        windows = list(dataset.with_format("numpy")["past_values"])
        lengths = [len(window) for window in windows]
        description["splits"][split] = {
            "num_windows": len(dataset),
            "max_length_and_channels": list(series_shape(dataset)),
            "min_length": min(lengths),
            "missing_values": int(sum(np.isnan(window).sum() for window in windows)),
            "class_counts": np.bincount(dataset["labels"], minlength=len(description["class_names"])).tolist(),
        }
    return description


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(BENCHMARK_DATASET_NAMES))
    parser.add_argument("--cache_dir", default=None, help="where prepared Arrow files go (default: datasets cache)")
    args = parser.parse_args(argv)
    report = {
        name: {"data_files": benchmark_data_files(name), **describe_benchmark_dataset(name, args.cache_dir)}
        for name in args.datasets
    }
    report["published_accuracy"] = PUBLISHED_ACCURACY
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
