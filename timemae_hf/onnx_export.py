"""Export a TimeMAE checkpoint to ONNX, for ONNX Runtime on servers, phones and wearables.

    python -m timemae_hf.onnx_export <checkpoint_folder>              # writes <checkpoint_folder>/model.onnx
    python -m timemae_hf.onnx_export <checkpoint_folder> --optimize   # ... and model.optimized.onnx (fused for ORT)
    python -m timemae_hf.onnx_export <checkpoint_folder> --quantize   # ... and model.int8.onnx (+ dynamic int8 weights)
    python -m timemae_hf.onnx_export <checkpoint_folder> --observed_mask   # ... and model.observed_mask.onnx (below)

A classifier checkpoint (`TimeMAEForSequenceClassification`) is exported as `past_values -> logits`; any other
TimeMAE checkpoint (pre-training included: its momentum encoder, regressor and tokenizer are left out) as the encoder,
`past_values -> last_hidden_state, pooler_output`. `past_values` is (batch, context_length, num_input_channels) float32
with a dynamic batch axis; full-length windows without NaN (the exported graph does not repeat the model's input
checks).

Ragged or incomplete batches, which the pipeline and `TimeMAEClassifier` accept, need the graphs that also take
`past_observed_mask` (`--observed_mask`: model.observed_mask.onnx, and with --optimize / --quantize its
.optimized / .int8 variants): float32 of `past_values`' shape, 1 where a value is observed, 0 where it is missing or
padding. Pad shorter windows to context_length and mark the padding 0; `past_values` may hold NaN (or anything) where
the mask is 0, since the graph zeroes those values as the model does. A window with no observed value gives NaN where
PyTorch raises: drop such windows first. These graphs are exported with torch.export only (tracing would fix the batch
size of the model's patch-mask code into them).

Exporter: `torch.onnx.export(..., dynamo=True)` at opset 23, where every attention block becomes one ONNX `Attention`
node (a graph of ~175 nodes after ONNX Runtime's optimisations, against ~380 from TorchScript tracing: ~10 % faster
for one window, where the per-node cost dominates). Model code whose input check is not export-safe (checkpoints saved
before it was made so) falls back to TorchScript tracing at opset 18 (`dynamo=False`), which runs the check once and
leaves it out of the graph. Optimum's exporter does not fit: optimum-onnx 0.1.0, the latest, requires transformers
< 4.58, and this package needs transformers 5. `model.onnx` holds standard ONNX operators only, for any runtime.

`model.optimized.onnx` is for ONNX Runtime, as Optimum's `ORTOptimizer` would write it: the model is exported with
eager attention and onnxscript's ONNX Runtime fusions turn each attention block (three projections, head reshapes,
softmax) into one `com.microsoft.Attention` node and each GELU into `BiasGelu` (~60 nodes instead of ~175). The fused
`SkipLayerNormalization` is split back into `Add` + `LayerNormalization`: at this width ONNX Runtime's CPU kernel for it
cost ~7 us a call against ~2 us for the pair (a one-off measurement on a graph of 16 such nodes; 16 per window).
`model.int8.onnx` quantises that graph's matrix products and attention projections to int8 (weights; activations on the
fly). Single-window p50 on one thread, native HAR size, in benchmarks/results/inference.json. ONNX Runtime applies its
remaining graph optimisations when a session is created (`inference_session`), so the saved files stay portable across
CPUs.
"""

import argparse
import contextlib
import copy
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

ONNX_FILE_NAME = "model.onnx"
OPTIMIZED_ONNX_FILE_NAME = "model.optimized.onnx"
INT8_ONNX_FILE_NAME = "model.int8.onnx"
# The same graphs with the `past_observed_mask` input as well (`--observed_mask`).
OBSERVED_MASK_FILE_NAMES = {
    ONNX_FILE_NAME: "model.observed_mask.onnx",
    OPTIMIZED_ONNX_FILE_NAME: "model.observed_mask.optimized.onnx",
    INT8_ONNX_FILE_NAME: "model.observed_mask.int8.onnx",
}
DYNAMO_OPSET = 23  # the first with ONNX's Attention op
TRACING_OPSET = 18
EXPORTERS = ("auto", "dynamo", "tracing")

logger = logging.getLogger(__name__)


def observed(past_observed_mask: torch.Tensor | None) -> torch.BoolTensor | None:
    """The graph's float 0/1 `past_observed_mask` as the bool mask the model reads without checking its values."""
    return None if past_observed_mask is None else past_observed_mask != 0


class TimeMAEEncoderForExport(nn.Module):
    """`TimeMAEModel` with positional outputs: (batch, time, channels) [+ past_observed_mask] -> last_hidden_state,
    pooler_output."""

    output_names = ("last_hidden_state", "pooler_output")

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(
        self, past_values: torch.Tensor, past_observed_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = self.encoder(past_values=past_values, past_observed_mask=observed(past_observed_mask))
        return outputs.last_hidden_state, outputs.pooler_output


class TimeMAEClassifierForExport(nn.Module):
    """`TimeMAEForSequenceClassification` with one output: (batch, time, channels) [+ past_observed_mask] -> logits
    (batch, num_labels)."""

    output_names = ("logits",)

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, past_values: torch.Tensor, past_observed_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.classifier(past_values=past_values, past_observed_mask=observed(past_observed_mask)).logits


def exportable(model: nn.Module) -> nn.Module:
    """The export wrapper for a TimeMAE model: the classifier's logits, or the encoder's outputs for any other head."""
    if hasattr(model, "classifier") and hasattr(model, "timemae"):
        return TimeMAEClassifierForExport(model).eval()
    encoder = getattr(model, "timemae", model)  # a pre-training model's online encoder, or the encoder itself
    return TimeMAEEncoderForExport(encoder).eval()


@contextlib.contextmanager
def staged(path: str | Path):
    """Yield a staging path beside `path` to write to; it replaces `path` only when the block succeeds, and is removed
    when it fails, so no half-written model is ever left under either name."""
    path = Path(path)
    tmp = path.with_suffix(".tmp.onnx")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def dynamo_export_arguments(model: nn.Module, wrapper: nn.Module, observed_mask: bool = False) -> tuple[tuple, dict]:
    """The example inputs and keyword arguments of `torch.onnx.export(..., dynamo=True)` for `wrapper(model)`: opset
    23, `past_values` (and with `observed_mask` `past_observed_mask`) with a dynamic batch axis, the wrapper's output
    names."""
    past_values = torch.zeros(2, model.config.context_length, model.config.num_input_channels)
    example = (past_values, torch.ones_like(past_values)) if observed_mask else (past_values,)
    input_names = ["past_values", "past_observed_mask"][: len(example)]
    batch_size = torch.export.Dim("batch_size")
    return example, {
        "dynamic_shapes": tuple({0: batch_size} for _ in example),
        "opset_version": DYNAMO_OPSET,
        "dynamo": True,
        "verbose": False,
        "input_names": input_names,
        "output_names": list(wrapper.output_names),
    }


def export_onnx(model: nn.Module, path: str | Path, exporter: str = "auto", observed_mask: bool = False) -> Path:
    """
    Write `model` (a TimeMAE model) as ONNX to `path`, with a dynamic batch axis; returns the path. `exporter`:
    "dynamo" (torch.export, opset 23), "tracing" (TorchScript, opset 18) or "auto" (dynamo, else tracing).
    `observed_mask`: the graph also takes `past_observed_mask` (see the module docstring); dynamo only, since tracing
    would fix the batch size of the model's patch-mask code into the graph.
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"`exporter` must be one of {EXPORTERS}, got {exporter!r}.")
    if observed_mask and exporter == "tracing":
        raise ValueError(
            "The graph with `past_observed_mask` needs exporter 'dynamo' (or 'auto'): TorchScript tracing would fix "
            "the batch size of the model's patch-mask code into the graph."
        )
    import onnx

    wrapper = exportable(model)
    example, dynamo_arguments = dynamo_export_arguments(model, wrapper, observed_mask)
    exported = False
    with staged(path) as tmp:
        if exporter in ("auto", "dynamo"):
            try:
                # external_data=False: one self-contained file (even MiniLM's weights are only ~44 MB).
                torch.onnx.export(wrapper, example, str(tmp), external_data=False, **dynamo_arguments)
                exported = True
            except Exception as error:  # torch.export's failures share no exception type
                if exporter == "dynamo" or observed_mask:
                    raise
                logger.warning(
                    f"torch.export could not export this model's code ({str(error).splitlines()[0][:200]}); "
                    "exporting it with TorchScript tracing instead."
                )
        if not exported:
            dynamic_axes = {
                name: {0: "batch_size"} for name in [*dynamo_arguments["input_names"], *wrapper.output_names]
            }
            with warnings.catch_warnings():
                # Tracing runs the model's input checks on the example once and leaves them out of the graph, as
                # meant; these warnings say so.
                warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
                torch.onnx.export(
                    wrapper,
                    example,
                    str(tmp),
                    dynamic_axes=dynamic_axes,
                    opset_version=TRACING_OPSET,
                    dynamo=False,
                    input_names=dynamo_arguments["input_names"],
                    output_names=dynamo_arguments["output_names"],
                )
        graph = onnx.load(str(tmp))
        if drop_source_locations(graph):
            onnx.save(graph, str(tmp))
    return Path(path)


def export_optimized_onnx(model: nn.Module, path: str | Path, observed_mask: bool = False) -> Path:
    """
    Write `model` as an ONNX Runtime graph with fused attention and GELU kernels to `path` (see the module docstring);
    returns the path. Same inputs, outputs and dynamic batch axis as `export_onnx` with the same `observed_mask`.
    """
    import onnx
    import onnx_ir
    from onnxscript.rewriter.ort_fusions import optimize_for_ort

    eager = copy.deepcopy(model).eval()
    eager.set_attn_implementation("eager")  # the fusions recognise attention written out as matmuls and a softmax
    wrapper = exportable(eager)
    example, dynamo_arguments = dynamo_export_arguments(model, wrapper, observed_mask)
    program = torch.onnx.export(wrapper, example, **dynamo_arguments)
    program.optimize()
    fused, fusion_counts = optimize_for_ort(program.model)
    if fusion_counts.get("attention", 0) != model.config.num_hidden_layers:
        raise RuntimeError(
            f"ONNX Runtime's attention fusion matched {fusion_counts.get('attention', 0)} of "
            f"{model.config.num_hidden_layers} attention blocks in this model's graph (fusions: {fusion_counts}); "
            "the unfused graph is `export_onnx` (model.onnx)."
        )
    graph = onnx_ir.to_proto(fused)
    drop_source_locations(graph)
    split_skip_layer_normalization(graph.graph)
    drop_uniform_qkv_hidden_sizes(graph.graph)
    with staged(path) as tmp:
        onnx.save(graph, str(tmp))
    return Path(path)


def split_skip_layer_normalization(graph) -> None:
    """Each `SkipLayerNormalization` becomes `Add` + `LayerNormalization` (cheaper on CPU at this width), in place."""
    from onnx import helper

    consumed = {name for node in graph.node for name in node.input} | {output.name for output in graph.output}
    nodes = []
    for node in graph.node:
        if node.op_type != "SkipLayerNormalization":
            nodes.append(node)
            continue
        output, mean, inv_std_var, residual_sum = [*node.output, "", "", ""][:4]
        if {mean, inv_std_var} & consumed:
            nodes.append(node)  # its statistics are used: leave the fused node as it is
            continue
        residual_sum = residual_sum or f"{node.name}_sum"
        bias = node.input[4] if len(node.input) > 4 else ""  # the projection's bias, folded into the fused node
        # Residual first, bias second: ONNX Runtime's session-time SkipLayerNormFusion matches projection -> bias ->
        # residual -> LayerNorm and would fuse the slow kernel back in; this order it leaves alone.
        partial_sum = f"{node.name}_residual" if bias else residual_sum
        nodes.append(helper.make_node("Add", node.input[:2], [partial_sum], name=f"{node.name}_add"))
        if bias:
            nodes.append(helper.make_node("Add", [partial_sum, bias], [residual_sum], name=f"{node.name}_bias"))
        epsilon = next((attribute.f for attribute in node.attribute if attribute.name == "epsilon"), 1e-12)
        nodes.append(
            helper.make_node(
                "LayerNormalization",
                [residual_sum, *node.input[2:4]],
                [output],
                name=f"{node.name}_layer_norm",
                axis=-1,
                epsilon=epsilon,
            )
        )
    del graph.node[:]
    graph.node.extend(nodes)


def drop_uniform_qkv_hidden_sizes(graph) -> None:
    """
    Remove `qkv_hidden_sizes` from `Attention` nodes whose query, key and value widths are equal (its default), in
    place: ONNX Runtime's quantiser leaves nodes with the attribute in fp32.
    """
    for node in graph.node:
        if node.op_type == "Attention" and node.domain == "com.microsoft":
            for attribute in list(node.attribute):
                if attribute.name == "qkv_hidden_sizes" and len(set(attribute.ints)) == 1:
                    node.attribute.remove(attribute)


def quantize_onnx(path: str | Path, quantized_path: str | Path) -> Path:
    """
    Dynamic int8 quantisation of the weights of matrix products and (fused) attention projections, activations
    quantised on the fly; returns the new path. From `model.optimized.onnx` every projection is quantised; from the
    portable `model.onnx` only the `MatMul`s (ONNX Runtime's quantiser mistakes opset 23's Attention for its own).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(path), load_external_data=False).graph
    fused = any(node.domain == "com.microsoft" for node in graph.node)
    operators = ["MatMul", "Gemm", "Attention"] if fused else ["MatMul", "Gemm"]
    with staged(quantized_path) as tmp:
        quantize_dynamic(
            str(path),
            str(tmp),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=operators,
            nodes_to_exclude=raw_value_projections(graph),
        )
    return Path(quantized_path)


def raw_value_projections(graph) -> list[str]:
    """
    The matrix products before the first LayerNormalization: the patch projection, which reads the (channel-
    normalised) values themselves. Quantising its input on the fly, one uint8 scale for the whole batch, moved a tiny
    random model's logits by 14 % of their spread (ONNX Runtime 1.32; every other projection together: under 0.1 %),
    for a product of `patch_length x channels` by `hidden_size`, a small share of the compute: it stays float32.
    """
    names = []
    for node in graph.node:  # topologically sorted
        if node.op_type == "LayerNormalization":
            break
        if node.op_type in ("MatMul", "Gemm"):
            names.append(node.name)
    return names


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


def export_checkpoint(
    checkpoint: str | Path,
    optimize: bool = False,
    quantize: bool = False,
    exporter: str = "auto",
    observed_mask: bool = False,
) -> list[Path]:
    """
    Write `model.onnx` into the checkpoint folder; with `optimize` also `model.optimized.onnx`, with `quantize` also
    `model.int8.onnx` (quantised from the optimized graph, written too); with `observed_mask` the same graphs taking
    `past_observed_mask` as well (`OBSERVED_MASK_FILE_NAMES`). Returns the paths.
    """
    checkpoint = Path(checkpoint)
    model = load_for_export(checkpoint)
    paths = []
    for with_mask in (False, True) if observed_mask else (False,):
        onnx_name, optimized_name, int8_name = (
            OBSERVED_MASK_FILE_NAMES[name] if with_mask else name
            for name in (ONNX_FILE_NAME, OPTIMIZED_ONNX_FILE_NAME, INT8_ONNX_FILE_NAME)
        )
        paths.append(export_onnx(model, checkpoint / onnx_name, exporter, with_mask))
        if optimize or quantize:
            paths.append(export_optimized_onnx(model, checkpoint / optimized_name, with_mask))
        if quantize:
            paths.append(quantize_onnx(paths[-1], checkpoint / int8_name))
    return paths


def drop_source_locations(graph) -> bool:
    """Remove from the ONNX `graph` (a ModelProto) the nodes' metadata that torch.export writes (stack traces naming
    the exporting machine's source files): a graph should not say where it was made, and inference never reads them.
    Returns whether there was any."""
    nodes = [*graph.graph.node, *(node for function in graph.functions for node in function.node)]
    found = any(node.metadata_props for node in nodes)
    for node in nodes:
        del node.metadata_props[:]
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m timemae_hf.onnx_export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", help="a TimeMAE checkpoint folder (config.json + model.safetensors)")
    parser.add_argument(
        "--optimize",
        action="store_true",
        help=f"also write {OPTIMIZED_ONNX_FILE_NAME}: fused attention and GELU kernels, ONNX Runtime only",
    )
    parser.add_argument(
        "--quantize",
        action="store_true",
        help=f"also write {INT8_ONNX_FILE_NAME}: the optimized graph with dynamic int8 weights (implies --optimize)",
    )
    parser.add_argument(
        "--observed_mask",
        action="store_true",
        help="also write the graphs with a `past_observed_mask` input (1 = observed, 0 = missing or "
        f"padding), for ragged or incomplete batches: {OBSERVED_MASK_FILE_NAMES[ONNX_FILE_NAME]}, and "
        "its optimized / int8 variants with --optimize / --quantize",
    )
    parser.add_argument(
        "--exporter",
        default="auto",
        choices=EXPORTERS,
        help="torch.export at opset 23 (dynamo), TorchScript tracing at opset 18, or dynamo where the "
        "model's code allows it, else tracing (auto)",
    )
    args = parser.parse_args(argv)
    for path in export_checkpoint(
        args.checkpoint,
        optimize=args.optimize,
        quantize=args.quantize,
        exporter=args.exporter,
        observed_mask=args.observed_mask,
    ):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
