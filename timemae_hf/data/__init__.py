"""Data for TimeMAE: any time series (`load_timeseries_dataset`), the HAR builder, the synthetic pre-training corpus,
and channel statistics."""

from .channel_statistics import compute_channel_statistics
from .npz_format import read_npz_file
from .synthetic import (
    SYNTHETIC_DATASET_NAME,
    SyntheticSeriesConfig,
    SyntheticSeriesGenerator,
    synthetic_series_dataset,
    synthetic_series_stream,
)
from .timeseries import dataset_display_name, load_timeseries_dataset, series_shape
from .ts_format import read_ts_file
from .uci_har import UciHar, UciHarConfig, default_har_path, held_out_validation_subjects, load_har
from .uci_har_files import HAR_ACTIVITIES, HAR_CHANNELS, HAR_WINDOW_LENGTH
from .validation_split import validation_split_description

__all__ = [
    "HAR_ACTIVITIES",
    "HAR_CHANNELS",
    "HAR_WINDOW_LENGTH",
    "SYNTHETIC_DATASET_NAME",
    "SyntheticSeriesConfig",
    "SyntheticSeriesGenerator",
    "UciHar",
    "UciHarConfig",
    "compute_channel_statistics",
    "dataset_display_name",
    "default_har_path",
    "held_out_validation_subjects",
    "load_har",
    "load_timeseries_dataset",
    "read_npz_file",
    "read_ts_file",
    "series_shape",
    "synthetic_series_dataset",
    "synthetic_series_stream",
    "validation_split_description",
]
