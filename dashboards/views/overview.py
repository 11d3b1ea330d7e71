"""经营概览 Overview: KPI tiles with delta vs the prior period, daily trend by shop, a table by shop."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import figures, filters, queries
from dashboards.format import integer, local_date, local_timestamp, money, pct_change
from dashboards.i18n import t

KPI_TILES: list[tuple[str, str, Any]] = [  # (i18n key, kpis() field, formatter)
    ("gmv", "gmv_cny", money),
    ("net_revenue", "net_revenue_cny", money),
    ("orders", "orders", integer),
    ("aov", "aov_cny", money),
]


def daily_totals(daily: pd.DataFrame) -> pd.DataFrame:
    """Per-day totals across the selected shops (for the KPI sparklines)."""
    totals = daily.groupby("order_date", sort=True)[
        ["gmv_cny", "net_revenue_cny", "net_sales_cny", "orders"]
    ].sum()
    totals["aov_cny"] = totals["net_sales_cny"] / totals["orders"].where(totals["orders"] > 0)
    return totals


sel = filters.current()
prior_start, prior_end = sel.prior()
now = queries.kpis(sel.path, sel.version, sel.start, sel.end, sel.shop_ids)
before = queries.kpis(sel.path, sel.version, prior_start, prior_end, sel.shop_ids)
daily = queries.daily_by_shop(sel.path, sel.version, sel.start, sel.end, sel.shop_ids)
shop_table = queries.by_shop(sel.path, sel.version, sel.start, sel.end, sel.shop_ids)

st.title(t("overview"))
st.caption(t("range_caption", start=local_date(sel.start), end=local_date(sel.end), days=sel.days))

sparks = daily_totals(daily) if not daily.empty else None
for column, (key, field, fmt) in zip(st.columns(len(KPI_TILES)), KPI_TILES, strict=True):
    delta = pct_change(now[field], before[field]) if before["has_rows"] else None
    column.metric(
        t(key),
        fmt(now[field]),
        delta=delta,
        delta_description=t("vs_prior", days=sel.days) if delta else t("no_prior"),
        help=t("prior_help", start=local_date(prior_start), end=local_date(prior_end)),
        border=True,
        chart_data=None if sparks is None else sparks[field].fillna(0).astype(float).tolist(),
        chart_type="area",
    )

if daily.empty:
    st.info(t("no_rows"))
else:
    colors = figures.shop_colors(shop_table["shop_id"])
    left, right = st.columns([2, 1])
    left.plotly_chart(
        figures.trend_by_shop(daily, "net_revenue_cny", title=t("trend_title"), colors=colors),
        config={"displayModeBar": False},
    )
    right.plotly_chart(
        figures.shop_split(shop_table, "net_revenue_cny", title=t("split_title"), colors=colors),
        config={"displayModeBar": False},
    )

    st.subheader(t("table_title"))
    st.dataframe(
        shop_table[["shop_name", "channel", "gmv_cny", "net_revenue_cny", "orders", "aov_cny"]],
        hide_index=True,
        column_config={
            "shop_name": st.column_config.TextColumn(t("shop")),
            "channel": st.column_config.TextColumn(t("channel")),
            "gmv_cny": st.column_config.NumberColumn(t("gmv"), format="¥%,.2f"),
            "net_revenue_cny": st.column_config.NumberColumn(t("net_revenue"), format="¥%,.2f"),
            "orders": st.column_config.NumberColumn(t("orders"), format="%,d"),
            "aov_cny": st.column_config.NumberColumn(t("aov"), format="¥%,.2f"),
        },
    )

stamp = queries.published_at(sel.path, sel.version)
if stamp is not None:
    st.caption(t("published_at", ts=local_timestamp(stamp)))
