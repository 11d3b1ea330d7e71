"""The DuckLake tests (tests/pipeline/test_warehouse_engines.py, test_lake_build.py) in a pytest process of their
own: a dlt load into a lake leaves dlt's state in the process changed for later loads into a file (see
LAKE_TEST_FILES in tests/conftest.py), so no other test may share their process. Their output is shown when they
fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_LAKE_PROCESS, LAKE_TEST_FILES

pytestmark = pytest.mark.slow
TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(1800)
def test_the_lake_tests_pass_in_a_process_of_their_own(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "-q", f"--basetemp={tmp_path / 'lake'}",
         *(str(TESTS / name) for name in LAKE_TEST_FILES)],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, IN_LAKE_PROCESS: "1"},
        cwd=TESTS.parent, capture_output=True, text=True,
    )  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
