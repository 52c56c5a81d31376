"""Has a pre-training run's representation collapsed? Feature spread and effective rank of its checkpoints.

    python -m benchmarks.questions.representation_collapse benchmarks/runs/har_reproduction/seed2 \
        benchmarks/runs/har_reproduction/seed3407
    python -m benchmarks.questions.representation_collapse --smoke      # seconds: a random tiny model saved on the fly

For every run folder given (its model and each `checkpoint-<step>` inside, in step order), the mean-pooled encoder
features of the first --num_windows validation windows are summarised by: the mean per-dimension standard deviation
across windows (about 0 when every window maps to the same vector), the effective rank (exp of the entropy of the
normalised singular values squared: 1 when all windows lie on one line) and the share of variance on the first
principal direction. Writes the run <--name> into benchmarks/results/representation_collapse.json.
"""

import argparse
import re
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common.results_io import default_har_path, har_data_note, script_command, write_result
from timemae_hf import TimeMAEConfig, TimeMAEModel
from timemae_hf.data import load_har

STUDY = "representation_collapse"  # its results: benchmarks/results/representation_collapse.json


def spread(features: torch.Tensor) -> dict:
    """Collapse statistics of (windows, hidden) features."""
    centred = features - features.mean(dim=0)
    energy = torch.linalg.svdvals(centred) ** 2
    share = energy / energy.sum().clamp_min(1e-30)
    entropy = -(share * torch.log(share.clamp_min(1e-30))).sum()
    return {
        "feature_std_mean": round(features.std(dim=0).mean().item(), 5),
        "effective_rank": round(torch.exp(entropy).item(), 2),
        "top_direction_variance_share": round(share[0].item(), 3),
    }


def checkpoints(run_dir: Path) -> list[Path]:
    """The run's `checkpoint-<step>` folders in step order, then the run folder itself if it holds a model."""
    steps = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(re.sub(r"\D", "", p.name) or 0))
    return [*steps, *([run_dir] if (run_dir / "config.json").exists() else [])]


@torch.no_grad()
def measure(model_dir: Path, windows: torch.Tensor) -> dict:
    model = TimeMAEModel.from_pretrained(model_dir).eval()
    return spread(model(windows).pooler_output)


def main(argv=None):
    started_at = time.time()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", help="pre-training output folders (training/pretrain.py --output_dir)")
    parser.add_argument("--num_windows", type=int, default=1024, help="validation windows to encode")
    parser.add_argument("--data_dir", default=default_har_path(), help="UCI HAR zip or folder ($TIMEMAE_HAR_PATH)")
    parser.add_argument(
        "--name", default="representation_collapse", help="run name in benchmarks/results/representation_collapse.json"
    )
    parser.add_argument("--smoke", action="store_true", help="a random tiny model instead of runs")
    args = parser.parse_args(argv)

    windows = load_har(data_dir=args.data_dir)["validation"]["past_values"][: args.num_windows]
    with tempfile.TemporaryDirectory() as smoke_dir:
        if args.smoke:
            config = TimeMAEConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
            TimeMAEModel(config).save_pretrained(Path(smoke_dir) / "checkpoint-0")
            args.runs = [smoke_dir]
        if not args.runs:
            parser.error("give at least one run folder (or --smoke)")
        results = {}
        for run in map(Path, args.runs):
            found = checkpoints(run)
            if not found:
                raise FileNotFoundError(
                    f"{run} has no model and no checkpoint-<step> folder; pass a pretrain.py --output_dir."
                )
            results[str(run)] = {
                path.name if path != run else "selected (run folder)": measure(path, windows) for path in found
            }
            print(run, results[str(run)], flush=True)
    payload = {"num_windows": len(windows), "split": "validation", "runs": results}
    payload["data_note"] = har_data_note(args.data_dir)  # which HAR copy: the re-derived one, or another
    write_result(STUDY, args.name, payload, started_at, script_command(__file__, argv), smoke=args.smoke)
    return payload


if __name__ == "__main__":
    main()
