"""The serving file: the read-only connection to the published `serve.duckdb`, its snapshot, and the SQL
filter helpers every query module shares.

Each query runs on its own cursor of the current snapshot's read-only DuckDB instance (`_connect`): one instance per
published file (path + inode/mtime), never one per browser session. The publish step atomically renames a new file
over serve.duckdb; the next query sees a new version, opens the new file in a new instance and drops the old one,
which closes when its last cursor does. (Opening an instance per query costs ~40-150 ms on a large file: catalog,
buffer manager, thread pool; a cursor costs nothing.) Cached functions take `version = snapshot_version(path)` as
an argument, so the first run after a publish misses the cache and reads the new file.

Filters: `_IN_RANGE` / `_range_params` (order dates and shops), `_in_months` (order months and shops),
`_shops_only` (shops), `in_list` (any list parameter); an empty list means no filter.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st

from connectors.common.warehouse import Lake, connect_warehouse, parse_locator, published_snapshot

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


LAKE_POLL_SECONDS = 2.0
"""How long a lake's published snapshot id is reused before the catalog is asked again."""

_lake_heads: dict[str, tuple[float, Version, duckdb.DuckDBPyConnection]] = {}


def _published(con: duckdb.DuckDBPyConnection) -> int | None:
    cursor = con.cursor()
    try:
        return published_snapshot(cursor)
    finally:
        cursor.close()


def _lake_version(locator: str, lake: Lake) -> Version:
    """(the lake's latest published snapshot id, 0), asked of the catalog at most every LAKE_POLL_SECONDS through
    one read-only connection to the lake's head per process."""
    now = time.monotonic()
    with _snapshots_lock:
        head = _lake_heads.get(locator)
        if head is not None and now - head[0] < LAKE_POLL_SECONDS:
            return head[1]
    con = head[2] if head is not None else connect_warehouse(None, lake, read_only=True)
    try:
        snapshot = _published(con)
    except duckdb.Error:
        if head is None:
            raise
        # the catalog connection of a long-lived head can break (PostgreSQL restarted): one fresh connection
        con = connect_warehouse(None, lake, read_only=True)
        snapshot = _published(con)
    if snapshot is None:
        raise WarehouseNotPublished(locator)
    version = (snapshot, 0)
    with _snapshots_lock:
        _lake_heads[locator] = (now, version, con)
    return version


def snapshot_version(path: Path | str) -> Version:
    """(inode, mtime_ns) of the serving file: changes whenever a new snapshot is renamed over it. For a lake
    (`path` a lake locator, `ducklake:<catalog_url>#<data_path>`): (latest published snapshot id, 0)."""
    lake = parse_locator(str(path))
    if lake is not None:
        return _lake_version(str(path), lake)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise WarehouseNotPublished(path) from None
    return (stat.st_ino, stat.st_mtime_ns)


_snapshots: dict[str, tuple[Version, duckdb.DuckDBPyConnection]] = {}
_snapshots_lock = threading.Lock()


def _open_snapshot(path: str, version: Version) -> duckdb.DuckDBPyConnection:
    lake = parse_locator(path)
    if lake is not None:  # the lake read-only, pinned at the published snapshot, attached as `serve`
        return connect_warehouse(None, lake, read_only=True, snapshot=version[0], alias="serve")
    # In memory with the file ATTACHed read-only: DuckDB's Python instance cache is keyed by path, so
    # `duckdb.connect(path)` could hand back the instance of a file a publish has since renamed over.
    # No replacement scans: a table missing from an old serve file must fail as a missing table, not be
    # "found" as a Python variable of the same name (e.g. the query function `source_freshness`).
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
            _snapshots[key] = current = (version, _open_snapshot(key, version))
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
        _lake_heads.clear()


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


def _has_table(con, schema: str, table: str) -> bool:
    """Whether the snapshot has `schema.table` (a snapshot published before a mart existed has not)."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def published_at(path: str, version: Version) -> datetime | None:
    """When the current snapshot was published (UTC, tz-aware); None if the log is empty."""
    row = _one(path, "select max(published_at) from meta.publish_log")
    return row[0] if row else None


def in_list(column: str, param: str) -> str:
    """SQL: `column` is in the list parameter `$param` (an empty list = no filter), e.g.
    `where {in_list('category', 'categories')}` with params {"categories": list(sel.categories)}."""
    return f"(len(${param}::varchar[]) = 0 or list_contains(${param}::varchar[], {column}))"


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


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def snapshot_id(path: str, version: Version) -> str | None:
    """The published snapshot's identity across processes: max(published_at) of meta.publish_log, ISO 8601."""
    stamp = published_at(path, version)
    return stamp.isoformat() if stamp is not None else None


_IN_MONTHS = """
    {alias}{column} between date_trunc('month', $start::date) and $end::date
    and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], {alias}shop_id))
"""


def _in_months(column: str, alias: str = "") -> str:
    return _IN_MONTHS.format(column=column, alias=f"{alias}." if alias else "")


_SHOP_ONLY = "(len($shops::varchar[]) = 0 or list_contains($shops::varchar[], {alias}shop_id))"


def _shops_only(alias: str = "") -> str:
    return _SHOP_ONLY.format(alias=f"{alias}." if alias else "")
