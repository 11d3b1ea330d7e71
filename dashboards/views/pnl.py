"""经营月报 Monthly P&L: per shop and month, sales, refunds, COGS, platform fees, courier and return costs, the
contribution margin, the month's ad spend (the ad platforms' plan reports, imported as files) and what is left
after it, the profit per order, and the managers' targets with their attainment — all columns of
marts.shop_monthly_pnl. The tiles sum the mart's columns over the selection; their ratios are ratios of the sums.

Targets are entered here (a manager's form) into the ops store (`writeback/ops_store.py`, every version kept with who
and when), never the warehouse; the next build copies them in (raw_ops.shop_targets) and the mart computes the
attainment. Until then the form's table shows the target as saved and the P&L shows it once built.

The mart is monthly: the date range selects the months it touches (whole months, said in the caption). Shops
filter; categories and warehouses do not apply.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import access, filters, notices, writes
from dashboards.format import local_timestamp, money, money_format, percent
from dashboards.i18n import t
from dashboards.queries import core, finance, serving
from dashboards.ratios import period_ratios, pooled
from dashboards.settings import SettingsError, ops_path
from dashboards.tables import data_table
from writeback import ops_store as ops

FLASH_KEY = "pnl_flash"  # the last target saved (or refused), shown once after its rerun

sel = filters.current()
SCOPE = filters.file_scope(sel)
filters.note_ignored(sel, categories=True, warehouses=True)
first_month, last_month = finance.margin_months(sel.start, sel.end)
pnl = finance.shop_monthly_pnl(sel.path, sel.version, sel.start, sel.end, sel.shop_ids)
try:
    store, store_error = ops_path(), None
except SettingsError as exc:
    store, store_error = None, str(exc)

st.title(t("pnl"))
notices.not_configured(sel, "costs", "product_master")
st.caption(t("pnl_caption", first=first_month.strftime("%Y-%m"), last=last_month.strftime("%Y-%m")))
if pnl.empty:
    st.info(t("pnl_no_rows"))
    st.stop()


def _sum(column: str) -> Decimal:
    return sum((v for v in pnl[column] if v is not None and not pd.isna(v)), Decimal(0))


net_revenue, margin, ads = _sum("net_revenue_cny"), _sum("contribution_margin_cny"), _sum("ad_spend_cny")
after_ads = _sum("contribution_after_ads_cny")
declared = period_ratios(sel.path, sel.version)
tiles = [
    (t("sku_margin_net_revenue"), money(net_revenue), t("pnl_net_revenue_help")),
    (t("sku_margin_contribution_margin"), money(margin), t("pnl_margin_help")),
    (t("pnl_ad_spend"), money(ads), t("pnl_ad_spend_help")),
    (t("pnl_after_ads"), money(after_ads), t("pnl_after_ads_help")),
    (
        t("pnl_after_ads_pct"),
        percent(pooled(pnl, declared["margin_after_ads_pct"])),
        t("pnl_after_ads_pct_help"),
    ),
    (
        t("pnl_profit_per_order"),
        money(pooled(pnl, declared["profit_per_order_cny"])),
        t("pnl_profit_per_order_help"),
    ),
]
for column, (label, value, help_text) in zip(st.columns(3) + st.columns(3), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)

without_ads = sorted(set(pnl.loc[~pnl["has_ad_spend"].astype(bool), "shop_name"]))
if without_ads:
    st.info(t("pnl_no_ad_report", shops="、".join(without_ads)), icon=":material/campaign:")

st.subheader(t("pnl_table_title"))
table = pnl.assign(month=pnl["month"].map(lambda m: m.strftime("%Y-%m")))
money_columns = {
    "net_sales_cny": "sku_margin_net_sales",
    "refunds_cny": "sku_margin_refunds",
    "net_revenue_cny": "sku_margin_net_revenue",
    "cogs_cny": "sku_margin_cogs",
    "platform_fees_cny": "sku_margin_platform_fees",
    "fulfilment_cost_cny": "sku_margin_fulfilment",
    "return_cost_cny": "sku_margin_return_cost",
    "contribution_margin_cny": "sku_margin_contribution_margin",
    "ad_spend_cny": "pnl_ad_spend",
    "contribution_after_ads_cny": "pnl_after_ads",
    "profit_per_order_cny": "pnl_profit_per_order",
    "net_revenue_target_cny": "pnl_revenue_target",
    "contribution_target_cny": "pnl_contribution_target",
}
ratio_columns = {
    "margin_pct": "sku_margin_margin_pct",
    "margin_after_ads_pct": "pnl_after_ads_pct",
    "net_revenue_attainment": "pnl_revenue_attainment",
    "contribution_attainment": "pnl_contribution_attainment",
}
shown = ["month", "shop_name", "orders", "net_sales_cny", "refunds_cny", "net_revenue_cny", "cogs_cny",
         "platform_fees_cny", "fulfilment_cost_cny", "return_cost_cny", "contribution_margin_cny", "margin_pct",
         "ad_spend_cny", "contribution_after_ads_cny", "margin_after_ads_pct", "profit_per_order_cny",
         "net_revenue_target_cny", "net_revenue_attainment", "contribution_target_cny", "contribution_attainment",
         "lines_fees_estimated"]  # fmt: skip
data_table(
    table[shown],
    key="pnl_table",
    filename="monthly_pnl_by_shop",
    file_scope=SCOPE,
    sku_column=None,
    column_config={
        "month": st.column_config.TextColumn(t("sku_margin_month")),
        "shop_name": st.column_config.TextColumn(t("sku_margin_shop")),
        "orders": st.column_config.NumberColumn(t("orders"), format="%,d"),
        **{
            name: st.column_config.NumberColumn(t(key), format=money_format())
            for name, key in money_columns.items()
        },
        **{
            name: st.column_config.NumberColumn(t(key), format="percent")
            for name, key in ratio_columns.items()
        },
        "lines_fees_estimated": st.column_config.NumberColumn(
            t("sku_margin_lines_fees_estimated"), format="%,d"
        ),
    },
)

# -- targets ------------------------------------------------------------------------------------------------------

st.subheader(t("pnl_targets_title"))
st.caption(t("pnl_targets_caption"))
if store_error:
    st.error(t("pnl_ops_error", error=store_error))
    st.stop()
flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

shops = core.shops(sel.path, sel.version)
names = dict(zip(shops["shop_id"], shops["shop_name"], strict=True))
latest = max(pnl["month"])
following = (latest.replace(day=28) + timedelta(days=4)).replace(
    day=1
)  # targets are often set for next month
months = sorted(set(pnl["month"]) | {following}, reverse=True)
if access.current().can(access.SET_TARGETS):
    with st.form("pnl_target_form", clear_on_submit=False, border=True):
        shop_col, month_col = st.columns(2)
        shop_id = shop_col.selectbox(t("sku_margin_shop"), list(names), format_func=lambda s: names.get(s, s),
                                     key="pnl_target_shop")  # fmt: skip
        month = month_col.selectbox(t("sku_margin_month"), months, format_func=lambda m: m.strftime("%Y-%m"),
                                    key="pnl_target_month")  # fmt: skip
        revenue_col, margin_col = st.columns(2)
        revenue = revenue_col.text_input(t("pnl_revenue_target"), key="pnl_target_revenue",
                                         placeholder=t("pnl_target_placeholder"))  # fmt: skip
        contribution = margin_col.text_input(t("pnl_contribution_target"), key="pnl_target_contribution",
                                             placeholder=t("pnl_target_placeholder"))  # fmt: skip
        note = st.text_input(t("pnl_target_note"), key="pnl_target_note")
        if st.form_submit_button(t("pnl_target_save"), type="primary"):
            try:
                writes.set_target(store, shop_id=shop_id, month=month, net_revenue_target=revenue,
                                  contribution_target=contribution, note=note)  # fmt: skip
                st.session_state[FLASH_KEY] = ("success", t("pnl_target_saved", shop=names.get(shop_id, shop_id),
                                                            month=month.strftime("%Y-%m")))  # fmt: skip
            except (ops.OpsStoreError, access.AccessDenied) as exc:
                st.session_state[FLASH_KEY] = ("error", t("pnl_target_invalid", error=exc))
            st.rerun()

try:
    saved = ops.current_targets(store)
except ops.OpsStoreError as exc:
    st.error(t("pnl_ops_error", error=exc))
    saved = pd.DataFrame(columns=ops.TARGET_COLUMNS)
if saved.empty:
    st.caption(t("pnl_no_targets"))
else:
    data_table(
        saved.assign(shop_name=saved["shop_id"].map(lambda s: names.get(s, s)), month=saved["month"].str[:7])[
            ["month", "shop_name", "net_revenue_target", "contribution_target", "set_by", "set_at", "note"]
        ],
        key="pnl_targets",
        filename="shop_targets",
        sku_column=None,
        column_config={
            "month": st.column_config.TextColumn(t("sku_margin_month")),
            "shop_name": st.column_config.TextColumn(t("sku_margin_shop")),
            "net_revenue_target": st.column_config.NumberColumn(t("pnl_revenue_target"), format=money_format()),
            "contribution_target": st.column_config.NumberColumn(t("pnl_contribution_target"), format=money_format()),
            "set_by": st.column_config.TextColumn(t("pnl_target_set_by")),
            "set_at": st.column_config.TextColumn(t("pnl_target_set_at")),
            "note": st.column_config.TextColumn(t("pnl_target_note")),
        },
    )  # fmt: skip

stamp = serving.published_at(sel.path, sel.version)
if stamp is not None:
    st.caption(t("published_at", ts=local_timestamp(stamp)))
