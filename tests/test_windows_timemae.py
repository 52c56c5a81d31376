"""`pad_past_values`: the one routine that turns windows into `past_values` + `past_observed_mask`."""

import numpy as np
import pytest
import torch

from timemae_hf.data.ts_format import _case_values
from timemae_hf.estimator import check_windows
from timemae_hf.pipeline_timemae import TimeSeriesWindows
from timemae_hf.training import TimeMAEDataCollator
from timemae_hf.windows_timemae import pad_past_values, pad_windows


def ragged_windows_with_nan() -> list[np.ndarray]:
    generator = np.random.default_rng(0)
    windows = [generator.normal(size=(length, 3)).astype(np.float32) for length in (8, 5, 6)]
    windows[1][2, 0] = np.nan
    return windows


def expected_inputs(windows: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """What every caller must get, written out by hand: values padded with 0 at the end, NaN as 0, mask of the rest."""
    past_values = torch.zeros(len(windows), max(map(len, windows)), windows[0].shape[1])
    observed = torch.zeros(past_values.shape, dtype=torch.bool)
    for row, window in enumerate(windows):
        past_values[row, : len(window)] = torch.from_numpy(np.nan_to_num(window, nan=0.0))
        observed[row, : len(window)] = torch.from_numpy(~np.isnan(window))
    return past_values, observed


@pytest.mark.parametrize(
    "as_input",
    [
        lambda windows: windows,  # numpy windows
        lambda windows: [torch.from_numpy(window) for window in windows],  # tensors
        lambda windows: [window.tolist() for window in windows],  # nested lists
        lambda windows: tuple(windows),
    ],
    ids=["numpy", "tensors", "nested_lists", "tuple"],
)
def test_ragged_windows_with_nan_are_padded_with_zeros_and_marked_unobserved(as_input):
    windows = ragged_windows_with_nan()
    batch = pad_past_values(as_input(windows))
    past_values, observed = expected_inputs(windows)
    assert batch["past_values"].dtype == torch.float32 and batch["past_observed_mask"].dtype == torch.bool
    torch.testing.assert_close(batch["past_values"], past_values)
    assert torch.equal(batch["past_observed_mask"], observed)


@pytest.mark.parametrize(
    "as_input",
    [np.asarray, torch.from_numpy, list, lambda batch: batch.tolist()],
    ids=["array", "tensor", "list_of_arrays", "nested_lists"],
)
def test_complete_equal_length_windows_are_stacked_without_a_mask(as_input):
    batch = np.random.default_rng(1).normal(size=(4, 7, 2)).astype(np.float32)
    model_inputs = pad_past_values(as_input(batch))
    assert set(model_inputs) == {"past_values"}
    assert torch.equal(model_inputs["past_values"], torch.from_numpy(batch))


def test_nan_in_an_equal_length_batch_gets_a_mask():
    batch = np.ones((2, 4, 3), dtype=np.float32)
    batch[0, 1, 2] = np.nan
    model_inputs = pad_past_values(batch)
    assert model_inputs["past_values"][0, 1, 2] == 0 and model_inputs["past_observed_mask"].sum() == 2 * 4 * 3 - 1


def test_one_channel_series_get_a_channel_axis():
    assert pad_past_values(np.zeros((3, 5)))["past_values"].shape == (3, 5, 1)  # (batch, time)
    ragged = pad_past_values([np.arange(4.0), torch.arange(6.0)])  # (time,) each
    assert ragged["past_values"].shape == (2, 6, 1) and not ragged["past_observed_mask"][0, 4:].any()


def test_length_pads_beyond_the_longest_window_and_refuses_longer_ones():
    padded = pad_windows(np.ones((2, 4, 3), dtype=np.float32), length=6)
    assert padded.shape == (2, 6, 3) and np.isnan(padded[:, 4:]).all() and not np.isnan(padded[:, :4]).any()
    with pytest.raises(ValueError, match="crop them to 3 steps"):
        pad_windows(np.ones((2, 4, 3)), length=3)


@pytest.mark.parametrize(
    "bad_windows, error, message",
    [
        ([np.zeros((4, 3)), np.zeros((5, 2))], ValueError, "same channels"),
        ([np.zeros((4, 3, 1)), np.zeros((5, 3, 1))], ValueError, r"\(time,\) or \(time, channels\)"),
        ([np.array(["a", "b"])], TypeError, "real numbers"),
        ([torch.ones(4, 3, dtype=torch.bool)], TypeError, "real numbers"),
        (["walking.csv"], TypeError, "numpy arrays, torch tensors or nested lists"),
        (np.zeros(4), ValueError, r"\(time,\) or \(time, channels\)"),  # a series of numbers, not of windows
        ([], ValueError, "No windows given"),
    ],
)
def test_bad_windows_get_an_error_that_names_the_problem(bad_windows, error, message):
    with pytest.raises(error, match=message):
        pad_past_values(bad_windows)


def test_collator_pipeline_estimator_and_routine_give_the_same_inputs():
    windows = ragged_windows_with_nan()
    past_values, observed = expected_inputs(windows)
    from_collator = TimeMAEDataCollator()([{"past_values": window} for window in windows])
    from_pipeline = TimeSeriesWindows(windows, num_input_channels=3)
    from_estimator = pad_past_values(check_windows(windows))  # NaN-padded array, as the estimator's batches are
    for given_values, given_observed in (
        (from_collator["past_values"], from_collator["past_observed_mask"]),
        (from_pipeline.past_values, from_pipeline.past_observed_mask),
        (from_estimator["past_values"], from_estimator["past_observed_mask"]),
    ):
        torch.testing.assert_close(given_values, past_values)
        assert torch.equal(given_observed, observed)


def test_ts_case_with_dimensions_of_different_lengths_is_nan_padded_through_pad_windows():
    window = _case_values(["1,2,3", "4,?"], "Toy_TRAIN.ts", line_number=12)  # .ts: dimensions separated by ':'
    np.testing.assert_array_equal(window, np.array([[1, 4], [2, np.nan], [3, np.nan]], dtype=np.float32))
    assert window.dtype == np.float32 and window.flags["C_CONTIGUOUS"]
