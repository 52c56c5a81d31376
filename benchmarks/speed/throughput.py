"""Pre-training throughput and single-window inference latency of TimeMAE at three encoder sizes, on this machine.

    python -m benchmarks.speed.throughput             # native (64 x 8), MiniLM-L6 (384 x 6), bert-base (768 x 12)
    python -m benchmarks.speed.throughput --smoke     # seconds: a tiny config, to check the script runs

For each size: pre-training windows/second (forward + backward + fused AdamW + EMA at batch 128), inference latency of
one window (batch 1, `TimeMAEModel`, p50/p95), and the achieved GFLOP/s of both, next to a dense fp32 matmul peak
measured in the same run. FLOPs are counted by `torch.utils.flop_counter.FlopCounterMode` on the real step.
The encoders are randomly initialised: speed does not depend on the weights. Goals, native size on 2
cores: >= 1,800 windows/s pre-training and < 2 ms per window at inference.
"""

import argparse
import os
import statistics
import time

import torch

from benchmarks.common.results_io import script_command, write_result
from benchmarks.speed.timing import ENCODER_SIZES, count_flops, matmul_peak_gflops, timed
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining
from timemae_hf.dropout import use_fast_dropout

STUDY = "throughput"  # its results: benchmarks/results/throughput.json


def measure(
    config: TimeMAEConfig, batch_size: int, train_steps: int, inference_repeats: int, fast_dropout: bool = True
) -> dict:
    torch.manual_seed(0)
    model = use_fast_dropout(TimeMAEForPreTraining(config), fast_dropout).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, fused=True)
    batch = torch.randn(batch_size, config.context_length, config.num_input_channels)

    def train_step():
        model(batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        model.momentum_update()

    train_flops = count_flops(lambda: model(batch).loss.backward())
    optimizer.zero_grad(set_to_none=True)
    step_times = timed(train_step, train_steps, warmup=3)
    step_s = statistics.median(step_times)
    # CPU time of this process per step: comparable across runs on a shared machine (with --threads 1).
    cpu_step_s = statistics.median(timed(train_step, train_steps, warmup=1, clock=time.process_time))

    encoder = model.timemae.eval()
    window = torch.randn(1, config.context_length, config.num_input_channels)

    @torch.inference_mode()
    def infer():
        encoder(window)

    inference_flops = count_flops(infer)
    latencies = timed(infer, inference_repeats, warmup=20)
    latency_s = statistics.median(latencies)
    return {
        "parameters": sum(p.numel() for p in model.timemae.parameters()),
        "pretraining_step_ms_median": round(1000 * step_s, 2),
        "pretraining_windows_per_second": round(batch_size / step_s, 1),
        "pretraining_cpu_ms_per_step": round(1000 * cpu_step_s, 2),
        "pretraining_windows_per_cpu_second": round(batch_size / cpu_step_s, 1),
        "pretraining_gflop_per_step": round(train_flops / 1e9, 3),
        "pretraining_achieved_gflops": round(train_flops / step_s / 1e9, 1),
        "inference_latency_ms_p50": round(1000 * latency_s, 3),
        "inference_latency_ms_p95": round(1000 * statistics.quantiles(latencies, n=20)[18], 3),
        "inference_achieved_gflops": round(inference_flops / latency_s / 1e9, 2),
    }


def main(argv=None):
    started_at = time.time()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", nargs="+", default=list(ENCODER_SIZES), choices=list(ENCODER_SIZES), help="encoder sizes to measure"
    )
    parser.add_argument("--batch_size", type=int, default=128, help="pre-training windows per step")
    parser.add_argument("--train_steps", type=int, default=20, help="timed pre-training steps per size")
    parser.add_argument("--inference_repeats", type=int, default=200, help="timed single-window forwards per size")
    parser.add_argument(
        "--dropout",
        choices=["fast", "torch", "both"],
        default="fast",
        help="timemae_hf.dropout's cheaper dropout (the default), torch's, or both, one after the other",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument(
        "--result_name",
        default="throughput",
        help="run name in benchmarks/results/throughput.json",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny config, few repeats: check the script runs")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dropouts = ["torch", "fast"] if args.dropout == "both" else [args.dropout]

    sizes = {name: ENCODER_SIZES[name] for name in args.sizes}
    if args.smoke:
        sizes = {"tiny": dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)}
        args.batch_size, args.train_steps, args.inference_repeats = 8, 3, 20
    peak = matmul_peak_gflops(512 if args.smoke else 2048)
    results = {}
    for name, encoder in sizes.items():
        for dropout in dropouts:
            key = name if len(dropouts) == 1 else f"{name}_{dropout}_dropout"
            results[key] = measure(
                TimeMAEConfig(max_position_embeddings=512, **encoder),
                args.batch_size,
                args.train_steps if name != "bert-base" else max(3, args.train_steps // 4),
                args.inference_repeats,
                fast_dropout=dropout == "fast",
            )
            print(key, results[key], flush=True)
    payload = {
        "batch_size": args.batch_size,
        "context_length": 128,
        "num_input_channels": 9,
        "matmul_peak_gflops": round(peak, 1),
        "dropout": args.dropout,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "sizes": results,
        "goals_native": {"pretraining_windows_per_second": 1800, "inference_latency_ms": 2.0},
    }
    write_result(STUDY, args.result_name, payload, started_at, script_command(__file__, argv), smoke=args.smoke)


if __name__ == "__main__":
    main()
