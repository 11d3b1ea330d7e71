"""The models incremental by SKU (macros/incremental_by_signature.sql: int_sku_demand_daily, int_stock_daily,
int_sku_stock_days): an hourly run rebuilds the SKUs whose inputs changed — an older order corrected, a stock movement of the history
corrected — and what it leaves equals a full refresh.

On a copy of the built warehouse the raw rows change as a pull would land them. One row of another SKU is
garbled without touching its inputs: the incremental run must leave it (it rebuilt no SKU it did not have to),
the full refresh heals it."""

from __future__ import annotations

import shutil

import duckdb

from tests.analytics.dbt_helper import run_dbt

MODEL = "intermediate.int_sku_demand_daily"
STOCK = "intermediate.int_stock_daily"
STOCK_MODELS = [STOCK, "intermediate.int_sku_stock_days"]


def _differences(con: duckdb.DuckDBPyConnection, left: str, right: str) -> list[tuple]:
    """(side, sku) of the rows one table has and the other lacks (as multisets)."""
    return con.execute(
        f"(select 'left', sku from (select * from {left} except all select * from {right})) "
        f"union all (select 'right', sku from (select * from {right} except all select * from {left})) "
        "order by all"
    ).fetchall()


def _garble_another_sku(con: duckdb.DuckDBPyConnection, model: str, sku: str, column: str) -> str:
    """Set `column` to -1 on one row of a SKU other than `sku`, keep the table as `kept_<model>`; the SKU garbled."""
    (untouched,) = con.execute(f"select max(sku) from {model} where sku != ?", [sku]).fetchone()
    con.execute(
        f"update {model} set {column} = -1 where rowid = (select min(rowid) from {model} where sku = ?)",
        [untouched],
    )
    con.execute(f"create or replace table kept_{model.split('.')[1]} as select * from {model}")
    return untouched


def _rebuilt_only(build, tmp_path, sku: str, untouched: dict[str, str]) -> None:
    """An incremental run changes the rows of `sku` alone in each model of `untouched` (model: its garbled SKU);
    a full refresh then differs from it in the garbled row alone."""
    names = [model.split(".")[1] for model in untouched]
    run_dbt(build, tmp_path, "run", "-s", *(f"+{name}" for name in names))
    with duckdb.connect(str(build)) as con:
        for model in untouched:
            # only the changed SKU's rows changed; the garbled row of the other SKU is the very row it was
            assert {row[1] for row in _differences(con, model, f"kept_{model.split('.')[1]}")} == {sku}, model
            con.execute(f"create or replace table incremental_{model.split('.')[1]} as select * from {model}")
    run_dbt(build, tmp_path, "run", "-s", *names, "--full-refresh")
    with duckdb.connect(str(build)) as con:
        for model, garbled in untouched.items():
            # exactly the garbled row differs: -1 in the incremental table, its real value after the refresh
            differences = _differences(con, f"incremental_{model.split('.')[1]}", model)
            assert differences == [("left", garbled), ("right", garbled)], model


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
        (units_before,) = con.execute(
            f"select units_demanded from {MODEL} where sku = ? and demand_date = ?", [sku, day]
        ).fetchone()
        con.execute("update raw_taobao.orders__orders set num = num + 1 where _dlt_id = ?", [line])
        untouched = _garble_another_sku(con, MODEL, sku, "units_demanded")

    _rebuilt_only(build, tmp_path, sku, {MODEL: untouched})
    with duckdb.connect(str(build)) as con:
        (units_after,) = con.execute(
            f"select units_demanded from {MODEL} where sku = ? and demand_date = ?", [sku, day]
        ).fetchone()
    assert units_after == units_before + 1


def test_the_stock_histories_rebuild_only_the_skus_whose_history_changed(built_build_path, tmp_path):
    """A movement inside the stock history is corrected (one more unit received): that SKU's closing stock
    before the movement's day moves; an hour's movements after the latest snapshot change no SKU's history."""
    build = tmp_path / "build.duckdb"
    shutil.copy(built_build_path, build)
    run_dbt(build, tmp_path, "run", "-s", "+int_stock_daily", "+int_sku_stock_days")  # signatures recorded
    with duckdb.connect(str(build)) as con:
        movement, sku = con.execute(
            f"""
            select movements.movement_id, movements.sku
            from staging.stg_wms__stock_movements as movements
            where movements.moved_date > (select min(stock_date) + 1 from {STOCK})
                -- before the warehouse's first snapshot: its days are rolled back through the movements
                and movements.moved_date < (
                    select min(snapshot_date) from staging.stg_wms__stock_snapshots as snapshots
                    where snapshots.warehouse_id = movements.warehouse_id
                )
            order by movements.moved_date, movements.movement_id
            limit 1
            """
        ).fetchone()
        con.execute("update raw_wms.stock_movements set quantity = quantity + 1 where id = ?", [movement])
        untouched = {model: _garble_another_sku(con, model, sku, "closing_on_hand") for model in STOCK_MODELS}
        # an hour's movements of the garbled SKUs after the latest snapshot: no day of the history has them, so
        # those SKUs are not rebuilt (their garbled rows stay)
        for garbled in set(untouched.values()):
            con.execute(
                "insert into raw_wms.stock_movements select * replace ("
                "    id || ':' || ? as id, _dlt_id || ':' || ? as _dlt_id, ? as merchant_code,"
                "    (select max(moved_at) from raw_wms.stock_movements) + interval 1 day as moved_at) "
                "from raw_wms.stock_movements where id = ?",
                [garbled, garbled, garbled, movement],
            )
    _rebuilt_only(build, tmp_path, sku, untouched)
