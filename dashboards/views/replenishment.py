"""补货 Replenishment: today's purchase-order drafts per supplier with the forecast behind each line, and a
decision per line — approve the suggested quantity, approve an edited one, or reject — saved in the ops store
(`writeback/ops_store.py`, ops.sqlite), never in the warehouse. Decisions show on the next page load; sending the
approved orders to suppliers is the writeback's job (a later issue).

Filters: categories (the drafts' SKUs); drafts are neither per shop nor per date range, nor per warehouse.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from dashboards import access, filters, labels, notices, writes
from dashboards import columns as columns_shared
from dashboards.figures.stock import demand_history_forecast
from dashboards.format import integer, local_date, local_timestamp, money, money_format, percent
from dashboards.i18n import t
from dashboards.queries import replenishment, sales, serving
from dashboards.settings import SettingsError, ops_path
from dashboards.tables import data_table
from writeback import ops_store as ops

HISTORY_DAYS = 56  # weeks of units sold shown before the forecast
FLASH_KEY = "replenishment_flash"  # (kind, message) of the last decision, shown once after its rerun

sel = filters.current()
filters.note_ignored(sel, warehouses=True)
lines = replenishment.po_draft_lines(sel.path, sel.version, sel.categories)
accuracy = replenishment.forecast_accuracy(sel.path, sel.version, sel.categories)
accuracy = accuracy.assign(
    category=accuracy["category"].map(filters.category_label),
    model_name=accuracy["model_name"].map(labels.model),
    demand_class=accuracy["demand_class"].map(labels.demand_class),
)
try:
    store = ops_path()
    store_error = None
except SettingsError as exc:
    store, store_error = None, str(exc)


def sku_columns() -> dict:
    """The SKU, product, category and supplier columns of the page's SKU tables."""
    return {
        "sku": st.column_config.TextColumn(t("replenishment_sku")),
        "product_name": st.column_config.TextColumn(t("replenishment_product")),
        "category": st.column_config.TextColumn(t("inventory_category")),
        "supplier_id": st.column_config.TextColumn(t("replenishment_supplier")),
    }


def _decisions() -> pd.DataFrame:
    """The latest decision per draft line of today's drafts (read on every run: never cached)."""
    if store is None or lines.empty:
        return pd.DataFrame(columns=ops.DECISION_COLUMNS)
    try:
        return ops.current_decisions(store, sorted(lines["draft_id"].unique()))
    except ops.OpsStoreError as exc:
        st.error(t("replenishment_ops_error", error=exc))
        return pd.DataFrame(columns=ops.DECISION_COLUMNS)


def _status_label(status: str | None) -> str:
    return t(f"replenishment_status_{status or 'pending'}")


def _decide(line: dict, reject: bool) -> None:
    """Button callback: record the decision on `line` with the quantity and note typed in its row."""
    key = line["draft_line_id"]
    try:
        decision = ops.decide(
            draft_id=line["draft_id"],
            sku=line["sku"],
            supplier_id=line["supplier_id"],
            suggested_qty=int(line["quantity"]),
            quantity=None if reject else st.session_state.get(f"replenishment_qty__{key}"),
            reject=reject,
            as_of_date=line["as_of_date"].isoformat() if line["as_of_date"] is not None else None,
            snapshot_version=serving.snapshot_id(sel.path, sel.version),
            note=st.session_state.get(f"replenishment_note__{key}"),
        )
        seen = line.get("decision_id")
        writes.decide_po(store, decision, seen=None if pd.isna(seen) else int(seen))
    except access.AccessDenied as exc:
        st.session_state[FLASH_KEY] = ("error", t("access_refused", error=exc))
        return
    except ops.OpsStoreError as exc:
        st.session_state[FLASH_KEY] = ("error", t("replenishment_invalid", error=exc))
        return
    message = t("replenishment_saved", sku=line["sku"], status=_status_label(decision.status))
    qty = decision.approved_qty
    if qty is not None and (qty % max(int(line["pack_size"] or 1), 1) or qty < int(line["moq"] or 0)):
        message += " " + t(
            "replenishment_not_pack_multiple", qty=qty, pack=line["pack_size"], moq=line["moq"]
        )
    st.session_state[FLASH_KEY] = ("success", message)


st.title(t("replenishment"))
missing = [
    notices.not_configured(sel, "stock", "wms"),
    notices.not_configured(sel, "products", "product_master"),
]
if any(missing):
    st.stop()
as_of = lines["as_of_date"].max() if not lines.empty else None
st.caption(t("replenishment_caption", as_of=local_date(as_of) if as_of else "—"))
if store_error:
    st.error(t("replenishment_ops_error", error=store_error))
late = replenishment.late_suppliers(sel.path, sel.version)
if not late.empty:
    st.warning(
        t("replenishment_late_suppliers", suppliers="; ".join(
            t("replenishment_late_supplier", supplier=row.supplier_name or row.supplier_id, lines=integer(row.lines),
              units=integer(row.units), days=integer(row.days_late))
            for row in late.itertuples()
        )),
        icon=":material/local_shipping:",
    )  # fmt: skip

decisions = _decisions()
merged = lines.merge(
    decisions[["draft_id", "sku", "decision_id", "status", "approved_qty", "decided_at", "decided_by", "note"]],
    on=["draft_id", "sku"],
    how="left",
)
merged["decision"] = [_status_label(s if pd.notna(s) else None) for s in merged["status"]]
# a decided line is worth what it orders: the approved (or edited) quantity, nothing when rejected; a pending line
# its suggestion — and the draft the sum of its lines
merged["line_value_cny"] = [
    value if pd.isna(status) else (0 if status == "rejected" else int(approved) * price)
    for value, status, approved, price in zip(
        merged["line_value_cny"],
        merged["status"],
        merged["approved_qty"],
        merged["unit_price_cny"],
        strict=True,
    )
]
merged["draft_value_cny"] = merged.groupby("draft_id")["line_value_cny"].transform("sum")
merged["decided_at"] = [
    local_timestamp(datetime.fromisoformat(s)) if isinstance(s, str) else None for s in merged["decided_at"]
]

drafts = merged.drop_duplicates("draft_id")
tiles = [
    (t("replenishment_drafts"), integer(len(drafts))),
    (t("replenishment_lines"), integer(len(merged))),
    (t("replenishment_value"), money(drafts["draft_value_cny"].sum() if not drafts.empty else 0)),
    (t("replenishment_pending"), integer(int(merged["status"].isna().sum()))),
]
for column, (label, value) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, border=True)

flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    (st.success if flash[0] == "success" else st.error)(flash[1])

if merged.empty:
    st.info(t("replenishment_none"))
    supplier_ids: list[str] = sorted(accuracy["supplier_id"].dropna().unique())
    supplier = None
else:
    supplier_ids = list(dict.fromkeys(merged["supplier_id"]))
    # labels computed here, in the session's language (a format_func calling t() later would not know it)
    supplier_labels = {
        row["supplier_id"]: t(
            "replenishment_supplier_option",
            name=f"{row['supplier_name']} ({row['supplier_id']})",
            lines=int(row["draft_lines"]),
            value=money(row["draft_value_cny"]),
        )
        for row in drafts.to_dict("records")
    }
    supplier = st.selectbox(
        t("replenishment_supplier"),
        supplier_ids,
        key="replenishment_supplier",
        format_func=supplier_labels.__getitem__,
    )

if supplier is not None:
    rows = merged[merged["supplier_id"] == supplier]
    head = rows.iloc[0]
    st.caption(
        t(
            "replenishment_draft_caption",
            draft_id=head["draft_id"],
            expected=local_date(head["expected_date"]),
            currency=head["currency"],
        )
    )
    data_table(
        rows.assign(model_name=rows["model_name"].map(labels.model))[
            ["sku", "product_name", "decision", "quantity", "approved_qty", "unit_price_cny", "line_value_cny",
             "moq", "pack_size", "stockout_date", "days_to_stockout", "available", "on_order", "overdue_quantity",
             "reorder_point", "model_name", "wape", "decided_at", "decided_by", "note"]
        ],
        key="replenishment_lines",
        filename=f"purchase_order_draft_{supplier}",
        column_config={
            "sku": st.column_config.TextColumn(t("replenishment_sku")),
            "product_name": st.column_config.TextColumn(t("replenishment_product")),
            "quantity": st.column_config.NumberColumn(t("replenishment_suggested_qty"), format="%,d"),
            "unit_price_cny": st.column_config.NumberColumn(t("replenishment_unit_price"), format=money_format()),
            "line_value_cny": st.column_config.NumberColumn(t("replenishment_line_value"), format=money_format()),
            "moq": st.column_config.NumberColumn(t("replenishment_moq"), format="%,d"),
            "pack_size": st.column_config.NumberColumn(t("replenishment_pack"), format="%,d"),
            "stockout_date": st.column_config.DateColumn(t("replenishment_stockout"), format="YYYY-MM-DD"),
            "days_to_stockout": st.column_config.NumberColumn(t("replenishment_days_to_stockout"), format="%d"),
            "available": st.column_config.NumberColumn(t("replenishment_available"), format="%,d"),
            "on_order": st.column_config.NumberColumn(t("replenishment_on_order"), format="%,d"),
            **columns_shared.overdue_po(),
            "reorder_point": st.column_config.NumberColumn(t("replenishment_reorder_point"), format="%,.1f"),
            "model_name": st.column_config.TextColumn(t("replenishment_model")),
            "wape": st.column_config.NumberColumn(t("replenishment_wape"), format="percent"),
            "decision": st.column_config.TextColumn(t("replenishment_decision")),
            "approved_qty": st.column_config.NumberColumn(t("replenishment_approved_qty"), format="%,d"),
            "decided_at": st.column_config.TextColumn(t("replenishment_decided_at")),
            "decided_by": st.column_config.TextColumn(t("replenishment_decided_by")),
            "note": st.column_config.TextColumn(t("replenishment_note")),
        },
    )  # fmt: skip

    may_decide = access.current().can(access.DECIDE_PO)
    if may_decide:
        st.subheader(t("replenishment_decide_title"))
    for line in rows.to_dict("records") if may_decide else []:
        key = line["draft_line_id"]
        decided = pd.notna(line["status"])
        name, qty, note, actions = st.columns([3, 1.3, 2, 2], vertical_alignment="bottom")
        approve = reject = actions.container(horizontal=True, gap="small")  # sized to the labels, never cut
        status = line["status"] if decided else None
        name.markdown(f"**{line['sku']}** {line['product_name']}  \n{_status_label(status)}")
        default = (
            int(line["approved_qty"]) if decided and pd.notna(line["approved_qty"]) else int(line["quantity"])
        )
        qty.number_input(
            t("replenishment_qty"),
            min_value=0,
            value=default,
            step=max(int(line["pack_size"] or 1), 1),
            key=f"replenishment_qty__{key}",
            help=t("replenishment_qty_help", qty=line["quantity"], moq=line["moq"], pack=line["pack_size"]),
            disabled=store is None,
        )
        note.text_input(
            t("replenishment_note"),
            placeholder=t("replenishment_note_placeholder"),
            key=f"replenishment_note__{key}",
            disabled=store is None,
        )
        approve.button(
            t("replenishment_approve"),
            key=f"replenishment_approve__{key}",
            on_click=_decide,
            args=(line, False),
            type="primary",
            icon=":material/check:",
            disabled=store is None,
        )
        reject.button(
            t("replenishment_reject"),
            key=f"replenishment_reject__{key}",
            on_click=_decide,
            args=(line, True),
            icon=":material/close:",
            disabled=store is None,
        )

    st.subheader(t("replenishment_forecast_title"))
    sku = st.selectbox(
        t("replenishment_forecast_sku"),
        list(rows["sku"]),
        key="replenishment_forecast_sku",
        format_func=dict(zip(rows["sku"], rows["sku"] + " " + rows["product_name"], strict=True)).__getitem__,
    )
    line = rows.set_index("sku").loc[sku]
    history = sales.sku_daily_units(sel.path, sel.version, sku, as_of - timedelta(days=HISTORY_DAYS))
    forecast = replenishment.sku_forecast(sel.path, sel.version, sku)
    st.plotly_chart(
        demand_history_forecast(
            history,
            forecast,
            title=t("replenishment_forecast_chart", sku=sku),
            labels={
                "history": t("replenishment_units_sold"),
                "forecast": t("replenishment_forecast_line"),
                "baseline": t("replenishment_baseline"),
            },
        ),
        config={"displayModeBar": False},
    )
    st.caption(
        t(
            "replenishment_accuracy",
            model=labels.model(line["model_name"]),
            demand_class=labels.demand_class(line["demand_class"]),
            wape=percent(line["wape"]),
            bias=percent(line["bias"]),
        )
    )

st.subheader(t("replenishment_attention_title"))
st.caption(t("replenishment_attention_caption"))
attention = replenishment.replenishment_attention(sel.path, sel.version, sel.categories)
if attention.empty:
    st.success(t("replenishment_attention_empty"))
else:
    data_table(
        attention.assign(
            decision=attention["decision"].map(lambda d: t(f"replenishment_decision_{d}")),
            category=attention["category"].map(filters.category_label),
            oldest_overdue_expected_date=pd.to_datetime(attention["oldest_overdue_expected_date"]),
            stockout_date=pd.to_datetime(attention["stockout_date"]),
        )[
            ["sku", "product_name", "category", "supplier_id", "decision", "suggested_qty", "available", "on_order",
             "reorder_point", "daily_demand", "overdue_quantity", "oldest_overdue_expected_date", "stockout_date"]
        ],
        key="replenishment_attention",
        filename="replenishment_short_or_overdue",
        column_config={
            **sku_columns(),
            "decision": st.column_config.TextColumn(t("replenishment_why"), help=t("replenishment_why_help")),
            "suggested_qty": st.column_config.NumberColumn(t("replenishment_suggested_qty"), format="%,d"),
            "available": st.column_config.NumberColumn(t("replenishment_available"), format="%,d"),
            "on_order": st.column_config.NumberColumn(t("replenishment_on_order"), format="%,d"),
            "reorder_point": st.column_config.NumberColumn(t("replenishment_reorder_point"), format="%,.1f"),
            "daily_demand": st.column_config.NumberColumn(t("replenishment_daily_demand"), format="%.2f"),
            **columns_shared.overdue_po(),
            "stockout_date": st.column_config.DateColumn(t("replenishment_stockout"), format="YYYY-MM-DD"),
        },
    )  # fmt: skip

st.subheader(t("replenishment_accuracy_title"))
shown = accuracy[accuracy["supplier_id"] == supplier] if supplier is not None else accuracy
data_table(
    shown[
        ["sku", "product_name", "category", "supplier_id", "model_name", "demand_class", "wape", "bias",
         "daily_demand", "forecast_28d_units", "avg_daily_units_28d", "is_fallback", "is_reliable"]
    ],
    key="replenishment_accuracy",
    filename="forecast_accuracy",
    column_config={
        **sku_columns(),
        "model_name": st.column_config.TextColumn(t("replenishment_model")),
        "demand_class": st.column_config.TextColumn(t("replenishment_demand_class")),
        "wape": st.column_config.NumberColumn(t("replenishment_wape"), format="percent"),
        "bias": st.column_config.NumberColumn(t("replenishment_bias"), format="percent"),
        "daily_demand": st.column_config.NumberColumn(t("replenishment_daily_demand"), format="%.2f"),
        "forecast_28d_units": st.column_config.NumberColumn(t("replenishment_forecast_28d"), format="%,.1f"),
        "avg_daily_units_28d": st.column_config.NumberColumn(t("replenishment_actual_28d"), format="%.2f"),
        "is_fallback": st.column_config.CheckboxColumn(t("replenishment_fallback")),
        "is_reliable": st.column_config.CheckboxColumn(
            t("replenishment_reliable"),
            help=t("replenishment_reliable_help", limit=percent(accuracy["reliable_max_wape"].max(), 0)),
        ),
    },
)  # fmt: skip

stamp = serving.published_at(sel.path, sel.version)
if stamp is not None:
    st.caption(t("published_at", ts=local_timestamp(stamp)))
