"""数据状态 Data status over the built warehouse: source freshness from the raw tables' dlt loads, the publish
and its checks, quarantined rows and unmapped SKUs — equal to the marts and meta tables, and the freshness
mart equal to the raw tables it describes."""

from __future__ import annotations

import duckdb
import pandas as pd

from dashboards.filters import SHOPS_KEY
from dashboards.format import integer, local_timestamp
from tests.dashboards.pages_helper import one, render_page, rows, tiles


def table_with(at, column: str) -> pd.DataFrame | None:
    """The page's table that has `column` (tables without a SKU column are not widgets: they have no key)."""
    found = [t.value for t in at.dataframe if column in t.value.columns]
    assert len(found) <= 1
    return found[0] if found else None


def test_source_freshness_counts_every_raw_tables_rows_per_shop_as_loaded(built_warehouse):
    serve, build = built_warehouse.serve_path, built_warehouse.build_path
    fresh = {
        (s, t, shop): (n, loaded)
        for s, t, shop, n, loaded in rows(
            serve,
            "select source_name, table_name, shop_id, row_count, last_loaded_at from marts.source_freshness",
        )
    }

    with duckdb.connect(str(build), read_only=True) as con:
        for source, table in [
            ("raw_jd", "orders"),
            ("raw_files", "orders"),
            ("raw_shopify", "orders"),
        ]:
            for shop, n, last in con.execute(
                f"select shop_id, count(*), to_timestamp(max(cast(_dlt_load_id as double))) "
                f"from {source}.{table} group by 1"
            ).fetchall():
                assert fresh[(source, table, shop)] == (n, last)
        snapshots = con.execute("select count(*) from raw_wms.stock_snapshots").fetchone()[0]
    assert fresh[("raw_wms", "stock_snapshots", None)][0] == snapshots
    enabled = {s.id for s in built_warehouse.enabled_shops}
    assert {shop for (src, table, shop) in fresh if table == "orders" and src != "raw_files"} == enabled
    kinds = dict(
        rows(serve, "select source_name, any_value(source_kind) from marts.source_freshness group by 1")
    )
    assert kinds["raw_files"] == "export" and kinds["raw_wms"] == "wms" and kinds["raw_jd"] == "api"
    assert not one(serve, "select count(*) from marts.source_freshness where is_stale")[0], "just loaded"


def test_the_publish_carries_every_check_of_the_build_and_the_page_reports_them(
    built_serve_path, monkeypatch
):
    serve = built_serve_path
    total, failed = one(
        serve, "select count(*), count(*) filter (where passed = false) from meta.check_results"
    )
    assert total > 500, "every dbt test of the build is an asset check"
    assert one(serve, "select count(*) from meta.check_results where asset_key = 'marts/inventory_health'")[0]

    at = render_page(serve, "data_status", monkeypatch)

    assert tiles(at)["未通过校验"] == integer(failed)
    if failed == 0:
        assert f"全部 {total:,} 项校验通过。" in [s.value for s in at.success]
    published, started = one(serve, "select published_at, build_started_at from meta.publish_log")
    assert tiles(at)["发布时间"] == local_timestamp(published).split(" (")[0]


def test_the_page_lists_unmapped_skus_and_quarantined_rows_as_the_marts_hold_them(
    built_serve_path, monkeypatch
):
    serve = built_serve_path

    at = render_page(serve, "data_status", monkeypatch, lang="en")

    unmapped = one(serve, "select count(*) from marts.unmapped_skus")[0]
    quarantined = one(serve, "select count(*) from marts.quarantined_rows")[0]
    assert tiles(at)["Unmapped codes"] == integer(unmapped)
    assert tiles(at)["Quarantined rows"] == integer(quarantined)
    unmapped_table, quarantine_table = table_with(at, "outer_id"), table_with(at, "reason")
    assert (0 if unmapped_table is None else len(unmapped_table)) == unmapped
    assert (0 if quarantine_table is None else len(quarantine_table)) == quarantined
    freshness = table_with(at, "table_name")
    assert len(freshness) == one(serve, "select count(*) from marts.source_freshness")[0]


def test_the_shop_filter_keeps_that_shops_rows_and_the_rows_not_kept_per_shop(built_serve_path, monkeypatch):
    serve = built_serve_path

    at = render_page(serve, "data_status", monkeypatch, **{SHOPS_KEY: ["jd_pop"]})

    expected = one(
        serve, "select count(*) from marts.source_freshness where shop_id = 'jd_pop' or shop_id is null"
    )[0]
    freshness = table_with(at, "table_name")
    assert len(freshness) == expected


def test_orders_and_refunds_the_build_set_aside_are_counted_and_listed_with_their_reason(
    built_serve_path, tmp_path, monkeypatch
):
    """A snapshot whose build set aside an order (no exchange rate) and a refund (its order never imported)."""
    import shutil

    serve = tmp_path / "serve.duckdb"
    shutil.copyfile(built_serve_path, serve)
    with duckdb.connect(str(serve)) as con:
        con.execute(
            "insert into marts.set_aside_rows values "
            "('order|acme:1', 'order', 'acme:1', 'acme', 'api', 'no exchange rate for EUR in 2026-06: add it'), "
            "('refund|acme:r9', 'refund', 'acme:r9', 'acme', null, 'its order acme:9 was not imported')"
        )
    at = render_page(serve, "data_status", monkeypatch)
    listed = table_with(at, "reason")
    assert listed is not None and set(listed["row_key"]) == {"acme:1", "acme:r9"}
    counts = table_with(at, "rows")
    assert counts is not None
    assert {"搁置的订单", "搁置的退款"} <= set(counts["what"])
