"""库存健康 Inventory health over the built warehouse: tiles and lists equal marts.inventory_health, and the
category and warehouse filters cut them the way the marts do."""

from __future__ import annotations

import plotly.io

from dashboards.filters import CATEGORIES_KEY, WAREHOUSES_KEY
from dashboards.format import integer, money
from tests.dashboards.pages_helper import one, render_page, rows, tiles


def test_the_tiles_equal_the_mart_and_every_sku_to_act_on_is_listed(built_serve_path, monkeypatch):
    serve = built_serve_path

    at = render_page(serve, "inventory", monkeypatch)

    value, skus, on_hand, act_on = one(
        serve,
        "select sum(stock_value_cny), count(*), sum(on_hand), "
        "count(*) filter (where health_status in ('oversold', 'stockout', 'at_risk', 'dead')) "
        "from marts.inventory_health",
    )
    ghosts = one(serve, "select count(*) from marts.inventory_health where ghost_listing")[0]
    assert tiles(at) == {
        "库存金额": money(value),
        "SKU 数": integer(skus),
        "在库件数": integer(on_hand),
        "需处理 SKU": integer(act_on),
        "幽灵库存 SKU": integer(ghosts),
    }
    tables = {t.key.split("__")[0]: t.value for t in at.dataframe}
    risk = {r[0] for r in rows(serve, "select sku from marts.inventory_health "
                                      "where health_status in ('oversold', 'stockout', 'at_risk')")}  # fmt: skip
    dead = {r[0] for r in rows(serve, "select sku from marts.inventory_health where health_status = 'dead'")}
    assert risk, "the small shop has starved SKUs: the list must not be empty"
    assert set(tables["inventory_risk"]["sku"]) == risk
    assert set(tables.get("inventory_dead", {"sku": []})["sku"]) == dead
    assert len(tables["inventory_ghosts"]) == ghosts
    assert len(tables["inventory_all"]) == skus


def test_the_status_mix_charts_count_skus_and_stock_value_per_status(built_serve_path, monkeypatch):
    serve = built_serve_path

    at = render_page(serve, "inventory", monkeypatch)

    mix = dict(rows(serve, "select health_status, count(*) from marts.inventory_health group by 1"))
    counts_chart = at.get("plotly_chart")[0].proto.spec
    bar = plotly.io.from_json(counts_chart).data[0]
    assert dict(zip(bar.customdata, bar.x, strict=True)) == {s: float(mix.get(s, 0)) for s in bar.customdata}


def test_a_category_filter_cuts_the_stock_to_that_category(built_serve_path, monkeypatch):
    serve = built_serve_path

    at = render_page(serve, "inventory", monkeypatch, **{CATEGORIES_KEY: ["apparel"]})

    value, skus = one(
        serve,
        "select sum(stock_value_cny), count(*) from marts.inventory_health where category = 'apparel'",
    )
    assert tiles(at)["库存金额"] == money(value)
    assert tiles(at)["SKU 数"] == integer(skus)
    assert set(at.dataframe[-1].value["category"]) == {"服装"}


def test_a_warehouse_filter_reads_the_sku_by_warehouse_rows_of_that_warehouse(built_serve_path, monkeypatch):
    serve = built_serve_path
    warehouse = one(serve, "select min(warehouse_id) from marts.inventory_health_by_warehouse")[0]

    at = render_page(serve, "inventory", monkeypatch, **{WAREHOUSES_KEY: [warehouse]}, lang="en")

    value, n, on_hand = one(
        serve,
        "select sum(stock_value_cny), count(*), sum(on_hand) from marts.inventory_health_by_warehouse "
        "where warehouse_id = ?",
        [warehouse],
    )
    assert tiles(at)["Stock value"] == money(value)
    assert tiles(at)["SKUs"] == integer(n)
    assert tiles(at)["Units on hand"] == integer(on_hand)
    assert set(at.dataframe[-1].value["warehouse_id"]) == {warehouse}
    assert "Warehouses: " + warehouse in " ".join(c.value for c in at.caption)


def test_overdue_purchase_orders_are_flagged_with_the_marts_units(built_serve_path, monkeypatch):
    serve = built_serve_path

    at = render_page(serve, "inventory", monkeypatch)

    skus, units, since = one(
        serve,
        "select count(*), sum(overdue_quantity), min(oldest_overdue_expected_date) "
        "from marts.inventory_health where overdue_quantity > 0",
    )
    warnings = [w.value for w in at.warning]
    if skus == 0:
        assert not any("逾期采购单" in w for w in warnings)
        return
    assert (
        f"{integer(skus)} 个 SKU 有逾期采购单（{integer(units)} 件，最早应于 {since.isoformat()} 到货）"
        in " ".join(warnings)
    )
    tables = {t.key.split("__")[0]: t.value for t in at.dataframe}
    risk = tables["inventory_risk"].set_index("sku")
    flagged = dict(rows(serve, "select sku, overdue_quantity from marts.inventory_health "
                               "where overdue_quantity > 0 and health_status in ('oversold', 'stockout', 'at_risk')"))  # fmt: skip
    assert {sku: int(risk.loc[sku, "overdue_quantity"]) for sku in flagged} == flagged
