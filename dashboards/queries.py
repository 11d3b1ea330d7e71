"""Every SQL query the dashboards run, against the published `serve.duckdb` only.

Each query opens its own read-only connection and closes it (never a session-long connection: the publish
step atomically renames a new file over serve.duckdb, and open readers would keep the old one). Cached
functions take `version = snapshot_version(path)` as an argument, so the first run after a publish misses the
cache and reads the new file.

Ranges aggregate the marts' additive columns with sums; AOV for a range is sum(net_sales_cny) / sum(orders),
the ratio of sums of the mart's own definition (not a new metric). `buyers` is not additive across days and is
therefore not summed here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

TTL_SECONDS = 600
Version = tuple[int, int]
ShopIds = tuple[str, ...]  # empty = all shops


class WarehouseNotPublished(RuntimeError):
    """serve.duckdb does not exist yet (nothing has been published)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        super().__init__(f"No published warehouse at {path} — run `make demo` or `shopkeep materialize`")


class ServeFileInvalid(RuntimeError):
    """serve.duckdb exists but lacks a table or column the dashboards read."""


def snapshot_version(path: Path | str) -> Version:
    """(inode, mtime_ns) of the serving file: changes whenever a new snapshot is renamed over it."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise WarehouseNotPublished(path) from None
    return (stat.st_ino, stat.st_mtime_ns)


@contextmanager
def _connect(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    if not os.path.exists(path):
        raise WarehouseNotPublished(path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        raise ServeFileInvalid(
            f"{path} does not hold what the dashboards read ({exc}); re-run the publish step "
            "(`shopkeep materialize`) to write a current serve.duckdb"
        ) from exc
    finally:
        con.close()


def _df(path: Path | str, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    with _connect(path) as con:
        return con.execute(sql, params or {}).df()


def _one(path: Path | str, sql: str, params: dict[str, Any] | None = None) -> tuple[Any, ...] | None:
    with _connect(path) as con:
        return con.execute(sql, params or {}).fetchone()


def _range_params(start: date, end: date, shop_ids: Sequence[str]) -> dict[str, Any]:
    return {"start": start, "end": end, "shops": list(shop_ids)}


# rows of the selected range and shops (empty shop list = all shops)
_IN_RANGE = """
    order_date between $start and $end
    and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id))
"""


def ratio(numerator: Decimal | None, denominator: int | None) -> Decimal | None:
    """numerator / denominator rounded to cents (half up); None when the denominator is 0 or missing."""
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def shops(path: str, version: Version) -> pd.DataFrame:
    """All shops in the snapshot: shop_id, shop_name, channel, currency, timezone."""
    return _df(
        path, "select shop_id, shop_name, channel, currency, timezone from marts.shops order by shop_id"
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def date_bounds(path: str, version: Version) -> tuple[date, date] | None:
    """First and latest order_date in marts.daily_shop_sales; None when the mart is empty."""
    row = _one(path, "select min(order_date), max(order_date) from marts.daily_shop_sales")
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def kpis(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> dict[str, Any]:
    """Range totals: gmv/net_sales/refunds/net_revenue (Decimal), orders/units (int), aov (Decimal|None)."""
    row = _one(
        path,
        f"""
        select
            coalesce(sum(gmv_cny), 0),
            coalesce(sum(net_sales_cny), 0),
            coalesce(sum(refunds_cny), 0),
            coalesce(sum(net_revenue_cny), 0),
            coalesce(sum(orders), 0),
            coalesce(sum(units), 0),
            count(*)
        from marts.daily_shop_sales
        where {_IN_RANGE}
        """,
        _range_params(start, end, shop_ids),
    )
    assert row is not None  # an aggregate without group by always returns one row
    gmv, net_sales, refunds, net_revenue, orders, units, n_rows = row
    return {
        "gmv_cny": gmv,
        "net_sales_cny": net_sales,
        "refunds_cny": refunds,
        "net_revenue_cny": net_revenue,
        "orders": int(orders),
        "units": int(units),
        "aov_cny": ratio(net_sales, int(orders)),
        "has_rows": n_rows > 0,
    }


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def daily_by_shop(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """One row per day and shop: order_date, shop_id, shop_name, gmv_cny, net_sales_cny, net_revenue_cny, orders."""
    return _df(
        path,
        f"""
        select d.order_date, d.shop_id, coalesce(s.shop_name, d.shop_id) as shop_name,
               d.gmv_cny, d.net_sales_cny, d.net_revenue_cny, d.orders
        from marts.daily_shop_sales as d
        left join marts.shops as s using (shop_id)
        where {_IN_RANGE}
        order by d.order_date, d.shop_id
        """,
        _range_params(start, end, shop_ids),
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def by_shop(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """One row per shop for the range: shop_id, shop_name, channel, gmv_cny, net_revenue_cny, orders, aov_cny."""
    return _df(
        path,
        f"""
        select d.shop_id,
               coalesce(any_value(s.shop_name), d.shop_id) as shop_name,
               any_value(s.channel) as channel,
               sum(d.gmv_cny) as gmv_cny,
               sum(d.net_revenue_cny) as net_revenue_cny,
               sum(d.orders) as orders,
               round(sum(d.net_sales_cny) / nullif(sum(d.orders), 0), 2) as aov_cny
        from marts.daily_shop_sales as d
        left join marts.shops as s using (shop_id)
        where {_IN_RANGE}
        group by d.shop_id
        order by net_revenue_cny desc, d.shop_id
        """,
        _range_params(start, end, shop_ids),
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def published_at(path: str, version: Version) -> datetime | None:
    """When the current snapshot was published (UTC, tz-aware); None if the log is empty."""
    row = _one(path, "select max(published_at) from meta.publish_log")
    return row[0] if row else None


# -- page queries: each page's queries go below its own marker (one module, cached on the snapshot version) --
# -- frame (filters, drill-down, wall screen) --
# -- inventory, sku_margin, promotions, replenishment, data_status --
# -- returns, reconciliation, customers, exceptions --
