"""Does generating the synthetic corpus keep up with pre-training timemae-base on it, and does memory stay flat?

    python -m benchmarks.speed.synthetic_throughput           # minutes: benchmarks/results/synthetic_throughput.json
    python -m benchmarks.speed.synthetic_throughput --quick   # seconds: few series and steps (what the tests run)

`training/configs/timemae_base.yaml` pre-trains on `timemae_hf.data.synthetic`'s endless stream with
`dataloader_num_workers: 1`: one process generates series while the other trains on them. Pre-training runs at the
speed of the training step only if that one generating process makes series at least as fast as the step consumes
them. This script measures, in one process on this machine:

1. Generation: series per second of `SyntheticSeriesGenerator` (default config, length 512), overall and for each
   family of shapes alone, and of the `datasets` stream the Trainer reads (`synthetic_series_stream`, iterated example
   by example). The Gaussian-process families draw from a bank of kernel Cholesky factors redrawn every
   `kernel_bank_block` series; the timed series fall inside one bank, so the redraw is timed on its own and rates are
   given both without it and with its cost spread over the block ("amortized"). The redraw (Cholesky factorisations)
   and the generation rate are also measured in fresh processes with numpy's BLAS at 1 thread and at its default.
2. Training: windows per second of one pre-training step of timemae_base.yaml's model (forward, backward, fused AdamW
   at lr 1e-3, EMA `momentum_update()`, batch 128 of generated series): the median over the timed steps, with torch at
   1 thread (as the run's training process) and at 2 threads.
3. The real run: its windows per second so far, from benchmarks/runs/timemae_base (steps in the newest checkpoint's
   `trainer_state.json`, time from `run_provenance.json`'s `started_at` to that checkpoint's mtime, and between the
   last two checkpoints when there are two) and from the progress bar of benchmarks/runs/timemae_base.log. From that
   bar also: the mean time of each step by its place in a bank block (32 steps of 128 series read 4096), which shows
   whether training waits for the generating process when it redraws the bank.
4. Memory (measured first, in the fresh process): this process's resident set size before the stream is read, after
   20,000 series and after 40,000 series of it (the stream from index 0, through several bank redraws). Flat: the
   growth from 20k to 40k is near zero. The 20k -> 40k stretch also gives the stream's rate over many bank redraws:
   the generation rate used in the verdict.
5. The verdict: generation rate / training rate (> 1: one generating process keeps up with one training process).

Every rate is given by wall time and by CPU time of this process (`time.process_time`). The machine may be shared
(the results file records the load average): wall rates then fall with the load, CPU rates less so; the verdict's two
rates are measured one after the other, under about the same load.
"""

import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from benchmarks.common.launch import RUNS_DIR
from benchmarks.common.results_io import script_command, write_result
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining
from timemae_hf.data.synthetic import (
    DEFAULT_FAMILY_WEIGHTS,
    SyntheticSeriesConfig,
    SyntheticSeriesGenerator,
    synthetic_series_stream,
)
from timemae_hf.training import TimeMAEPretrainingCollator

STUDY = "synthetic_throughput"  # its results: benchmarks/results/synthetic_throughput.json

RUN_NAME = "timemae_base"  # benchmarks/runs/<RUN_NAME> and <RUN_NAME>.log: the real pre-training run
TIMEMAE_BASE_BATCH_SIZE = 128  # the YAML's per_device_train_batch_size
# Families that draw from the kernel bank (and so pay for its redraw).
BANK_FAMILIES = ("gaussian_process", "causal_mixture")
# Every value the YAML sets on the model (training/configs/timemae_base.yaml); dropout is 0 there.
TIMEMAE_BASE_MODEL = dict(
    num_input_channels=1,
    context_length=512,
    patch_length=16,
    hidden_size=64,
    num_hidden_layers=4,
    num_attention_heads=4,
    intermediate_size=256,
    codebook_size=192,
    num_regressor_layers=4,
    mask_ratio=0.6,
    momentum=0.99,
    mrr_loss_weight=5.0,
    mcc_loss_weight=1.0,
    scaling="std",
    window_statistics_as_features=True,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
)


def machine_note(load_average: list[float], run_dir: Path) -> str:
    """Whether the machine was shared while this ran: its load against its cores, and whether the real run was live."""
    cores = os.cpu_count() or 1
    log = run_dir.parent / f"{run_dir.name}.log"
    live = log.exists() and time.time() - log.stat().st_mtime < 120
    shared = max(load_average) > 0.5 * cores or live
    return (
        f"{cores} CPU cores, load average up to {max(load_average):.1f} during the run"
        + (f"; the {run_dir.name} pre-training was running alongside (its log was being written)" if live else "")
        + (
            ": a shared machine. Wall rates are lower than on an idle machine and move with the load; CPU-time rates "
            "move less (a multi-threaded BLAS still burns CPU time waiting for its threads). The verdict compares "
            "rates measured a few minutes apart in this process."
            if shared
            else ": a quiet machine."
        )
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=3000, help="timed series, overall and per family and stream")
    parser.add_argument("--warmup_series", type=int, default=200, help="untimed series first (the first bank draw)")
    parser.add_argument(
        "--memory_series",
        type=int,
        default=40000,
        help="series read from the stream for the memory check (RSS also read at half of them)",
    )
    parser.add_argument(
        "--batch_size", type=int, default=TIMEMAE_BASE_BATCH_SIZE, help="windows per training step (the YAML's 128)"
    )
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per thread count")
    parser.add_argument("--warmup_steps", type=int, default=5, help="untimed training steps first")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to train with")
    parser.add_argument(
        "--run_dir",
        default=None,
        help=f"the real run's folder (default: benchmarks/runs/{RUN_NAME}; its log beside it)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds: few series and steps, a 1-kernel bank; writes synthetic_throughput.smoke.json",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.series, args.warmup_series, args.memory_series = 40, 10, 400
        args.batch_size, args.steps, args.warmup_steps = 8, 2, 1
    if args.series < 1 or args.memory_series < 2 or args.steps < 1:
        parser.error("--series and --steps must be at least 1, --memory_series at least 2")
    return args


def rates(count: int, wall_s: float, cpu_s: float) -> dict:
    return {
        "series": count,
        "wall_s": round(wall_s, 3),
        "cpu_s": round(cpu_s, 3),
        "series_per_second": round(count / wall_s, 1),
        "cpu_series_per_second": round(count / max(cpu_s, 1e-9), 1),
    }


def timed_series(make_one, start: int, count: int) -> dict:
    """Rates of `make_one(index)` for indices start .. start + count - 1."""
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(start, start + count):
        make_one(index)
    return rates(count, time.perf_counter() - wall, time.process_time() - cpu)


def amortized(measured: dict, bank: dict, block: int) -> dict:
    """Rates with one bank redraw (`bank`'s seconds) spread over each `block` series."""
    seconds = 1 / measured["series_per_second"] + bank["wall_s"] / block
    cpu_seconds = 1 / measured["cpu_series_per_second"] + bank["cpu_s"] / block
    return {"series_per_second": round(1 / seconds, 1), "cpu_series_per_second": round(1 / cpu_seconds, 1)}


def bank_redraw(config: SyntheticSeriesConfig) -> dict:
    """Time to draw the kernel bank of a new block (Cholesky factors of `kernel_bank_size` composed kernels)."""
    generator = SyntheticSeriesGenerator(config)
    generator._kernel_bank(0)  # warm-up, so the timed draw is a redraw as in a long run
    wall, cpu = time.perf_counter(), time.process_time()
    generator._kernel_bank(config.kernel_bank_block)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "kernel_bank_size": config.kernel_bank_size,
        "kernel_bank_block": config.kernel_bank_block,
        "wall_ms_per_series_amortized": round(1000 * wall / config.kernel_bank_block, 3),
    }


# Run in a fresh process with a given BLAS thread count (OpenBLAS reads it once, when numpy loads it): after 200
# series of warm-up, one bank redraw, then `series` series of the generator from the new bank's first.
BLAS_THREADS_PROBE = """
import json, sys, time
from timemae_hf.data.synthetic import SyntheticSeriesConfig, SyntheticSeriesGenerator
config, series = SyntheticSeriesConfig(**json.loads(sys.argv[1])), int(sys.argv[2])
generator = SyntheticSeriesGenerator(config)
for index in range(200):  # warm-up, with the first bank
    generator(index)
wall, cpu = time.perf_counter(), time.process_time()
generator._kernel_bank(config.kernel_bank_block)
redraw = (time.perf_counter() - wall, time.process_time() - cpu)
wall, cpu = time.perf_counter(), time.process_time()
for index in range(config.kernel_bank_block, config.kernel_bank_block + series):
    generator(index)
print(json.dumps({"redraw": redraw, "series": (time.perf_counter() - wall, time.process_time() - cpu)}))
"""
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def by_blas_threads(config: SyntheticSeriesConfig, series: int) -> dict:
    """
    Bank redraw time and generation rate with numpy's BLAS at 1 thread and at its default (one per core, unless
    this process's environment sets it), each in a fresh process. The redraw is 32 Cholesky factorisations of
    512 x 512 kernels: on a busy machine, a multi-threaded BLAS can make it many times slower than one thread. A
    data-loader worker does not limit numpy's threads (torch sets only its own to 1 there).
    """
    results, series = {}, min(series, config.kernel_bank_block)
    for threads in ("1", "default"):
        env = dict(os.environ)
        if threads != "default":
            env.update({name: threads for name in BLAS_THREAD_VARIABLES})
        completed = subprocess.run(
            [sys.executable, "-c", BLAS_THREADS_PROBE, json.dumps(asdict(config)), str(series)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        probe = json.loads(completed.stdout.strip().splitlines()[-1])
        bank = {"wall_s": round(probe["redraw"][0], 3), "cpu_s": round(probe["redraw"][1], 3)}
        measured = rates(series, *probe["series"])
        block = config.kernel_bank_block
        results[threads] = {
            "bank_redraw": bank,
            "generator": measured,
            "amortized_with_bank_redraw": amortized(measured, bank, block),
        }
        print(f"BLAS threads {threads}:", results[threads], flush=True)
    return results


def generation(config: SyntheticSeriesConfig, series: int, warmup: int) -> dict:
    """Series per second of the generator, overall and for each family alone, and of the `datasets` stream."""
    bank = bank_redraw(config)
    block = config.kernel_bank_block
    generator = SyntheticSeriesGenerator(config)
    timed_series(generator, 0, warmup)
    overall = timed_series(generator, warmup, series)
    overall["amortized_with_bank_redraw"] = amortized(overall, bank, block)
    print("generator, all families:", overall, flush=True)

    families = {}
    for family in DEFAULT_FAMILY_WEIGHTS:
        one_family = SyntheticSeriesGenerator(
            SyntheticSeriesConfig(**{**asdict(config), "family_weights": {family: 1.0}})
        )
        timed_series(one_family, 0, warmup)
        families[family] = timed_series(one_family, warmup, series)
        if family in BANK_FAMILIES:
            families[family]["amortized_with_bank_redraw"] = amortized(families[family], bank, block)
        print(f"generator, {family}:", families[family], flush=True)

    examples = iter(synthetic_series_stream(config, start_index=0))
    timed_series(lambda _: next(examples), 0, warmup)
    stream = timed_series(lambda _: next(examples), warmup, series)
    stream["amortized_with_bank_redraw"] = amortized(stream, bank, block)
    # What the data-loader worker also does: collate each batch of 128 examples.
    batch = [next(examples) for _ in range(128)]
    collator = TimeMAEPretrainingCollator(TimeMAEConfig(**TIMEMAE_BASE_MODEL).num_patches)
    collate = timed_series(lambda _: collator(batch), 0, 5)
    stream["collate_ms_per_batch_of_128"] = round(1000 * collate["wall_s"] / 5, 2)
    print("stream:", stream, flush=True)
    return {
        "bank_redraw": bank,
        "overall": overall,
        "per_family": families,
        "stream": stream,
        "note": "timed series lie inside one kernel bank; 'amortized_with_bank_redraw' adds one redraw per "
        f"{block} series (the families that draw from the bank: {', '.join(BANK_FAMILIES)})",
    }


def training(past_values: torch.Tensor, steps: int, warmup_steps: int, threads: int) -> dict:
    """Median seconds of one full pre-training step of timemae_base.yaml's model on the batch `past_values`
    (batch, 512, 1), at `threads` torch threads."""
    batch_size = len(past_values)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        model = TimeMAEForPreTraining(TimeMAEConfig(**TIMEMAE_BASE_MODEL)).train()
        optimizer = torch.optim.AdamW(
            [p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.01, fused=True
        )
        wall, cpu = [], []
        for step in range(warmup_steps + steps):
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            model(past_values).loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            model.momentum_update()
            if step >= warmup_steps:
                wall.append(time.perf_counter() - wall_start)
                cpu.append(time.process_time() - cpu_start)
    finally:
        torch.set_num_threads(previous)
    wall_ms, cpu_ms = 1000 * statistics.median(wall), 1000 * statistics.median(cpu)
    result = {
        "torch_threads": threads,
        "batch_size": batch_size,
        "steps": steps,
        "wall_ms_per_step": round(wall_ms, 2),
        "cpu_ms_per_step": round(cpu_ms, 2),
        "windows_per_second": round(batch_size / wall_ms * 1000, 1),
        "cpu_windows_per_second": round(batch_size / cpu_ms * 1000, 1),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"training, {threads} thread(s):", result, flush=True)
    return result


def rss_mb() -> tuple[float, str]:
    """This process's resident set size in MB, and how it was read."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20, "psutil"
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024, "/proc/self/status VmRSS"
    raise RuntimeError("no way to read the resident set size here (no psutil, no /proc/self/status)")


def memory(config: SyntheticSeriesConfig, series: int) -> dict:
    """RSS before reading the stream, after half of `series` examples and after all of them."""
    half, block = series // 2, config.kernel_bank_block
    examples = iter(synthetic_series_stream(config, start_index=0))
    gc.collect()
    before, source = rss_mb()
    first = timed_series(lambda _: next(examples), 0, half)
    gc.collect()
    middle, _ = rss_mb()
    second = timed_series(lambda _: next(examples), half, series - half)
    gc.collect()
    after, _ = rss_mb()
    growth = after - middle
    result = {
        "rss_source": source,
        "rss_mb": {"0": round(before, 1), str(half): round(middle, 1), str(series): round(after, 1)},
        "growth_mb_first_half": round(middle - before, 1),
        "growth_mb_second_half": round(growth, 1),
        # Flat: under 1% of the process, or 2 MB (allocator noise).
        "flat": abs(growth) <= max(2.0, 0.01 * middle),
        "stream_first_half": first,
        "stream_second_half": second,
        "kernel_bank_redraws_in_second_half": (series - 1) // block - (half - 1) // block,
        "note": "the first half includes the first kernel bank (its float32 Cholesky factors stay resident)",
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print("memory:", {k: v for k, v in result.items() if not k.startswith("stream")}, flush=True)
    return result


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def progress_bar_times(log: Path) -> dict[int, int]:
    """{step: elapsed seconds when the progress bar first showed it}, from every tqdm bar of a Trainer log."""
    text = log.read_text(errors="replace")
    elapsed = {}
    for step, hours, minutes, seconds in re.findall(r"(\d+)/\d+ \[(?:(\d+):)?(\d+):(\d+)<", text):
        elapsed.setdefault(int(step), int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds))
    return elapsed


def progress_bar_rate(elapsed: dict[int, int], batch_size: int) -> dict | None:
    """Steps per second by the progress bar's last reading."""
    if not elapsed:
        return None
    step = max(elapsed)
    if elapsed[step] <= 0:
        return None
    return {
        "step": step,
        "elapsed_s": elapsed[step],
        "steps_per_second": round(step / elapsed[step], 3),
        "windows_per_second": round(step * batch_size / elapsed[step], 1),
        "note": "the progress bar's clock (from the first step; evaluations and saves included)",
    }


def bank_redraw_stall(elapsed: dict[int, int], steps_per_block: int, skip_every: list[int]) -> dict | None:
    """
    Mean seconds of each step by its place in a kernel bank block (`steps_per_block` steps read one block of the
    stream), from the progress bar (1 s resolution: the means over many blocks resolve much less).

    Place p is the step that ends when the bar reaches a multiple of `steps_per_block` plus p; place 1 trains on the
    first batch of a new bank. The data-loader worker runs a few batches ahead, so it redraws the bank while the
    training process is a few steps before place 1: the steps there are slower if training then waits for the worker
    or shares the CPU with its redraw. `excess_s_near_new_bank` sums, over places -4 to +1 around the boundary, their
    mean above the median of the other places; `noise_s` is what the same sum would typically be by chance. Steps that
    end with an evaluation or a save (multiples of `skip_every`) are left out.
    """
    by_place = [[] for _ in range(steps_per_block)]
    for step, seconds in elapsed.items():
        following = step + 1
        if step < 50 or following not in elapsed or any(following % every == 0 for every in skip_every):
            continue
        by_place[following % steps_per_block].append(elapsed[following] - seconds)
    if min(len(times) for times in by_place) < 20:
        return None  # too few blocks for 1 s readings to average out
    means = [statistics.mean(times) for times in by_place]
    near = {place % steps_per_block for place in range(-4, 2)}
    others = [mean for place, mean in enumerate(means) if place not in near]
    typical = statistics.median(others)
    excess = sum(means[place] - typical for place in near)
    block_s = sum(means)
    return {
        "steps_per_block": steps_per_block,
        "blocks": min(len(times) for times in by_place),
        "mean_step_s_by_place_in_block": [round(mean, 3) for mean in means],
        "median_step_s_elsewhere": round(typical, 3),
        "block_s": round(block_s, 2),
        "excess_s_near_new_bank": round(excess, 2),
        "noise_s": round(statistics.stdev(others) * len(near) ** 0.5, 2),
        "excess_fraction_of_block": round(excess / block_s, 3),
        "note": "place 1 trains on the first batch of a new kernel bank; the excess (places -4 to +1 above the "
        "median of the others) is what each bank redraw costs the training process",
    }


def real_run(run_dir: Path) -> dict:
    """Windows per second of the real pre-training run so far, from its checkpoints and its log."""
    provenance_file = run_dir / "run_provenance.json"
    if not provenance_file.exists():
        return {"measured": False, "note": f"no run at {run_dir} (no run_provenance.json): skipped"}
    started_at = json.loads(provenance_file.read_text())["started_at"]
    checkpoints = sorted(
        (path for path in run_dir.glob("checkpoint-*") if (path / "trainer_state.json").exists()),
        key=lambda path: int(path.name.split("-")[-1]),
    )
    result = {"measured": True, "run_dir": run_dir.name, "started_at": started_at}
    batch_size, skip_every = None, []
    marks = []  # (step, time) per checkpoint
    for checkpoint in checkpoints:
        state = json.loads((checkpoint / "trainer_state.json").read_text())
        batch_size = state.get("train_batch_size") or batch_size
        skip_every = [state.get("eval_steps"), state.get("save_steps")]
        marks.append((state["global_step"], (checkpoint / "trainer_state.json").stat().st_mtime))
    batch_size = batch_size or TIMEMAE_BASE_BATCH_SIZE
    result["batch_size"] = batch_size
    if marks:
        step, saved = marks[-1]
        elapsed = saved - parse_time(started_at)
        result["since_start"] = {
            "checkpoint": checkpoints[-1].name,
            "step": step,
            "elapsed_s": round(elapsed, 1),
            "steps_per_second": round(step / elapsed, 3),
            "windows_per_second": round(step * batch_size / elapsed, 1),
            "note": "from run_provenance.json's started_at to the checkpoint's mtime: includes start-up, the "
            "validation set's generation and every evaluation and save before it",
        }
    if len(marks) >= 2:
        (step_a, time_a), (step_b, time_b) = marks[-2], marks[-1]
        result["between_last_two_checkpoints"] = {
            "checkpoints": [checkpoints[-2].name, checkpoints[-1].name],
            "steps": step_b - step_a,
            "elapsed_s": round(time_b - time_a, 1),
            "windows_per_second": round((step_b - step_a) * batch_size / (time_b - time_a), 1),
            "note": "one evaluation and one save included, no start-up",
        }
    log = run_dir.parent / f"{run_dir.name}.log"
    if log.exists():
        elapsed = progress_bar_times(log)
        result["progress_bar"] = progress_bar_rate(elapsed, batch_size)
        block = SyntheticSeriesConfig().kernel_bank_block
        if block % batch_size == 0:
            result["bank_redraw_stall"] = bank_redraw_stall(elapsed, block // batch_size, [e for e in skip_every if e])
    if not marks and not result.get("progress_bar"):
        result.update(measured=False, note="the run has no checkpoint and no readable progress bar yet")
    return result


def real_run_rate(run: dict) -> float | None:
    """The real run's windows/s that best reflects its steady speed: between checkpoints, else its bar, else overall."""
    if not run.get("measured"):
        return None
    for key in ("between_last_two_checkpoints", "progress_bar", "since_start"):
        if run.get(key):
            return run[key]["windows_per_second"]
    return None


def assessment(ratio: float, cpu_ratio: float) -> str:
    """Keeps up, does not, or too close to call on a shared machine (the two ratios disagree or lie within 20% of 1)."""
    if min(ratio, cpu_ratio) > 1.2:
        return "keeps up"
    if max(ratio, cpu_ratio) < 1 / 1.2:
        return "does not keep up"
    return "borderline"


def verdict(generated: dict, memory_result: dict, trained: dict, run: dict) -> dict:
    stream = memory_result["stream_second_half"]  # many series, across bank redraws: the worker's long-run rate
    one_thread = trained.get("1") or next(iter(trained.values()))
    ratio = stream["series_per_second"] / one_thread["windows_per_second"]
    cpu_ratio = stream["cpu_series_per_second"] / one_thread["cpu_windows_per_second"]
    result = {
        "generation_series_per_second": stream["series_per_second"],
        "generation_cpu_series_per_second": stream["cpu_series_per_second"],
        "generation_source": "the stream over the second half of the memory run "
        f"({memory_result['kernel_bank_redraws_in_second_half']} kernel bank redraws in it)",
        "generation_series_per_second_amortized_estimate": generated["stream"]["amortized_with_bank_redraw"][
            "series_per_second"
        ],
        "training_windows_per_second": one_thread["windows_per_second"],
        "training_cpu_windows_per_second": one_thread["cpu_windows_per_second"],
        "training_torch_threads": one_thread["torch_threads"],
        "ratio": round(ratio, 3),
        "cpu_ratio": round(cpu_ratio, 3),
        "keeps_up": ratio > 1,
        "keeps_up_by_cpu_time": cpu_ratio > 1,
        "assessment": assessment(ratio, cpu_ratio),
        "explanation": "ratio = generation series/s over training windows/s (wall time, measured one after the "
        "other); > 1: one generating process makes series faster than one training process consumes "
        "them. cpu_ratio: the same with CPU time, what each process needs of a core (steadier on a "
        "shared machine). assessment: 'borderline' when the two disagree or either lies within 20% of 1",
    }
    result["ratio_by_training_torch_threads"] = {
        threads: round(stream["series_per_second"] / measured["windows_per_second"], 3)
        for threads, measured in trained.items()
    }
    blas = generated["by_blas_threads"]
    if "1" in blas:
        result["cpu_ratio_by_numpy_blas_threads"] = {
            threads: round(
                probe["amortized_with_bank_redraw"]["cpu_series_per_second"] / one_thread["cpu_windows_per_second"], 3
            )
            for threads, probe in blas.items()
        }
    rate = real_run_rate(run)
    if rate:
        result["real_run_windows_per_second"] = rate
        result["ratio_to_real_run"] = round(stream["series_per_second"] / rate, 3)
    stall = run.get("bank_redraw_stall")
    if stall:
        result["real_run_bank_redraw_cost_fraction"] = stall["excess_fraction_of_block"]
    memory_growth = memory_result["growth_mb_second_half"]
    halves = list(memory_result["rss_mb"])
    result["summary"] = (
        f"One generating process makes {stream['series_per_second']:.0f} series/s (wall; "
        f"{stream['cpu_series_per_second']:.0f} per CPU second), one training process at 1 torch thread consumes "
        f"{one_thread['windows_per_second']:.0f} windows/s ({one_thread['cpu_windows_per_second']:.0f} per CPU "
        f"second): ratio {ratio:.2f} by wall time, {cpu_ratio:.2f} by CPU time ({result['assessment']})"
        + (f"; the real run trains at {rate:.0f} windows/s" if rate else "")
        + (
            f", and each kernel bank redraw costs its training process about {stall['excess_s_near_new_bank']:.2f} s "
            f"per {stall['block_s']:.0f} s block ({100 * stall['excess_fraction_of_block']:.1f}%)"
            if stall
            else ""
        )
        + (
            f". A kernel bank redraw takes {blas['default']['bank_redraw']['wall_s']:.2f} s with numpy's default BLAS "
            f"threads, {blas['1']['bank_redraw']['wall_s']:.2f} s with 1; with 1, the CPU-time ratio would be "
            f"{result['cpu_ratio_by_numpy_blas_threads']['1']:.2f}"
            if "1" in blas
            else ""
        )
        + f". RSS grows by {memory_growth:+.1f} MB from {halves[1]} to {halves[2]} series read: "
        + ("flat." if memory_result["flat"] else "not flat.")
    )
    return result


def main(argv=None):
    started_at = time.time()
    args = parse_args(argv)
    torch.set_num_threads(1)
    config = SyntheticSeriesConfig(kernel_bank_size=1) if args.quick else SyntheticSeriesConfig()
    load_before = os.getloadavg()
    memory_result = memory(config, args.memory_series)  # first: its RSS at 0 is that of a fresh process
    # Training next, so that the verdict's two rates are measured minutes apart at most.
    generator = SyntheticSeriesGenerator(config)
    past_values = torch.from_numpy(np.stack([generator(index) for index in range(args.batch_size)])[:, :, None])
    trained = {str(threads): training(past_values, args.steps, args.warmup_steps, threads) for threads in args.threads}
    generated = generation(config, args.series, args.warmup_series)
    generated["by_blas_threads"] = (
        {"note": "skipped under --quick (two fresh processes)"} if args.quick else by_blas_threads(config, args.series)
    )
    run_dir = Path(args.run_dir) if args.run_dir else RUNS_DIR / RUN_NAME
    run = real_run(run_dir)
    load_after = os.getloadavg()
    payload = {
        "synthetic_config": asdict(config),
        "model": {**TIMEMAE_BASE_MODEL, "source": "training/configs/timemae_base.yaml's model fields"},
        "numpy_threads_env": {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES},
        "numpy_threads_note": "numpy's BLAS (OpenBLAS) threads in this process: as these variables set them, else one "
        "per core; the generation rates above are measured with them",
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "machine_note": machine_note([*load_before, *load_after], run_dir),
        "generation": generated,
        "training": trained,
        "memory": memory_result,
        "real_run": run,
        "verdict": verdict(generated, memory_result, trained, run),
    }
    write_result(STUDY, STUDY, payload, started_at, script_command(__file__, argv), smoke=args.quick)
    return payload


if __name__ == "__main__":
    main()
