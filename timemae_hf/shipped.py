"""Models shipped inside the package, so that they work offline, with nothing to download.

`timemae-base` is the universal encoder: TimeMAE pre-trained on generated series only
(`training/configs/timemae_base.yaml`), small enough (64 wide, 4 layers) to travel in the wheel. Its folder is a plain
transformers checkpoint: `TimeMAEModel.from_pretrained(shipped_model_path("timemae-base"), num_input_channels=C)`
encodes series of any length with any number of channels. `TimeMAEClassifier()` starts from it by default, and the
training scripts take its name as `--model_name_or_path timemae-base`.
"""

import os
from pathlib import Path

SHIPPED_MODELS_DIR = Path(__file__).resolve().parent / "shipped_models"
SHIPPED_MODEL_NAMES = ("timemae-base",)


def shipped_model_path(name: str) -> str:
    """The folder of the shipped model `name` (one of `SHIPPED_MODEL_NAMES`)."""
    if name not in SHIPPED_MODEL_NAMES:
        raise ValueError(f"{name!r} is not a model shipped with timemae_hf: choose one of {SHIPPED_MODEL_NAMES}.")
    folder = SHIPPED_MODELS_DIR / name
    if not (folder / "config.json").is_file():
        raise OSError(
            f"The shipped model {name!r} is missing from this installation ({folder} has no config.json): reinstall "
            "timemae-hf, or give the path of a TimeMAE checkpoint instead."
        )
    return str(folder)


def resolve_model_name_or_path(name_or_path: str) -> str:
    """
    Where `name_or_path` is read from: an existing folder as it is; else a shipped model's name (`"timemae-base"`) as
    its folder inside the package; else unchanged (a Hub id, for `from_pretrained`).
    """
    name_or_path = os.fspath(name_or_path)
    if os.path.isdir(name_or_path) or name_or_path not in SHIPPED_MODEL_NAMES:
        return name_or_path
    return shipped_model_path(name_or_path)


__all__ = ["SHIPPED_MODEL_NAMES", "resolve_model_name_or_path", "shipped_model_path"]
