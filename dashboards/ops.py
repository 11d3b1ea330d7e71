"""The ops store: what people decide on the dashboards, kept in a small SQLite file (`ops.sqlite`), never in
the warehouse.

Today it holds purchase-order decisions from the 补货 Replenishment page: for a line of a purchase-order draft
(marts.purchase_order_drafts) a manager approves the suggested quantity, approves an edited quantity, or
rejects it. Every decision is a new row (`po_decisions`, an audit trail); the view `po_decisions_current` holds
the latest decision per draft line, which is what the page shows and what the writeback (a later issue) will
send to suppliers. Nothing here sends anything.

- The file and its schema are created on first use; the journal is WAL, so a reader (the Dagster sensor that
  will pick decisions up) never blocks the dashboards, and connections are short-lived (one per call).
- `snapshot_version` records which published snapshot the manager was looking at: the `published_at` of
  serve.duckdb's meta.publish_log (ISO 8601, UTC), stable across processes (unlike the file's inode).
- Plain Python with the standard library's sqlite3: no Streamlit, unit-testable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

Status = Literal["approved", "edited", "rejected"]
STATUSES: tuple[Status, ...] = ("approved", "edited", "rejected")
SCHEMA_VERSION = 1

SCHEMA = f"""
create table if not exists po_decisions (
    decision_id integer primary key autoincrement,
    draft_id text not null,            -- DRAFT-<yyyymmdd>-<supplier_id> (marts.purchase_order_drafts)
    sku text not null,
    supplier_id text not null,
    as_of_date text,                   -- the day the draft was suggested (YYYY-MM-DD)
    suggested_qty integer not null,    -- the draft's quantity when decided
    approved_qty integer,              -- units to order; null when rejected
    status text not null check (status in ({", ".join(f"'{s}'" for s in STATUSES)})),
    decided_at text not null,          -- UTC, ISO 8601
    snapshot_version text,             -- published_at of the serve.duckdb snapshot shown (ISO 8601, UTC)
    note text,
    check ((status = 'rejected' and approved_qty is null) or (status <> 'rejected' and approved_qty > 0))
);
create index if not exists po_decisions_line on po_decisions (draft_id, sku, decision_id);
create view if not exists po_decisions_current as
    select d.*
    from po_decisions as d
    where d.decision_id = (
        select max(l.decision_id) from po_decisions as l where l.draft_id = d.draft_id and l.sku = d.sku
    );
pragma user_version = {SCHEMA_VERSION};
"""

DECISION_COLUMNS = [
    "decision_id",
    "draft_id",
    "sku",
    "supplier_id",
    "as_of_date",
    "suggested_qty",
    "approved_qty",
    "status",
    "decided_at",
    "snapshot_version",
    "note",
]


class OpsStoreError(RuntimeError):
    """The ops store cannot be opened or the decision is not valid."""


@dataclass(frozen=True)
class Decision:
    """One decision on one line of a purchase-order draft."""

    draft_id: str
    sku: str
    supplier_id: str
    suggested_qty: int
    approved_qty: int | None
    status: Status
    as_of_date: str | None = None
    snapshot_version: str | None = None
    note: str | None = None


def decide(
    *,
    draft_id: str,
    sku: str,
    supplier_id: str,
    suggested_qty: int,
    quantity: int | None,
    reject: bool = False,
    as_of_date: str | None = None,
    snapshot_version: str | None = None,
    note: str | None = None,
) -> Decision:
    """The decision a click means: reject; approve `quantity` (= suggested: approved, else: edited).

    Raises OpsStoreError for an approval without a positive whole quantity (to order nothing, reject).
    """
    note = (note or "").strip() or None
    if reject:
        return Decision(draft_id, sku, supplier_id, int(suggested_qty), None, "rejected", as_of_date,
                        snapshot_version, note)  # fmt: skip
    if quantity is None or int(quantity) != quantity or quantity <= 0:
        raise OpsStoreError(
            f"{sku}: an approved quantity must be a whole number above 0 (got {quantity!r}); "
            "reject the line to order nothing"
        )
    status: Status = "approved" if int(quantity) == int(suggested_qty) else "edited"
    return Decision(draft_id, sku, supplier_id, int(suggested_qty), int(quantity), status, as_of_date,
                    snapshot_version, note)  # fmt: skip


@contextmanager
def connect(path: Path | str) -> Iterator[sqlite3.Connection]:
    """A short-lived connection to the ops store at `path`, created (folder, file, schema) on first use."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=10)
    except (OSError, sqlite3.Error) as exc:
        raise OpsStoreError(
            f"cannot open the ops store at {path} ({exc}); check [warehouse] ops_path in shopkeep.toml "
            "or SHOPKEEP_OPS_PATH"
        ) from exc
    try:
        con.execute("pragma journal_mode = wal")
        con.execute("pragma busy_timeout = 10000")
        if con.execute("pragma user_version").fetchone()[0] < SCHEMA_VERSION:
            con.executescript(SCHEMA)
        yield con
        con.commit()
    except sqlite3.Error as exc:
        con.rollback()
        raise OpsStoreError(f"the ops store at {path} failed: {exc}") from exc
    finally:
        con.close()


def record(path: Path | str, decision: Decision, decided_at: datetime | None = None) -> int:
    """Append `decision` to the store; returns its decision_id."""
    if decision.status not in STATUSES:
        raise OpsStoreError(f"unknown decision status {decision.status!r}; expected one of {STATUSES}")
    stamp = (decided_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    with connect(path) as con:
        cursor = con.execute(
            """insert into po_decisions (draft_id, sku, supplier_id, as_of_date, suggested_qty, approved_qty,
                   status, decided_at, snapshot_version, note)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                decision.draft_id,
                decision.sku,
                decision.supplier_id,
                decision.as_of_date,
                decision.suggested_qty,
                decision.approved_qty,
                decision.status,
                stamp,
                decision.snapshot_version,
                decision.note,
            ),
        )
        return int(cursor.lastrowid or 0)


def current_decisions(path: Path | str, draft_ids: list[str] | None = None) -> pd.DataFrame:
    """The latest decision per draft line (of `draft_ids`, or all); columns DECISION_COLUMNS.

    A store that does not exist yet has no decisions (the file is not created just to read it).
    """
    if not Path(path).exists():
        return pd.DataFrame(columns=DECISION_COLUMNS)
    sql = f"select {', '.join(DECISION_COLUMNS)} from po_decisions_current"
    params: list[str] = []
    if draft_ids is not None:
        if not draft_ids:
            return pd.DataFrame(columns=DECISION_COLUMNS)
        sql += f" where draft_id in ({', '.join('?' for _ in draft_ids)})"
        params = list(draft_ids)
    with connect(path) as con:
        return pd.read_sql_query(sql + " order by draft_id, sku", con, params=params)


def history(path: Path | str, draft_id: str, sku: str) -> pd.DataFrame:
    """Every decision on one draft line, oldest first."""
    if not Path(path).exists():
        return pd.DataFrame(columns=DECISION_COLUMNS)
    with connect(path) as con:
        return pd.read_sql_query(
            f"select {', '.join(DECISION_COLUMNS)} from po_decisions where draft_id = ? and sku = ? "
            "order by decision_id",
            con,
            params=[draft_id, sku],
        )
