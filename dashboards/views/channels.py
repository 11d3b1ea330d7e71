"""渠道 Channels: channel_daily_performance per shop — the day's KPIs against the same day last week and last
year, a daily trend of any of the mart's measures by shop, the day's comparison per shop and the range's table.

"The day" is the end of the sidebar's date range (the latest day with data by default). The per-shop day table
shows the mart's own *_last_week / *_last_year columns; the tiles add the selected shops up (ratios as ratios
of sums: AOV = Σ net sales / Σ orders).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import filters, labels, notices
from dashboards.figures.common import shop_colors
from dashboards.figures.sales import metric_trend_by_shop
from dashboards.format import integer, local_date, money, money_format, pct_change
from dashboards.i18n import t
from dashboards.queries import core, sales
from dashboards.tables import data_table

TREND_KEY = "channels_trend_metric"
TILES: list[tuple[str, str, Any]] = [  # (i18n key, window_totals column, formatter)
    ("gmv", "gmv_cny", money),
    ("net_revenue", "net_revenue_cny", money),
    ("orders", "orders", integer),
    ("aov", "aov_cny", money),
    ("overview_contribution_margin", "contribution_margin_cny", money),
]
TREND_METRICS = {  # channel_daily_performance column -> (i18n key, figure kind)
    "gmv_cny": ("gmv", "money"),
    "net_revenue_cny": ("net_revenue", "money"),
    "orders": ("orders", "count"),
    "aov_cny": ("aov", "money"),
    "contribution_margin_cny": ("overview_contribution_margin", "money"),
    "margin_pct": ("overview_margin_pct", "rate"),
    "refund_rate": ("overview_refund_rate", "rate"),
    "discount_rate": ("channels_discount_rate", "rate"),
}
MONEY = money_format()


def growth(now: pd.Series, base: pd.Series) -> list[float | None]:
    """Row-wise change now / base − 1 (None where the base is 0 or missing)."""
    return [
        float(n) / float(b) - 1 if b is not None and b == b and float(b) != 0 and n == n else None
        for n, b in zip(now, base, strict=True)
    ]


sel = filters.current()
day = sel.end
last_week, last_year = day - timedelta(days=7), day - timedelta(days=filters.LAST_YEAR_DAYS)

st.title(t("channels"))
notices.not_configured(sel, "costs", "product_master")
st.caption(
    t(
        "channels_caption",
        day=local_date(day),
        last_week=local_date(last_week),
        last_year=local_date(last_year),
    )
)
filters.note_ignored(sel, categories=True, warehouses=True)

totals = sales.window_totals(
    sel.path, sel.version, ((day, day), (last_week, last_week), (last_year, last_year)), sel.shop_ids
)
now, week, year = (totals.iloc[i] for i in range(3))
for column, (key, field, fmt) in zip(st.columns(len(TILES)), TILES, strict=True):
    delta = pct_change(now[field], week[field]) if week["orders"] else None
    yoy = pct_change(now[field], year[field]) if year["orders"] else None
    column.metric(
        t(key),
        fmt(now[field]),
        delta=delta,
        delta_description=t("channels_vs_last_week") if delta else t("channels_no_last_week"),
        help=t(f"kpi_help_{key}")
        + "  \n"
        + t("channels_last_year_help", change=yoy or "—", day=local_date(last_year)),
        border=True,
    )

daily = sales.channel_daily(sel.path, sel.version, sel.start, sel.end, sel.shop_ids)
if daily.empty:
    st.info(t("no_rows"))
    st.stop()

colors = shop_colors(core.shops(sel.path, sel.version)["shop_id"])
metric, title_key, kind = filters.pick_trend_metric(TREND_METRICS, "gmv_cny", TREND_KEY)
st.plotly_chart(
    metric_trend_by_shop(
        daily, metric, title=t("overview_trend_title", metric=t(title_key)), colors=colors, kind=kind
    ),
    config={"displayModeBar": False},
)

st.subheader(t("channels_day_title", day=local_date(day)))
today = daily[daily["order_date"] == pd.Timestamp(day)].copy()
today["gmv_vs_last_week"] = growth(today["gmv_cny"], today["gmv_cny_last_week"])
today["gmv_vs_last_year"] = growth(today["gmv_cny"], today["gmv_cny_last_year"])
today["orders_vs_last_week"] = growth(today["orders"], today["orders_last_week"])
today["channel"] = today["channel"].map(labels.channel)
day_columns = [
    "shop_name",
    "channel",
    "gmv_cny",
    "gmv_cny_last_week",
    "gmv_vs_last_week",
    "gmv_cny_last_year",
    "gmv_vs_last_year",
    "orders",
    "orders_last_week",
    "orders_vs_last_week",
    "orders_last_year",
    "net_revenue_cny",
    "net_revenue_cny_last_week",
    "aov_cny",
    "aov_cny_last_week",
    "contribution_margin_cny",
    "contribution_margin_cny_last_week",
]
lw, ly = t("channels_last_week"), t("channels_last_year")
data_table(
    today.sort_values("gmv_cny", ascending=False)[day_columns],
    key="channels_day",
    filename=f"channels_{day.isoformat()}",
    file_scope=filters.file_scope(sel, dated=False),
    sku_column=None,
    column_config={
        "shop_name": st.column_config.TextColumn(t("shop")),
        "channel": st.column_config.TextColumn(t("channel")),
        "gmv_cny": st.column_config.NumberColumn(t("gmv"), format=MONEY),
        "gmv_cny_last_week": st.column_config.NumberColumn(f"{t('gmv')} {lw}", format=MONEY),
        "gmv_vs_last_week": st.column_config.NumberColumn(t("channels_wow"), format="percent"),
        "gmv_cny_last_year": st.column_config.NumberColumn(f"{t('gmv')} {ly}", format=MONEY),
        "gmv_vs_last_year": st.column_config.NumberColumn(t("channels_yoy"), format="percent"),
        "orders": st.column_config.NumberColumn(t("orders"), format="%,d"),
        "orders_last_week": st.column_config.NumberColumn(f"{t('orders')} {lw}", format="%,d"),
        "orders_vs_last_week": st.column_config.NumberColumn(
            f"{t('orders')} {t('channels_wow')}", format="percent"
        ),
        "orders_last_year": st.column_config.NumberColumn(f"{t('orders')} {ly}", format="%,d"),
        "net_revenue_cny": st.column_config.NumberColumn(t("net_revenue"), format=MONEY),
        "net_revenue_cny_last_week": st.column_config.NumberColumn(f"{t('net_revenue')} {lw}", format=MONEY),
        "aov_cny": st.column_config.NumberColumn(t("aov"), format=MONEY),
        "aov_cny_last_week": st.column_config.NumberColumn(f"{t('aov')} {lw}", format=MONEY),
        "contribution_margin_cny": st.column_config.NumberColumn(
            t("overview_contribution_margin"), format=MONEY
        ),
        "contribution_margin_cny_last_week": st.column_config.NumberColumn(
            f"{t('overview_contribution_margin')} {lw}", format=MONEY
        ),
    },
)

st.subheader(t("channels_range_title", start=local_date(sel.start), end=local_date(sel.end)))
by_shop = sales.channel_by_shop(sel.path, sel.version, sel.start, sel.end, sel.shop_ids)
by_shop = by_shop.assign(channel=by_shop["channel"].map(labels.channel))
data_table(
    by_shop[
        [
            "shop_name",
            "channel",
            "gmv_cny",
            "net_sales_cny",
            "refunds_cny",
            "net_revenue_cny",
            "contribution_margin_cny",
            "orders",
            "units",
            "aov_cny",
            "asp_cny",
            "refund_rate",
            "margin_pct",
        ]
    ],
    key="channels_range",
    filename="channels",
    file_scope=filters.file_scope(sel),
    sku_column=None,
    column_config={
        "shop_name": st.column_config.TextColumn(t("shop")),
        "channel": st.column_config.TextColumn(t("channel")),
        "gmv_cny": st.column_config.NumberColumn(t("gmv"), format=MONEY),
        "net_sales_cny": st.column_config.NumberColumn(t("net_sales"), format=MONEY),
        "refunds_cny": st.column_config.NumberColumn(t("refunds"), format=MONEY),
        "net_revenue_cny": st.column_config.NumberColumn(t("net_revenue"), format=MONEY),
        "contribution_margin_cny": st.column_config.NumberColumn(
            t("overview_contribution_margin"), format=MONEY
        ),
        "orders": st.column_config.NumberColumn(t("orders"), format="%,d"),
        "units": st.column_config.NumberColumn(t("units"), format="%,d"),
        "aov_cny": st.column_config.NumberColumn(t("aov"), format=MONEY),
        "asp_cny": st.column_config.NumberColumn(t("channels_asp"), format=MONEY),
        "refund_rate": st.column_config.NumberColumn(t("overview_refund_rate"), format="percent"),
        "margin_pct": st.column_config.NumberColumn(t("overview_margin_pct"), format="percent"),
    },
)
