"""The synthetic pre-training corpus: seeded, finite, varied, streamed from any index, and flat in memory."""

import tracemalloc

import datasets
import numpy as np
import pytest
from datasets.distributed import split_dataset_by_node

from timemae_hf.data import (
    SyntheticSeriesConfig,
    SyntheticSeriesGenerator,
    synthetic_series_dataset,
    synthetic_series_stream,
)
from timemae_hf.data.streaming import reading_stream
from timemae_hf.data.synthetic import DEFAULT_FAMILY_WEIGHTS

SHORT = SyntheticSeriesConfig(length=64, kernel_bank_size=4, kernel_bank_block=32)


def first_windows(dataset, count: int) -> np.ndarray:
    with reading_stream(dataset) as examples:
        return np.stack([np.asarray(next(examples)["past_values"]) for _ in range(count)])


def test_a_series_is_a_function_of_seed_stream_and_index():
    generator, again = SyntheticSeriesGenerator(SHORT), SyntheticSeriesGenerator(SHORT)
    np.testing.assert_array_equal(generator(17), again(17))
    # the index order of generation does not matter (banks are redrawn per block, not carried along)
    later_first = SyntheticSeriesGenerator(SHORT)
    later_first(500)
    np.testing.assert_array_equal(later_first(17), generator(17))
    assert not np.array_equal(generator(17), generator(18))
    assert not np.array_equal(generator(17), SyntheticSeriesGenerator(SHORT, stream="validation")(17))
    other_seed = SyntheticSeriesConfig(length=64, seed=1, kernel_bank_size=4, kernel_bank_block=32)
    assert not np.array_equal(generator(17), SyntheticSeriesGenerator(other_seed)(17))


@pytest.mark.parametrize("family", sorted(DEFAULT_FAMILY_WEIGHTS))
def test_every_family_gives_finite_varying_float32_series(family):
    config = SyntheticSeriesConfig(length=64, family_weights={family: 1.0}, kernel_bank_size=4, kernel_bank_block=32)
    generator = SyntheticSeriesGenerator(config)
    series = np.stack([generator(index) for index in range(40)])
    assert series.dtype == np.float32 and series.shape == (40, 64)
    assert np.isfinite(series).all()
    assert (series.std(axis=1) > 0).all()
    # different series, not one shape repeated
    assert len({round(float(value), 3) for value in series[:, 10] / series.std(axis=1)}) > 30


def test_the_corpus_spans_scales_offsets_and_shapes():
    series = np.stack([SyntheticSeriesGenerator(SHORT)(index) for index in range(400)])
    stds = series.std(axis=1)
    assert stds.min() < 0.1 and stds.max() > 100  # random scales over several decades
    means = series.mean(axis=1)
    assert (means < 0).any() and (means > 0).any()
    lag_one = np.array([np.corrcoef(s[:-1], s[1:])[0, 1] for s in series])
    assert lag_one.min() < 0.5 and lag_one.max() > 0.99  # rough and smooth series both


def test_the_stream_starts_at_any_index_in_index_order():
    generator = SyntheticSeriesGenerator(SHORT)
    stream = synthetic_series_stream(SHORT, start_index=100)
    assert isinstance(stream, datasets.IterableDataset)
    assert stream.features["past_values"] == datasets.Array2D(shape=(64, 1), dtype="float32")
    windows = first_windows(stream, 6)
    np.testing.assert_array_equal(windows[:, :, 0], np.stack([generator(100 + k) for k in range(6)]))


def test_processes_reading_the_stream_get_different_series():
    stream = synthetic_series_stream(SHORT)
    first = first_windows(split_dataset_by_node(stream, rank=0, world_size=2), 8)
    second = first_windows(split_dataset_by_node(stream, rank=1, world_size=2), 8)
    whole = first_windows(stream, 16)
    assert not any(np.array_equal(a, b) for a in first for b in second)
    shared = sum(any(np.array_equal(a, b) for b in whole) for a in np.concatenate([first, second]))
    assert shared == 16  # together, exactly the first 16 series of the stream


def test_validation_series_are_a_separate_stream_in_memory():
    validation = synthetic_series_dataset(5, SHORT)
    assert isinstance(validation, datasets.Dataset) and len(validation) == 5
    windows = np.asarray(validation.with_format("numpy")["past_values"])
    assert windows.shape == (5, 64, 1)
    np.testing.assert_array_equal(
        windows[:, :, 0], [SyntheticSeriesGenerator(SHORT, "validation")(k) for k in range(5)]
    )
    training = first_windows(synthetic_series_stream(SHORT), 5)
    assert not any(np.array_equal(a, b) for a in windows for b in training)


def test_memory_stays_flat_over_a_long_stream():
    generator = SyntheticSeriesGenerator(SHORT)
    for index in range(200):
        generator(index)
    tracemalloc.start()
    for index in range(200, 1200):  # 31 kernel banks later
        generator(index)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(generator._kernel_bank(1199)) == SHORT.kernel_bank_size
    assert peak < 2_000_000  # one bank of 4 64x64 factors and one series at a time, not a growing history


@pytest.mark.parametrize(
    "options, message",
    [
        ({"length": 4}, "at least 8"),
        ({"family_weights": {"brownian": 1.0}}, "Unknown families"),
        ({"family_weights": {"spikes": 0.0}}, "positive sum"),
        ({"stretch_probability": 1.5}, "stretch_probability"),
        ({"kernel_bank_size": 0}, "kernel_bank_size"),
    ],
)
def test_bad_corpus_options_name_the_option(options, message):
    with pytest.raises(ValueError, match=message):
        SyntheticSeriesConfig(**options)


def test_an_unknown_stream_is_refused():
    with pytest.raises(ValueError, match="stream"):
        SyntheticSeriesGenerator(SHORT, stream="test")


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_resuming_the_stream_from_a_folder_without_checkpoints_names_the_fix(tmp_path, folder):
    from pretrain import PretrainingDataArguments, synthetic_stream_start  # training/, beside the scripts

    from timemae_hf.training import TimeMAETrainingArguments

    output_dir = tmp_path if folder == "empty" else tmp_path / "no-run-yet"  # a folder no run has written to
    data_args = PretrainingDataArguments(dataset_name="synthetic")
    training_args = TimeMAETrainingArguments(output_dir=str(output_dir), resume_from_checkpoint="true", max_steps=2)
    with pytest.raises(ValueError, match="holds no checkpoint"):
        synthetic_stream_start(data_args, training_args)
