"""Time one full TimeMAE pre-training step on CPU: forward, backward, optimizer step and EMA update.

    python benchmarks/step_time.py            # the paper's HAR size: hidden 64, 8 layers, 16 patches, batch 128
    python benchmarks/step_time.py --smoke    # seconds, tiny config (what CI runs so this script cannot rot)

Prints JSON and writes benchmarks/results/step_time.json. Target (issue 2): well under 70 ms on 2 CPU cores.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python benchmarks/<script>.py`

import torch  # noqa: E402

from benchmarks.results_io import script_command, write_result  # noqa: E402
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_size", type=int, default=128, help="windows per step (paper: 128)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps (after --warmup_steps)")
    parser.add_argument("--warmup_steps", type=int, default=10, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--har_config", action="store_true",
                        help="with the masking and momentum-encoder settings of training/configs/har_native.yaml: "
                        "per-batch masks, dropout in the momentum encoder (its channel standardisation, one "
                        "elementwise scale, is left out); default: per-sample masks, a deterministic momentum encoder")
    parser.add_argument("--smoke", action="store_true", help="tiny config and few steps, to check the script runs")
    return parser.parse_args(argv)


def pretraining_step_times(config: TimeMAEConfig, batch_size: int, steps: int, warmup_steps: int) -> list[float]:
    """Seconds per full step, measured the way Trainer runs it (fused AdamW, EMA update after the step)."""
    torch.manual_seed(0)
    model = TimeMAEForPreTraining(config).train()
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.01, fused=True
    )
    past_values = torch.randn(batch_size, config.context_length, config.num_input_channels)
    times = []
    for step in range(warmup_steps + steps):
        start = time.perf_counter()
        model(past_values).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        model.momentum_update()
        if step >= warmup_steps:
            times.append(time.perf_counter() - start)
    return times


def main(argv=None):
    started_at = time.time()
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.smoke:
        config = TimeMAEConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
        args.batch_size, args.steps, args.warmup_steps = 8, 3, 1
    else:
        config = TimeMAEConfig()  # the paper's HAR size
    if args.har_config:
        config.per_sample_masking, config.momentum_encoder_dropout = False, True
    times_ms = [1000 * t for t in pretraining_step_times(config, args.batch_size, args.steps, args.warmup_steps)]
    quantiles = statistics.quantiles(times_ms, n=20) if len(times_ms) > 1 else times_ms * 19
    payload = {
        "config": {k: getattr(config, k) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                                   "num_patches", "num_masked_patches", "per_sample_masking",
                                                   "momentum_encoder_dropout")},
        "batch_size": args.batch_size,
        "steps": len(times_ms),
        "step_ms_median": round(statistics.median(times_ms), 2),
        "step_ms_min": round(min(times_ms), 2),
        "step_ms_p95": round(quantiles[18], 2),
        "windows_per_second": round(args.batch_size / (statistics.median(times_ms) / 1000), 1),
        "target_ms": 70,
    }
    name = "step_time_har_config" if args.har_config else "step_time"
    write_result(name, payload, started_at, script_command(__file__, argv), smoke=args.smoke)


if __name__ == "__main__":
    main()
