"""Run this project's dbt on a given DuckDB file, outside Dagster: for the tests and the benchmarks, which build
or rebuild some models on a warehouse of their own (scheduled builds go through orchestration/transform.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_dbt(build: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    """`dbt <args>` on the DuckDB file `build`, writing target/ and logs/ under `work`; the caller checks the
    return code (dbt's report is in stdout)."""
    return subprocess.run(
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
