"""Re-render a benchmark run's model card with the benchmark's multi-seed results, ready to push to the Hub.

    python -m benchmarks.common.benchmark_card --results benchmarks/results/har_reproduction.json \
        --run_dir benchmarks/runs/har_reproduction/seed3407 --model_name org/timemae-har

The run folder (written by training/pretrain.py or finetune.py) already carries a card with its own validation/test
numbers; this adds the benchmark's table (mean +- std over seeds, per-seed values, and the command, commit and
machine that measured it) from the results JSON, so nothing on the card is typed by hand. Then
`huggingface-cli upload org/timemae-har <run_dir>` (or the scripts' --push_to_hub) publishes the folder.
"""

import argparse
import json
import re
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForPreTraining, AutoModelForSequenceClassification

from benchmarks.common.results_io import load_results
from timemae_hf.training import render_model_card
from timemae_hf.training.model_card import har_training_data

RUN_FILES = ("config.json", "training_args.bin", "all_results.json")


def selection_text(record: dict) -> str:
    """How the record's reported configuration was chosen, in words."""
    if "final" in record:
        return f"{record['final']['variant']} chosen on validation ({record['final']['chosen_by']})"
    return record.get("selection", "selection on validation")


def benchmark_summary(record: dict) -> dict:
    """
    The `benchmark` section of a card from a `benchmarks/results/*.json` record: every `*_percent` entry (a mean, a
    sample std and the per-seed values), at any depth (har_finetune nests them by label fraction, bert_question by
    variant and column), as a row, with the command, commit and machine that measured them. A study whose test read
    is a separate final stage (benchmarks/har/har_gap.py) gives the rows of that read only: its validation numbers chose
    the variant, they do not describe the released model.
    """

    def percent_entries(node: dict, path: tuple = (), in_percent: bool = False):
        for key, value in node.items():
            if not isinstance(value, dict) or key == "provenance":
                continue
            percent = in_percent or key.endswith("_percent")
            name = key.removesuffix("_percent")
            if percent and "mean" in value and "values" in value:
                yield (*path, name), value
            else:
                yield from percent_entries(value, (*path, name), percent)

    rows = [
        {
            "name": " / ".join(part.replace("_", " ") for part in path),
            "mean": f"{value['mean']:.2f}",
            "std": f"{value['std']:.2f}",
            "per_seed": [f"{v:.2f}" for v in value["values"]],
        }
        for path, value in percent_entries(record["final"] if "final" in record else record)
    ]
    if not rows:
        raise ValueError(f"benchmark record {record.get('benchmark')!r} holds no '*_percent' results to put on a card")
    provenance = record["provenance"]
    return {
        "description": f"Benchmark `{record['benchmark']}`: "
        + "; ".join(filter(None, [record.get("setting"), selection_text(record), "test split scored once per seed."])),
        "num_seeds": len(rows[0]["per_seed"]),
        "rows": rows,
        "command": provenance["command"],
        "git_sha": provenance["git_sha"],
        "machine": f"{provenance['machine']['cpu_count']} CPU cores ({provenance['machine']['processor']})"
        + (f", {provenance['machine']['cuda']}" if provenance["machine"].get("cuda") else ""),
    }


def run_training_command(run_dir: Path) -> str | None:
    """
    The command that trained the run, as its own card (written by the training script) records it, with the paths of
    the repository it ran in made relative to that repository (benchmark runs live in <repository>/benchmarks/runs).
    """
    card = run_dir / "README.md"
    match = re.search(r"Command:\s*```bash\n(.+?)\n```", card.read_text(), re.DOTALL) if card.exists() else None
    if not match:
        return None
    command, resolved = match.group(1).strip(), Path(run_dir).resolve()
    if "runs" in resolved.parts[:-1] and resolved.parts[resolved.parts.index("runs") - 1] == "benchmarks":
        repository = Path(*resolved.parts[: resolved.parts.index("runs") - 1])
        command = command.replace(f"{repository}/", "")
    return command


def render_run_card(
    run_dir: Path, record: dict | None = None, model_name: str | None = None, model=None, reproduce: dict | None = None
):
    """
    The card of a finished training run: its own validation/test results and command, and with `record` (a
    benchmarks/results/*.json record) the benchmark's multi-seed table. `model` is what the card describes (default:
    the run's model, e.g. `TimeMAEForPreTraining`; pass the run's `TimeMAEModel` for a card of its encoder alone).
    `reproduce`: the steps that make the folder from a clean clone (`render_model_card`).
    """
    run_dir = Path(run_dir)
    missing = [name for name in RUN_FILES if not (run_dir / name).exists()]
    if missing:
        raise FileNotFoundError(f"{run_dir} lacks {missing}: pass the output folder of a finished training run.")
    if model is None:
        config = AutoConfig.from_pretrained(run_dir)
        is_classifier = any("ForSequenceClassification" in name for name in config.architectures or [])
        auto_class = AutoModelForSequenceClassification if is_classifier else AutoModelForPreTraining
        model = auto_class.from_pretrained(run_dir)
    training_args = torch.load(run_dir / "training_args.bin", weights_only=False)
    state_path = run_dir / "trainer_state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    results = json.loads((run_dir / "all_results.json").read_text())
    command = run_training_command(run_dir)
    # Runs trained before `refit` was recorded in their results still name it in their command.
    refit = bool(results.get("refit")) or " --refit" in (command or "")
    num_train_windows = int(results["train_samples"]) if "train_samples" in results else None
    return render_model_card(
        model,
        model_name=model_name or run_dir.name,
        results=results,
        training_command=command,
        training_data=har_training_data(refit=refit, num_train_windows=num_train_windows),
        training_args=training_args,
        selected_step=state.get("best_global_step"),
        benchmark=benchmark_summary(record) if record is not None else None,
        reproduce=reproduce,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--results",
        required=True,
        help="a study's results file, benchmarks/results/<study>.json (its first run) or <study>.json:<run>",
    )
    parser.add_argument("--run_dir", required=True, help="the output folder of one of the benchmark's runs")
    parser.add_argument("--model_name", default=None, help="Hub id the card names (default: the folder's name)")
    args = parser.parse_args(argv)

    run_dir = Path(args.run_dir)
    card = render_run_card(run_dir, load_results(args.results), args.model_name)
    card.save(run_dir / "README.md")
    print(f"wrote {run_dir / 'README.md'}")


if __name__ == "__main__":
    main()
