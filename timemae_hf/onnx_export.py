"""Export a TimeMAE checkpoint to ONNX, for ONNX Runtime on servers, phones and wearables.

    python -m timemae_hf.onnx_export <checkpoint_folder>              # writes <checkpoint_folder>/model.onnx
    python -m timemae_hf.onnx_export <checkpoint_folder> --quantize   # ... and model.int8.onnx (dynamic int8 weights)

A classifier checkpoint (`TimeMAEForSequenceClassification`) is exported as `past_values -> logits`; any other
TimeMAE checkpoint (pre-training included: its momentum encoder, regressor and tokenizer are left out) as the encoder,
`past_values -> last_hidden_state, pooler_output`. `past_values` is (batch, context_length, num_input_channels) float32
with a dynamic batch axis; full-length windows without NaN (the exported graph does not repeat the model's input
checks).

Exporter: `torch.onnx.export(..., dynamo=True)` at opset 23, where every attention block becomes one ONNX `Attention`
node (a graph of ~175 nodes after ONNX Runtime's optimisations, against ~380 from TorchScript tracing: ~10 % faster
for one window, where the per-node cost dominates). Model code whose input check is not export-safe (checkpoints saved
before it was made so) falls back to TorchScript tracing at opset 18 (`dynamo=False`), which runs the check once and
leaves it out of the graph. Optimum's exporter does not fit: optimum-onnx 0.1.0, the latest, requires transformers
< 4.58, and this package needs transformers 5. Graph optimisations are applied by ONNX Runtime when a session is
created (`inference_session`: all levels, one thread for single-window latency), so the saved files stay portable
across CPUs.
"""

import argparse
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

ONNX_FILE_NAME = "model.onnx"
INT8_ONNX_FILE_NAME = "model.int8.onnx"
DYNAMO_OPSET = 23  # the first with ONNX's Attention op
TRACING_OPSET = 18
EXPORTERS = ("auto", "dynamo", "tracing")

logger = logging.getLogger(__name__)


class TimeMAEEncoderForExport(nn.Module):
    """`TimeMAEModel` with positional outputs: (batch, time, channels) -> last_hidden_state, pooler_output."""

    output_names = ("last_hidden_state", "pooler_output")

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, past_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = self.encoder(past_values=past_values)
        return outputs.last_hidden_state, outputs.pooler_output


class TimeMAEClassifierForExport(nn.Module):
    """`TimeMAEForSequenceClassification` with one output: (batch, time, channels) -> logits (batch, num_labels)."""

    output_names = ("logits",)

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, past_values: torch.Tensor) -> torch.Tensor:
        return self.classifier(past_values=past_values).logits


def exportable(model: nn.Module) -> nn.Module:
    """The export wrapper for a TimeMAE model: the classifier's logits, or the encoder's outputs for any other head."""
    if hasattr(model, "classifier") and hasattr(model, "timemae"):
        return TimeMAEClassifierForExport(model).eval()
    encoder = getattr(model, "timemae", model)  # a pre-training model's online encoder, or the encoder itself
    return TimeMAEEncoderForExport(encoder).eval()


def export_onnx(model: nn.Module, path: str | Path, exporter: str = "auto") -> Path:
    """
    Write `model` (a TimeMAE model) as ONNX to `path`, with a dynamic batch axis; returns the path. `exporter`:
    "dynamo" (torch.export, opset 23), "tracing" (TorchScript, opset 18) or "auto" (dynamo, else tracing).
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"`exporter` must be one of {EXPORTERS}, got {exporter!r}.")
    wrapper = exportable(model)
    example = torch.zeros(2, model.config.context_length, model.config.num_input_channels)
    path = Path(path)
    tmp = path.with_suffix(".tmp.onnx")
    names = {"input_names": ["past_values"], "output_names": list(wrapper.output_names)}
    exported = False
    if exporter in ("auto", "dynamo"):
        try:
            # external_data=False: one self-contained file (even MiniLM's weights are only ~44 MB).
            torch.onnx.export(wrapper, (example,), str(tmp), dynamic_shapes=({0: torch.export.Dim("batch_size")},),
                              opset_version=DYNAMO_OPSET, dynamo=True, external_data=False, verbose=False,
                              **names)  # fmt: skip
            exported = True
        except Exception as error:  # torch.export's failures share no exception type
            if exporter == "dynamo":
                raise
            logger.warning(f"torch.export could not export this model's code ({str(error).splitlines()[0][:200]}); "
                           "exporting it with TorchScript tracing instead.")  # fmt: skip
    if not exported:
        dynamic_axes = {name: {0: "batch_size"} for name in ["past_values", *wrapper.output_names]}
        with warnings.catch_warnings():
            # Tracing runs the model's input checks on the example once and leaves them out of the graph, as meant;
            # these warnings say so.
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            torch.onnx.export(wrapper, (example,), str(tmp), dynamic_axes=dynamic_axes, opset_version=TRACING_OPSET,
                              dynamo=False, **names)  # fmt: skip
    tmp.replace(path)  # never leave a half-written model.onnx
    return path


def quantize_onnx(path: str | Path, quantized_path: str | Path) -> Path:
    """Dynamic int8 quantisation of the matmul weights (activations quantised on the fly); returns the new path."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantized_path = Path(quantized_path)
    tmp = quantized_path.with_suffix(".tmp.onnx")
    # Matrix products only: ONNX Runtime's quantiser mistakes opset 23's Attention node for its own contrib op.
    quantize_dynamic(str(path), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
    tmp.replace(quantized_path)
    return quantized_path


def inference_session(path: str | Path, num_threads: int | None = 1):
    """
    An ONNX Runtime CPU session with every graph optimisation on. One thread (the default) is fastest for one window
    at a time, where thread hand-offs cost more than the arithmetic; `None` lets ONNX Runtime use all cores (batches).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if num_threads is not None:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_for_export(checkpoint: str | Path) -> nn.Module:
    """The classifier if the checkpoint is one, else the encoder (`TimeMAEModel`) of any TimeMAE checkpoint."""
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    from . import TimeMAEConfig  # noqa: F401  (registers the model type)

    checkpoint = Path(checkpoint)
    if not (checkpoint / "config.json").is_file():
        raise FileNotFoundError(
            f"{checkpoint} has no config.json: pass a folder written by `save_pretrained` (a training run's output "
            "folder or a released checkpoint)."
        )
    config = AutoConfig.from_pretrained(checkpoint)
    if config.model_type != "timemae":
        raise ValueError(f"{checkpoint} holds a {config.model_type!r} model, not a TimeMAE one.")
    is_classifier = any(name.endswith("ForSequenceClassification") for name in config.architectures or [])
    auto_class = AutoModelForSequenceClassification if is_classifier else AutoModel
    return auto_class.from_pretrained(checkpoint).eval()


def export_checkpoint(checkpoint: str | Path, quantize: bool = False, exporter: str = "auto") -> list[Path]:
    """Write `model.onnx` (and with `quantize`, `model.int8.onnx`) into the checkpoint folder; returns the paths."""
    checkpoint = Path(checkpoint)
    model = load_for_export(checkpoint)
    paths = [export_onnx(model, checkpoint / ONNX_FILE_NAME, exporter=exporter)]
    if quantize:
        paths.append(quantize_onnx(paths[0], checkpoint / INT8_ONNX_FILE_NAME))
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m timemae_hf.onnx_export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", help="a TimeMAE checkpoint folder (config.json + model.safetensors)")
    parser.add_argument("--quantize", action="store_true", help=f"also write {INT8_ONNX_FILE_NAME} (dynamic int8)")
    parser.add_argument("--exporter", default="auto", choices=EXPORTERS,
                        help="torch.export at opset 23 (dynamo), TorchScript tracing at opset 18, or dynamo where the "
                        "model's code allows it, else tracing (auto)")  # fmt: skip
    args = parser.parse_args(argv)
    for path in export_checkpoint(args.checkpoint, quantize=args.quantize, exporter=args.exporter):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
