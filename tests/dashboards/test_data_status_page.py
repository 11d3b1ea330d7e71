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


def test_the_imported_files_section_lists_every_current_export_file_with_the_rows_its_import_counted(
    built_serve_path, built_build_path, monkeypatch
):
    serve = built_serve_path
    current = {
        file: (sha, shop, mapping, loaded, set_aside)
        for file, sha, shop, mapping, loaded, set_aside in rows(
            serve,
            "select source_file, file_sha256, shop_id, mapping, rows_loaded, rows_set_aside "
            "from marts.file_imports where is_current",
        )
    }
    with duckdb.connect(str(built_build_path), read_only=True) as con:
        imported = con.execute(
            "select source_file, file_sha256, shop_id, mapping, rows_loaded, rows_set_aside from raw_files.imports"
        ).fetchall()
    assert imported, "the demo imports the marketplaces' history exports"
    assert {file: tuple(rest) for file, *rest in imported} == current, "one version of each file, as imported"

    names = dict(rows(serve, "select shop_id, shop_name from marts.shops"))

    at = render_page(serve, "data_status", monkeypatch, lang="en")

    assert "Imported files" in [h.value for h in at.subheader]
    listed = table_with(at, "rows_loaded")
    assert listed is not None and "is_current" not in listed.columns
    assert {
        file: (shop, mapping, loaded, set_aside)
        for file, shop, mapping, loaded, set_aside in zip(
            listed["source_file"],
            listed["shop_name"],
            listed["mapping"],
            listed["rows_loaded"],
            listed["rows_set_aside"],
            strict=True,
        )
    } == {
        file: (names.get(shop, shop), mapping, loaded, set_aside)
        for file, (_, shop, mapping, loaded, set_aside) in current.items()
    }
    assert set(listed["holds"]) <= {"Orders", "Refunds", "Settlements", "Ad spend"}


def test_a_changed_file_keeps_its_earlier_version_on_request_and_its_set_aside_rows_show_with_their_reasons(
    built_serve_path, tmp_path, monkeypatch
):
    """A snapshot where acme__orders.csv was imported, then changed: the new version set two rows aside."""
    import shutil

    serve = tmp_path / "serve.duckdb"
    shutil.copyfile(built_serve_path, serve)
    with duckdb.connect(str(serve)) as con:
        con.execute(
            "insert into marts.file_imports values "
            "('acme__orders.csv|aaa111', 'acme__orders.csv', 'aaa111', 'acme', 'taobao_orders', 'orders', 40, 0, "
            " false, '2026-06-01 02:00:00+00', false), "
            "('acme__orders.csv|bbb222', 'acme__orders.csv', 'bbb222', 'acme', 'taobao_orders', 'orders', 41, 2, "
            " false, '2026-06-02 02:00:00+00', true), "
            "('orders.csv|ccc333', 'orders.csv', 'ccc333', null, null, null, 0, 1, true, '2026-06-02 02:00:00+00', true)"
        )
        con.execute(
            "insert into marts.quarantined_rows values "
            "('export|bbb222||7', 'export', 'acme', 'acme__orders.csv', 'bbb222', '', 7, "
            " 'acme__orders.csv row 7: 实付金额 is not a number', '{\"buyer_id_hash\": \"9f8e\"}', "
            " '2026-06-02 02:00:00+00'), "
            "('export|bbb222||3', 'export', 'acme', 'acme__orders.csv', 'bbb222', '', 3, "
            " 'acme__orders.csv row 3: no order id', '{}', '2026-06-02 02:00:00+00'), "
            "('export|ccc333||0', 'export', null, 'orders.csv', 'ccc333', '', 0, "
            " 'name the file <shop_id>__orders.csv', '{}', '2026-06-02 02:00:00+00')"
        )

    at = render_page(serve, "data_status", monkeypatch, lang="en")

    listed = table_with(at, "rows_loaded")
    acme = listed[listed["source_file"].eq("acme__orders.csv")]
    assert list(zip(acme["rows_loaded"], acme["rows_set_aside"], acme["sha"], strict=True)) == [
        (41, 2, "bbb222")
    ]
    assert listed[listed["source_file"].eq("orders.csv")]["holds"].tolist() == ["Unreadable"]

    at.toggle(key="data_status_files_history").set_value(True).run()
    listed = table_with(at, "rows_loaded")
    acme = listed[listed["source_file"].eq("acme__orders.csv")]
    assert list(zip(acme["sha"], acme["is_current"], strict=True)) == [("bbb222", True), ("aaa111", False)]

    picker = at.selectbox(key="data_status_files_pick")
    assert set(picker.options) >= {"acme__orders.csv (2 set aside)", "orders.csv (1 set aside)"}
    picker.set_value(("acme__orders.csv", "bbb222")).run()
    shown = table_with(at, "set_aside_reason")
    assert shown is not None and "raw_row" not in shown.columns, (
        "reasons only: the raw row stays in its table"
    )
    assert list(zip(shown["row_number"], shown["set_aside_reason"], strict=True)) == [
        (3, "acme__orders.csv row 3: no order id"),
        (7, "acme__orders.csv row 7: 实付金额 is not a number"),
    ]

    at = render_page(serve, "data_status", monkeypatch, lang="en", **{SHOPS_KEY: ["jd_pop"]})
    listed = table_with(at, "rows_loaded")
    assert set(listed["shop_name"]) <= {"jd_pop", "—"}, "the shop filter; files without a shop stay"
    assert "orders.csv" in set(listed["source_file"]) and "acme__orders.csv" not in set(listed["source_file"])


def test_the_stock_alerts_show_each_alerts_sku_count_and_its_thresholds(built_serve_path, monkeypatch):
    serve = built_serve_path
    at = render_page(serve, "data_status", monkeypatch)

    shown = table_with(at, "rule").set_index("name")
    ghosts, overdue, oversold = one(
        serve,
        "select count(*) filter (where ghost_listing), count(*) filter (where overdue_quantity > 0), "
        "count(*) filter (where health_status = 'oversold') from marts.inventory_health",
    )
    (unreliable,) = one(
        serve, "select count(*) filter (where not is_reliable) from marts.demand_forecast_summary"
    )
    assert int(shown.loc["幽灵库存", "skus"]) == ghosts
    assert int(shown.loc["采购逾期", "skus"]) == overdue
    assert int(shown.loc["超卖", "skus"]) == oversold
    assert int(shown.loc["预测不可信", "skus"]) == unreliable
    # the thresholds are the dbt vars' (dbt_project.yml), read from the mart, not written into the page
    assert "10 件以上且超过 3 天需求" in shown.loc["幽灵库存", "rule"]
    assert "14 天" in shown.loc["采购逾期", "rule"]
    assert "80.0%" in shown.loc["预测不可信", "rule"]
    # SKUs waiting on a supplier past its confirmed (else expected) date: supplier_deliveries late_open + overdue
    (late,) = one(
        serve,
        "select count(distinct sku) filter (where delivery_status in ('late_open', 'overdue')) "
        "from marts.supplier_deliveries",
    )
    assert late > 0, "the world has a supplier that stopped delivering"
    assert int(shown.loc["供应商延期", "skus"]) == late
