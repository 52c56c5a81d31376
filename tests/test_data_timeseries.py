"""load_timeseries_dataset: every input form, variable lengths, missing values, validation carving, errors."""

import json
import os

import datasets
import numpy as np
import pandas as pd
import pytest

from timemae_hf.data import (
    compute_channel_statistics,
    dataset_display_name,
    load_har,
    load_timeseries_dataset,
    read_ts_file,
    series_shape,
    validation_split_description,
)
from timemae_hf.data import timeseries as timeseries_module

NUM_WINDOWS, LENGTH, CHANNELS = 30, 10, 3
CLASSES = ("walk", "run", "sit")

TS_HEADER = """# a tiny multivariate file
@problemName Toy
@timeStamps false
@missing {missing}
@univariate false
@dimensions 2
@equalLength {equal_length}
{series_length}@classLabel true up down
@data
"""


def make_windows(seed: int = 0, num_windows: int = NUM_WINDOWS):
    """(N, LENGTH, CHANNELS) float32, string labels cycling through CLASSES, subject ids 0..5."""
    rng = np.random.default_rng(seed)
    past_values = rng.normal(size=(num_windows, LENGTH, CHANNELS)).astype(np.float32)
    labels = np.array([CLASSES[row % 3] for row in range(num_windows)])
    subjects = np.repeat(np.arange(6), num_windows // 6)
    return past_values, labels, subjects


def write_ts(path, cases: list[str], missing="false", equal_length="true", series_length="@seriesLength 3\n"):
    path.write_text(
        TS_HEADER.format(missing=missing, equal_length=equal_length, series_length=series_length) + "\n".join(cases)
    )
    return str(path)


def load(*args, tmp_path, **kwargs):
    return load_timeseries_dataset(*args, cache_dir=str(tmp_path / "cache"), **kwargs)


def numpy_windows(dataset) -> list[np.ndarray]:
    return list(dataset.with_format("numpy")["past_values"])


# --- input forms ---------------------------------------------------------------------------------


def test_npz_train_and_test_files_load_with_class_names_and_a_stratified_validation(tmp_path):
    past_values, labels, subjects = make_windows()
    np.savez(tmp_path / "toy_train.npz", X=past_values, y=labels, subject=subjects)
    np.savez(tmp_path / "toy_test.npz", X=past_values[:6], y=labels[:6])

    data_files = {"train": tmp_path / "toy_train.npz", "test": tmp_path / "toy_test.npz"}
    splits = load(data_files=data_files, tmp_path=tmp_path)

    assert list(splits) == ["train", "validation", "test"]
    assert splits["train"].features["past_values"] == datasets.Array2D((LENGTH, CHANNELS), "float32")
    assert splits["train"].features["labels"].names == sorted(CLASSES)
    assert (len(splits["train"]), len(splits["validation"]), len(splits["test"])) == (24, 6, 6)
    np.testing.assert_array_equal(np.stack(numpy_windows(splits["test"])), past_values[:6])
    assert splits["test"].features["labels"].int2str(splits["test"]["labels"]) == labels[:6].tolist()
    assert sorted(splits["validation"]["labels"]) == [0, 0, 1, 1, 2, 2]  # stratified: 2 of each class
    assert validation_split_description(splits) == "stratified 20 % of train, seed 42"
    assert dataset_display_name(splits) == "toy"
    assert series_shape(splits["train"]) == (LENGTH, CHANNELS)


def test_npz_univariate_2d_array_becomes_one_channel(tmp_path):
    past_values, labels, _ = make_windows()
    np.savez(tmp_path / "uni.npz", X=past_values[:, :, 0], y=labels)

    splits = load(tmp_path / "uni.npz", tmp_path=tmp_path)

    assert series_shape(splits["train"]) == (LENGTH, 1)


def test_npz_ragged_object_array_keeps_each_length(tmp_path):
    lengths = [4, 7, 5, 6] * 3
    rng = np.random.default_rng(1)
    ragged = np.empty(len(lengths), dtype=object)
    ragged[:] = [rng.normal(size=(length, 2)).astype(np.float32) for length in lengths]
    np.savez(tmp_path / "ragged.npz", X=ragged, y=np.array([0, 1] * 6))

    splits = load(tmp_path / "ragged.npz", tmp_path=tmp_path)

    assert splits["train"].features["past_values"].shape == (None, 2)
    loaded = {tuple(window.ravel()) for split in ("train", "validation") for window in numpy_windows(splits[split])}
    assert loaded == {tuple(window.ravel()) for window in ragged}
    assert series_shape(splits["train"])[1] == 2 and series_shape(splits["validation"])[1] == 2


def test_npz_integer_labels_index_the_declared_class_names(tmp_path):
    past_values, _, _ = make_windows()
    np.savez(tmp_path / "named.npz", X=past_values, y=np.arange(NUM_WINDOWS) % 3, class_names=np.array(["z", "y", "x"]))

    splits = load(tmp_path / "named.npz", tmp_path=tmp_path)

    assert splits["train"].features["labels"].names == ["z", "y", "x"]


def test_npz_without_labels_is_an_unlabelled_corpus_with_a_random_validation(tmp_path):
    past_values, _, _ = make_windows()
    np.savez(tmp_path / "corpus.npz", X=past_values)

    splits = load(tmp_path / "corpus.npz", tmp_path=tmp_path)

    assert "labels" not in splits["train"].column_names
    assert validation_split_description(splits) == "random 20 % of train, seed 42"


def test_ts_multivariate_file_keeps_the_declared_class_order_and_problem_name(tmp_path):
    cases = ["1,2,3:4,5,6:down", "7,8,9:1,2,3:up", "1,1,1:2,2,2:down", "3,3,3:4,4,4:up"]
    train = write_ts(tmp_path / "Toy_TRAIN.ts", cases)
    test = write_ts(tmp_path / "Toy_TEST.ts", cases[:2])

    splits = load(data_files={"train": train, "test": test}, validation_fraction=0.5, tmp_path=tmp_path)

    assert splits["train"].features["labels"].names == ["up", "down"]  # @classLabel's order, not sorted
    np.testing.assert_array_equal(numpy_windows(splits["test"])[0], [[1, 4], [2, 5], [3, 6]])
    assert splits["test"]["labels"] == [1, 0]
    assert dataset_display_name(splits) == "Toy"


def test_ts_variable_lengths_and_missing_values_become_nan(tmp_path):
    cases = ["1,2,3:4,?,6:up", "1,2:3,4:down", "1,2,3,4,5:1,2,3,4,NaN:up", "5,6,7,8:7,8,9,1:down"]
    path = write_ts(tmp_path / "Var_TRAIN.ts", cases, missing="true", equal_length="false", series_length="")

    series = read_ts_file(path)
    splits = load(path, validation_fraction=0.5, tmp_path=tmp_path)

    assert series.lengths == [3, 2, 5, 4]
    assert np.isnan(series.past_values[0][1, 1]) and np.isnan(series.past_values[2][4, 1])
    assert splits["train"].features["past_values"].shape == (None, 2)
    lengths = sorted(len(window) for split in ("train", "validation") for window in numpy_windows(splits[split]))
    assert lengths == [2, 3, 4, 5]
    assert series_shape(splits["train"])[1] == 2


def test_folder_of_ts_files_named_by_split(tmp_path):
    folder = tmp_path / "Toy"
    folder.mkdir()
    cases = ["1,2,3:4,5,6:down", "7,8,9:1,2,3:up", "1,1,1:2,2,2:down", "3,3,3:4,4,4:up"]
    write_ts(folder / "Toy_TRAIN.ts", cases)
    write_ts(folder / "Toy_TEST.ts", cases[:2])

    splits = load(folder, validation_fraction=0.5, tmp_path=tmp_path)

    assert (len(splits["train"]), len(splits["validation"]), len(splits["test"])) == (2, 2, 2)


def test_csv_with_json_encoded_series_and_renamed_columns(tmp_path):
    past_values, labels, _ = make_windows()
    frame = pd.DataFrame({"series": [json.dumps(window.tolist()) for window in past_values], "activity": labels})
    frame.loc[3, "series"] = json.dumps([[None if channel == 0 else 1.0 for channel in range(CHANNELS)]] * LENGTH)
    frame.to_csv(tmp_path / "toy.csv", index=False)

    splits = load(tmp_path / "toy.csv", past_values_column="series", label_column="activity", tmp_path=tmp_path)

    assert splits["train"].column_names == ["past_values", "labels"]
    assert splits["train"].features["labels"].names == sorted(CLASSES)
    windows = numpy_windows(splits["train"]) + numpy_windows(splits["validation"])
    assert sum(np.isnan(window).any() for window in windows) == 1  # the null cells of row 3


def test_csv_univariate_flat_lists_and_integer_labels(tmp_path):
    frame = pd.DataFrame(
        {"past_values": [json.dumps([row, row + 1.0, row + 2.0]) for row in range(12)], "labels": [1, 2, 3, 1] * 3}
    )
    frame.to_csv(tmp_path / "uni.csv", index=False)

    splits = load(tmp_path / "uni.csv", tmp_path=tmp_path, validation_fraction=0.25)

    assert splits["train"].features["labels"].names == ["1", "2", "3"]
    assert series_shape(splits["train"]) == (3, 1)


@pytest.mark.parametrize("file_format", ["parquet", "json", "jsonl", "arrow"])
def test_nested_list_files_load_in_every_datasets_format(tmp_path, file_format):
    past_values, labels, _ = make_windows()
    table = datasets.Dataset.from_dict({"past_values": past_values.tolist(), "labels": labels.tolist()})
    path = str(tmp_path / f"toy.{file_format}")
    if file_format == "parquet":
        table.to_parquet(path)
    elif file_format in ("json", "jsonl"):
        table.to_json(path)
    else:
        table.save_to_disk(str(tmp_path / "saved"))
        path = next(str(p) for p in (tmp_path / "saved").glob("*.arrow"))
        os.rename(path, str(tmp_path / "toy.arrow"))
        path = str(tmp_path / "toy.arrow")

    splits = load(path, tmp_path=tmp_path)

    assert splits["train"].features["past_values"] == datasets.Array2D((LENGTH, CHANNELS), "float32")
    assert len(splits["train"]) + len(splits["validation"]) == NUM_WINDOWS


def test_saved_dataset_folder_keeps_its_validation_split_and_class_label(tmp_path):
    past_values, labels, _ = make_windows()
    features = datasets.Features(
        {"past_values": datasets.Array2D((LENGTH, CHANNELS), "float32"), "labels": datasets.ClassLabel(names=CLASSES)}
    )
    rows = {"past_values": past_values, "labels": [CLASSES.index(label) for label in labels]}
    saved = datasets.Dataset.from_dict(rows, features=features).train_test_split(test_size=0.5, seed=0)
    datasets.DatasetDict({"train": saved["train"], "validation": saved["test"]}).save_to_disk(str(tmp_path / "saved"))

    splits = load(tmp_path / "saved", tmp_path=tmp_path)

    assert splits["train"].features["labels"].names == list(CLASSES)
    assert len(splits["validation"]) == 15
    assert validation_split_description(splits) == "given (validation split of 'saved')"


def test_folder_of_parquet_files_goes_through_load_dataset_split_names(tmp_path):
    past_values, labels, _ = make_windows()
    folder = tmp_path / "hub_like"
    folder.mkdir()
    for split, rows in (("train", slice(0, 24)), ("test", slice(24, 30))):
        datasets.Dataset.from_dict(
            {"past_values": past_values[rows].tolist(), "labels": labels[rows].tolist()}
        ).to_parquet(str(folder / f"{split}.parquet"))

    splits = load(folder, tmp_path=tmp_path)

    assert (len(splits["train"]) + len(splits["validation"]), len(splits["test"])) == (24, 6)
    assert dataset_display_name(splits) == "hub_like"


def test_given_validation_file_is_used_as_it_is(tmp_path):
    past_values, labels, _ = make_windows()
    np.savez(tmp_path / "train.npz", X=past_values[:24], y=labels[:24])
    np.savez(tmp_path / "valid.npz", X=past_values[24:], y=labels[24:])

    splits = load(data_files={"train": tmp_path / "train.npz", "validation": tmp_path / "valid.npz"}, tmp_path=tmp_path)

    assert len(splits["validation"]) == 6
    assert validation_split_description(splits) == "given (validation file valid.npz)"


# --- validation carving --------------------------------------------------------------------------


def test_group_column_holds_out_whole_groups(tmp_path):
    past_values, labels, subjects = make_windows()
    np.savez(tmp_path / "grouped.npz", X=past_values, y=labels, subject=subjects)

    splits = load(tmp_path / "grouped.npz", group_column="subject", tmp_path=tmp_path)

    train_groups, validation_groups = set(splits["train"]["subject"]), set(splits["validation"]["subject"])
    assert train_groups and validation_groups and not train_groups & validation_groups
    assert train_groups | validation_groups == set(range(6))
    assert validation_split_description(splits).startswith("20 % of the groups of column 'subject' held out, seed 42")


def test_carving_is_seeded(tmp_path):
    past_values, labels, _ = make_windows()
    np.savez(tmp_path / "toy.npz", X=past_values, y=labels)

    first = load(tmp_path / "toy.npz", seed=3, tmp_path=tmp_path)
    again = load(tmp_path / "toy.npz", seed=3, tmp_path=tmp_path)
    other = load(tmp_path / "toy.npz", seed=4, tmp_path=tmp_path)

    first_windows, again_windows, other_windows = (
        [window.tolist() for window in numpy_windows(splits["validation"])] for splits in (first, again, other)
    )
    assert first_windows == again_windows and first_windows != other_windows


def test_too_few_windows_per_class_falls_back_to_a_random_split_and_says_so(tmp_path):
    past_values, _, _ = make_windows()
    labels = np.array(["a"] * 25 + ["b"] * 4 + ["c"])  # 'c' has one window: cannot be stratified
    np.savez(tmp_path / "rare.npz", X=past_values, y=labels)

    splits = load(tmp_path / "rare.npz", tmp_path=tmp_path)

    assert validation_split_description(splits).startswith("random 20 % of train, seed 42 (not stratified:")


def test_har_validation_is_described_by_its_held_out_subjects(synthetic_uci_har, tmp_path):
    har = load_har(data_dir=synthetic_uci_har.root, cache_dir=str(tmp_path / "cache"))

    subjects = sorted(int(subject) for subject in har["validation"].unique("subject"))
    assert validation_split_description(har) == f"held-out train subjects {', '.join(map(str, subjects))}"
    assert dataset_display_name(har) == "UCI HAR"


# --- streaming, cache, statistics ----------------------------------------------------------------


def test_streaming_csv_and_npz_give_iterable_splits_with_a_held_out_validation(tmp_path):
    past_values, labels, _ = make_windows()
    pd.DataFrame({"past_values": [json.dumps(window.tolist()) for window in past_values]}).to_csv(
        tmp_path / "corpus.csv", index=False
    )
    np.savez(tmp_path / "toy.npz", X=past_values, y=labels)

    corpus = load(tmp_path / "corpus.csv", streaming=True, tmp_path=tmp_path)
    npz = load(tmp_path / "toy.npz", streaming=True, tmp_path=tmp_path)

    assert isinstance(corpus, datasets.IterableDatasetDict) and isinstance(npz, datasets.IterableDatasetDict)
    assert (sum(1 for _ in corpus["train"]), sum(1 for _ in corpus["validation"])) == (24, 6)
    assert validation_split_description(corpus).startswith("every 5th window of the train stream")
    assert np.asarray(next(iter(corpus["train"]))["past_values"]).shape == (LENGTH, CHANNELS)
    assert validation_split_description(npz) == "stratified 20 % of train, seed 42"
    assert series_shape(corpus["train"]) == (LENGTH, CHANNELS)


def test_streaming_group_split_keeps_groups_apart(tmp_path):
    past_values, _, subjects = make_windows()
    datasets.Dataset.from_dict({"past_values": past_values.tolist(), "subject": subjects.tolist()}).to_parquet(
        str(tmp_path / "corpus.parquet")
    )

    splits = load(
        tmp_path / "corpus.parquet", streaming=True, group_column="subject", validation_fraction=0.5, tmp_path=tmp_path
    )

    train_groups = {example["subject"] for example in splits["train"]}
    validation_groups = {example["subject"] for example in splits["validation"]}
    assert not train_groups & validation_groups and train_groups | validation_groups == set(range(6))


def test_second_npz_load_reads_the_cache_without_reading_the_file(tmp_path, monkeypatch):
    past_values, labels, _ = make_windows()
    np.savez(tmp_path / "toy.npz", X=past_values, y=labels)
    load(tmp_path / "toy.npz", tmp_path=tmp_path)

    def fail(*args, **kwargs):
        raise AssertionError("the file was read again")

    monkeypatch.setattr(timeseries_module, "read_npz_file", fail)
    assert len(load(tmp_path / "toy.npz", tmp_path=tmp_path)["train"]) == 24


def test_channel_statistics_ignore_nan_and_accept_variable_lengths(tmp_path):
    rng = np.random.default_rng(2)
    windows = [rng.normal(loc=3.0, size=(length, 2)).astype(np.float32) for length in (3, 5, 4, 6)]
    windows[1][2, 0] = np.nan
    ragged = np.empty(4, dtype=object)
    ragged[:] = windows
    np.savez(tmp_path / "ragged.npz", X=ragged)
    train = load(
        data_files={"train": tmp_path / "ragged.npz", "validation": tmp_path / "ragged.npz"}, tmp_path=tmp_path
    )["train"]

    statistics = compute_channel_statistics(train)

    values = np.concatenate(windows).astype(np.float64)
    np.testing.assert_allclose(statistics["channel_mean"], np.nanmean(values, axis=0), rtol=1e-6)
    np.testing.assert_allclose(statistics["channel_std"], np.nanstd(values, axis=0), rtol=1e-6)
    streamed = compute_channel_statistics(train.to_iterable_dataset(), max_windows=2)
    first_two = np.concatenate(windows[:2]).astype(np.float64)
    np.testing.assert_allclose(streamed["channel_mean"], np.nanmean(first_two, axis=0), rtol=1e-6)


# --- errors --------------------------------------------------------------------------------------


def test_npz_with_rows_of_different_channel_counts_names_the_row(tmp_path):
    ragged = np.empty(3, dtype=object)
    ragged[:] = [np.zeros((4, 2)), np.ones((4, 2)), np.ones((4, 3))]
    np.savez(tmp_path / "bad.npz", X=ragged, y=np.array([0, 1, 0]))

    with pytest.raises(ValueError, match=r"bad\.npz, row 2: 3 channels where row 0 has 2"):
        load(tmp_path / "bad.npz", tmp_path=tmp_path)


def test_csv_with_a_ragged_row_names_the_split_and_row(tmp_path):
    rows = [json.dumps([[1.0, 2.0], [3.0, 4.0]])] * 5 + [json.dumps([[1.0, 2.0], [3.0]])]
    pd.DataFrame({"past_values": rows, "labels": [0, 1] * 3}).to_csv(tmp_path / "ragged.csv", index=False)

    with pytest.raises(ValueError, match="The train split, row 5: past_values is ragged"):
        load(tmp_path / "ragged.csv", tmp_path=tmp_path)


def test_named_label_column_that_is_missing_is_an_error(tmp_path):
    past_values, _, _ = make_windows()
    np.savez(tmp_path / "toy.npz", X=past_values)
    pd.DataFrame({"past_values": [json.dumps(window.tolist()) for window in past_values]}).to_csv(
        tmp_path / "toy.csv", index=False
    )

    with pytest.raises(ValueError, match="no label column 'activity'.*label_column=None"):
        load(tmp_path / "toy.csv", label_column="activity", tmp_path=tmp_path)
    with pytest.raises(ValueError, match=r"toy\.npz has no label array 'activity'.*label_column=None"):
        load(tmp_path / "toy.npz", label_column="activity", tmp_path=tmp_path)


def test_label_column_none_reads_a_labelled_ts_file_as_an_unlabelled_corpus(tmp_path):
    path = write_ts(tmp_path / "Toy_TRAIN.ts", ["1,2,3:4,5,6:down", "7,8,9:1,2,3:up", "1,1,1:2,2,2:down"])

    splits = load(path, label_column=None, tmp_path=tmp_path)

    assert "labels" not in splits["train"].column_names


def test_a_single_class_is_an_error_that_suggests_unlabelled_loading(tmp_path):
    past_values, _, _ = make_windows()
    np.savez(tmp_path / "one.npz", X=past_values, y=np.array(["walk"] * NUM_WINDOWS))

    with pytest.raises(ValueError, match=r"single class \['walk'\].*label_column=None"):
        load(tmp_path / "one.npz", tmp_path=tmp_path)


def test_nan_only_series_is_an_error_naming_the_row(tmp_path):
    past_values, labels, _ = make_windows()
    past_values[7] = np.nan
    np.savez(tmp_path / "holes.npz", X=past_values, y=labels)

    with pytest.raises(ValueError, match=r"holes\.npz, row 7: every value is missing"):
        load(tmp_path / "holes.npz", tmp_path=tmp_path)


@pytest.mark.parametrize(
    "cases, kwargs, message",
    [
        (["1,2,3:4,5,6:up", "1,2,3:down"], {}, r"line 12: 1 dimensions, but the header says '@dimensions 2'"),
        (["1,2,3:4,5,6:up", "1,2,3:4,5,6:sideways"], {}, r"line 12: class 'sideways' is not listed in '@classLabel'"),
        (["1,2,3:4,5,6:up", "1,2,3,4:4,5,6,7:down"], {}, r"line 12: a series of length 4.*'@equalLength true'"),
        (["1,2,3:4,5,6:up", "1,2,x:4,5,6:down"], {}, r"line 12, dimension 1: .*'\?' for a missing value"),
    ],
    ids=["dimensions", "class_label", "series_length", "not_a_number"],
)
def test_ts_header_that_does_not_match_the_data_names_the_line(tmp_path, cases, kwargs, message):
    path = write_ts(tmp_path / "Bad_TRAIN.ts", cases, **kwargs)

    with pytest.raises(ValueError, match=message):
        load(path, tmp_path=tmp_path)


def test_unknown_extension_and_missing_file_are_named(tmp_path):
    (tmp_path / "data.xlsx").write_text("")
    with pytest.raises(ValueError, match=r"data\.xlsx': unknown file extension '\.xlsx'"):
        load(data_files={"train": tmp_path / "data.xlsx"}, tmp_path=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"absent\.npz' does not exist"):
        load(data_files={"train": tmp_path / "absent.npz"}, tmp_path=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"absent\.ts' does not exist"):
        load(str(tmp_path / "absent.ts"), tmp_path=tmp_path)


def test_train_and_test_channel_counts_must_match(tmp_path):
    past_values, labels, _ = make_windows()
    np.savez(tmp_path / "train.npz", X=past_values, y=labels)
    np.savez(tmp_path / "test.npz", X=past_values[:, :, :2], y=labels)
    pd.DataFrame({"past_values": [json.dumps(window.tolist()) for window in past_values], "labels": labels}).to_csv(
        tmp_path / "train.csv", index=False
    )
    pd.DataFrame(
        {"past_values": [json.dumps(window[:, :2].tolist()) for window in past_values], "labels": labels}
    ).to_csv(tmp_path / "test.csv", index=False)

    with pytest.raises(ValueError, match=r"test\.npz has 2 channels but .*train\.npz has 3"):
        load(data_files={"train": tmp_path / "train.npz", "test": tmp_path / "test.npz"}, tmp_path=tmp_path)
    with pytest.raises(ValueError, match="The test split, row 0: 2 channels where train row 0 has 3"):
        load(data_files={"train": tmp_path / "train.csv", "test": tmp_path / "test.csv"}, tmp_path=tmp_path)


def test_test_label_unseen_in_train_is_an_error(tmp_path):
    past_values, labels, _ = make_windows()
    np.savez(tmp_path / "train.npz", X=past_values, y=labels)
    np.savez(tmp_path / "test.npz", X=past_values[:2], y=np.array(["walk", "swim"]))

    with pytest.raises(ValueError, match=r"test split .* label\(s\) \['swim'\] that train does not have"):
        load(data_files={"train": tmp_path / "train.npz", "test": tmp_path / "test.npz"}, tmp_path=tmp_path)


def test_failed_load_leaves_no_prepared_cache_and_the_fixed_file_loads(tmp_path):
    past_values, labels, _ = make_windows()
    broken = past_values.copy()
    broken[4] = np.nan
    np.savez(tmp_path / "toy.npz", X=broken, y=labels)
    with pytest.raises(ValueError, match="row 4"):
        load(tmp_path / "toy.npz", tmp_path=tmp_path)
    assert not list((tmp_path / "cache").rglob("dataset_info.json"))

    np.savez(tmp_path / "toy.npz", X=past_values, y=labels)
    assert len(load(tmp_path / "toy.npz", tmp_path=tmp_path)["train"]) == 24


# --- the benchmark's real files (skipped without `pip install --no-deps aeon==1.6.0`) ---------------


def test_aeon_multivariate_sets_load_with_their_published_shapes(tmp_path):
    any_dataset_data = pytest.importorskip("benchmarks.league.any_dataset_data")
    try:
        data_files = {name: any_dataset_data.benchmark_data_files(name) for name in ("BasicMotions", "JapaneseVowels")}
    except FileNotFoundError as error:
        pytest.skip(str(error))

    motions = load(data_files=data_files["BasicMotions"], tmp_path=tmp_path)
    vowels = load(data_files=data_files["JapaneseVowels"], tmp_path=tmp_path)

    assert motions["train"].features["labels"].names == ["Standing", "Running", "Walking", "Badminton"]
    assert (len(motions["train"]) + len(motions["validation"]), len(motions["test"])) == (40, 40)
    assert series_shape(motions["test"]) == (100, 6)
    assert (len(vowels["train"]) + len(vowels["validation"]), len(vowels["test"])) == (270, 370)
    assert vowels["test"].features["past_values"].shape == (None, 12)
    test_lengths = [len(window) for window in numpy_windows(vowels["test"])]
    assert (min(test_lengths), max(test_lengths)) == (7, 29)
