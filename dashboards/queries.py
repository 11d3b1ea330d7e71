"""Every SQL query the dashboards run, against the published `serve.duckdb` only.

Each query runs on its own cursor of the current snapshot's read-only DuckDB instance (`_connect`): one instance per
published file (path + inode/mtime), never one per browser session. The publish step atomically renames a new file
over serve.duckdb; the next query sees a new version, opens the new file in a new instance and drops the old one,
which closes when its last cursor does. (Opening an instance per query costs ~40-150 ms on a large file: catalog,
buffer manager, thread pool; a cursor costs nothing.) Cached functions take `version = snapshot_version(path)` as
an argument, so the first run after a publish misses the cache and reads the new file.

Ranges aggregate the marts' additive columns with sums; AOV for a range is sum(net_sales_cny) / sum(orders),
the ratio of sums of the mart's own definition (not a new metric). `buyers` is not additive across days and is
therefore not summed here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
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


_snapshots: dict[str, tuple[Version, duckdb.DuckDBPyConnection]] = {}
_snapshots_lock = threading.Lock()


def _open_snapshot(path: str) -> duckdb.DuckDBPyConnection:
    # In memory with the file ATTACHed read-only: DuckDB's Python instance cache is keyed by path, so
    # `duckdb.connect(path)` could hand back the instance of a file a publish has since renamed over.
    # No replacement scans: a table missing from an old serve file must fail as a missing table, not be
    # "found" as a Python variable of the same name (e.g. this module's function `source_freshness`).
    con = duckdb.connect(":memory:", config={"python_enable_replacements": False})
    con.execute("attach '{}' as serve (read_only)".format(path.replace("'", "''")))
    return con


@contextmanager
def _connect(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the current snapshot of `path` (read-only), closed after the query."""
    key = str(path)
    version = snapshot_version(key)  # WarehouseNotPublished when there is no file
    with _snapshots_lock:
        current = _snapshots.get(key)
        if current is None or current[0] != version:
            _snapshots[key] = current = (version, _open_snapshot(key))
        cursor = current[1].cursor()
    try:
        cursor.execute("use serve")  # USE is per connection, and a cursor is a connection of its own
        yield cursor
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        raise ServeFileInvalid(
            f"{path} does not hold what the dashboards read ({exc}); re-run the publish step "
            "(`shopkeep materialize`) to write a current serve.duckdb"
        ) from exc
    finally:
        cursor.close()


def release_snapshots() -> None:
    """Forget every open snapshot (their instances close with their last cursor): for tests and tools that
    must write a serve file this process has read."""
    with _snapshots_lock:
        _snapshots.clear()


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


def _has_table(con, schema: str, table: str) -> bool:
    """Whether the snapshot has `schema.table` (a snapshot published before a mart existed has not)."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


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
def in_list(column: str, param: str) -> str:
    """SQL: `column` is in the list parameter `$param` (an empty list = no filter), e.g.
    `where {in_list('category', 'categories')}` with params {"categories": list(sel.categories)}."""
    return f"(len(${param}::varchar[]) = 0 or list_contains(${param}::varchar[], {column}))"


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def categories(path: str, version: Version) -> list[str]:
    """Product categories of the master SKUs (marts.skus), sorted."""
    frame = _df(path, "select distinct category from marts.skus where category is not null order by 1")
    return frame["category"].tolist()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def warehouses(path: str, version: Version) -> list[str]:
    """Warehouse codes with stock rows (marts.inventory_health_by_warehouse), sorted."""
    frame = _df(
        path,
        "select distinct warehouse_id from marts.inventory_health_by_warehouse "
        "where warehouse_id is not null order by 1",
    )
    return frame["warehouse_id"].tolist()


# Overview and Channels read channel_daily_performance's shop rows (is_total = false), so a shop filter sums
# the selected shops; ratios over a window are ratios of the window's sums (AOV = Σ net_sales / Σ orders,
# refund rate = Σ refunds / Σ net_sales, margin % = Σ contribution_margin / Σ net_revenue): the mart's own
# definitions applied to the pooled rows.
_CDP_SHOPS = "not is_total and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id))"
Window = tuple[date, date]


def _records(path: Path | str, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Like _df, but cells keep their Python types (DECIMAL stays Decimal, not float)."""
    with _connect(path) as con:
        cursor = con.execute(sql, params or {})
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _arrow(path: Path | str, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
    with _connect(path) as con:
        return con.sql(sql, params=params or {}).to_arrow_table()


def _exact_frame(table: pa.Table) -> pd.DataFrame:
    """For results of many rows, instead of _records: DECIMAL columns stay exact, as pandas ArrowDtype decimal128
    (iterating one yields Decimal, sums stay exact) rather than one Python Decimal object per cell: fetching
    and caching (st.cache_data pickles) 70k rows × 10 money columns took ~4 s as Decimal objects, ~0.3 s so.
    Other columns as Arrow gives them to pandas (str, int64, float64, bool): cast integer sums (HUGEINT) to
    BIGINT in the SQL."""
    return table.to_pandas(types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_decimal(t) else None)


def with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Add aov_cny, refund_rate and margin_pct as ratios of the frame's summed columns (None on a 0 base)."""
    out = frame.copy()
    out["aov_cny"] = [ratio(n, o) for n, o in zip(out["net_sales_cny"], out["orders"], strict=True)]
    out["refund_rate"] = [
        float(r / n) if n else None for r, n in zip(out["refunds_cny"], out["net_sales_cny"], strict=True)
    ]
    out["margin_pct"] = [
        float(m / n) if n else None
        for m, n in zip(out["contribution_margin_cny"], out["net_revenue_cny"], strict=True)
    ]
    return out


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def window_totals(
    path: str, version: Version, windows: tuple[Window, ...], shop_ids: ShopIds
) -> pd.DataFrame:
    """One row per window (in the order given): gmv/net_sales/refunds/net_revenue/contribution_margin (CNY
    Decimal), orders, units, days (calendar days with a row), maturing_days (days whose refunds are still coming
    in: marts.dates.is_return_maturing), plus aov_cny, refund_rate, margin_pct."""
    values = ", ".join(f"({i}, $s{i}::date, $e{i}::date)" for i in range(len(windows)))
    params: dict[str, Any] = {"shops": list(shop_ids)}
    for i, (start, end) in enumerate(windows):
        params[f"s{i}"], params[f"e{i}"] = start, end
    frame = _records(
        path,
        f"""
        with windows (idx, start_date, end_date) as (values {values}),
        rows as (select * from marts.channel_daily_performance where {_CDP_SHOPS})
        select w.idx,
               cast(coalesce(sum(r.gmv_cny), 0) as decimal(18, 2)) as gmv_cny,
               cast(coalesce(sum(r.net_sales_cny), 0) as decimal(18, 2)) as net_sales_cny,
               cast(coalesce(sum(r.refunds_cny), 0) as decimal(18, 2)) as refunds_cny,
               cast(coalesce(sum(r.net_revenue_cny), 0) as decimal(18, 2)) as net_revenue_cny,
               cast(coalesce(sum(r.contribution_margin_cny), 0) as decimal(18, 2)) as contribution_margin_cny,
               coalesce(sum(r.orders), 0)::bigint as orders,
               coalesce(sum(r.units), 0)::bigint as units,
               count(distinct r.order_date) as days,
               (select count(*) from marts.dates as d
                where d.is_return_maturing and d.date_day between w.start_date and w.end_date) as maturing_days
        from windows as w
        left join rows as r on r.order_date between w.start_date and w.end_date
        group by w.idx, w.start_date, w.end_date
        order by w.idx
        """,
        params,
    )
    return with_ratios(frame).drop(columns="idx")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def channel_daily(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """channel_daily_performance's shop rows in the range with shop_name and channel, by date and shop."""
    return _df(
        path,
        f"""
        select c.*, coalesce(s.shop_name, c.shop_id) as shop_name, s.channel
        from marts.channel_daily_performance as c
        left join marts.shops as s using (shop_id)
        where c.order_date between $start and $end and {_CDP_SHOPS.replace("shop_id", "c.shop_id")}
        order by c.order_date, c.shop_id
        """,
        _range_params(start, end, shop_ids),
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def channel_by_shop(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """One row per shop for the range: sums of channel_daily_performance plus ratio-of-sums columns."""
    frame = _records(
        path,
        f"""
        select c.shop_id,
               coalesce(any_value(s.shop_name), c.shop_id) as shop_name,
               any_value(s.channel) as channel,
               sum(c.gmv_cny) as gmv_cny,
               sum(c.net_sales_cny) as net_sales_cny,
               sum(c.refunds_cny) as refunds_cny,
               sum(c.net_revenue_cny) as net_revenue_cny,
               sum(c.contribution_margin_cny) as contribution_margin_cny,
               sum(c.orders)::bigint as orders,
               sum(c.units)::bigint as units
        from marts.channel_daily_performance as c
        left join marts.shops as s using (shop_id)
        where c.order_date between $start and $end and {_CDP_SHOPS.replace("shop_id", "c.shop_id")}
        group by c.shop_id
        order by net_revenue_cny desc, c.shop_id
        """,
        _range_params(start, end, shop_ids),
    )
    frame = with_ratios(frame)
    frame["asp_cny"] = [ratio(n, u) for n, u in zip(frame["net_sales_cny"], frame["units"], strict=True)]
    return frame


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def top_skus(
    path: str,
    version: Version,
    start: date,
    end: date,
    shop_ids: ShopIds,
    categories: tuple[str, ...],
    limit: int = 20,
) -> pd.DataFrame:
    """The range's best-selling SKUs by net revenue (daily_sku_sales, selected shops and categories): sku,
    product_name, category, units, gmv_cny, net_sales_cny, refunds_cny, net_revenue_cny."""
    return _df(
        path,
        f"""
        select sku, any_value(product_name) as product_name, any_value(category) as category,
               sum(units)::bigint as units, sum(gmv_cny) as gmv_cny, sum(net_sales_cny) as net_sales_cny,
               sum(refunds_cny) as refunds_cny, sum(net_revenue_cny) as net_revenue_cny
        from marts.daily_sku_sales
        where {_IN_RANGE} and {in_list("category", "categories")}
        group by sku
        order by net_revenue_cny desc, sku
        limit {int(limit)}
        """,
        {**_range_params(start, end, shop_ids), "categories": list(categories)},
    )


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


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sku_choices(path: str, version: Version) -> pd.DataFrame:
    """Every master SKU for the drill-down picker: sku, product_name, category (marts.skus)."""
    return _df(path, "select sku, product_name, category from marts.skus order by sku")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sku_daily_units(path: str, version: Version, sku: str, start: date) -> pd.DataFrame:
    """Units sold per local order date of one SKU, all shops (daily_sku_sales: as sold, kits not exploded)."""
    return _df(
        path,
        """
        select order_date, sum(units)::bigint as units, sum(net_revenue_cny) as net_revenue_cny
        from marts.daily_sku_sales
        where sku = $sku and order_date >= $start
        group by order_date
        order by order_date
        """,
        {"sku": sku, "start": start},
    )


WALL_PACE_COLUMNS = [
    "shop_id", "shop_name", "now_at", "today", "gmv_cny", "orders", "gmv_cny_yesterday", "orders_yesterday",
    "gmv_cny_last_week", "orders_last_week",
]  # fmt: skip


# The wall screen. "Now" is the newest order in the snapshot (max created_at in customer_orders) and "today" its
# local order date; "the same time yesterday / last week" are the orders of that day created up to now − 1 day
# (now − 7 days). The marts are daily, so the time of day comes from customer_orders.created_at (paid orders)
# and GMV from order_line_margins.list_amount_cny (the same line list values daily_shop_sales sums as GMV).
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_pace(path: str, version: Version) -> pd.DataFrame:
    """Per shop: gmv/orders today so far, the same time yesterday and the same time last week, with now and
    today on every row (empty when the snapshot has no orders).

    Two statements on one connection: "now" first (two max(), ~1 ms on 7M orders), then the three days as
    constants, so DuckDB skips the row groups of every other day (the order marts grow by date) instead of
    scanning 10M order lines to join them to a computed date."""
    with _connect(path) as con:
        ((today, now_at),) = con.execute(
            "select max(order_date), max(created_at) from marts.customer_orders"
        ).fetchall()
        if today is None:
            return pd.DataFrame(columns=WALL_PACE_COLUMNS)
        return con.execute(
            """
            with orders as (
                select o.order_id, o.shop_id, o.order_date, o.created_at
                from marts.customer_orders as o
                where o.order_date between $last_week and $today
                  and o.order_date in ($today, $yesterday, $last_week)
            ),
            gmv as (
                select l.order_id, sum(l.list_amount_cny) as gmv_cny
                from marts.order_line_margins as l
                where l.order_date between $last_week and $today
                  and l.order_date in ($today, $yesterday, $last_week)
                group by l.order_id
            ),
            flagged as (
                select o.*, coalesce(g.gmv_cny, 0) as gmv_cny,
                       o.order_date = $today as is_today,
                       o.order_date = $yesterday
                           and o.created_at <= $now_at::timestamptz - interval 1 day as is_yesterday,
                       o.order_date = $last_week
                           and o.created_at <= $now_at::timestamptz - interval 7 day as is_last_week
                from orders as o
                left join gmv as g using (order_id)
            )
            select s.shop_id, coalesce(s.shop_name, s.shop_id) as shop_name,
                   $now_at::timestamptz as now_at, $today::date as today,
                   coalesce(sum(f.gmv_cny) filter (where f.is_today), 0) as gmv_cny,
                   count(f.order_id) filter (where f.is_today) as orders,
                   coalesce(sum(f.gmv_cny) filter (where f.is_yesterday), 0) as gmv_cny_yesterday,
                   count(f.order_id) filter (where f.is_yesterday) as orders_yesterday,
                   coalesce(sum(f.gmv_cny) filter (where f.is_last_week), 0) as gmv_cny_last_week,
                   count(f.order_id) filter (where f.is_last_week) as orders_last_week
            from marts.shops as s
            left join flagged as f using (shop_id)
            group by s.shop_id, s.shop_name
            order by gmv_cny desc, s.shop_id
            """,
            {
                "now_at": now_at,
                "today": today,
                "yesterday": today - timedelta(days=1),
                "last_week": today - timedelta(days=7),
            },
        ).df()


WALL_TREND_DAYS = 7


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_trend(path: str, version: Version, days: int = WALL_TREND_DAYS) -> pd.DataFrame:
    """GMV and orders of all shops per day (daily_shop_sales) for the `days` whole days before the wall's "today"
    (the newest order date, as in wall_pace): order_date, gmv_cny, orders, one row per day oldest first, 0 on a
    day without orders. Empty when the snapshot has no orders."""
    with _connect(path) as con:
        ((today,),) = con.execute("select max(order_date) from marts.customer_orders").fetchall()
        if today is None:
            return pd.DataFrame(columns=["order_date", "gmv_cny", "orders"])
        return con.execute(
            """
            with days as (
                select cast(day as date) as order_date
                from generate_series($first::date, $last::date, interval 1 day) as t(day)
            ),
            sales as (
                select order_date, sum(gmv_cny) as gmv_cny, sum(orders) as orders
                from marts.daily_shop_sales
                where order_date between $first and $last
                group by order_date
            )
            select d.order_date, coalesce(s.gmv_cny, 0) as gmv_cny, coalesce(s.orders, 0) as orders
            from days as d
            left join sales as s using (order_date)
            order by d.order_date
            """,
            {"first": today - timedelta(days=int(days)), "last": today - timedelta(days=1)},
        ).df()


WALL_MARGIN_COLUMNS = [
    "shop_id",
    "shop_name",
    "today",
    "this_month",
    "last_month",
    "this_margin_cny",
    "this_net_revenue_cny",
    "last_margin_cny",
    "last_net_revenue_cny",
]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_shop_margin(path: str, version: Version) -> pd.DataFrame:
    """Contribution margin per shop (shop_monthly_pnl) for two windows: the order month of the wall's "today" up
    to today (`this_*`) and the whole month before (`last_*`). Per shop (every shop in marts.shops): shop_id,
    shop_name, this_month, last_month (first days), this_margin_cny / this_net_revenue_cny and the same for
    last_*: the mart's numerator and denominator summed, so margin % = margin / net revenue, the mart's margin_pct
    over the window. Empty when the snapshot has no orders."""
    with _connect(path) as con:
        ((today,),) = con.execute("select max(order_date) from marts.customer_orders").fetchall()
        if today is None:
            return pd.DataFrame(columns=WALL_MARGIN_COLUMNS)
        this_month = today.replace(day=1)
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        return con.execute(
            """
            select s.shop_id, coalesce(s.shop_name, s.shop_id) as shop_name,
                   $today::date as today, $this_month::date as this_month, $last_month::date as last_month,
                   coalesce(sum(p.contribution_margin_cny) filter (where p.month = $this_month), 0)
                       as this_margin_cny,
                   coalesce(sum(p.net_revenue_cny) filter (where p.month = $this_month), 0)
                       as this_net_revenue_cny,
                   coalesce(sum(p.contribution_margin_cny) filter (where p.month = $last_month), 0)
                       as last_margin_cny,
                   coalesce(sum(p.net_revenue_cny) filter (where p.month = $last_month), 0)
                       as last_net_revenue_cny
            from marts.shops as s
            left join marts.shop_monthly_pnl as p
                on p.shop_id = s.shop_id and p.month in ($this_month, $last_month)
            group by s.shop_id, s.shop_name
            order by this_net_revenue_cny desc, s.shop_id
            """,
            {"today": today, "this_month": this_month, "last_month": last_month},
        ).df()


WALL_STOCK_STATUSES = ("oversold", "stockout", "at_risk")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_low_stock(path: str, version: Version, limit: int = 30) -> pd.DataFrame:
    """SKUs oversold, out of stock or at risk (inventory_health) that a buyer must act on, worst first: sku,
    product_name, health_status, available, days_of_cover. An at-risk SKU whose open purchase orders already cover
    it (replenishment_suggestions.decision covered_by_open_pos) is left out: the wall lists what needs a person."""
    return _df(
        path,
        f"""
        select h.sku, h.product_name, h.health_status, h.available, h.days_of_cover
        from marts.inventory_health as h
        left join marts.replenishment_suggestions as r using (sku)
        where h.health_status in {WALL_STOCK_STATUSES}
          and not (h.health_status = 'at_risk' and r.decision = 'covered_by_open_pos')
        order by list_position({list(WALL_STOCK_STATUSES)}, health_status), days_of_cover nulls first, sku
        limit {int(limit)}
        """,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_exceptions(path: str, version: Version, limit: int = 30) -> pd.DataFrame:
    """The newest orders in the review queue (order_exceptions): order_id, shop_name, platform_order_id,
    created_at, reasons, paid_amount_cny; plus the queue's total size in `queue_size`."""
    return _df(
        path,
        f"""
        select e.order_id, coalesce(s.shop_name, e.shop_id) as shop_name, e.platform_order_id, e.created_at,
               e.reasons, e.paid_amount_cny, count(*) over () as queue_size
        from marts.order_exceptions as e
        left join marts.shops as s using (shop_id)
        order by e.created_at desc, e.order_id
        limit {int(limit)}
        """,
    )


# -- inventory, sku_margin, promotions, replenishment, data_status --
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


# SKU margin: sku_margins is monthly, so a date range reads the order months it touches (whole months).
def margin_months(start: date, end: date) -> tuple[date, date]:
    """The first days of the first and last order months a date range touches."""
    return start.replace(day=1), end.replace(day=1)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def shop_monthly_pnl(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.shop_monthly_pnl rows of the order months [start, end] touches, selected shops; newest month first,
    then shop."""
    first_month, last_month = margin_months(start, end)
    return _records(
        path,
        """
        select * from marts.shop_monthly_pnl
        where month between $first_month and $last_month
          and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id))
        order by month desc, shop_id
        """,
        {"first_month": first_month, "last_month": last_month, "shops": list(shop_ids)},
    )


_MARGIN_WHERE = f"""
    month between $first_month and $last_month
    and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id))
    and {in_list("category", "categories")}
"""
MARGIN_SUMS = [
    "units",
    "gmv_cny",
    "net_sales_cny",
    "refunds_cny",
    "net_revenue_cny",
    "cogs_cny",
    "platform_fees_cny",
    "fulfilment_cost_cny",
    "return_cost_cny",
    "contribution_margin_cny",
]


MARGIN_TABLE_ROWS = 1000  # rows the SKU margin page's tables show (the downloads hold every row)


def _margin_params(start: date, end: date, shop_ids: ShopIds, categories: tuple[str, ...]) -> dict[str, Any]:
    first, last = margin_months(start, end)
    return {"first_month": first, "last_month": last, "shops": list(shop_ids), "categories": list(categories)}


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def margin_totals(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, categories: tuple[str, ...]
) -> dict[str, Any]:
    """Sums of sku_margins over the months, shops and categories (Decimal CNY; units int), plus
    `estimated_fees_cny`: the part of platform_fees_cny on orders without a settlement bill yet
    (order_line_margins.fees_estimated, same months/shops/categories), and `rows`."""
    sums = ", ".join(f"coalesce(sum({c}), 0) as {c}" for c in MARGIN_SUMS)
    params = _margin_params(start, end, shop_ids, categories)
    row = _records(
        path, f"select {sums}, count(*) as rows from marts.sku_margins where {_MARGIN_WHERE}", params
    )
    totals = row.iloc[0].to_dict()
    estimated = _one(
        path,
        f"""
        select coalesce(sum(platform_fees_cny) filter (where fees_estimated), 0)
        from marts.order_line_margins
        where {_MARGIN_WHERE.replace("month between", "order_month between")}
        """,
        params,
    )
    totals["estimated_fees_cny"] = estimated[0] if estimated else Decimal(0)
    totals["units"] = int(totals["units"])
    totals["rows"] = int(totals["rows"])
    return totals


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def margin_by_sku_shop(
    path: str,
    version: Version,
    start: date,
    end: date,
    shop_ids: ShopIds,
    categories: tuple[str, ...],
    limit: int | None = MARGIN_TABLE_ROWS,
) -> pd.DataFrame:
    """One row per SKU × shop over the months: sku, product_name, category, shop_id, shop_name, the sums of
    MARGIN_SUMS, margin_pct = Σ contribution_margin / Σ net_revenue (ratio of sums), fees_estimated /
    costs_estimated (any month estimated), and on every row sku_shops / losing_sku_shops = how many SKU × shop
    rows (and how many with a negative margin) the selection has in all; highest margin first (then sku,
    shop_id).

    With `limit` (the page): only the `limit` highest-margin rows and the `limit` largest losses, what its two
    tables show; `limit=None`: every row (their downloads). A large seller has ~100k SKU × shop rows; two passes
    keep that cheap: the margin per SKU × shop picks the rows, then only those get every sum. Money columns are
    exact ArrowDtype decimals (_exact_frame)."""
    sums = ", ".join(
        f"cast(sum(m.{c}) as bigint) as {c}" if c == "units" else f"sum(m.{c}) as {c}" for c in MARGIN_SUMS
    )
    if limit is None:
        shown = "select sku, shop_id from margins"
    else:
        shown = f"""
            (select sku, shop_id from margins order by margin desc, sku, shop_id limit {int(limit)})
            union
            (select sku, shop_id from margins where margin < 0 order by margin, sku, shop_id limit {int(limit)})
        """
    table = _arrow(
        path,
        f"""
        with margins as materialized (
            select sku, shop_id, sum(contribution_margin_cny) as margin
            from marts.sku_margins
            where {_MARGIN_WHERE}
            group by sku, shop_id
        ),
        counts as (
            select count(*) as sku_shops, count(*) filter (where margin < 0) as losing_sku_shops from margins
        ),
        shown as ({shown}),
        by_sku_shop as (
            select m.sku, m.shop_id, any_value(m.product_name) as product_name,
                   any_value(m.category) as category,
                   {sums},
                   bool_or(m.fees_estimated) as fees_estimated,
                   bool_or(m.costs_estimated) as costs_estimated
            from marts.sku_margins as m
            semi join shown on shown.sku = m.sku and shown.shop_id = m.shop_id
            where {_MARGIN_WHERE.replace("shop_id", "m.shop_id").replace("category", "m.category")}
            group by m.sku, m.shop_id
        )
        select g.sku, g.product_name, g.category, g.shop_id, coalesce(s.shop_name, g.shop_id) as shop_name,
               {", ".join(f"g.{c}" for c in MARGIN_SUMS)},
               g.contribution_margin_cny / nullif(g.net_revenue_cny, 0) as margin_pct,
               g.fees_estimated, g.costs_estimated, c.sku_shops, c.losing_sku_shops
        from by_sku_shop as g
        cross join counts as c
        left join marts.shops as s on s.shop_id = g.shop_id
        order by g.contribution_margin_cny desc, g.sku, g.shop_id
        """,
        _margin_params(start, end, shop_ids, categories),
    )
    return _exact_frame(table)


# Promotions: the promotions whose days overlap the selected range.
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def promotions(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """promotion_results rows overlapping [start, end] in the selected shops, with shop_name; newest first."""
    return _records(
        path,
        """
        select p.*, coalesce(s.shop_name, p.shop_id) as shop_name
        from marts.promotion_results as p
        left join marts.shops as s using (shop_id)
        where p.start_date <= $end and p.end_date >= $start
          and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], p.shop_id))
        order by p.start_date desc, p.promo_id
        """,
        _range_params(start, end, shop_ids),
    )


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
               f.daily_demand, f.forecast_28d_units, f.avg_daily_units_28d, f.is_fallback, f.is_reliable
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


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def snapshot_id(path: str, version: Version) -> str | None:
    """The published snapshot's identity across processes: max(published_at) of meta.publish_log, ISO 8601."""
    stamp = published_at(path, version)
    return stamp.isoformat() if stamp is not None else None


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


ALERTS = ("oversold", "stockout", "at_risk", "overdue_po", "ghost_listing", "dead", "unreliable_forecast")


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


# -- returns, reconciliation, customers, exceptions --
# Returns (售后). return_analysis is by order month: a date range selects the order months it overlaps
# (first month = the month of `start`). Rates over several months or shops are ratios of sums of the mart's
# own columns (Σ units_returned / Σ units_sold), i.e. the mart's definition applied to the pooled rows.
# `categories` (the global category filter; empty = all) cuts every returns query.
RETURN_REASONS = ("size", "quality", "not_as_described", "damaged", "changed_mind", "late", "other")

_IN_MONTHS = """
    {alias}{column} between date_trunc('month', $start::date) and $end::date
    and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], {alias}shop_id))
"""


def _in_months(column: str, alias: str = "") -> str:
    return _IN_MONTHS.format(column=column, alias=f"{alias}." if alias else "")


_SHOP_ONLY = "(len($shops::varchar[]) = 0 or list_contains($shops::varchar[], {alias}shop_id))"


def _shops_only(alias: str = "") -> str:
    return _SHOP_ONLY.format(alias=f"{alias}." if alias else "")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def returns_kpis(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, categories: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Totals of marts.return_analysis over the order months the range overlaps: units_sold, units_returned,
    returned_size, refund_amount_cny, return_rate and size_return_rate (ratios of sums; None without sales),
    first/last order month."""
    row = _one(
        path,
        f"""
        select coalesce(sum(units_sold), 0), coalesce(sum(units_returned), 0),
               coalesce(sum(returned_size), 0), coalesce(sum(refund_amount_cny), 0),
               min(order_month), max(order_month)
        from marts.return_analysis
        where {_in_months("order_month")} and {in_list("category", "categories")}
        """,
        _range_params(start, end, shop_ids) | {"categories": list(categories)},
    )
    assert row is not None
    sold, returned, size, refunds, first, last = row
    return {
        "units_sold": int(sold),
        "units_returned": int(returned),
        "returned_size": int(size),
        "refund_amount_cny": refunds,
        "return_rate": returned / sold if sold else None,
        "size_return_rate": size / sold if sold else None,
        "first_month": first,
        "last_month": last,
    }


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def returns_by_sku_shop(
    path: str,
    version: Version,
    start: date,
    end: date,
    shop_ids: ShopIds,
    categories: tuple[str, ...] = (),
    limit: int = 1000,
) -> pd.DataFrame:
    """SKU × shop rows over the order months the range overlaps (pairs with returns or sales), the `limit`
    with most returned units (a 1-of-1 return is not where to look), then highest return rate: sku,
    product_name, category, shop_id, shop_name, units_sold, units_returned, returned_size, refund_amount_cny,
    return_rate, size_return_rate (ratios of sums), returned_<reason> per reason, top_reason (the reason with
    most returned units, ties alphabetical as in the mart; null without returns) and pairs_total (rows before
    the limit)."""
    reason_sums = ",\n".join(f"sum(r.returned_{r})::bigint as returned_{r}" for r in RETURN_REASONS)
    # top reason = argmax of the reason columns, ties alphabetical: encode units × base + (ties rank), take the
    # greatest, decode the rank (a correlated subquery per row costs more than the whole aggregate)
    alphabetical = sorted(RETURN_REASONS)
    base = len(alphabetical) + 1
    top_code = ", ".join(
        f"p.returned_{r} * {base} + {len(alphabetical) - i}" for i, r in enumerate(alphabetical)
    )
    return _df(
        path,
        f"""
        with pairs as (  -- cheap first pass: the pairs to show
            select r.sku, r.shop_id, sum(r.units_sold) as units_sold, sum(r.units_returned) as units_returned
            from marts.return_analysis as r
            where {_in_months("order_month", "r")} and {in_list("r.category", "categories")}
            group by r.sku, r.shop_id
        ),
        chosen as (
            select sku, shop_id, count(*) over () as pairs_total
            from pairs
            order by units_returned desc, units_returned / nullif(units_sold, 0) desc nulls last, sku, shop_id
            limit $limit
        ),
        top as (  -- every column, for those pairs only
            select r.sku, r.shop_id,
                   any_value(r.product_name) as product_name, any_value(r.category) as category,
                   sum(r.units_sold)::bigint as units_sold, sum(r.units_returned)::bigint as units_returned,
                   sum(r.refund_amount_cny) as refund_amount_cny,
                   sum(r.units_returned) / nullif(sum(r.units_sold), 0) as return_rate,
                   {reason_sums},
                   any_value(chosen.pairs_total) as pairs_total
            from marts.return_analysis as r
            join chosen using (sku, shop_id)
            where {_in_months("order_month", "r")}
            group by r.sku, r.shop_id
        )
        select p.sku, p.product_name, p.category, p.shop_id, coalesce(s.shop_name, p.shop_id) as shop_name,
               p.units_sold, p.units_returned, p.refund_amount_cny, p.return_rate,
               p.returned_size / nullif(p.units_sold, 0) as size_return_rate,
               {", ".join(f"p.returned_{r}" for r in RETURN_REASONS)},
               case when p.units_returned > 0
                    then {alphabetical}[{base} - greatest({top_code}) % {base}] end as top_reason,
               p.pairs_total
        from top as p
        left join marts.shops as s using (shop_id)
        order by p.units_returned desc, p.return_rate desc nulls last, p.sku, p.shop_id
        """,
        _range_params(start, end, shop_ids) | {"categories": list(categories), "limit": limit},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def returns_reason_mix(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, categories: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Returned units per shop and reason over the order months the range overlaps (long form): shop_id,
    shop_name, reason, units. Reasons with no units are left out."""
    reason_sums = ", ".join(f"sum(returned_{r})::bigint as {r}" for r in RETURN_REASONS)
    return _df(
        path,
        f"""
        with per_shop as (
            select shop_id, {reason_sums}
            from marts.return_analysis
            where {_in_months("order_month")} and {in_list("category", "categories")}
            group by shop_id
        )
        select u.shop_id, coalesce(s.shop_name, u.shop_id) as shop_name, u.reason, u.units
        from (unpivot per_shop on {", ".join(RETURN_REASONS)} into name reason value units) as u
        left join marts.shops as s using (shop_id)
        where u.units > 0
        order by u.shop_id, u.units desc, u.reason
        """,
        _range_params(start, end, shop_ids) | {"categories": list(categories)},
    )


# marts.return_shop_comparison has its own fixed window (window_start..window_end: matured orders), not the
# date filter; the shop and category filters apply.
_COMPARISON_COLUMNS = """
    c.sku, c.product_name, c.category, c.shop_id, coalesce(s.shop_name, c.shop_id) as shop_name,
    c.window_start, c.window_end, c.units_sold, c.units_returned, c.size_returned, c.return_rate,
    c.size_return_rate, c.other_shops_size_return_rate, c.size_return_rate_gap, c.has_enough_volume,
    c.size_rank_in_category, c.is_return_hotspot
"""


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def return_hotspots(
    path: str, version: Version, shop_ids: ShopIds, categories: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The rows of marts.return_shop_comparison flagged is_return_hotspot (the selected shops and categories),
    largest size-return gap first: sku, product_name, category, shop_id, shop_name, window_start, window_end,
    units_sold, units_returned, size_returned, return_rate, size_return_rate, other_shops_size_return_rate,
    size_return_rate_gap, has_enough_volume, size_rank_in_category, is_return_hotspot."""
    return _df(
        path,
        f"""
        select {_COMPARISON_COLUMNS}
        from marts.return_shop_comparison as c
        left join marts.shops as s using (shop_id)
        where c.is_return_hotspot and {_shops_only("c")} and {in_list("c.category", "categories")}
        order by c.size_return_rate_gap desc, c.sku, c.shop_id
        """,
        {"shops": list(shop_ids), "categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def return_categories(
    path: str, version: Version, shop_ids: ShopIds, categories: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Categories in marts.return_shop_comparison for the selection: category, hotspots (rows flagged),
    window_start, window_end (the mart's window). Categories with hotspots first, then alphabetical."""
    return _df(
        path,
        f"""
        select category, count(*) filter (where is_return_hotspot) as hotspots,
               min(window_start) as window_start, max(window_end) as window_end
        from marts.return_shop_comparison
        where category is not null and {_shops_only()} and {in_list("category", "categories")}
        group by category
        order by hotspots desc, category
        """,
        {"shops": list(shop_ids), "categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def return_heatmap(
    path: str, version: Version, category: str, shop_ids: ShopIds, max_skus: int = 25
) -> pd.DataFrame:
    """The cells of the SKU × shop size-return heatmap for one category: every selected shop's row of
    marts.return_shop_comparison for the category's `max_skus` SKUs with the highest size-return rate among
    rows with enough volume (ties by SKU; SKUs with no shop of enough volume are left out: nothing to rate).
    Columns as return_hotspots."""
    return _df(
        path,
        f"""
        with cells as (
            select * from marts.return_shop_comparison as c
            where c.category = $category and {_shops_only("c")}
        ),
        worst as (
            select sku, max(size_return_rate) filter (where has_enough_volume) as worst
            from cells
            group by sku
            having worst is not null
            order by worst desc, sku
            limit $max_skus
        )
        select {_COMPARISON_COLUMNS}
        from cells as c
        join worst as w using (sku)
        left join marts.shops as s using (shop_id)
        order by w.worst desc, c.sku, c.shop_id
        """,
        {"shops": list(shop_ids), "category": category, "max_skus": max_skus},
    )


# Reconciliation (对账). Amounts are in the shop's currency (the reconciled marketplaces all settle in CNY;
# Shopify is not reconciled). A date range selects the order months it overlaps, unless `all_months`.
RECON_STATUSES = (
    "matched",
    "pending",
    "amount_mismatch",
    "missing_settlement",
    "duplicate_bill",
    "orphan_bill",
)
RECON_TO_CHASE = ("amount_mismatch", "missing_settlement", "duplicate_bill", "orphan_bill")


def _recon_where(all_months: bool, alias: str = "") -> str:
    return _shops_only(alias) if all_months else _in_months("month", alias)


def _recon_params(start: date, end: date, shop_ids: ShopIds, all_months: bool) -> dict[str, Any]:
    return {"shops": list(shop_ids)} if all_months else _range_params(start, end, shop_ids)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reconciliation_by_shop(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, all_months: bool = False
) -> pd.DataFrame:
    """marts.settlement_reconciliation_monthly summed per shop over the selected months: shop_id, shop_name,
    currency (the shop's), orders and <status>_orders per status, expected/settled/unsettled/overdue/
    discrepancy/outstanding/orphan amounts in the shop's currency and the same as *_cny (CNY at the order
    months' rates: the ones to add across shops), match_rate = Σ matched / Σ (matched + mismatch + missing +
    duplicate) (the mart's definition, pooled). Largest outstanding (CNY) first."""
    amounts = ("expected", "settled", "unsettled", "overdue", "discrepancy", "outstanding", "orphan")
    sums = ",\n".join(f"sum(m.{a}_amount{c}) as {a}_amount{c}" for c in ("", "_cny") for a in amounts)
    return _df(
        path,
        f"""
        select m.shop_id, coalesce(any_value(s.shop_name), m.shop_id) as shop_name,
               any_value(s.currency) as currency,
               sum(m.orders)::bigint as orders,
               sum(m.matched_orders)::bigint as matched_orders,
               sum(m.pending_orders)::bigint as pending_orders,
               sum(m.amount_mismatch_orders)::bigint as amount_mismatch_orders,
               sum(m.missing_settlement_orders)::bigint as missing_settlement_orders,
               sum(m.duplicate_bill_orders)::bigint as duplicate_bill_orders,
               sum(m.orphan_bill_orders)::bigint as orphan_bill_orders,
               {sums},
               sum(m.matched_orders) / nullif(sum(m.matched_orders + m.amount_mismatch_orders
                   + m.missing_settlement_orders + m.duplicate_bill_orders), 0) as match_rate
        from marts.settlement_reconciliation_monthly as m
        left join marts.shops as s using (shop_id)
        where {_recon_where(all_months, "m")}
        group by m.shop_id
        order by outstanding_amount_cny desc, m.shop_id
        """,
        _recon_params(start, end, shop_ids, all_months),
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reconciled_shop_ids(path: str, version: Version) -> set[str]:
    """Shops with any row in marts.settlement_reconciliation_monthly (any month): the shops that have bills."""
    frame = _df(path, "select distinct shop_id from marts.settlement_reconciliation_monthly")
    return set(frame["shop_id"])


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reconciliation_to_chase(
    path: str,
    version: Version,
    start: date,
    end: date,
    shop_ids: ShopIds,
    statuses: tuple[str, ...] = RECON_TO_CHASE,
    all_months: bool = False,
) -> pd.DataFrame:
    """Orders of marts.settlement_reconciliation in `statuses` (default: every status to chase) over the
    selected months: status, shop_id, shop_name, platform_order_id, order_id, month, order_date, due_date,
    currency, expected_settlement, settled_amount, difference, bill_lines, duplicated_bill_lines,
    first/last_settled_date, days_overdue (as_of_date − due_date, missing settlements only); the amounts are
    in the order's `currency`, and expected_settlement_cny / settled_amount_cny / difference_cny in CNY. Biggest
    |difference| in CNY (or expected, for missing; settled, for orphans) first."""
    params = _recon_params(start, end, shop_ids, all_months) | {"statuses": list(statuses)}
    return _df(
        path,
        f"""
        select r.status, r.shop_id, coalesce(s.shop_name, r.shop_id) as shop_name, r.platform_order_id,
               r.order_id, r.month, r.order_date, r.due_date, r.currency, r.expected_settlement,
               r.settled_amount, r.difference, r.expected_settlement_cny, r.settled_amount_cny,
               r.difference_cny, r.bill_lines, r.duplicated_bill_lines, r.first_settled_date,
               r.last_settled_date,
               case when r.status = 'missing_settlement' then r.as_of_date - r.due_date end as days_overdue
        from marts.settlement_reconciliation as r
        left join marts.shops as s using (shop_id)
        where {_recon_where(all_months, "r")}
          and list_contains($statuses::varchar[], r.status)
        order by abs(coalesce(r.difference_cny, r.expected_settlement_cny, r.settled_amount_cny))
                 desc nulls last,
                 r.order_id
        """,
        params,
    )


# Customers (客户). Buyers are per platform (a masked id per shop): summing buyers across shops counts a
# person buying in two shops twice, as the marts do.
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def repurchase_by_shop(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.repurchase_rates (its own window, ending at the snapshot's as-of date) for the selected shops
    with shop_name: every mart column; highest window repurchase rate first."""
    return _df(
        path,
        f"""
        select r.*, coalesce(s.shop_name, r.shop_id) as shop_name
        from marts.repurchase_rates as r
        left join marts.shops as s using (shop_id)
        where {_shops_only("r")}
        order by r.repurchase_rate desc nulls last, r.shop_id
        """,
        {"shops": list(shop_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def cohort_retention(
    path: str, version: Version, end: date, shop_ids: ShopIds, months: int = 12
) -> pd.DataFrame:
    """marts.customer_cohorts pooled over the selected shops for the last `months` cohorts starting by `end`:
    cohort_month, months_since_first, cohort_size (Σ the shops' cohort sizes), active_buyers, orders,
    net_spend_cny, retention_rate = Σ active_buyers / Σ cohort_size."""
    return _df(
        path,
        f"""
        with cohorts as (
            select cohort_month, sum(cohort_size)::bigint as cohort_size
            from marts.customer_cohorts
            where months_since_first = 0 and cohort_month <= $end::date and {_shops_only()}
            group by cohort_month
            order by cohort_month desc
            limit $months
        ),
        activity as (
            select cohort_month, months_since_first, sum(active_buyers)::bigint as active_buyers,
                   sum(orders)::bigint as orders, sum(net_spend_cny) as net_spend_cny
            from marts.customer_cohorts
            where activity_month <= $end::date and {_shops_only()}
            group by cohort_month, months_since_first
        )
        select a.cohort_month, a.months_since_first, c.cohort_size, a.active_buyers, a.orders,
               a.net_spend_cny, a.active_buyers / c.cohort_size as retention_rate
        from activity as a
        join cohorts as c using (cohort_month)
        order by a.cohort_month, a.months_since_first
        """,
        {"end": end, "shops": list(shop_ids), "months": months},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def rfm_segments(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.customers per RFM segment for the selected shops: rfm_segment, buyers, orders, net_spend_cny,
    spend_per_buyer (Σ net spend / buyers), buyer_share and spend_share of the selection. Largest spend
    first."""
    return _df(
        path,
        f"""
        select rfm_segment, count(*) as buyers, sum(orders)::bigint as orders, sum(net_spend_cny) as net_spend_cny,
               round(sum(net_spend_cny) / count(*), 2) as spend_per_buyer,
               count(*) / sum(count(*)) over () as buyer_share,
               sum(net_spend_cny) / nullif(sum(sum(net_spend_cny)) over (), 0) as spend_share
        from marts.customers
        where {_shops_only()}
        group by rfm_segment
        order by net_spend_cny desc, rfm_segment
        """,
        {"shops": list(shop_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def customer_kpis(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> dict[str, Any]:
    """From marts.customer_orders in the range: buyers (distinct masked ids), orders, new_buyers (first orders),
    repeat_orders, net_spend_cny, repeat_order_share = repeat orders / orders.

    Buyers are counted without a distinct over the ids (too slow at millions of orders): a buyer's first order
    in the range is the one whose previous order (order_date − days_since_previous_order) falls before the
    range, or who has none — exactly one row per buyer with orders in the range."""
    row = _one(
        path,
        f"""
        select count(*) filter (where days_since_previous_order is null
                                or order_date - days_since_previous_order < $start::date),
               count(*), count(*) filter (where customer_type = 'new'),
               count(*) filter (where customer_type = 'repeat'), coalesce(sum(net_spend_cny), 0)
        from marts.customer_orders
        where {_IN_RANGE}
        """,
        _range_params(start, end, shop_ids),
    )
    assert row is not None
    buyers, orders, new, repeat, spend = row
    return {
        "buyers": int(buyers),
        "orders": int(orders),
        "new_buyers": int(new),
        "repeat_orders": int(repeat),
        "net_spend_cny": spend,
        "repeat_order_share": repeat / orders if orders else None,
    }


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def new_vs_repeat(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, grain: str = "day"
) -> pd.DataFrame:
    """Orders of new and repeat buyers per `grain` ('day', 'week' — weeks start Monday — or 'month') in the
    range, from marts.customer_orders: period, customer_type, orders, net_spend_cny."""
    if grain not in ("day", "week", "month"):
        raise ValueError(f"grain must be day, week or month, not {grain!r}")
    return _df(
        path,
        f"""
        select date_trunc('{grain}', order_date)::date as period, customer_type, count(*) as orders,
               sum(net_spend_cny) as net_spend_cny
        from marts.customer_orders
        where {_IN_RANGE}
        group by all
        order by period, customer_type
        """,
        _range_params(start, end, shop_ids),
    )


# Order exceptions (异常订单): the review queue as of the snapshot (open orders, any order date; the shop
# filter applies, the date range does not). The mart masks buyer data itself (a buyer key that reads like an
# e-mail is hashed, digit runs in remarks are masked, only which address part is missing is kept): nothing
# here needs to.
EXCEPTION_REASONS = (
    "address_incomplete",
    "remark_attention",
    "high_value",
    "possible_duplicate",
    "ship_overdue",
    "oversold_sku",
    "unmapped_sku",
)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_reason_counts(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """Open orders per reason in marts.order_exceptions (an order with two reasons counts under both):
    reason, orders, paid_amount_cny. Most orders first."""
    return _df(
        path,
        f"""
        select reason, count(*) as orders, sum(paid_amount_cny) as paid_amount_cny
        from (select unnest(reasons) as reason, paid_amount_cny from marts.order_exceptions
              where {_shops_only()})
        group by reason
        order by orders desc, reason
        """,
        {"shops": list(shop_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_totals(path: str, version: Version, shop_ids: ShopIds) -> dict[str, Any]:
    """The queue's size: orders, paid_amount_cny, multi_reason (orders with more than one reason)."""
    row = _one(
        path,
        f"""
        select count(*), coalesce(sum(paid_amount_cny), 0), count(*) filter (where reason_count > 1)
        from marts.order_exceptions
        where {_shops_only()}
        """,
        {"shops": list(shop_ids)},
    )
    assert row is not None
    return {"orders": int(row[0]), "paid_amount_cny": row[1], "multi_reason": int(row[2])}


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_queue(
    path: str, version: Version, shop_ids: ShopIds, reasons: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The review queue: orders of marts.order_exceptions with any of `reasons` (empty = all): shop_id,
    shop_name, platform_order_id, order_id, buyer_key (masked), order_date, paid_at, paid_amount_cny,
    hours_since_paid, promise_hours, hours_left (promise − hours since paid; negative = overdue), reasons
    (codes joined by ','), reason_count, address_missing (which part is missing, joined by ',': province, city,
    or 'street' when both are there — never the address itself), remark_keywords, buyer_remark and
    seller_remark (digit runs of 5+ masked), duplicate_order_ids, oversold_skus, unmapped_codes (joined by
    ', '). Lists come as text: a DataFrame of per-cell arrays costs more to cache (pickle) than the query.
    Most reasons, then longest waiting first."""
    return _df(
        path,
        f"""
        select e.shop_id, coalesce(s.shop_name, e.shop_id) as shop_name, e.platform_order_id, e.order_id,
               e.buyer_key,
               e.order_date, e.paid_at, e.paid_amount_cny, e.hours_since_paid, e.promise_hours,
               e.promise_hours - e.hours_since_paid as hours_left,
               array_to_string(e.reasons, ',') as reasons, e.reason_count,
               array_to_string(e.address_missing, ',') as address_missing,
               array_to_string(e.remark_keywords, ', ') as remark_keywords,
               e.buyer_remark, e.seller_remark,
               array_to_string(e.duplicate_order_ids, ', ') as duplicate_order_ids,
               array_to_string(e.oversold_skus, ', ') as oversold_skus,
               array_to_string(e.unmapped_codes, ', ') as unmapped_codes
        from marts.order_exceptions as e
        left join marts.shops as s using (shop_id)
        where {_shops_only("e")}
          and (len($reasons::varchar[]) = 0 or list_has_any(e.reasons, $reasons::varchar[]))
        order by e.reason_count desc, e.hours_since_paid desc, e.order_id
        """,
        {"shops": list(shop_ids), "reasons": list(reasons)},
    )
