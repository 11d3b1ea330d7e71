"""The serving file carries the latest outcome of every asset check (dbt's tests) in meta.check_results."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.publish import latest_check_results, publish_serving_file


def make_build(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.skus as select 'AP-1' as sku")


def checked_assets() -> dg.Definitions:
    @dg.asset(
        key=["marts", "skus"],
        check_specs=[
            dg.AssetCheckSpec("unique_skus_sku", asset=["marts", "skus"]),
            dg.AssetCheckSpec("stock_not_negative", asset=["marts", "skus"]),
            dg.AssetCheckSpec("never_run", asset=["marts", "skus"]),
        ],
    )
    def skus():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="unique_skus_sku", passed=True)
        yield dg.AssetCheckResult(
            check_name="stock_not_negative",
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"dagster_dbt/failed_row_count": 3},
        )

    return dg.Definitions(assets=[skus])


def test_failed_and_passed_checks_are_published_with_severity_and_failed_rows(tmp_path):
    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    make_build(build)
    defs = checked_assets()
    keys = list(defs.resolve_asset_graph().asset_check_keys)
    with dg.instance_for_test() as instance:
        defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey(["marts", "skus"])], raise_on_error=False
        )
        checks = latest_check_results(instance, keys)

    publish_serving_file(build, serve, check_results=checks)

    with duckdb.connect(str(serve), read_only=True) as con:
        rows = con.execute(
            "select asset_key, check_name, status, passed, severity, failed_rows, run_id is not null "
            "from meta.check_results order by check_name"
        ).fetchall()
    assert rows == [
        ("marts/skus", "never_run", "planned", None, None, None, True),
        ("marts/skus", "stock_not_negative", "failed", False, "WARN", 3, True),
        ("marts/skus", "unique_skus_sku", "succeeded", True, "ERROR", None, True),
    ]


def test_a_publish_without_checks_still_has_an_empty_check_results_table(tmp_path):
    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    make_build(build)

    publish_serving_file(build, serve)

    with duckdb.connect(str(serve), read_only=True) as con:
        assert con.execute("select count(*) from meta.check_results").fetchone() == (0,)
