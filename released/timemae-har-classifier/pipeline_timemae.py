"""`pipeline("time-series-classification")`: class names and scores for raw windows, in one call.

This file imports nothing from `timemae_hf` but `windows_timemae` (relatively), because it is also saved beside released
checkpoints (their config's `custom_pipelines` points here), with the files it imports relatively, and loaded with
`trust_remote_code=True` where the package is not installed.
"""

import inspect
from typing import Any

import numpy as np
import torch
from transformers import Pipeline
from transformers.pipelines.text_classification import ClassificationFunction, sigmoid, softmax

from .windows_timemae import pad_past_values, window_array

TASK = "time-series-classification"


class TimeSeriesClassificationPipeline(Pipeline):
    """
    Classifies multivariate time-series windows with a `TimeMAEForSequenceClassification` (or any model that takes
    `past_values` and returns `logits`).

    Inputs: one window `(time, channels)` or a batch `(batch, time, channels)`, as a numpy array, a torch tensor or
    nested lists; or a list of windows of different lengths (each `(time, channels)`), which are right-padded and
    passed with a `past_observed_mask`. For a one-channel model a window may also be 1-D `(time,)` and a batch 2-D
    `(batch, time)`. NaN values count as missing: they are set to 0 and marked unobserved. Windows shorter than the
    model's `context_length` are padded by the model; everything else (wrong channel count, too long, infinite values)
    is rejected by the model with an error that names the fix.

    Returns, per window, the `top_k` most likely classes as `[{"label": "WALKING", "score": 0.97}, ...]`; a batch gives
    one such list per window.

    Example:

    ```python
    >>> from transformers import pipeline
    >>> classifier = pipeline("time-series-classification", model="timemae-har-classifier", trust_remote_code=True)
    >>> classifier(window, top_k=2)  # window: (128, 9)
    [{'label': 'WALKING', 'score': 0.97}, {'label': 'WALKING_UPSTAIRS', 'score': 0.02}]
    ```
    """

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = False

    def _sanitize_parameters(self, top_k=None, function_to_apply=None):
        postprocess_params = {}
        if top_k is not None:
            if not isinstance(top_k, int) or top_k < 1:
                raise ValueError(f"`top_k` must be a positive integer, got {top_k!r}.")
            postprocess_params["top_k"] = top_k
        if isinstance(function_to_apply, str):
            function_to_apply = ClassificationFunction(function_to_apply.lower())
        if function_to_apply is not None:
            postprocess_params["function_to_apply"] = function_to_apply
        return {}, {}, postprocess_params

    def __call__(self, inputs: Any, **kwargs) -> list[dict[str, Any]] | list[list[dict[str, Any]]]:
        """
        Classify `inputs` (see the class docstring for the accepted layouts). `top_k` (default 5, at most the number
        of classes) limits the classes returned per window; `function_to_apply` ("softmax", "sigmoid" or "none")
        overrides the one the model config implies.
        """
        # A batch is one forward pass: the windows are stacked here rather than fed one by one through the base class's
        # list handling (which would also read a nested-list window as a list of inputs).
        return super().__call__(TimeSeriesWindows(inputs, self.model.config.num_input_channels), **kwargs)

    def preprocess(self, windows: "TimeSeriesWindows") -> dict[str, Any]:
        model_inputs = {"past_values": windows.past_values, "single_window": windows.single_window}
        if windows.past_observed_mask is not None:
            if "past_observed_mask" not in inspect.signature(self.model.forward).parameters:
                raise ValueError(
                    "These windows have missing values (NaN) or different lengths, which needs a model that takes "
                    "`past_observed_mask`; this checkpoint's code does not. Pass equal-length windows without NaN, or "
                    "re-save the checkpoint with a current timemae_hf."
                )
            model_inputs["past_observed_mask"] = windows.past_observed_mask
        return model_inputs

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        single_window = model_inputs.pop("single_window")
        logits = self.model(**model_inputs).logits
        return {"logits": logits, "single_window": single_window}

    def postprocess(self, model_outputs, function_to_apply=None, top_k=5):
        config = self.model.config
        if function_to_apply is None:
            if config.problem_type == "regression":
                function_to_apply = ClassificationFunction.NONE
            elif config.problem_type == "multi_label_classification" or config.num_labels == 1:
                function_to_apply = ClassificationFunction.SIGMOID
            else:
                function_to_apply = ClassificationFunction.SOFTMAX
        logits = model_outputs["logits"].float().numpy()
        if function_to_apply == ClassificationFunction.SIGMOID:
            scores = sigmoid(logits)
        elif function_to_apply == ClassificationFunction.SOFTMAX:
            scores = softmax(logits)
        else:
            scores = logits
        top_k = min(top_k, config.num_labels)
        predictions = []
        for window_scores in scores:
            best = np.argsort(-window_scores, kind="stable")[:top_k]
            predictions.append([{"label": config.id2label[int(i)], "score": float(window_scores[i])} for i in best])
        return predictions[0] if model_outputs["single_window"] else predictions


class TimeSeriesWindows:
    """
    The pipeline's input as model tensors: `past_values` (batch, time, channels) float32 and, when some values are
    missing (NaN) or windows differ in length, `past_observed_mask` of the same shape (1 = observed).
    `single_window` says whether one window (rather than a batch) was given. Here the input's layout is read (one
    window or a batch, one channel or several); `pad_past_values` makes the tensors.
    """

    def __init__(self, inputs: Any, num_input_channels: int):
        if _is_ragged_list(inputs):
            self.single_window = False
            self._set_model_inputs([self._window_array(window, num_input_channels) for window in inputs])
            return
        array = window_array(inputs)
        one_channel_batch = array.ndim == 2 and _is_one_channel_batch(array, num_input_channels)
        self.single_window = array.ndim == 1 or (array.ndim == 2 and not one_channel_batch)
        if self.single_window:
            array = array[None]
        if array.ndim == 2:  # (batch, time) or (1, time) of a one-channel model
            array = array[..., None]
        if array.ndim != 3:
            raise ValueError(_shape_message(array.shape, num_input_channels))
        if array.shape[0] == 0 or array.shape[1] == 0:
            raise ValueError(
                f"Got an empty input of shape {tuple(array.shape)}: pass at least one window of at least one time step."
            )
        self._set_model_inputs(array)

    @staticmethod
    def _window_array(window: Any, num_input_channels: int) -> np.ndarray:
        array = window_array(window)
        if array.ndim == 1 and num_input_channels == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(
                f"In a list of windows, each window must be (time, channels={num_input_channels}); got shape "
                f"{tuple(array.shape)}."
            )
        if array.shape[0] == 0:
            raise ValueError("Got a window of length 0: pass at least one time step per window.")
        return array

    def _set_model_inputs(self, windows: np.ndarray | list[np.ndarray]):
        model_inputs = pad_past_values(windows)
        self.past_values = model_inputs["past_values"]
        self.past_observed_mask = model_inputs.get("past_observed_mask")


def _is_ragged_list(inputs: Any) -> bool:
    """A non-empty list/tuple of windows whose lengths differ (equal-length lists are stacked as one array)."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        return False
    if not all(isinstance(window, (list, tuple, np.ndarray, torch.Tensor)) for window in inputs):
        return False
    lengths = {len(window) for window in inputs}
    nested = all(len(window) and isinstance(window[0], (list, tuple, np.ndarray, torch.Tensor)) for window in inputs)
    return nested and len(lengths) > 1


def _is_one_channel_batch(array: np.ndarray, num_input_channels: int) -> bool:
    """2-D input to a one-channel model is (batch, time), as the model reads it, unless it is (time, 1)."""
    return num_input_channels == 1 and array.shape[1] != 1


def _shape_message(shape: tuple, num_input_channels: int) -> str:
    return (
        f"Expected one window (time, channels={num_input_channels}) or a batch (batch, time, "
        f"channels={num_input_channels}), got an input of shape {tuple(shape)}."
    )
