"""Queries on the inventory marts (dbt_project/models/marts/inventory: inventory_health,
inventory_health_by_warehouse): the warehouse filter's options and the Inventory health page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.queries.serving import TTL_SECONDS, Version, _df, _records, in_list


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def warehouses(path: str, version: Version) -> list[str]:
    """Warehouse codes with stock rows (marts.inventory_health_by_warehouse), sorted."""
    frame = _df(
        path,
        "select distinct warehouse_id from marts.inventory_health_by_warehouse "
        "where warehouse_id is not null order by 1",
    )
    return frame["warehouse_id"].tolist()


# Inventory health: the snapshot as of the marts' "today" (not a date range, not per shop). With warehouses
# picked, rows are inventory_health_by_warehouse's (SKU × warehouse); otherwise inventory_health's (per SKU).
INVENTORY_COLUMNS = """sku, product_name, category, supplier_id, stock_date, as_of_date, on_hand, reserved,
    available, on_order, next_expected_date, overdue_quantity, oldest_overdue_expected_date, daily_demand, demand_source, days_of_cover, unit_cost,
    stock_value_cny, last_sale_date, days_since_last_sale, units_sold_30d, sell_through_30d, lead_time_days,
    review_period_days, health_status, ghost_listing"""


def _inventory_source(
    categories: Sequence[str], warehouse_ids: Sequence[str]
) -> tuple[str, str, dict[str, Any]]:
    """(from-and-where clause, warehouse column, params) for the stock rows of the selected categories and
    warehouses."""
    params: dict[str, Any] = {"categories": list(categories)}
    where = in_list("category", "categories")
    if warehouse_ids:
        params["warehouses"] = list(warehouse_ids)
        where += f" and {in_list('warehouse_id', 'warehouses')}"
        return f"marts.inventory_health_by_warehouse where {where}", "warehouse_id", params
    return f"marts.inventory_health where {where}", "cast(null as varchar) as warehouse_id", params


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def inventory_rows(
    path: str, version: Version, categories: tuple[str, ...], warehouse_ids: tuple[str, ...]
) -> pd.DataFrame:
    """Stock rows of the selected categories (and warehouses): INVENTORY_COLUMNS plus warehouse_id (null for
    all warehouses together), worst status first, then the least cover."""
    source, warehouse, params = _inventory_source(categories, warehouse_ids)
    return _df(
        path,
        f"""
        select {INVENTORY_COLUMNS}, {warehouse}
        from {source}
        order by case health_status when 'oversold' then 1 when 'stockout' then 2 when 'at_risk' then 3
                 when 'dead' then 4 when 'overstock' then 5 else 6 end,
                 days_of_cover nulls last, sku
        """,
        params,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def inventory_status_mix(
    path: str, version: Version, categories: tuple[str, ...], warehouse_ids: tuple[str, ...]
) -> pd.DataFrame:
    """Per health_status: rows (SKUs, or SKU × warehouse when warehouses are picked), on_hand, stock_value_cny."""
    source, _, params = _inventory_source(categories, warehouse_ids)
    return _records(
        path,
        f"""
        select health_status, count(*)::bigint as skus, sum(on_hand)::bigint as on_hand,
               cast(sum(stock_value_cny) as decimal(18, 2)) as stock_value_cny
        from {source}
        group by health_status
        order by health_status
        """,
        params,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def ghost_listings(path: str, version: Version, categories: tuple[str, ...]) -> pd.DataFrame:
    """SKUs a channel lists for sale beyond what the stock sync allows (inventory_health.ghost_listing):
    sku, product_name, category, available, listed_quantity, ghost_listings, health_status."""
    return _df(
        path,
        f"""
        select sku, product_name, category, available, listed_quantity, ghost_listings, health_status,
               stock_date
        from marts.inventory_health
        where ghost_listing and {in_list("category", "categories")}
        order by ghost_listings desc, listed_quantity - greatest(available, 0) desc, sku
        """,
        {"categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def listing_shops(path: str, version: Version) -> list[str]:
    """Shops whose listings shopkeep reads (marts.channel_listings): the shops stock sync can list stock in."""
    frame = _df(path, "select distinct shop_id from marts.channel_listings order by 1")
    return frame["shop_id"].tolist()
