"""`TimeMAEClassifier`: TimeMAE as a scikit-learn classifier over numpy arrays.

    from timemae_hf import TimeMAEClassifier
    clf = TimeMAEClassifier().fit(X_train, y_train)
    clf.score(X_test, y_test)

Everything a user of the bare classes does by hand happens inside `fit`: loading the pre-trained encoder (by default
the shipped timemae-base) for the data's channels, label maps, TimeMAE's linear probe on its frozen features; and on
request self-supervised pre-training with the momentum update (`TimeMAEPretrainingTrainer`) and fine-tuning through
`TimeMAETrainer`. The fitted model is a plain `TimeMAEForSequenceClassification`, saved as a standard transformers
checkpoint by `save_pretrained`.
"""

import json
import os
import tempfile
from contextlib import contextmanager, nullcontext
from numbers import Integral, Real

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch.utils.data import Dataset
from transformers import PrinterCallback, Trainer, TrainingArguments, set_seed
from transformers.utils import logging as transformers_logging

from .configuration_timemae import TimeMAEConfig
from .data import compute_channel_statistics
from .modeling_timemae import TimeMAEForPreTraining, TimeMAEForSequenceClassification
from .shipped import SHIPPED_MODEL_NAMES, resolve_model_name_or_path
from .training.augmentation import AUGMENTATIONS
from .training.data_loading import small_data_batch_size
from .training.model_loading import new_model
from .training.probing import extract_features
from .training.trainer import TimeMAEPretrainingTrainer, TimeMAETrainer
from .windows_timemae import pad_past_values, pad_windows

ESTIMATOR_FILE = "timemae_estimator.json"
# The training batch is at most 1/4 of the windows, so that an epoch is at least 4 optimiser steps: a batch as large
# as the data turns a budget into a handful of full-batch steps (seen: 40 windows, batch 128).
MIN_BATCHES_PER_EPOCH = 4
# TimeMAE's probe: `LogisticRegression(max_iter=1e6)` on standardised features (authors' code, `linear_probe.py`).
PROBE_MAX_ITER = 1_000_000
HEADS = ("finetune", "probe")
DEVICES = ("auto", "cpu", "cuda")


class TimeMAEClassifier(ClassifierMixin, BaseEstimator):
    """
    TimeMAE as a scikit-learn classifier. By default it reads the frozen features of `timemae-base`, the universal
    encoder shipped inside the package (TimeMAE pre-trained on generated series only; nothing is downloaded), with a
    standardised logistic-regression head: a fit is one forward pass and a logistic regression, seconds on small
    sets. Options: fine-tune from it (`head="finetune"`), continue its pre-training on your windows first
    (`pretrain_steps`), or pre-train a new encoder on your windows alone (`pretrained_model=None`).

    ```python
    >>> from timemae_hf import TimeMAEClassifier
    >>> clf = TimeMAEClassifier().fit(X_train, y_train)
    >>> clf.score(X_test, y_test)
    ```

    Inputs are numpy arrays (or nested lists) of shape `(n_windows, time, channels)`, channels last as in
    `past_values`; 2-D `(n_windows, time)` input is one channel. (aeon/sktime arrays are `(n_cases, n_channels,
    n_timepoints)`: pass `X.transpose(0, 2, 1)`.) NaN marks a missing value: it is never attended to, pooled or
    counted in a loss (it becomes the model's `past_observed_mask`), so series shorter than the longest are passed
    NaN-padded at the end, or as a list of arrays of different lengths. Labels may be any values scikit-learn accepts
    (`classes_` holds them, sorted). `timemae-base` encodes each channel alone and resizes each series' observed part
    to 512 steps, so any channel count and any length fit, also at prediction time.

    Budgets are optimiser steps, not epochs, so that a small data set still gets a real training run: 40 windows at
    30 epochs and batch 128 are 30 steps, which fails quietly. The training batch is never more than a quarter of the
    windows, gradients are clipped, and fine-tuning uses lr 1e-4, the rate that was stable there. Without a
    pre-trained encoder, no dropout and fine-tuning starting from the linear probe's head (LP-FT) are what
    cross-validation on the train splits of twelve public sets chose (`benchmarks/league/estimator_defaults.py`): on
    small sets the pooled features of an encoder pre-trained on them vary little between windows; dropout's noise hid
    that variation and fine-tuning from a random head then stayed at chance, even on training windows.

    Args:
        pretrained_model (`str`, *optional*, defaults to `"timemae-base"`):
            The TimeMAE checkpoint whose encoder the classifier starts from: a shipped model's name (`"timemae-base"`,
            read from the package), a folder or a Hub id. `None` builds a new encoder (random, or from
            `bert_model_name_or_path`) that only `pretrain_steps` of pre-training on `X` can teach anything.
        head (`str`, defaults to `"probe"`):
            `"probe"`: TimeMAE's linear probe: the encoder stays frozen, a `StandardScaler` + multinomial
            `LogisticRegression` is fit on its pooled features and folded exactly into the classifier's linear head
            (the saved model needs no scikit-learn). Multinomial rather than the benchmarks' one-vs-rest, so that
            `predict_proba` is exactly the softmax of the saved classifier's logits.
            `"finetune"`: train the whole model with a linear head on the pooled encoder output (`Trainer`).
        pretrain_steps (`int`, defaults to 0):
            Optimiser steps of TimeMAE pre-training on `X` (and `X_unlabeled`) before the head is trained: a new
            encoder's only training, or more of `pretrained_model`'s on your windows; 0 skips pre-training. (A new
            encoder was measured at 1000.)
        finetune_steps (`int`, defaults to 500):
            Optimiser steps of fine-tuning (`head="finetune"`; unused by the probe).
        pretrain_learning_rate (`float`, defaults to 1e-3):
            Peak AdamW learning rate of pre-training (TimeMAE's), after a 5 % warm-up.
        finetune_learning_rate (`float`, defaults to 1e-4):
            Peak AdamW learning rate of fine-tuning, after a 10 % warm-up, then decaying linearly to 0.
        batch_size (`int`, defaults to 64):
            Largest training batch; the batch used is `min(batch_size, n_windows // 4)` (at least 1).
        weight_decay (`float`, defaults to 0.01):
            AdamW weight decay (not applied to biases and LayerNorms, as `Trainer` does).
        max_grad_norm (`float`, defaults to 1.0):
            Gradient clipping norm; 0 disables it.
        hidden_size, num_hidden_layers, num_attention_heads, intermediate_size (`int`, *optional*):
            Size of a new encoder; `None` takes TimeMAE's native size (64, 8, 4, 256), or the BERT checkpoint's. With
            `pretrained_model` only `num_hidden_layers` may be set: below the checkpoint's depth it keeps the first
            layers (features from an intermediate layer).
        context_length (`int`, *optional*):
            The longest series the fitted model takes; `None`: the longest series of `X` and `X_unlabeled`. Set it
            when series to predict may be longer than every training series (shorter ones are padded, unobserved).
        patch_length (`int`, *optional*):
            Time steps per patch; `None` lets `TimeMAEConfig` derive it from the series length.
        mask_ratio (`float`, defaults to 0.6):
            Fraction of patches masked in pre-training.
        dropout (`float`, *optional*, defaults to 0.0):
            Dropout on the encoder's embeddings, residual branches and attention probabilities; `None` takes the
            config's (TimeMAE's 0.2) or the BERT checkpoint's.
        augmentations (`tuple` of `str`, *optional*):
            Random augmentations of fine-tuning batches, from `("jitter", "scaling", "time_warp")` (see
            `timemae_hf.training.augmentation`); `None` or `()` trains on the windows as they are.
        probe_before_finetuning (`bool`, defaults to `True`):
            `head="finetune"` only: fit the linear probe on the (pre-trained) encoder first and start fine-tuning from
            its head instead of a random one (LP-FT, Kumar et al. 2022), so that the first gradients through a random
            head do not distort the pre-trained features.
        normalize_channels (`bool`, *optional*):
            Standardise each channel with the training windows' mean and std (NaN ignored), stored in the model.
            `None`: on for a new encoder, off for `pretrained_model` (timemae-base standardises each window itself and
            reads the window's own mean and std as features).
        bert_model_name_or_path (`str`, *optional*):
            Start the encoder from this BERT checkpoint (Hub id or folder) instead of a random initialisation.
        random_state (`int`, `RandomState` or `None`):
            Seeds weight initialisation, masking, batch order and dropout: a fixed int gives the same model on every
            `fit` on the same machine and device.
        device (`str`, defaults to `"auto"`):
            `"auto"` (a GPU when there is one), `"cpu"` or `"cuda"`.
        verbose (`bool`, defaults to `False`):
            Show `Trainer`'s progress bars and training logs.
        output_dir (`str`, *optional*):
            Where `Trainer` works and the pre-trained checkpoint is kept (`output_dir/pretraining`); `None` uses a
            temporary folder that is removed after `fit`.

    Attributes:
        classes_ (`ndarray` of shape `(n_classes,)`): the class labels.
        model_ (`TimeMAEForSequenceClassification`): the fitted model, `id2label` = the classes as strings.
        n_channels_ (`int`), context_length_ (`int`): the channel count and longest series length seen in `fit`.

    Pre-training a new encoder uses the authors' one mask per batch and dropout in the momentum encoder, as the
    shipped HAR configs do; pre-training a checkpoint further keeps the checkpoint's own settings. `embed(X)` gives
    the fitted encoder's pooled features, for other scikit-learn models.
    """

    def __init__(
        self,
        *,
        pretrained_model="timemae-base",
        head="probe",
        pretrain_steps=0,
        finetune_steps=500,
        pretrain_learning_rate=1e-3,
        finetune_learning_rate=1e-4,
        batch_size=64,
        weight_decay=0.01,
        max_grad_norm=1.0,
        hidden_size=None,
        num_hidden_layers=None,
        num_attention_heads=None,
        intermediate_size=None,
        context_length=None,
        patch_length=None,
        mask_ratio=0.6,
        dropout=0.0,
        augmentations=None,
        probe_before_finetuning=True,
        normalize_channels=None,
        bert_model_name_or_path=None,
        random_state=None,
        device="auto",
        verbose=False,
        output_dir=None,
    ):
        self.pretrained_model = pretrained_model
        self.head = head
        self.pretrain_steps = pretrain_steps
        self.finetune_steps = finetune_steps
        self.pretrain_learning_rate = pretrain_learning_rate
        self.finetune_learning_rate = finetune_learning_rate
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.max_grad_norm = max_grad_norm
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.context_length = context_length
        self.patch_length = patch_length
        self.mask_ratio = mask_ratio
        self.dropout = dropout
        self.augmentations = augmentations
        self.probe_before_finetuning = probe_before_finetuning
        self.normalize_channels = normalize_channels
        self.bert_model_name_or_path = bert_model_name_or_path
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.output_dir = output_dir

    # ----------------------------------------------------------------------------------------------------------------
    # fit

    def fit(self, X, y, X_unlabeled=None):
        """
        Pre-train (when `pretrain_steps > 0`) on `X` and `X_unlabeled`, then train the head on `(X, y)`.

        Args:
            X: `(n_windows, time, channels)` or `(n_windows, time)` array, NaN where a value is missing; or a list of
                such series of different lengths.
            y: `(n_windows,)` labels, at least two classes.
            X_unlabeled: optional further windows with the same channels, used by pre-training only.

        Returns:
            self
        """
        self._check_params()
        if y is None:
            raise ValueError(
                "TimeMAEClassifier requires y to be passed, but the target y is None: give one label per window."
            )
        windows = check_windows(X, "X")
        labels = np.asarray(y)
        if labels.ndim != 1 and labels.shape[1:] != (1,):
            raise ValueError(f"y must be 1-D (n_windows,), got shape {labels.shape}: pass one label per window.")
        labels = column_or_1d(labels, warn=True)  # (n, 1) is taken, with scikit-learn's DataConversionWarning
        if len(labels) != len(windows):
            raise ValueError(
                f"X has {len(windows)} windows but y has {len(labels)} labels: give one label per window of X."
            )
        check_classification_targets(labels)
        classes, label_ids = np.unique(labels, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y holds one class only ({classes[0]!r}); a classifier needs at least two: add windows of another "
                "class."
            )
        pretraining_windows = [windows]
        if X_unlabeled is not None:
            unlabeled = check_windows(X_unlabeled, "X_unlabeled")
            if unlabeled.shape[2] != windows.shape[2]:
                raise ValueError(
                    f"X_unlabeled has {unlabeled.shape[2]} channels but X has {windows.shape[2]}: unlabelled windows "
                    "must have the same channels, in the same order."
                )
            pretraining_windows.append(unlabeled)
        longest = max(part.shape[1] for part in pretraining_windows)
        context_length = longest if self.context_length is None else self.context_length
        if context_length < longest:
            raise ValueError(
                f"The fit data has series of {longest} steps, longer than context_length={self.context_length}: raise "
                "context_length or leave it None (the longest series of the fit data)."
            )
        windows = pad_windows(windows, context_length)
        corpus = np.concatenate([pad_windows(part, context_length) for part in pretraining_windows])

        seed = self._seed()
        set_seed(seed)
        if self.pretrained_model is None:
            model = self._new_classifier(corpus, classes)
        else:
            model = self._pretrained_classifier(corpus, classes)
        with self._working_folder() as working_folder:
            if self.pretrain_steps > 0:
                self._pretrain(model, corpus, seed, working_folder)
            if self.head == "finetune":
                if self.probe_before_finetuning:
                    self._fit_probe(model, windows, label_ids)
                self._finetune(model, windows, label_ids, seed, working_folder)
            else:
                self._fit_probe(model, windows, label_ids)
        # Fitted attributes are set last, so that a failed fit leaves no half-fitted estimator.
        self.model_ = model.eval()
        self.classes_ = classes
        self.n_channels_ = model.config.num_input_channels
        self.context_length_ = model.config.context_length
        return self

    def _check_params(self):
        def positive_int(name, minimum=1):
            value = getattr(self, name)
            if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")

        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}.")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}.")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' but torch sees no CUDA GPU: use device='auto' or 'cpu'.")
        positive_int("pretrain_steps", minimum=0)
        positive_int("finetune_steps")
        positive_int("batch_size")
        if self.context_length is not None:
            positive_int("context_length")
        for name in ("pretrain_learning_rate", "finetune_learning_rate"):
            value = getattr(self, name)
            if not isinstance(value, Real) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}.")
        for name in ("weight_decay", "max_grad_norm"):
            value = getattr(self, name)
            if not isinstance(value, Real) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}.")
        if self.dropout is not None and not (isinstance(self.dropout, Real) and 0 <= self.dropout < 1):
            raise ValueError(f"dropout must be a number in [0, 1) or None, got {self.dropout!r}.")
        if self.augmentations is not None:
            if isinstance(self.augmentations, str) or not set(self.augmentations) <= set(AUGMENTATIONS):
                raise ValueError(
                    f"augmentations must be a tuple of names from {AUGMENTATIONS} (or None), got "
                    f"{self.augmentations!r}."
                )
        sizes = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")
        if self.pretrained_model is not None:
            if not isinstance(self.pretrained_model, (str, os.PathLike)):
                raise ValueError(
                    f"pretrained_model must be a shipped model's name ({SHIPPED_MODEL_NAMES}), a checkpoint folder "
                    f"or a Hub id, or None for a new encoder; got {self.pretrained_model!r}."
                )
            fixed = (
                "hidden_size",
                "num_attention_heads",
                "intermediate_size",
                "context_length",
                "patch_length",
                "bert_model_name_or_path",
            )
            given = [name for name in fixed if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f"{given} are set together with pretrained_model={self.pretrained_model!r}, whose checkpoint fixes "
                    "the encoder: leave them None, or set pretrained_model=None to build a new encoder of that shape."
                )
            if self.num_hidden_layers is not None:
                positive_int("num_hidden_layers")
        if self.bert_model_name_or_path is not None:
            given = [name for name in sizes if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f"{given} are set together with bert_model_name_or_path, whose checkpoint fixes the encoder's "
                    "size: leave them None."
                )

    def _seed(self) -> int:
        """The int that seeds everything: `random_state` itself when it is one, else drawn from it."""
        if isinstance(self.random_state, Integral) and not isinstance(self.random_state, bool):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _pretrained_classifier(self, corpus: np.ndarray, classes: np.ndarray) -> TimeMAEForSequenceClassification:
        """
        The classifier whose encoder is `pretrained_model`'s, set up for `corpus` `(n_windows, time, channels)` and
        `classes`: a channel-independent checkpoint takes any channel count, and one that resizes takes any length.
        `num_hidden_layers` below the checkpoint's keeps its first layers (features from an intermediate layer).
        """
        path = resolve_model_name_or_path(self.pretrained_model)
        config = TimeMAEConfig.from_pretrained(path)
        _, length, channels = corpus.shape
        if not config.channel_independent and channels != config.num_input_channels:
            raise ValueError(
                f"X has {channels} channels but pretrained_model={self.pretrained_model!r} encodes "
                f"{config.num_input_channels} channels together: give data with its channels, use a "
                "channel-independent checkpoint (such as 'timemae-base'), or pretrained_model=None for a new encoder."
            )
        if not config.resize_to_context_length and length > config.context_length:
            raise ValueError(
                f"X has series of {length} steps but pretrained_model={self.pretrained_model!r} takes at most "
                f"{config.context_length}: crop them, use a checkpoint that resizes its inputs (such as "
                "'timemae-base'), or pretrained_model=None for a new encoder."
            )
        if self.num_hidden_layers is not None and self.num_hidden_layers > config.num_hidden_layers:
            raise ValueError(
                f"num_hidden_layers={self.num_hidden_layers}, but pretrained_model={self.pretrained_model!r} has "
                f"{config.num_hidden_layers} layers: choose at most {config.num_hidden_layers} (None: all of them)."
            )
        overrides = self._label_config(classes) | {"num_input_channels": channels, "mask_ratio": self.mask_ratio}
        if self.num_hidden_layers is not None:
            overrides["num_hidden_layers"] = self.num_hidden_layers
        if self.dropout is not None:
            overrides.update(hidden_dropout_prob=self.dropout, attention_probs_dropout_prob=self.dropout)
        if self.normalize_channels:
            overrides.update(compute_channel_statistics(corpus))
        elif config.channel_mean is not None and config.channel_independent:
            overrides.update(channel_mean=None, channel_std=None)  # statistics of other data's channels
        with quiet_transformers(not self.verbose):
            # (a new head, and with fewer layers unused weights: both expected, not worth a warning here)
            return TimeMAEForSequenceClassification.from_pretrained(path, **overrides)

    @staticmethod
    def _label_config(classes: np.ndarray) -> dict:
        return {
            "num_labels": len(classes),
            "id2label": {index: str(label) for index, label in enumerate(classes)},
            "label2id": {str(label): index for index, label in enumerate(classes)},
        }

    def _new_classifier(self, corpus: np.ndarray, classes: np.ndarray) -> TimeMAEForSequenceClassification:
        """A new classification model shaped for `corpus` `(n_windows, time, channels)` and `classes` (its encoder
        random or from BERT), built by `new_model` as the training scripts' are."""
        config_kwargs = {
            "patch_length": self.patch_length,
            "mask_ratio": self.mask_ratio,
            # The authors' masking (one mask per batch) and momentum-encoder dropout, as the shipped configs use.
            "per_sample_masking": False,
            "momentum_encoder_dropout": True,
            **self._label_config(classes),
        }
        if self.dropout is not None:
            config_kwargs.update(hidden_dropout_prob=self.dropout, attention_probs_dropout_prob=self.dropout)
        if self.normalize_channels is None or self.normalize_channels:  # (None: on for a new encoder)
            config_kwargs.update(compute_channel_statistics(corpus))
        sizes = {
            name: getattr(self, name)
            for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")
            if getattr(self, name) is not None
        }
        return new_model(
            TimeMAEForSequenceClassification,
            corpus.shape[1],
            corpus.shape[2],
            self.bert_model_name_or_path,
            **sizes,
            **config_kwargs,
        )

    def _working_folder(self):
        if self.output_dir is None:
            return tempfile.TemporaryDirectory(prefix="timemae-classifier-")
        os.makedirs(self.output_dir, exist_ok=True)
        return nullcontext(self.output_dir)

    def _training_arguments(self, output_dir, steps, learning_rate, num_windows, seed, **schedule):
        return TrainingArguments(
            output_dir=output_dir,
            max_steps=steps,
            per_device_train_batch_size=training_batch_size(self.batch_size, num_windows),
            learning_rate=learning_rate,
            weight_decay=self.weight_decay,
            max_grad_norm=self.max_grad_norm,
            seed=seed,
            data_seed=seed,
            use_cpu=self.device == "cpu",
            dataloader_pin_memory=self._inference_device().type == "cuda",
            disable_tqdm=not self.verbose,
            logging_strategy="steps" if self.verbose else "no",
            logging_steps=max(1, steps // 10),
            save_strategy="no",
            report_to="none",
            **schedule,
        )

    def _trainer(self, trainer_class: type[Trainer], **kwargs) -> Trainer:
        trainer = trainer_class(**kwargs)
        if not self.verbose:
            # With progress bars off, Trainer prints every log (also the final train metrics) through PrinterCallback.
            trainer.remove_callback(PrinterCallback)
        return trainer

    def _pretrain(self, classifier, corpus, seed, working_folder):
        """
        TimeMAE pre-training of `classifier`'s encoder on `corpus`; the encoder weights are copied back. From a
        pre-trained checkpoint this continues its pre-training, with its tokenizer and regressor when it has them.
        """
        if self.pretrained_model is None:
            model = TimeMAEForPreTraining(classifier.config)
        else:
            with quiet_transformers(not self.verbose):
                model = TimeMAEForPreTraining.from_pretrained(
                    resolve_model_name_or_path(self.pretrained_model), config=classifier.config
                )
        model.timemae.load_state_dict(classifier.timemae.state_dict())
        model.reset_momentum_encoder()
        output_dir = os.path.join(working_folder, "pretraining")
        args = self._training_arguments(
            output_dir,
            self.pretrain_steps,
            self.pretrain_learning_rate,
            len(corpus),
            seed,
            lr_scheduler_type="constant_with_warmup",
            warmup_steps=0.05,
        )
        # The trainer adds the momentum encoder's EMA update and batches windows with their observed mask.
        trainer = self._trainer(TimeMAEPretrainingTrainer, model=model, args=args, train_dataset=WindowDataset(corpus))
        trainer.train()
        if self.output_dir is not None:
            trainer.save_model()
        classifier.timemae.load_state_dict(model.timemae.state_dict())
        classifier.to(model.device)

    def _finetune(self, model, windows, label_ids, seed, working_folder):
        output_dir = os.path.join(working_folder, "finetuning")
        args = self._training_arguments(
            output_dir,
            self.finetune_steps,
            self.finetune_learning_rate,
            len(windows),
            seed,
            lr_scheduler_type="linear",
            warmup_steps=0.1,
        )
        trainer = self._trainer(
            TimeMAETrainer,
            model=model,
            args=args,
            train_dataset=WindowDataset(windows, label_ids),
            augmentations=self.augmentations,
        )
        trainer.train()

    def _fit_probe(self, model, windows, label_ids):
        """TimeMAE's linear probe on frozen features, folded into `model.classifier` (exactly: it is affine)."""
        model.to(self._inference_device())
        features, _ = extract_features(model, (windows, label_ids), batch_size=self.batch_size)
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=PROBE_MAX_ITER))
        probe.fit(features, label_ids)
        weight, bias = fold_linear_probe(probe)
        with torch.no_grad():
            model.classifier.weight.copy_(torch.from_numpy(weight))
            model.classifier.bias.copy_(torch.from_numpy(bias))

    # ----------------------------------------------------------------------------------------------------------------
    # predict

    def decision_function(self, X) -> np.ndarray:
        """The classifier's logits, `(n_windows, n_classes)`; `(n_windows,)` (class 1 minus class 0) for two."""
        logits = self._logits(X)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities `(n_windows, n_classes)`, columns in the order of `classes_`."""
        logits = torch.from_numpy(self._logits(X))
        return torch.softmax(logits.double(), dim=-1).numpy()

    def predict(self, X) -> np.ndarray:
        """The most probable class of each window, `(n_windows,)`, with the labels given to `fit`."""
        class_ids = self._logits(X).argmax(axis=1)
        return self.classes_[class_ids]

    def embed(self, X) -> np.ndarray:
        """The fitted encoder's mean-pooled representation of each window, `(n_windows, hidden_size)` float32."""
        check_is_fitted(self)
        windows = self._windows_for_prediction(X)
        no_labels = np.zeros(len(windows))  # extract_features takes (X, y) pairs; the labels are not used here
        features, _ = extract_features(self.model_, (windows, no_labels), batch_size=self.batch_size)
        return features

    @torch.no_grad()
    def _logits(self, X) -> np.ndarray:
        """`(n_windows, n_classes)` float32 logits of the fitted model, batched as in training."""
        check_is_fitted(self)
        windows = self._windows_for_prediction(X)
        self.model_.eval()
        logits = []
        for start in range(0, len(windows), self.batch_size):
            batch = pad_past_values(windows[start : start + self.batch_size])
            batch = {name: tensor.to(self.model_.device) for name, tensor in batch.items()}
            logits.append(self.model_(**batch).logits.float().cpu().numpy())
        return np.concatenate(logits)

    def _windows_for_prediction(self, X) -> np.ndarray:
        windows = check_windows(X, "X")
        length, channels = windows.shape[1:]
        if channels != self.n_channels_:
            hint = ""
            if (length, channels) == (self.n_channels_, self.context_length_):
                hint = " It looks channels-first (n_windows, channels, time): pass X.transpose(0, 2, 1)."
            raise ValueError(
                f"X has {channels} channels but this classifier was fitted on {self.n_channels_}: give the same "
                f"channels, in the same order, as in fit.{hint}"
            )
        if self.model_.config.resize_to_context_length:
            return pad_windows(windows, length)  # the model resizes each series itself
        if length > self.context_length_:
            raise ValueError(
                f"X has series of {length} steps but this classifier takes at most {self.context_length_}: crop them "
                f"to {self.context_length_} steps, or fit with context_length={length} (or more)."
            )
        return pad_windows(windows, self.context_length_)

    def _inference_device(self) -> torch.device:
        if self.device == "cpu" or (self.device == "auto" and not torch.cuda.is_available()):
            return torch.device("cpu")
        return torch.device("cuda")

    # ----------------------------------------------------------------------------------------------------------------
    # save / load

    def save_pretrained(self, save_directory: str) -> None:
        """
        Write the fitted model as a standard transformers checkpoint (`TimeMAEForSequenceClassification`, loadable by
        `AutoModelForSequenceClassification`, `id2label` = the classes) plus `timemae_estimator.json`, the estimator's
        parameters and its classes with their type, which `TimeMAEClassifier.from_pretrained` reads back, and a model
        card (README.md) with what the estimator knows of its data and its parameters.
        """
        from .training.model_card import render_estimator_card

        check_is_fitted(self)
        self.model_.save_pretrained(save_directory)
        model_name = os.path.basename(os.path.normpath(os.path.abspath(save_directory)))
        render_estimator_card(self, model_name).save(os.path.join(save_directory, "README.md"))
        params = self.get_params()
        if not isinstance(params["random_state"], (Integral, type(None))):
            params["random_state"] = None  # a RandomState instance has no JSON form
        state = {
            "params": params,
            "classes": self.classes_.tolist(),
            "classes_dtype": self.classes_.dtype.str if self.classes_.dtype != object else "object",
        }
        with open(os.path.join(save_directory, ESTIMATOR_FILE), "w") as file:
            json.dump(state, file, indent=2)

    @classmethod
    def from_pretrained(cls, save_directory: str, **params) -> "TimeMAEClassifier":
        """A fitted `TimeMAEClassifier` from a `save_pretrained` folder; `params` override the saved ones (e.g.
        `device="cpu"`)."""
        path = os.path.join(save_directory, ESTIMATOR_FILE)
        if not os.path.isfile(path):
            raise ValueError(
                f"{save_directory!r} has no {ESTIMATOR_FILE}: it was not written by TimeMAEClassifier.save_pretrained. "
                "For a plain TimeMAE checkpoint use TimeMAEForSequenceClassification.from_pretrained."
            )
        with open(path) as file:
            state = json.load(file)
        # Saved before the estimator could start from a pre-trained encoder: it was fitted with a new one.
        state["params"].setdefault("pretrained_model", None)
        estimator = cls(**{**state["params"], **params})
        estimator._check_params()
        model = TimeMAEForSequenceClassification.from_pretrained(save_directory)
        estimator.model_ = model.to(estimator._inference_device()).eval()
        estimator.classes_ = np.asarray(state["classes"], dtype=state["classes_dtype"])
        estimator.n_channels_ = model.config.num_input_channels
        estimator.context_length_ = model.config.context_length
        return estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.random_state is None
        return tags


class WindowDataset(Dataset):
    """Windows `(n_windows, time, channels)` (NaN = missing) and optional label ids, as rows for `Trainer`."""

    def __init__(self, windows: np.ndarray, label_ids: np.ndarray | None = None):
        self.windows = windows
        self.label_ids = label_ids

    def __len__(self):
        return len(self.windows)

    def __getitem__(self, index):
        row = {"past_values": self.windows[index]}
        if self.label_ids is not None:
            row["labels"] = int(self.label_ids[index])
        return row


def check_windows(X, argument: str = "X") -> np.ndarray:
    """`X` as float32 `(n_windows, time, channels)`, NaN where missing, with a clear error for every bad input."""
    expected = "(n_windows, time, channels), or (n_windows, time) for one channel"
    if scipy.sparse.issparse(X):
        raise TypeError(f"{argument} is a sparse matrix; sparse input is not supported: pass {argument}.toarray().")
    if isinstance(X, (list, tuple)) and len(X) and len({np.shape(series) for series in X}) > 1:
        try:
            padded = pad_windows(X)  # NaN-padded at the end to the longest series
        except ValueError as error:
            raise ValueError(f"The series of {argument}: {error}") from error
        return check_windows(padded, argument)
    try:
        windows = np.asarray(X)
        if windows.dtype.kind == "c":
            raise ValueError(f"Complex data not supported: {argument} must hold real numbers.")
        windows = windows.astype(np.float32, copy=False)
    except TypeError as error:
        raise TypeError(f"{argument} must be a numeric array of shape {expected}: {error}") from error
    except ValueError as error:
        raise ValueError(f"{argument} must be a numeric array of shape {expected}: {error}") from error
    if windows.ndim == 2:
        windows = windows[:, :, None]
    if windows.ndim != 3:
        hint = " Reshape your data: for a single univariate window use X.reshape(1, -1)." if windows.ndim == 1 else ""
        raise ValueError(f"{argument} must have shape {expected}; got shape {windows.shape}.{hint}")
    if 0 in windows.shape:
        raise ValueError(f"{argument} has shape {windows.shape}: it needs at least one window, step and channel.")
    if np.isinf(windows).any():
        raise ValueError(f"{argument} holds infinite values: replace them with NaN (missing) or with finite numbers.")
    empty = np.flatnonzero(np.isnan(windows).all(axis=(1, 2)))
    if len(empty):
        raise ValueError(
            f"{argument} has {len(empty)} window(s) with no observed value (all NaN), e.g. index "
            f"{empty[:10].tolist()}: drop them, e.g. X = X[~np.isnan(X).all(axis=(1, 2))]."
        )
    return windows


@contextmanager
def quiet_transformers(quiet: bool = True):
    """transformers' warnings and progress bars silenced inside the block (when `quiet`), e.g. a load's new-head
    notice."""
    if not quiet:
        yield
        return
    verbosity, bars = transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)
        if bars:
            transformers_logging.enable_progress_bar()


def training_batch_size(batch_size: int, num_windows: int) -> int:
    """`batch_size`, lowered so that an epoch has at least `MIN_BATCHES_PER_EPOCH` optimiser steps."""
    return small_data_batch_size(batch_size, num_windows, MIN_BATCHES_PER_EPOCH)


def fold_linear_probe(probe) -> tuple[np.ndarray, np.ndarray]:
    """
    `StandardScaler` + `LogisticRegression` as one affine map of the pooled features: weight `(n_classes,
    hidden_size)` and bias `(n_classes,)` float32 whose softmax is the pipeline's `predict_proba`. Two classes: scikit-
    learn keeps one logit `d` with P(class 1) = sigmoid(d); the logits (-d/2, d/2) have the same softmax.
    """
    scaler, logistic_regression = probe[0], probe[-1]
    weight = logistic_regression.coef_ / scaler.scale_
    bias = logistic_regression.intercept_ - weight @ scaler.mean_
    if weight.shape[0] == 1:
        weight = np.concatenate([-weight / 2, weight / 2])
        bias = np.concatenate([-bias / 2, bias / 2])
    return weight.astype(np.float32), bias.astype(np.float32)


__all__ = ["TimeMAEClassifier"]
