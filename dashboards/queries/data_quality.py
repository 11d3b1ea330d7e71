"""Queries on the data-quality marts (dbt_project/models/marts/data_quality) and the publish metadata (meta.*):
the Data status page (freshness, sales through, publishes, checks, quarantine, alerts, imported files, rows set
aside, unmapped SKUs).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.queries.serving import (
    TTL_SECONDS,
    ShopIds,
    Version,
    _connect,
    _df,
    _has_table,
    _records,
)


# Data status: freshness, the last build and publish, checks, imported files, quarantine, unmapped SKUs.
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def source_freshness(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.source_freshness (selected shops; rows not kept per shop always), with shop_name, stale first."""
    return _df(
        path,
        """
        select f.*, coalesce(s.shop_name, f.shop_id) as shop_name
        from marts.source_freshness as f
        left join marts.shops as s using (shop_id)
        where f.shop_id is null or len($shops::varchar[]) = 0 or list_contains($shops::varchar[], f.shop_id)
        order by coalesce(f.is_stale, false) desc, f.source_kind, f.source_name, f.table_name, f.shop_id
        """,
        {"shops": list(shop_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sales_through(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """Per shop, the newest local order date with paid orders in marts.daily_shop_sales: shop_id, shop_name,
    channel, last_order_date."""
    return _df(
        path,
        """
        select s.shop_id, s.shop_name, s.channel, max(d.order_date) as last_order_date
        from marts.shops as s
        left join marts.daily_shop_sales as d using (shop_id)
        where len($shops::varchar[]) = 0 or list_contains($shops::varchar[], s.shop_id)
        group by s.shop_id, s.shop_name, s.channel
        order by s.shop_id
        """,
        {"shops": list(shop_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def publish_log(path: str, version: Version) -> pd.DataFrame:
    """meta.publish_log: published_at, build_started_at, tables (one row per publish in this snapshot)."""
    return _df(path, "select * from meta.publish_log order by published_at desc")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def check_results(path: str, version: Version) -> pd.DataFrame | None:
    """meta.check_results (the latest outcome of each dbt test / asset check at publish), not-passed first;
    None when the snapshot predates the table."""
    with _connect(path) as con:
        if not _has_table(con, "meta", "check_results"):
            return None
        return con.execute(
            """select * from meta.check_results
               order by coalesce(passed, false), severity, asset_key, check_name"""
        ).df()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def quarantined_rows(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.quarantined_rows (selected shops; rows without a shop always), newest first."""
    return _df(
        path,
        """
        select * from marts.quarantined_rows
        where shop_id is null or len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id)
        order by loaded_at desc, source_file, sheet, row_number
        """,
        {"shops": list(shop_ids)},
    )


ALERTS = (
    "oversold",
    "stockout",
    "at_risk",
    "overdue_po",
    "late_supplier",
    "ghost_listing",
    "dead",
    "unreliable_forecast",
)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def alert_counts(path: str, version: Version) -> pd.DataFrame | None:
    """marts.alert_counts in ALERTS' order: alert, skus, threshold, threshold_2 (the dbt vars behind each stock
    alert); None when the snapshot predates the mart."""
    with _connect(path) as con:
        if not _has_table(con, "marts", "alert_counts"):
            return None
        return con.execute(
            f"select * from marts.alert_counts order by list_position({list(ALERTS)}, alert), alert"
        ).df()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def file_imports(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame | None:
    """marts.file_imports (selected shops; files without a shop always) with shop_name: every version of every
    export file imported, by file name, newest version first; None when the snapshot predates the mart."""
    with _connect(path) as con:
        if not _has_table(con, "marts", "file_imports"):
            return None
        return con.execute(
            """
            select f.*, coalesce(s.shop_name, f.shop_id) as shop_name
            from marts.file_imports as f
            left join marts.shops as s using (shop_id)
            where f.shop_id is null or len($shops::varchar[]) = 0 or list_contains($shops::varchar[], f.shop_id)
            order by f.source_file, f.first_imported_at desc, f.file_sha256
            """,
            {"shops": list(shop_ids)},
        ).df()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def set_aside_rows(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.set_aside_rows (selected shops): orders and refunds the build left out, with the reason; empty when
    the snapshot predates the mart."""
    with _connect(path) as con:
        if not _has_table(con, "marts", "set_aside_rows"):
            return pd.DataFrame(columns=["entity", "row_key", "shop_id", "origin", "reason"])
        return con.execute(
            """
            select entity, row_key, shop_id, origin, reason from marts.set_aside_rows
            where len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id)
            order by entity, shop_id, row_key
            """,
            {"shops": list(shop_ids)},
        ).df()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def unmapped_skus(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.unmapped_skus (selected shops) with shop_name, the most revenue first."""
    return _records(
        path,
        """
        select u.*, coalesce(s.shop_name, u.shop_id) as shop_name
        from marts.unmapped_skus as u
        left join marts.shops as s using (shop_id)
        where len($shops::varchar[]) = 0 or list_contains($shops::varchar[], u.shop_id)
        order by u.net_sales_cny desc, u.shop_id, u.outer_id
        """,
        {"shops": list(shop_ids)},
    )
