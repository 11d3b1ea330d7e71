"""Figures of sales and margin: trends and the split per shop (Overview, Channels), margin per month (SKU detail),
the margin waterfall (SKU margin) and promotions against their baseline (Promotions).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures.common import PALETTE, _base_layout, _label, _yuan, shop_colors
from dashboards.format import symbol


def trend_by_shop(
    daily: pd.DataFrame,
    value: str = "net_revenue_cny",
    title: str = "",
    colors: dict[str, str] | None = None,
    height: int = 380,
) -> go.Figure:
    """Daily line per shop: x = order_date, y = `value`; one trace per shop_id, named by shop_name, the
    shop with the largest total first.

    `daily` has columns order_date, shop_id, shop_name (optional) and `value`.
    """
    colors = colors or shop_colors(daily["shop_id"])
    fig = go.Figure()
    order = daily.groupby("shop_id")[value].sum().astype(float).sort_values(ascending=False).index
    groups = dict(list(daily.sort_values("order_date").groupby("shop_id")))
    for shop_id in order:  # legend order: largest shop first
        rows = groups[shop_id]
        name = str(rows["shop_name"].iloc[0]) if "shop_name" in rows else str(shop_id)
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(rows["order_date"]),
                y=rows[value].astype(float),
                name=name,
                mode="lines",
                line={"width": 2, "color": colors.get(str(shop_id))},
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{name}: {symbol()}%{{y:,.2f}}<extra></extra>",
                meta={"shop_id": shop_id},
            )
        )
    _base_layout(fig, title, height)
    fig.update_layout(
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(tickformat="%m-%d", showgrid=False)
    fig.update_yaxes(tickprefix=symbol(), tickformat=",.0f", rangemode="tozero")
    return fig


def shop_split(
    by_shop: pd.DataFrame,
    value: str = "net_revenue_cny",
    title: str = "",
    colors: dict[str, str] | None = None,
    height: int = 380,
) -> go.Figure:
    """Horizontal bar per shop of `value` for the range, largest on top, labelled with the reporting currency and share.

    `by_shop` has columns shop_id, shop_name (optional) and `value`. Bars (not a pie) so that a shop with
    negative net revenue (refunds above sales) still shows.
    """
    colors = colors or shop_colors(by_shop["shop_id"])
    rows = by_shop.sort_values(value, ascending=True)
    values = rows[value].astype(float)
    total = float(values.sum())
    names = rows["shop_name"] if "shop_name" in rows else rows["shop_id"]
    labels = [f"{symbol()}{v:,.0f}" + (f" · {v / total:.0%}" if total > 0 else "") for v in values]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=names.astype(str),
            orientation="h",
            marker={"color": [colors.get(str(s)) for s in rows["shop_id"]]},
            text=labels,
            textposition="auto",
            hovertemplate="%{y}: " + symbol() + "%{x:,.2f}<extra></extra>",
            customdata=rows["shop_id"].astype(str),
        )
    )
    _base_layout(fig, title, height)
    fig.update_layout(showlegend=False, bargap=0.35)
    fig.update_xaxes(tickprefix=symbol(), tickformat=",.0f")
    return fig


def value_formats(kind: str) -> tuple[str, str, str]:
    """kind (money, count, rate) -> (hover format of a y value, y-axis prefix, y-axis tick format)."""
    return {
        "money": (symbol() + "%{y:,.2f}", symbol(), ",.0f"),
        "count": ("%{y:,.0f}", "", ",.0f"),
        "rate": ("%{y:.1%}", "", ".0%"),
    }[kind]


def metric_trend_by_shop(
    daily: pd.DataFrame,
    value: str,
    title: str = "",
    colors: dict[str, str] | None = None,
    kind: str = "money",
    height: int = 380,
) -> go.Figure:
    """Like `trend_by_shop`, for any daily column: `kind` "money" (the reporting currency), "count" or "rate" (a fraction shown
    in %) sets the hover and axis format. Days where the value is null (a ratio without a base) are gaps."""
    hover, prefix, tickformat = value_formats(kind)
    colors = colors or shop_colors(daily["shop_id"])
    fig = go.Figure()
    totals = daily.groupby("shop_id")[value].sum(min_count=1).astype(float).fillna(0)
    groups = dict(list(daily.sort_values("order_date").groupby("shop_id")))
    for shop_id in totals.sort_values(ascending=False).index:
        rows = groups[shop_id]
        name = str(rows["shop_name"].iloc[0]) if "shop_name" in rows else str(shop_id)
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(rows["order_date"]),
                y=pd.to_numeric(rows[value], errors="coerce").astype(float),
                name=name,
                mode="lines",
                line={"width": 2, "color": colors.get(str(shop_id))},
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{name}: {hover}<extra></extra>",
                meta={"shop_id": shop_id},
            )
        )
    _base_layout(fig, title, height)
    fig.update_layout(
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(tickformat="%m-%d", showgrid=False)
    fig.update_yaxes(tickprefix=prefix, tickformat=tickformat, rangemode="tozero")
    return fig


def margin_by_shop_month(
    margins: pd.DataFrame,
    title: str = "",
    colors: dict[str, str] | None = None,
    height: int = 340,
) -> go.Figure:
    """Contribution margin per order month, one bar group per shop (`margins`: month, shop_id, shop_name
    (optional), contribution_margin_cny); negative months show below the axis."""
    colors = colors or shop_colors(margins["shop_id"])
    fig = go.Figure()
    for shop_id, rows in margins.sort_values("month").groupby("shop_id", sort=True):
        name = str(rows["shop_name"].iloc[0]) if "shop_name" in rows else str(shop_id)
        fig.add_trace(
            go.Bar(
                x=pd.to_datetime(rows["month"]).dt.strftime("%Y-%m"),
                y=rows["contribution_margin_cny"].astype(float),
                name=name,
                marker={"color": colors.get(str(shop_id))},
                hovertemplate=f"%{{x}} {name}: {symbol()}%{{y:,.2f}}<extra></extra>",
            )
        )
    _base_layout(fig, title, height)
    fig.update_layout(
        barmode="group",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickprefix=symbol(), tickformat=",.0f", zeroline=True)
    return fig


WATERFALL_STEPS = [  # (label key, sku_margins column, sign) from net sales down to contribution margin
    ("net_sales", "net_sales_cny", 1),
    ("refunds", "refunds_cny", -1),
    ("cogs", "cogs_cny", -1),
    ("platform_fees", "platform_fees_cny", -1),
    ("fulfilment", "fulfilment_cost_cny", -1),
    ("return_cost", "return_cost_cny", -1),
]
LOSS_COLOR = "#dc2626"
GAIN_COLOR = "#16a34a"


def margin_waterfall(
    totals: dict, labels: dict[str, str] | None = None, title: str = "", height: int = 380
) -> go.Figure:
    """Plotly waterfall from net sales to contribution margin over summed sku_margins columns (`totals`: the
    WATERFALL_STEPS columns and contribution_margin_cny): net sales, minus refunds, COGS, platform fees,
    fulfilment and return cost, then the contribution margin as the total bar. The mart's margin is each row's
    net revenue minus those costs, so the total bar equals Σ contribution_margin_cny."""
    steps = [(key, float(totals[column]) * sign) for key, column, sign in WATERFALL_STEPS]
    margin = float(totals["contribution_margin_cny"])
    x = [_label(labels, key) for key, _ in steps] + [_label(labels, "contribution_margin")]
    y = [value for _, value in steps] + [margin]
    fig = go.Figure(
        go.Waterfall(
            x=x,
            y=y,
            measure=["absolute"] + ["relative"] * (len(steps) - 1) + ["total"],
            text=[_yuan(v) for v in y],
            textposition="outside",
            cliponaxis=False,
            increasing={"marker": {"color": GAIN_COLOR}},
            decreasing={"marker": {"color": LOSS_COLOR}},
            totals={"marker": {"color": PALETTE[0] if margin >= 0 else LOSS_COLOR}},
            connector={"line": {"color": "#cbd5e1", "width": 1}},
            hovertemplate="%{x}: " + symbol() + "%{y:,.2f}<extra></extra>",
        )
    )
    _base_layout(fig, title, height)
    fig.update_layout(showlegend=False)
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickprefix=symbol(), tickformat=",.0f")
    return fig


def _promo_names(promos: pd.DataFrame) -> list[str]:
    shop = promos["shop_name"] if "shop_name" in promos else promos["shop_id"]
    return [
        f"{p} · {s} · {n}" for p, s, n in zip(promos["promo_id"], shop, promos["promo_name"], strict=True)
    ]


def promo_vs_baseline(
    promos: pd.DataFrame, labels: dict[str, str] | None = None, title: str = "", height: int | None = None
) -> go.Figure:
    """Units sold during each promotion against its baseline (what the same SKUs would have sold without it),
    two horizontal bars per promotion (`promos`: promo_id, promo_name, shop_name, promo_units, baseline_units,
    loss_making); a loss-making promotion's name is marked ▼."""
    rows = promos.iloc[::-1]  # first row on top
    names = [
        ("▼ " if loss else "") + name
        for name, loss in zip(_promo_names(rows), rows["loss_making"], strict=True)
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names,
            x=rows["baseline_units"].astype(float).tolist(),
            name=_label(labels, "baseline"),
            orientation="h",
            marker={"color": "#94a3b8"},
            hovertemplate="%{y}<br>%{x:,.1f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=rows["promo_units"].astype(float).tolist(),
            name=_label(labels, "promo"),
            orientation="h",
            marker={"color": PALETTE[0]},
            hovertemplate="%{y}<br>%{x:,.0f}<extra></extra>",
        )
    )
    _base_layout(fig, title, height or max(260, 60 + 46 * len(rows)))
    fig.update_layout(
        barmode="group",
        bargap=0.25,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(tickformat=",.0f", rangemode="tozero")
    return fig


def promotion_lift(
    promos: pd.DataFrame, labels: dict[str, str] | None = None, title: str = "", height: int | None = None
) -> go.Figure:
    """Each promotion's lift (promo_units / baseline_units − 1) as a dot with its 95 % interval as error bars
    (`promos`: promo_id, promo_name, shop_name, lift_pct, lift_pct_low, lift_pct_high, loss_making); red dots
    lose money. An interval crossing 0 means too few units to tell a lift from chance."""
    rows = promos[promos["lift_pct"].notna()].iloc[::-1]
    lift = rows["lift_pct"].astype(float)
    fig = go.Figure(
        go.Scatter(
            x=lift.tolist(),
            y=_promo_names(rows),
            mode="markers",
            marker={
                "size": 11,
                "color": [LOSS_COLOR if loss else GAIN_COLOR for loss in rows["loss_making"]],
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (rows["lift_pct_high"].astype(float) - lift).clip(lower=0).tolist(),
                "arrayminus": (lift - rows["lift_pct_low"].astype(float)).clip(lower=0).tolist(),
                "color": "#64748b",
                "thickness": 1.5,
            },
            customdata=rows[["lift_pct_low", "lift_pct_high"]].astype(float).to_numpy().tolist(),
            hovertemplate="%{y}<br>%{x:+.0%} (%{customdata[0]:+.0%} … %{customdata[1]:+.0%})<extra></extra>",
            name=_label(labels, "lift"),
        )
    )
    fig.add_vline(x=0, line={"color": "#94a3b8", "width": 1})
    _base_layout(fig, title, height or max(240, 60 + 34 * len(rows)))
    fig.update_layout(showlegend=False)
    fig.update_xaxes(tickformat="+.0%")
    return fig
