"""Figure builders of the overview, channels, SKU drill-down and wall: pure DataFrame -> Figure."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from dashboards.figures.sales import margin_by_shop_month, metric_trend_by_shop
from dashboards.figures.stock import demand_history_forecast


@pytest.fixture
def daily() -> pd.DataFrame:
    days = [date(2026, 6, 1) + timedelta(days=i) for i in range(3)]
    return pd.DataFrame(
        {
            "order_date": days * 2,
            "shop_id": ["a"] * 3 + ["b"] * 3,
            "shop_name": ["天猫"] * 3 + ["京东"] * 3,
            "orders": [1, 2, 3, 10, 20, 30],
            "refund_rate": [0.1, None, 0.2, 0.0, 0.05, 0.1],
        }
    )


def test_a_count_trend_has_one_line_per_shop_largest_first_without_a_yuan_sign(daily):
    fig = metric_trend_by_shop(daily, "orders", title="订单数", kind="count")

    assert [t.name for t in fig.data] == ["京东", "天猫"]
    assert "¥" not in fig.data[0].hovertemplate and fig.layout.yaxis.tickprefix == ""
    assert list(fig.data[0].y) == [10, 20, 30]


def test_a_rate_trend_shows_percent_and_leaves_a_gap_where_the_rate_has_no_base(daily):
    fig = metric_trend_by_shop(daily, "refund_rate", kind="rate")

    tianmao = next(t for t in fig.data if t.name == "天猫")
    assert pd.isna(tianmao.y[1])
    assert fig.layout.yaxis.tickformat == ".0%" and "%{y:.1%}" in tianmao.hovertemplate


def test_the_demand_chart_puts_history_bars_before_the_forecast_and_marks_its_first_day():
    history = pd.DataFrame({"order_date": [date(2026, 6, 28), date(2026, 6, 29)], "units": [3, 5]})
    forecast = pd.DataFrame(
        {
            "forecast_date": [date(2026, 6, 30), date(2026, 7, 1)],
            "forecast_units": [4.5, 6.0],
            "baseline_units": [4.0, 4.0],
        }
    )

    fig = demand_history_forecast(
        history, forecast, labels={"history": "已售", "forecast": "预测", "baseline": "基线"}
    )

    assert [(t.type, t.name) for t in fig.data] == [("bar", "已售"), ("scatter", "预测"), ("scatter", "基线")]
    assert list(fig.data[1].y) == [4.5, 6.0]
    (line,) = fig.layout.shapes
    assert pd.Timestamp(line.x0) == pd.Timestamp("2026-06-30")


def test_the_demand_chart_without_a_forecast_shows_the_history_only():
    history = pd.DataFrame({"order_date": [date(2026, 6, 28)], "units": [3]})
    empty = pd.DataFrame(columns=["forecast_date", "forecast_units", "baseline_units"])

    fig = demand_history_forecast(history, empty)

    assert len(fig.data) == 1 and not fig.layout.shapes


def test_margin_by_month_groups_bars_per_shop_and_keeps_negative_months():
    margins = pd.DataFrame(
        {
            "month": [date(2026, 5, 1), date(2026, 6, 1), date(2026, 6, 1)],
            "shop_id": ["a", "a", "b"],
            "shop_name": ["天猫", "天猫", "京东"],
            "contribution_margin_cny": [120.5, -30.0, 80.0],
        }
    )

    fig = margin_by_shop_month(margins, colors={"a": "#111111", "b": "#222222"})

    assert fig.layout.barmode == "group"
    tianmao = next(t for t in fig.data if t.name == "天猫")
    assert list(tianmao.x) == ["2026-05", "2026-06"] and list(tianmao.y) == [120.5, -30.0]
    assert tianmao.marker.color == "#111111"
