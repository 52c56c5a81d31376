"""UCI HAR (Human Activity Recognition Using Smartphones) as a `datasets` builder.

    from timemae_hf.data import load_har
    har = load_har("path/to/UCI HAR Dataset.zip")               # DatasetDict: train / validation / test
    har["train"][0]["past_values"].shape                          # torch.Size([128, 9])

Each example is one 2.56 s window: `past_values` (window_length, num_channels) = (128, 9) float32 in
`HAR_CHANNELS` order, `labels` in 0..5 (`HAR_ACTIVITIES`), and for the official files `subject`,
the volunteer id. Configs:

- "raw" (default): the official UCI files, from the UCI download URL, `UCI HAR Dataset.zip` or its
  extracted folder. "train" and "test" are the official splits; "validation" is carved out of the
  official train split by whole subjects (see `held_out_validation_subjects`), so no volunteer of
  the validation split is seen in training and nothing comes from the test split.
- "pt": a folder with the `train.pt` / `val.pt` / `test.pt` files of TS-TCC and the original
  TimeMAE code, kept as they are (val.pt -> "validation"; in TimeMAE's files val is a subset of train).

`datasets` 5 no longer runs loading scripts, so use the builder class directly or `load_har`.
"""

import os
from dataclasses import dataclass

import datasets
import numpy as np

from .series_file import source_fingerprint
from .uci_har_files import (
    HAR_ACTIVITIES,
    HAR_CHANNELS,
    HAR_WINDOW_LENGTH,
    PT_SPLIT_FILES,
    UCI_HAR_SPLITS,
    HarWindows,
    open_official_layout,
    read_official_split,
    read_pt_split,
)
from .validation_split import with_validation_description

UCI_HAR_URL = "https://archive.ics.uci.edu/static/public/240/human+activity+recognition+using+smartphones.zip"
HAR_PATH_ENV_VAR = "TIMEMAE_HAR_PATH"
HAR_DISPLAY_NAME = "UCI HAR"

_CITATION = """\
@inproceedings{anguita2013public,
  title={A Public Domain Dataset for Human Activity Recognition Using Smartphones},
  author={Anguita, Davide and Ghio, Alessandro and Oneto, Luca and Parra, Xavier and Reyes-Ortiz, Jorge Luis},
  booktitle={21st European Symposium on Artificial Neural Networks, ESANN},
  year={2013}
}
"""


def default_har_path() -> str | None:
    """Where the HAR archive lives: `$TIMEMAE_HAR_PATH`, else None (`load_har` then downloads the official archive).
    The library knows no folder of its own; a checkout's scripts and benchmarks may set their own default."""
    return os.environ.get(HAR_PATH_ENV_VAR) or None


def held_out_validation_subjects(train_subjects: np.ndarray, fraction: float) -> list[int]:
    """Train subjects that form the validation split, chosen without randomness.

    The sorted distinct ids are cut into k = round(fraction * num_subjects) (at least 1, at most
    num_subjects - 1) equal consecutive groups and the middle subject of each group is held out.
    With the 21 official train subjects and fraction 0.2 that is subjects 5, 14, 22 and 28.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_subject_fraction must lie strictly between 0 and 1, got {fraction}.")
    subject_ids = np.unique(train_subjects)
    if len(subject_ids) < 2:
        raise ValueError(
            f"The train split has only subject(s) {subject_ids.tolist()}; a validation split of held-out "
            "train subjects needs at least two."
        )
    num_held_out = min(len(subject_ids) - 1, max(1, round(fraction * len(subject_ids))))
    group_size = len(subject_ids) / num_held_out
    return [int(subject_ids[int((group + 0.5) * group_size)]) for group in range(num_held_out)]


@dataclass
class UciHarConfig(datasets.BuilderConfig):
    """Which files to read; every field also names the cache, so changing one prepares afresh.

    Args:
        source_url: archive downloaded when `data_dir` is None (the official UCI zip, which holds
            'UCI HAR Dataset.zip'); a local path or file:// URL works too.
        validation_subject_fraction: share of train subjects held out as "validation" ("raw" only).
    """

    source_url: str = UCI_HAR_URL
    validation_subject_fraction: float = 0.2


class UciHar(datasets.GeneratorBasedBuilder):
    """UCI HAR windows for TimeMAE: past_values (128, 9) float32, labels 0..5, subject (raw)."""

    # 1.1.0: the splits' description says how the validation split was made (earlier caches lack it).
    VERSION = datasets.Version("1.1.0")
    BUILDER_CONFIG_CLASS = UciHarConfig
    BUILDER_CONFIGS = [
        UciHarConfig(
            name="raw", version=VERSION, description="Official UCI files; validation = held-out train subjects."
        ),
        UciHarConfig(name="pt", version=VERSION, description="TS-TCC / TimeMAE train.pt, val.pt, test.pt as they are."),
    ]
    DEFAULT_CONFIG_NAME = "raw"

    def __init__(self, *args, data_dir: str | os.PathLike | None = None, hash: str | None = None, **kwargs):
        # The cache key holds the absolute data_dir and the size and mtime of its files, so two folders,
        # or one folder whose files were replaced, never share a prepared cache.
        if data_dir is not None:
            data_dir = os.path.abspath(os.fspath(data_dir))
            if not os.path.exists(data_dir):
                raise FileNotFoundError(
                    f"HAR data_dir '{data_dir}' does not exist. Pass the path of 'UCI HAR Dataset.zip', of its "
                    f"extracted folder, or (config_name='pt') of a folder with train.pt, val.pt and test.pt; "
                    f"or set {HAR_PATH_ENV_VAR}."
                )
            hash = hash or source_fingerprint(data_dir)
        super().__init__(*args, data_dir=data_dir, hash=hash, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        features = {
            "past_values": datasets.Array2D(shape=(HAR_WINDOW_LENGTH, len(HAR_CHANNELS)), dtype="float32"),
            "labels": datasets.ClassLabel(names=list(HAR_ACTIVITIES)),
        }
        if self.config.name == "raw":
            features["subject"] = datasets.Value("int32")
        return datasets.DatasetInfo(
            description=f"UCI HAR inertial windows, channels {', '.join(HAR_CHANNELS)}.",
            features=datasets.Features(features),
            supervised_keys=("past_values", "labels"),
            homepage="https://archive.ics.uci.edu/dataset/240/human+activity+recognition+using+smartphones",
            citation=_CITATION,
            license="CC BY 4.0",
        )

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        # Every file is read and checked here, before the first example is written.
        if self.config.name == "pt":
            windows_by_split = self._read_pt_folder()
            validation = (
                "given (val.pt of the TS-TCC / TimeMAE files, a subset of their train.pt: not held out from training)"
            )
        else:
            windows_by_split = self._read_official_archive(dl_manager)
            subjects = np.unique(windows_by_split[datasets.Split.VALIDATION].subjects).tolist()
            validation = f"held-out train subjects {', '.join(str(subject) for subject in subjects)}"
        # Saved with the prepared cache, so every split read from it says how its validation split was made.
        self.info.description = with_validation_description(self.info.description, validation)
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"windows": windows})
            for split, windows in windows_by_split.items()
        ]

    def _read_pt_folder(self) -> dict[str, HarWindows]:
        if self.config.data_dir is None:
            raise ValueError("config_name='pt' needs data_dir, a folder holding train.pt, val.pt and test.pt.")
        if not os.path.isdir(self.config.data_dir):
            raise ValueError(
                f"HAR data_dir '{self.config.data_dir}' is a file; config_name='pt' needs the folder holding "
                "train.pt, val.pt and test.pt (use config_name='raw' for 'UCI HAR Dataset.zip')."
            )
        return {
            split: read_pt_split(os.path.join(self.config.data_dir, file_name))
            for split, file_name in PT_SPLIT_FILES.items()
        }

    def _read_official_archive(self, dl_manager: datasets.DownloadManager) -> dict[str, HarWindows]:
        source = self.config.data_dir
        if source is None:
            try:
                source = dl_manager.download(self.config.source_url)
            except OSError as error:
                raise FileNotFoundError(
                    f"Could not download UCI HAR from '{self.config.source_url}' ({type(error).__name__}: {error}). "
                    "Download it elsewhere and pass data_dir='path/to/UCI HAR Dataset.zip' "
                    f"(or set {HAR_PATH_ENV_VAR})."
                ) from error
        layout = open_official_layout(source)
        official = {split: read_official_split(layout, split) for split in UCI_HAR_SPLITS}

        train = official["train"]
        validation_subjects = held_out_validation_subjects(train.subjects, self.config.validation_subject_fraction)
        in_validation = np.isin(train.subjects, validation_subjects)
        return {
            datasets.Split.TRAIN: _select_windows(train, ~in_validation),
            datasets.Split.VALIDATION: _select_windows(train, in_validation),
            datasets.Split.TEST: official["test"],
        }

    def _generate_examples(self, windows: HarWindows):
        """Yields (row, example): past_values (window_length, num_channels), labels, subject (raw)."""
        for row, (past_values, label) in enumerate(zip(windows.past_values, windows.labels, strict=True)):
            example = {"past_values": past_values, "labels": int(label)}
            if windows.subjects is not None:
                example["subject"] = int(windows.subjects[row])
            yield row, example


def _select_windows(windows: HarWindows, keep: np.ndarray) -> HarWindows:
    return HarWindows(
        past_values=windows.past_values[keep], labels=windows.labels[keep], subjects=windows.subjects[keep]
    )


def load_har(
    data_dir: str | os.PathLike | None = None,
    config_name: str = "raw",
    cache_dir: str | None = None,
    **config_kwargs,
) -> datasets.DatasetDict:
    """HAR splits "train", "validation", "test", torch-formatted, prepared once and then read from cache.

    Args:
        data_dir: 'UCI HAR Dataset.zip', its extracted folder, or (config_name="pt") a folder with
            train.pt, val.pt and test.pt. None downloads the official archive (needs internet).
        config_name: "raw" for the official files, "pt" for the TS-TCC / TimeMAE `.pt` files.
        cache_dir: where prepared Arrow files live (default: the `datasets` cache).
        config_kwargs: `UciHarConfig` fields, e.g. `validation_subject_fraction=0.25`.

    Returns:
        DatasetDict whose rows hold `past_values` (128, 9) float32, `labels` int64 and (raw) `subject`.
    """
    builder = UciHar(config_name=config_name, data_dir=data_dir, cache_dir=cache_dir, **config_kwargs)
    builder.download_and_prepare()
    splits = builder.as_dataset().with_format("torch")
    for split in splits.values():
        split.info.dataset_name = HAR_DISPLAY_NAME  # what logs and model cards call it (`dataset_display_name`)
    return splits
