"""Under CI (`CI=true`) a missing real HAR archive fails the real-data tests instead of skipping them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A real-data test whose only fixture is the archive path: with the archive missing it stops in the fixture.
REAL_DATA_TEST = "tests/test_authors_speed.py::test_smoke_without_authors_repo_measures_our_side_only"


def run_real_data_test(tmp_path, ci: str) -> subprocess.CompletedProcess:
    missing = tmp_path / "nowhere" / "UCI HAR Dataset.zip"
    env = {**os.environ, "CI": ci, "TIMEMAE_HAR_PATH": str(missing)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", REAL_DATA_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_real_data_fails_under_ci_naming_the_path_and_the_variable(tmp_path):
    completed = run_real_data_test(tmp_path, "true")
    assert completed.returncode == 1, completed.stdout[-2000:]
    assert "1 error" in completed.stdout and "TIMEMAE_HAR_PATH" in completed.stdout
    assert str(tmp_path / "nowhere") in completed.stdout


def test_missing_real_data_skips_outside_ci(tmp_path):
    completed = run_real_data_test(tmp_path, "")
    assert completed.returncode == 0, completed.stdout[-2000:]
    assert "1 skipped" in completed.stdout
