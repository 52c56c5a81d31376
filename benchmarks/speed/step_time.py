"""Time one full TimeMAE pre-training step on CPU: forward, backward, optimizer step and EMA update.

    python -m benchmarks.speed.step_time            # the paper's HAR size: hidden 64, 8 layers, 16 patches, batch 128
    python -m benchmarks.speed.step_time --smoke    # seconds, tiny config (what CI runs so this script cannot rot)
    python -m benchmarks.speed.step_time --breakdown --threads 1   # where a Trainer step's time goes (HAR data)

Prints JSON and writes the run step_time of benchmarks/results/step_time.json. Target: well under 70 ms on 2 CPU cores.

`--breakdown` times, in one run and with the native HAR config (batch 128), the bare step with torch's dropout (the
"before"), with the cheaper dropout of `timemae_hf.dropout` (the default now), with every dropout off; iterating the
Trainer's train dataloader alone on the real HAR data; and whole Trainer steps (`TimeMAEPretrainingTrainer`, as
`training/pretrain.py` runs it, without evaluation) with either dropout. The three bare variants run in turn within
each step, so that they see the same load. Each is reported as CPU time per step
(`time.process_time`, the comparison metric on a shared machine: with `--threads 1` it does not depend on what else
runs) and as wall time, with the load average. Writes the run step_time_breakdown of benchmarks/results/step_time.json
(step_time_breakdown_<n>threads with more threads).
"""

import argparse
import os
import statistics
import tempfile
import time

import torch
from transformers import TrainerCallback

from benchmarks.common.results_io import script_command, write_result
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining
from timemae_hf.dropout import use_fast_dropout

STUDY = "step_time"  # its results: benchmarks/results/step_time.json


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_size", type=int, default=128, help="windows per step (paper: 128)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps (after --warmup_steps)")
    parser.add_argument("--warmup_steps", type=int, default=10, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument(
        "--har_config",
        action="store_true",
        help="with the masking and momentum-encoder settings of training/configs/har_native.yaml: "
        "per-batch masks, dropout in the momentum encoder (its channel standardisation, one "
        "elementwise scale, is left out); default: per-sample masks, a deterministic momentum encoder",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="where a step's time goes: bare step with each dropout, dataloader alone, Trainer steps",
    )
    parser.add_argument("--data_dir", default=None, help="UCI HAR source for --breakdown (default: the scripts')")
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


def har_native_config(**overrides) -> TimeMAEConfig:
    """training/configs/har_native.yaml's model (its channel standardisation, one elementwise scale, left out)."""
    values = dict(
        hidden_size=64,
        num_hidden_layers=8,
        num_attention_heads=4,
        intermediate_size=256,
        patch_length=8,
        mask_ratio=0.6,
        codebook_size=192,
        num_regressor_layers=4,
        momentum=0.99,
        mrr_loss_weight=5.0,
        hidden_dropout_prob=0.2,
        attention_probs_dropout_prob=0.2,
        per_sample_masking=False,
        momentum_encoder_dropout=True,
        num_input_channels=9,
        context_length=128,
    )
    return TimeMAEConfig(**{**values, **overrides})


def summary(cpu_s: list[float], wall_s: list[float], batch_size: int) -> dict:
    cpu_ms, wall_ms = statistics.median(cpu_s) * 1000, statistics.median(wall_s) * 1000
    return {
        "cpu_ms_per_step": round(cpu_ms, 2),
        "wall_ms_per_step": round(wall_ms, 2),
        "cpu_windows_per_second": round(batch_size / cpu_ms * 1000, 1),
        "steps": len(cpu_s),
    }


def timed_both(function, steps: int, warmup_steps: int):
    """(cpu seconds, wall seconds) per call of `function`, after `warmup_steps` untimed calls."""
    cpu, wall = [], []
    for step in range(warmup_steps + steps):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        function()
        if step >= warmup_steps:
            cpu.append(time.process_time() - cpu_start)
            wall.append(time.perf_counter() - wall_start)
    return cpu, wall


def bare_steps(configs: dict[str, tuple[TimeMAEConfig, bool]], batch_size: int, steps: int, warmup_steps: int):
    """
    {name: summary} of full bare steps of one model per `configs` entry ((config, fast_dropout)), run in turn within
    each step (A, B, C, A, B, C, ...), so that every variant sees the same machine load.
    """
    runs = {}
    for name, (config, fast_dropout) in configs.items():
        torch.manual_seed(0)
        model = use_fast_dropout(TimeMAEForPreTraining(config), fast_dropout).train()
        optimizer = torch.optim.AdamW(
            [p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.01, fused=True
        )
        runs[name] = (model, optimizer, [], [])
    past_values = torch.randn(batch_size, 128, 9)
    for step in range(warmup_steps + steps):
        for model, optimizer, cpu, wall in runs.values():
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            model(past_values).loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            model.momentum_update()
            if step >= warmup_steps:
                cpu.append(time.process_time() - cpu_start)
                wall.append(time.perf_counter() - wall_start)
    return {name: summary(cpu, wall, batch_size) for name, (_, _, cpu, wall) in runs.items()}


def har_trainer(
    fast_dropout: bool, batch_size: int, max_steps: int, data_dir: str | None, output_dir: str, from_arrow: bool = False
):
    """A `TimeMAEPretrainingTrainer` on the HAR train split, set up as training/pretrain.py does (no evaluation; the
    split held in memory unless `from_arrow`)."""
    from timemae_hf.training import (
        MomentumUpdateCallback,
        TimeMAEPretrainingCollator,
        TimeMAEPretrainingTrainer,
        TimeMAETrainingArguments,
        in_memory,
    )
    from training.arguments import DataTrainingArguments
    from training.data_setup import load_splits

    splits = load_splits(DataTrainingArguments(dataset_config_name="raw", data_dir=data_dir), seed=3407)
    torch.manual_seed(0)
    model = use_fast_dropout(TimeMAEForPreTraining(har_native_config()), fast_dropout)
    args = TimeMAETrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=batch_size,
        learning_rate=1e-3,
        weight_decay=0.01,
        lr_scheduler_type="constant",
        max_grad_norm=0.0,
        max_steps=max_steps,
        logging_steps=12,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        remove_unused_columns=False,
        label_names=["past_values"],
        disable_tqdm=True,
        seed=3407,
    )
    collator = TimeMAEPretrainingCollator(model.config.num_patches)
    train_dataset = splits["train"] if from_arrow else in_memory(splits["train"])
    return TimeMAEPretrainingTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        data_collator=collator,
        callbacks=[MomentumUpdateCallback()],
    )


class StepClock(TrainerCallback):
    """Records CPU and wall time between consecutive optimizer steps: the whole loop's work per step."""

    def __init__(self):
        self.cpu, self.wall, self.last = [], [], None

    def on_step_end(self, args, state, control, **kwargs):
        now = (time.process_time(), time.perf_counter())
        if self.last is not None:
            self.cpu.append(now[0] - self.last[0])
            self.wall.append(now[1] - self.last[1])
        self.last = now


def trainer_steps(fast_dropout: bool, batch_size: int, steps: int, warmup_steps: int, data_dir: str | None) -> dict:
    with tempfile.TemporaryDirectory() as output_dir:
        trainer = har_trainer(fast_dropout, batch_size, warmup_steps + steps + 1, data_dir, output_dir)
        clock = StepClock()
        trainer.add_callback(clock)
        trainer.train()
    return summary(clock.cpu[warmup_steps:], clock.wall[warmup_steps:], batch_size)


def dataloader_alone(batch_size: int, steps: int, data_dir: str | None, from_arrow: bool = False) -> dict:
    """The Trainer's train dataloader (the split held in memory, as the scripts do, or decoded from Arrow row by row:
    `from_arrow`) -> collator, iterated without the model."""
    with tempfile.TemporaryDirectory() as output_dir:
        trainer = har_trainer(True, batch_size, 1, data_dir, output_dir, from_arrow=from_arrow)
        iterator = iter(trainer.get_train_dataloader())
        cpu, wall = timed_both(lambda: next(iterator), min(steps, len(trainer.train_dataset) // batch_size - 2), 2)
    return summary(cpu, wall, batch_size)


def breakdown(args) -> dict:
    steps, warmup = args.steps, args.warmup_steps
    load_before = os.getloadavg()
    no_dropout = har_native_config(
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, momentum_encoder_dropout=False
    )
    parts = bare_steps(
        {
            "bare_step_torch_dropout": (har_native_config(), False),
            "bare_step_fast_dropout": (har_native_config(), True),
            "bare_step_no_dropout": (no_dropout, True),
        },
        args.batch_size,
        steps,
        warmup,
    )
    parts["dataloader_alone"] = dataloader_alone(args.batch_size, steps, args.data_dir)
    parts["dataloader_alone_from_arrow"] = dataloader_alone(args.batch_size, steps, args.data_dir, from_arrow=True)
    parts["trainer_step_torch_dropout"] = trainer_steps(False, args.batch_size, steps, warmup, args.data_dir)
    parts["trainer_step_fast_dropout"] = trainer_steps(True, args.batch_size, steps, warmup, args.data_dir)
    for dropout in ("torch", "fast"):
        trainer, bare = parts[f"trainer_step_{dropout}_dropout"], parts[f"bare_step_{dropout}_dropout"]
        parts[f"outside_the_model_{dropout}_dropout"] = {
            key: round(trainer[key] - bare[key], 2) for key in ("cpu_ms_per_step", "wall_ms_per_step")
        }
    return {
        "config": f"training/configs/har_native.yaml's model, batch {args.batch_size}",
        "metric": "median per step; cpu = time.process_time of this process (all its threads)",
        "torch_threads": torch.get_num_threads(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "parts": parts,
        "speedup_cpu_trainer_step": round(
            parts["trainer_step_torch_dropout"]["cpu_ms_per_step"]
            / parts["trainer_step_fast_dropout"]["cpu_ms_per_step"],
            3,
        ),
    }


def main(argv=None):
    started_at = time.time()
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.breakdown:
        if args.smoke:
            args.batch_size, args.steps, args.warmup_steps = 16, 3, 1
        threads = torch.get_num_threads()
        name = "step_time_breakdown" if threads == 1 else f"step_time_breakdown_{threads}threads"
        write_result(STUDY, name, breakdown(args), started_at, script_command(__file__, argv), smoke=args.smoke)
        return
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
        "config": {
            k: getattr(config, k)
            for k in (
                "hidden_size",
                "num_hidden_layers",
                "num_attention_heads",
                "num_patches",
                "num_masked_patches",
                "per_sample_masking",
                "momentum_encoder_dropout",
            )
        },
        "batch_size": args.batch_size,
        "steps": len(times_ms),
        "step_ms_median": round(statistics.median(times_ms), 2),
        "step_ms_min": round(min(times_ms), 2),
        "step_ms_p95": round(quantiles[18], 2),
        "windows_per_second": round(args.batch_size / (statistics.median(times_ms) / 1000), 1),
        "target_ms": 70,
    }
    name = "step_time_har_config" if args.har_config else "step_time"
    write_result(STUDY, name, payload, started_at, script_command(__file__, argv), smoke=args.smoke)


if __name__ == "__main__":
    main()
