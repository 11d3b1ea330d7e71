"""Every dbt unit test (the hand-worked rows behind each formula of spec/metrics.md) passes. Scheduled builds leave
them out (they test the SQL, not the day's data), so this is where they run: against a copy of the built warehouse,
whose relations give dbt the columns of every input a unit test does not spell out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_dbt_unit_test_passes(built_warehouse, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copyfile(built_warehouse.build_path, build)
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [
            str(dbt), "test", "--select", "test_type:unit",
            "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO / "dbt_project"),
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        ],  # fmt: skip
        env={**os.environ, "SHOPKEEP_BUILD_PATH": str(build)},
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert set(statuses) == set(manifest["unit_tests"]) and len(statuses) >= 30, done.stdout[-3000:]
    assert {uid: s for uid, s in statuses.items() if s != "pass"} == {}, done.stdout[-3000:]
    assert done.returncode == 0, done.stdout[-3000:]
