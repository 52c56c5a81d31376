"""The test-read ledger (benchmarks/common/ledger.py): appends survive concurrent writers, decisions are filled
later, and every read points at where its numbers are."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks.common.ledger as ledger_module
from benchmarks.common import results_io
from benchmarks.common.stats import mean_std

ROOT = Path(__file__).resolve().parents[1]
READ = {"study": "toy", "what": "toy test split, one configuration", "result": {"accuracy": {"mean": 90.0}}}


def test_each_read_gets_the_next_id_and_the_checkout_commit(tmp_path):
    ledger = tmp_path / "test_reads.json"
    first = ledger_module.record_test_read(**READ, decision="", ledger=ledger)
    second = ledger_module.record_test_read(**READ, decision="stop", date="2026-01-02", ledger=ledger)
    assert (first["id"], second["id"]) == (1, 2)
    assert second["date"] == "2026-01-02" and len(first["commit"]) == 40
    assert ledger_module.test_reads(ledger=ledger) == json.loads(ledger.read_text())["reads"]


def test_a_decision_taken_after_the_read_is_filled_in(tmp_path):
    ledger = tmp_path / "test_reads.json"
    entry = ledger_module.record_test_read(**READ, decision="", ledger=ledger)
    ledger_module.set_decision(entry["id"], "goal missed -> new study", ledger=ledger)
    assert ledger_module.test_reads("toy", ledger=ledger)[0]["decision"] == "goal missed -> new study"
    with pytest.raises(KeyError, match="No test read with id 7"):
        ledger_module.set_decision(7, "x", ledger=ledger)


def test_a_headline_history_lists_every_read_aimed_at_the_target(tmp_path):
    ledger = tmp_path / "test_reads.json"
    ledger_module.record_test_read(**READ, decision="goal missed", targets={"toy_goal": 90.0}, ledger=ledger)
    ledger_module.record_test_read(**READ, decision="", targets=["other"], ledger=ledger)
    ledger_module.record_test_read(**READ, decision="goal met", targets={"toy_goal": 91.5}, ledger=ledger)
    assert ledger_module.target_history("toy_goal", ledger=ledger) == [(1, 90.0), (3, 91.5)]
    assert ledger_module.target_history("other", ledger=ledger) == [(2, None)]


def test_a_read_without_numbers_is_refused(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict `result`"):
        ledger_module.record_test_read(study="toy", what="x", result={}, decision="", ledger=tmp_path / "l.json")


def test_two_processes_appending_at_once_lose_no_read(tmp_path):
    ledger = tmp_path / "test_reads.json"
    code = (
        "import sys; from pathlib import Path; import benchmarks.common.ledger as t\n"
        "for i in range(10): t.record_test_read(study=sys.argv[1], what='w', result={'n': i}, decision='', "
        "ledger=Path(sys.argv[2]))"
    )
    writers = [subprocess.Popen([sys.executable, "-c", code, name, str(ledger)], cwd=ROOT) for name in "ab"]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    reads = ledger_module.test_reads(ledger=ledger)
    assert sorted(read["id"] for read in reads) == list(range(1, 21))
    assert [read["result"]["n"] for read in reads if read["study"] == "a"] == list(range(10))


def test_the_committed_ledger_reads_and_its_ids_are_unique():
    reads = ledger_module.test_reads()
    assert reads, "benchmarks/results/test_reads.json should hold the back-filled HAR reads"
    assert len({read["id"] for read in reads}) == len(reads)
    for read in reads:
        assert read["what"] and read["result"] and "decision" in read, read
        for target, value in read.get("headline_values", {}).items():
            assert target in read["targets"] and _recorded(value, _numbers(read["result"])), (read["id"], target)


def _numbers(tree) -> list:
    """Every number (and list of numbers) in a JSON tree."""
    if isinstance(tree, dict):
        return [number for value in tree.values() for number in _numbers(value)]
    if isinstance(tree, list) and tree and all(isinstance(value, (int, float)) for value in tree):
        return [tree, *tree]
    if isinstance(tree, list):
        return [number for value in tree for number in _numbers(value)]
    return [tree] if isinstance(tree, (int, float)) and not isinstance(tree, bool) else []


def _recorded(value, numbers) -> bool:
    """A ledger number is in the results file as it is, or as a fraction the ledger shows in percent."""
    if isinstance(value, list):
        return all(_recorded(each, numbers) for each in value)
    scalars = [number for number in numbers if not isinstance(number, list)]
    return any(abs(value - number) < 1e-6 or abs(value - 100 * number) < 5e-3 for number in scalars)


def test_every_backfilled_number_is_in_the_results_file_of_its_commit():
    checked = 0
    for read in ledger_module.test_reads():
        if not read.get("backfilled") or read["commit"] is None:
            continue
        shown = subprocess.run(
            ["git", "show", f"{read['commit']}:{read['results_file']}"], cwd=ROOT, capture_output=True, text=True
        )
        if shown.returncode != 0:
            pytest.skip(f"git history without {read['commit']} (a shallow clone?): {shown.stderr.strip()}")
        numbers = [
            number
            for path in [read["results_file"], *read.get("also_in", [])]
            for number in _numbers(
                json.loads(
                    subprocess.run(
                        ["git", "show", f"{read['commit']}:{path}"], cwd=ROOT, capture_output=True, text=True
                    ).stdout
                )
            )
        ]
        for value in _numbers(read["result"]):
            assert _recorded(value, numbers), (
                f"read {read['id']}: {value} is not in {read['results_file']} at {read['commit']}"
            )
        checked += 1
    assert checked >= 20


def _in_commit(commit: str, path: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{commit}:{path}"], cwd=ROOT, capture_output=True).returncode == 0


def test_every_read_names_where_its_numbers_are_now_and_where_they_were_recorded():
    """A read's `results_file` is the path its numbers were recorded under: at HEAD, or (moved since into its study's
    one file) in `results_file_commit`, its entry's `results_now` naming the run or rows that hold them today."""
    if not _in_commit("HEAD", "benchmarks/results/test_reads.json"):
        pytest.skip("no git history here (an installed copy?)")
    checked = 0
    for read in ledger_module.test_reads():
        if not read["results_file"].startswith("benchmarks/results/"):
            continue  # the authors' code's read, recorded in ../shared/data/README.md
        now = read.get("results_now", {"file": read["results_file"]})
        assert (ROOT / now["file"]).exists(), (read["id"], now)
        if not (ROOT / read["results_file"]).exists():
            commit = read.get("results_file_commit") or read["commit"]
            assert _in_commit(commit, read["results_file"]), (read["id"], commit, read["results_file"])
        if "run" in now:
            assert now["run"] in json.loads((ROOT / now["file"]).read_text()), (read["id"], now)
        if "rows" in now:
            assert results_io.read_rows(ROOT / now["file"], **now["rows"]), (read["id"], now)
        checked += 1
    assert checked == len(ledger_module.test_reads()) - 1


def test_every_league_read_is_the_mean_of_its_rows_in_the_league_file():
    """The league's reads were recorded from its rows: the rows of benchmarks/results/league.jsonl give them again."""
    checked = 0
    for read in ledger_module.test_reads():
        rows = read.get("results_now", {}).get("rows")
        if not rows or "league" not in rows:
            continue
        method, seeds = read["what"].split(", ")[-2], read["what"].split("seeds ")[-1].split()
        found = results_io.read_rows(ROOT / read["results_now"]["file"], **rows, method=method)
        found = sorted(found, key=lambda row: seeds.index(str(row["seed"])))
        assert [str(row["seed"]) for row in found] == seeds, read["id"]
        assert mean_std([row["accuracy"] for row in found]) == read["result"]["accuracy"], read["id"]
        checked += 1
    assert checked >= 100
