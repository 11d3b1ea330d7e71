"""Every dbt unit test (the hand-worked rows behind each formula of spec/metrics.md) passes. Scheduled builds leave
them out (they test the SQL, not the day's data), so this is where they run: against a copy of the built warehouse,
whose relations give dbt the columns of every input a unit test does not spell out."""

from __future__ import annotations

import json
import shutil

from tests.analytics.dbt_helper import run_dbt


def test_every_dbt_unit_test_passes(built_warehouse, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copyfile(built_warehouse.build_path, build)
    done = run_dbt(build, tmp_path, "test", "--select", "test_type:unit", check=False)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert set(statuses) == set(manifest["unit_tests"]) and len(statuses) >= 30, done.stdout[-3000:]
    assert {uid: s for uid, s in statuses.items() if s != "pass"} == {}, done.stdout[-3000:]
    assert done.returncode == 0, done.stdout[-3000:]
