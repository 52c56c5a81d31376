"""README.md's first table (benchmarks/league/studies.py `first_screen`): the shipped classifier beside MiniRocket,
per set."""

from benchmarks.league import studies as report


def summary(accuracy: float, fit_seconds: float, seeds=(3407, 1, 2)) -> dict:
    return {
        "seeds": list(seeds),
        "accuracy_percent": {"mean": accuracy, "std": 0.5, "values": [accuracy] * len(seeds)},
        "fit_seconds": fit_seconds,
        "predict_seconds": 0.1,
    }


def league(results: dict) -> dict:
    return {
        "seeds": [3407, 1, 2],
        "datasets": list(results),
        "results": {name: {"methods": methods} for name, methods in results.items()},
    }


def test_first_screen_shows_each_set_the_means_the_goals_and_the_published_context():
    record = league(
        {
            "GunPoint": {
                "TimeMAE_base_probe": summary(95.0, 1.2),
                "TimeMAE_base_finetune": summary(97.0, 40.0),
                "MiniRocket": summary(99.0, 0.8),
            },
            "Coffee": {
                "TimeMAE_base_probe": summary(100.0, 0.9),
                "TimeMAE_base_finetune": summary(98.0, 30.0),
                "MiniRocket": summary(100.0, 0.2),
            },
        }
    )
    validation = {
        "chosen": {"step": 10000, "layers": 3, "mean_validation_accuracy": 78.25},
        "reference": {"mean_validation_accuracy": 91.58},
    }
    table = report.first_screen(record, validation)
    assert "| GunPoint | 95.00 (1.2 s) | 97.00 (40 s) | 99.00 (0.8 s) |" in table
    assert "| **mean** | **97.50** | **97.50** | **99.50** |" in table
    assert (
        "step 10000, read after its first 3 layers, 78.25 % mean validation accuracy against MiniRocket's 91.58"
        in table
    )
    assert "Goals of TimeMAEClassifier() as it ships" in table
    assert table.rstrip().endswith(report.PUBLISHED_CONTEXT)


def test_first_screen_marks_partial_rows_and_averages_each_column_over_its_complete_sets():
    record = league(
        {
            "GunPoint": {"TimeMAE_base_probe": summary(95.0, 1.2), "MiniRocket": summary(99.0, 0.8)},
            "Coffee": {
                "TimeMAE_base_probe": summary(90.0, 0.9, seeds=(3407,)),
                "TimeMAE_base_finetune": summary(98.0, 30),
                "MiniRocket": summary(100.0, 0.2),
            },
        }
    )
    table = report.first_screen(record)
    assert "| GunPoint | 95.00 (1.2 s) | not run yet | 99.00 (0.8 s) |" in table
    assert "90.00 (0.9 s, 1 of 3 seeds)" in table
    assert "| **mean** | **95.00** (1 set so far) | **98.00** (1 set so far) | **99.50** |" in table


def test_first_screen_says_when_the_league_has_not_run():
    assert "has not been run yet" in report.first_screen(None)
