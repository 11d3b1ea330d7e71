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
    # the project's on-run-start hook (macros/memory_limit.sql) reports too: only the unit tests are compared
    statuses = {r["unique_id"]: r["status"] for r in results if not r["unique_id"].startswith("operation.")}
    assert set(statuses) == set(manifest["unit_tests"]) and len(statuses) >= 30, done.stdout[-3000:]
    assert {uid: s for uid, s in statuses.items() if s != "pass"} == {}, done.stdout[-3000:]
    assert done.returncode == 0, done.stdout[-3000:]


def test_one_not_null_test_per_model_fails_naming_each_column_that_holds_nulls(built_warehouse, tmp_path):
    """A model's required columns are checked by one `not_null_columns` test (one query and one Dagster asset check
    per model, not one per column): with nulls planted in two of inventory_health's required columns it fails, and
    its failing rows name exactly those columns and how many nulls each holds."""
    import duckdb

    build = tmp_path / "build.duckdb"
    shutil.copyfile(built_warehouse.build_path, build)
    with duckdb.connect(str(build)) as con:
        skus = [
            r[0]
            for r in con.execute("select sku from marts.inventory_health order by sku limit 2").fetchall()
        ]
        con.execute("update marts.inventory_health set daily_demand = null where sku in (?, ?)", skus)
        con.execute("update marts.inventory_health set stock_date = null where sku = ?", skus[:1])
    passing = run_dbt(
        build, tmp_path, "test", "--select", "not_null_inventory_health_by_warehouse", check=False
    )
    assert passing.returncode == 0, passing.stdout[-3000:]
    done = run_dbt(
        build, tmp_path, "test", "--select", "not_null_inventory_health", "--store-failures", check=False
    )
    assert done.returncode == 1 and "Got 2 results" in done.stdout, done.stdout[-3000:]
    with duckdb.connect(str(build), read_only=True) as con:
        schema = con.execute(
            "select table_schema from information_schema.tables where table_name = 'not_null_inventory_health'"
        ).fetchone()[0]
        failures = con.execute(
            f'select * from "{schema}".not_null_inventory_health order by column_name'
        ).fetchall()
    assert failures == [("daily_demand", 2), ("stock_date", 1)]
