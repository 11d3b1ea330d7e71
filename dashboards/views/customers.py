"""客户 Customers: repurchase rate per shop, new vs repeat orders, monthly cohort retention, RFM segments.

Sources: marts.repurchase_rates (its own window up to the snapshot's as-of date), marts.customer_orders
(KPIs and the new-vs-repeat trend in the date range), marts.customer_cohorts (cohorts that started by the end
of the range; shops pooled as Σ active / Σ cohort size), marts.customers (RFM segments now). Buyers are per
platform (masked ids): a person buying in two shops counts in each.
"""

from __future__ import annotations

import streamlit as st

from dashboards import filters
from dashboards.figures.common import shop_colors
from dashboards.figures.customers import new_vs_repeat, repurchase_by_shop, retention_heatmap, rfm_segments
from dashboards.format import integer, local_date, money, money_format
from dashboards.i18n import t
from dashboards.queries import core, customers
from dashboards.tables import data_table

PLOT_CONFIG = {"displayModeBar": False}
SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
    "lost",
    "other",
)


def segment_label(segment: str) -> str:
    return t(f"customers_segment_{segment}") if segment in SEGMENTS else segment


def trend_grain(days: int) -> str:
    """Daily bars up to two months, weekly up to a year, monthly beyond."""
    return "day" if days <= 62 else "week" if days <= 366 else "month"


sel = filters.current()
SCOPE = filters.file_scope(sel)  # downloads' file names
filters.note_ignored(sel, categories=True, warehouses=True)
st.title(t("customers"))

kpis = customers.customer_kpis(sel.path, sel.version, sel.start, sel.end, sel.shop_ids)
st.caption(t("range_caption", start=local_date(sel.start), end=local_date(sel.end), days=sel.days))
share = kpis["repeat_order_share"]
tiles = [
    (t("customers_buyers"), integer(kpis["buyers"]), t("customers_buyers_help")),
    (t("customers_new_buyers"), integer(kpis["new_buyers"]), t("customers_new_buyers_help")),
    (t("customers_repeat_share"), "—" if share is None else f"{share:.1%}", t("customers_repeat_share_help")),
    (t("customers_net_spend"), money(kpis["net_spend_cny"]), None),
]
for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)

# Repurchase per shop (the mart's window) and the new-vs-repeat trend in the range.
rates = customers.repurchase_by_shop(sel.path, sel.version, sel.shop_ids)
left, right = st.columns(2)
if not rates.empty:
    colors = shop_colors(core.shops(sel.path, sel.version)["shop_id"])
    left.plotly_chart(
        repurchase_by_shop(
            rates,
            title=t(
                "customers_repurchase_title",
                start=local_date(rates["window_start"].iloc[0].date()),
                end=local_date(rates["window_end"].iloc[0].date()),
            ),
            window_label=t(
                "customers_window",
                start=local_date(rates["window_start"].iloc[0].date()),
                end=local_date(rates["window_end"].iloc[0].date()),
            ),
            all_time_label=t("customers_all_time"),
            colors=colors,
        ),
        config=PLOT_CONFIG,
    )
    left.caption(t("customers_repurchase_caption"))
grain = trend_grain(sel.days)
trend = customers.new_vs_repeat(sel.path, sel.version, sel.start, sel.end, sel.shop_ids, grain)
if not trend.empty:
    right.plotly_chart(
        new_vs_repeat(
            trend,
            {"new": t("customers_type_new"), "repeat": t("customers_type_repeat")},
            title=t(f"customers_trend_title_{grain}"),
        ),
        config=PLOT_CONFIG,
    )

# Cohort retention.
cohorts = customers.cohort_retention(sel.path, sel.version, sel.end, sel.shop_ids)
if not cohorts.empty:
    st.plotly_chart(
        retention_heatmap(
            cohorts,
            title=t("customers_cohort_title"),
            month_label=t("customers_months_since_first"),
            size_label=t("customers_buyers_unit"),
        ),
        config=PLOT_CONFIG,
    )
    st.caption(t("customers_cohort_caption", end=local_date(sel.end)))

# RFM segments.
segments = customers.rfm_segments(sel.path, sel.version, sel.shop_ids)
if not segments.empty:
    labels = {s: segment_label(s) for s in segments["rfm_segment"]}
    st.plotly_chart(
        rfm_segments(
            segments,
            labels,
            title=t("customers_rfm_title"),
            buyers_label=t("customers_buyers"),
            spend_label=t("customers_net_spend"),
        ),
        config=PLOT_CONFIG,
    )
    data_table(
        segments.assign(rfm_segment=segments["rfm_segment"].map(labels)),
        key="customers_rfm",
        filename="customers_rfm_segments",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "rfm_segment": st.column_config.TextColumn(t("customers_segment")),
            "buyers": st.column_config.NumberColumn(t("customers_buyers"), format="%,d"),
            "orders": st.column_config.NumberColumn(t("orders"), format="%,d"),
            "net_spend_cny": st.column_config.NumberColumn(t("customers_net_spend"), format=money_format()),
            "spend_per_buyer": st.column_config.NumberColumn(
                t("customers_spend_per_buyer"), format=money_format()
            ),
            "buyer_share": st.column_config.NumberColumn(t("customers_buyer_share"), format="percent"),
            "spend_share": st.column_config.NumberColumn(t("customers_spend_share"), format="percent"),
        },
    )
    st.caption(t("customers_rfm_caption"))

st.subheader(t("customers_repurchase_table_title"))
data_table(
    rates[
        [
            "shop_name",
            "buyers_in_window",
            "repeat_buyers_in_window",
            "repurchase_rate",
            "buyers_all_time",
            "repeat_buyers_all_time",
            "repurchase_rate_all_time",
        ]
    ],
    key="customers_repurchase",
    filename="customers_repurchase",
    file_scope=SCOPE,
    sku_column=None,
    column_config={
        "shop_name": st.column_config.TextColumn(t("shop")),
        "buyers_in_window": st.column_config.NumberColumn(t("customers_buyers_in_window"), format="%,d"),
        "repeat_buyers_in_window": st.column_config.NumberColumn(
            t("customers_repeat_in_window"), format="%,d"
        ),
        "repurchase_rate": st.column_config.NumberColumn(t("customers_repurchase_rate"), format="percent"),
        "buyers_all_time": st.column_config.NumberColumn(t("customers_buyers_all_time"), format="%,d"),
        "repeat_buyers_all_time": st.column_config.NumberColumn(t("customers_repeat_all_time"), format="%,d"),
        "repurchase_rate_all_time": st.column_config.NumberColumn(
            t("customers_repurchase_rate_all_time"), format="percent"
        ),
    },
)
