"""Run the project's dbt against a copy of a built warehouse, in a test's own target and log folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_dbt(build: Path, work: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`dbt <args>` on the DuckDB file `build`, writing target/ and logs/ under `work`; with `check`, a failing
    command fails the test with dbt's output."""
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--project-dir",
            str(REPO / "dbt_project"),
            "--profiles-dir",
            str(REPO / "dbt_project"),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],  # fmt: skip
        env={**os.environ, "SHOPKEEP_BUILD_PATH": str(build)},
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if check:
        assert done.returncode == 0, done.stdout[-3000:]
    return done
