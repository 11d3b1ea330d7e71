"""Figure builders of the Customers and Order exceptions pages (pure functions, no Streamlit)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboards.figures.customers import (
    exception_reasons,
    new_vs_repeat,
    repurchase_by_shop,
    retention_heatmap,
    rfm_segments,
)


def test_retention_heatmap_rows_are_cohorts_oldest_first_with_their_size():
    cohorts = pd.DataFrame(
        [
            (date(2026, 7, 1), 0, 300, 300, 1.0),
            (date(2026, 7, 1), 1, 300, 120, 0.4),
            (date(2026, 8, 1), 0, 1154, 1154, 1.0),
        ],
        columns=["cohort_month", "months_since_first", "cohort_size", "active_buyers", "retention_rate"],
    )

    fig = retention_heatmap(cohorts, month_label="首单后第 N 个月", size_label="位买家")

    heat = fig.data[0]
    assert list(heat.y) == ["2026-07 (300)", "2026-08 (1,154)"]
    assert list(heat.x) == ["M0", "M1"]
    assert heat.z[0] == [1.0, 0.4] and heat.z[1][1] is None
    assert heat.text[0][1] == "40%" and heat.text[1][1] == ""
    assert heat.customdata[0][1] == "120"
    assert fig.layout.yaxis.autorange == "reversed"


def test_rfm_segments_show_buyers_and_spend_side_by_side_in_the_given_order():
    segments = pd.DataFrame(
        {
            "rfm_segment": ["champions", "lost"],
            "buyers": [10, 30],
            "net_spend_cny": [9000.0, 1000.0],
            "buyer_share": [0.25, 0.75],
            "spend_share": [0.9, 0.1],
        }
    )

    fig = rfm_segments(segments, {"champions": "重要价值客户", "lost": "已流失"})

    buyers, spend = fig.data
    assert list(buyers.y) == ["已流失", "重要价值客户"]  # first row on top
    assert list(buyers.text) == ["30 · 75%", "10 · 25%"]
    assert list(spend.text) == ["¥1,000 · 10%", "¥9,000 · 90%"]
    assert spend.xaxis == "x2"


def test_new_vs_repeat_stacks_new_under_repeat_per_period():
    trend = pd.DataFrame(
        {
            "period": [date(2026, 6, 1), date(2026, 6, 1), date(2026, 6, 2)],
            "customer_type": ["new", "repeat", "new"],
            "orders": [5, 3, 4],
            "net_spend_cny": [50.0, 30.0, 40.0],
        }
    )

    fig = new_vs_repeat(trend, {"new": "新客", "repeat": "回头客"})

    assert [tr.name for tr in fig.data] == ["新客", "回头客"]
    assert list(fig.data[0].y) == [5.0, 4.0] and list(fig.data[1].y) == [3.0]
    assert fig.layout.barmode == "stack"
    money = new_vs_repeat(trend, value="net_spend_cny")
    assert money.layout.yaxis.tickprefix == "¥"


def test_repurchase_by_shop_marks_the_all_time_rate_and_labels_the_counts():
    rates = pd.DataFrame(
        {
            "shop_id": ["a", "b"],
            "shop_name": ["店A", "店B"],
            "repurchase_rate": [0.5, 0.25],
            "repeat_buyers_in_window": [50, 10],
            "buyers_in_window": [100, 40],
            "repurchase_rate_all_time": [0.6, 0.3],
        }
    )

    fig = repurchase_by_shop(rates, colors={"a": "#111111", "b": "#222222"})

    bar, marker = fig.data
    assert list(bar.y) == ["店B", "店A"] and list(bar.text) == ["25.0% (10/40)", "50.0% (50/100)"]
    assert list(bar.marker.color) == ["#222222", "#111111"]
    assert list(marker.x) == [0.3, 0.6] and marker.marker.symbol == "diamond"


def test_exception_reasons_most_common_on_top():
    counts = pd.DataFrame({"reason": ["ship_overdue", "high_value"], "orders": [17, 2]})

    fig = exception_reasons(counts, {"ship_overdue": "超时未发货", "high_value": "高金额"})

    assert list(fig.data[0].y) == ["高金额", "超时未发货"]  # plotly draws the last category on top
    assert list(fig.data[0].text) == ["2", "17"]
