"""The statistics every study reports: mean +- standard deviation over seeds, and validation curves averaged over
seeds (how a training budget is chosen before a refit reads the test split)."""

import statistics


def mean_std(values: list[float]) -> dict:
    """Mean and sample standard deviation (ddof=1; 0 for a single value), in percent with two decimals."""
    values = [100 * v for v in values]
    return {
        "mean": round(statistics.mean(values), 2),
        "std": round(statistics.stdev(values), 2) if len(values) > 1 else 0.0,
        "values": [round(v, 2) for v in values],
    }


def mean_curve(curves: list[list[tuple[float, float]]]) -> list[list[float]]:
    """[epoch, score averaged over seeds in percent, two decimals] for validation curves that share their epochs."""
    return [
        [epoch, round(100 * statistics.mean(curve[i][1] for curve in curves), 2)]
        for i, (epoch, _) in enumerate(curves[0])
    ]


def best_mean_epoch(curves: list[list[tuple[float, float]]]) -> int:
    """The epoch whose validation score, averaged over seeds, is highest (the first such, so the cheaper budget wins
    ties): how a budget is chosen on validation before refitting."""
    by_epoch = [dict((round(epoch), score) for epoch, score in curve) for curve in curves]
    shared = sorted(set.intersection(*(set(curve) for curve in by_epoch)))
    return max(shared, key=lambda epoch: statistics.mean(curve[epoch] for curve in by_epoch))
