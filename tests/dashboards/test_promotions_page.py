"""促销 Promotions over the built warehouse: the promotions overlapping the range, their incremental profit and
ROI equal marts.promotion_results, loss-makers called out."""

from __future__ import annotations

import plotly.io

from dashboards.filters import DATES_KEY
from dashboards.format import integer, money, percent
from tests.dashboards.pages_helper import one, render_page, rows, tiles


def test_every_promotion_of_the_range_is_listed_with_profit_and_roi_equal_to_the_mart(
    built_serve_path, monkeypatch
):
    serve = built_serve_path
    first, last = one(serve, "select min(order_date), max(order_date) from marts.daily_shop_sales")

    at = render_page(serve, "promotions", monkeypatch, **{DATES_KEY: (first, last)})

    n, losing, profit, cost = one(
        serve,
        "select count(*), count(*) filter (where loss_making), sum(incremental_profit_cny), sum(promo_cost_cny) "
        "from marts.promotion_results where start_date <= ? and end_date >= ?",
        [last, first],
    )
    assert n > 0, "the small shop runs promotions"
    assert tiles(at) == {
        "促销活动": integer(n),
        "亏损活动": integer(losing),
        "增量利润": money(profit),
        "促销成本": money(cost),
        "ROI": percent(profit / cost),
    }
    table = at.dataframe[0].value
    expected = {r[0] for r in rows(serve, "select promo_id from marts.promotion_results "
                                          "where start_date <= ? and end_date >= ?", [last, first])}  # fmt: skip
    assert set(table["promo_id"]) == expected
    if losing:
        (alert,) = [w.value for w in at.warning]
        assert alert.startswith(f"{losing} 个活动亏损")
    with_baseline = one(
        serve,
        "select count(*) from marts.promotion_results where start_date <= ? and end_date >= ? "
        "and baseline_units is not null and lift_pct is not null",
        [last, first],
    )[0]
    lift = plotly.io.from_json(at.get("plotly_chart")[1].proto.spec).data[0]
    assert lift.error_x.type == "data" and len(lift.x) == with_baseline


def test_a_range_without_promotions_says_so(built_serve_path, monkeypatch):
    serve = built_serve_path
    first = one(serve, "select min(order_date) from marts.daily_shop_sales")[0]
    quiet = one(
        serve,
        "select count(*) from marts.promotion_results where start_date <= ? and end_date >= ?",
        [first, first],
    )[0]

    at = render_page(serve, "promotions", monkeypatch, **{DATES_KEY: (first, first)}, lang="en")

    if quiet == 0:
        assert [i.value for i in at.info] == ["No promotions in the selected dates and shops."]
    else:
        assert len(at.dataframe[0].value) == quiet
