"""Turn a pre-training run and a fine-tuning run into the Hub-ready released checkpoints.

    python -m benchmarks.release.release_checkpoints \\
        --pretrain_run benchmarks/runs/har_reproduction/seed2 \\
        --pretrain_results benchmarks/results/har_reproduction.json \\
        --finetune_run benchmarks/runs/har_finetune_pretrained/fraction1.0_seed3407 \\
        --finetune_results benchmarks/results/har_finetune.json:har_finetune_pretrained --hub_org org --onnx

writes (each folder replaced as a whole, never left half-written)

    released/timemae-har/              the pre-trained encoder alone (`TimeMAEModel`: no momentum encoder,
                                                  regressor or codebook), loads with `AutoModel`
    released/timemae-har-classifier/   the fine-tuned classifier (id2label = the six HAR activities), loads
                                                  with `AutoModelForSequenceClassification` and
                                                  `pipeline("time-series-classification", ..., trust_remote_code=True)`

each with `model.safetensors`, `config.json` (with `auto_map`; the classifier's also with `custom_pipelines`), the code
files (`configuration_timemae.py`, `modeling_timemae.py`, the classifier's `pipeline_timemae.py`), the run's
`all_results.json`, a model card (`model_cards/timemae.md`) with the run's measured validation/test numbers and
command, when `--*_results` is given the benchmark's multi-seed table with the command, commit and machine that
measured it, and the steps that make the folder from a clean clone (pre-training with --pretrain_config, fine-tuning
with --finetune_config, both with the runs' seed and budget, then this release); with `--onnx` also `model.onnx`,
`model.optimized.onnx` and `model.int8.onnx`. Then, from a logged-in machine:
`huggingface_hub.upload_folder(repo_id="org/timemae-har", folder_path="released/timemae-har")`.
"""

import argparse
import json
import shlex
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import pipeline

from benchmarks.common.benchmark_card import RUN_FILES, render_run_card, run_training_command
from benchmarks.common.launch import REFIT_OVERRIDES, repository_relative
from benchmarks.common.results_io import load_results, replace_whole
from timemae_hf import TimeMAEForSequenceClassification, TimeMAEModel, onnx_export
from timemae_hf.data import HAR_ACTIVITIES
from timemae_hf.pipeline_timemae import TASK

RELEASED_DIR = Path(__file__).resolve().parents[2] / "released"
ENCODER_NAME = "timemae-har"
CLASSIFIER_NAME = "timemae-har-classifier"
# The recipe of the released HAR checkpoints, named on their cards' reproduction steps: the variant the HAR-gap study
# chose on validation (benchmarks/har/har_gap.py), and fine-tuning as the authors' code does.
PRETRAIN_CONFIG = "training/configs/har_window_scaling.yaml"
FINETUNE_CONFIG = "training/configs/har_finetune.yaml"
# Where those steps train (outputs/ is git-ignored): each step reads the folder the step before it wrote.
REPRODUCTION_RUNS = {ENCODER_NAME: "outputs/timemae-har", CLASSIFIER_NAME: "outputs/timemae-har-classifier"}
HAR_VARIABLE = '"$HAR"'  # the shell variable the steps read UCI HAR's location from


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pretrain_run", required=True, help="output folder of training/pretrain.py")
    parser.add_argument(
        "--finetune_run",
        required=True,
        help="output folder of training/finetune.py (fine-tuned from that pre-training run)",
    )
    parser.add_argument(
        "--pretrain_results",
        default=None,
        help="benchmarks/results/<study>.json[:<run>] the pre-training run "
        "belongs to (its multi-seed test numbers go on the encoder's card)",
    )
    parser.add_argument(
        "--finetune_results",
        default=None,
        help="benchmarks/results/<study>.json[:<run>] the fine-tuning run "
        "belongs to (its multi-seed test numbers go on the classifier's card)",
    )
    parser.add_argument(
        "--pretrain_config",
        default=PRETRAIN_CONFIG,
        help="the recipe of the pre-training run, which the cards' reproduction steps train with",
    )
    parser.add_argument(
        "--finetune_config",
        default=FINETUNE_CONFIG,
        help="the recipe of the fine-tuning run, which the cards' reproduction steps train with",
    )
    parser.add_argument("--output_dir", default=str(RELEASED_DIR), help="where the two folders are written")
    parser.add_argument("--hub_org", default="org", help="Hub namespace the cards' code loads from (org/timemae-har)")
    parser.add_argument(
        "--onnx", action="store_true", help="also write model.onnx, model.optimized.onnx and model.int8.onnx"
    )
    return parser.parse_args(argv)


def check_run(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    missing = [name for name in (*RUN_FILES, "model.safetensors") if not (run_dir / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"{run_dir} lacks {missing}: pass the output folder of a finished training/pretrain.py or finetune.py run "
            "(not a checkpoint-* subfolder)."
        )
    return run_dir


def load_encoder(pretrain_run: Path) -> TimeMAEModel:
    """The run's online encoder alone; fails if any encoder weight did not come from the run's safetensors."""
    encoder = TimeMAEModel.from_pretrained(pretrain_run).eval()
    saved = load_file(pretrain_run / "model.safetensors")
    prefix = "timemae." if any(key.startswith("timemae.") for key in saved) else ""
    for name, tensor in encoder.state_dict().items():
        if f"{prefix}{name}" in saved and not torch.equal(saved[f"{prefix}{name}"], tensor):
            raise ValueError(f"{pretrain_run}: encoder weight {name!r} did not load from model.safetensors.")
    missing = [name for name, _ in encoder.named_parameters() if f"{prefix}{name}" not in saved]
    if missing:
        raise ValueError(
            f"{pretrain_run}/model.safetensors holds no encoder weights {missing[:3]}...: is it a "
            "TimeMAE pre-training run?"
        )
    return encoder


def load_classifier(finetune_run: Path) -> TimeMAEForSequenceClassification:
    classifier = TimeMAEForSequenceClassification.from_pretrained(finetune_run).eval()
    labels = [classifier.config.id2label[i] for i in range(classifier.config.num_labels)]
    if labels != list(HAR_ACTIVITIES):
        raise ValueError(
            f"{finetune_run} classifies {labels}, not the six HAR activities {list(HAR_ACTIVITIES)}: "
            "pass a training/finetune.py run on UCI HAR."
        )
    return classifier


def recorded_option(run_dir: Path, option: str) -> str | None:
    """The value of `option` in the command that trained `run_dir` (as the run's card records it), or None."""
    arguments = shlex.split(run_training_command(run_dir) or "")
    return arguments[arguments.index(option) + 1] if option in arguments[:-1] else None


def training_options(run_dir: Path) -> list[str]:
    """The seed, budget, refit and test read of the run in `run_dir`, as options of the training scripts."""
    training_args = torch.load(run_dir / "training_args.bin", weights_only=False)
    results = json.loads((run_dir / "all_results.json").read_text())
    if training_args.max_steps and training_args.max_steps > 0:
        budget = ["--max_steps", str(training_args.max_steps)]
    else:
        budget = ["--num_train_epochs", f"{training_args.num_train_epochs:g}"]
    refit = results.get("refit") or getattr(training_args, "refit", False)
    return [
        "--seed",
        str(training_args.seed),
        *budget,
        *(REFIT_OVERRIDES if refit else []),
        "--do_predict",
        "true" if training_args.do_predict else "false",
    ]


def command_line(*arguments: str) -> str:
    """`arguments` as one shell line, quoted where needed (the HAR variable is left for the shell to expand)."""
    return " ".join(argument if argument == HAR_VARIABLE else shlex.quote(argument) for argument in arguments)


def reproduction(args, pretrain_run: Path, finetune_run: Path) -> dict:
    """
    The cards' reproduction steps: from a clean clone, in order, the commands that pre-train and fine-tune with the
    recipe's configs (the runs' seed, budget and refit) and release both folders as this call did, each step reading
    the folder the one before it wrote.
    """
    encoder_run, classifier_run = REPRODUCTION_RUNS[ENCODER_NAME], REPRODUCTION_RUNS[CLASSIFIER_NAME]
    data_dir = recorded_option(pretrain_run, "--data_dir") or recorded_option(finetune_run, "--data_dir")
    data = ["--data_dir", HAR_VARIABLE] if data_dir else []
    label_fraction = recorded_option(finetune_run, "--label_fraction")
    release_command = ["python", "-m", "benchmarks.release.release_checkpoints", "--pretrain_run", encoder_run]
    release_command += ["--pretrain_results", args.pretrain_results] if args.pretrain_results else []
    release_command += ["--finetune_run", classifier_run]
    release_command += ["--finetune_results", args.finetune_results] if args.finetune_results else []
    for option, value, default in (
        ("--pretrain_config", args.pretrain_config, PRETRAIN_CONFIG),
        ("--finetune_config", args.finetune_config, FINETUNE_CONFIG),
    ):
        release_command += [option, value] if value != default else []
    release_command += ["--hub_org", args.hub_org, *(["--onnx"] if args.onnx else [])]
    release_command += ["--output_dir", repository_relative(args.output_dir)]
    steps = [
        {
            "comment": "install the package" + (", with ONNX export for --onnx" if args.onnx else ""),
            "command": 'pip install -e ".[onnx]"' if args.onnx else "pip install -e .",
        }
    ]
    if data_dir:
        steps.append(
            {
                "comment": "UCI HAR as the runs released here read it: the archive or its extracted folder (drop "
                "--data_dir to download it from UCI)",
                "command": f"HAR={shlex.quote(data_dir)}",
            }
        )
    steps += [
        {
            "comment": f"1. pre-train with {args.pretrain_config}",
            "command": command_line(
                "python",
                "training/pretrain.py",
                args.pretrain_config,
                *data,
                *training_options(pretrain_run),
                "--output_dir",
                encoder_run,
            ),
        },
        {
            "comment": f"2. fine-tune that encoder with {args.finetune_config}",
            "command": command_line(
                "python",
                "training/finetune.py",
                args.finetune_config,
                *data,
                "--model_name_or_path",
                encoder_run,
                *(["--label_fraction", label_fraction] if label_fraction else []),
                *training_options(finetune_run),
                "--output_dir",
                classifier_run,
            ),
        },
        {
            "comment": f"3. release both runs into {repository_relative(args.output_dir)}/",
            "command": command_line(*release_command),
        },
    ]
    return {"steps": steps}


def release(
    model,
    run_dir: Path,
    destination: Path,
    results_path: str | None,
    model_name: str,
    onnx: bool,
    reproduce: dict | None = None,
) -> Path:
    """Write `model` with its card into `destination`, replaced whole. `reproduce`: the card's reproduction steps
    (`reproduction`), to which the folder's own path is added."""
    reproduce = {**reproduce, "folder": repository_relative(destination)} if reproduce else None
    record = load_results(results_path) if results_path else None

    def write(folder: Path):
        if isinstance(model, TimeMAEForSequenceClassification):
            # The pipeline's save writes the model and its code, `custom_pipelines` and pipeline_timemae.py.
            pipeline(TASK, model=model).save_pretrained(folder)
        else:
            model.save_pretrained(folder)
        shutil.copy2(run_dir / "all_results.json", folder / "all_results.json")
        card = render_run_card(run_dir, record, model_name=model_name, model=model, reproduce=reproduce)
        card.save(folder / "README.md")
        if onnx:
            onnx_export.export_checkpoint(folder, quantize=True)

    return replace_whole(destination, write)


def main(argv=None):
    args = parse_args(argv)
    pretrain_run, finetune_run = check_run(args.pretrain_run), check_run(args.finetune_run)
    encoder, classifier = load_encoder(pretrain_run), load_classifier(finetune_run)  # both checked before writing
    reproduce = reproduction(args, pretrain_run, finetune_run)
    output_dir = Path(args.output_dir)
    for model, run_dir, name, results in (
        (encoder, pretrain_run, ENCODER_NAME, args.pretrain_results),
        (classifier, finetune_run, CLASSIFIER_NAME, args.finetune_results),
    ):
        path = release(model, run_dir, output_dir / name, results, f"{args.hub_org}/{name}", args.onnx, reproduce)
        print(f"wrote {path}: {sorted(p.name for p in path.iterdir())}")


if __name__ == "__main__":
    main()
