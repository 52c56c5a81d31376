"""The house rules of the layout: the library (`timemae_hf/`) holds what a user imports, the scripts' helpers live
beside the scripts (`training/`), and no module name means two things."""

import ast
from collections import defaultdict
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
TREES = ("timemae_hf", "training", "benchmarks")
# Copies of the package's code files that checkpoints carry (for trust_remote_code), not modules of the project:
# the released checkpoints' folders, and benchmarks/runs/ (git-ignored run outputs, full while a study runs).
CHECKPOINT_FOLDERS = ("released", "runs")


def modules(tree: str) -> list[Path]:
    """The tree's Python modules, without package `__init__`s and the checkpoints' copies of the package."""
    return [
        path
        for path in sorted((REPOSITORY_ROOT / tree).rglob("*.py"))
        if path.name != "__init__.py" and set(CHECKPOINT_FOLDERS).isdisjoint(path.relative_to(REPOSITORY_ROOT).parts)
    ]


def test_no_two_modules_share_a_name_across_the_library_the_scripts_and_the_benchmarks():
    paths_by_name = defaultdict(list)
    for tree in TREES:
        for path in modules(tree):
            paths_by_name[path.stem].append(str(path.relative_to(REPOSITORY_ROOT)))
    # Each benchmark group declares its studies in its own `studies.py`: one name, one meaning, like `__init__`.
    paths_by_name.pop("studies", None)
    assert {name: paths for name, paths in paths_by_name.items() if len(paths) > 1} == {}


def test_the_library_imports_nothing_from_the_scripts_folder():
    """The scripts' helpers are top-level modules only when a script runs; the installed package must not need them."""
    script_helpers = {path.stem for path in modules("training")}
    offenders = {}
    for path in modules("timemae_hf"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            found = [name for name in names if name.split(".")[0] in script_helpers]
            if found:
                offenders[str(path.relative_to(REPOSITORY_ROOT))] = found
    assert offenders == {}
