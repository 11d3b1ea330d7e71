"""The SKU drill-down's query: one master SKU's rows in each per-SKU mart it shows (core, inventory, replenishment,
finance and returns marts).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.queries.serving import TTL_SECONDS, Version, _df

# The SKU drill-down: every mart's rows for one master SKU (table -> order of its rows).
SKU_TABLES: dict[str, str] = {
    "skus": "sku",
    "inventory_health": "sku",
    "inventory_health_by_warehouse": "warehouse_id",
    "demand_forecasts": "forecast_date",
    "demand_forecast_summary": "sku",
    "replenishment_suggestions": "sku",
    "sku_margins": "month desc, shop_id",
    "return_shop_comparison": "shop_id",
}


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sku_rows(path: str, version: Version, table: str, sku: str) -> pd.DataFrame:
    """All columns of marts.<table> for one SKU (table one of SKU_TABLES)."""
    if table not in SKU_TABLES:
        raise ValueError(f"{table!r} is not a per-SKU mart the drill-down reads: one of {sorted(SKU_TABLES)}")
    return _df(
        path, f"select * from marts.{table} where sku = $sku order by {SKU_TABLES[table]}", {"sku": sku}
    )
