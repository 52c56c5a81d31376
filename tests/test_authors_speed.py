"""benchmarks/speed/authors_speed.py without the authors' code (CI has none): errors, the window split, and our
side's smoke."""

import pytest

from benchmarks.speed import authors_speed


def test_missing_authors_repo_says_how_to_get_the_code(tmp_path, capsys):
    with pytest.raises(SystemExit):
        authors_speed.main(["--authors_repo", str(tmp_path / "TimeMAE"), "--smoke"])
    message = capsys.readouterr().err
    assert "does not exist" in message and "archive HEAD | tar -x -C" in message
    assert "github.com/Mingyue-Cheng/TimeMAE" in message
    assert not (tmp_path / "TimeMAE").exists()


def test_authors_repo_without_their_model_is_refused(tmp_path, capsys):
    (tmp_path / "process.py").write_text("")
    with pytest.raises(SystemExit):
        authors_speed.main(["--authors_repo", str(tmp_path), "--smoke"])
    assert "lacks model/TimeMAE.py" in capsys.readouterr().err


def test_epochs_that_reach_the_authors_probe_are_refused(capsys):
    with pytest.raises(SystemExit):
        authors_speed.main(["--epochs", "5"])
    assert "--epochs must be 1 to 4" in capsys.readouterr().err


def test_max_windows_splits_train_and_validation_in_their_proportion():
    assert authors_speed.split_sizes(None, 6103, 1336) == (6103, 1336)
    assert authors_speed.split_sizes(384, 6103, 1336) == (315, 69)
    assert authors_speed.split_sizes(2, 6103, 1336) == (1, 1)  # both splits keep a window
    with pytest.raises(ValueError, match="at least 2"):
        authors_speed.split_sizes(1, 6103, 1336)


@pytest.mark.slow
def test_smoke_without_authors_repo_measures_our_side_only(har_data_path, benchmark_outputs):
    record = authors_speed.main(["--smoke", "--data_dir", har_data_path, "--dropout", "fast", "--threads", "1"])
    assert record["authors"]["run"] is False and "ratio_ours_to_authors" not in record
    (run,) = record["runs"]["ours_fast_dropout"]
    assert run["windows"] == record["data"]["windows"] == 384 and run["epochs"] == 1
    assert run["windows_per_second"] > 0 and run["process_wall_s"] > run["train_wall_s"] > 0
    assert (benchmark_outputs.results / "authors_speed.smoke.json").exists()
