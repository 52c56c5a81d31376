"""HAR data for TimeMAE: the `datasets` builder, a one-call loader and the channel statistics."""

from .channel_statistics import compute_channel_statistics
from .uci_har import UciHar, UciHarConfig, default_har_path, held_out_validation_subjects, load_har
from .uci_har_files import HAR_ACTIVITIES, HAR_CHANNELS, HAR_WINDOW_LENGTH

__all__ = [
    "HAR_ACTIVITIES",
    "HAR_CHANNELS",
    "HAR_WINDOW_LENGTH",
    "UciHar",
    "UciHarConfig",
    "compute_channel_statistics",
    "default_har_path",
    "held_out_validation_subjects",
    "load_har",
]
