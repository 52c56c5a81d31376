"""Carve a validation split out of train (stratified, or by group) and say how it was made.

The one-line account lives in every split's `info.description`, on a line that starts with
`VALIDATION_DESCRIPTION_PREFIX`, so it survives `with_format`, `map` and `select`;
`validation_split_description(splits)` reads it back. A builder with its own rule (e.g. held-out subjects) writes
that line itself (`with_validation_description`).
"""

import hashlib
import logging

import datasets
import numpy as np
from sklearn.model_selection import GroupShuffleSplit

logger = logging.getLogger(__name__)

VALIDATION_DESCRIPTION_PREFIX = "validation split: "


def carve_validation_split(
    train: datasets.Dataset,
    *,
    validation_fraction: float,
    seed: int,
    group_column: str | None = None,
) -> tuple[datasets.Dataset, datasets.Dataset, str]:
    """(train, validation, description) with `validation_fraction` of train held out.

    By `group_column` when given (GroupShuffleSplit over its values, so no group is in both splits),
    else stratified by `labels` when the split has them, else uniformly at random; always seeded.
    When a class has too few windows to stratify, the split falls back to random and the
    description says so.
    """
    _check_fraction(validation_fraction)
    if len(train) < 2:
        raise ValueError(
            f"The train split has {len(train)} window(s); carving a validation split needs at least two. Give more "
            "windows or a validation file."
        )
    percent = _percent(validation_fraction)
    if group_column is not None:
        _check_group_column(train.column_names, group_column)
        groups = np.asarray(train[group_column])
        distinct_groups = np.unique(groups)
        if len(distinct_groups) < 2:
            raise ValueError(
                f"Column '{group_column}' holds a single group ({distinct_groups.tolist()}); holding out groups "
                "needs at least two. Pass another group_column, none, or a validation file."
            )
        splitter = GroupShuffleSplit(n_splits=1, test_size=validation_fraction, random_state=seed)
        train_rows, validation_rows = next(splitter.split(np.zeros(len(groups)), groups=groups))
        held_out = np.unique(groups[validation_rows])
        description = f"{percent} % of the groups of column '{group_column}' held out, seed {seed}"
        if len(held_out) <= 10:
            description += f" (groups {', '.join(str(group) for group in held_out.tolist())})"
        return train.select(np.sort(train_rows)), train.select(np.sort(validation_rows)), description

    if "labels" in train.column_names:
        try:
            parts = train.train_test_split(test_size=validation_fraction, stratify_by_column="labels", seed=seed)
            return parts["train"], parts["test"], f"stratified {percent} % of train, seed {seed}"
        except ValueError as error:
            reason = str(error).splitlines()[0]
            logger.warning(
                "Could not stratify the validation split (%s); holding out a random %s %% of train instead.",
                reason,
                percent,
            )
            description = f"random {percent} % of train, seed {seed} (not stratified: {reason})"
    else:
        description = f"random {percent} % of train, seed {seed}"
    parts = train.train_test_split(test_size=validation_fraction, seed=seed)
    return parts["train"], parts["test"], description


def carve_streaming_validation_split(
    train: datasets.IterableDataset,
    *,
    validation_fraction: float,
    seed: int,
    group_column: str | None = None,
) -> tuple[datasets.IterableDataset, datasets.IterableDataset, str]:
    """The streaming counterpart: a stream cannot be shuffled or counted, so the rule is per window.

    By `group_column`: a group is held out when a seeded hash of its value falls below
    `validation_fraction` (no group in both). Otherwise every k-th window, k = round(1 / fraction).
    """
    _check_fraction(validation_fraction)
    if group_column is not None:
        if train.column_names is not None:
            _check_group_column(train.column_names, group_column)

        def in_validation(example):
            return _group_hash(example[group_column], seed) < validation_fraction

        description = (
            f"groups of column '{group_column}' whose seeded hash falls in the first {_percent(validation_fraction)} % "
            f"held out, seed {seed} (streaming)"
        )
        return (
            train.filter(lambda example: not in_validation(example)),
            train.filter(in_validation),
            description,
        )
    every = max(2, round(1 / validation_fraction))
    description = f"every {every}th window of the train stream ({_percent(1 / every)} %, streaming, not stratified)"
    return (
        train.filter(lambda _, index: index % every != 0, with_indices=True),
        train.filter(lambda _, index: index % every == 0, with_indices=True),
        description,
    )


def validation_split_description(splits: datasets.DatasetDict | datasets.IterableDatasetDict) -> str:
    """How the "validation" split was made, in one line (for logs and the model card).

    E.g. "given (validation file x.npz)", "stratified 20 % of train, seed 42",
    "20 % of the groups of column 'subject' held out, seed 42", or what a builder recorded
    (e.g. "held-out train subjects 5, 14, 22, 28").
    """
    if "validation" not in splits:
        raise ValueError(f"No 'validation' split in {list(splits)}; load the data with load_timeseries_dataset.")
    for line in (splits["validation"].info.description or "").splitlines():
        if line.startswith(VALIDATION_DESCRIPTION_PREFIX):
            return line[len(VALIDATION_DESCRIPTION_PREFIX) :]
    return "given (the source's validation split)"


def with_validation_description(description: str | None, validation: str) -> str:
    """`description` (a dataset's `info.description`) with its validation line set to `validation`."""
    lines = [line for line in (description or "").splitlines() if not line.startswith(VALIDATION_DESCRIPTION_PREFIX)]
    return "\n".join([*lines, VALIDATION_DESCRIPTION_PREFIX + validation])


def _check_fraction(validation_fraction: float) -> None:
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must lie strictly between 0 and 1, got {validation_fraction}.")


def _check_group_column(column_names: list[str], group_column: str) -> None:
    if group_column not in column_names:
        raise ValueError(
            f"group_column '{group_column}' is not a column of the train split (columns: {column_names}); name the "
            "column that holds the group (e.g. subject) of each window."
        )


def _group_hash(group, seed: int) -> float:
    """A number in [0, 1) fixed by (seed, group), the same in every process (unlike Python's hash)."""
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _percent(fraction: float) -> str:
    return f"{100 * fraction:g}"
