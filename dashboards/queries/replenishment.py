"""Queries on the replenishment marts (dbt_project/models/marts/replenishment): purchase-order drafts, suggestions
and forecasts (Replenishment page, SKU drill-down), supplier performance and late deliveries (Suppliers page).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.queries.serving import TTL_SECONDS, Version, _df, _records, in_list


# Replenishment: today's purchase-order drafts with the suggestion and forecast behind each line.
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def po_draft_lines(path: str, version: Version, categories: tuple[str, ...]) -> pd.DataFrame:
    """purchase_order_drafts lines (selected categories) with the suggestion (available, on_order, position,
    reorder_point, days_to_stockout) and forecast accuracy (model_name, demand_class, wape, bias) per SKU."""
    return _records(
        path,
        f"""
        select d.draft_id, d.draft_line_id, d.supplier_id, d.supplier_name, d.currency, d.as_of_date,
               d.expected_date,
               d.sku, d.product_name, k.category, d.quantity, d.moq, d.pack_size, d.unit_price_cny,
               d.is_supplier_price, d.line_value_cny, d.draft_lines, d.draft_value_cny, d.stockout_date,
               r.available, r.on_order, r.position, r.reorder_point, r.days_to_stockout, r.daily_demand,
               r.overdue_quantity,
               f.model_name, f.demand_class, f.wape, f.bias
        from marts.purchase_order_drafts as d
        left join marts.skus as k using (sku)
        left join marts.replenishment_suggestions as r using (sku)
        left join marts.demand_forecast_summary as f using (sku)
        where {in_list("k.category", "categories")}
        order by d.supplier_id, d.stockout_date nulls last, d.sku
        """,
        {"categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def replenishment_attention(path: str, version: Version, categories: tuple[str, ...]) -> pd.DataFrame:
    """replenishment_suggestions rows (selected categories) a buyer must look at: stock at or below the reorder
    point with demand, or an overdue purchase order — each with its decision (why it gets an order or not)."""
    return _records(
        path,
        f"""
        select sku, product_name, category, supplier_id, available, on_order, reorder_point, daily_demand,
               suggested_qty, decision, overdue_quantity, overdue_po_lines, oldest_overdue_expected_date,
               stockout_date
        from marts.replenishment_suggestions
        where {in_list("category", "categories")}
          and (overdue_quantity > 0 or (daily_demand > 0 and available <= reorder_point))
        order by available, sku
        """,
        {"categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def supplier_performance(path: str, version: Version) -> pd.DataFrame:
    """marts.supplier_performance: every supplier with purchase orders, the most overdue units first."""
    return _records(
        path,
        "select * from marts.supplier_performance order by overdue_units desc, open_units desc, supplier_id",
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def late_suppliers(path: str, version: Version) -> pd.DataFrame:
    """Suppliers with purchase-order lines still open past their confirmed (else expected) date, all warehouses:
    lines, units still to come and the most days late (supplier_deliveries late_open and overdue), latest first."""
    return _records(
        path,
        """
        select supplier_id, any_value(supplier_name) as supplier_name, count(*) as lines,
               sum(open_quantity) as units, max(days_late) as days_late
        from marts.supplier_deliveries
        where delivery_status in ('late_open', 'overdue')
        group by supplier_id
        order by days_late desc, supplier_id
        """,
        {},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def late_po_lines(path: str, version: Version, warehouse_ids: tuple[str, ...]) -> pd.DataFrame:
    """supplier_deliveries lines still open past their expected date (late_open, overdue) in the selected
    warehouses, the most days late first."""
    return _records(
        path,
        f"""
        select po_number, supplier_id, supplier_name, warehouse_id, sku, product_name, ordered_date, expected_date,
               ordered_quantity, received_quantity, open_quantity, delivery_status, days_late, as_of_date
        from marts.supplier_deliveries
        where delivery_status in ('late_open', 'overdue') and {in_list("warehouse_id", "warehouses")}
        order by days_late desc, po_number, sku
        """,
        {"warehouses": list(warehouse_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def forecast_accuracy(path: str, version: Version, categories: tuple[str, ...]) -> pd.DataFrame:
    """demand_forecast_summary per stocked SKU (selected categories) with supplier_id: the chosen model, its
    backtest WAPE and bias, daily demand; the least accurate first."""
    return _df(
        path,
        f"""
        select f.sku, k.product_name, k.category, k.supplier_id, f.model_name, f.demand_class, f.wape, f.bias,
               f.daily_demand, f.forecast_28d_units, f.avg_daily_units_28d, f.is_fallback, f.is_reliable,
               f.reliable_max_wape
        from marts.demand_forecast_summary as f
        left join marts.skus as k using (sku)
        where {in_list("k.category", "categories")}
        order by f.wape desc nulls last, f.sku
        """,
        {"categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sku_forecast(path: str, version: Version, sku: str) -> pd.DataFrame:
    """demand_forecasts of one SKU: forecast_date, baseline_units, promo_lift_units, forecast_units, promo_ids."""
    return _df(
        path,
        """
        select forecast_date, baseline_units, promo_lift_units, forecast_units, promo_ids
        from marts.demand_forecasts where sku = $sku order by forecast_date
        """,
        {"sku": sku},
    )
