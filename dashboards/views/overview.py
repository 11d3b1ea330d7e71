"""经营概览 Overview: KPIs for the chosen period (the date range, or today / 7 days / 30 days) against the prior
period and last year, a today / 7 d / 30 d comparison table, the daily trend by shop and the table by shop.

All numbers come from marts.channel_daily_performance's shop rows (its GMV, orders, net sales and refunds are
daily_shop_sales'); AOV, refund rate and margin % over a period are ratios of the period's sums.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import filters, labels, notices
from dashboards.figures.common import shop_colors
from dashboards.figures.sales import metric_trend_by_shop, shop_split
from dashboards.format import (
    integer,
    local_date,
    local_timestamp,
    money,
    money_format,
    pct_change,
    percent,
    pp_change,
)
from dashboards.i18n import t
from dashboards.queries import core, sales, serving
from dashboards.tables import data_table

PERIOD_KEY = "overview_period"
TREND_KEY = "overview_trend_metric"


def _money(value: Any) -> str:
    return money(value)


# (i18n key, window_totals column, formatter, is a rate (delta in points), higher is worse)
KPIS: list[tuple[str, str, Callable[[Any], str], bool, bool]] = [
    ("gmv", "gmv_cny", _money, False, False),
    ("net_revenue", "net_revenue_cny", _money, False, False),
    ("overview_contribution_margin", "contribution_margin_cny", _money, False, False),
    ("aov", "aov_cny", _money, False, False),
    ("orders", "orders", integer, False, False),
    ("units", "units", integer, False, False),
    ("overview_refund_rate", "refund_rate", percent, True, True),
]
MATURING = {"refund_rate"}  # not final while the window holds days whose refunds are still coming in
TREND_METRICS = {  # trend selector: column -> (i18n key, figure kind)
    "net_revenue_cny": ("net_revenue", "money"),
    "gmv_cny": ("gmv", "money"),
    "contribution_margin_cny": ("overview_contribution_margin", "money"),
    "orders": ("orders", "count"),
}


def _value(row: pd.Series, field: str) -> Any:
    value = row[field]
    return None if value is None or (isinstance(value, float) and value != value) else value


def maturing(row: pd.Series, field: str) -> bool:
    """Whether the KPI is not final over the row's window: a refund rate over days whose refunds are still
    coming in (marts.dates.is_return_maturing)."""
    return field in MATURING and int(row.get("maturing_days") or 0) > 0


def change(now: pd.Series, base: pd.Series, field: str, is_rate: bool, covered: bool = True) -> str | None:
    """Δ of one KPI against a base period: % change (points for a rate); None when the base has no orders,
    starts before the data does (`covered` False: a part-period would make a false trend) or either period is
    still maturing for this KPI."""
    if not covered or base["orders"] == 0 or maturing(now, field) or maturing(base, field):
        return None
    if is_rate:
        return pp_change(_value(now, field), _value(base, field))
    return pct_change(_value(now, field), _value(base, field))


def comparison_table(
    totals: pd.DataFrame, periods: list[str], comparisons: list[filters.Comparison]
) -> pd.DataFrame:
    """Rows = KPIs; per period: the value, Δ vs the prior period and Δ vs last year (text, as shown)."""
    rows = []
    for key, field, fmt, is_rate, _ in KPIS:
        row: dict[str, str | None] = {"kpi": t(key)}
        for i, (period, windows) in enumerate(zip(periods, comparisons, strict=True)):
            now, prior, last_year = (totals.iloc[3 * i + j] for j in range(3))
            row[f"{period}_value"] = fmt(_value(now, field)) + (
                f" ({t('overview_maturing')})" if maturing(now, field) else ""
            )
            row[f"{period}_prior"] = change(now, prior, field, is_rate, covers(windows.prior)) or "—"
            row[f"{period}_last_year"] = (
                change(now, last_year, field, is_rate, covers(windows.last_year)) or "—"
            )
        rows.append(row)
    return pd.DataFrame(rows)


def change_value(
    now: pd.Series, base: pd.Series, field: str, is_rate: bool, covered: bool = True
) -> float | None:
    """`change` as a number for the download: the relative change (0.123 = +12.3 %), or for a rate the
    difference of the rates (0.018 = +1.8 points); None where `change` shows none."""
    if change(now, base, field, is_rate, covered) is None:
        return None
    current, prior = float(_value(now, field)), float(_value(base, field))
    return round(current - prior if is_rate else (current - prior) / abs(prior), 4)


def comparison_numbers(
    totals: pd.DataFrame, periods: list[str], comparisons: list[filters.Comparison]
) -> pd.DataFrame:
    """`comparison_table`'s download: the same cells as numbers (money to the cent, a rate as a fraction), not
    the shown text ("¥39,732.90") a spreadsheet cannot add up."""
    rows = []
    for key, field, _fmt, is_rate, _ in KPIS:
        row: dict[str, Any] = {"kpi": t(key)}
        for i, (period, windows) in enumerate(zip(periods, comparisons, strict=True)):
            now, prior, last_year = (totals.iloc[3 * i + j] for j in range(3))
            value = _value(now, field)
            row[f"{period}_value"] = None if value is None else round(float(value), 4 if is_rate else 2)
            row[f"{period}_prior"] = change_value(now, prior, field, is_rate, covers(windows.prior))
            row[f"{period}_last_year"] = change_value(
                now, last_year, field, is_rate, covers(windows.last_year)
            )
        rows.append(row)
    return pd.DataFrame(rows)


sel = filters.current()
SCOPE = filters.file_scope(sel)  # downloads' file names


def covers(window: tuple) -> bool:
    """The window lies within the published data (it starts on or after the first order date)."""
    return window[0] >= sel.first_date


filters.note_ignored(sel, warehouses=True)
if sel.categories:
    st.caption(t("overview_categories_note"))
st.title(t("overview"))
notices.not_configured(sel, "costs", "product_master")

period = st.segmented_control(
    t("overview_period"),
    options=list(filters.PERIODS),
    format_func=lambda p: t(f"overview_period_{p}"),
    default="range",
    key=PERIOD_KEY,
    required=True,
)
chosen = filters.period_comparison(sel, period or "range")
fixed = ["today", "7d", "30d"]
comparisons = [chosen] + [filters.period_comparison(sel, p) for p in fixed]
windows = tuple(w for c in comparisons for w in (c.now, c.prior, c.last_year))
totals = sales.window_totals(sel.path, sel.version, windows, sel.shop_ids)
now, prior, last_year = (totals.iloc[i] for i in range(3))

start, end = chosen.now
st.caption(t("range_caption", start=local_date(start), end=local_date(end), days=chosen.days))

daily = sales.channel_daily(sel.path, sel.version, start, end, sel.shop_ids)
sparks = None
if chosen.days > 1 and not daily.empty:
    sums = daily.groupby("order_date", sort=True)[
        [
            "gmv_cny",
            "net_sales_cny",
            "refunds_cny",
            "net_revenue_cny",
            "contribution_margin_cny",
            "orders",
            "units",
        ]
    ].sum()
    sparks = sales.with_ratios(sel.path, sel.version, sums.reset_index())

for row_kpis in (KPIS[:4], KPIS[4:]):
    for column, (key, field, fmt, is_rate, worse_up) in zip(st.columns(4), row_kpis, strict=False):
        delta = change(now, prior, field, is_rate, covers(chosen.prior))
        versus_last_year = change(now, last_year, field, is_rate, covers(chosen.last_year))
        column.metric(
            t(key),
            fmt(_value(now, field)),
            delta=delta,
            delta_color="inverse" if worse_up else "normal",
            delta_description=t("vs_prior", days=chosen.days)
            if delta
            else t("overview_maturing_note")
            if maturing(now, field)
            else t("no_prior"),
            help=t(f"kpi_help_{key}")
            + "  \n"
            + t("prior_help", start=local_date(chosen.prior[0]), end=local_date(chosen.prior[1]))
            + "  \n"
            + t("overview_last_year_help", change=versus_last_year or "—"),
            border=True,
            chart_data=None
            if sparks is None
            else pd.to_numeric(sparks[field], errors="coerce").fillna(0).astype(float).tolist(),
            chart_type="area",
        )

st.subheader(t("overview_comparison_title"))
fixed_totals = totals.iloc[3:].reset_index(drop=True)
table = comparison_table(fixed_totals, fixed, comparisons[1:])
config: dict[str, Any] = {"kpi": st.column_config.TextColumn(t("overview_kpi"))}
for p, c in zip(fixed, comparisons[1:], strict=True):
    name = t(f"overview_period_{p}")
    config[f"{p}_value"] = st.column_config.TextColumn(
        name, help=f"{local_date(c.now[0])} – {local_date(c.now[1])}"
    )
    config[f"{p}_prior"] = st.column_config.TextColumn(f"{name} {t('overview_vs_prior')}")
    config[f"{p}_last_year"] = st.column_config.TextColumn(f"{name} {t('overview_vs_last_year')}")
data_table(
    table,
    key="overview_comparison",
    filename="overview_kpis",
    file_scope=SCOPE,
    sku_column=None,
    column_config=config,
    export=lambda: comparison_numbers(fixed_totals, fixed, comparisons[1:]),
)

if daily.empty or now["orders"] == 0:
    st.info(t("no_rows"))
else:
    shop_table = sales.channel_by_shop(sel.path, sel.version, start, end, sel.shop_ids)
    shown_shops = shop_table.assign(channel=shop_table["channel"].map(labels.channel))
    colors = shop_colors(core.shops(sel.path, sel.version)["shop_id"])
    metric, title_key, kind = filters.pick_trend_metric(TREND_METRICS, "net_revenue_cny", TREND_KEY)
    left, right = st.columns([2, 1])
    if chosen.days > 1:
        left.plotly_chart(
            metric_trend_by_shop(
                daily, metric, title=t("overview_trend_title", metric=t(title_key)), colors=colors, kind=kind
            ),
            config={"displayModeBar": False},
        )
    else:
        left.caption(t("overview_one_day"))
    right.plotly_chart(
        shop_split(shop_table, "net_revenue_cny", title=t("split_title"), colors=colors),
        config={"displayModeBar": False},
    )

    st.subheader(t("table_title"))
    columns = [
        "shop_name",
        "channel",
        "gmv_cny",
        "net_revenue_cny",
        "contribution_margin_cny",
        "orders",
        "units",
        "aov_cny",
        "refund_rate",
        "margin_pct",
    ]
    data_table(
        shown_shops[columns],
        key="overview_by_shop",
        filename="overview_by_shop",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "shop_name": st.column_config.TextColumn(t("shop")),
            "channel": st.column_config.TextColumn(t("channel")),
            "gmv_cny": st.column_config.NumberColumn(t("gmv"), format=money_format()),
            "net_revenue_cny": st.column_config.NumberColumn(t("net_revenue"), format=money_format()),
            "contribution_margin_cny": st.column_config.NumberColumn(
                t("overview_contribution_margin"), format=money_format()
            ),
            "orders": st.column_config.NumberColumn(t("orders"), format="%,d"),
            "units": st.column_config.NumberColumn(t("units"), format="%,d"),
            "aov_cny": st.column_config.NumberColumn(t("aov"), format=money_format()),
            "refund_rate": st.column_config.NumberColumn(t("overview_refund_rate"), format="percent"),
            "margin_pct": st.column_config.NumberColumn(t("overview_margin_pct"), format="percent"),
        },
    )

st.subheader(t("overview_top_skus"))
if sel.categories:
    st.caption(
        t("overview_top_skus_categories", categories=", ".join(map(filters.category_label, sel.categories)))
    )
skus = sales.top_skus(sel.path, sel.version, start, end, sel.shop_ids, sel.categories)
skus = skus.assign(category=skus["category"].map(filters.category_label))
data_table(
    skus,
    key="overview_top_skus",
    filename="overview_top_skus",
    file_scope=SCOPE,
    column_config={
        "sku": st.column_config.TextColumn("SKU"),
        "product_name": st.column_config.TextColumn(t("overview_product")),
        "category": st.column_config.TextColumn(t("filters_categories")),
        "units": st.column_config.NumberColumn(t("units"), format="%,d"),
        "gmv_cny": st.column_config.NumberColumn(t("gmv"), format=money_format()),
        "net_sales_cny": st.column_config.NumberColumn(t("net_sales"), format=money_format()),
        "refunds_cny": st.column_config.NumberColumn(t("refunds"), format=money_format()),
        "net_revenue_cny": st.column_config.NumberColumn(t("net_revenue"), format=money_format()),
    },
)

stamp = serving.published_at(sel.path, sel.version)
if stamp is not None:
    st.caption(t("published_at", ts=local_timestamp(stamp)))
