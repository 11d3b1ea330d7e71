"""供应商交付 Supplier deliveries: how each supplier delivers (on-time rate, fill rate, actual against configured
lead time) and what it still owes, and every purchase-order line still open past its expected date — late (within
the grace days, still counted as incoming) or overdue (beyond them, no longer counted) — the most days late first.
Everything comes from marts.supplier_performance and marts.supplier_deliveries (WMS purchase orders and
receipts); the tiles are ratios of the mart's sums. Warehouses filter the late lines; shops, dates and categories
do not apply (a purchase order belongs to no shop and is judged as of the build day).
"""

from __future__ import annotations

import streamlit as st

from dashboards import filters, notices
from dashboards.format import integer, local_date, local_timestamp, percent
from dashboards.i18n import t
from dashboards.queries import replenishment, serving
from dashboards.ratios import period_ratios, pooled
from dashboards.tables import data_table

sel = filters.current()
filters.note_ignored(sel, categories=True)
performance = replenishment.supplier_performance(sel.path, sel.version)
late = replenishment.late_po_lines(sel.path, sel.version, sel.warehouse_ids)

st.title(t("suppliers"))
if notices.not_configured(sel, "stock", "wms"):
    st.stop()
if performance.empty:
    st.info(t("suppliers_no_rows"))
    st.stop()
as_of = late["as_of_date"].max() if not late.empty else None
st.caption(t("suppliers_caption", as_of=local_date(as_of) if as_of is not None else "—"))

declared = period_ratios(sel.path, sel.version)
tiles = [
    (t("suppliers_on_time_rate"), percent(pooled(performance, declared["on_time_rate"])), t("suppliers_on_time_help")),
    (t("suppliers_fill_rate"), percent(pooled(performance, declared["fill_rate"])), t("suppliers_fill_help")),
    (
        t("suppliers_late_lines"),
        integer(int((late["delivery_status"] == "late_open").sum())),
        t("suppliers_late_help"),
    ),
    (
        t("suppliers_overdue_units"),
        integer(int(performance["overdue_units"].sum())),
        t("suppliers_overdue_help"),
    ),
]
for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)

st.subheader(t("suppliers_performance_title"))
data_table(
    performance[
        ["supplier_id", "supplier_name", "purchase_orders", "po_lines", "on_time_rate", "fill_rate",
         "lead_time_days_actual", "lead_time_days_configured", "open_lines", "open_units", "overdue_lines",
         "overdue_units", "oldest_overdue_expected_date", "max_days_late_open"]
    ],
    key="suppliers_performance",
    filename="supplier_performance",
    sku_column=None,
    column_config={
        "supplier_id": st.column_config.TextColumn(t("replenishment_supplier")),
        "supplier_name": st.column_config.TextColumn(t("suppliers_name")),
        "purchase_orders": st.column_config.NumberColumn(t("suppliers_purchase_orders"), format="%,d"),
        "po_lines": st.column_config.NumberColumn(t("suppliers_po_lines"), format="%,d"),
        "on_time_rate": st.column_config.NumberColumn(t("suppliers_on_time_rate"), format="percent",
                                                      help=t("suppliers_on_time_help")),
        "fill_rate": st.column_config.NumberColumn(t("suppliers_fill_rate"), format="percent",
                                                   help=t("suppliers_fill_help")),
        "lead_time_days_actual": st.column_config.NumberColumn(t("suppliers_lead_actual"), format="%.1f"),
        "lead_time_days_configured": st.column_config.NumberColumn(t("suppliers_lead_configured"), format="%d"),
        "open_lines": st.column_config.NumberColumn(t("suppliers_open_lines"), format="%,d"),
        "open_units": st.column_config.NumberColumn(t("suppliers_open_units"), format="%,d"),
        "overdue_lines": st.column_config.NumberColumn(t("suppliers_overdue_lines"), format="%,d"),
        "overdue_units": st.column_config.NumberColumn(t("suppliers_overdue_units"), format="%,d",
                                                       help=t("suppliers_overdue_help")),
        "oldest_overdue_expected_date": st.column_config.DateColumn(t("inventory_overdue_since"),
                                                                    format="YYYY-MM-DD"),
        "max_days_late_open": st.column_config.NumberColumn(t("suppliers_max_days_late"), format="%d"),
    },
)  # fmt: skip

st.subheader(t("suppliers_late_title"))
if late.empty:
    st.success(t("suppliers_nothing_late"))
else:
    data_table(
        late.assign(delivery_status=late["delivery_status"].map(lambda s: t(f"suppliers_status_{s}")))[
            ["po_number", "supplier_name", "warehouse_id", "sku", "product_name", "ordered_date", "expected_date",
             "days_late", "ordered_quantity", "received_quantity", "open_quantity", "delivery_status"]
        ],
        key="suppliers_late",
        filename="late_purchase_order_lines",
        column_config={
            "po_number": st.column_config.TextColumn(t("suppliers_po_number")),
            "supplier_name": st.column_config.TextColumn(t("suppliers_name")),
            "warehouse_id": st.column_config.TextColumn(t("inventory_warehouse")),
            "sku": st.column_config.TextColumn(t("replenishment_sku")),
            "product_name": st.column_config.TextColumn(t("replenishment_product")),
            "ordered_date": st.column_config.DateColumn(t("suppliers_ordered_date"), format="YYYY-MM-DD"),
            "expected_date": st.column_config.DateColumn(t("suppliers_expected_date"), format="YYYY-MM-DD"),
            "days_late": st.column_config.NumberColumn(t("suppliers_days_late"), format="%d"),
            "ordered_quantity": st.column_config.NumberColumn(t("suppliers_ordered"), format="%,d"),
            "received_quantity": st.column_config.NumberColumn(t("suppliers_received"), format="%,d"),
            "open_quantity": st.column_config.NumberColumn(t("suppliers_open_units"), format="%,d"),
            "delivery_status": st.column_config.TextColumn(t("suppliers_status")),
        },
    )  # fmt: skip

stamp = serving.published_at(sel.path, sel.version)
if stamp is not None:
    st.caption(t("published_at", ts=local_timestamp(stamp)))
