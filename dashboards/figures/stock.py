"""Figures of stock: inventory health and days of cover (Inventory health), demand history and forecast
(Replenishment, SKU detail).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures.common import PALETTE, _base_layout, _label
from dashboards.format import symbol


def demand_history_forecast(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    title: str = "",
    labels: dict[str, str] | None = None,
    height: int = 360,
) -> go.Figure:
    """Units sold per day (bars, `history`: order_date, units) followed by the forecast (`forecast`:
    forecast_date, forecast_units, baseline_units) as lines; a dotted line marks the forecast's first day.
    `labels` names the traces: keys "history", "forecast", "baseline", "today"."""
    labels = {
        "history": "history",
        "forecast": "forecast",
        "baseline": "baseline",
        "today": "",
        **(labels or {}),
    }
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=pd.to_datetime(history["order_date"]),
            y=history["units"].astype(float),
            name=labels["history"],
            marker={"color": "#94a3b8"},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.0f}<extra></extra>",
        )
    )
    if not forecast.empty:
        x = pd.to_datetime(forecast["forecast_date"])
        fig.add_trace(
            go.Scatter(
                x=x,
                y=forecast["forecast_units"].astype(float),
                name=labels["forecast"],
                mode="lines",
                line={"width": 2.5, "color": PALETTE[0]},
                hovertemplate="%{x|%Y-%m-%d}: %{y:,.1f}<extra></extra>",
            )
        )
        if "baseline_units" in forecast:
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=forecast["baseline_units"].astype(float),
                    name=labels["baseline"],
                    mode="lines",
                    line={"width": 1.5, "color": PALETTE[0], "dash": "dot"},
                    hovertemplate="%{x|%Y-%m-%d}: %{y:,.1f}<extra></extra>",
                )
            )
        fig.add_vline(x=x.min(), line={"color": "#64748b", "dash": "dot", "width": 1})
    _base_layout(fig, title, height)
    fig.update_layout(
        hovermode="x unified",
        bargap=0.15,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(tickformat="%m-%d", showgrid=False)
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero")
    return fig


HEALTH_ORDER = ["oversold", "stockout", "at_risk", "dead", "overstock", "healthy"]
HEALTH_COLORS = {
    "oversold": "#7f1d1d",
    "stockout": "#dc2626",
    "at_risk": "#f97316",
    "dead": "#64748b",
    "overstock": "#ca8a04",
    "healthy": "#16a34a",
}
COVER_BINS: list[tuple[str, float, float]] = [  # (key, low inclusive, high exclusive) of days of cover
    ("negative", float("-inf"), 0.0),
    ("zero", 0.0, 1e-9),
    ("d0_7", 1e-9, 7.0),
    ("d7_14", 7.0, 14.0),
    ("d14_30", 14.0, 30.0),
    ("d30_60", 30.0, 60.0),
    ("d60_120", 60.0, 120.0),
    ("d120_plus", 120.0, float("inf")),
]
COVER_BIN_ORDER = [key for key, _, _ in COVER_BINS] + ["no_demand"]
COVER_COLORS = {
    "negative": "#7f1d1d",
    "zero": "#dc2626",
    "d0_7": "#f97316",
    "d7_14": "#fb923c",
    "d14_30": "#facc15",
    "d30_60": "#16a34a",
    "d60_120": "#15803d",
    "d120_plus": "#ca8a04",
    "no_demand": "#94a3b8",
}


def inventory_status_bars(
    mix: pd.DataFrame,
    value: str = "skus",
    labels: dict[str, str] | None = None,
    title: str = "",
    money: bool = False,
    height: int = 300,
) -> go.Figure:
    """One horizontal bar per health status (worst on top, HEALTH_COLORS) of `value` (`mix`: health_status and
    `value`, e.g. skus or stock_value_cny); statuses absent from `mix` show as 0 so the order never shifts."""
    values = mix.set_index("health_status")[value].astype(float) if not mix.empty else pd.Series(dtype=float)
    order = list(reversed(HEALTH_ORDER))  # plotly draws horizontal bars bottom-up
    xs = [float(values.get(status, 0.0)) for status in order]
    total = sum(xs)
    text = [
        (f"{symbol()}{x:,.0f}" if money else f"{x:,.0f}") + (f" · {x / total:.0%}" if total > 0 else "")
        for x in xs
    ]
    fig = go.Figure(
        go.Bar(
            x=xs,
            y=[_label(labels, s) for s in order],
            orientation="h",
            marker={"color": [HEALTH_COLORS[s] for s in order]},
            text=text,
            textposition="outside",
            cliponaxis=False,
            customdata=order,
            hovertemplate="%{y}: " + (symbol() + "%{x:,.2f}" if money else "%{x:,}") + "<extra></extra>",
        )
    )
    _base_layout(fig, title, height)
    fig.update_layout(showlegend=False, bargap=0.3)
    fig.update_xaxes(
        tickprefix=symbol() if money else "",
        tickformat=",.0f",
        range=[0, (max(xs) if xs else 0) * (2.0 if money else 1.35) or 1],
    )
    return fig


def cover_bin(days_of_cover: float | None) -> str:
    """The COVER_BINS key of a days-of-cover value; "no_demand" for null (no demand, cover undefined)."""
    if days_of_cover is None or days_of_cover != days_of_cover:
        return "no_demand"
    for key, low, high in COVER_BINS:
        if low <= days_of_cover < high:
            return key
    return "d120_plus"


def days_of_cover_histogram(
    rows: pd.DataFrame, labels: dict[str, str] | None = None, title: str = "", height: int = 320
) -> go.Figure:
    """SKUs per days-of-cover band (`rows`: days_of_cover, stock_value_cny), bands in COVER_BIN_ORDER (empty ones
    too); the hover shows the band's stock value."""
    bins = rows["days_of_cover"].map(cover_bin) if not rows.empty else pd.Series(dtype=str)
    value = rows["stock_value_cny"].astype(float) if not rows.empty else pd.Series(dtype=float)
    counts = bins.value_counts()
    values = value.groupby(bins).sum() if not rows.empty else pd.Series(dtype=float)
    fig = go.Figure(
        go.Bar(
            x=[_label(labels, key) for key in COVER_BIN_ORDER],
            y=[int(counts.get(key, 0)) for key in COVER_BIN_ORDER],
            marker={"color": [COVER_COLORS[key] for key in COVER_BIN_ORDER]},
            customdata=[float(values.get(key, 0.0)) for key in COVER_BIN_ORDER],
            text=[int(counts.get(key, 0)) or "" for key in COVER_BIN_ORDER],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:,} · " + symbol() + "%{customdata:,.0f}<extra></extra>",
        )
    )
    _base_layout(fig, title, height)
    fig.update_layout(showlegend=False, bargap=0.2)
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=",d", rangemode="tozero")
    return fig
