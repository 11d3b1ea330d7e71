"""Plotly figure builders: pure functions DataFrame -> go.Figure (no Streamlit), unit-testable.

Labels come in as arguments (already translated by the page); each shop keeps the same colour in every
figure (`shop_colors`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777"]
FONT = "Source Sans Pro, PingFang SC, Microsoft YaHei, Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"
MONEY_HOVER = "¥%{y:,.2f}"


def shop_colors(shop_ids: Iterable[str]) -> dict[str, str]:
    """A stable colour per shop id (sorted ids take the palette in order)."""
    return {shop: PALETTE[i % len(PALETTE)] for i, shop in enumerate(sorted(set(shop_ids)))}


def _base_layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        template="plotly_white",
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 8, "r": 8, "t": 48, "b": 8},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig


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
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{name}: {MONEY_HOVER}<extra></extra>",
                meta={"shop_id": shop_id},
            )
        )
    _base_layout(fig, title, height)
    fig.update_layout(
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(tickformat="%m-%d", showgrid=False)
    fig.update_yaxes(tickprefix="¥", tickformat=",.0f", rangemode="tozero")
    return fig


def shop_split(
    by_shop: pd.DataFrame,
    value: str = "net_revenue_cny",
    title: str = "",
    colors: dict[str, str] | None = None,
    height: int = 380,
) -> go.Figure:
    """Horizontal bar per shop of `value` for the range, largest on top, labelled with ¥ and share.

    `by_shop` has columns shop_id, shop_name (optional) and `value`. Bars (not a pie) so that a shop with
    negative net revenue (refunds above sales) still shows.
    """
    colors = colors or shop_colors(by_shop["shop_id"])
    rows = by_shop.sort_values(value, ascending=True)
    values = rows[value].astype(float)
    total = float(values.sum())
    names = rows["shop_name"] if "shop_name" in rows else rows["shop_id"]
    labels = [f"¥{v:,.0f}" + (f" · {v / total:.0%}" if total > 0 else "") for v in values]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=names.astype(str),
            orientation="h",
            marker={"color": [colors.get(str(s)) for s in rows["shop_id"]]},
            text=labels,
            textposition="auto",
            hovertemplate="%{y}: ¥%{x:,.2f}<extra></extra>",
            customdata=rows["shop_id"].astype(str),
        )
    )
    _base_layout(fig, title, height)
    fig.update_layout(showlegend=False, bargap=0.35)
    fig.update_xaxes(tickprefix="¥", tickformat=",.0f")
    return fig
