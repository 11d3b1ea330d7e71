"""The marts incremental by signature (macros/incremental_by_signature.sql; sku_margins by month): an incremental
run rebuilds only the months whose inputs changed, drops the months with no inputs left, and what it leaves
equals a full refresh of the same inputs.

The demo warehouse is copied and changed as the hours since its build would have: one order line's net sales
corrected in an old month, every line of the first month gone. One row of another month is garbled without
touching its inputs: an incremental run must leave it garbled (it rebuilt nothing it did not have to); with the
recorded signatures gone (a table an older shopkeep built) it rebuilds every month, so the garbled row heals."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd

from tests.analytics.dbt_helper import run_dbt

RUN = ["run", "-s", "sku_margins"]
ORDER = "order by month, shop_id, sku"


def _sku_margins(build) -> pd.DataFrame:
    with duckdb.connect(str(build), read_only=True) as con:
        return con.execute(f"select * from marts.sku_margins {ORDER}").df()


def test_an_incremental_run_rebuilds_only_changed_months_and_equals_a_full_refresh(built_warehouse, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copy(built_warehouse.build_path, build)
    run_dbt(build, tmp_path, *RUN)  # the signatures of this warehouse recorded (nothing to rebuild)
    with duckdb.connect(str(build)) as con:
        months = [
            m for (m,) in con.execute("select distinct month from marts.sku_margins order by 1").fetchall()
        ]
        assert len(months) >= 4
        gone_month, changed_month, untouched_month = months[0], months[1], months[2]
        (line,) = con.execute(
            "select min(order_line_id) from marts.order_line_margins where order_month = ? and is_mapped",
            [changed_month],
        ).fetchone()
        con.execute("update marts.order_line_margins set net_sales_cny = net_sales_cny + 1 where order_line_id = ?",
                    [line])  # fmt: skip
        con.execute("delete from marts.order_line_margins where order_month = ?", [gone_month])
        garbled_shop, garbled_sku = con.execute(
            "select shop_id, sku from marts.sku_margins where month = ? order by 1, 2 limit 1",
            [untouched_month],
        ).fetchone()
        garbled = f"month = '{untouched_month}' and shop_id = '{garbled_shop}' and sku = '{garbled_sku}'"
        con.execute(f"update marts.sku_margins set orders = -1 where {garbled}")
        before = con.execute(
            f"select * from marts.sku_margins where month not in (?, ?) {ORDER}", [gone_month, changed_month]
        ).df()

    run_dbt(build, tmp_path, *RUN)
    incremental = _sku_margins(build)
    assert gone_month not in set(incremental["month"].dt.date)
    assert (incremental.query("sku == @garbled_sku")["orders"] == -1).sum() == 1, (
        "an unchanged month was rebuilt"
    )
    # the other months' rows are the very rows the table held
    pd.testing.assert_frame_equal(
        incremental[~incremental["month"].dt.date.isin([changed_month])].reset_index(drop=True), before
    )

    run_dbt(build, tmp_path, *RUN, "--full-refresh")
    refreshed = _sku_margins(build)
    is_garbled = (
        (incremental["month"].dt.date == untouched_month)
        & (incremental["shop_id"] == garbled_shop)
        & (incremental["sku"] == garbled_sku)
    )
    assert refreshed.loc[is_garbled, "orders"].tolist() != [-1]
    healed = incremental.copy()
    healed.loc[is_garbled, "orders"] = refreshed.loc[is_garbled, "orders"]
    pd.testing.assert_frame_equal(healed, refreshed)
    # the month the correction landed in took it
    assert _month_sales(build, changed_month) == _month_sales(built_warehouse.build_path, changed_month) + 1

    # without recorded signatures (an older shopkeep's table) every month is built again
    with duckdb.connect(str(build)) as con:
        con.execute(f"update marts.sku_margins set orders = -1 where {garbled}")
        con.execute("drop table intermediate.sku_margins__built_from")
    run_dbt(build, tmp_path, *RUN)
    pd.testing.assert_frame_equal(_sku_margins(build), refreshed)


def _month_sales(build, month) -> object:
    with duckdb.connect(str(build), read_only=True) as con:
        return con.execute(
            "select sum(net_sales_cny) from marts.sku_margins where month = ?", [month]
        ).fetchone()[0]
