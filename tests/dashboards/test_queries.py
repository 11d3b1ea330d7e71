"""Queries read the published snapshot read-only, a cursor per query, and the next query after a publish reads the
new file."""

from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from dashboards import queries

JUNE = (date(2026, 6, 1), date(2026, 6, 30))


def test_the_next_query_after_a_publish_reads_the_new_file_and_lets_go_of_the_old_one(
    serve_path, write_serve_file, tmp_path
):
    live = tmp_path / "serve.duckdb"
    shutil.copy(serve_path, live)
    before = queries.kpis.__wrapped__(str(live), queries.snapshot_version(live), *JUNE, ())

    write_serve_file(tmp_path / "next.duckdb", seed=3)
    os.replace(tmp_path / "next.duckdb", live)  # what the publish step does
    after = queries.kpis.__wrapped__(str(live), queries.snapshot_version(live), *JUNE, ())

    with duckdb.connect(str(live), read_only=True) as con:
        (gmv,) = con.execute(
            "select sum(gmv_cny) from marts.daily_shop_sales where order_date between ? and ?", list(JUNE)
        ).fetchone()
    assert after["gmv_cny"] == gmv != before["gmv_cny"]
    assert queries._snapshots[str(live)][0] == queries.snapshot_version(live)  # the old instance is let go


def test_once_released_this_process_can_write_a_file_it_has_read(serve_path, tmp_path):
    live = tmp_path / "serve.duckdb"
    shutil.copy(serve_path, live)
    queries.kpis.__wrapped__(str(live), queries.snapshot_version(live), *JUNE, ())

    queries.release_snapshots()
    # DuckDB refuses a read-write connection in a process that still holds a read-only one to the same file
    with duckdb.connect(str(live)) as writer:
        assert writer.execute("select count(*) from marts.shops").fetchone() == (3,)


def test_renaming_a_new_file_over_the_serve_path_changes_the_snapshot_version(
    serve_path, write_serve_file, tmp_path
):
    live = tmp_path / "serve.duckdb"
    shutil.copy(serve_path, live)
    before = queries.snapshot_version(live)

    write_serve_file(tmp_path / "next.duckdb", seed=3)
    os.replace(tmp_path / "next.duckdb", live)

    assert queries.snapshot_version(live) != before


def test_a_missing_serve_file_says_how_to_publish_one(tmp_path):
    missing = tmp_path / "serve.duckdb"

    with pytest.raises(
        queries.WarehouseNotPublished, match="run `make demo` or `shopkeep materialize`"
    ) as info:
        queries.snapshot_version(missing)
    assert str(missing) in str(info.value)


def test_range_aov_is_the_ratio_of_summed_net_sales_to_summed_orders_not_a_mean_of_daily_aov(serve_path):
    path = str(serve_path)
    totals = queries.kpis(path, queries.snapshot_version(path), *JUNE, ("jd_pop",))

    with duckdb.connect(path, read_only=True) as con:
        net_sales, orders, mean_daily = con.execute(
            "select sum(net_sales_cny), sum(orders), avg(aov_cny) from marts.daily_shop_sales "
            "where shop_id = 'jd_pop' and order_date between ? and ?",
            list(JUNE),
        ).fetchone()
    assert totals["orders"] == orders
    assert totals["aov_cny"] == (net_sales / orders).quantize(Decimal("0.01"))
    assert totals["aov_cny"] != Decimal(str(round(mean_daily, 2)))


def test_a_range_without_sales_gives_zero_totals_and_no_aov(serve_path):
    path = str(serve_path)

    totals = queries.kpis(path, queries.snapshot_version(path), date(2020, 1, 1), date(2020, 1, 31), ())

    assert totals["orders"] == 0 and totals["gmv_cny"] == 0
    assert totals["aov_cny"] is None and totals["has_rows"] is False


def test_the_table_by_shop_adds_up_to_the_kpi_totals(serve_path):
    path = str(serve_path)
    version = queries.snapshot_version(path)

    table = queries.by_shop(path, version, *JUNE, ())
    totals = queries.kpis(path, version, *JUNE, ())

    assert int(table["orders"].sum()) == totals["orders"]
    assert round(float(table["gmv_cny"].sum()), 2) == float(totals["gmv_cny"])
    assert set(table["shop_id"]) == {"shopify_global", "tmall_flagship", "jd_pop"}
