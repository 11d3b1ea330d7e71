"""Plotly figure builders: pure functions DataFrame -> go.Figure (no Streamlit), unit-testable.

Labels come in as arguments (already translated by the page); each shop keeps the same colour in every
figure (`shop_colors`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from dashboards.format import symbol

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777"]
FONT = "Source Sans Pro, PingFang SC, Microsoft YaHei, Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"


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


# -- frame (overview, channels, SKU drill-down, wall) -------------------------------------------------------


def value_formats(kind: str) -> tuple[str, str, str]:
    """kind (money, count, rate) -> (hover format of a y value, y-axis prefix, y-axis tick format)."""
    return {
        "money": (symbol() + "%{y:,.2f}", symbol(), ",.0f"),
        "count": ("%{y:,.0f}", "", ",.0f"),
        "rate": ("%{y:.1%}", "", ".0%"),
    }[kind]


WALL_BACKGROUND = "#0b1220"
WALL_TEXT = "#e5e7eb"


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


# -- returns, reconciliation, customers, exceptions --------------------------------------------------------

HOTSPOT_COLOR = "#dc2626"
REASON_COLORS = {  # size stands out (the case to spot); the rest in calmer tones
    "size": "#dc2626",
    "quality": "#f97316",
    "not_as_described": "#ca8a04",
    "damaged": "#9333ea",
    "changed_mind": "#2563eb",
    "late": "#0891b2",
    "other": "#94a3b8",
}
STATUS_COLORS = {
    "matched": "#16a34a",
    "pending": "#94a3b8",
    "amount_mismatch": "#f97316",
    "missing_settlement": "#dc2626",
    "duplicate_bill": "#9333ea",
    "orphan_bill": "#ca8a04",
}


def _yuan(value: float) -> str:
    """The reporting currency without decimals, the minus after the sign as everywhere: -2.5 -> '¥-2'."""
    return f"{symbol()}{value:,.0f}"


def _label(labels: dict[str, str] | None, key: str) -> str:
    return (labels or {}).get(key, key)


def size_return_heatmap(
    comparison: pd.DataFrame,
    title: str = "",
    rate_label: str = "size-return rate",
    low_volume_label: str = "too few units",
    max_rows: int = 25,
    height: int | None = None,
) -> go.Figure:
    """SKU × shop heatmap of size_return_rate (rows: SKUs, worst first; columns: shops), hotspot cells boxed
    in red and marked ⚠. Cells with too few units (has_enough_volume false) are left blank (hover says so).

    `comparison` has the columns of marts.return_shop_comparison (sku, product_name, shop_id,
    size_return_rate, units_sold, size_returned, has_enough_volume, is_return_hotspot) plus shop_name;
    only its `max_rows` SKUs with the highest ranked size-return rate are drawn.
    """
    rows = comparison.copy()
    rows["shop_name"] = rows["shop_name"] if "shop_name" in rows else rows["shop_id"]
    ranked = rows["size_return_rate"].where(rows["has_enough_volume"].fillna(False).astype(bool))
    rows["ranked_rate"] = ranked.astype(float)
    worst = rows.groupby("sku")["ranked_rate"].max().fillna(-1).sort_values(ascending=False, kind="stable")
    skus = list(worst.index[:max_rows])
    shops = sorted(rows["shop_name"].astype(str).unique())
    names = rows.drop_duplicates("sku").set_index("sku")["product_name"].astype(str)
    y = [f"{sku} {names.get(sku, '')}".strip() for sku in skus]
    cell = rows.set_index(["sku", "shop_name"])
    z, text, hover = [], [], []
    hot_cells: list[tuple[int, int]] = []
    for i, sku in enumerate(skus):
        z_row, text_row, hover_row = [], [], []
        for j, shop in enumerate(shops):
            if (sku, shop) not in cell.index:
                z_row.append(None)
                text_row.append("")
                hover_row.append(f"{sku} · {shop}: —")
                continue
            r = cell.loc[(sku, shop)]
            rate = r["ranked_rate"]
            sold, size = int(r["units_sold"]), int(r["size_returned"])
            if pd.isna(rate):
                z_row.append(None)
                text_row.append("")
                hover_row.append(f"{sku} · {shop}: {size}/{sold} ({low_volume_label})")
                continue
            hot = bool(r["is_return_hotspot"])
            if hot:
                hot_cells.append((i, j))
            z_row.append(float(rate))
            text_row.append(("⚠ " if hot else "") + f"{rate:.0%}")
            hover_row.append(f"{sku} · {shop}<br>{rate_label}: {rate:.1%} ({size}/{sold})")
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=shops,
            y=y,
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale=[[0, "#fff7ed"], [0.5, "#fb923c"], [1, "#991b1b"]],
            zmin=0,
            colorbar={"title": {"text": rate_label}, "tickformat": ".0%"},
            xgap=2,
            ygap=2,
        )
    )
    for i, j in hot_cells:
        fig.add_shape(
            type="rect",
            x0=j - 0.5,
            x1=j + 0.5,
            y0=i - 0.5,
            y1=i + 0.5,
            line={"color": HOTSPOT_COLOR, "width": 4},
            fillcolor="rgba(0,0,0,0)",
        )
    _base_layout(fig, title, height or max(260, 60 + 28 * len(skus)))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    fig.update_layout(margin={"l": 8, "r": 8, "t": 80, "b": 8})
    return fig


def reason_mix(
    mix: pd.DataFrame,
    reason_labels: dict[str, str] | None = None,
    title: str = "",
    units_label: str = "units",
    height: int = 340,
) -> go.Figure:
    """Horizontal 100 % stacked bar per shop: the share of returned units by reason (one trace per reason, in
    REASON_COLORS; size first). `mix` is long: shop_id, shop_name (optional), reason, units."""
    rows = mix.copy()
    rows["shop_name"] = rows["shop_name"] if "shop_name" in rows else rows["shop_id"]
    totals = rows.groupby("shop_name")["units"].transform("sum").astype(float)
    rows["share"] = rows["units"].astype(float) / totals.where(totals > 0)
    shop_order = list(rows.groupby("shop_name")["units"].sum().sort_values().index)
    fig = go.Figure()
    for reason in REASON_COLORS:
        part = rows[rows["reason"] == reason].set_index("shop_name").reindex(shop_order)
        if part["units"].isna().all():
            continue
        label = _label(reason_labels, reason)
        fig.add_trace(
            go.Bar(
                x=part["share"].fillna(0),
                y=shop_order,
                orientation="h",
                name=label,
                marker={"color": REASON_COLORS[reason]},
                customdata=part["units"].fillna(0).astype(int),
                text=[f"{s:.0%}" if s >= 0.06 else "" for s in part["share"].fillna(0)],
                textposition="inside",
                hovertemplate=f"%{{y}} · {label}: %{{x:.1%}} (%{{customdata}} {units_label})<extra></extra>",
                meta={"reason": reason},
            )
        )
    _base_layout(fig, title, height)
    fig.update_layout(
        barmode="stack",
        bargap=0.3,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    return fig


def status_mix(
    by_status: pd.DataFrame,
    status_labels: dict[str, str] | None = None,
    title: str = "",
    height: int = 320,
) -> go.Figure:
    """Orders per reconciliation status, a horizontal bar each (STATUS_COLORS), labelled with the count and
    share beside the bar (so a status with 1 order next to thousands matched still reads). `by_status` has
    columns status, orders; statuses without orders are left out."""
    rows = by_status[by_status["orders"] > 0].sort_values("orders")
    total = float(rows["orders"].sum())
    labels = [_label(status_labels, s) for s in rows["status"]]
    fig = go.Figure(
        go.Bar(
            x=rows["orders"].astype(int),
            y=labels,
            orientation="h",
            marker={"color": [STATUS_COLORS.get(s, "#64748b") for s in rows["status"]]},
            text=[f"{int(n):,} · {n / total:.1%}" if total else f"{int(n):,}" for n in rows["orders"]],
            textposition="outside",
            cliponaxis=False,
            customdata=rows["status"],
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    _base_layout(fig, title, height)
    fig.update_layout(showlegend=False, bargap=0.3)
    fig.update_xaxes(tickformat=",d", range=[0, float(rows["orders"].max() or 1) * 1.3])
    return fig


def outstanding_by_shop(
    by_shop: pd.DataFrame,
    labels: dict[str, str] | None = None,
    title: str = "",
    height: int = 340,
) -> go.Figure:
    """Per shop, grouped horizontal bars: outstanding_amount (what the platform still owes), of it
    overdue_amount (missing settlements), and discrepancy_amount (billed − expected). Money axis.
    `by_shop` has shop_id, shop_name (optional) and those three columns."""
    rows = by_shop.sort_values("outstanding_amount")
    names = (rows["shop_name"] if "shop_name" in rows else rows["shop_id"]).astype(str)
    fig = go.Figure()
    for column, color in (
        ("outstanding_amount", "#2563eb"),
        ("overdue_amount", "#dc2626"),
        ("discrepancy_amount", "#f97316"),
    ):
        label = _label(labels, column)
        fig.add_trace(
            go.Bar(
                x=rows[column].astype(float),
                y=names,
                orientation="h",
                name=label,
                marker={"color": color},
                text=[_yuan(v) if v else "" for v in rows[column].astype(float)],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{y}} · {label}: {symbol()}%{{x:,.2f}}<extra></extra>",
                meta={"column": column},
            )
        )
    _base_layout(fig, title, height)
    values = rows[["outstanding_amount", "overdue_amount", "discrepancy_amount"]].astype(float)
    low, high = min(0.0, float(values.min().min())), max(0.0, float(values.max().max()))
    pad = (high - low) * 0.2 or 1.0  # room for the labels outside the bars
    fig.update_xaxes(range=[low - (pad if low < 0 else 0), high + pad])
    fig.update_layout(
        barmode="group",
        bargap=0.25,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    fig.update_xaxes(tickprefix=symbol(), tickformat=",.0f")
    return fig


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


# -- inventory, sku_margin, promotions, replenishment, data_status --------------------------------------------

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
