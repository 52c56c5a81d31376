"""The READMEs say what the results files say: their generated sections are what benchmarks/common/report.py writes
from the files today, every number quoted around those sections is in a results file, every results path they name
exists, and every results file belongs to a study that declares it."""

import difflib
import importlib
import json
import re
from bisect import bisect_left
from pathlib import Path

import pytest

from benchmarks.common import report
from benchmarks.common.results_io import RESULTS_DIR, read_rows, read_study
from benchmarks.common.study import load_runs, studies

ROOT = Path(__file__).resolve().parents[1]
READMES = {ROOT / "README.md": "", ROOT / "benchmarks" / "README.md": "benchmarks/"}
MARKERS = (report.README_MARKERS, report.FIRST_SCREEN_MARKERS)
# Numbers in the READMEs' prose that are not measurements.
NOT_RESULTS = {"2303.00320"}  # the paper's arXiv id


def differences(expected: str, committed: str) -> str:
    lines = difflib.unified_diff(committed.splitlines(), expected.splitlines(), "committed", "regenerated", n=0)
    return "\n".join(list(lines)[:40])


def test_the_readmes_generated_sections_are_what_the_results_files_give():
    runs, held = load_runs()
    expected = {report.BENCHMARKS_README: {report.README_MARKERS: report.benchmarks_report(runs, held)}}
    expected[report.README] = report.readme_blocks(runs, held)
    for path, blocks in expected.items():
        committed = text = path.read_text()
        for markers, block in blocks.items():
            text = report.with_section(text, block, markers, str(path))
        assert text == committed, (
            f"{path.relative_to(ROOT)} does not say what the results files say; run "
            f"`python -m benchmarks.common.report --update_readme`:\n{differences(text, committed)}"
        )


def prose(text: str) -> str:
    """The text outside the generated sections."""
    for begin, end in MARKERS:
        if begin in text:
            head, rest = text.split(begin, 1)
            text = head + rest.split(end, 1)[1]
    return text


def numbers_in(tree, found: list[float]) -> list[float]:
    """Every number of a JSON tree, and of the strings in it (e.g. '91.31 +- 0.10'), as it is and as a percentage."""
    if isinstance(tree, dict):
        for value in tree.values():
            numbers_in(value, found)
    elif isinstance(tree, list):
        for value in tree:
            numbers_in(value, found)
    elif isinstance(tree, str):
        found += [float(number) for number in re.findall(r"\d+\.\d+(?:e-?\d+)?", tree)]
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        found += [tree, 100 * tree]
    return found


@pytest.fixture(scope="module")
def recorded_numbers() -> list[float]:
    found = []
    for path in RESULTS_DIR.glob("*.json"):
        numbers_in(json.loads(path.read_text()), found)
    for path in RESULTS_DIR.glob("*.jsonl"):
        numbers_in(read_rows(path), found)
    return sorted(found)


def test_every_number_the_readmes_quote_around_the_tables_is_in_a_results_file(recorded_numbers):
    """A decimal in the prose (87.08, 0.22 ms, 1.59x) is a recorded number as rounded to its digits."""
    missing = []
    for path in READMES:
        for match in re.finditer(r"(?<![\w.])\d+\.\d+(?![\d])", prose(path.read_text())):
            value, half = float(match.group(0)), 0.5 * 10 ** -len(match.group(0).split(".")[1])
            index = bisect_left(recorded_numbers, value - half - 1e-9)
            recorded = index < len(recorded_numbers) and recorded_numbers[index] <= value + half + 1e-9
            if not recorded and match.group(0) not in NOT_RESULTS:
                context = match.string[match.start() - 60 : match.end() + 10]
                missing.append(f"{path.relative_to(ROOT)}: {match.group(0)} in '...{context}...'")
    assert not missing, "numbers no results file records:\n" + "\n".join(missing)


def test_every_results_path_the_readmes_name_exists():
    """`benchmarks/results/<file>` (or `results/<file>` in benchmarks/README.md) exists, and `<study>.json:<run>`
    names a run of that file; a path read from git history (`git show <commit>:<path>`) is not in the tree."""
    missing = []
    for path, prefix in READMES.items():
        folders = "|".join(["benchmarks/results/", *(["results/"] if prefix else [])])
        pattern = rf"(?<![\w/:])({folders})([\w.]+\.(?:jsonl?|png))(?::(\w+))?"
        for match in re.finditer(pattern, path.read_text()):
            where = "benchmarks/results/" if match.group(1) == "results/" else match.group(1)
            file = ROOT / where / match.group(2)
            if not file.exists():
                missing.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
            elif match.group(3) and match.group(3) not in read_study(file):
                missing.append(f"{path.relative_to(ROOT)}: {match.group(0)} (no such run)")
    assert not missing, "results paths that do not exist:\n" + "\n".join(missing)


def test_every_study_is_declared_by_its_script_and_every_results_file_by_a_study():
    declared = {study.name: study for study in studies()}
    for study in declared.values():
        assert importlib.import_module(study.script).STUDY == study.name, study
    for path in RESULTS_DIR.iterdir():
        if path.name == "test_reads.json" or path.suffix not in (".json", ".jsonl", ".png"):
            continue
        assert any(path.name.startswith(name) for name in declared), f"{path.name} belongs to no declared study"
        if path.suffix in (".json", ".jsonl"):
            study = declared.get(path.name.removesuffix(path.suffix))
            assert study is not None and (path.suffix == ".json" or study.rows), path.name
