"""异常订单 Order exceptions: the review queue of open orders with a reason to look before shipping.

Source: marts.order_exceptions as of the snapshot (open orders of any order date: the shop filter applies,
the date range does not). Buyers appear only as masked ids; no name, phone or address reaches this page
(remarks have digit runs masked, and only which part of an incomplete address is missing is shown).
"""

from __future__ import annotations

import streamlit as st

from dashboards import filters
from dashboards.figures.customers import exception_reasons
from dashboards.format import integer, money, money_format
from dashboards.i18n import t
from dashboards.queries import operations
from dashboards.settings import DISPLAY_TIMEZONE
from dashboards.tables import data_table

PLOT_CONFIG = {"displayModeBar": False}
REASONS_KEY = "exceptions_reasons"


def reason_labels() -> dict[str, str]:
    return {r: t(f"exceptions_reason_{r}") for r in operations.EXCEPTION_REASONS}


def join_labels(codes: object, labels: dict[str, str]) -> str:
    """A cell of codes joined by ',' ('address_incomplete,ship_overdue') as labels ('地址不全, 超时未发货');
    empty or missing as ''."""
    if not isinstance(codes, str) or not codes:
        return ""
    return ", ".join(labels.get(code, code) for code in codes.split(","))


sel = filters.current()
SCOPE = filters.file_scope(sel, dated=False)  # downloads' file names
filters.note_ignored(sel, categories=True, warehouses=True)
st.title(t("exceptions"))
st.caption(t("exceptions_scope"))

labels = reason_labels()
counts = operations.exception_reason_counts(sel.path, sel.version, sel.shop_ids)
totals = operations.exception_totals(sel.path, sel.version, sel.shop_ids)

tiles = [
    (t("exceptions_open_orders"), integer(totals["orders"])),
    (t("exceptions_paid_amount"), money(totals["paid_amount_cny"])),
    (
        t("exceptions_reason_ship_overdue"),
        integer(int(counts.loc[counts["reason"] == "ship_overdue", "orders"].sum())),
    ),
    (t("exceptions_multi_reason"), integer(totals["multi_reason"])),
]
for column, (label, value) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, border=True)

if not totals["orders"]:
    st.success(t("exceptions_empty"), icon=":material/check_circle:")
    st.stop()

st.plotly_chart(exception_reasons(counts, labels, title=t("exceptions_counts_title")), config=PLOT_CONFIG)

st.subheader(t("exceptions_queue_title"))
picked = st.multiselect(
    t("exceptions_reason_filter"),
    options=list(operations.EXCEPTION_REASONS),
    key=REASONS_KEY,
    format_func=labels.__getitem__,
    placeholder=t("exceptions_reason_filter_hint"),
)
queue = operations.exception_queue(sel.path, sel.version, sel.shop_ids, tuple(picked))
address_parts = {p: t(f"exceptions_address_{p}") for p in ("province", "city", "street")}
shown = queue.assign(
    reasons=queue["reasons"].map(lambda v: join_labels(v, labels)),
    address_missing=queue["address_missing"].map(lambda v: join_labels(v, address_parts)),
)
data_table(
    shown[
        [
            "reasons",
            "shop_name",
            "platform_order_id",
            "buyer_key",
            "order_date",
            "paid_at",
            "paid_amount_cny",
            "hours_since_paid",
            "hours_left",
            "address_missing",
            "remark_keywords",
            "buyer_remark",
            "seller_remark",
            "duplicate_order_ids",
            "oversold_skus",
            "unmapped_codes",
        ]
    ],
    key="exceptions_queue",
    filename="order_exceptions",
    file_scope=SCOPE,
    sku_column=None,
    column_config={
        "reasons": st.column_config.TextColumn(t("exceptions_reasons")),
        "shop_name": st.column_config.TextColumn(t("shop")),
        "platform_order_id": st.column_config.TextColumn(t("exceptions_platform_order_id")),
        "buyer_key": st.column_config.TextColumn(t("exceptions_buyer_key")),
        "order_date": st.column_config.DateColumn(t("exceptions_order_date"), format="YYYY-MM-DD"),
        "paid_at": st.column_config.DatetimeColumn(
            t("exceptions_paid_at"), format="YYYY-MM-DD HH:mm", timezone=DISPLAY_TIMEZONE
        ),
        "paid_amount_cny": st.column_config.NumberColumn(t("exceptions_paid_amount"), format=money_format()),
        "hours_since_paid": st.column_config.NumberColumn(t("exceptions_hours_since_paid"), format="%.1f"),
        "hours_left": st.column_config.NumberColumn(
            t("exceptions_hours_left"), format="%.1f", help=t("exceptions_hours_left_help")
        ),
        "address_missing": st.column_config.TextColumn(t("exceptions_address_missing")),
        "remark_keywords": st.column_config.TextColumn(t("exceptions_remark_keywords")),
        "buyer_remark": st.column_config.TextColumn(t("exceptions_buyer_remark")),
        "seller_remark": st.column_config.TextColumn(t("exceptions_seller_remark")),
        "duplicate_order_ids": st.column_config.TextColumn(t("exceptions_duplicates")),
        "oversold_skus": st.column_config.TextColumn(t("exceptions_oversold_skus")),
        "unmapped_codes": st.column_config.TextColumn(t("exceptions_unmapped_codes")),
    },
)
