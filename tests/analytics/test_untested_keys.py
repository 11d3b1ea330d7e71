"""The data tests of an incremental model check the rows rebuilt since its tests last all passed
(macros/untested_keys.sql), not the whole table — and a failing row stays under test until it is fixed.

On a copy of the built warehouse: an hour's pull corrects a Taobao line's quantity on an old date, so the hourly
run rebuilds that date of daily_shop_sales and that order of the order chain; a row of another, untouched date
is garbled so that the model's row-level test (`expression_is_true`) would fail on it."""

from __future__ import annotations

import shutil

import duckdb

from tests.analytics.dbt_helper import run_dbt

MART = "marts.daily_shop_sales"
UNTESTED = "intermediate.daily_shop_sales__untested"
CHAIN_UNTESTED = "intermediate.int_order_lines_enriched__untested"
# one row of a date made to break the model's row-level test net_revenue_cny = net_sales_cny - refunds_cny
GARBLE = (
    f"update {MART} set net_revenue_cny = net_revenue_cny + 1 "
    f"where rowid = (select min(rowid) from {MART} where order_date = ?)"
)


def _untested(con: duckdb.DuckDBPyConnection, table: str) -> list | None:
    """The untested key values (sorted), or None when the table is absent (every row untested)."""
    schema, name = table.split(".")
    if not con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, name]
    ).fetchone()[0]:
        return None
    return sorted(row[0] for row in con.execute(f"select * from {table}").fetchall())


def test_an_hourly_run_tests_the_rebuilt_keys_and_keeps_a_failing_one_under_test(built_build_path, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copy(built_build_path, build)
    # every row tested once and passing (the warehouse under test may come from an older shopkeep)
    run_dbt(build, tmp_path, "test", "-s", "daily_shop_sales", "int_order_lines_enriched")
    with duckdb.connect(str(build)) as con:
        assert _untested(con, UNTESTED) == [] and _untested(con, CHAIN_UNTESTED) == []
        order_id, line, corrected = con.execute(
            """
            select enriched.order_id, lines._dlt_id, enriched.order_date
            from raw_taobao.orders as orders
            inner join raw_taobao.orders__orders as lines on lines._dlt_parent_id = orders._dlt_id
            inner join intermediate.int_order_lines_enriched as enriched
                on enriched.order_id = orders.shop_id || ':' || cast(orders.tid as varchar)
            where enriched.paid_at is not null
                and enriched.order_id not in (select order_id from staging.stg_files__orders)
                and enriched.order_date < (select max(order_date) from marts.daily_shop_sales)
            order by enriched.order_date, lines._dlt_id
            limit 1
            """
        ).fetchone()
        (untouched,) = con.execute(
            f"select max(order_date) from {MART} where order_date != ?", [corrected]
        ).fetchone()
        con.execute("update raw_taobao.orders__orders set num = num + 1 where _dlt_id = ?", [line])
        con.execute(GARBLE, [untouched])

    # the hourly run: the corrected date and order rebuilt, and recorded as untested
    run_dbt(build, tmp_path, "run", "-s", "+daily_shop_sales")
    with duckdb.connect(str(build)) as con:
        assert _untested(con, UNTESTED) == [corrected]
        assert _untested(con, CHAIN_UNTESTED) == [order_id]
    # its tests read the rebuilt date only: the garbled row of the untouched date is not theirs; passing, they
    # leave nothing untested
    run_dbt(build, tmp_path, "test", "-s", "daily_shop_sales")
    with duckdb.connect(str(build)) as con:
        assert _untested(con, UNTESTED) == []
        # the next hour corrects the line again, and the rebuilt date comes out wrong (a bug, a bad input)
        con.execute("update raw_taobao.orders__orders set num = num + 1 where _dlt_id = ?", [line])
    run_dbt(build, tmp_path, "run", "-s", "+daily_shop_sales")
    with duckdb.connect(str(build)) as con:
        con.execute(GARBLE, [corrected])
    # the next run rebuilds nothing, yet tests the date rebuilt before it and fails; the date stays untested
    # until its rows pass
    failed = run_dbt(build, tmp_path, "build", "-s", "daily_shop_sales", check=False)
    assert failed.returncode != 0 and "expression_is_true_daily_shop_sales" in failed.stdout
    with duckdb.connect(str(build)) as con:
        assert _untested(con, UNTESTED) == [corrected]

    # the nightly full refresh builds every date again (both garbled rows healed) and tests every row
    run_dbt(build, tmp_path, "build", "-s", "daily_shop_sales", "--full-refresh")
    with duckdb.connect(str(build)) as con:
        assert _untested(con, UNTESTED) == []
        con.execute(GARBLE, [untouched])
        con.execute(f"drop table {UNTESTED}")
    # no record of what was tested (a warehouse an older shopkeep built): every row is tested
    failed = run_dbt(build, tmp_path, "test", "-s", "daily_shop_sales", check=False)
    assert failed.returncode != 0 and "expression_is_true_daily_shop_sales" in failed.stdout
