"""售后 Returns over the built warehouse: the injected size-return hotspot is the first thing on the page,
and the numbers equal marts.return_analysis / return_shop_comparison."""

from __future__ import annotations

from datetime import date

import duckdb

from dashboards.filters import DATES_KEY, SHOPS_KEY
from dashboards.format import integer, money
from dashboards.queries import returns
from tests.dashboards.pages_helper import default_dates, month_start, one, render_page, rows, tiles


def pct(value: float) -> str:
    return f"{value:.1%}"


def test_the_injected_size_return_hotspot_is_flagged_on_top_with_its_sku_and_shop(
    built_warehouse, demo_stack, monkeypatch
):
    serve = built_warehouse.serve_path
    flags = demo_stack.world.truth_flags
    (hotspot,) = flags[flags["kind"] == "size_return_hotspot"].itertuples()

    at = render_page(serve, "returns", monkeypatch)

    alerts = [e.value for e in at.warning]
    assert alerts and hotspot.sku in alerts[0] and hotspot.shop_id in alerts[0]
    hot_table = at.dataframe[0].value
    assert (hot_table["sku"].iloc[0], hot_table["shop_name"].iloc[0]) == (
        hotspot.sku,
        one(serve, "select shop_name from marts.shops where shop_id = ?", [hotspot.shop_id])[0],
    )
    mart = rows(
        serve, "select sku, shop_id from marts.return_shop_comparison where is_return_hotspot order by 1, 2"
    )
    assert len(hot_table) == len(mart) == len(alerts)
    # the heatmap opens on the hotspot's category with the hotspot cell marked
    category = one(serve, "select category from marts.skus where sku = ?", [hotspot.sku])[0]
    assert at.selectbox(key="returns_category").value == category
    heatmap = at.get("plotly_chart")[0].proto.spec
    assert "⚠" in heatmap and hotspot.sku in heatmap


def test_kpis_equal_the_mart_over_the_order_months_of_the_range(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path
    start, end = default_dates(serve)

    at = render_page(serve, "returns", monkeypatch)

    sold, returned, size, refunds = one(
        serve,
        "select sum(units_sold), sum(units_returned), sum(returned_size), sum(refund_amount_cny) "
        "from marts.return_analysis where order_month between ? and ?",
        [month_start(start), end],
    )
    assert tiles(at) == {
        "销售件数": integer(sold),
        "退货件数": integer(returned),
        "退货率": pct(returned / sold),
        "尺码退货率": pct(size / sold),
        "退款金额": money(refunds),
    }
    table = at.dataframe[-1].value
    pairs = one(
        serve,
        "select count(distinct (sku, shop_id)) from marts.return_analysis where order_month between ? and ?",
        [month_start(start), end],
    )[0]
    assert len(table) == pairs
    assert int(table["units_returned"].sum()) == returned


def test_one_shop_and_a_longer_range_cut_every_number_the_same_way(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path
    first, last = one(serve, "select min(order_date), max(order_date) from marts.daily_shop_sales")

    at = render_page(
        serve, "returns", monkeypatch, lang="en", **{DATES_KEY: (first, last), SHOPS_KEY: ["jd_pop"]}
    )

    sold, returned = one(
        serve,
        "select sum(units_sold), sum(units_returned) from marts.return_analysis "
        "where shop_id = 'jd_pop' and order_month between ? and ?",
        [month_start(first), last],
    )
    assert tiles(at)["Units sold"] == integer(sold)
    assert tiles(at)["Return rate"] == pct(returned / sold)
    assert set(at.dataframe[-1].value["shop_name"]) <= {"jd_pop"}
    reasons = one(
        serve,
        "select sum(returned_size), sum(returned_quality) from marts.return_analysis where shop_id = 'jd_pop'",
    )
    spec = at.get("plotly_chart")[-1].proto.spec  # the reason mix
    assert "Size" in spec and (reasons[1] == 0 or "Quality" in spec)


def test_the_table_keeps_the_pairs_with_most_returns_and_names_the_top_reason_ties_alphabetical(
    built_warehouse, tmp_path
):
    serve = tmp_path / "serve.duckdb"
    with duckdb.connect(str(serve)) as con:
        con.execute(f"attach '{built_warehouse.serve_path}' as built (read_only)")
        con.execute("create schema marts")
        con.execute("create table marts.shops as select * from built.marts.shops")
        con.execute("create table marts.period_ratios as select * from built.marts.period_ratios")
        con.execute("create table marts.return_analysis as select * from built.marts.return_analysis limit 0")
        con.execute(
            """
            insert into marts.return_analysis by name
            select * from (values
                ('A', 'jd_pop', date '2026-06-01', 10, 4, 0, 2, 2, 0, 0, 0, 0),  -- size 2 = quality 2: quality
                ('A', 'jd_pop', date '2026-05-01', 10, 0, 0, 0, 0, 0, 0, 0, 0),
                ('B', 'jd_pop', date '2026-06-01', 10, 1, 0, 0, 0, 0, 0, 1, 0),  -- late
                ('C', 'jd_pop', date '2026-06-01', 10, 0, 0, 0, 0, 0, 0, 0, 0)   -- no returns
            ) as v(sku, shop_id, order_month, units_sold, units_returned, returned_changed_mind, returned_quality,
                   returned_size, returned_damaged, returned_not_as_described, returned_late, returned_other)
            """
        )

    table = returns.returns_by_sku_shop(str(serve), ("t", 1), date(2026, 5, 1), date(2026, 6, 30), (), (), 2)

    assert list(table["sku"]) == ["A", "B"]  # most returned units first, limited to 2
    assert list(table["top_reason"]) == ["quality", "late"]
    assert list(table["units_sold"]) == [20, 10] and list(table["return_rate"]) == [0.2, 0.1]
    assert set(table["pairs_total"]) == {3}
