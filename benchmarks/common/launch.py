"""Run the training scripts from benchmarks: one subprocess per run, resumable, logged, skipped when already done."""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from transformers.trainer_utils import get_last_checkpoint

from benchmarks.common.results_io import note_run

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
RUNS_DIR = REPOSITORY_ROOT / "benchmarks" / "runs"  # checkpoints and logs (git-ignored); results/ holds the JSON
# The refit stage trains on train + validation: no validation split is left, so the shipped configs' evaluation and
# selection are turned off (TimeMAETrainingArguments refuses --refit without these).
REFIT_OVERRIDES = [
    "--refit",
    "true",
    "--do_eval",
    "false",
    "--eval_strategy",
    "no",
    "--load_best_model_at_end",
    "false",
    "--metric_for_best_model",
    "",
]

# The tiny encoder of every --smoke run: a study's whole pipeline in minutes, on the real code paths.
SMOKE_MODEL = [
    "--hidden_size",
    "16",
    "--num_hidden_layers",
    "1",
    "--num_attention_heads",
    "2",
    "--intermediate_size",
    "32",
]


def run_training(script: str, arguments: list[str], output_dir: Path, done_file: str) -> dict:
    """
    Run `training/<script>` with `arguments` into `output_dir` unless `output_dir/done_file` exists, resuming from the
    last Trainer checkpoint of an interrupted run. Returns the parsed `done_file`. The log goes to `output_dir/log.txt`.
    A lock on the folder lets benchmark processes share work: one that reaches a sub-run another process is running
    waits for it and reuses its result instead of training into the same folder.
    """
    output_dir = Path(output_dir)
    done_path = output_dir / done_file
    output_dir.mkdir(parents=True, exist_ok=True)
    with open(output_dir / ".benchmark.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when this block ends or the process dies
        if not done_path.exists():
            # Repository-relative paths (the run starts in the repository root), so cards and logs name no machine.
            command = [
                sys.executable,
                f"training/{script}",
                *arguments,
                "--output_dir",
                repository_relative(output_dir),
            ]
            last_checkpoint = get_last_checkpoint(str(output_dir))
            if last_checkpoint:
                command += ["--resume_from_checkpoint", repository_relative(last_checkpoint)]
            print(f"[benchmarks] {' '.join(command)}", flush=True)
            env = repository_env()
            with open(output_dir / "log.txt", "a") as log:
                completed = subprocess.run(command, cwd=REPOSITORY_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            if completed.returncode != 0:
                raise RuntimeError(f"{script} failed (exit {completed.returncode}); see {output_dir / 'log.txt'}")
    note_run(output_dir)  # the results file written at the end copies this run's own provenance
    return json.loads(done_path.read_text())


def repository_env(**variables: str) -> dict:
    """This process's environment with the repository on PYTHONPATH (so subprocesses import this checkout's
    `timemae_hf` and `benchmarks`), plus `variables`."""
    python_path = os.pathsep.join(filter(None, [str(REPOSITORY_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": python_path, **variables}


def run_all(jobs: list[tuple], parallel: int) -> list[dict]:
    """`run_training(*job)` for every job, `parallel` at a time; results in job order."""
    results = run_in_order([(index, job, None) for index, job in enumerate(jobs)], parallel)
    return [results[index] for index in range(len(jobs))]


def run_in_order(jobs: list[tuple], parallel: int, on_result=None) -> dict:
    """
    `run_training(*job)` for every `(key, job, requires)` of `jobs`, `parallel` at a time. A job starts once the job
    keyed `requires` has finished (None: at once), and a free worker takes the first ready job in list order, so no
    worker idles while any job could run: a study's next variant pre-trains while the last seed of the one before it
    still does. `on_result(key, result)` runs in this thread as each job finishes. Returns {key: result}.
    """
    waiting, running, results = list(jobs), {}, {}
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        while waiting or running:
            for item in [item for item in waiting if item[2] is None or item[2] in results][: parallel - len(running)]:
                waiting.remove(item)
                running[pool.submit(run_training, *item[1])] = item[0]
            if not running:
                raise ValueError(f"these jobs require keys that no job has: {[item[0] for item in waiting]}")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                key = running.pop(future)
                results[key] = future.result()
                if on_result is not None:
                    on_result(key, results[key])
    return results


def repository_relative(path) -> str:
    """`path` relative to the repository root when it lies inside it (results files must not name this machine)."""
    path = Path(path).resolve()
    return str(path.relative_to(REPOSITORY_ROOT)) if path.is_relative_to(REPOSITORY_ROOT) else str(path)


def fresh_smoke_runs_dir(runs_dir) -> Path:
    """`runs_dir` + "_smoke", emptied: a --smoke run always trains from scratch instead of reusing an earlier one."""
    runs_dir = Path(f"{runs_dir}_smoke")
    shutil.rmtree(runs_dir, ignore_errors=True)
    return runs_dir


def probe_curve(output_dir: Path, metric: str = "eval_probe_accuracy") -> list[tuple[float, float]]:
    """(epoch, validation `metric`) pairs from a run's trainer_state.json (default: the pre-training probe)."""
    state = json.loads((Path(output_dir) / "trainer_state.json").read_text())
    return [(entry["epoch"], entry[metric]) for entry in state["log_history"] if metric in entry]
