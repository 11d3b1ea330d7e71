"""Run this project's dbt on a given DuckDB file, outside Dagster: for the tests and the benchmarks, which build
or rebuild some models on a warehouse of their own (scheduled builds go through orchestration/transform.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.transform import PARTIAL_PARSE_FILE, dbt_clock_env, partial_parse_state

REPO = Path(__file__).resolve().parents[1]


def run_dbt(
    build: Path, work: Path, *args: str, project: Path = REPO / "dbt_project"
) -> subprocess.CompletedProcess:
    """`dbt <args>` on the DuckDB file `build` on this process's clock (environment variable SHOPKEEP_CLOCK, read by
    the `clock()` macro, as the orchestrator does for every build: the marts' "now" is the clock that stamped the
    loads; a `--vars '{clock: ...}'` in `args` wins), writing target/ and logs/ under `work`; the caller checks the
    return code (dbt's report is in stdout). dbt starts from the project's partial-parse state
    (orchestration.transform.partial_parse_state), so it parses only what changed since, not the whole project.
    `project`: another copy of the dbt project (a test's edited model)."""
    target = work / "target"
    if not (target / PARTIAL_PARSE_FILE).exists():
        partial_parse_state(target, str(build))
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(target),
            "--log-path",
            str(work / "logs"),
        ],  # fmt: skip
        # the file's profile target, whatever an earlier lake build in this process left in the environment
        env={
            **os.environ,
            **dbt_clock_env(),
            "SHOPKEEP_BUILD_PATH": str(build),
            "SHOPKEEP_DBT_TARGET": "dev",
        },
        capture_output=True,
        text=True,
        cwd=REPO,
    )
