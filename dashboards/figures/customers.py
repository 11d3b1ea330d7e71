"""Figures of customers: cohort retention, RFM segments, new vs repeat buyers, repurchase per shop (Customers),
and the review reasons of the order exceptions queue (Order exceptions).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures.common import _base_layout, _label, shop_colors
from dashboards.format import symbol


def retention_heatmap(
    cohorts: pd.DataFrame,
    title: str = "",
    month_label: str = "month",
    size_label: str = "buyers",
    height: int | None = None,
) -> go.Figure:
    """Cohort retention: rows = cohort_month (oldest on top, labelled with the cohort size), columns =
    months_since_first, cell = retention_rate as a percent. `cohorts` has cohort_month, months_since_first,
    cohort_size, active_buyers, retention_rate (one row per cell)."""
    grid = cohorts.pivot(index="cohort_month", columns="months_since_first", values="retention_rate")
    grid = grid.sort_index()
    sizes = cohorts.groupby("cohort_month")["cohort_size"].first()
    active = cohorts.pivot(index="cohort_month", columns="months_since_first", values="active_buyers")
    active = active.reindex(index=grid.index, columns=grid.columns)
    y = [f"{pd.Timestamp(m):%Y-%m} ({int(sizes[m]):,})" for m in grid.index]
    x = [f"M{int(k)}" for k in grid.columns]
    z = [[None if pd.isna(v) else float(v) for v in row] for row in grid.values]
    text = [[("" if pd.isna(v) else f"{v:.0%}") for v in row] for row in grid.values]
    custom = [[("" if pd.isna(a) else f"{int(a):,}") for a in row] for row in active.values]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            text=text,
            texttemplate="%{text}",
            customdata=custom,
            hovertemplate=f"%{{y}} · %{{x}}: %{{z:.1%}} (%{{customdata}} {size_label})<extra></extra>",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"tickformat": ".0%"},
            xgap=2,
            ygap=2,
        )
    )
    _base_layout(fig, title, height or max(260, 80 + 30 * len(y)))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category", title={"text": month_label})
    fig.update_layout(margin={"l": 8, "r": 8, "t": 90, "b": 8})
    return fig


def rfm_segments(
    segments: pd.DataFrame,
    segment_labels: dict[str, str] | None = None,
    title: str = "",
    buyers_label: str = "buyers",
    spend_label: str = "net spend",
    height: int = 380,
) -> go.Figure:
    """Two aligned horizontal bar panels per RFM segment: buyers (left) and net spend (right), segments
    in `segments`' order (top = first row). `segments` has rfm_segment, buyers, net_spend_cny, buyer_share,
    spend_share."""
    from plotly.subplots import make_subplots

    rows = segments.iloc[::-1]
    names = [_label(segment_labels, s) for s in rows["rfm_segment"]]
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.03, subplot_titles=(buyers_label, spend_label)
    )
    fig.add_trace(
        go.Bar(
            x=rows["buyers"].astype(int),
            y=names,
            orientation="h",
            marker={"color": "#2563eb"},
            text=[f"{int(b):,} · {s:.0%}" for b, s in zip(rows["buyers"], rows["buyer_share"], strict=True)],
            textposition="auto",
            hovertemplate=f"%{{y}}: %{{x:,}} {buyers_label}<extra></extra>",
            name=buyers_label,
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=rows["net_spend_cny"].astype(float),
            y=names,
            orientation="h",
            marker={"color": "#16a34a"},
            text=[
                f"{symbol()}{float(v):,.0f} · {float(s):.0%}"
                for v, s in zip(rows["net_spend_cny"], rows["spend_share"].fillna(0), strict=True)
            ],
            textposition="auto",
            hovertemplate="%{y}: " + symbol() + "%{x:,.2f}<extra></extra>",
            name=spend_label,
        ),
        row=1,
        col=2,
    )
    _base_layout(fig, title, height)
    fig.update_layout(showlegend=False, bargap=0.3)
    fig.update_xaxes(tickprefix=symbol(), tickformat=",.0f", row=1, col=2)
    return fig


def new_vs_repeat(
    trend: pd.DataFrame,
    type_labels: dict[str, str] | None = None,
    title: str = "",
    value: str = "orders",
    height: int = 340,
) -> go.Figure:
    """Stacked bars per period: `value` (orders or net_spend_cny) of new and of repeat buyers. `trend` has
    period, customer_type (new/repeat) and `value`."""
    colors = {"new": "#93c5fd", "repeat": "#1d4ed8"}
    money = value.endswith("_cny")
    fig = go.Figure()
    for kind in ("new", "repeat"):
        part = trend[trend["customer_type"] == kind].sort_values("period")
        label = _label(type_labels, kind)
        fig.add_trace(
            go.Bar(
                x=pd.to_datetime(part["period"]),
                y=part[value].astype(float),
                name=label,
                marker={"color": colors[kind]},
                hovertemplate=f"%{{x|%Y-%m-%d}} · {label}: "
                + (symbol() + "%{y:,.2f}" if money else "%{y:,}")
                + "<extra></extra>",
            )
        )
    _base_layout(fig, title, height)
    fig.update_layout(
        barmode="stack",
        bargap=0.15,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(tickformat="%m-%d", showgrid=False)
    if money:
        fig.update_yaxes(tickprefix=symbol(), tickformat=",.0f")
    return fig


def repurchase_by_shop(
    rates: pd.DataFrame,
    title: str = "",
    window_label: str = "window",
    all_time_label: str = "all time",
    colors: dict[str, str] | None = None,
    height: int = 320,
) -> go.Figure:
    """Horizontal bar per shop of repurchase_rate (the mart's window), highest on top, labelled with the rate
    and repeat/all buyers; a diamond marks repurchase_rate_all_time. `rates` has the columns of
    marts.repurchase_rates plus shop_name (optional)."""
    colors = colors or shop_colors(rates["shop_id"])
    rows = rates.sort_values("repurchase_rate", ascending=True, na_position="first")
    names = (rows["shop_name"] if "shop_name" in rows else rows["shop_id"]).astype(str)
    fig = go.Figure(
        go.Bar(
            x=rows["repurchase_rate"].astype(float),
            y=names,
            orientation="h",
            name=window_label,
            showlegend=False,
            marker={"color": [colors.get(str(s)) for s in rows["shop_id"]]},
            text=[
                f"{r:.1%} ({int(a):,}/{int(b):,})" if pd.notna(r) else "—"
                for r, a, b in zip(
                    rows["repurchase_rate"],
                    rows["repeat_buyers_in_window"],
                    rows["buyers_in_window"],
                    strict=True,
                )
            ],
            textposition="auto",
            hovertemplate=f"%{{y}} · {window_label}: %{{x:.1%}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=rows["repurchase_rate_all_time"].astype(float),
            y=names,
            mode="markers",
            name=all_time_label,
            marker={"symbol": "diamond", "size": 11, "color": "#0f172a"},
            hovertemplate=f"%{{y}} · {all_time_label}: %{{x:.1%}}<extra></extra>",
        )
    )
    _base_layout(fig, title, height)
    fig.update_layout(
        bargap=0.3, legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1}
    )
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    return fig


def exception_reasons(
    counts: pd.DataFrame,
    reason_labels: dict[str, str] | None = None,
    title: str = "",
    height: int = 300,
) -> go.Figure:
    """Open orders per review reason, a horizontal bar each (most on top), labelled with the count.
    `counts` has reason, orders."""
    rows = counts.sort_values("orders")
    fig = go.Figure(
        go.Bar(
            x=rows["orders"].astype(int),
            y=[_label(reason_labels, r) for r in rows["reason"]],
            orientation="h",
            marker={"color": "#f97316"},
            text=[f"{int(n):,}" for n in rows["orders"]],
            textposition="auto",
            customdata=rows["reason"],
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    _base_layout(fig, title, height)
    fig.update_layout(showlegend=False, bargap=0.3)
    fig.update_xaxes(tickformat=",d")
    return fig
