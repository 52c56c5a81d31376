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
command and, when `--*_results` is given, the benchmark's multi-seed table with the command, commit and machine that
measured it; with `--onnx` also `model.onnx`, `model.optimized.onnx` and `model.int8.onnx`. Then, from a logged-in machine:
`huggingface_hub.upload_folder(repo_id="org/timemae-har", folder_path="released/timemae-har")`.
"""

import argparse
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import pipeline

from benchmarks.common.benchmark_card import RUN_FILES, render_run_card
from benchmarks.common.results_io import load_results
from timemae_hf import TimeMAEForSequenceClassification, TimeMAEModel, onnx_export
from timemae_hf.data import HAR_ACTIVITIES
from timemae_hf.pipeline_timemae import TASK

RELEASED_DIR = Path(__file__).resolve().parents[2] / "released"
ENCODER_NAME = "timemae-har"
CLASSIFIER_NAME = "timemae-har-classifier"


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


def replace_whole(destination: Path, write: Callable[[Path], None]) -> Path:
    """`write(folder)` into a temporary sibling of `destination`, which then replaces it: a failed write leaves the
    old folder as it was, never a half-written one."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=f".{destination.name}.") as staging:
        folder = Path(staging) / destination.name
        write(folder)
        if destination.exists():
            shutil.rmtree(destination)
        folder.rename(destination)
    return destination


def release(model, run_dir: Path, destination: Path, results_path: str | None, model_name: str, onnx: bool) -> Path:
    """Write `model` with its card into `destination`, replaced whole."""
    record = load_results(results_path) if results_path else None

    def write(folder: Path):
        if isinstance(model, TimeMAEForSequenceClassification):
            # The pipeline's save writes the model and its code, `custom_pipelines` and pipeline_timemae.py.
            pipeline(TASK, model=model).save_pretrained(folder)
        else:
            model.save_pretrained(folder)
        shutil.copy2(run_dir / "all_results.json", folder / "all_results.json")
        render_run_card(run_dir, record, model_name=model_name, model=model).save(folder / "README.md")
        if onnx:
            onnx_export.export_checkpoint(folder, quantize=True)

    return replace_whole(destination, write)


def main(argv=None):
    args = parse_args(argv)
    pretrain_run, finetune_run = check_run(args.pretrain_run), check_run(args.finetune_run)
    encoder, classifier = load_encoder(pretrain_run), load_classifier(finetune_run)  # both checked before writing
    output_dir = Path(args.output_dir)
    for model, run_dir, name, results in (
        (encoder, pretrain_run, ENCODER_NAME, args.pretrain_results),
        (classifier, finetune_run, CLASSIFIER_NAME, args.finetune_results),
    ):
        path = release(model, run_dir, output_dir / name, results, f"{args.hub_org}/{name}", args.onnx)
        print(f"wrote {path}: {sorted(p.name for p in path.iterdir())}")


if __name__ == "__main__":
    main()
