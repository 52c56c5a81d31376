"""The classifiers the league compares, as practitioners would run them: one `Method` per column of the league.

`METHODS` holds aeon's MiniRocket, MultiRocket-Hydra and QUANT with their defaults; `TimeMAEClassifier()` as it ships
(`TimeMAE_base_probe`: the frozen timemae-base encoder read by a standardised logistic regression) and fine-tuned from
timemae-base (`TimeMAE_base_finetune`); and the former defaults, a new encoder pre-trained on the fit windows alone,
fine-tuned or probed (`TimeMAE_finetune`, `TimeMAE_probe`). Each builds its estimator for a set (a `LeagueData` of
benchmarks/league/league_data.py) and a seed, its `random_state`. aeon's classifiers take equal lengths only: on sets of
unequal lengths they are padded with zeros by aeon's `Padder` inside a `ClassifierPipeline`, to the longest series of
both splits; `TimeMAEClassifier` takes the ragged series as they are.

benchmarks/league/league.py runs them on the test splits; the validation studies (estimator_defaults.py,
timemae_base_validation.py) and benchmarks/har/har_gap.py build `REFERENCE_METHOD` from here, so every study measures
against the same MiniRocket.
"""

import importlib.metadata
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.league.league_data import LeagueData
from timemae_hf import TimeMAEClassifier  # (imported here: the code a long league runs is loaded at start)

REFERENCE_METHOD = "MiniRocket"  # what practitioners try first: the goal and the figure measure every method against it


@dataclass(frozen=True)
class Method:
    """One league column: how to build its estimator for a set and seed, and the arrays it takes."""

    name: str
    build: Callable[[LeagueData, int, dict], object]  # (data, seed, timemae_params) -> unfitted estimator
    is_timemae: bool
    bakeoff_file: str | None = None  # its accuracies in the tsml-eval wheel's bake-off results, if published there

    @property
    def available(self) -> str | None:
        """None when it can run here, else why not (aeon's classifiers need numba, which CI does not install)."""
        if not self.is_timemae and importlib.util.find_spec("numba") is None:
            return f"numba is not installed (aeon's classifiers need it): pip install aeon=={aeon_version()}"
        return None

    def inputs(self, data: LeagueData, split: str):
        return data.timemae_inputs(split) if self.is_timemae else data.aeon_inputs(split)

    def version(self) -> str:
        if self.is_timemae:
            return f"timemae-hf {importlib.metadata.version('timemae-hf')}"
        return f"aeon {aeon_version()}"


def aeon_version() -> str:
    return importlib.metadata.version("aeon")


def aeon_classifier(class_name: str, module: str) -> Callable[[LeagueData, int, dict], object]:
    """aeon's `class_name` with its defaults and `random_state`; padded by aeon's `Padder` when lengths differ."""

    def build(data: LeagueData, seed: int, timemae_params: dict):
        classifier = getattr(importlib.import_module(module), class_name)(random_state=seed)
        if data.equal_length:
            return classifier
        from aeon.classification.compose import ClassifierPipeline
        from aeon.transformations.collection.unequal_length import Padder

        return ClassifierPipeline([Padder(padded_length=data.longest_series)], classifier)

    return build


def timemae_classifier(head: str, **fixed) -> Callable[[LeagueData, int, dict], object]:
    """`TimeMAEClassifier(head=head, **fixed)`, the rest at its defaults, with `random_state` and `timemae_params`
    (empty in the league)."""

    def build(data: LeagueData, seed: int, timemae_params: dict):
        new_encoder = fixed.get("pretrained_model", "timemae-base") is None
        if not new_encoder:  # a pre-trained checkpoint fixes the encoder's shape
            timemae_params = {key: value for key, value in timemae_params.items() if key not in NEW_ENCODER_ONLY}
        params = {"head": head, "random_state": seed, **fixed, **timemae_params}
        if new_encoder and data.test_longer_than_train:  # its default, the longest train series, would refuse test
            params.setdefault("context_length", data.longest_series)
        return TimeMAEClassifier(**params)

    return build


# TimeMAEClassifier parameters that shape a new encoder: --timemae_params passes them to the from-scratch columns only.
NEW_ENCODER_ONLY = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "patch_length",
    "context_length",
    "bert_model_name_or_path",
)
# TimeMAEClassifier's defaults before it started from timemae-base (commit 4e7d3da): a new encoder pre-trained on the
# fit windows alone. Spelled out, so that these columns mean the same after the defaults changed.
FROM_SCRATCH = {"pretrained_model": None, "pretrain_steps": 1000, "normalize_channels": True}


CONVOLUTION, INTERVAL = "aeon.classification.convolution_based", "aeon.classification.interval_based"
METHODS = {
    method.name: method
    for method in (
        Method(
            "MiniRocket",
            aeon_classifier("MiniRocketClassifier", CONVOLUTION),
            False,
            "convolution/MiniROCKET_accuracy.csv",
        ),
        Method(
            "MultiRocketHydra",
            aeon_classifier("MultiRocketHydraClassifier", CONVOLUTION),
            False,
            "best/MR-Hydra_accuracy.csv",
        ),
        Method("QUANT", aeon_classifier("QUANTClassifier", INTERVAL), False, "best/QUANT_accuracy.csv"),
        Method("TimeMAE_finetune", timemae_classifier("finetune", **FROM_SCRATCH), True),
        Method("TimeMAE_probe", timemae_classifier("probe", **FROM_SCRATCH), True),
        Method("TimeMAE_base_probe", timemae_classifier("probe"), True),  # TimeMAEClassifier() as it ships
        Method("TimeMAE_base_finetune", timemae_classifier("finetune"), True),
    )
}


def json_safe(params: dict) -> dict:
    """`get_params()` as JSON: estimators and other objects by their repr."""
    return json.loads(json.dumps(params, default=repr, sort_keys=True))
