"""SKU 利润 SKU margin: the waterfall from net sales to contribution margin over the selection, margin by SKU ×
shop, the negative-margin list, and how much of the platform fees are still estimates.

A large seller has ~100k SKU × shop rows: the two tables show the largest losses and the highest margins
(queries.finance.MARGIN_TABLE_ROWS each, "showing n of total"); their downloads hold every row (queried when clicked);
one SKU's margin by shop is on its detail page.

sku_margins is monthly: the date range selects the order months it touches (whole months, said in the caption).
Shops and categories filter the rows; warehouses do not apply. Ratios are ratios of the sums of mart columns.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pandas as pd
import streamlit as st

from dashboards import filters, notices
from dashboards.figures.sales import WATERFALL_STEPS, margin_waterfall
from dashboards.format import local_timestamp, money, money_format, percent
from dashboards.i18n import t
from dashboards.queries import finance, serving
from dashboards.tables import data_table

sel = filters.current()
SCOPE = filters.file_scope(sel)  # downloads' file names
filters.note_ignored(sel, warehouses=True)
first_month, last_month = finance.margin_months(sel.start, sel.end)
totals = finance.margin_totals(sel.path, sel.version, sel.start, sel.end, sel.shop_ids, sel.categories)
rows = finance.MARGIN_TABLE_ROWS  # per table; the downloads hold every row
table = finance.margin_by_sku_shop(
    sel.path, sel.version, sel.start, sel.end, sel.shop_ids, sel.categories, limit=rows
)
# Every row, for the downloads only: called when one is clicked, not on a page run.
every_row = partial(
    finance.margin_by_sku_shop,
    sel.path,
    sel.version,
    sel.start,
    sel.end,
    sel.shop_ids,
    sel.categories,
    limit=None,
)


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(category=frame["category"].map(filters.category_label))


def losses(frame: pd.DataFrame) -> pd.DataFrame:
    """The losing rows, largest loss first."""
    losing = frame[frame["contribution_margin_cny"] < 0]
    return losing.sort_values(["contribution_margin_cny", "sku", "shop_id"], kind="stable")


table = labelled(table)

st.title(t("sku_margin"))
notices.not_configured(sel, "costs", "product_master")
st.caption(
    t(
        "sku_margin_caption",
        first=first_month.strftime("%Y-%m"),
        last=last_month.strftime("%Y-%m"),
        start=sel.start.isoformat(),
        end=sel.end.isoformat(),
    )
)
if table.empty:
    st.info(t("sku_margin_no_rows"))
    st.stop()

net_revenue: Decimal = totals["net_revenue_cny"]
margin: Decimal = totals["contribution_margin_cny"]
fees: Decimal = totals["platform_fees_cny"]
estimated: Decimal = totals["estimated_fees_cny"]
margin_pct = float(margin / net_revenue) if net_revenue else None  # ratio of the sums
estimated_share = float(estimated / fees) if fees else None
tiles = [
    (t("sku_margin_net_revenue"), money(net_revenue), None),
    (t("sku_margin_contribution_margin"), money(margin), None),
    (t("sku_margin_margin_pct"), percent(margin_pct), t("sku_margin_margin_pct_help")),
    (
        t("sku_margin_estimated_share"),
        percent(estimated_share),
        t("sku_margin_estimated_help", estimated=money(estimated), fees=money(fees)),
    ),
]
for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)
if estimated_share:
    st.warning(
        t("sku_margin_estimated_warning", share=percent(estimated_share)), icon=":material/receipt_long:"
    )

step_labels = {key: t(f"sku_margin_{key}") for key, _, _ in WATERFALL_STEPS}
step_labels["contribution_margin"] = t("sku_margin_contribution_margin")
st.plotly_chart(
    margin_waterfall(totals, labels=step_labels, title=t("sku_margin_waterfall_title")),
    config={"displayModeBar": False},
)

columns = {
    "sku": st.column_config.TextColumn(t("sku_margin_sku")),
    "product_name": st.column_config.TextColumn(t("sku_margin_product")),
    "category": st.column_config.TextColumn(t("sku_margin_category")),
    "shop_name": st.column_config.TextColumn(t("sku_margin_shop")),
    "units": st.column_config.NumberColumn(t("sku_margin_units"), format="%,d"),
    "net_sales_cny": st.column_config.NumberColumn(t("sku_margin_net_sales"), format=money_format()),
    "refunds_cny": st.column_config.NumberColumn(t("sku_margin_refunds"), format=money_format()),
    "net_revenue_cny": st.column_config.NumberColumn(t("sku_margin_net_revenue"), format=money_format()),
    "cogs_cny": st.column_config.NumberColumn(t("sku_margin_cogs"), format=money_format()),
    "platform_fees_cny": st.column_config.NumberColumn(t("sku_margin_platform_fees"), format=money_format()),
    "fulfilment_cost_cny": st.column_config.NumberColumn(t("sku_margin_fulfilment"), format=money_format()),
    "return_cost_cny": st.column_config.NumberColumn(t("sku_margin_return_cost"), format=money_format()),
    "contribution_margin_cny": st.column_config.NumberColumn(
        t("sku_margin_contribution_margin"), format=money_format()
    ),
    "margin_pct": st.column_config.NumberColumn(t("sku_margin_margin_pct"), format="percent"),
    "fees_estimated": st.column_config.CheckboxColumn(t("sku_margin_fees_estimated")),
    "costs_estimated": st.column_config.CheckboxColumn(t("sku_margin_costs_estimated")),
}
keep = list(columns)

sku_shops, losing = int(table["sku_shops"].iloc[0]), int(table["losing_sku_shops"].iloc[0])

st.subheader(t("sku_margin_negative_title"))
negative = losses(table).head(rows)
if negative.empty:
    st.success(t("sku_margin_negative_empty"))
else:
    if losing > len(negative):
        st.caption(t("sku_margin_negative_some", n=f"{len(negative):,}", total=f"{losing:,}"))
    data_table(
        negative[keep],
        key="sku_margin_negative",
        filename="sku_margin_negative",
        file_scope=SCOPE,
        column_config=columns,
        total=losing,
        export=lambda: losses(labelled(every_row()))[keep],
    )

st.subheader(t("sku_margin_table_title"))
shown = table.head(rows)  # highest margin first
if sku_shops > len(shown):
    st.caption(t("sku_margin_table_some", n=f"{len(shown):,}", total=f"{sku_shops:,}"))
data_table(
    shown[keep],
    key="sku_margin_all",
    filename="sku_margin_by_sku_shop",
    file_scope=SCOPE,
    column_config=columns,
    total=sku_shops,
    export=lambda: labelled(every_row())[keep],
)

stamp = serving.published_at(sel.path, sel.version)
if stamp is not None:
    st.caption(t("published_at", ts=local_timestamp(stamp)))
