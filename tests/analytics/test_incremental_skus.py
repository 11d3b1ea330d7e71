"""int_sku_demand_daily incremental by SKU (macros/incremental_by_signature.sql): an hourly run rebuilds the SKUs
whose inputs changed — an older order corrected or refunded — and what it leaves equals a full refresh.

On a copy of the built warehouse a Taobao line of an old paid order gains a unit, as a platform's correction
would land. One row of another SKU is garbled without touching its inputs: the incremental run must leave it
(it rebuilt no SKU it did not have to), the full refresh heals it."""

from __future__ import annotations

import shutil

import duckdb

from tests.analytics.dbt_helper import run_dbt

MODEL = "intermediate.int_sku_demand_daily"


def _differences(con: duckdb.DuckDBPyConnection, left: str, right: str) -> list[tuple]:
    """(side, sku, demand_date) of the rows one table has and the other lacks (as multisets)."""
    return con.execute(
        f"(select 'left', sku, demand_date from (select * from {left} except all select * from {right})) "
        f"union all (select 'right', sku, demand_date from (select * from {right} except all select * from {left})) "
        "order by all"
    ).fetchall()


def test_an_incremental_run_rebuilds_only_changed_skus_and_equals_a_full_refresh(built_build_path, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copy(built_build_path, build)
    run_dbt(build, tmp_path, "run", "-s", "+int_sku_demand_daily")  # this warehouse's signatures recorded
    with duckdb.connect(str(build)) as con:
        # a paid Taobao line of a single, unkitted master SKU, on a day of the demand history
        line, sku, day = con.execute(
            f"""
            select lines._dlt_id, components.sku, components.order_date
            from raw_taobao.orders as orders
            inner join raw_taobao.orders__orders as lines on lines._dlt_parent_id = orders._dlt_id
            inner join intermediate.int_order_line_components as components
                on components.order_id = orders.shop_id || ':' || cast(orders.tid as varchar)
                and not components.is_from_kit
            where components.paid_at is not null
                and components.order_id not in (select order_id from staging.stg_files__orders)
                and components.order_date in (select demand_date from {MODEL})
                and (select count(*) from raw_taobao.orders__orders as others
                     where others._dlt_parent_id = orders._dlt_id) = 1
            order by components.order_date, lines._dlt_id
            limit 1
            """
        ).fetchone()
        (untouched,) = con.execute(f"select max(sku) from {MODEL} where sku != ?", [sku]).fetchone()
        (units_before,) = con.execute(
            f"select units_demanded from {MODEL} where sku = ? and demand_date = ?", [sku, day]
        ).fetchone()
        con.execute("update raw_taobao.orders__orders set num = num + 1 where _dlt_id = ?", [line])
        con.execute(
            f"update {MODEL} set units_demanded = -1 where rowid = (select min(rowid) from {MODEL} where sku = ?)",
            [untouched],
        )
        con.execute(f"create table kept as select * from {MODEL}")

    run_dbt(build, tmp_path, "run", "-s", "+int_sku_demand_daily")
    with duckdb.connect(str(build)) as con:
        # only the corrected SKU's rows changed; the garbled row of the other SKU is the very row it was
        assert {row[1] for row in _differences(con, MODEL, "kept")} == {sku}
        (units_after,) = con.execute(
            f"select units_demanded from {MODEL} where sku = ? and demand_date = ?", [sku, day]
        ).fetchone()
        assert units_after == units_before + 1
        con.execute(f"create table incremental as select * from {MODEL}")

    run_dbt(build, tmp_path, "run", "-s", "int_sku_demand_daily", "--full-refresh")
    with duckdb.connect(str(build)) as con:
        # exactly the garbled row differs: -1 in the incremental table, its real value after the refresh
        assert [row[:2] for row in _differences(con, "incremental", MODEL)] == [
            ("left", untouched),
            ("right", untouched),
        ]
