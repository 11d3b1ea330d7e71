"""Queries on the core marts (dbt_project/models/marts/core): shops, SKUs and categories, the configured data
sources, and the reporting currency.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.queries.serving import TTL_SECONDS, Version, _connect, _df, _has_table


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def shops(path: str, version: Version) -> pd.DataFrame:
    """All shops in the snapshot: shop_id, shop_name, channel, currency, timezone."""
    return _df(
        path, "select shop_id, shop_name, channel, currency, timezone from marts.shops order by shop_id"
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reporting_currency(path: str, version: Version) -> str:
    """The currency the snapshot's money is in (marts.shops.reporting_currency); CNY for a snapshot published
    before the column existed or without shops."""
    with _connect(path) as con:
        found = con.execute(
            "select count(*) from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'shops' and column_name = 'reporting_currency'"
        ).fetchone()
        if not (found and found[0]):
            return "CNY"
        row = con.execute("select max(reporting_currency) from marts.shops").fetchone()
    return (row and row[0]) or "CNY"


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def data_sources(path: str, version: Version) -> pd.DataFrame | None:
    """marts.data_sources: source_id, source_kind (wms, product_master, files or a shop's channel), shop_id,
    shop_name, is_configured, config_section; None when the snapshot predates the mart."""
    with _connect(path) as con:
        if not _has_table(con, "marts", "data_sources"):
            return None
        return con.execute(
            "select source_id, source_kind, shop_id, shop_name, is_configured, config_section "
            "from marts.data_sources order by shop_id nulls first, source_kind"
        ).df()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def categories(path: str, version: Version) -> list[str]:
    """Product categories of the master SKUs (marts.skus), sorted."""
    frame = _df(path, "select distinct category from marts.skus where category is not null order by 1")
    return frame["category"].tolist()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sku_choices(path: str, version: Version) -> pd.DataFrame:
    """Every master SKU for the drill-down picker: sku, product_name, category (marts.skus)."""
    return _df(path, "select sku, product_name, category from marts.skus order by sku")
