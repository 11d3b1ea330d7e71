"""渠道 Channels over the built warehouse: the day's tiles against the same day last week, and the tables, equal
marts.channel_daily_performance."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.filters import DATES_KEY, SHOPS_KEY, default_range
from dashboards.format import integer, money, pct_change

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def channels(serve: Path, monkeypatch: pytest.MonkeyPatch, **state: object) -> AppTest:
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(serve))
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("views/channels.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rows(serve: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(serve), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def last_day(serve: Path):
    return rows(serve, "select max(order_date) from marts.daily_shop_sales")[0][0]


def test_the_days_tiles_equal_the_mart_and_compare_with_the_same_day_last_week(built_serve_path, monkeypatch):
    at = channels(built_serve_path, monkeypatch)

    day = last_day(built_serve_path)
    ((gmv, gmv_lw, orders, orders_lw, net_sales, margin),) = rows(
        built_serve_path,
        "select gmv_cny, gmv_cny_last_week, orders, orders_last_week, net_sales_cny, contribution_margin_cny "
        "from marts.channel_daily_performance where shop_id = 'all' and order_date = ?",
        [day],
    )
    tiles = {m.label: (m.value, m.delta) for m in at.metric}
    assert tiles["GMV 成交额"] == (money(gmv), pct_change(gmv, gmv_lw))
    assert tiles["订单数"] == (integer(orders), pct_change(orders, orders_lw))
    assert tiles["客单价"][0] == money((net_sales / orders).quantize(Decimal("0.01"), ROUND_HALF_UP))
    assert tiles["贡献毛利"][0] == money(margin)


def test_the_day_table_shows_each_shops_last_week_and_last_year_columns_from_the_mart(
    built_serve_path, monkeypatch
):
    at = channels(built_serve_path, monkeypatch)

    day = last_day(built_serve_path)
    expected = {
        shop: (float(gmv), float(gmv_lw), orders, orders_lw)
        for shop, gmv, gmv_lw, orders, orders_lw in rows(
            built_serve_path,
            "select coalesce(s.shop_name, c.shop_id), gmv_cny, gmv_cny_last_week, orders, orders_last_week "
            "from marts.channel_daily_performance c left join marts.shops s using (shop_id) "
            "where not is_total and order_date = ?",
            [day],
        )
    }
    table = at.dataframe[0].value
    shown = {
        r.shop_name: (float(r.gmv_cny), float(r.gmv_cny_last_week), r.orders, r.orders_last_week)
        for r in table.itertuples()
    }
    assert shown == expected
    assert list(table["gmv_cny"]) == sorted(table["gmv_cny"], reverse=True)
    top = table.iloc[0]
    assert top["gmv_vs_last_week"] == pytest.approx(
        float(top["gmv_cny"]) / float(top["gmv_cny_last_week"]) - 1
    )


def test_the_range_table_sums_the_selected_shops_over_the_date_range(built_serve_path, monkeypatch):
    day = last_day(built_serve_path)
    start, end = day - timedelta(days=13), day
    at = channels(
        built_serve_path, monkeypatch, **{DATES_KEY: (start, end), SHOPS_KEY: ["pdd_main", "jd_pop"]}
    )

    table = at.dataframe[1].value.set_index("shop_name")
    for shop in ("pdd_main", "jd_pop"):
        ((gmv, net_revenue, orders, refunds, net_sales),) = rows(
            built_serve_path,
            "select sum(gmv_cny), sum(net_revenue_cny), sum(orders), sum(refunds_cny), sum(net_sales_cny) "
            "from marts.channel_daily_performance where shop_id = ? and order_date between ? and ?",
            [shop, start, end],
        )
        assert float(table.loc[shop, "gmv_cny"]) == float(gmv)
        assert float(table.loc[shop, "net_revenue_cny"]) == float(net_revenue)
        assert table.loc[shop, "orders"] == orders
        assert table.loc[shop, "refund_rate"] == pytest.approx(float(refunds / net_sales))
    assert len(table) == 2


def test_every_trend_measure_draws_without_error(built_serve_path, monkeypatch):
    at = channels(built_serve_path, monkeypatch)

    for measure in at.segmented_control(key="channels_trend_metric").options:
        at.segmented_control(key="channels_trend_metric").set_value(measure).run()
        assert not at.exception, measure


def test_the_range_defaults_to_the_last_30_days_and_english_labels_the_tiles(built_serve_path, monkeypatch):
    at = channels(built_serve_path, monkeypatch, lang="en")

    first, last = rows(
        built_serve_path, "select min(order_date), max(order_date) from marts.daily_shop_sales"
    )[0]
    assert at.date_input(key=DATES_KEY).value == default_range(first, last)
    assert [m.label for m in at.metric] == ["GMV", "Net revenue", "Orders", "AOV", "Contribution margin"]
