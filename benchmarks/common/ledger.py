"""The ledger of test-split reads: every time a test split produced a number, one entry in
benchmarks/results/test_reads.json says when, what was read, the number, and what was decided next.

A test split read once per pre-declared configuration is an estimate; read again after each missed goal, it
becomes part of the selection. The ledger makes the count visible, so a headline can cite how many reads led
to it (benchmarks/README.md, "How the headlines were selected": new headlines take one test read of a
configuration declared before the read).

    from benchmarks.common.ledger import record_test_read, set_decision
    entry = record_test_read(study="har_refit", what="HAR test (2947 windows), linear probe on refit encoders",
                             result={"accuracy": {"mean": 92.2, "std": 0.3, "values": [...]}},
                             decision="", results_file="benchmarks/results/har_refit.json")
    set_decision(entry["id"], "goal met: headline")
"""

import hashlib
import json
import tempfile
import time
from pathlib import Path

from filelock import FileLock

from benchmarks.common.results_io import RESULTS_DIR, git_state, write_json

LEDGER_NAME = "test_reads.json"  # in RESULTS_DIR, looked up when used (tests redirect RESULTS_DIR to a temporary one)
DESCRIPTION = (
    "One entry per read of a test split that produced a number: when, what (which split, which configuration), the "
    "number, what was decided next, and the headline targets it was an attempt at. `commit`: for reads recorded as "
    "they happened, the checkout's commit when the number was measured; for reads back-filled from git history "
    "(`backfilled: true`), the commit that first recorded the number (`git show <commit>:<results_file>`). "
    "Within a study, choices were made on validation; which studies ran after a missed goal followed these reads."
    " `results_now`: where the numbers are today, since the results were regrouped into one file per study (a run of "
    "a study's .json, or rows of its .jsonl); `results_file` keeps the path they were recorded under, which "
    "`results_file_commit` still holds."
)


def _lock(ledger: Path) -> FileLock:
    """A lock shared by every process appending to `ledger`, kept outside the repository so it is never committed."""
    digest = hashlib.sha256(str(ledger.resolve()).encode()).hexdigest()[:16]
    return FileLock(Path(tempfile.gettempdir()) / f"timemae_test_reads_{digest}.lock")


def ledger_path(ledger: Path | None = None) -> Path:
    """`ledger`, or benchmarks/results/test_reads.json (wherever RESULTS_DIR points now)."""
    return Path(ledger) if ledger is not None else RESULTS_DIR / LEDGER_NAME


def _load(ledger: Path) -> dict:
    if not ledger.exists():
        return {"description": DESCRIPTION, "reads": []}
    record = json.loads(ledger.read_text())
    if not isinstance(record.get("reads"), list):
        raise ValueError(f"{ledger} has no 'reads' list; restore it from git (`git checkout -- {ledger.name}`).")
    return record


def record_test_read(
    *,
    study: str,
    what: str,
    result: dict,
    decision: str,
    results_file: str | None = None,
    provenance: dict | None = None,
    date: str | None = None,
    targets: list[str] | dict[str, float] | None = None,
    ledger: Path | None = None,
) -> dict:
    """Append one test read to the ledger and return its entry.

    `what` names the split and the configuration read; `result` holds the numbers (e.g. {"accuracy": {"mean": ..,
    "std": .., "values": [..]}}); `decision` is what was decided next ("" when not yet taken: fill it later with
    `set_decision`). The commit is the provenance's `git_sha` when given, else this checkout's. `targets` names the
    headline quantities this read is an attempt at (e.g. "har_finetune_refit_100pct"), so a headline can say which
    read of its target it is; as a dict it also gives the number the read gave for each target (its mean).
    """
    ledger = ledger_path(ledger)
    for name, value in [("study", study), ("what", what)]:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"record_test_read needs a non-empty `{name}`; got {value!r}.")
    if not isinstance(result, dict) or not result:
        raise ValueError(f"record_test_read needs the numbers read as a non-empty dict `result`; got {result!r}.")
    if not isinstance(decision, str):
        raise ValueError(f'`decision` must be a string ("" when not yet taken); got {decision!r}.')
    with _lock(ledger):
        record = _load(ledger)
        entry = {
            "id": max((read["id"] for read in record["reads"]), default=0) + 1,
            "date": date or time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "study": study,
            "what": what,
            "result": result,
            "decision": decision,
            "results_file": results_file,
            "commit": (provenance or {}).get("git_sha") or git_state()["git_sha"],
            "targets": list(targets or []),
        }
        if isinstance(targets, dict):
            entry["headline_values"] = dict(targets)
        if provenance is not None:
            entry["provenance"] = provenance
        record["reads"].append(entry)
        write_json(ledger, record)
    return entry


def set_decision(read_id: int, decision: str, ledger: Path | None = None) -> dict:
    """Fill in what was decided after read `read_id` (often decided only after the number was seen)."""
    ledger = ledger_path(ledger)
    with _lock(ledger):
        record = _load(ledger)
        matches = [read for read in record["reads"] if read["id"] == read_id]
        if not matches:
            known = [read["id"] for read in record["reads"]]
            raise KeyError(f"No test read with id {read_id} in {ledger}; its ids are {known}.")
        matches[0]["decision"] = decision
        write_json(ledger, record)
    return matches[0]


def test_reads(study: str | None = None, target: str | None = None, ledger: Path | None = None) -> list[dict]:
    """The ledger's entries in the order they were recorded: all of them, one study's, or those aimed at one target."""
    ledger = ledger_path(ledger)
    reads = _load(ledger)["reads"]
    return [
        read
        for read in reads
        if (study is None or read["study"] == study) and (target is None or target in read.get("targets", []))
    ]


def target_history(target: str, ledger: Path | None = None) -> list[tuple[int, float | None]]:
    """(read id, the number it gave for `target`) for every read aimed at `target`, in order: how many times the test
    split was read on the way to a headline."""
    ledger = ledger_path(ledger)
    return [
        (read["id"], read.get("headline_values", {}).get(target)) for read in test_reads(target=target, ledger=ledger)
    ]


test_reads.__test__ = False  # a reader, not a pytest test, despite its name
