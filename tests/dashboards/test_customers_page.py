"""客户 Customers over the built warehouse: KPIs from marts.customer_orders, repurchase per shop equal to
marts.repurchase_rates, RFM segments equal to marts.customers, cohort retention pooled from
marts.customer_cohorts."""

from __future__ import annotations

from dashboards.filters import DATES_KEY, SHOPS_KEY
from dashboards.format import integer, money
from tests.dashboards.pages_helper import default_dates, one, render_page, rows, tiles


def test_kpis_equal_customer_orders_in_the_range(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path
    start, end = default_dates(serve)

    at = render_page(serve, "customers", monkeypatch)

    buyers, orders, new, repeat, spend = one(
        serve,
        "select count(distinct customer_id), count(*), count(*) filter (where customer_type = 'new'), "
        "count(*) filter (where customer_type = 'repeat'), sum(net_spend_cny) "
        "from marts.customer_orders where order_date between ? and ?",
        [start, end],
    )
    assert tiles(at) == {
        "买家数": integer(buyers),
        "新买家": integer(new),
        "回头客订单占比": f"{repeat / orders:.1%}",
        "净消费额": money(spend),
    }


def test_repurchase_and_rfm_tables_equal_the_marts(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path

    at = render_page(serve, "customers", monkeypatch, lang="en")

    rfm, repurchase = at.dataframe[0].value, at.dataframe[1].value
    names = dict(rows(serve, "select shop_name, shop_id from marts.shops"))
    mart = {
        shop: (window, repeat, rate)
        for shop, window, repeat, rate in rows(
            serve,
            "select shop_id, buyers_in_window, repeat_buyers_in_window, repurchase_rate from marts.repurchase_rates",
        )
    }
    assert {
        names[r.shop_name]: (r.buyers_in_window, r.repeat_buyers_in_window, round(r.repurchase_rate, 12))
        for r in repurchase.itertuples()
    } == {shop: (w, n, round(rate, 12)) for shop, (w, n, rate) in mart.items()}
    assert int(rfm["buyers"].sum()) == one(serve, "select count(*) from marts.customers")[0]
    segments = dict(rows(serve, "select rfm_segment, count(*) from marts.customers group by 1"))
    assert sorted(rfm["buyers"]) == sorted(segments.values())
    assert "Champions" in set(rfm["rfm_segment"]) or "champions" not in segments


def test_cohort_retention_pools_the_selected_shops(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path
    first, last = one(serve, "select min(order_date), max(order_date) from marts.daily_shop_sales")

    at = render_page(
        serve, "customers", monkeypatch, **{DATES_KEY: (first, last), SHOPS_KEY: ["tmall_flagship", "jd_pop"]}
    )

    spec = at.get("plotly_chart")[2].proto.spec  # repurchase, new vs repeat, cohorts
    cohort, size, active = one(
        serve,
        """
        with sizes as (
            select cohort_month, sum(cohort_size) as size from marts.customer_cohorts
            where months_since_first = 0 and shop_id in ('tmall_flagship', 'jd_pop') group by 1
        )
        select c.cohort_month, s.size, sum(c.active_buyers)
        from marts.customer_cohorts c join sizes s using (cohort_month)
        where c.months_since_first = 1 and c.shop_id in ('tmall_flagship', 'jd_pop')
        group by 1, 2 order by 1 limit 1
        """,
    )
    assert f"{cohort:%Y-%m} ({size:,})" in spec
    assert f"{active / size:.0%}" in spec
    assert len(at.dataframe[1].value) == 2  # repurchase: the two shops only
