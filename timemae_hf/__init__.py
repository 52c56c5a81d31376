"""TimeMAE on Hugging Face Transformers: masked autoencoder pre-training for time series with a BERT encoder.

Importing this package registers the `timemae` model type with transformers' Auto classes and the
`time-series-classification` pipeline.
"""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForSequenceClassification,
)
from transformers.pipelines import PIPELINE_REGISTRY

from .configuration_timemae import TimeMAEConfig
from .modeling_timemae import (
    TimeMAEForPreTraining,
    TimeMAEForPreTrainingOutput,
    TimeMAEForSequenceClassification,
    TimeMAEModel,
    TimeMAEModelOutput,
    TimeMAEPreTrainedModel,
)
from .pipeline_timemae import TASK as TIME_SERIES_CLASSIFICATION_TASK
from .pipeline_timemae import TimeSeriesClassificationPipeline
from .shipped import SHIPPED_MODEL_NAMES, shipped_model_path
from .windows_timemae import pad_past_values

__version__ = "0.1.0"

AutoConfig.register(TimeMAEConfig.model_type, TimeMAEConfig, exist_ok=True)
for _auto_class, _model_class in (
    (AutoModel, TimeMAEModel),
    (AutoModelForPreTraining, TimeMAEForPreTraining),
    (AutoModelForSequenceClassification, TimeMAEForSequenceClassification),
):
    _auto_class.register(TimeMAEConfig, _model_class, exist_ok=True)
    # Saved checkpoints carry `auto_map` and these code files, so they load with `trust_remote_code=True`
    # in environments without timemae_hf.
    _model_class.register_for_auto_class(_auto_class.__name__)
TimeMAEConfig.register_for_auto_class()
# The model class is named through its Auto class: a saved pipeline's `custom_pipelines` records class names that
# `pipeline(..., trust_remote_code=True)` looks up in `transformers`, where only the Auto class exists.
PIPELINE_REGISTRY.register_pipeline(
    TIME_SERIES_CLASSIFICATION_TASK,
    pipeline_class=TimeSeriesClassificationPipeline,
    pt_model=AutoModelForSequenceClassification,
)


def __getattr__(name):
    # The scikit-learn estimator pulls in Trainer and scikit-learn: imported on first use, not with the model classes.
    if name == "TimeMAEClassifier":
        from .estimator import TimeMAEClassifier

        return TimeMAEClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SHIPPED_MODEL_NAMES",
    "TimeMAEClassifier",
    "TimeMAEConfig",
    "TimeMAEForPreTraining",
    "TimeMAEForPreTrainingOutput",
    "TimeMAEForSequenceClassification",
    "TimeMAEModel",
    "TimeMAEModelOutput",
    "TimeMAEPreTrainedModel",
    "TimeSeriesClassificationPipeline",
    "pad_past_values",
    "shipped_model_path",
]
