"""TimeMAEClassifier: scikit-learn's estimator contract, both heads, missing values, save/load, clear errors.

Every fit is tiny (24 windows, 16 steps, 2 channels, hidden 16, 1 layer, a few steps, one torch thread): the whole
file, scikit-learn's checks included, took 18 s of CPU here. What the defaults reach on real data is a benchmark's
question, not a unit test's.
"""

import json
import os
import tempfile

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from transformers import AutoModelForSequenceClassification, BertConfig, BertModel

from timemae_hf import TimeMAEConfig, TimeMAEForSequenceClassification
from timemae_hf.estimator import ESTIMATOR_FILE, TimeMAEClassifier, fold_linear_probe, training_batch_size

# A new tiny encoder pre-trained on the fit data (the from-scratch path); tests of the shipped encoder are beside.
TINY = {
    "pretrained_model": None,
    "head": "finetune",
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "patch_length": 4,
    "pretrain_steps": 3,
    "finetune_steps": 4,
    "random_state": 0,
}


def make_windows(num_windows=24, length=16, num_channels=2, seed=0, labels=("rest", "walk")):
    """Two classes told apart by a sine on channel 0: X (num_windows, length, num_channels) float32, y labels."""
    rng = np.random.default_rng(seed)
    y = np.array([labels[index % len(labels)] for index in range(num_windows)])
    X = rng.normal(scale=0.5, size=(num_windows, length, num_channels)).astype(np.float32)
    X[y == labels[1], :, 0] += 2 * np.sin(np.arange(length) / 2)
    return X, y


@pytest.fixture(scope="module")
def data():
    return make_windows()


@pytest.mark.parametrize("head", ["finetune", "probe"])
def test_fit_predict_on_three_dimensional_windows(data, head):
    X, y = data
    clf = TimeMAEClassifier(**{**TINY, "head": head})
    assert clf.fit(X, y) is clf
    assert clf.classes_.tolist() == ["rest", "walk"]
    assert (clf.n_channels_, clf.context_length_) == (2, 16)
    probabilities = clf.predict_proba(X)
    assert probabilities.shape == (24, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    predictions = clf.predict(X)
    assert set(predictions) <= {"rest", "walk"}
    np.testing.assert_array_equal(predictions, clf.classes_[probabilities.argmax(axis=1)])
    assert clf.decision_function(X).shape == (24,)
    assert 0.0 <= clf.score(X, y) <= 1.0
    assert clf.embed(X).shape == (24, 16)


def test_probe_head_learns_the_tiny_task(data):
    X, y = data
    clf = TimeMAEClassifier(**{**TINY, "head": "probe"}).fit(X, y)
    assert clf.score(X, y) >= 0.9


def test_two_dimensional_input_is_one_channel(data):
    X, y = data
    univariate = X[:, :, 0]
    clf = TimeMAEClassifier(**TINY).fit(univariate, y)
    assert clf.n_channels_ == 1
    np.testing.assert_array_equal(clf.predict_proba(univariate), clf.predict_proba(univariate[:, :, None]))


def test_integer_labels_and_three_classes_come_back_as_given():
    X, y = make_windows(num_windows=24, labels=(7, 3, 11))
    clf = TimeMAEClassifier(**{**TINY, "head": "probe"}).fit(X, y)
    assert clf.classes_.tolist() == [3, 7, 11]
    assert clf.predict(X).dtype == y.dtype
    assert clf.predict_proba(X).shape == (24, 3)
    assert clf.decision_function(X).shape == (24, 3)
    assert clf.model_.config.id2label == {0: "3", 1: "7", 2: "11"}


@pytest.mark.parametrize("head", ["finetune", "probe"])
def test_fixed_random_state_gives_the_same_model(data, head):
    X, y = data
    first = TimeMAEClassifier(**{**TINY, "head": head}).fit(X, y).predict_proba(X)
    second = TimeMAEClassifier(**{**TINY, "head": head}).fit(X, y).predict_proba(X)
    other_seed = TimeMAEClassifier(**{**TINY, "head": head, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other_seed)


def test_probe_head_is_the_standardised_logistic_regression_folded_into_the_classifier(data):
    X, y = data
    clf = TimeMAEClassifier(**{**TINY, "head": "probe"}).fit(X, y)
    # The encoder is frozen under the probe, so embed() gives the features the probe was fitted on.
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000_000)).fit(clf.embed(X), y)
    np.testing.assert_allclose(clf.predict_proba(X), probe.predict_proba(clf.embed(X)), atol=1e-4)
    np.testing.assert_array_equal(clf.predict(X), probe.predict(clf.embed(X)))


def test_fold_linear_probe_is_exact_for_two_and_three_classes():
    rng = np.random.default_rng(0)
    features = rng.normal(loc=3.0, scale=[0.1, 2.0, 5.0, 1.0], size=(60, 4))
    for num_classes in (2, 3):
        labels = np.arange(60) % num_classes
        probe = make_pipeline(StandardScaler(), LogisticRegression()).fit(features, labels)
        weight, bias = fold_linear_probe(probe)
        logits = torch.from_numpy(features @ weight.T.astype(np.float64) + bias)
        np.testing.assert_allclose(torch.softmax(logits, -1).numpy(), probe.predict_proba(features), atol=1e-5)


def test_pretraining_changes_the_encoder_and_finetuning_starts_from_it(data):
    X, y = data
    no_pretraining = TimeMAEClassifier(**{**TINY, "head": "probe", "pretrain_steps": 0}).fit(X, y)
    pretrained = TimeMAEClassifier(**{**TINY, "head": "probe"}).fit(X, y)
    # Same seed, same initial weights: only pre-training can make the features differ.
    assert not np.allclose(no_pretraining.embed(X), pretrained.embed(X))


@pytest.mark.parametrize("head", ["finetune", "probe"])
def test_missing_values_and_shorter_series_are_unobserved_not_zero(data, head):
    X, y = data
    X = X.copy()
    X[::3, 10:, :] = np.nan  # every third window is 10 steps long (NaN-padded)
    X[1, 2, 1] = np.nan  # and a single missing value
    clf = TimeMAEClassifier(**{**TINY, "head": head}).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    # A short window gives the same prediction NaN-padded, cut to its length, or in a ragged list.
    short = X[0, :10]
    expected = clf.predict_proba(X[:1])
    np.testing.assert_allclose(clf.predict_proba(short[None]), expected, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba([short, X[1]])[:1], expected, atol=1e-6)
    # Filling the gap with zeros instead is a different input.
    assert not np.allclose(clf.predict_proba(np.nan_to_num(X[:1])), expected, atol=1e-6)


def test_context_length_lets_longer_series_be_predicted(data):
    X, y = data
    clf = TimeMAEClassifier(**{**TINY, "head": "probe"}, context_length=20).fit(X, y)
    assert clf.context_length_ == 20
    longer = np.concatenate([X[:2], X[:2, :4]], axis=1)  # 20 steps
    assert clf.predict(longer).shape == (2,)
    # Padding to context_length is unobserved: the 16-step windows predict the same as before.
    nan_padded = np.pad(X, ((0, 0), (0, 4), (0, 0)), constant_values=np.nan)
    np.testing.assert_allclose(clf.predict_proba(X), clf.predict_proba(nan_padded), atol=1e-6)
    with pytest.raises(ValueError, match="series of 16 steps, longer than context_length=12"):
        TimeMAEClassifier(**TINY, context_length=12).fit(X, y)


def test_patch_length_defaults_to_the_models_rule(data):
    X, y = data
    clf = TimeMAEClassifier(**{**TINY, "patch_length": None, "pretrain_steps": 1, "finetune_steps": 1}).fit(X, y)
    assert clf.model_.config.patch_length == TimeMAEConfig.default_patch_length(16)


def test_unlabeled_windows_join_pretraining(data):
    X, y = data
    unlabeled, _ = make_windows(num_windows=8, length=20, seed=1)
    clf = TimeMAEClassifier(**TINY).fit(X, y, X_unlabeled=unlabeled)
    assert clf.context_length_ == 20  # the longest series of either set; X is NaN-padded (unobserved)
    with pytest.raises(ValueError, match="X_unlabeled has 3 channels but X has 2"):
        TimeMAEClassifier(**TINY).fit(X, y, X_unlabeled=np.zeros((4, 16, 3)))


def test_encoder_starts_from_a_bert_checkpoint(data, tmp_path):
    X, y = data
    bert = BertModel(BertConfig(hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=48))
    bert.save_pretrained(tmp_path)
    sizes_from_bert = dict.fromkeys(["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"])
    clf = TimeMAEClassifier(**{**TINY, **sizes_from_bert}, bert_model_name_or_path=str(tmp_path)).fit(X, y)
    assert clf.model_.config.hidden_size == 24
    assert clf.model_.config.bert_model_name_or_path == str(tmp_path)


def test_dropout_sets_the_encoders_dropout(data):
    clf = TimeMAEClassifier(dropout=0.05, **TINY).fit(*data)
    config = clf.model_.config
    assert (config.hidden_dropout_prob, config.attention_probs_dropout_prob) == (0.05, 0.05)


def test_augmentations_reach_the_finetuning_batches(data, monkeypatch):
    """The fine-tuning trainer augments each training batch with exactly the estimator's augmentations."""
    import timemae_hf.training.trainer as trainer_module

    calls = []
    original = trainer_module.augment_windows
    monkeypatch.setattr(
        trainer_module,
        "augment_windows",
        lambda values, names, mask=None: calls.append(list(names)) or original(values, names, mask),
    )
    TimeMAEClassifier(augmentations=("jitter", "time_warp"), **TINY).fit(*data)
    assert calls == [["jitter", "time_warp"]] * TINY["finetune_steps"]
    calls.clear()
    TimeMAEClassifier(**TINY).fit(*data)
    assert calls == []


def test_probe_before_finetuning_starts_finetuning_from_the_probe_head(data, monkeypatch):
    """LP-FT: with probe_before_finetuning the fine-tuning trainer receives the probe's folded head, not a random
    one."""
    X, y = data
    probed = TimeMAEClassifier(**{**TINY, "head": "probe"}).fit(X, y)
    heads = []
    original = TimeMAEClassifier._finetune

    def record_head(self, model, *args):
        heads.append(model.classifier.weight.detach().clone())
        return original(self, model, *args)

    monkeypatch.setattr(TimeMAEClassifier, "_finetune", record_head)
    finetuned = TimeMAEClassifier(probe_before_finetuning=True, **TINY).fit(X, y)
    torch.testing.assert_close(heads[0], probed.model_.classifier.weight)  # same seed: same encoder, same probe
    assert not torch.equal(finetuned.model_.classifier.weight, heads[0])  # and fine-tuning moved on from it
    TimeMAEClassifier(probe_before_finetuning=False, **TINY).fit(X, y)
    assert not torch.allclose(heads[1], probed.model_.classifier.weight)  # without it, from a random head


def test_clone_and_params_follow_scikit_learn():
    clf = TimeMAEClassifier(pretrained_model=None, head="probe", hidden_size=32, random_state=5)
    assert clf.get_params()["hidden_size"] == 32
    clone_ = clone(clf)
    assert clone_.get_params() == clf.get_params() and clone_ is not clf
    assert clf.set_params(hidden_size=16, head="finetune") is clf
    assert (clf.hidden_size, clf.head) == (16, "finetune")


def test_runs_inside_cross_val_score(data):
    X, y = data
    scores = cross_val_score(TimeMAEClassifier(**{**TINY, "head": "probe"}), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_runs_inside_grid_search_cv(data):
    X, y = data
    search = GridSearchCV(TimeMAEClassifier(**TINY), {"head": ["finetune", "probe"]}, cv=2).fit(X, y)
    assert search.best_params_["head"] in ("finetune", "probe")
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_estimator_.predict(X).shape == (24,)


@pytest.mark.parametrize("head", ["finetune", "probe"])
def test_save_pretrained_round_trip_keeps_predictions(data, head, tmp_path):
    X, y = data
    clf = TimeMAEClassifier(**{**TINY, "head": head}).fit(X, y)
    clf.save_pretrained(tmp_path)
    restored = TimeMAEClassifier.from_pretrained(tmp_path)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert restored.get_params() == clf.get_params()
    # The folder is a plain transformers classifier: the probe lives in its linear head, labels in id2label.
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    assert isinstance(model, TimeMAEForSequenceClassification)
    assert model.config.id2label == {0: "rest", 1: "walk"}
    with torch.no_grad():
        logits = model(past_values=torch.from_numpy(X)).logits
    np.testing.assert_allclose(torch.softmax(logits.double(), -1).numpy(), clf.predict_proba(X), atol=1e-6)


def test_from_pretrained_restores_integer_classes(tmp_path):
    X, y = make_windows(labels=(0, 5))
    clf = TimeMAEClassifier(**{**TINY, "head": "probe"}).fit(X, y)
    clf.save_pretrained(tmp_path)
    restored = TimeMAEClassifier.from_pretrained(tmp_path)
    assert restored.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_from_pretrained_on_a_folder_without_estimator_file_says_what_to_use(tmp_path):
    with pytest.raises(ValueError, match=f"no {ESTIMATOR_FILE}.*TimeMAEForSequenceClassification.from_pretrained"):
        TimeMAEClassifier.from_pretrained(tmp_path)


def test_fit_is_silent_unless_verbose(data, capfd):
    X, y = data
    TimeMAEClassifier(**TINY).fit(X, y)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    TimeMAEClassifier(**{**TINY, "verbose": True}).fit(X, y)
    progress = capfd.readouterr().err
    assert "it/s" in progress or "s/it" in progress


def test_temporary_working_folder_is_removed(data, tmp_path, monkeypatch):
    X, y = data
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    TimeMAEClassifier(**TINY).fit(X, y)
    assert os.listdir(tmp_path) == []


def test_output_dir_keeps_the_pretrained_checkpoint(data, tmp_path):
    X, y = data
    TimeMAEClassifier(**TINY, output_dir=str(tmp_path)).fit(X, y)
    with open(tmp_path / "pretraining" / "config.json") as file:
        assert json.load(file)["model_type"] == "timemae"


def test_training_batch_is_at_most_a_quarter_of_the_windows():
    assert training_batch_size(64, 40) == 10
    assert training_batch_size(64, 10_000) == 64
    assert training_batch_size(64, 3) == 1


def test_predict_before_fit_raises_not_fitted(data):
    with pytest.raises(NotFittedError):
        TimeMAEClassifier().predict(data[0])


@pytest.mark.parametrize(
    "X_change, y_change, match",
    [
        (lambda X: X[0, :, 0], None, r"got shape \(16,\).*reshape\(1, -1\)"),
        (lambda X: X[..., None], None, r"got shape \(24, 16, 2, 1\)"),
        (lambda X: np.where(np.arange(24)[:, None, None] == 3, np.nan, X), None, r"no observed value.*\[3\]"),
        (lambda X: np.where(np.arange(24)[:, None, None] == 5, np.inf, X), None, "infinite values"),
        (None, lambda y: np.full_like(y, "rest"), "one class only"),
        (None, lambda y: y[:20], "24 windows but y has 20 labels"),
        (None, lambda y: None, "requires y to be passed"),
        (None, lambda y: np.stack([y, y], axis=1), r"y must be 1-D \(n_windows,\), got shape \(24, 2\)"),
    ],
    ids=["1d", "4d", "nan_only_window", "inf", "single_class", "label_count", "no_y", "2d_y"],
)
def test_bad_fit_input_gets_a_clear_error(data, X_change, y_change, match):
    X, y = data
    X = X_change(X) if X_change else X
    y = y_change(y) if y_change else y
    with pytest.raises(ValueError, match=match):
        TimeMAEClassifier(**TINY).fit(X, y)


def test_one_window_per_class_is_enough(data):
    X, _ = data
    clf = TimeMAEClassifier(**TINY).fit(X[:2], np.array(["a", "b"]))  # batch 1: never larger than the data
    assert clf.predict(X[:2]).shape == (2,)


def test_predict_input_must_match_fit(data):
    X, y = data
    clf = TimeMAEClassifier(**{**TINY, "head": "probe"}).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 channels but this classifier was fitted on 2"):
        clf.predict(np.zeros((2, 16, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="series of 20 steps.*crop them to 16.*context_length=20"):
        clf.predict(np.zeros((2, 20, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="sparse input is not supported"):
        import scipy.sparse

        clf.predict(scipy.sparse.csr_matrix(np.ones((2, 16))))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"head": "svm"}, "head must be one of"),
        ({"device": "tpu"}, "device must be one of"),
        ({"pretrain_steps": -1}, "pretrain_steps must be an integer >= 0"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"finetune_learning_rate": 0.0}, "finetune_learning_rate must be a positive number"),
        ({"bert_model_name_or_path": "bert-base-uncased", "hidden_size": 32}, "leave them None"),
        ({"dropout": 1.0}, "dropout must be a number in"),
        ({"augmentations": "jitter"}, "augmentations must be a tuple of names"),
        ({"augmentations": ("jitter", "mixup")}, "augmentations must be a tuple of names"),
    ],
)
def test_bad_parameters_are_reported_at_fit(data, params, match):
    X, y = data
    clf = TimeMAEClassifier(**{**TINY, **params})  # __init__ validates nothing, as scikit-learn requires
    with pytest.raises(ValueError, match=match):
        clf.fit(*data)


def expected_failed_checks(estimator) -> dict[str, str]:
    """The scikit-learn checks this time-series classifier fails on purpose, each with the reason."""
    no_feature_count = (
        "a window's length may be shorter at predict than at fit (it is padded, not refused), so "
        "there is no fixed n_features_in_ to set or check"
    )
    return {
        "check_n_features_in": no_feature_count,
        "check_n_features_in_after_fitting": no_feature_count,
        "check_estimators_empty_data_messages": "the error names windows and steps, not the tabular 'feature(s)' "
        "wording the check matches",
        "check_fit2d_1feature": "one feature is a window of one step: the error says that one patch leaves masked "
        "pre-training nothing to predict, not the tabular '1 feature(s)' wording",
        "check_methods_subset_invariance": "float32 outputs of a batch and of its windows one by one differ by "
        "rounding (seen: 1e-6 on one of 60 probabilities), above the check's 1e-7",
    }


# Every check scikit-learn has, on a model small and short enough that each fit takes a fraction of a second.
@parametrize_with_checks(
    [TimeMAEClassifier(**{**TINY, "patch_length": 1, "pretrain_steps": 2, "finetune_steps": 2})],
    expected_failed_checks=expected_failed_checks,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_the_estimator_is_imported_from_the_package_top_level_as_the_readme_shows():
    import timemae_hf

    assert timemae_hf.TimeMAEClassifier is TimeMAEClassifier and "TimeMAEClassifier" in timemae_hf.__all__


def coffee_like_windows(num_per_class=14, length=256, seed=0):
    """Two classes that share one large shape and differ by a small bump, as Coffee's spectra differ in a few peaks:
    28 univariate windows (Coffee's train size), told apart by eye and by every classic method."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    base = 5 * np.sin(2 * np.pi * t / length) + 3 * np.exp(-((t - 80) ** 2) / 200)
    bump = np.exp(-((t - 180) ** 2) / 50)
    X = np.stack(
        [rng.uniform(0.95, 1.05) * base + rng.normal(scale=0.1, size=length) for _ in range(2 * num_per_class)]
    )
    y = np.array(["arabica", "robusta"] * num_per_class)
    X[y == "robusta"] += bump
    return X.astype(np.float32), y


@pytest.mark.slow
def test_the_defaults_fit_a_small_easy_training_set():
    """The first thing to check of a recipe: does it learn its own training set? The defaults before the defaults study
    (dropout 0.2, fine-tuning from a random head) stayed at 50 % here, its loss at ln 2: after pre-training the pooled
    features vary little between windows and dropout's noise hid that variation. A full default fit: today the shipped
    timemae-base's frozen features and a probe (under the former defaults, pre-training then fine-tuning a new
    encoder, it took about a minute on one thread)."""
    X, y = coffee_like_windows()
    assert TimeMAEClassifier(random_state=0).fit(X, y).score(X, y) >= 0.95
