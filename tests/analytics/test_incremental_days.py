"""The daily aggregates incremental by order date (macros/incremental_by_signature.sql: daily_sku_sales,
daily_shop_sales, int_shop_item_days): an incremental run rebuilds only the dates whose order lines changed,
and what it leaves equals a full refresh of the same inputs.

A copy of the built warehouse gets what an hour's pull would land: a Taobao line's quantity corrected by the
platform on an old date, and an order of another old date gone from the raw tables. The order chain and the
margins are run incrementally, as the hourly build runs them. One row of each model on a third, untouched date
is garbled without touching its inputs: an incremental run must leave it garbled (it rebuilt no date it did not
have to); with the recorded signatures gone (a table an older shopkeep built) every date is built again."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from tests.analytics.dbt_helper import drop_taobao_order, run_dbt

REPO = Path(__file__).resolve().parents[2]

MODELS = {
    "marts.daily_sku_sales": "units",
    "marts.daily_shop_sales": "units",
    "intermediate.int_shop_item_days": "units",
}
DAILY = [name.split(".")[1] for name in MODELS]
RUN = ["run", "-s", *(f"+{name}" for name in DAILY)]


def _differences(con: duckdb.DuckDBPyConnection, left: str, right: str) -> list[tuple]:
    """The rows of `left` that `right` lacks and those `right` has that `left` lacks (as multisets), each as
    (side, order_date, *row)."""
    return con.execute(
        f"(select 'left', order_date, * from (select * from {left} except all select * from {right})) union all "
        f"(select 'right', order_date, * from (select * from {right} except all select * from {left})) order by all"
    ).fetchall()


def test_an_incremental_run_rebuilds_only_changed_dates_and_equals_a_full_refresh(built_build_path, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copy(built_build_path, build)
    run_dbt(build, tmp_path, *RUN)  # this warehouse's signatures recorded
    with duckdb.connect(str(build)) as con:
        # two paid Taobao orders of different old dates that no export also holds
        (corrected, corrected_line, corrected_date), (gone, _, gone_date) = con.execute(
            """
            with candidates as (
                select
                    enriched.order_id, lines._dlt_id as line, enriched.order_date,
                    row_number() over (partition by enriched.order_date order by lines._dlt_id) as nth
                from raw_taobao.orders as orders
                inner join raw_taobao.orders__orders as lines on lines._dlt_parent_id = orders._dlt_id
                inner join intermediate.int_order_lines_enriched as enriched
                    on enriched.order_id = orders.shop_id || ':' || cast(orders.tid as varchar)
                where enriched.paid_at is not null
                    and enriched.is_mapped
                    and enriched.order_id not in (select order_id from staging.stg_files__orders)
                    and enriched.order_date < (select max(order_date) from marts.daily_sku_sales)
            )
            select order_id, line, order_date from candidates where nth = 1 order by order_date limit 2
            """
        ).fetchall()
        assert corrected_date != gone_date
        (untouched_date,) = con.execute(
            "select max(order_date) from marts.daily_sku_sales where order_date not in (?, ?)",
            [corrected_date, gone_date],
        ).fetchone()
        con.execute("update raw_taobao.orders__orders set num = num + 1 where _dlt_id = ?", [corrected_line])
        drop_taobao_order(con, gone)
        con.execute("create schema kept")
        for name, column in MODELS.items():
            garble = f"rowid = (select min(rowid) from {name} where order_date = '{untouched_date}')"
            con.execute(f"update {name} set {column} = -1 where {garble}")
            con.execute(f"create table kept.{name.split('.')[1]} as select * from {name}")
        (units_before,) = con.execute(
            "select sum(units) from marts.daily_sku_sales where order_date = ?", [corrected_date]
        ).fetchone()

    run_dbt(build, tmp_path, *RUN)
    with duckdb.connect(str(build)) as con:
        con.execute("create schema incremental")
        for name in MODELS:
            table = name.split(".")[1]
            # every row of the dates the pull did not touch is the very row the table held, the garbled one too
            assert not [
                row
                for row in _differences(con, name, f"kept.{table}")
                if row[1] not in (corrected_date, gone_date)
            ], name
            con.execute(f"create table incremental.{table} as select * from {name}")
        (units_after,) = con.execute(
            "select sum(units) from marts.daily_sku_sales where order_date = ?", [corrected_date]
        ).fetchone()
    assert units_after == units_before + 1  # the corrected line's unit reached its date

    run_dbt(build, tmp_path, "run", "-s", *DAILY, "--full-refresh")
    with duckdb.connect(str(build)) as con:
        for name in MODELS:
            differences = _differences(con, f"incremental.{name.split('.')[1]}", name)
            # exactly the garbled row differs: -1 in the incremental table, its real value after the refresh
            assert len(differences) == 2, (name, differences)
            assert [row[1] for row in differences] == [untouched_date, untouched_date], name
            con.execute(f"drop table intermediate.{name.split('.')[1]}__built_from")

    # without recorded signatures (an older shopkeep's tables) every date is built again: the garbled rows heal
    run_dbt(build, tmp_path, "run", "-s", *DAILY)
    with duckdb.connect(str(build)) as con:
        for name in MODELS:
            assert not [
                row
                for row in _differences(con, f"incremental.{name.split('.')[1]}", name)
                if row[1] != untouched_date
            ], name
            (garbled,) = con.execute(f"select count(*) from {name} where units = -1").fetchone()
            assert garbled == 0, name


def test_an_edited_model_is_rebuilt_whole_with_its_new_columns_by_the_next_incremental_run(
    built_build_path, tmp_path
):
    """An analyst edits int_shop_item_days (a new column): the next hourly run rebuilds every date, not only the
    changed ones, and the table takes the column (no nightly full refresh needed, no failed build)."""
    build = tmp_path / "build.duckdb"
    shutil.copy(built_build_path, build)
    run_dbt(build, tmp_path, "run", "-s", "int_shop_item_days")  # this warehouse's signatures recorded
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "models" / "intermediate" / "promotions" / "int_shop_item_days.sql"
    edited = model.read_text(encoding="utf-8").replace(
        "        cast(count(*) as integer) as order_lines,",
        "        cast(count(*) as integer) as order_lines,\n        cast(count(*) as integer) as lines_again,",
    )
    assert edited != model.read_text(encoding="utf-8")
    model.write_text(edited, encoding="utf-8")
    with duckdb.connect(str(build)) as con:
        con.execute(
            "update intermediate.int_shop_item_days set units = -1 "
            "where rowid = (select min(rowid) from intermediate.int_shop_item_days)"
        )

    run_dbt(build, tmp_path / "edited", "run", "-s", "int_shop_item_days", project=project)
    with duckdb.connect(str(build), read_only=True) as con:
        rows, counted, same, garbled = con.execute(
            "select count(*), count(lines_again), count(*) filter (lines_again = order_lines), "
            "count(*) filter (units = -1) from intermediate.int_shop_item_days"
        ).fetchone()
    # every date rebuilt: the new column filled on every row, the garbled row healed
    assert rows == counted == same and garbled == 0
