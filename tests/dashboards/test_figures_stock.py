"""Figure builders of the inventory, SKU margin and promotion pages: pure functions, values exactly the input."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboards.figures.sales import (
    GAIN_COLOR,
    LOSS_COLOR,
    margin_waterfall,
    promo_vs_baseline,
    promotion_lift,
)
from dashboards.figures.stock import (
    COVER_BIN_ORDER,
    cover_bin,
    days_of_cover_histogram,
    inventory_status_bars,
)


def test_the_status_bars_keep_every_status_in_a_fixed_order_worst_on_top_with_zero_for_missing_ones():
    mix = pd.DataFrame(
        {
            "health_status": ["healthy", "stockout", "overstock"],
            "skus": [44, 4, 134],
            "stock_value_cny": [Decimal("193104.60"), Decimal("0.00"), Decimal("1387328.20")],
        }
    )

    bar = inventory_status_bars(mix, "skus", labels={"stockout": "缺货"}).data[0]

    # bottom-up: the last bar (on top) is the worst status
    assert list(bar.customdata) == ["healthy", "overstock", "dead", "at_risk", "stockout", "oversold"]
    assert list(bar.x) == [44.0, 134.0, 0.0, 0.0, 4.0, 0.0]
    assert bar.y[4] == "缺货"
    assert bar.text[1] == "134 · 74%"
    money = inventory_status_bars(mix, "stock_value_cny", money=True).data[0]
    assert money.text[1] == "¥1,387,328 · 88%"


def test_days_of_cover_fall_into_bands_with_oversold_zero_and_no_demand_apart():
    assert cover_bin(-2.0) == "negative"
    assert cover_bin(0.0) == "zero"
    assert cover_bin(0.5) == "d0_7"
    assert cover_bin(7.0) == "d7_14"
    assert cover_bin(119.9) == "d60_120"
    assert cover_bin(120.0) == "d120_plus"
    assert cover_bin(None) == "no_demand"
    assert cover_bin(float("nan")) == "no_demand"


def test_the_cover_histogram_counts_skus_per_band_and_carries_each_bands_stock_value():
    rows = pd.DataFrame(
        {
            "days_of_cover": [3.0, 5.0, None, 200.0, -1.0],
            "stock_value_cny": [
                Decimal("10.00"),
                Decimal("5.50"),
                Decimal("99.00"),
                Decimal("1.00"),
                Decimal("0"),
            ],
        }
    )

    bar = days_of_cover_histogram(rows, labels={"d0_7": "0–7 天"}).data[0]

    counts = dict(zip(COVER_BIN_ORDER, bar.y, strict=True))
    values = dict(zip(COVER_BIN_ORDER, bar.customdata, strict=True))
    assert counts == {
        "negative": 1, "zero": 0, "d0_7": 2, "d7_14": 0, "d14_30": 0, "d30_60": 0, "d60_120": 0,
        "d120_plus": 1, "no_demand": 1,
    }  # fmt: skip
    assert values["d0_7"] == 15.5 and values["no_demand"] == 99.0
    assert bar.x[2] == "0–7 天"
    assert len(days_of_cover_histogram(rows.iloc[0:0]).data[0].y) == len(COVER_BIN_ORDER)


def test_the_margin_waterfall_steps_from_net_sales_down_to_the_contribution_margin_it_adds_up_to():
    totals = {
        "net_sales_cny": Decimal("696752.23"),
        "refunds_cny": Decimal("37644.09"),
        "cogs_cny": Decimal("325517.70"),
        "platform_fees_cny": Decimal("40059.29"),
        "fulfilment_cost_cny": Decimal("57134.60"),
        "return_cost_cny": Decimal("3156.00"),
        "contribution_margin_cny": Decimal("233240.55"),
    }

    fig = margin_waterfall(totals, labels={"net_sales": "净销售额", "contribution_margin": "贡献毛利"})
    trace = fig.data[0]

    assert isinstance(trace, go.Waterfall)
    assert list(trace.measure) == [
        "absolute",
        "relative",
        "relative",
        "relative",
        "relative",
        "relative",
        "total",
    ]
    assert list(trace.y) == [696752.23, -37644.09, -325517.70, -40059.29, -57134.60, -3156.00, 233240.55]
    assert sum(trace.y[:-1]) == pytest.approx(trace.y[-1], abs=0.005)
    assert trace.x[0] == "净销售额" and trace.x[-1] == "贡献毛利"
    assert trace.text[-1] == "¥233,241"
    assert trace.text[1] == "¥-37,644"


def promos() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "promo_id": ["P2", "P1"],
            "promo_name": ["双11", "限时折扣"],
            "shop_name": ["天猫旗舰店", "京东POP店"],
            "promo_units": [499, 37],
            "baseline_units": [197.73, 41.51],
            "lift_pct": [1.5237, -0.1087],
            "lift_pct_low": [1.0184, -0.4763],
            "lift_pct_high": [2.1553, 0.5171],
            "loss_making": [False, True],
        }
    )


def test_promo_vs_baseline_draws_both_bars_per_promotion_first_on_top_and_marks_loss_makers():
    fig = promo_vs_baseline(promos(), labels={"baseline": "基线", "promo": "促销期"})

    baseline, promo = fig.data
    assert (baseline.name, promo.name) == ("基线", "促销期")
    assert list(promo.y) == ["▼ P1 · 京东POP店 · 限时折扣", "P2 · 天猫旗舰店 · 双11"]
    assert list(promo.x) == [37.0, 499.0]
    assert list(baseline.x) == [41.51, 197.73]


def test_the_lift_chart_shows_each_interval_around_its_lift_and_colours_loss_makers_red():
    trace = promotion_lift(promos()).data[0]

    assert list(trace.x) == [-0.1087, 1.5237]
    assert list(trace.error_x.arrayminus) == pytest.approx([-0.1087 + 0.4763, 1.5237 - 1.0184])
    assert list(trace.error_x.array) == pytest.approx([0.5171 + 0.1087, 2.1553 - 1.5237])
    assert list(trace.marker.color) == [LOSS_COLOR, GAIN_COLOR]


def test_a_promotion_without_a_baseline_has_no_lift_dot():
    rows = promos()
    rows.loc[0, ["lift_pct", "lift_pct_low", "lift_pct_high"]] = None

    assert len(promotion_lift(rows).data[0].x) == 1
