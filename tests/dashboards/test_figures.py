"""Figure builders are pure functions: one trace per shop, values exactly the input rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures.common import shop_colors
from dashboards.figures.sales import shop_split, trend_by_shop


def daily_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_date": [
                date(2026, 6, 2),
                date(2026, 6, 1),
                date(2026, 6, 1),
                date(2026, 6, 2),
                date(2026, 6, 1),
            ],
            "shop_id": ["jd_pop", "jd_pop", "tmall_flagship", "tmall_flagship", "shopify_global"],
            "shop_name": ["京东POP店", "京东POP店", "天猫旗舰店", "天猫旗舰店", "Shopify 独立站"],
            "net_revenue_cny": [
                Decimal("20.50"),
                Decimal("10.25"),
                Decimal("300.00"),
                Decimal("-5.00"),
                Decimal("7"),
            ],
        }
    )


def test_the_trend_has_one_line_per_shop_named_by_shop_name_with_the_input_values_in_date_order():
    fig = trend_by_shop(daily_frame(), "net_revenue_cny", title="每日净收入")

    assert isinstance(fig, go.Figure)
    by_name = {trace.name: trace for trace in fig.data}
    assert sorted(by_name) == sorted(["京东POP店", "天猫旗舰店", "Shopify 独立站"])
    jd = by_name["京东POP店"]
    assert [pd.Timestamp(x).date() for x in jd.x] == [date(2026, 6, 1), date(2026, 6, 2)]
    assert list(jd.y) == [10.25, 20.50]
    assert list(by_name["天猫旗舰店"].y) == [300.0, -5.0]
    assert fig.layout.title.text == "每日净收入"
    assert [trace.name for trace in fig.data][0] == "天猫旗舰店"  # largest total first in the legend


def test_a_shop_keeps_its_colour_in_the_trend_and_the_split():
    daily = daily_frame()
    totals = daily.groupby(["shop_id", "shop_name"], as_index=False)["net_revenue_cny"].sum()
    colors = shop_colors(totals["shop_id"])

    trend = trend_by_shop(daily, colors=colors)
    split = shop_split(totals, colors=colors)

    trend_colors = {t.name: t.line.color for t in trend.data}
    split_colors = dict(zip(split.data[0].y, split.data[0].marker.color, strict=True))
    assert trend_colors == split_colors
    assert len(set(trend_colors.values())) == 3


def test_the_shop_split_shows_each_shops_total_with_the_largest_on_top_even_when_negative():
    by_shop = pd.DataFrame(
        {
            "shop_id": ["a", "b", "c"],
            "shop_name": ["店A", "店B", "店C"],
            "net_revenue_cny": [Decimal("100.00"), Decimal("-20.00"), Decimal("300.00")],
        }
    )

    bar = shop_split(by_shop, "net_revenue_cny").data[0]

    # plotly draws horizontal bars bottom-up: the last one is on top
    assert list(bar.y) == ["店B", "店A", "店C"]
    assert list(bar.x) == [-20.0, 100.0, 300.0]
    assert bar.text[-1] == "¥300 · 79%"


def test_an_empty_range_gives_an_empty_figure_rather_than_an_error():
    empty = daily_frame().iloc[0:0]

    assert len(trend_by_shop(empty).data) == 0
