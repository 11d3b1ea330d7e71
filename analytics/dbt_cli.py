"""Run this project's dbt on a given DuckDB file, outside Dagster: for the tests and the benchmarks, which build
or rebuild some models on a warehouse of their own (scheduled builds go through orchestration/transform.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def with_clock(args: tuple[str, ...]) -> list[str]:
    """`args` with dbt var `clock` set to this process's clock (unless the caller set one), as the orchestrator
    does for every build (see the `clock()` macro): the marts' "now" is the clock that stamped the loads."""
    args = list(args)
    clock = datetime.now(UTC).isoformat(timespec="seconds")
    if "--vars" in args:
        at = args.index("--vars") + 1
        variables = yaml.safe_load(args[at]) or {}
        args[at] = json.dumps({"clock": clock, **variables}, default=str)
    elif args and args[0] in {"build", "run", "test", "seed", "show", "compile"}:
        args += ["--vars", json.dumps({"clock": clock})]
    return args


def run_dbt(build: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    """`dbt <args>` on the DuckDB file `build` on this process's clock (`with_clock`), writing target/ and logs/
    under `work`; the caller checks the return code (dbt's report is in stdout)."""
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *with_clock(args),
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
