"""Benchmarks resume: sub-runs are skipped once done, two processes never train into one folder, and the BERT
question's finished rows are reused in a later run."""

import json
import shutil
import subprocess
import threading
import time
import uuid

import pytest

from benchmarks.common import launch, stats
from benchmarks.questions import bert_question


def fake_training(calls: list):
    """Stands in for the training subprocess: slow enough to overlap, then writes the done file."""

    def run(command, **kwargs):
        calls.append(command)
        time.sleep(0.5)
        output_dir = command[command.index("--output_dir") + 1]
        (launch.Path(output_dir) / "test_results.json").write_text(json.dumps({"test_accuracy": 0.9}))
        return subprocess.CompletedProcess(command, 0)

    return run


def test_a_second_caller_waits_for_the_running_sub_run_and_reuses_its_result(tmp_path, monkeypatch):
    calls, results = [], []
    monkeypatch.setattr(launch.subprocess, "run", fake_training(calls))
    callers = [
        threading.Thread(
            target=lambda: results.append(
                launch.run_training("finetune.py", ["--seed", "1"], tmp_path / "run", "test_results.json")
            )
        )
        for _ in range(2)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(calls) == 1, "both callers trained into the same folder"
    assert results == [{"test_accuracy": 0.9}] * 2


def test_a_finished_sub_run_is_not_run_again(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(launch.subprocess, "run", fake_training(calls))
    for _ in range(2):
        launch.run_training("finetune.py", [], tmp_path / "run", "test_results.json")
    assert len(calls) == 1


def test_bert_question_reuses_a_measured_row_and_refuses_one_from_another_budget(tmp_path, monkeypatch):
    budget = {"pretrain_epochs": 10, "finetune_epochs_100": 10}
    trained = []
    monkeypatch.setattr(bert_question, "run_variant", lambda *args: trained.append(args) or {"finetune_100": 0.9})

    def measure(budget):
        return bert_question.measured_row(
            "random",
            1,
            None,
            [],
            tmp_path / "runs",
            tmp_path / "bert_question.jsonl",
            "all-MiniLM-L6-v2",
            budget,
            "python -m benchmarks.questions.bert_question",
        )

    assert measure(budget) == {"finetune_100": 0.9} and len(trained) == 1
    [saved] = [json.loads(line) for line in (tmp_path / "bert_question.jsonl").read_text().splitlines()]
    assert (saved["bert_model"], saved["variant"], saved["seed"]) == ("all-MiniLM-L6-v2", "random", 1)
    assert (
        saved["budget"] == budget and saved["provenance"]["command"] == "python -m benchmarks.questions.bert_question"
    )
    assert measure(budget) == {"finetune_100": 0.9} and len(trained) == 1, "a saved row must not be trained again"
    with pytest.raises(ValueError, match="random seed 1 measured with budget"):
        measure({**budget, "pretrain_epochs": 100})


def test_results_name_run_folders_relative_to_the_repository(tmp_path):
    assert launch.repository_relative(launch.RUNS_DIR / "har_reproduction") == "benchmarks/runs/har_reproduction"
    assert launch.repository_relative(tmp_path) == str(tmp_path.resolve())  # outside the repository: left as it is


def test_refit_budget_is_the_epoch_best_on_average_over_seeds_and_the_earlier_one_on_ties():
    curves = [[(5.0, 0.80), (10.0, 0.90), (15.0, 0.86)], [(5.0, 0.82), (10.0, 0.80), (15.0, 0.86)]]
    assert stats.best_mean_epoch(curves) == 15  # means 0.81, 0.85, 0.86: not seed 1's best epoch 10
    tied = [[(5.0, 0.80), (10.0, 0.90)], [(5.0, 0.90), (10.0, 0.80)]]
    assert stats.best_mean_epoch(tied) == 5  # equal means: the cheaper budget


def test_run_in_order_starts_a_job_after_its_requirement_and_never_leaves_a_worker_waiting(monkeypatch):
    """The third pre-training runs long: its seed's fine-tuning waits for it, the next variant's job fills the other
    worker instead of idling, and each result reaches on_result as it lands."""
    seconds = {"pre1": 0.05, "pre2": 0.05, "pre3": 1.5, "ft1": 0.05, "ft2": 0.05, "ft3": 0.05, "next": 0.05}
    events, lock = [], threading.Lock()

    def fake_run_training(name):
        with lock:
            events.append(("start", name))
        time.sleep(seconds[name])
        with lock:
            events.append(("end", name))
        return {"job": name}

    monkeypatch.setattr(launch, "run_training", fake_run_training)
    jobs = [(f"pre{s}", (f"pre{s}",), None) for s in (1, 2, 3)]
    jobs += [(f"ft{s}", (f"ft{s}",), f"pre{s}") for s in (1, 2, 3)] + [("next", ("next",), None)]
    reported = []
    results = launch.run_in_order(jobs, parallel=2, on_result=lambda key, result: reported.append(key))

    assert results == {name: {"job": name} for name in seconds}
    assert sorted(reported) == sorted(seconds)
    for s in (1, 2, 3):
        assert events.index(("start", f"ft{s}")) > events.index(("end", f"pre{s}"))
    assert events.index(("end", "next")) < events.index(("end", "pre3")), "a worker idled while 'next' was ready"
    running = 0
    for kind, _ in events:
        running += 1 if kind == "start" else -1
        assert running <= 2


def test_run_in_order_refuses_jobs_whose_requirement_no_job_provides(monkeypatch):
    monkeypatch.setattr(launch, "run_training", lambda name: {})
    with pytest.raises(ValueError, match="require keys that no job has"):
        launch.run_in_order([("ft", ("ft",), "pre")], parallel=2)


def test_an_interrupted_run_resumes_from_its_checkpoint_named_relative_to_the_repository(monkeypatch):
    """The resume command is copied into run_provenance.json and from there into committed results, which must not
    name this machine's folders."""
    calls = []
    monkeypatch.setattr(launch.subprocess, "run", fake_training(calls))
    output_dir = launch.RUNS_DIR / f"test_resume_{uuid.uuid4().hex}"
    try:
        (output_dir / "checkpoint-12").mkdir(parents=True)
        (output_dir / "checkpoint-12" / "trainer_state.json").write_text("{}")
        launch.run_training("finetune.py", [], output_dir, "test_results.json")
    finally:
        shutil.rmtree(output_dir)
    resume = calls[0][calls[0].index("--resume_from_checkpoint") + 1]
    assert resume == f"benchmarks/runs/{output_dir.name}/checkpoint-12"
