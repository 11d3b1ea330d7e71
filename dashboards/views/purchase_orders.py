"""采购订单 Purchase orders: shopkeep's own orders to suppliers by state (writeback/purchasing, in the ops store),
and one order's lines, its document, its history (every command with who and when) and every attempt at sending
it. Orders are made from the 补货 page's approved drafts and sent by `shopkeep po send` or Dagster's sensor; this
page sends nothing. Filters do not apply (an order belongs to no shop and is shown as it stands now).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import filters
from dashboards.format import integer
from dashboards.i18n import t
from dashboards.settings import SettingsError, ops_path
from dashboards.tables import data_table
from writeback.ops_store import OpsStoreError
from writeback.purchasing import orders
from writeback.purchasing.document import document, document_path
from writeback.purchasing.send import attempts

TEXT = {
    "po_number": "purchase_orders_po", "supplier_id": "purchase_orders_supplier",
    "warehouse_id": "purchase_orders_warehouse", "state": "purchase_orders_state", "to_state": "purchase_orders_state",
    "created_at": "purchase_orders_created", "expected_date": "purchase_orders_expected",
    "promised_date": "purchase_orders_promised", "sku": "purchase_orders_sku", "unit_price": "purchase_orders_unit_price",
    "changed_at": "purchase_orders_changed_at", "started_at": "purchase_orders_changed_at",
    "command": "purchase_orders_command", "changed_by": "purchase_orders_changed_by", "outcome": "purchase_orders_outcome",
}  # fmt: skip
NUMBER = {"lines": "purchase_orders_lines", "ordered": "purchase_orders_ordered", "confirmed": "purchase_orders_confirmed",
          "received": "purchase_orders_received", "outstanding": "purchase_orders_outstanding"}  # fmt: skip
WIDE = {"detail": "purchase_orders_detail", "message": "purchase_orders_detail"}
"""Each table column's header (its string key), by kind."""


def _columns(frame: pd.DataFrame) -> dict:
    return {
        name: st.column_config.NumberColumn(t(NUMBER[name])) if name in NUMBER
        else st.column_config.TextColumn(t(WIDE[name]), width="large") if name in WIDE
        else st.column_config.TextColumn(t(TEXT[name]))
        for name in frame.columns if name in NUMBER or name in WIDE or name in TEXT
    }  # fmt: skip


sel = filters.current()
filters.note_ignored(sel, categories=True, warehouses=True)
st.title(t("purchase_orders"))
try:
    store_path = ops_path()
    placed = orders.orders(store_path)
except (SettingsError, OpsStoreError) as exc:
    st.error(t("purchase_orders_cannot_read", error=exc))
    st.stop()
st.caption(t("purchase_orders_caption"))
if not placed:
    st.info(t("purchase_orders_none"))
    st.stop()


def _units(order: orders.PurchaseOrder, what: str) -> int:
    return sum(getattr(line, what) or 0 for line in order.lines)


table = pd.DataFrame(
    [
        {
            "po_number": o.po_number, "supplier_id": o.supplier_id, "warehouse_id": o.warehouse_id,
            "state": t(f"purchase_orders_state_{o.state}"), "created_at": o.created_at[:10],
            "expected_date": o.expected_date, "promised_date": o.promised_date, "lines": len(o.lines),
            "ordered": _units(o, "quantity"),
            "confirmed": _units(o, "confirmed") if any(line.confirmed is not None for line in o.lines) else None,
            "received": _units(o, "received"), "outstanding": sum(o.outstanding.values()),
        }
        for o in placed
    ]
)  # fmt: skip
states = pd.Series([o.state for o in placed])
tiles = [
    (t("purchase_orders_waiting"), integer(int(states.isin(["draft", "approved"]).sum())), t("purchase_orders_waiting_help")),
    (t("purchase_orders_open"), integer(int(states.isin(orders.OPEN).sum())), t("purchase_orders_open_help")),
    (t("purchase_orders_outstanding"), integer(int(table["outstanding"].sum())), t("purchase_orders_outstanding_help")),
    (t("purchase_orders_cancelled"), integer(int((states == "cancelled").sum())), t("purchase_orders_cancelled_help")),
]  # fmt: skip
for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)

st.subheader(t("purchase_orders_list_title"))
data_table(
    table,
    key="purchase_orders_list",
    filename="purchase_orders",
    sku_column=None,
    column_config=_columns(table),
)

st.subheader(t("purchase_orders_detail_title"))
chosen = st.selectbox(t("purchase_orders_po"), [o.po_number for o in placed], key="purchase_orders_pick")
order = next(o for o in placed if o.po_number == chosen)
written = document_path(store_path, order.po_number)  # the one sent, in the supplier's layout, once sent
st.download_button(
    t("purchase_orders_document"), written.read_bytes() if written.exists() else document(order),
    file_name=f"{order.po_number}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="purchase_orders_document",
)  # fmt: skip
lines = pd.DataFrame(
    [{"sku": line.sku, "ordered": line.quantity, "unit_price": line.unit_price, "confirmed": line.confirmed,
      "received": line.received} for line in order.lines]
)  # fmt: skip
data_table(
    lines,
    key="purchase_orders_lines",
    filename=f"{order.po_number}_lines",
    column_config=_columns(lines),
)
st.caption(t("purchase_orders_history_title"))
events = pd.DataFrame(orders.history(store_path, order.po_number))
history = events.assign(to_state=events["to_state"].map(lambda s: t(f"purchase_orders_state_{s}")))[
    ["changed_at", "command", "to_state", "changed_by", "detail"]
]
data_table(
    history,
    key="purchase_orders_history",
    filename=f"{order.po_number}_history",
    sku_column=None,
    column_config=_columns(history),
)
sends = pd.DataFrame(attempts(store_path, order.po_number))
if sends.empty:
    st.caption(t("purchase_orders_no_sends"))
else:
    st.caption(t("purchase_orders_sends_title"))
    shown = sends[["started_at", "outcome", "http_status", "message"]]
    data_table(
        shown,
        key="purchase_orders_sends",
        filename=f"{order.po_number}_sends",
        sku_column=None,
        column_config={**_columns(shown), "http_status": st.column_config.NumberColumn("HTTP", format="%d")},
    )
