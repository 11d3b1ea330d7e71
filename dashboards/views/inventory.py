"""库存健康 Inventory health: status mix (SKUs and stock value), days-of-cover bands, the at-risk / stock-out /
oversold list, dead stock and ghost listings — as of the snapshot's latest closing stock.

Filters: categories and warehouses (with warehouses picked, rows are SKU × warehouse from
inventory_health_by_warehouse); stock is neither per shop nor per date range, and ghost listings are per SKU.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import columns as columns_shared
from dashboards import filters, notices
from dashboards.figures.stock import (
    COVER_BIN_ORDER,
    HEALTH_ORDER,
    days_of_cover_histogram,
    inventory_status_bars,
)
from dashboards.format import integer, local_date, local_timestamp, money, money_format
from dashboards.i18n import t
from dashboards.queries import inventory, serving
from dashboards.tables import data_table

ACT_ON = ("oversold", "stockout", "at_risk", "dead")
RISK = ("oversold", "stockout", "at_risk")

sel = filters.current()
rows = inventory.inventory_rows(sel.path, sel.version, sel.categories, sel.warehouse_ids)
mix = inventory.inventory_status_mix(sel.path, sel.version, sel.categories, sel.warehouse_ids)
ghosts = inventory.ghost_listings(sel.path, sel.version, sel.categories)

st.title(t("inventory"))
missing = [
    notices.not_configured(sel, "stock", "wms"),
    notices.not_configured(sel, "products", "product_master"),
]
if any(missing):
    st.stop()
if rows.empty:
    st.info(t("inventory_no_rows"))
    st.stop()

st.caption(
    t(
        "inventory_caption",
        stock_date=local_date(rows["stock_date"].max()),
        as_of=local_date(rows["as_of_date"].max()),
    )
)
if sel.warehouse_ids:
    st.caption(t("inventory_caption_warehouses", warehouses=", ".join(sel.warehouse_ids)))

status_labels = {s: t(f"inventory_status_{s}") for s in HEALTH_ORDER}
act_on = mix[mix["health_status"].isin(ACT_ON)]
tiles = [
    (t("inventory_stock_value"), money(mix["stock_value_cny"].sum()), None),
    (t("inventory_skus"), integer(mix["skus"].sum()), None),
    (t("inventory_on_hand"), integer(mix["on_hand"].sum()), None),
    (t("inventory_needs_attention"), integer(act_on["skus"].sum()), t("inventory_needs_attention_help")),
    (t("inventory_ghost_count"), integer(len(ghosts)), None),
]
for column, (label, value, help_text) in zip(st.columns([1.6, 1, 1, 1, 1]), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)

left, middle, right = st.columns(3)
left.plotly_chart(
    inventory_status_bars(mix, "skus", labels=status_labels, title=t("inventory_mix_count_title")),
    config={"displayModeBar": False},
)
middle.plotly_chart(
    inventory_status_bars(
        mix, "stock_value_cny", labels=status_labels, title=t("inventory_mix_value_title"), money=True
    ),
    config={"displayModeBar": False},
)
right.plotly_chart(
    days_of_cover_histogram(
        rows,
        labels={key: t(f"inventory_cover_{key}") for key in COVER_BIN_ORDER},
        title=t("inventory_cover_title"),
    ),
    config={"displayModeBar": False},
)

view = rows.assign(
    status=rows["health_status"].map(status_labels),
    category=rows["category"].map(filters.category_label),
    # dates as datetimes, so a missing one shows empty rather than "None"
    next_expected_date=pd.to_datetime(rows["next_expected_date"]),
    oldest_overdue_expected_date=pd.to_datetime(rows["oldest_overdue_expected_date"]),
    last_sale_date=pd.to_datetime(rows["last_sale_date"]),
)
columns = {
    "sku": st.column_config.TextColumn(t("inventory_sku")),
    "product_name": st.column_config.TextColumn(t("inventory_product")),
    "category": st.column_config.TextColumn(t("inventory_category")),
    "warehouse_id": st.column_config.TextColumn(t("inventory_warehouse")),
    "supplier_id": st.column_config.TextColumn(t("inventory_supplier")),
    "status": st.column_config.TextColumn(t("inventory_status")),
    "on_hand": st.column_config.NumberColumn(t("inventory_on_hand"), format="%,d"),
    "reserved": st.column_config.NumberColumn(t("inventory_reserved"), format="%,d"),
    "available": st.column_config.NumberColumn(t("inventory_available"), format="%,d"),
    "on_order": st.column_config.NumberColumn(t("inventory_on_order"), format="%,d"),
    "next_expected_date": st.column_config.DateColumn(t("inventory_next_expected"), format="YYYY-MM-DD"),
    **columns_shared.overdue_po(),
    "daily_demand": st.column_config.NumberColumn(t("inventory_daily_demand"), format="%.2f"),
    "days_of_cover": st.column_config.NumberColumn(t("inventory_days_of_cover"), format="%.1f"),
    "lead_time_days": st.column_config.NumberColumn(t("inventory_lead_time"), format="%d"),
    "stock_value_cny": st.column_config.NumberColumn(t("inventory_stock_value"), format=money_format()),
    "last_sale_date": st.column_config.DateColumn(t("inventory_last_sale"), format="YYYY-MM-DD"),
    "days_since_last_sale": st.column_config.NumberColumn(t("inventory_days_since_sale"), format="%d"),
    "units_sold_30d": st.column_config.NumberColumn(t("inventory_units_sold_30d"), format="%,.0f"),
    "sell_through_30d": st.column_config.NumberColumn(t("inventory_sell_through"), format="percent"),
}


def _table(frame: pd.DataFrame, keep: list[str], key: str, filename: str) -> None:
    """A data_table of `keep` columns (no warehouse column when all warehouses are added up)."""
    keep = [c for c in keep if c != "warehouse_id" or sel.warehouse_ids]
    data_table(frame[keep], key=key, filename=filename, column_config={c: columns[c] for c in keep})


overdue = view[view["overdue_quantity"] > 0]
if not overdue.empty:
    st.warning(
        t(
            "inventory_overdue_warning",
            skus=integer(overdue["sku"].nunique()),
            units=integer(overdue["overdue_quantity"].sum()),
            since=local_date(overdue["oldest_overdue_expected_date"].min()),
        ),
        icon=":material/schedule:",
    )

st.subheader(t("inventory_risk_title"))
risk = view[view["health_status"].isin(RISK)]
if risk.empty:
    st.success(t("inventory_risk_empty"))
else:
    _table(
        risk,
        ["sku", "product_name", "category", "warehouse_id", "status", "available", "reserved", "on_order",
         "next_expected_date", "overdue_quantity", "oldest_overdue_expected_date", "daily_demand", "days_of_cover",
         "lead_time_days", "supplier_id"],
        "inventory_risk",
        "inventory_at_risk",
    )  # fmt: skip

st.subheader(t("inventory_dead_title"))
dead = view[view["health_status"] == "dead"].sort_values("stock_value_cny", ascending=False)
if dead.empty:
    st.success(t("inventory_dead_empty"))
else:
    _table(
        dead,
        ["sku", "product_name", "category", "warehouse_id", "on_hand", "stock_value_cny", "last_sale_date",
         "days_since_last_sale", "supplier_id"],
        "inventory_dead",
        "inventory_dead_stock",
    )  # fmt: skip

st.subheader(t("inventory_ghost_title"))
if sel.warehouse_ids:
    st.caption(t("inventory_ghost_note"))
if ghosts.empty:
    st.success(t("inventory_ghost_empty"))
else:
    data_table(
        ghosts.assign(
            status=ghosts["health_status"].map(status_labels),
            category=ghosts["category"].map(filters.category_label),
        )[["sku", "product_name", "category", "available", "listed_quantity", "ghost_listings", "status"]],
        key="inventory_ghosts",
        filename="inventory_ghost_listings",
        column_config={
            "sku": columns["sku"],
            "product_name": columns["product_name"],
            "category": columns["category"],
            "available": columns["available"],
            "listed_quantity": st.column_config.NumberColumn(t("inventory_listed"), format="%,d"),
            "ghost_listings": st.column_config.NumberColumn(t("inventory_ghost_listings"), format="%,d"),
            "status": columns["status"],
        },
    )

with st.expander(t("inventory_all_title")):
    _table(
        view,
        ["sku", "product_name", "category", "warehouse_id", "status", "on_hand", "available", "on_order",
         "daily_demand", "days_of_cover", "stock_value_cny", "units_sold_30d", "sell_through_30d",
         "days_since_last_sale"],
        "inventory_all",
        "inventory_all",
    )  # fmt: skip

stamp = serving.published_at(sel.path, sel.version)
if stamp is not None:
    st.caption(t("published_at", ts=local_timestamp(stamp)))
