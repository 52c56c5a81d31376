"""The benchmarks are a package a reader can walk: every script runs as `python -m benchmarks.<group>.<script>` from
the repository root, explains itself with --help, and none edits sys.path to find its neighbours."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


def benchmark_modules() -> list[str]:
    """Dotted names of the benchmarks' modules (the results and run folders hold no code of the project)."""
    return [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in sorted(BENCHMARKS.glob("*/*.py"))
        if path.name != "__init__.py"
    ]


def scripts() -> list[str]:
    """The modules a reader runs: those with a `main` called under `if __name__ == "__main__":`."""
    return [name for name in benchmark_modules() if '__name__ == "__main__"' in (ROOT / module_path(name)).read_text()]


def module_path(name: str) -> Path:
    return Path(*name.split(".")).with_suffix(".py")


def test_the_benchmarks_are_grouped_in_packages_with_no_loose_scripts():
    assert [path.name for path in BENCHMARKS.glob("*.py")] == ["__init__.py"]
    groups = [path.parent.name for path in BENCHMARKS.glob("*/__init__.py")]
    assert {"common", "har", "league", "speed", "questions", "release"} <= set(groups)
    assert len(scripts()) >= 20


@pytest.mark.parametrize("name", benchmark_modules())
def test_no_benchmark_module_edits_sys_path(name):
    tree = ast.parse((ROOT / module_path(name)).read_text())
    edits = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in {"insert", "append", "extend"}
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "path"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "sys"
    ]
    # The authors' speed comparison runs the original TimeMAE code in a child process, from a folder the user gives.
    allowed = {"benchmarks.speed.authors_speed": 1}
    assert len(edits) == allowed.get(name, 0), f"{name} edits sys.path at lines {edits}"


@pytest.mark.parametrize("name", scripts())
def test_every_benchmark_script_explains_itself_with_help(name, capsys):
    module = importlib.import_module(name)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    # The docstring's usage lines name the module form a reader runs.
    assert f"python -m {name}" in capsys.readouterr().out


@pytest.mark.slow
def test_a_benchmark_script_runs_as_a_module_from_the_repository_root():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.league.league", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
