"""The code files of the released folders are the package's, byte for byte (transformers' utils/check_copies.py, for
whole files).

A released folder loads with `trust_remote_code=True` from its own copies of configuration_timemae.py,
modeling_timemae.py (and what they import) and, for the classifier, pipeline_timemae.py, which
benchmarks/release/release_checkpoints.py copied from the package when it wrote the folder. A later change to the
package leaves those copies behind (it happened: commit a27ea9d changed configuration_timemae.py and
modeling_timemae.py, with the defaults' outputs unchanged, and the copies were not updated), so the released folders
would serve other code than the package and its tests. This test catches that the moment it happens.
"""

import json
from pathlib import Path

import pytest
from transformers.dynamic_module_utils import get_relative_import_files

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPOSITORY_ROOT / "timemae_hf"
RELEASED_FOLDERS = sorted(path.parent for path in (REPOSITORY_ROOT / "released").glob("*/config.json"))


def code_files_loaded_by(folder: Path) -> set[str]:
    """The code files `trust_remote_code` loading needs: the modules the config's `auto_map` and `custom_pipelines`
    name, and every file they import relatively, as the package's files list them."""
    config = json.loads((folder / "config.json").read_text())
    references = list(config.get("auto_map", {}).values())
    references += [pipeline["impl"] for pipeline in config.get("custom_pipelines", {}).values()]
    needed = set()
    for module in {reference.split(".")[0] for reference in references}:
        package_file = PACKAGE / f"{module}.py"
        needed |= {package_file.name, *(Path(path).name for path in get_relative_import_files(str(package_file)))}
    return needed


def test_there_are_released_folders_to_check():
    assert [folder.name for folder in RELEASED_FOLDERS] == ["timemae-base", "timemae-har", "timemae-har-classifier"]


@pytest.mark.parametrize("folder", RELEASED_FOLDERS, ids=lambda folder: folder.name)
def test_released_code_files_are_the_packages(folder):
    present = {path.name for path in folder.glob("*.py")}
    missing = sorted(code_files_loaded_by(folder) - present)
    assert not missing, (
        f"{folder.name} lacks {missing}, which its config.json's code imports: copy them from timemae_hf/"
    )
    unknown = sorted(name for name in present if not (PACKAGE / name).is_file())
    assert not unknown, f"{folder.name} holds {unknown}, which the package no longer has"
    stale = sorted(name for name in present if (folder / name).read_bytes() != (PACKAGE / name).read_bytes())
    assert not stale, (
        f"released/{folder.name}/{{{', '.join(stale)}}} differ from timemae_hf/'s. Check that the released "
        "weights give the same outputs with the package's code (tests/test_released_checkpoints.py scores them), then "
        f"copy the files over (`cp timemae_hf/<file> released/{folder.name}/`); if they do not, re-release "
        "with benchmarks/release/release_checkpoints.py."
    )
