"""Inference speed of a TimeMAE classifier on this machine: PyTorch eager, torch.compile, ONNX Runtime (portable fp32
graph, the graph fused for ONNX Runtime, and that graph with int8 weights).

    python -m benchmarks.speed.inference                 # native (TimeMAEConfig defaults: 64 x 8) and MiniLM (384 x 6)
    python -m benchmarks.speed.inference --smoke         # seconds: a tiny config, few repeats (checks the script runs)
    python -m benchmarks.speed.inference --sizes native --classifier released/timemae-har-classifier
                                                         # ... and the HAR test accuracy of that checkpoint, each path

For each size and path: single-window latency (batch 1, p50/p95 over --repeats calls, on --single_window_threads
threads: one is fastest for one window, where handing ~400 tiny kernels to a second thread costs more than it saves)
and batched throughput (windows/s at --batch_size, on --threads threads), with the achieved GFLOP/s next to a dense fp32
matmul peak measured in the same run, the largest logit difference to eager, and the machine's load average before and
after (the timings are only as quiet as the machine). The models are randomly initialised: speed does not depend on the
weights. ONNX files come from `timemae_hf.onnx_export` (`onnx_fp32`: model.onnx; `onnx_optimized`:
model.optimized.onnx; `onnx_int8`: model.int8.onnx; the ONNX Runtime sessions it makes: all graph optimisations, one
thread for single windows). Goals, native size: < 0.3 ms p50 single window on the fastest path, < 2 ms in eager.
"""

import argparse
import functools
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common.results_io import default_har_path, har_data_note, script_command, write_result
from benchmarks.speed.timing import ENCODER_SIZES, count_flops, matmul_peak_gflops, timed
from timemae_hf import TimeMAEConfig, TimeMAEForSequenceClassification, onnx_export

STUDY = "inference"  # its results: benchmarks/results/inference.json

SIZES = {"native": ENCODER_SIZES["native"], "minilm-l6": ENCODER_SIZES["minilm-l6"]}
SMOKE_SIZE = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
PATHS = ("eager", "compile", "onnx_fp32", "onnx_optimized", "onnx_int8")
NUM_LABELS = 6
GOALS_NATIVE_MS = {"fastest_path_single_window_p50": 0.3, "eager_single_window_p50": 2.0}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES), help="model sizes to measure")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS, help="inference paths to measure")
    parser.add_argument("--repeats", type=int, default=500, help="timed single-window calls per path")
    parser.add_argument("--batch_size", type=int, default=256, help="windows per batched call")
    parser.add_argument("--batch_repeats", type=int, default=10, help="timed batched calls per path")
    parser.add_argument("--single_window_threads", type=int, default=1, help="threads for single-window latency")
    parser.add_argument("--threads", type=int, default=None, help="threads for batches (default: torch's choice)")
    parser.add_argument(
        "--classifier",
        default=None,
        help="a fine-tuned HAR classifier folder: also measure its HAR test accuracy in PyTorch and "
        "each ONNX file (what the fused graph and int8 cost)",
    )
    parser.add_argument("--data_dir", default=None, help="UCI HAR zip or folder for --classifier ($TIMEMAE_HAR_PATH)")
    parser.add_argument("--max_test_windows", type=int, default=None, help="score only the first N test windows")
    parser.add_argument("--smoke", action="store_true", help="tiny config, few repeats: check the script runs")
    return parser.parse_args(argv)


def latency_ms(function, repeats: int) -> dict:
    times_ms = [1000 * t for t in timed(function, repeats, warmup=max(5, repeats // 10))]
    quantiles = statistics.quantiles(times_ms, n=20)
    return {
        "single_window_ms_p50": round(statistics.median(times_ms), 4),
        "single_window_ms_p95": round(quantiles[18], 4),
    }


def build_paths(model, names, workdir: Path, batch_threads: int | None, single_window_threads: int) -> dict:
    """name -> (single-window function, batch function), each mapping a (batch, time, channels) tensor to logits."""
    paths = {}
    if "eager" in names:
        paths["eager"] = (model, model)
    if "compile" in names:
        compiled = torch.compile(model, dynamic=False)  # one graph per shape: batch 1 and the batch size
        paths["compile"] = (compiled, compiled)
    onnx_files = onnx_files_for(model, workdir, names)
    for name, path in onnx_files.items():
        if name in names:
            paths[name] = (
                ort_function(onnx_export.inference_session(path, single_window_threads)),
                ort_function(onnx_export.inference_session(path, batch_threads)),
            )
    return paths


def onnx_files_for(model, workdir: Path, names=PATHS) -> dict:
    """The ONNX files of the ONNX paths among `names`, written as `python -m timemae_hf.onnx_export` writes them."""
    files = {}
    if "onnx_fp32" in names:
        files["onnx_fp32"] = onnx_export.export_onnx(model, workdir / onnx_export.ONNX_FILE_NAME)
    if {"onnx_optimized", "onnx_int8"} & set(names):
        optimized = workdir / onnx_export.OPTIMIZED_ONNX_FILE_NAME
        files["onnx_optimized"] = onnx_export.export_optimized_onnx(model, optimized)
    if "onnx_int8" in names:
        files["onnx_int8"] = onnx_export.quantize_onnx(optimized, workdir / onnx_export.INT8_ONNX_FILE_NAME)
    return files


def ort_function(session):
    def run(past_values: torch.Tensor):
        return session.run(None, {"past_values": past_values.numpy()})[0]

    return run


def as_numpy(logits) -> np.ndarray:
    logits = getattr(logits, "logits", logits)
    return logits.numpy() if isinstance(logits, torch.Tensor) else logits


def measure_size(config: TimeMAEConfig, args, batch_threads: int) -> dict:
    torch.manual_seed(0)
    model = TimeMAEForSequenceClassification(config).eval()
    window = torch.randn(1, config.context_length, config.num_input_channels)
    batch = torch.randn(args.batch_size, config.context_length, config.num_input_channels)
    with torch.inference_mode():
        flops_per_window = count_flops(lambda: model(window))
        reference_single, reference_batch = as_numpy(model(window)), as_numpy(model(batch))
    results = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "gflop_per_window": flops_per_window / 1e9,
        "paths": {},
    }
    with tempfile.TemporaryDirectory() as workdir:
        paths = build_paths(model, args.paths, Path(workdir), args.threads, args.single_window_threads)
        for name, (single_function, batch_function) in paths.items():
            with torch.inference_mode():
                torch.set_num_threads(args.single_window_threads)
                started = time.perf_counter()
                difference = np.abs(as_numpy(single_function(window)) - reference_single).max()
                first_call_s = time.perf_counter() - started  # torch.compile: the compilation
                row = latency_ms(functools.partial(single_function, window), args.repeats)
                torch.set_num_threads(batch_threads)
                difference = max(difference, np.abs(as_numpy(batch_function(batch)) - reference_batch).max())
                batch_s = statistics.median(
                    timed(functools.partial(batch_function, batch), args.batch_repeats, warmup=2)
                )
            row.update(
                {
                    "single_window_achieved_gflops": round(flops_per_window / row["single_window_ms_p50"] / 1e6, 2),
                    "batch_windows_per_second": round(args.batch_size / batch_s, 1),
                    "batch_achieved_gflops": round(flops_per_window * args.batch_size / batch_s / 1e9, 1),
                    "max_abs_logit_difference_vs_eager": float(difference),
                    "first_call_s": round(first_call_s, 2),
                }
            )
            results["paths"][name] = row
            print(name, row, flush=True)
    if "eager" in results["paths"]:
        # Where eager's single-window time goes: transformers' BertEncoder on this window's embeddings; the rest
        # (patching, embeddings, pooling, head, output classes) is this package's.
        with torch.inference_mode():
            torch.set_num_threads(args.single_window_threads)
            embeddings = model.timemae.embeddings(window)[0]
            encoder = latency_ms(lambda: model.timemae.encoder(embeddings), args.repeats)
        results["paths"]["eager"]["bert_encoder_alone_ms_p50"] = encoder["single_window_ms_p50"]
    results["gflop_per_window"] = round(results["gflop_per_window"], 5)
    return results


def har_test_accuracy(classifier_dir: str, data_dir: str | None, max_windows: int | None, batch_size: int) -> dict:
    """HAR test accuracy (%) of a classifier checkpoint in PyTorch and each ONNX file (what fusion and int8 cost)."""
    from transformers import AutoModelForSequenceClassification

    from timemae_hf.data import load_har

    model = AutoModelForSequenceClassification.from_pretrained(classifier_dir).eval()
    test = load_har(data_dir=data_dir or default_har_path())["test"]
    if max_windows is not None:
        test = test.select(range(min(max_windows, len(test))))
    columns = test[:]  # torch-formatted: (windows, 128, 9) float32 and (windows,) int64
    past_values, labels = columns["past_values"], columns["labels"].numpy()
    with tempfile.TemporaryDirectory() as workdir:
        runners = {"pytorch": lambda x: model(x).logits.numpy()}
        for name, path in onnx_files_for(model, Path(workdir)).items():
            runners[name] = ort_function(onnx_export.inference_session(path, None))
        predictions = {}
        with torch.inference_mode():
            for name, run in runners.items():
                predictions[name] = np.concatenate(
                    [run(past_values[i : i + batch_size]).argmax(-1) for i in range(0, len(labels), batch_size)]
                )
    return {
        "classifier": str(classifier_dir),
        "test_windows": len(labels),
        "test_accuracy_percent": {name: round(100 * float((p == labels).mean()), 2) for name, p in predictions.items()},
        "int8_predictions_differing_from_fp32": int((predictions["onnx_int8"] != predictions["onnx_fp32"]).sum()),
        "data_note": har_data_note(data_dir or default_har_path()),  # which HAR copy: the re-derived one, or another
    }


def main(argv=None):
    started_at = time.time()
    args = parse_args(argv)
    sizes = {name: SIZES[name] for name in args.sizes}
    if args.smoke:
        sizes = {"tiny": SMOKE_SIZE}
        args.repeats, args.batch_size, args.batch_repeats = 20, 8, 2
        args.max_test_windows = args.max_test_windows or 64
    if args.threads:
        torch.set_num_threads(args.threads)
    batch_threads = torch.get_num_threads()
    load_before = os.getloadavg()
    peak = matmul_peak_gflops(512 if args.smoke else 2048)
    results = {}
    for name, size in sizes.items():
        print(f"--- {name}", flush=True)
        results[name] = measure_size(TimeMAEConfig(num_labels=NUM_LABELS, **size), args, batch_threads)
    payload = {
        "context_length": 128,
        "num_input_channels": 9,
        "batch_size": args.batch_size,
        "single_window_threads": args.single_window_threads,
        "batch_threads": batch_threads,
        "matmul_peak_gflops": round(peak, 1),
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "sizes": results,
        "goals_native_ms": GOALS_NATIVE_MS,
    }
    if args.classifier:
        payload["har_int8_accuracy"] = har_test_accuracy(
            args.classifier, args.data_dir, args.max_test_windows, args.batch_size
        )
        print(payload["har_int8_accuracy"], flush=True)
    torch.set_num_threads(batch_threads)  # what the provenance records
    write_result(STUDY, STUDY, payload, started_at, script_command(__file__, argv), smoke=args.smoke)


if __name__ == "__main__":
    main()
