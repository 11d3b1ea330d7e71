"""Figures of after-sales: the size-return heatmap and reason mix (Returns), reconciliation statuses and what the
platforms still owe (Reconciliation).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures.common import _base_layout, _label, _yuan
from dashboards.format import symbol

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
