"""The HAR builder: every source form loads the same windows, bad sources fail clearly and leave no cache."""

import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from timemae_hf.data import (
    HAR_ACTIVITIES,
    HAR_CHANNELS,
    UciHar,
    compute_channel_statistics,
    default_har_path,
    held_out_validation_subjects,
    load_har,
)


def _as_numpy(dataset) -> dict:
    """All columns of a split as numpy arrays (past_values: (num_windows, 128, 9))."""
    return dataset.with_format("numpy")[:]


def _assert_no_prepared_cache(cache_dir: Path) -> None:
    leftovers = [
        path
        for path in Path(cache_dir).rglob("*")
        if path.suffix == ".arrow" or path.name == "dataset_info.json" or path.name.endswith(".incomplete")
    ]
    assert leftovers == [], f"a failed preparation left {leftovers}"


def _expected_splits(har, fraction: float = 0.2) -> dict:
    """What train / validation / test must hold for a synthetic source, by the held-out-subject rule."""
    validation_subjects = held_out_validation_subjects(har.subjects["train"], fraction)
    in_validation = np.isin(har.subjects["train"], validation_subjects)
    expected = {}
    for split, rows in (("train", ~in_validation), ("validation", in_validation)):
        expected[split] = {
            "past_values": har.past_values["train"][rows],
            "labels": har.labels["train"][rows],
            "subject": har.subjects["train"][rows],
        }
    expected["test"] = {
        "past_values": har.past_values["test"],
        "labels": har.labels["test"],
        "subject": har.subjects["test"],
    }
    return expected


def _assert_splits_equal(dataset_dict, expected: dict) -> None:
    assert set(dataset_dict) == set(expected)
    for split, columns in expected.items():
        loaded = _as_numpy(dataset_dict[split])
        np.testing.assert_allclose(loaded["past_values"], columns["past_values"], rtol=1e-6, atol=0)
        np.testing.assert_array_equal(loaded["labels"], columns["labels"])
        if "subject" in columns:
            np.testing.assert_array_equal(loaded["subject"], columns["subject"])


# --- every source form -------------------------------------------------------------------------


@pytest.mark.parametrize("source_form", ["extracted_root", "folder_above_root", "zip", "zip_in_folder", "download_url"])
def test_every_source_form_loads_the_windows_that_were_written(synthetic_uci_har, tmp_path, source_form):
    har = synthetic_uci_har
    kwargs = {}
    if source_form == "extracted_root":
        kwargs["data_dir"] = har.root
    elif source_form == "folder_above_root":
        kwargs["data_dir"] = har.parent
    elif source_form == "zip":
        kwargs["data_dir"] = har.write_zip(tmp_path / "UCI HAR Dataset.zip")
    elif source_form == "zip_in_folder":
        (tmp_path / "downloads").mkdir()
        har.write_zip(tmp_path / "downloads" / "UCI HAR Dataset.zip")
        kwargs["data_dir"] = tmp_path / "downloads"
    else:  # the default code path: download_manager.download(source_url), a zip holding 'UCI HAR Dataset.zip'
        download = har.write_download_zip(tmp_path / "human+activity+recognition+using+smartphones.zip")
        kwargs["source_url"] = f"file://{download}"  # not as_uri(): datasets does not undo its %2B escapes

    har_splits = load_har(cache_dir=str(tmp_path / "cache"), **kwargs)

    _assert_splits_equal(har_splits, _expected_splits(har))


def test_rows_are_torch_tensors_with_the_documented_features(synthetic_uci_har, tmp_path):
    har_splits = load_har(data_dir=synthetic_uci_har.root, cache_dir=str(tmp_path / "cache"))

    features = har_splits["train"].features
    assert features["past_values"].shape == (128, len(HAR_CHANNELS))
    assert features["past_values"].dtype == "float32"
    assert features["labels"].names == list(HAR_ACTIVITIES)
    assert HAR_CHANNELS == (
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
    row = har_splits["test"][0]
    assert row["past_values"].shape == (128, 9) and row["past_values"].dtype == torch.float32
    assert row["labels"].dtype == torch.int64
    batch = har_splits["train"][:4]
    assert batch["past_values"].shape == (4, 128, 9)


def test_validation_split_holds_out_whole_train_subjects_and_nothing_from_test(synthetic_uci_har, tmp_path):
    har_splits = load_har(data_dir=synthetic_uci_har.root, cache_dir=str(tmp_path / "cache"))

    subjects = {split: set(_as_numpy(har_splits[split])["subject"].tolist()) for split in har_splits}
    assert subjects["validation"] == {5}  # the middle one of the 5 sorted train subjects (1, 3, 5, 6, 7)
    assert subjects["train"] | subjects["validation"] == set(synthetic_uci_har.subjects["train"].tolist())
    assert not subjects["train"] & subjects["validation"]
    assert subjects["test"] == set(synthetic_uci_har.subjects["test"].tolist())


def test_validation_subject_rule_is_deterministic_and_spread_over_the_ids():
    official_train_subjects = np.array([1, 3, 5, 6, 7, 8, 11, 14, 15, 16, 17, 19, 21, 22, 23, 25, 26, 27, 28, 29, 30])

    assert held_out_validation_subjects(official_train_subjects, 0.2) == [5, 14, 22, 28]
    assert held_out_validation_subjects(official_train_subjects[::-1].repeat(3), 0.2) == [5, 14, 22, 28]
    assert len(held_out_validation_subjects(official_train_subjects, 0.5)) == 10
    assert held_out_validation_subjects(np.array([4, 9]), 0.9) == [9]  # never every subject
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        held_out_validation_subjects(official_train_subjects, 1.0)
    with pytest.raises(ValueError, match="needs at least two"):
        held_out_validation_subjects(np.array([7, 7, 7]), 0.2)


def test_pt_folder_maps_val_to_validation_and_samples_to_time_major(synthetic_pt_folder, tmp_path):
    folder, payloads = synthetic_pt_folder

    har_splits = load_har(data_dir=folder, config_name="pt", cache_dir=str(tmp_path / "cache"))

    assert set(har_splits) == {"train", "validation", "test"}
    assert "subject" not in har_splits["train"].column_names
    for split, file_name in (("train", "train.pt"), ("validation", "val.pt"), ("test", "test.pt")):
        loaded = _as_numpy(har_splits[split])
        np.testing.assert_array_equal(loaded["past_values"], payloads[file_name]["samples"].numpy().transpose(0, 2, 1))
        np.testing.assert_array_equal(loaded["labels"], payloads[file_name]["labels"].numpy())


def test_pt_samples_already_time_major_are_kept(synthetic_pt_folder, tmp_path):
    folder, payloads = synthetic_pt_folder
    time_major = payloads["test.pt"]["samples"].transpose(1, 2)  # (N, 128, 9), as TimeMAE's loader holds them
    torch.save({"samples": time_major, "labels": payloads["test.pt"]["labels"].float()}, folder / "test.pt")

    har_splits = load_har(data_dir=folder, config_name="pt", cache_dir=str(tmp_path / "cache"))

    np.testing.assert_array_equal(_as_numpy(har_splits["test"])["past_values"], time_major.numpy())


# --- bad sources -------------------------------------------------------------------------------


def _rewrite_lines(path: Path, edit) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def _replace_line(index: int, text: str):
    return lambda lines: lines[:index] + [text] + lines[index + 1 :]


def _missing_channel_file(har, pt_folder, tmp_path):
    har.file("train", "body_gyro_y").unlink()
    return {"data_dir": har.root}


def _unequal_row_counts(har, pt_folder, tmp_path):
    _rewrite_lines(har.file("test", "total_acc_z"), lambda lines: lines[:-1])
    return {"data_dir": har.root}


def _row_with_a_value_missing(har, pt_folder, tmp_path):
    _rewrite_lines(
        har.file("train", "body_acc_x"), lambda lines: _replace_line(2, lines[2].rsplit(maxsplit=1)[0])(lines)
    )
    return {"data_dir": har.root}


def _pt_samples_with_nan(har, pt_folder, tmp_path):
    folder, payloads = pt_folder
    samples = payloads["val.pt"]["samples"].clone()
    samples[1, 2, 3] = float("nan")
    torch.save({"samples": samples, "labels": payloads["val.pt"]["labels"]}, folder / "val.pt")
    return {"data_dir": folder, "config_name": "pt"}


def _windows_of_the_wrong_length(har, pt_folder, tmp_path):
    _rewrite_lines(har.file("train", "body_gyro_x"), lambda lines: [" ".join(line.split()[:64]) for line in lines])
    return {"data_dir": har.root}


def _replace_value(line_index: int, value_index: int, text: str):
    def edit(lines):
        values = lines[line_index].split()
        values[value_index] = text
        return _replace_line(line_index, " ".join(values))(lines)

    return edit


def _value_that_is_not_a_number(har, pt_folder, tmp_path):
    _rewrite_lines(har.file("test", "body_acc_y"), _replace_value(4, 5, "n/a"))
    return {"data_dir": har.root}


def _value_that_is_nan(har, pt_folder, tmp_path):
    _rewrite_lines(har.file("train", "total_acc_x"), _replace_value(2, 0, "nan"))
    return {"data_dir": har.root}


def _label_out_of_range(har, pt_folder, tmp_path):
    _rewrite_lines(har.file("train", "y"), _replace_line(1, "7"))
    return {"data_dir": har.root}


def _label_zero(har, pt_folder, tmp_path):
    _rewrite_lines(har.file("test", "y"), _replace_line(0, "0"))
    return {"data_dir": har.root}


def _truncated_zip(har, pt_folder, tmp_path):
    zip_path = har.write_zip(tmp_path / "UCI HAR Dataset.zip")
    zip_path.write_bytes(zip_path.read_bytes()[: zip_path.stat().st_size // 2])
    return {"data_dir": zip_path}


def _zip_with_a_damaged_member(har, pt_folder, tmp_path):
    zip_path = har.write_zip(tmp_path / "UCI HAR Dataset.zip", compression=zipfile.ZIP_STORED)
    member = "UCI HAR Dataset/train/y_train.txt"
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(member)
    content = bytearray(zip_path.read_bytes())
    data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    content[data_start] = ord("5") if content[data_start] != ord("5") else ord("4")  # same size, wrong CRC
    zip_path.write_bytes(bytes(content))
    return {"data_dir": zip_path}


def _zip_missing_a_file(har, pt_folder, tmp_path):
    har.file("test", "subject").unlink()
    return {"data_dir": har.write_zip(tmp_path / "UCI HAR Dataset.zip")}


def _empty_folder(har, pt_folder, tmp_path):
    (tmp_path / "empty").mkdir()
    return {"data_dir": tmp_path / "empty"}


def _folder_without_har(har, pt_folder, tmp_path):
    (tmp_path / "unrelated").mkdir()
    (tmp_path / "unrelated" / "notes.txt").write_text("not HAR")
    return {"data_dir": tmp_path / "unrelated"}


def _path_that_does_not_exist(har, pt_folder, tmp_path):
    return {"data_dir": tmp_path / "nowhere" / "UCI HAR Dataset.zip"}


def _pt_folder_read_as_raw(har, pt_folder, tmp_path):
    return {"data_dir": pt_folder[0]}


def _unreachable_download(har, pt_folder, tmp_path):
    return {"source_url": f"file://{tmp_path / 'never_downloaded.zip'}"}


def _pt_missing_val_file(har, pt_folder, tmp_path):
    (pt_folder[0] / "val.pt").unlink()
    return {"data_dir": pt_folder[0], "config_name": "pt"}


def _pt_labels_out_of_range(har, pt_folder, tmp_path):
    folder, payloads = pt_folder
    torch.save(
        {"samples": payloads["train.pt"]["samples"], "labels": payloads["train.pt"]["labels"] + 1}, folder / "train.pt"
    )
    return {"data_dir": folder, "config_name": "pt"}


def _pt_samples_of_the_wrong_shape(har, pt_folder, tmp_path):
    folder, payloads = pt_folder
    torch.save(
        {"samples": payloads["test.pt"]["samples"][:, :3], "labels": payloads["test.pt"]["labels"]}, folder / "test.pt"
    )
    return {"data_dir": folder, "config_name": "pt"}


def _pt_without_labels(har, pt_folder, tmp_path):
    torch.save({"samples": pt_folder[1]["val.pt"]["samples"]}, pt_folder[0] / "val.pt")
    return {"data_dir": pt_folder[0], "config_name": "pt"}


def _pt_corrupt_file(har, pt_folder, tmp_path):
    (pt_folder[0] / "train.pt").write_bytes(b"\x00not a torch file")
    return {"data_dir": pt_folder[0], "config_name": "pt"}


BAD_SOURCES = {
    "missing_channel_file": (_missing_channel_file, FileNotFoundError, r"body_gyro_y_train\.txt' is missing"),
    "unequal_row_counts": (
        _unequal_row_counts,
        ValueError,
        r"total_acc_z_test\.txt' has 11 rows but '.*y_test\.txt' has 12",
    ),
    "row_with_a_value_missing": (
        _row_with_a_value_missing,
        ValueError,
        r"body_acc_x_train\.txt' line 3 has 127 values where the other lines have 128",
    ),
    "windows_of_the_wrong_length": (
        _windows_of_the_wrong_length,
        ValueError,
        r"body_gyro_x_train\.txt' has windows of 64 values; UCI HAR windows are 128",
    ),
    "value_that_is_not_a_number": (
        _value_that_is_not_a_number,
        ValueError,
        r"body_acc_y_test\.txt' line 5, value 6 is 'n/a', not a number",
    ),
    "value_that_is_nan": (
        _value_that_is_nan,
        ValueError,
        r"total_acc_x_train\.txt' holds NaN or infinite values \(first on line 3\)",
    ),
    "label_out_of_range": (_label_out_of_range, ValueError, r"y_train\.txt' must be 1\.\.6 .* line 2 holds 7"),
    "label_zero": (_label_zero, ValueError, r"y_test\.txt' must be 1\.\.6 .* line 1 holds 0"),
    "truncated_zip": (_truncated_zip, ValueError, r"UCI HAR Dataset\.zip' is not a readable zip archive"),
    "zip_with_a_damaged_member": (
        _zip_with_a_damaged_member,
        ValueError,
        r"y_train\.txt' cannot be read, the zip is corrupt",
    ),
    "zip_missing_a_file": (_zip_missing_a_file, FileNotFoundError, r"subject_test\.txt' is missing from the zip"),
    "empty_folder": (_empty_folder, FileNotFoundError, r"empty' is empty\. Extract 'UCI HAR Dataset\.zip'"),
    "folder_without_har": (_folder_without_har, FileNotFoundError, r"unrelated' holds no UCI HAR data"),
    "path_that_does_not_exist": (
        _path_that_does_not_exist,
        FileNotFoundError,
        r"nowhere.UCI HAR Dataset\.zip' does not exist",
    ),
    "pt_folder_read_as_raw": (_pt_folder_read_as_raw, ValueError, r"holds \.pt files.*config_name='pt'"),
    "unreachable_download": (
        _unreachable_download,
        FileNotFoundError,
        r"Could not download UCI HAR from .*never_downloaded\.zip.*pass data_dir=",
    ),
    "pt_missing_val_file": (_pt_missing_val_file, FileNotFoundError, r"val\.pt' is missing"),
    "pt_labels_out_of_range": (_pt_labels_out_of_range, ValueError, r"train\.pt' must be 0\.\.5 .* index 5 holds 6"),
    "pt_samples_of_the_wrong_shape": (
        _pt_samples_of_the_wrong_shape,
        ValueError,
        r"test\.pt' has samples of shape \(6, 3, 128\)",
    ),
    "pt_samples_with_nan": (_pt_samples_with_nan, ValueError, r"val\.pt' holds NaN or infinite samples"),
    "pt_without_labels": (_pt_without_labels, ValueError, r"val\.pt' must hold a dict with 'samples' and 'labels'"),
    "pt_corrupt_file": (_pt_corrupt_file, ValueError, r"train\.pt' cannot be read by torch\.load"),
}


@pytest.mark.parametrize("bad_source", sorted(BAD_SOURCES))
def test_bad_source_raises_naming_the_file_and_writes_no_cache(
    bad_source, synthetic_uci_har, synthetic_pt_folder, tmp_path
):
    break_source, error_type, message = BAD_SOURCES[bad_source]
    load_kwargs = break_source(synthetic_uci_har, synthetic_pt_folder, tmp_path)
    cache_dir = tmp_path / "cache"

    with pytest.raises(error_type, match=message):
        load_har(cache_dir=str(cache_dir), **load_kwargs)

    _assert_no_prepared_cache(cache_dir)


def test_retry_after_fixing_the_source_prepares_the_fixed_data(synthetic_uci_har, tmp_path):
    har = synthetic_uci_har
    channel_file = har.file("train", "total_acc_y")
    good_content = channel_file.read_text()
    _rewrite_lines(channel_file, _replace_line(5, "1.0 2.0"))
    cache_dir = tmp_path / "cache"

    with pytest.raises(ValueError, match=r"total_acc_y_train\.txt' line 6 has 2 values"):
        load_har(data_dir=har.root, cache_dir=str(cache_dir))
    _assert_no_prepared_cache(cache_dir)

    channel_file.write_text(good_content)
    _assert_splits_equal(load_har(data_dir=har.root, cache_dir=str(cache_dir)), _expected_splits(har))


# --- caching -----------------------------------------------------------------------------------


def _refuse_to_generate(*args, **kwargs):
    raise AssertionError("the builder prepared the data again instead of reading its cache")


def test_second_load_reads_the_cache_without_preparing_again(synthetic_uci_har, tmp_path, monkeypatch):
    cache_dir = str(tmp_path / "cache")
    first = load_har(data_dir=synthetic_uci_har.root, cache_dir=cache_dir)

    monkeypatch.setattr(UciHar, "_split_generators", _refuse_to_generate)
    monkeypatch.setattr(UciHar, "_generate_examples", _refuse_to_generate)
    second = load_har(data_dir=synthetic_uci_har.root, cache_dir=cache_dir)

    assert second["train"].cache_files == first["train"].cache_files
    _assert_splits_equal(second, _expected_splits(synthetic_uci_har))


def test_cache_keeps_data_dirs_and_config_fields_apart(make_synthetic_uci_har, tmp_path):
    cache_dir = str(tmp_path / "cache")
    first_source, second_source = make_synthetic_uci_har("first", seed=0), make_synthetic_uci_har("second", seed=1)

    first = load_har(data_dir=first_source.root, cache_dir=cache_dir)
    second = load_har(data_dir=second_source.root, cache_dir=cache_dir)
    wider_validation = load_har(data_dir=first_source.root, cache_dir=cache_dir, validation_subject_fraction=0.4)

    _assert_splits_equal(first, _expected_splits(first_source))
    _assert_splits_equal(second, _expected_splits(second_source))
    _assert_splits_equal(wider_validation, _expected_splits(first_source, fraction=0.4))
    assert len(wider_validation["validation"]) > len(first["validation"])


def test_source_replaced_in_place_is_prepared_again(make_synthetic_uci_har, tmp_path):
    cache_dir = str(tmp_path / "cache")
    original = make_synthetic_uci_har("source", seed=0)
    load_har(data_dir=original.root, cache_dir=cache_dir)

    shutil.rmtree(original.parent)
    replacement = make_synthetic_uci_har("source", seed=1)

    _assert_splits_equal(load_har(data_dir=replacement.root, cache_dir=cache_dir), _expected_splits(replacement))


# --- helpers -----------------------------------------------------------------------------------


def test_default_har_path_reads_the_environment_and_knows_no_folder_of_its_own(monkeypatch):
    monkeypatch.delenv("TIMEMAE_HAR_PATH", raising=False)
    assert default_har_path() is None  # load_har(None) downloads the official archive
    monkeypatch.setenv("TIMEMAE_HAR_PATH", "/data/har.zip")
    assert default_har_path() == "/data/har.zip"


def test_channel_statistics_come_from_the_train_split_only(synthetic_uci_har, tmp_path):
    har_splits = load_har(data_dir=synthetic_uci_har.root, cache_dir=str(tmp_path / "cache"))
    train_windows = _expected_splits(synthetic_uci_har)["train"]["past_values"].astype(np.float64)

    statistics = compute_channel_statistics(har_splits["train"])

    np.testing.assert_allclose(statistics["channel_mean"], train_windows.mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(statistics["channel_std"], train_windows.std(axis=(0, 1)), rtol=1e-5)
    with pytest.raises(ValueError, match="must come from the training split, got the 'test' split"):
        compute_channel_statistics(har_splits["test"])


def _silence_body_gyro_x(row: dict) -> dict:
    past_values = np.array(row["past_values"])
    past_values[:, HAR_CHANNELS.index("body_gyro_x")] = 0.0
    return {"past_values": past_values}


def test_channel_statistics_give_a_constant_channel_unit_std(synthetic_uci_har, tmp_path):
    har_splits = load_har(data_dir=synthetic_uci_har.root, cache_dir=str(tmp_path / "cache"))
    silent_gyro = har_splits["train"].with_format("numpy").map(_silence_body_gyro_x)

    statistics = compute_channel_statistics(silent_gyro)

    body_gyro_x = HAR_CHANNELS.index("body_gyro_x")
    assert statistics["channel_mean"][body_gyro_x] == 0.0 and statistics["channel_std"][body_gyro_x] == 1.0


# --- the real HAR copy -------------------------------------------------------------------------


def _read_real_member(har_data_path: str, member: str) -> bytes:
    """A file of the real source, read without the library: member like 'train/y_train.txt'."""
    if os.path.isdir(har_data_path):
        for root in (Path(har_data_path), Path(har_data_path) / "UCI HAR Dataset"):
            if (root / member).is_file():
                return (root / member).read_bytes()
    with zipfile.ZipFile(har_data_path) as archive:
        return archive.read(f"UCI HAR Dataset/{member}")


def _real_ids(har_data_path: str, member: str) -> np.ndarray:
    return np.array(_read_real_member(har_data_path, member).split(), dtype=np.int64)


def _first_rows(har_data_path: str, member: str, rows) -> np.ndarray:
    lines = _read_real_member(har_data_path, member).splitlines()
    return np.array([lines[row].split() for row in rows], dtype=np.float32)


def test_real_split_sizes_and_class_counts_match_the_label_files(har_dataset, har_data_path):
    # The re-derived copy: 7439 train windows (6103 train + 1336 validation) and 2947 test windows.
    train_labels = _real_ids(har_data_path, "train/y_train.txt") - 1
    test_labels = _real_ids(har_data_path, "test/y_test.txt") - 1

    assert len(har_dataset["train"]) + len(har_dataset["validation"]) == len(train_labels)
    assert len(har_dataset["test"]) == len(test_labels)
    assert 0.1 < len(har_dataset["validation"]) / len(train_labels) < 0.3
    class_counts = {split: np.bincount(_as_numpy(har_dataset[split])["labels"], minlength=6) for split in har_dataset}
    np.testing.assert_array_equal(
        class_counts["train"] + class_counts["validation"], np.bincount(train_labels, minlength=6)
    )
    np.testing.assert_array_equal(class_counts["test"], np.bincount(test_labels, minlength=6))
    assert (class_counts["validation"] > 0).all()


def test_real_windows_are_float32_in_the_official_channel_order(har_dataset, har_data_path):
    train_subjects = _real_ids(har_data_path, "train/subject_train.txt")
    validation_subjects = set(_as_numpy(har_dataset["validation"])["subject"].tolist())
    first_train_row = int(np.flatnonzero(~np.isin(train_subjects, list(validation_subjects)))[0])
    first_validation_row = int(np.flatnonzero(np.isin(train_subjects, list(validation_subjects)))[0])
    last_test_row = len(har_dataset["test"]) - 1

    for channel_index, channel in enumerate(HAR_CHANNELS):
        train_file = f"train/Inertial Signals/{channel}_train.txt"
        expected_train = _first_rows(har_data_path, train_file, [first_train_row, first_validation_row])
        expected_test = _first_rows(har_data_path, f"test/Inertial Signals/{channel}_test.txt", [0, last_test_row])
        np.testing.assert_array_equal(
            har_dataset["train"][0]["past_values"][:, channel_index].numpy(), expected_train[0]
        )
        np.testing.assert_array_equal(
            har_dataset["validation"][0]["past_values"][:, channel_index].numpy(), expected_train[1]
        )
        np.testing.assert_array_equal(har_dataset["test"][0]["past_values"][:, channel_index].numpy(), expected_test[0])
        np.testing.assert_array_equal(
            har_dataset["test"][last_test_row]["past_values"][:, channel_index].numpy(), expected_test[1]
        )
    row = har_dataset["train"][0]
    assert row["past_values"].shape == (128, 9) and row["past_values"].dtype == torch.float32


def test_real_subjects_are_disjoint_between_splits(har_dataset):
    subjects = {split: set(_as_numpy(har_dataset[split])["subject"].tolist()) for split in har_dataset}

    assert not subjects["train"] & subjects["validation"]
    assert not subjects["train"] & subjects["test"]
    assert not subjects["validation"] & subjects["test"]


def test_real_second_load_is_served_from_the_cache(har_dataset, har_data_path, monkeypatch):
    train_arrow_file = Path(har_dataset["train"].cache_files[0]["filename"])
    cache_dir = train_arrow_file.parents[4]  # <cache>/uci_har/<config id>/<version>/<source hash>/<file>.arrow
    modified_before = train_arrow_file.stat().st_mtime_ns
    monkeypatch.setattr(UciHar, "_split_generators", _refuse_to_generate)

    started = time.perf_counter()
    reloaded = load_har(data_dir=har_data_path, cache_dir=str(cache_dir))
    seconds = time.perf_counter() - started

    assert seconds < 2.0, f"cached load took {seconds:.2f} s"
    assert train_arrow_file.stat().st_mtime_ns == modified_before
    assert {split: len(reloaded[split]) for split in reloaded} == {
        split: len(har_dataset[split]) for split in har_dataset
    }


def test_real_channel_statistics_look_like_accelerometer_and_gyroscope_data(har_dataset):
    statistics = compute_channel_statistics(har_dataset["train"])

    assert len(statistics["channel_mean"]) == len(statistics["channel_std"]) == len(HAR_CHANNELS)
    assert all(std > 0 for std in statistics["channel_std"])
    assert all(abs(mean) < 0.05 for mean in statistics["channel_mean"][:3])  # body_acc: gravity removed
    assert statistics["channel_mean"][HAR_CHANNELS.index("total_acc_x")] > 0.5  # gravity along the phone's x axis
