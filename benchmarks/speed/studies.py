"""The speed studies' declarations (benchmarks/common/study.py): their results files and sections."""

from benchmarks.common.study import Runs, Section, Study, source

# The first speed tables (throughput.json, step_time.json, step_time_har_config.json, 2026-11-25) were measured before
# the Trainer loop and the dropout masks were made cheaper; they left HEAD (git keeps them at commit dc93b22).
SPEED_NOW = (
    "Pre-training speed: the table beside the authors' code above (authors_speed.json) and the per-step breakdown "
    "(`python -m benchmarks.speed.step_time --breakdown --threads 1`, the run step_time_breakdown of step_time.json); "
    "inference latency: the inference table (inference.json). The first speed tables of 2026-11-25 (897.8 "
    "pre-training windows/s, eager 5.59 ms) predate the cheaper Trainer loop and dropout masks and are no longer "
    "shown; git keeps their files (`git show dc93b22:benchmarks/results/throughput.json`, step_time.json, "
    "step_time_har_config.json, throughput_native_dropout_1thread.json).\n"
)
# The released classifier was remade after the inference run measured its HAR accuracy: that accuracy belongs to the
# checkpoint released with the results, not to today's released/timemae-har-classifier.
EARLIER_CHECKPOINTS = {  # the inference run's commit: the commits that released its classifier and remade it
    "7f6c980": ("615424d", "e7834ec"),
}


def authors_speed(record: dict) -> str:
    """Pre-training windows/s of the authors' code and ours, interleaved in one run."""
    lines = [
        "| pre-training on UCI HAR (paper size, batch 128) | windows/s (median) | ratio to the authors' |",
        "|---|---|---|",
    ]
    ratios = record.get("ratio_ours_to_authors", {})
    for side, value in record["windows_per_second_median"].items():
        ratio = 1.0 if side == "authors" else ratios.get(side)
        label = "the authors' code" if side == "authors" else f"this package, {side.removeprefix('ours_')}"
        lines.append(f"| {label} | {value:.1f} | {'—' if ratio is None else f'{ratio:.2f}'} |")
    load = record["load_average_1min"]
    return (
        "\n".join(lines) + f"\n\n{record['threads']} thread(s) each, {record['epochs_per_run']} epochs x "
        f"{record['data']['windows']} windows per run, {record['repeats']} interleaved rounds; 1-minute load "
        f"average {load['before']:g} before, {load['after']:g} after. Goal: ratio >= "
        f"{record['goal']['ratio_ours_to_authors']:g}. Machine: {machine_name(record)}.\n\n" + source(record)
    )


def machine_name(record: dict) -> str:
    machine = record["provenance"]["machine"]
    cpu = machine.get("cpu_model") or f"{machine.get('processor')}, CPU model not recorded"
    return f"{machine['cpu_count']} CPUs ({cpu})"


def speed_range(records: list[dict]) -> str:
    """A speed ratio belongs to the machine it was measured on: the range over the machines measured, and how to add
    another."""
    ratios = {
        side: [record["ratio_ours_to_authors"][side] for record in records]
        for side in records[0].get("ratio_ours_to_authors", {})
    }
    spans = "; ".join(
        f"{side.removeprefix('ours_')} {min(values):.2f}-{max(values):.2f}x" for side, values in ratios.items()
    )
    return (
        f"\nThe ratio depends on the machine (its cores, caches and load): over the {len(records)} machine(s) "
        f"measured above, this package / the authors' code: {spans}. On yours: "
        "`python -m benchmarks.speed.authors_speed --authors_repo <the authors' files> --name authors_speed_<n>` "
        "(2 threads, an otherwise idle machine).\n\n"
    )


def inference(record: dict) -> str:
    """Single-window latency and batched throughput of each inference path, beside the matmul peak."""
    lines = [
        "| encoder | path | p50 / p95 (ms, 1 window, 1 thread) | windows/s (batch "
        f"{record['batch_size']}, {record['batch_threads']} threads) | max logit difference vs eager |",
        "|---|---|---|---|---|",
    ]
    for size, result in record["sizes"].items():
        for path, row in result["paths"].items():
            lines.append(
                f"| {size} | {path} | {row['single_window_ms_p50']:.3f} / {row['single_window_ms_p95']:.3f} | "
                f"{row['batch_windows_per_second']:g} | {row['max_abs_logit_difference_vs_eager']:.1e} |"
            )
    extra = ""
    if "har_int8_accuracy" in record:
        accuracy = record["har_int8_accuracy"]
        percent = accuracy["test_accuracy_percent"]
        per_path = ", ".join(f"{path} {value:.2f}" for path, value in percent.items())
        extra = (
            f"HAR test accuracy of `{accuracy['classifier']}` ({accuracy['test_windows']} windows): {per_path} "
            f"({accuracy['int8_predictions_differing_from_fp32']} int8 predictions differ from fp32).\n\n"
        )
        if record["provenance"]["git_sha"][:7] in EARLIER_CHECKPOINTS:
            released, remade = EARLIER_CHECKPOINTS[record["provenance"]["git_sha"][:7]]
            extra = extra.replace("` (", f"` as released with these results in commit {released} (", 1) + (
                f"That classifier was remade since (commit {remade}): these accuracies are the earlier checkpoint's, "
                "not today's released/timemae-har-classifier, whose accuracy is on its card.\n\n"
            )
    encoder_alone = "".join(
        f"Eager {size}: transformers' `BertEncoder` alone on the window's embeddings, timed separately in the same "
        f"run: {result['paths']['eager']['bert_encoder_alone_ms_p50']:.3f} ms p50.\n\n"
        for size, result in record["sizes"].items()
        if "bert_encoder_alone_ms_p50" in result["paths"].get("eager", {})
    )
    load = record["load_average_1min"]
    return (
        "\n".join(lines)
        + "\n\n"
        + encoder_alone
        + f"Dense fp32 matmul peak in the same run: {record['matmul_peak_gflops']:g} GFLOP/s; "
        f"1-minute load average {load['before']:g} before, {load['after']:g} after.\n\n" + extra + source(record)
    )


def synthetic_throughput(record: dict) -> str:
    """Does generating the synthetic corpus keep up with pre-training on it, and does memory stay flat."""
    verdict, memory = record["verdict"], record["memory"]
    rss = memory["rss_mb"]
    return (
        f"One generating process: {verdict['generation_series_per_second']:.0f} series/s "
        f"({verdict['generation_cpu_series_per_second']:.0f} per CPU second; the stream over series 20k-40k, kernel "
        f"bank redraws included); one training process of timemae_base.yaml at 1 torch thread: "
        f"{verdict['training_windows_per_second']:.0f} windows/s ({verdict['training_cpu_windows_per_second']:.0f} per "
        f"CPU second). Ratio {verdict['ratio']:.2f} by wall time, {verdict['cpu_ratio']:.2f} by CPU time: "
        f"{verdict['assessment']}. The real pre-training run read {verdict['real_run_windows_per_second']:.0f} "
        f"windows/s. Resident memory {rss['0']:.0f} MB before the stream, {rss['20000']:.0f} MB after 20,000 series, "
        f"{rss['40000']:.0f} MB after 40,000 (flat: {memory['flat']}). {record['machine_note']}\n\n" + source(record)
    )


def authors_speed_section(runs: Runs) -> str:
    speed_runs = [record for name, record in runs.items() if name.startswith("authors_speed")]
    return "\n".join(authors_speed(run) for run in speed_runs) + speed_range(speed_runs)


STUDIES = (
    Study(
        "synthetic_throughput",
        "benchmarks.speed.synthetic_throughput",
        "Does generating the synthetic corpus keep up with pre-training on it?",
        sections=(
            Section.of_run(
                "### The synthetic corpus: generating against training",
                "synthetic_throughput",
                synthetic_throughput,
                30,
            ),
        ),
    ),
    Study(
        "inference",
        "benchmarks.speed.inference",
        "Single-window latency and batched throughput of each inference path",
        sections=(Section.of_run("### Inference latency", "inference", inference, 130),),
    ),
    Study(
        "authors_speed",
        "benchmarks.speed.authors_speed",
        "Pre-training windows/s beside the authors' code, on each machine measured",
        sections=(
            Section("### Pre-training speed beside the authors' code", ("authors_speed",), authors_speed_section, 140),
        ),
    ),
    Study(
        "step_time",
        "benchmarks.speed.step_time",
        "Where a pre-training step's time goes",
        sections=(
            Section("### Speed: where the current numbers are", ("step_time_breakdown",), lambda runs: SPEED_NOW, 150),
        ),
    ),
    Study(
        "throughput",
        "benchmarks.speed.throughput",
        "Pre-training and inference speed per encoder size",
        note="superseded, no results file: its tables of 2026-11-25 are in git history "
        "(`git show dc93b22:benchmarks/results/throughput.json`)",
    ),
)
