"""TimeMAE on Hugging Face Transformers: masked autoencoder pre-training for time series with a BERT encoder.

Importing this package registers the `timemae` model type with transformers' Auto classes.
"""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForSequenceClassification,
)

from .configuration_timemae import TimeMAEConfig
from .modeling_timemae import (
    TimeMAEForPreTraining,
    TimeMAEForPreTrainingOutput,
    TimeMAEForSequenceClassification,
    TimeMAEModel,
    TimeMAEModelOutput,
    TimeMAEPreTrainedModel,
)

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

__all__ = [
    "TimeMAEConfig",
    "TimeMAEForPreTraining",
    "TimeMAEForPreTrainingOutput",
    "TimeMAEForSequenceClassification",
    "TimeMAEModel",
    "TimeMAEModelOutput",
    "TimeMAEPreTrainedModel",
]
