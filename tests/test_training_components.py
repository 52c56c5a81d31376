"""The shared pieces of timemae_hf.training, each on its own: callbacks, collators, trainer defaults, refit and budget,
probe, metrics, card, plots."""

import datasets
import numpy as np
import pytest
import torch
from data_setup import apply_min_train_steps, fit_batch_size_to_split  # training/, beside the scripts
from huggingface_hub import ModelCard
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from transformers import Trainer, TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_utils import IntervalStrategy

from benchmarks.common.benchmark_card import benchmark_summary
from timemae_hf import TimeMAEConfig, TimeMAEForPreTraining, TimeMAEForSequenceClassification
from timemae_hf.training import (
    EvaluateEveryNEpochsCallback,
    MomentumUpdateCallback,
    TimeMAEDataCollator,
    TimeMAEPretrainingCollator,
    TimeMAEPretrainingTrainer,
    TimeMAETrainingArguments,
    TrainingDataCard,
    classification_metrics,
    har_training_data,
    linear_probe_classifier,
    pad_past_values,
    plot_training_curves,
    refit_splits,
    render_model_card,
    run_linear_probe,
    stratified_subset,
    training_command,
)

CLASS_NAMES = ["WALKING", "SITTING", "LAYING"]


def tiny_config(**overrides) -> TimeMAEConfig:
    values = dict(
        num_input_channels=3,
        context_length=32,
        patch_length=4,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        codebook_size=8,
        num_regressor_layers=1,
        num_labels=len(CLASS_NAMES),
        id2label=dict(enumerate(CLASS_NAMES)),
    )
    values.update(overrides)
    return TimeMAEConfig(**values)


def windows(num_windows: int, seed: int = 0, class_offset: float = 0.0) -> datasets.Dataset:
    """Random windows shaped like tiny_config's, labels cycling over the classes; `class_offset` shifts channel `label`,
    which makes the classes separable."""
    generator = np.random.default_rng(seed)
    labels = np.arange(num_windows) % len(CLASS_NAMES)
    past_values = generator.normal(size=(num_windows, 32, 3)).astype(np.float32)
    past_values[np.arange(num_windows), :, labels] += class_offset
    features = datasets.Features(
        {
            "past_values": datasets.Array2D(shape=(32, 3), dtype="float32"),
            "labels": datasets.ClassLabel(names=CLASS_NAMES),
        }
    )
    return datasets.Dataset.from_dict({"past_values": past_values, "labels": labels}, features=features).with_format(
        "torch"
    )


def test_momentum_update_runs_once_per_optimizer_step_under_gradient_accumulation(tmp_path):
    torch.manual_seed(0)
    model = TimeMAEForPreTraining(tiny_config())
    updates = []
    momentum_update = model.momentum_update
    model.momentum_update = lambda: (updates.append(1), momentum_update())
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        gradient_accumulation_steps=3,
        num_train_epochs=2,
        learning_rate=1e-2,
        save_strategy="no",
        report_to="none",
        remove_unused_columns=False,
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=windows(24),
        data_collator=TimeMAEPretrainingCollator(model.config.num_patches),
        callbacks=[MomentumUpdateCallback()],
    )
    trainer.train()
    assert trainer.state.global_step == 4  # 24 windows / (4 x 3) per step, 2 epochs
    assert len(updates) == trainer.state.global_step
    online, target = model.timemae.encoder.state_dict(), model.momentum_encoder.state_dict()
    assert any(not torch.equal(online[name], target[name]) for name in online)


def test_momentum_update_callback_refuses_a_model_without_momentum_encoder():
    with pytest.raises(TypeError, match="TimeMAEForPreTraining"):
        MomentumUpdateCallback().on_step_end(None, None, None, model=TimeMAEForSequenceClassification(tiny_config()))


@pytest.mark.parametrize(
    "every_n_epochs, num_epochs, evaluated_epochs", [(5, 12, [5, 10, 12]), (2, 4, [2, 4]), (1, 3, [1, 2, 3])]
)
def test_evaluation_is_thinned_to_every_n_epochs_and_the_last(every_n_epochs, num_epochs, evaluated_epochs):
    args = TrainingArguments(output_dir="unused", eval_strategy="epoch", report_to="none")
    callback = EvaluateEveryNEpochsCallback(every_n_epochs)
    state, steps_per_epoch, evaluated = TrainerState(), 3, []
    state.max_steps = num_epochs * steps_per_epoch
    for epoch in range(1, num_epochs + 1):
        state.epoch, state.global_step = float(epoch), epoch * steps_per_epoch
        control = TrainerControl(should_evaluate=True)  # what DefaultFlowCallback asks for at every epoch end
        callback.on_epoch_end(args, state, control)
        if control.should_evaluate:
            evaluated.append(epoch)
    assert evaluated == evaluated_epochs


def test_evaluation_schedule_is_left_alone_unless_evaluating_per_epoch():
    args = TrainingArguments(output_dir="unused", eval_strategy="steps", eval_steps=1, report_to="none")
    assert args.eval_strategy == IntervalStrategy.STEPS
    state, control = TrainerState(epoch=1.0, global_step=1, max_steps=10), TrainerControl(should_evaluate=True)
    EvaluateEveryNEpochsCallback(5).on_epoch_end(args, state, control)
    assert control.should_evaluate


def test_seeded_masks_follow_the_window_and_epoch_not_the_batch():
    collator = TimeMAEPretrainingCollator(num_patches=8, mask_seed=3)
    examples = [{"past_values": torch.randn(32, 3), "window_index": torch.tensor(index)} for index in range(6)]
    whole = collator(examples)["noise"]
    halves = torch.cat([collator(examples[3:])["noise"], collator(examples[:3])["noise"]])
    torch.testing.assert_close(halves, torch.cat([whole[3:], whole[:3]]), rtol=0, atol=0)
    assert whole.shape == (6, 8) and whole.dtype == torch.float32
    collator.set_epoch(1)
    assert not torch.equal(collator(examples)["noise"], whole)
    assert "noise" not in TimeMAEPretrainingCollator(num_patches=8)(examples)


def test_seeded_masks_need_the_window_index():
    with pytest.raises(ValueError, match="window_index"):
        TimeMAEPretrainingCollator(num_patches=8, mask_seed=0)([{"past_values": torch.randn(32, 3)}])


def test_linear_probe_is_the_papers_classifier():
    scaler, one_vs_rest = (step for _, step in linear_probe_classifier().steps)
    assert isinstance(scaler, StandardScaler) and isinstance(one_vs_rest, OneVsRestClassifier)
    logistic_regression = one_vs_rest.estimator
    assert isinstance(logistic_regression, LogisticRegression)
    assert (logistic_regression.random_state, logistic_regression.max_iter) == (3407, 1_000_000)


def test_linear_probe_scores_frozen_features_and_restores_training_mode():
    torch.manual_seed(0)
    model = TimeMAEForPreTraining(tiny_config()).train()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    scores = run_linear_probe(
        model,
        windows(60, seed=0, class_offset=3.0),
        {"separable": windows(30, seed=1, class_offset=3.0), "noise": windows(30, seed=2)},
        batch_size=16,
    )
    assert scores["separable"]["accuracy"] > 0.9 and scores["separable"]["macro_f1"] > 0.9
    assert scores["noise"]["accuracy"] < 0.7
    assert model.training and model.timemae.training
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())


def test_classification_metrics_are_accuracy_and_macro_f1():
    metrics = classification_metrics([0, 0, 0, 1], [0, 0, 0, 0])
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["macro_f1"] == pytest.approx((6 / 7 + 0.0) / 2)  # class 0: F1 6/7, class 1: F1 0


def test_stratified_subset_keeps_class_proportions_and_is_seeded():
    dataset = windows(300)
    subset = stratified_subset(dataset, 0.1, seed=5)
    assert len(subset) == 30
    assert np.bincount(subset.with_format(None)["labels"]).tolist() == [10, 10, 10]
    assert (
        subset.with_format(None)["past_values"]
        == stratified_subset(dataset, 0.1, seed=5).with_format(None)["past_values"]
    )
    assert stratified_subset(dataset, 1.0, seed=5) is dataset


def test_model_card_holds_metadata_results_and_command(tmp_path):
    model = TimeMAEForSequenceClassification(tiny_config())
    results = {"test_accuracy": 0.91234, "test_macro_f1": 0.9, "eval_accuracy": 0.88, "test_runtime": 1.5, "epoch": 3.0}
    command = training_command(["training/finetune.py", "config.yaml", "--label_fraction", "0.1"])
    args = TrainingArguments(
        output_dir=str(tmp_path), learning_rate=1e-3, per_device_train_batch_size=32, report_to="none"
    )
    card = render_model_card(model, "org/timemae-har", results, command, args, training_data=har_training_data())
    card.save(tmp_path / "README.md")

    loaded = ModelCard.load(tmp_path / "README.md")
    assert loaded.data.library_name == "transformers" and loaded.data.license == "apache-2.0"
    assert {"time-series", "timemae", "self-supervised", "time-series-classification"} <= set(loaded.data.tags)
    assert loaded.data.datasets == ["uci_har"] and loaded.data.metrics == ["accuracy", "f1"]
    reported = {(result.dataset_split, result.metric_type): result.metric_value for result in loaded.data.eval_results}
    assert reported == {("test", "accuracy"): 0.9123, ("test", "f1"): 0.9, ("validation", "accuracy"): 0.88}
    assert loaded.data.model_name == "org/timemae-har"
    assert "python training/finetune.py config.yaml --label_fraction 0.1" in loaded.text
    assert "| `test_accuracy` | 0.9123 |" in loaded.text and "test_runtime" not in loaded.text
    assert "AutoModelForSequenceClassification" in loaded.text and "WALKING, SITTING, LAYING" in loaded.text


def test_pretraining_model_card_is_not_tagged_as_a_classifier(tmp_path):
    card = render_model_card(
        TimeMAEForPreTraining(tiny_config()),
        "timemae-har",
        {"test_probe_accuracy": 0.8},
        None,
        TrainingArguments(output_dir=str(tmp_path), report_to="none"),
    )
    assert "time-series-classification" not in card.data.tags
    assert card.data.eval_results[0].metric_name == "Linear-probe accuracy (test)"
    assert "AutoModelForPreTraining" in card.text and "Command:" not in card.text


def test_benchmark_summary_finds_results_nested_under_a_percent_table():
    """bert_question nests variant -> column -> {mean, std, values} under one `*_percent` key; a null cell is
    skipped."""
    cell = {"mean": 91.5, "std": 0.25, "values": [91.25, 91.75]}
    record = {
        "benchmark": "bert_question",
        "budget": {"pretrain_epochs": 10},
        "table_test_accuracy_percent": {
            "random": {"finetune_100": cell, "probe_after_timemae": None},
            "language": {"finetune_100": {**cell, "mean": 90.0}},
        },
        "provenance": {
            "command": "python -m benchmarks.questions.bert_question",
            "git_sha": "abc",
            "machine": {"cpu_count": 2, "processor": "x86_64", "cuda": None},
        },
    }
    summary = benchmark_summary(record)
    assert [(row["name"], row["mean"]) for row in summary["rows"]] == [
        ("table test accuracy / random / finetune 100", "91.50"),
        ("table test accuracy / language / finetune 100", "90.00"),
    ]
    assert summary["num_seeds"] == 2 and summary["rows"][0]["per_seed"] == ["91.25", "91.75"]
    assert summary["description"] == (
        "Benchmark `bert_question`: selection on validation; test split scored once per seed."
    )
    with pytest.raises(ValueError, match="holds no"):
        benchmark_summary({**record, "table_test_accuracy_percent": {}})


def test_benchmark_summary_of_a_study_with_a_final_stage_shows_its_test_read_only():
    """har_gap.json holds every variant's validation numbers and, under `final`, the single test read of the chosen
    one: a released model's card shows the test read."""
    cell = {"mean": 94.5, "std": 0.5, "values": [94.0, 94.5, 95.0]}
    record = {
        "benchmark": "har_gap",
        "variants": {"baseline": {"pretraining": {"validation_probe_accuracy_percent": {**cell, "mean": 87.0}}}},
        "selection": {"chosen": "conv_stem", "scores": {"baseline": 88.9}},
        "final": {
            "variant": "conv_stem",
            "chosen_by": "the best mean validation peak",
            "probe_test": {"accuracy_percent": cell},
            "finetune_test": {
                "1.0": {
                    "accuracy_percent": {**cell, "mean": 95.0},
                    "goal": 95.8,
                    "confusions": {"errors_per_run": 150.0},
                }
            },
        },
        "provenance": {
            "command": "python -m benchmarks.har.har_gap --stages final",
            "git_sha": "abc",
            "machine": {"cpu_count": 2, "processor": "x86_64", "cuda": None},
        },
    }
    summary = benchmark_summary(record)
    assert [(row["name"], row["mean"]) for row in summary["rows"]] == [
        ("probe test / accuracy", "94.50"),
        ("finetune test / 1.0 / accuracy", "95.00"),
    ]
    assert summary["description"] == (
        "Benchmark `har_gap`: conv_stem chosen on validation (the best mean validation "
        "peak); test split scored once per seed."
    )


def test_training_command_names_the_launcher(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert training_command(["training/pretrain.py", "a b.yaml"]) == "python training/pretrain.py 'a b.yaml'"
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert (
        training_command(["training/pretrain.py"])
        == "accelerate launch --multi_gpu --num_processes 2 training/pretrain.py"
    )


def test_training_curves_are_drawn_from_the_log_history(tmp_path):
    history = [
        {"epoch": 0.5, "loss": 9.0, "mrr_loss": 1.0, "mcc_loss": 4.0, "codeword_accuracy": 0.1, "step": 1},
        {"epoch": 1.0, "eval_loss": 8.0, "eval_probe_accuracy": 0.7, "eval_probe_macro_f1": 0.6, "step": 2},
        {"epoch": 1.0, "train_runtime": 3.0, "train_loss": 9.0, "step": 2},
        {"epoch": 1.0, "eval_loss": 8.0, "eval_probe_accuracy": 0.7, "step": 2},
    ]
    path = plot_training_curves(history, str(tmp_path / "curves.png"), "run")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_no_curves_are_drawn_for_a_run_without_training(tmp_path):
    history = [{"eval_loss": 8.0, "eval_probe_accuracy": 0.7, "step": 0}]
    assert plot_training_curves(history, str(tmp_path / "curves.png")) is None
    assert not (tmp_path / "curves.png").exists()


def test_collator_pads_to_the_longest_window_and_marks_padding_and_missing_values():
    short = np.ones((5, 3), dtype=np.float32)
    long = np.full((8, 3), 2.0, dtype=np.float32)
    long[2, 1] = np.nan
    batch = TimeMAEDataCollator()([{"past_values": short, "labels": 1}, {"past_values": long, "labels": 0}])
    assert batch["past_values"].shape == batch["past_observed_mask"].shape == (2, 8, 3)
    assert not torch.isnan(batch["past_values"]).any()
    assert batch["past_observed_mask"][0, :5].all() and not batch["past_observed_mask"][0, 5:].any()
    assert batch["past_values"][0, 5:].eq(0).all()
    assert not batch["past_observed_mask"][1, 2, 1] and batch["past_values"][1, 2, 1] == 0
    assert int(batch["past_observed_mask"][1].sum()) == 8 * 3 - 1
    assert batch["labels"].tolist() == [1, 0]


def test_collator_stacks_equal_length_fully_observed_windows_without_a_mask():
    examples = [{"past_values": torch.randn(32, 3), "labels": torch.tensor(label)} for label in range(3)]
    batch = TimeMAEDataCollator()(examples)
    assert set(batch) == {"past_values", "labels"}
    torch.testing.assert_close(batch["past_values"], torch.stack([example["past_values"] for example in examples]))
    pretraining = TimeMAEPretrainingCollator(num_patches=8)(examples)
    assert set(pretraining) == {"past_values"}  # pre-training passes no labels


def test_univariate_windows_get_a_channel_axis():
    batch = pad_past_values([np.arange(4.0), np.arange(6.0)])
    assert batch["past_values"].shape == (2, 6, 1) and batch["past_observed_mask"][0, 4:].eq(False).all()


def test_pretraining_trainer_updates_the_momentum_encoder_without_being_given_the_callback(tmp_path):
    torch.manual_seed(0)
    model = TimeMAEForPreTraining(tiny_config())
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        max_steps=2,
        learning_rate=1e-2,
        save_strategy="no",
        report_to="none",
        remove_unused_columns=False,
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = TimeMAEPretrainingTrainer(model=model, args=args, train_dataset=windows(16))  # no callback, no collator
    assert sum(isinstance(cb, MomentumUpdateCallback) for cb in trainer.callback_handler.callbacks) == 1
    trainer.train()
    online, target = model.timemae.encoder.state_dict(), model.momentum_encoder.state_dict()
    assert any(not torch.equal(online[name], target[name]) for name in online)
    given = TimeMAEPretrainingTrainer(model=model, args=args, callbacks=[MomentumUpdateCallback()])
    assert sum(isinstance(cb, MomentumUpdateCallback) for cb in given.callback_handler.callbacks) == 1


def test_linear_probe_takes_numpy_arrays_as_well_as_datasets():
    torch.manual_seed(0)
    model = TimeMAEForPreTraining(tiny_config())
    train, test = windows(60, seed=0, class_offset=3.0), windows(30, seed=1, class_offset=3.0)
    as_arrays = [(d.with_format("numpy")[:]["past_values"], d.with_format("numpy")[:]["labels"]) for d in (train, test)]
    from_datasets = run_linear_probe(model, train, {"test": test}, batch_size=16)
    from_arrays = run_linear_probe(model, as_arrays[0], {"test": as_arrays[1]}, batch_size=16)
    assert from_arrays == from_datasets
    with pytest.raises(ValueError, match="X holds 60 windows but y 59 labels"):
        run_linear_probe(model, (as_arrays[0][0], as_arrays[0][1][:-1]), {})


def test_refit_trains_on_train_and_validation_and_keeps_no_validation_split():
    splits = datasets.DatasetDict({"train": windows(12), "validation": windows(6, seed=1), "test": windows(6, seed=2)})
    refit = refit_splits(splits)
    assert set(refit) == {"train", "test"} and len(refit["train"]) == 18
    with pytest.raises(ValueError, match="no validation split"):
        refit_splits(datasets.DatasetDict({"train": windows(12)}))


@pytest.mark.parametrize(
    "arguments, named",
    [
        ({"do_eval": True}, "--do_eval"),
        ({"eval_strategy": "epoch"}, "--eval_strategy"),
        (
            {"eval_strategy": "epoch", "save_strategy": "epoch", "load_best_model_at_end": True},
            "--load_best_model_at_end",
        ),
        ({"metric_for_best_model": "accuracy"}, "--metric_for_best_model"),
    ],
)
def test_refit_refuses_arguments_that_need_a_validation_split(arguments, named, tmp_path):
    with pytest.raises(ValueError, match=f"--refit trains on train \\+ validation.*{named}"):
        TimeMAETrainingArguments(output_dir=str(tmp_path / "out"), refit=True, report_to="none", **arguments)
    assert not (tmp_path / "out").exists()
    TimeMAETrainingArguments(output_dir=str(tmp_path / "out"), refit=True, report_to="none", metric_for_best_model="")


def test_a_batch_larger_than_the_train_split_is_lowered_to_the_split(caplog):
    args = TimeMAETrainingArguments(output_dir="unused", per_device_train_batch_size=128, report_to="none")
    with caplog.at_level("WARNING"):
        fit_batch_size_to_split(args, 40)
    assert args.per_device_train_batch_size == 40 and "lowered to 40" in caplog.text
    fit_batch_size_to_split(args, 1000)
    assert args.per_device_train_batch_size == 40
    accumulating = TimeMAETrainingArguments(output_dir="unused", gradient_accumulation_steps=8, report_to="none")
    with pytest.raises(ValueError, match="5 windows, fewer than the 1 processes x 8 accumulation steps"):
        fit_batch_size_to_split(accumulating, 5)


def test_min_train_steps_raises_the_epochs_of_a_small_split(caplog):
    args = TimeMAETrainingArguments(
        output_dir="unused", per_device_train_batch_size=16, num_train_epochs=30, min_train_steps=300, report_to="none"
    )
    with caplog.at_level("WARNING"):
        apply_min_train_steps(args, 40)  # 3 steps an epoch
    assert args.num_train_epochs == 100 and "training 100 epochs instead" in caplog.text
    large = TimeMAETrainingArguments(
        output_dir="unused", per_device_train_batch_size=16, num_train_epochs=30, min_train_steps=300, report_to="none"
    )
    apply_min_train_steps(large, 7000)
    assert large.num_train_epochs == 30
    fixed = TimeMAETrainingArguments(output_dir="unused", max_steps=5, min_train_steps=300, report_to="none")
    apply_min_train_steps(fixed, 40)
    assert fixed.max_steps == 5 and fixed.num_train_epochs == 3.0


def test_model_card_describes_the_data_it_was_trained_on_not_har(tmp_path):
    model = TimeMAEForSequenceClassification(tiny_config())
    data = TrainingDataCard(
        name="BasicMotions", validation_split="stratified 20 % of train, seed 42", num_train_windows=32
    )
    card = render_model_card(
        model,
        "basic-motions",
        {"test_accuracy": 0.9},
        None,
        TrainingArguments(output_dir=str(tmp_path), report_to="none"),
        training_data=data,
    )
    assert "human-activity-recognition" not in card.data.tags and not card.data.datasets
    assert card.data.eval_results[0].dataset_name == "BasicMotions"
    text = " ".join(card.text.split())
    assert "HAR" not in text and "volunteers" not in text and "body_acc" not in text
    assert "fine-tuned to classify 3 classes of BasicMotions" in text
    assert "BasicMotions, 32 train windows; validation = stratified 20 % of train, seed 42." in text
    assert "3 channels in the training data's order" in text


def test_har_model_card_keeps_its_tags_and_says_pt_validation_is_a_subset_of_train(tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none")
    model = TimeMAEForPreTraining(tiny_config())
    raw_data = har_training_data("raw", "held-out train subjects 5, 14")
    raw = render_model_card(model, "har", {}, None, args, training_data=raw_data)
    assert "human-activity-recognition" in raw.data.tags and raw.data.datasets == ["uci_har"]
    assert "validation = held-out train subjects 5, 14." in " ".join(raw.text.split())
    pt_data = har_training_data("pt")
    pt = render_model_card(model, "har", {"eval_probe_accuracy": 0.96}, None, args, training_data=pt_data)
    assert "a subset of the train windows (its scores are not held-out numbers)" in " ".join(pt.text.split())
    assert "held out from training" not in pt.text


def test_refit_model_card_says_train_and_validation_trained_the_model(tmp_path):
    data = TrainingDataCard(
        name="BasicMotions", validation_split="stratified 20 % of train, seed 42", refit=True, num_train_windows=40
    )
    card = render_model_card(
        TimeMAEForSequenceClassification(tiny_config()),
        "m",
        {"test_accuracy": 0.9, "refit": True},
        None,
        TrainingArguments(output_dir=str(tmp_path), report_to="none"),
        training_data=data,
    )
    text = " ".join(card.text.split())
    assert "**Refit**: trained on train + validation concatenated (40 windows)" in text
    assert "`refit`" not in text  # a flag, not a score in the results table


def test_model_card_of_a_run_that_trained_nothing_does_not_call_the_model_trained(tmp_path):
    card = render_model_card(
        TimeMAEForPreTraining(tiny_config()),
        "untrained",
        {"eval_loss": 3.0},
        None,
        TrainingArguments(output_dir=str(tmp_path), report_to="none"),
        training_data=har_training_data(),
        trained_steps=0,
    )
    text = " ".join(card.text.split())
    assert "This run trained nothing" in text and "pre-trained" not in text and "Optimiser" not in text


# --- fine-tuning knobs: augmentations and layer-wise learning-rate decay ---------------------------------------------


def test_augmentations_move_observed_values_by_the_documented_amounts_and_leave_the_rest():
    from timemae_hf.training.augmentation import JITTER_RELATIVE_STD, SCALING_STD, augment_windows

    torch.manual_seed(0)
    past_values = torch.randn(512, 64, 3) * torch.tensor([1.0, 10.0, 0.1])  # channels of very different spread
    observed = torch.ones_like(past_values, dtype=torch.bool)
    observed[:, 48:] = False  # padding
    scaled = augment_windows(past_values, ["scaling"], observed)
    ratio = scaled[:, :48] / past_values[:, :48]
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-4)  # one factor per window-channel
    assert abs(ratio[:, 0].std().item() - SCALING_STD) < 0.01 and abs(ratio[:, 0].mean().item() - 1) < 0.01
    jittered = augment_windows(past_values, ["jitter"], observed)
    relative_noise = (jittered - past_values)[:, :48] / past_values[:, :48].std(dim=1, keepdim=True)
    for channel in range(3):  # the same relative noise whatever the channel's scale
        assert abs(relative_noise[..., channel].std().item() - JITTER_RELATIVE_STD) < 0.005
    for augmented in (scaled, jittered, augment_windows(past_values, ["jitter", "scaling"], observed)):
        assert torch.equal(augmented[:, 48:], past_values[:, 48:])  # padding untouched
    with pytest.raises(ValueError, match="Unknown augmentation.*mixup"):
        augment_windows(past_values, ["mixup"])


def test_time_warp_resamples_each_window_along_one_smooth_increasing_warp_shared_by_its_channels():
    from timemae_hf.training.augmentation import augment_windows

    torch.manual_seed(0)
    ramp = torch.arange(64, dtype=torch.float32)
    past_values = torch.stack([ramp, 2 * ramp + 5], dim=-1).expand(256, 64, 2).clone()  # value = f(time index)
    observed = torch.ones_like(past_values, dtype=torch.bool)
    observed[:8, 60:] = False  # the first 8 windows are padded
    warped = augment_windows(past_values, ["time_warp"], observed)
    times = warped[8:, :, 0]  # the time each output step was read at
    assert torch.allclose(warped[8:, :, 1], 2 * times + 5, atol=1e-4)  # one warp per window, shared by channels
    assert torch.all(times[:, 1:] > times[:, :-1])  # replayed forwards, never backwards
    assert torch.allclose(times[:, [0, -1]], torch.tensor([0.0, 63.0]), atol=1e-4)  # ends stay put
    displacement = (times - ramp).abs().amax(dim=1)
    assert displacement.median() > 1.0 and displacement.max() < 32  # really warped, and smoothly so
    assert not torch.equal(times[0], times[1])  # a new warp per window
    assert torch.equal(warped[:8], past_values[:8])  # windows with padding are not warped
    single_step = torch.randn(4, 1, 3)
    assert torch.equal(augment_windows(single_step, ["time_warp"]), single_step)


@pytest.mark.parametrize(
    "arguments, message",
    [({"augmentations": ["cutout"]}, "--augmentations cutout: unknown"), ({"layerwise_lr_decay": 0.0}, r"\(0, 1\]")],
)
def test_bad_fine_tuning_knobs_are_refused_with_the_fix(arguments, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        TimeMAETrainingArguments(output_dir=str(tmp_path), **arguments)


def test_layerwise_lr_decay_gives_each_depth_its_learning_rate(tmp_path):
    from timemae_hf.training import TimeMAETrainer

    model = TimeMAEForSequenceClassification(tiny_config(num_hidden_layers=2))
    args = TimeMAETrainingArguments(
        output_dir=str(tmp_path),
        learning_rate=1e-3,
        weight_decay=0.01,
        layerwise_lr_decay=0.5,
        report_to="none",
        use_cpu=True,
    )
    optimizer = TimeMAETrainer(model=model, args=args).create_optimizer()
    learning_rate = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    weight_decay = {id(p): group["weight_decay"] for group in optimizer.param_groups for p in group["params"]}
    parameters = dict(model.named_parameters())
    assert learning_rate[id(parameters["classifier.weight"])] == pytest.approx(1e-3)
    assert learning_rate[id(parameters["timemae.encoder.layer.1.output.dense.weight"])] == pytest.approx(5e-4)
    assert learning_rate[id(parameters["timemae.encoder.layer.0.output.dense.weight"])] == pytest.approx(2.5e-4)
    assert learning_rate[id(parameters["timemae.embeddings.patch_embeddings.projection.weight"])] == pytest.approx(
        1.25e-4
    )
    assert len(learning_rate) == sum(p.requires_grad for p in model.parameters())  # every trainable parameter, once
    assert weight_decay[id(parameters["classifier.weight"])] == 0.01
    assert weight_decay[id(parameters["timemae.encoder.layer.0.output.LayerNorm.weight"])] == 0.0


def test_trainer_augments_training_batches_and_never_evaluation_batches(tmp_path, monkeypatch):
    from timemae_hf.training import TimeMAETrainer
    from timemae_hf.training import trainer as trainer_module

    calls = []

    def recording_augment(past_values, augmentations, past_observed_mask=None):
        calls.append(list(augmentations))
        return past_values + 1.0

    monkeypatch.setattr(trainer_module, "augment_windows", recording_augment)
    args = TimeMAETrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        max_steps=2,
        augmentations=["jitter"],
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = TimeMAETrainer(
        model=TimeMAEForSequenceClassification(tiny_config()),
        args=args,
        train_dataset=windows(16),
        eval_dataset=windows(8),
    )
    trainer.train()
    assert calls == [["jitter"], ["jitter"]]
    trainer.evaluate()
    assert len(calls) == 2


def test_in_memory_split_gives_the_rows_and_batches_of_the_arrow_split():
    from timemae_hf.training import in_memory
    from timemae_hf.training.data_loading import InMemoryWindows

    split = windows(10)
    held = in_memory(split)
    assert isinstance(held, InMemoryWindows) and len(held) == 10
    for index in (0, 7):
        assert set(held[index]) == set(split[index])
        assert torch.equal(held[index]["past_values"], split[index]["past_values"])
        assert int(held[index]["labels"]) == int(split[index]["labels"])
    collator = TimeMAEDataCollator()
    arrow_batch, memory_batch = collator([split[i] for i in (3, 1, 4)]), collator([held[i] for i in (3, 1, 4)])
    assert all(torch.equal(arrow_batch[key], memory_batch[key]) for key in arrow_batch)
    # windows of different lengths stay a list of tensors; streams and splits over the budget are left as they are
    ragged = in_memory(datasets.Dataset.from_dict({"past_values": [[[1.0]] * 3, [[2.0]] * 5]}))
    assert [tuple(row["past_values"].shape) for row in (ragged[0], ragged[1])] == [(3, 1), (5, 1)]
    assert in_memory(split, max_bytes=16) is split
    stream = split.to_iterable_dataset()
    assert in_memory(stream) is stream


def test_logging_setup_reaches_every_helper_beside_the_scripts(tmp_path):
    """What a helper in training/ logs (e.g. a stream's labels left aside) shows at the run's log level, for every
    helper module there, without a list to keep up to date."""
    import logging

    from logging_setup import setup_logging

    names = ("data_setup", "model_setup", "arguments", "run_provenance", "timemae_hf")
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        setup_logging(TrainingArguments(output_dir=str(tmp_path), log_level="error"), logging.getLogger("test_script"))
        for name in names:
            assert logging.getLogger(name).level == logging.ERROR, name
    finally:  # other tests read these loggers' warnings
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
