"""Run the project's dbt against a copy of a built warehouse, in a test's own target and log folders."""

from __future__ import annotations

import subprocess
from pathlib import Path

from analytics.dbt_cli import run_dbt as _run_dbt


def run_dbt(
    build: Path, work: Path, *args: str, check: bool = True, **options
) -> subprocess.CompletedProcess:
    """`dbt <args>` on the DuckDB file `build`, writing target/ and logs/ under `work`; with `check`, a failing
    command fails the test with dbt's output. `options`: analytics.dbt_cli.run_dbt's (`project`)."""
    done = _run_dbt(build, work, *args, **options)
    if check:
        assert done.returncode == 0, done.stdout[-3000:]
    return done
