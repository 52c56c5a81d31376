"""Re-render a benchmark run's model card with the benchmark's multi-seed results, ready to push to the Hub.

    python benchmarks/model_card.py --results benchmarks/results/har_reproduction.json \
        --run_dir benchmarks/runs/har_reproduction/seed3407 --model_name org/timemae-har

The run folder (written by training/pretrain.py or finetune.py) already carries a card with its own validation/test
numbers; this adds the benchmark's table (mean +- std over seeds, per-seed values, and the command, commit and
machine that measured it) from the results JSON, so nothing on the card is typed by hand. Then
`huggingface-cli upload org/timemae-har <run_dir>` (or the scripts' --push_to_hub) publishes the folder.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python benchmarks/<script>.py`

import torch  # noqa: E402
from transformers import AutoConfig, AutoModelForPreTraining, AutoModelForSequenceClassification  # noqa: E402

from timemae_hf.training import benchmark_summary, render_model_card  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", required=True, help="a benchmarks/results/*.json file")
    parser.add_argument("--run_dir", required=True, help="the output folder of one of the benchmark's runs")
    parser.add_argument("--model_name", default=None, help="Hub id the card names (default: the folder's name)")
    args = parser.parse_args(argv)

    run_dir = Path(args.run_dir)
    missing = [name for name in ("config.json", "training_args.bin", "all_results.json") if not (run_dir / name).exists()]
    if missing:
        raise FileNotFoundError(f"{run_dir} lacks {missing}: pass the output folder of a finished training run.")
    record = json.loads(Path(args.results).read_text())
    config = AutoConfig.from_pretrained(run_dir)
    is_classifier = any("ForSequenceClassification" in name for name in config.architectures or [])
    auto_class = AutoModelForSequenceClassification if is_classifier else AutoModelForPreTraining
    model = auto_class.from_pretrained(run_dir)
    training_args = torch.load(run_dir / "training_args.bin", weights_only=False)
    state = json.loads((run_dir / "trainer_state.json").read_text()) if (run_dir / "trainer_state.json").exists() else {}
    card = render_model_card(
        model,
        model_name=args.model_name or run_dir.name,
        results=json.loads((run_dir / "all_results.json").read_text()),
        training_command=None,
        training_args=training_args,
        selected_step=state.get("best_global_step"),
        benchmark=benchmark_summary(record),
    )
    card.save(run_dir / "README.md")
    print(f"wrote {run_dir / 'README.md'}")


if __name__ == "__main__":
    main()
