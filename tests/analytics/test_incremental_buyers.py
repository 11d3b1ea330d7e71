"""customer_orders incremental by buyer (macros/incremental_by_signature.sql): an incremental run rebuilds only
the buyers whose paid orders changed, and what it leaves equals a full refresh of the same inputs.

A copy of the built warehouse loses a repeat buyer's first Taobao order from the raw tables (as if the platform
no longer served it): the buyer's next order must become their first (order_sequence 1, 'new'), which only a
rebuild of the whole buyer gives. One row of an untouched buyer is garbled without touching its inputs: an
incremental run must leave it garbled; a full refresh heals it and otherwise equals the incremental table."""

from __future__ import annotations

import shutil

import duckdb

from tests.analytics.dbt_helper import drop_taobao_order, run_dbt

RUN = ["run", "-s", "+customer_orders"]


def _differences(con: duckdb.DuckDBPyConnection, left: str, right: str) -> list[tuple]:
    return con.execute(
        f"(select 'left', * from (select * from {left} except all select * from {right})) union all "
        f"(select 'right', * from (select * from {right} except all select * from {left})) order by all"
    ).fetchall()


def test_an_incremental_run_rebuilds_only_changed_buyers_and_equals_a_full_refresh(
    built_build_path, tmp_path
):
    build = tmp_path / "build.duckdb"
    shutil.copy(built_build_path, build)
    run_dbt(build, tmp_path, *RUN)  # this warehouse's signatures recorded
    with duckdb.connect(str(build)) as con:
        # a repeat buyer whose first order is a Taobao API order no export also holds
        buyer, first, second = con.execute(
            """
            select customer_id, order_id, lead(order_id) over (partition by customer_id order by order_sequence)
            from marts.customer_orders
            qualify order_sequence = 1
                and lead(order_id) over (partition by customer_id order by order_sequence) is not null
                and channel = 'taobao'
                and order_id not in (select order_id from staging.stg_files__orders)
            order by customer_id
            limit 1
            """
        ).fetchone()
        drop_taobao_order(con, first)
        (garbled,) = con.execute(
            "select min(order_id) from marts.customer_orders where customer_id != ?", [buyer]
        ).fetchone()
        con.execute("update marts.customer_orders set units = -1 where order_id = ?", [garbled])

    run_dbt(build, tmp_path, *RUN)
    with duckdb.connect(str(build)) as con:
        assert con.execute(
            "select order_sequence, customer_type from marts.customer_orders where order_id = ?", [second]
        ).fetchone() == (1, "new")
        assert con.execute(
            "select count(*) from marts.customer_orders where order_id = ?", [first]
        ).fetchone() == (0,)
        (units,) = con.execute(
            "select units from marts.customer_orders where order_id = ?", [garbled]
        ).fetchone()
        assert units == -1, "an unchanged buyer was rebuilt"
        con.execute("create table main.incremental as select * from marts.customer_orders")

    run_dbt(build, tmp_path, "run", "-s", "customer_orders", "--full-refresh")
    with duckdb.connect(str(build)) as con:
        differences = _differences(con, "main.incremental", "marts.customer_orders")
        assert [(row[0], row[1]) for row in differences] == [("left", garbled), ("right", garbled)], (
            differences
        )
