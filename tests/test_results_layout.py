"""benchmarks/common/results_io.py's layout: one results file per study with its runs by name, rows appended to one
JSONL file per study, and a run named on the command line as <study>.json or <study>.json:<run>."""

import json
import multiprocessing

import pytest

from benchmarks.common import results_io


def test_a_rerun_replaces_its_run_and_keeps_the_others(tmp_path):
    results_io.write_run("toy", "toy", {"accuracy": 90.0}, results_dir=tmp_path)
    results_io.write_run("toy", "toy_10", {"accuracy": 80.0}, results_dir=tmp_path)
    results_io.write_run("toy", "toy", {"accuracy": 91.0}, results_dir=tmp_path)
    assert json.loads((tmp_path / "toy.json").read_text()) == {"toy": {"accuracy": 91.0}, "toy_10": {"accuracy": 80.0}}
    assert results_io.read_result("toy", "toy_10", results_dir=tmp_path) == {"accuracy": 80.0}
    assert results_io.read_result("toy", results_dir=tmp_path) == {"accuracy": 91.0}  # the run named after the study
    assert results_io.read_result("other", results_dir=tmp_path) is None


def test_a_run_is_named_by_its_study_file_and_a_single_record_file_is_read_as_it_is(tmp_path):
    results_io.write_run("toy", "toy", {"provenance": {}, "n": 1}, results_dir=tmp_path)
    results_io.write_run("toy", "toy_200", {"provenance": {}, "n": 2}, results_dir=tmp_path)
    assert results_io.load_results(tmp_path / "toy.json")["n"] == 1
    assert results_io.load_results(f"{tmp_path / 'toy.json'}:toy_200")["n"] == 2
    with pytest.raises(KeyError, match="no run 'toy_5'"):
        results_io.load_results(f"{tmp_path / 'toy.json'}:toy_5")
    (tmp_path / "one.json").write_text(json.dumps({"benchmark": "one", "provenance": {}, "n": 3}))
    assert results_io.load_results(tmp_path / "one.json")["n"] == 3


def append(path, worker):
    for index in range(20):
        results_io.append_row(path, {"worker": worker, "index": index, "padding": "x" * 5000})


def test_rows_appended_by_parallel_writers_are_all_read_back_whole(tmp_path):
    path = results_io.rows_file("toy", results_dir=tmp_path)
    writers = [multiprocessing.Process(target=append, args=(path, worker)) for worker in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    assert len(results_io.read_rows(path)) == 40
    assert [row["index"] for row in results_io.read_rows(path, worker=1)] == list(range(20))
    assert results_io.read_rows(tmp_path / "absent.jsonl") == []


def test_a_figure_starts_with_its_study_name():
    assert results_io.figure_file("har_study", "har_study_10", "_curve").name == "har_study_10_curve.png"
    assert results_io.figure_file("har_reproduction", "ablation_baseline", "_curve").name == (
        "har_reproduction_ablation_baseline_curve.png"
    )
