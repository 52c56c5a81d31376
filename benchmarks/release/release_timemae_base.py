"""Release timemae-base: the pre-training checkpoint that validation chose, as a Hub-ready folder and inside the
package.

    python -m benchmarks.release.release_timemae_base \\
        --validation_results benchmarks/results/timemae_base_validation.json \\
        [--league_results benchmarks/results/league.json:league_base] --hub_org org

reads `benchmarks/runs/timemae_base/checkpoint-<step>`, the step and feature layer the validation study chose (a
Trainer checkpoint of
`accelerate launch training/pretrain.py training/configs/timemae_base.yaml --output_dir benchmarks/runs/timemae_base`)
and writes, each folder replaced whole (never left half-written),

    released/timemae-base/           Hub-ready: weights, config (with `auto_map`), the code files, model card
    timemae_hf/shipped_models/timemae-base/     the same weights, config and card inside the package (no code files:
                                                the package is the code), so `TimeMAEClassifier()` works offline

The weights are the whole pre-training model (encoder, momentum encoder, regressor, codebook: about 2.5 MB), so that
`TimeMAEClassifier(pretrain_steps=...)` can continue pre-training on a user's windows with trained heads; `AutoModel`
and `TimeMAEModel` load the encoder alone. The config is the run's with `channel_independent` and
`resize_to_context_length` on (no-ops for the univariate stream it was trained on; they make it read any channels and
lengths) and, with `--num_hidden_layers` below the run's, the first layers only (features from an intermediate layer).
The card (model_cards/timemae_base.md) carries the pre-training command and commit, the validation table that chose the
checkpoint, and, with `--league_results`, the test numbers of `TimeMAEClassifier()` (read once per set by the league).
"""

import argparse
import json
import shlex
import statistics
from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData

from benchmarks.common.launch import repository_relative
from benchmarks.common.results_io import load_results, replace_whole
from timemae_hf import TimeMAEForPreTraining, TimeMAEModel
from timemae_hf.shipped import SHIPPED_MODELS_DIR
from timemae_hf.training.model_card import card_template

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "timemae-base"
RUN_DIR = REPOSITORY_ROOT / "benchmarks" / "runs" / "timemae_base"
RELEASED_DIR = REPOSITORY_ROOT / "released"
TEMPLATE = REPOSITORY_ROOT / "model_cards" / "timemae_base.md"
UNIVERSAL_OPTIONS = {"channel_independent": True, "resize_to_context_length": True}
BASE_METHOD, REFERENCE_METHOD = "TimeMAE_base_probe", "MiniRocket"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--step",
        type=int,
        default=None,
        help="the pre-training step to release (default: the one the validation results chose; another is refused)",
    )
    parser.add_argument(
        "--num_hidden_layers",
        type=int,
        default=None,
        help="keep the first layers only (default: the feature layer the validation results chose)",
    )
    parser.add_argument("--run_dir", default=str(RUN_DIR), help="the pre-training run's output folder")
    parser.add_argument(
        "--validation_results",
        required=True,
        help="the validation study's results file (benchmarks/league/timemae_base_validation.py)",
    )
    parser.add_argument(
        "--league_results",
        default=None,
        help="the league's results file with the TimeMAE_base_probe rows (test numbers on the card)",
    )
    parser.add_argument("--hub_org", default="org", help="Hub namespace of the card's usage line (org/timemae-base)")
    parser.add_argument("--released_dir", default=str(RELEASED_DIR), help="where the Hub-ready folder goes")
    parser.add_argument("--shipped_dir", default=str(SHIPPED_MODELS_DIR), help="where the package's copy goes")
    return parser.parse_args(argv)


def load_checkpoint(run_dir: Path, step: int, num_hidden_layers: int | None) -> TimeMAEForPreTraining:
    checkpoint = run_dir / f"checkpoint-{step}"
    if not (checkpoint / "model.safetensors").is_file():
        found = sorted(int(path.name.split("-")[1]) for path in run_dir.glob("checkpoint-*"))
        raise FileNotFoundError(f"{checkpoint} holds no model.safetensors: choose --step among {found or 'none'}.")
    config_kwargs = dict(UNIVERSAL_OPTIONS)
    if num_hidden_layers is not None:
        config_kwargs["num_hidden_layers"] = num_hidden_layers
    model = TimeMAEForPreTraining.from_pretrained(checkpoint, **config_kwargs).eval()
    model.config._name_or_path = MODEL_NAME
    return model


def validation_choice(record: dict, step: int | None, num_hidden_layers: int | None) -> tuple[int, int]:
    """The (step, layers) the validation study chose; an explicit other choice is refused (a release is validation's
    choice, never one picked afterwards)."""
    chosen = record.get("chosen")
    if not chosen:
        raise ValueError(
            f"The validation results choose nothing yet ({record.get('chosen_note')}): run "
            "benchmarks/league/timemae_base_validation.py on every set first."
        )
    choice = (chosen["step"], chosen["layers"])
    asked = (step if step is not None else choice[0], num_hidden_layers if num_hidden_layers is not None else choice[1])
    if asked != choice:
        raise ValueError(
            f"step {asked[0]} with {asked[1]} layers is not what validation chose (step {choice[0]}, "
            f"{choice[1]} layers): release the chosen one, or rerun the study."
        )
    return choice


def validation_section(record: dict, step: int, layers: int) -> dict:
    """The card's validation table: every candidate's mean validation accuracy, the chosen one marked."""
    rows = [
        {
            "step": candidate["step"],
            "layers": candidate["layers"],
            "chosen": (candidate["step"], candidate["layers"]) == (step, layers),
            "mean": f"{candidate['mean_validation_accuracy']:.2f}"
            + ("" if candidate["datasets"] == len(record["datasets"]) else f" ({candidate['datasets']} sets)"),
        }
        for candidate in sorted(record["summary"].values(), key=lambda c: (c["step"], c["layers"]))
    ]
    if not any(row["chosen"] for row in rows):
        raise ValueError(f"step {step} with {layers} layers is not among the candidates of the validation results.")
    reference = record["reference"]
    missing = reference.get("missing") or []
    return {
        "rule": record["selection_rule"][0].upper() + record["selection_rule"][1:] + ".",
        "command": record["provenance"]["command"],
        "git_sha": record["provenance"]["git_sha"],
        "num_sets": len(record["datasets"]),
        "rows": rows,
        "reference_mean": f"{reference['mean_validation_accuracy']:.2f}"
        + (f" (over {reference['datasets']} sets: not run on {', '.join(missing)})" if missing else ""),
    }


def league_section(record: dict) -> dict | None:
    """The card's test table from the league: TimeMAEClassifier() and MiniRocket per set, their means, the goals."""
    from benchmarks.league.league import base_goal_lines

    rows, ours, theirs = [], [], []
    for dataset, result in record["results"].items():
        methods = result["methods"]
        if BASE_METHOD not in methods or REFERENCE_METHOD not in methods:
            continue
        base, reference = methods[BASE_METHOD], methods[REFERENCE_METHOD]
        ours.append(base["accuracy_percent"]["mean"])
        theirs.append(reference["accuracy_percent"]["mean"])
        rows.append(
            {
                "set": dataset,
                "fit": f"{base['fit_seconds']:.3g}",
                "accuracy": f"{base['accuracy_percent']['mean']:.2f} ± {base['accuracy_percent']['std']:.2f}",
                "reference": f"{reference['accuracy_percent']['mean']:.2f}",
            }
        )
    if not rows:
        return None
    return {
        "command": record["provenance"]["command"],
        "seeds": ", ".join(map(str, record["seeds"])),
        "rows": rows,
        "mean": f"{statistics.mean(ours):.2f}",
        "reference_mean": f"{statistics.mean(theirs):.2f}",
        "goals": base_goal_lines(record),
    }


def reproduction(args, record: dict) -> dict:
    """
    The card's reproduction steps: from a clean clone, in order, the pre-training run as far as the validation study's
    last candidate, the study, the release, and with `--league_results` the league that tests the released encoder and
    the release again with its numbers. Each step reads what the one before it wrote.
    """
    run_dir = repository_relative(args.run_dir)
    provenance = json.loads((Path(args.run_dir) / "run_provenance.json").read_text())
    pretrain = shlex.split(provenance["command"].replace("python ", "accelerate launch ", 1))
    if "--output_dir" in pretrain[:-1]:  # where the release reads it now, should the run have moved
        pretrain[pretrain.index("--output_dir") + 1] = run_dir
    else:
        pretrain += ["--output_dir", run_dir]
    pretrain += (
        [] if "--max_steps" in pretrain else ["--max_steps", str(max(c["step"] for c in record["summary"].values()))]
    )
    study = ["python", "-m", "benchmarks.league.timemae_base_validation"]
    study += [] if Path(args.run_dir).resolve() == RUN_DIR else ["--runs_dir", run_dir]
    release = [
        "python",
        "-m",
        "benchmarks.release.release_timemae_base",
        "--validation_results",
        args.validation_results,
    ]
    release += [] if Path(args.run_dir).resolve() == RUN_DIR else ["--run_dir", run_dir]
    for option, value, default in (
        ("--released_dir", args.released_dir, RELEASED_DIR),
        ("--shipped_dir", args.shipped_dir, SHIPPED_MODELS_DIR),
    ):
        release += [] if Path(value).resolve() == default else [option, repository_relative(value)]
    release += ["--hub_org", args.hub_org]
    released, shipped = (
        f"{repository_relative(folder)}/{MODEL_NAME}" for folder in (args.released_dir, args.shipped_dir)
    )
    steps = [
        {"comment": "install the package", "command": "pip install -e ."},
        {
            "comment": "1. pre-train on the generated stream (a checkpoint every save_steps, all kept), as far as the "
            "validation study's last candidate",
            "command": shlex.join(pretrain),
        },
        {
            "comment": "2. choose the step and feature layer on validation folds of the league's train splits (its "
            'sets: pip install -e ".[bench]")',
            "command": shlex.join(study),
        },
        {"comment": f"3. release the chosen checkpoint into {released} and {shipped}", "command": shlex.join(release)},
    ]
    if args.league_results:
        league = ["python", "-m", "benchmarks.league.league", "--reuse_rows_from", "league_defaults"]
        name = str(args.league_results).partition(".json:")[2]
        league += ["--name", name] if name and name != "league_base" else []
        steps += [
            {
                "comment": "4. test TimeMAEClassifier() with the encoder just released, each set's test split read "
                "once (the published column: pip install --no-deps tsml-eval==0.6.0); rows of other weights are "
                "refused: a retrained encoder's league needs a --name of its own",
                "command": shlex.join([*league, "--torch_threads", "1"]),
            },
            {
                "comment": "5. release again, with the league's test numbers on the card",
                "command": shlex.join([*release[:-2], "--league_results", args.league_results, *release[-2:]]),
            },
        ]
    return {"steps": steps, "folder": released}


def render_card(
    model: TimeMAEForPreTraining,
    run_dir: Path,
    step: int,
    validation: dict,
    league: dict | None,
    hub_org: str,
    reproduce: dict | None = None,
) -> ModelCard:
    provenance = json.loads((run_dir / "run_provenance.json").read_text())
    arguments = provenance["arguments"]["TimeMAETrainingArguments"]
    state = json.loads((run_dir / f"checkpoint-{step}" / "trainer_state.json").read_text())
    batch = state["train_batch_size"] * arguments["gradient_accumulation_steps"]
    trained_layers = provenance["model_config"]["num_hidden_layers"]
    encoder = TimeMAEModel(model.config)
    card_data = ModelCardData(
        model_name=MODEL_NAME,
        library_name="transformers",
        license="apache-2.0",
        tags=["time-series", "timemae", "pretraining", "feature-extraction", "synthetic-data"],
    )
    return ModelCard.from_template(
        card_data,
        template_str=card_template(TEMPLATE),
        model_name=MODEL_NAME,
        hub_id=f"{hub_org}/{MODEL_NAME}",
        config=model.config,
        num_parameters_encoder=f"{sum(p.numel() for p in encoder.parameters()) / 1e6:.2f} M",
        training={
            "command": provenance["command"].replace("python ", "accelerate launch ", 1),
            "git_sha": provenance["git_sha"],
            "device": device_name(provenance["device"]),
            "batch_size": batch,
            "learning_rate": arguments["learning_rate"],
        },
        release={
            "step": step,
            "windows_seen": f"{step * batch:,}",
            "num_hidden_layers": model.config.num_hidden_layers,
            "trained_layers": trained_layers,
        },
        validation=validation,
        league=league,
        reproduce=reproduce,
    )


def device_name(device: dict) -> str:
    """The run's machine in words, e.g. "an AMD EPYC CPU, 2 cores, 1 torch thread"."""
    if device.get("cuda"):
        return f"{device['cuda']}"
    threads = device.get("torch_threads")
    return (
        f"an {device.get('cpu_model', 'unnamed')} CPU, {device.get('cpu_count')} cores, {threads} torch "
        f"thread{'s' if threads != 1 else ''}"
    )


def write_folder(model: TimeMAEForPreTraining, card: ModelCard, destination: Path, code_files: bool) -> Path:
    """`model` and `card` into `destination`, replaced whole; without the code files inside the package."""

    def write(folder: Path):
        model.save_pretrained(folder)
        if not code_files:  # inside the package, the package itself is the code
            for path in folder.glob("*.py"):
                path.unlink()
        card.save(folder / "README.md")

    return replace_whole(destination, write)


def main(argv=None):
    args = parse_args(argv)
    run_dir = Path(args.run_dir)
    record = load_results(args.validation_results)
    step, layers = validation_choice(record, args.step, args.num_hidden_layers)
    model = load_checkpoint(run_dir, step, layers)
    validation = validation_section(record, step, layers)
    league = league_section(load_results(args.league_results)) if args.league_results else None
    card = render_card(model, run_dir, step, validation, league, args.hub_org, reproduction(args, record))
    for destination, code_files in (
        (Path(args.released_dir) / MODEL_NAME, True),
        (Path(args.shipped_dir) / MODEL_NAME, False),
    ):
        path = write_folder(model, card, destination, code_files)
        print(f"wrote {repository_relative(path)}: {sorted(p.name for p in path.iterdir())}")


if __name__ == "__main__":
    main()
