"""The ops store: what people decide on the dashboards and what writeback did, kept in a small SQLite file
(`ops.sqlite`), never in the warehouse. Writeback, Dagster and the dashboards read and write it.

It holds purchase-order decisions from the 补货 Replenishment page and the monthly targets per shop set on the
SKU 利润 page's monthly P&L (`shop_targets`, every version kept; `shop_targets_current` is what the build copies
into the warehouse as raw_ops.shop_targets). Purchase-order decisions: for a line of a purchase-order draft
(marts.purchase_order_drafts) a manager approves the suggested quantity, approves an edited quantity, or
rejects it. Every decision is a new row (`po_decisions`, an audit trail); the view `po_decisions_current` holds
the latest decision per draft line, which is what the page shows and what the writeback (a later issue) will
send to suppliers. Nothing here sends anything.

- The file and its schema are created on first use; the journal is WAL, so a reader (the Dagster sensor that
  will pick decisions up) never blocks the dashboards, and connections are short-lived (one per call).
- `snapshot_version` records which published snapshot the manager was looking at: the `published_at` of
  serve.duckdb's meta.publish_log (ISO 8601, UTC), stable across processes (unlike the file's inode).
- Stock sync (writeback/stock) keeps its rules and locks here (`stock_rules`, `stock_locks`: every version
  kept, with who changed what and when), an audit row per push (`stock_pushes`) and the pushes managers ask for
  on the stock page (`stock_push_requests`, carried out by Dagster), and the lean path's change queue: a
  change counter per SKU (`stock_changes`), the WMS movements and channel listings it has seen
  (`stock_movements_seen`, `stock_listings_seen`); writeback/stock/store.py reads and writes them.
- Purchase orders (writeback/purchasing): each order with its lines and every command's event
  (`purchase_orders`, `purchase_order_lines`, `purchase_order_events`), the numbers given per day
  (`purchase_order_numbers`) and every attempt at sending one (`purchase_order_sends`).
- A store another process holds busy is retried (`connect`): a decision is never lost to "database is locked".
- Plain Python with the standard library's sqlite3: no Streamlit, unit-testable.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import pandas as pd

Status = Literal["approved", "edited", "rejected"]
STATUSES: tuple[Status, ...] = ("approved", "edited", "rejected")
SCHEMA_VERSION = 8

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
    decided_by text,                   -- who decided: the logged-in user's e-mail (null: open dashboards, before v8)
    check ((status = 'rejected' and approved_qty is null) or (status <> 'rejected' and approved_qty > 0))
);
create index if not exists po_decisions_line on po_decisions (draft_id, sku, decision_id);
create view if not exists po_decisions_current as
    select d.*
    from po_decisions as d
    where d.decision_id = (
        select max(l.decision_id) from po_decisions as l where l.draft_id = d.draft_id and l.sku = d.sku
    );
create table if not exists shop_targets (
    target_id integer primary key autoincrement,
    shop_id text not null,
    month text not null check (month glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]-01'),  -- the month's first day
    net_revenue_target text,           -- decimal text in the reporting currency; null: no target
    contribution_target text,          -- contribution margin after ads; null: no target
    set_by text not null,
    set_at text not null,              -- UTC, ISO 8601
    note text
);
create view if not exists shop_targets_current as
    select t.*
    from shop_targets as t
    where t.target_id = (
        select max(l.target_id) from shop_targets as l where l.shop_id = t.shop_id and l.month = t.month
    )
    and (t.net_revenue_target is not null or t.contribution_target is not null);
create table if not exists stock_rules (
    row_id integer primary key autoincrement,
    name text not null,
    version integer not null check (version >= 1),  -- 1, 2, ... per rule name
    definition text,                   -- the rule's keys as JSON; null: the rule was deleted
    changed_by text not null,
    changed_at text not null,          -- UTC, ISO 8601
    note text,
    unique (name, version)             -- two edits from the same version: the second is refused, not lost
);
create view if not exists stock_rules_current as
    select r.*
    from stock_rules as r
    where r.version = (select max(l.version) from stock_rules as l where l.name = r.name)
    and r.definition is not null;
create table if not exists stock_locks (
    row_id integer primary key autoincrement,
    lock_id text not null,
    version integer not null check (version >= 1),
    sku text not null,
    shop_id text not null,
    quantity integer not null check (quantity >= 0),  -- 0: released
    until text not null,               -- UTC, ISO 8601: the lock ends by itself then
    changed_by text not null,
    changed_at text not null,
    note text,
    unique (lock_id, version)
);
create view if not exists stock_locks_current as
    select k.*
    from stock_locks as k
    where k.version = (select max(l.version) from stock_locks as l where l.lock_id = k.lock_id);
create table if not exists stock_pushes (
    push_id text primary key,          -- the push's id (the idempotency id where the platform takes one)
    run_id text not null,
    mode text not null check (mode in ('manual', 'automatic')),
    shop_id text not null,
    sku text not null,
    listing_id text not null,
    rule text not null,
    rule_version integer not null,
    before_qty integer,                -- what the channel listed just before the push (read back), if known
    sold_since_pull integer,           -- units the channel sold since the listing was pulled (read back)
    in_flight_qty integer,             -- units it sold between that read and the push landing (StockResult)
    listing_fetched_at text,           -- when the listing the plan saw was pulled (a newer pull supersedes the push)
    planned_qty integer not null,
    pushed_qty integer,                -- what the platform confirmed
    result text not null check (result in ('pending', 'ok', 'failed', 'interrupted')),
    message text,                      -- the platform's words on a refusal
    started_at text not null,
    finished_at text
);
create index if not exists stock_pushes_listing on stock_pushes (listing_id, started_at);
create table if not exists stock_push_requests (
    request_id integer primary key autoincrement,
    requested_by text not null,
    requested_at text not null,
    shops text,                        -- comma-separated shop ids; null: every shop
    snapshot_version text,             -- the published snapshot whose plan the manager saw
    status text not null check (status in ('pending', 'running', 'done', 'refused')),
    run_id text,                       -- the stock sync run that carried it out
    message text,                      -- what the run did, or why it was refused
    finished_at text
);
create table if not exists stock_changes (
    sku text primary key,              -- a master SKU or kit; '*': every SKU (a rule changed)
    changes integer not null,          -- bumped by each change seen: a stock movement, a sale, a lock
    planned integer not null default 0,-- the `changes` the last finished plan of the SKU covered
    failures integer not null default 0,  -- plans in a row whose push of the SKU failed
    retry_after text,                  -- UTC ISO 8601: a failed SKU waits until then (backing off)
    last_change text,                  -- what the last change was, e.g. "receipt +40 at WH-SH"
    changed_at text not null
);
create table if not exists stock_movements_seen (
    movement_id text primary key,      -- the WMS's id: a movement listed twice counts once
    moved_at text not null,            -- UTC ISO 8601
    warehouse_id text not null,
    sku text not null,
    movement_type text not null,
    quantity integer not null,         -- signed units (+ in, - out)
    seen_at text not null
);
create index if not exists stock_movements_seen_at on stock_movements_seen (moved_at);
create table if not exists stock_listings_seen (
    listing_id text primary key,
    shop_id text not null,
    sku text not null,
    listed integer,                    -- what the platform listed when last read or set (null: not listed)
    seen_at text not null
);
create table if not exists purchase_orders (
    po_number text primary key,        -- PO-<yyyymmdd>-<nnnn>: never reused (purchase_order_numbers)
    supplier_id text not null,
    warehouse_id text,                 -- where it is delivered (the supplier's [[suppliers]] warehouse)
    state text not null check (state in ('draft', 'approved', 'sent', 'confirmed', 'partially_received',
                                         'received', 'closed', 'cancelled')),
    version integer not null,          -- bumped by every command
    created_by text not null,
    created_at text not null,
    currency text not null,
    expected_date text,                -- when the draft expected it (as_of + lead time)
    promised_date text,                -- the supplier's confirmed date
    source_draft_id text unique,       -- the replenishment draft it came from: one order per draft
    note text
);
create table if not exists purchase_order_lines (
    po_number text not null references purchase_orders (po_number),
    sku text not null,
    quantity integer not null check (quantity > 0),
    unit_price text,                   -- decimal text in the order's currency
    confirmed integer,                 -- units the supplier accepted (null: not confirmed yet)
    received integer not null default 0,
    primary key (po_number, sku)
);
create table if not exists purchase_order_numbers (day text primary key, last integer not null);
create table if not exists purchase_order_events (
    event_id integer primary key autoincrement,
    po_number text not null,
    command text not null,
    from_state text,
    to_state text not null,
    changed_by text not null,
    changed_at text not null,
    detail text                        -- JSON: quantities, reason, channel
);
create table if not exists purchase_order_sends (
    attempt_id integer primary key autoincrement,
    po_number text not null,
    channel text not null,             -- webhook
    started_at text not null,
    finished_at text,
    outcome text not null check (outcome in ('pending', 'delivered', 'already_there', 'failed')),
    http_status integer,
    message text
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
    "decided_by",
]


BUSY_ATTEMPTS = 20
"""Tries at creating the schema of a new store while other processes do the same."""


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
    decided_by: str | None = None  # the logged-in user's e-mail (dashboards/writes.py); None on open dashboards


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


ADDED_COLUMNS = {
    "stock_pushes": {"sold_since_pull": "integer", "in_flight_qty": "integer"},  # version 5
    "po_decisions": {"decided_by": "text"},  # version 8
}
"""Columns added to a table after a store was first made: an older store gets them on first use."""


def _add_columns(con: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in con.execute(f"pragma table_info({table})")}
        for name, kind in columns.items():
            if have and name not in have:  # `have` is empty while the table does not exist yet
                con.execute(f"alter table {table} add column {name} {kind}")


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
        con.execute("pragma busy_timeout = 10000")
        for attempt in range(BUSY_ATTEMPTS):  # a new store: the first writers race to create the schema
            try:
                con.execute("pragma journal_mode = wal")
                if con.execute("pragma user_version").fetchone()[0] < SCHEMA_VERSION:
                    _add_columns(con)
                    con.executescript(SCHEMA)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == BUSY_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        yield con
        con.commit()
    except sqlite3.Error as exc:
        con.rollback()
        raise OpsStoreError(f"the ops store at {path} failed: {exc}") from exc
    finally:
        con.close()


class StaleDecision(OpsStoreError):
    """The draft line was decided by someone else after the deciding manager loaded it."""


UNCHECKED = object()


def record(
    path: Path | str,
    decision: Decision,
    decided_at: datetime | None = None,
    seen: int | None | object = UNCHECKED,
) -> int:
    """Append `decision` to the store; returns its decision_id.

    `seen`: the decision_id the manager was looking at for this line (None: it was undecided). If the line's
    latest decision is another one by now (someone decided it meanwhile), nothing is stored and StaleDecision says
    what that decision is, instead of the last click silently winning. Checked and written in one transaction."""
    if decision.status not in STATUSES:
        raise OpsStoreError(f"unknown decision status {decision.status!r}; expected one of {STATUSES}")
    stamp = (decided_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    with connect(path) as con:
        con.execute("begin immediate")
        if seen is not UNCHECKED:
            latest = con.execute(
                "select decision_id, status, approved_qty, decided_at from po_decisions_current "
                "where draft_id = ? and sku = ?",
                (decision.draft_id, decision.sku),
            ).fetchone()
            if (latest[0] if latest else None) != seen:
                what = f"{latest[1]}" + (f" {latest[2]} units" if latest[2] is not None else "")
                raise StaleDecision(
                    f"{decision.sku}: someone {what} this line at {latest[3]} after you loaded the page, so your "
                    "decision was not saved; the page now shows theirs — decide again if you disagree"
                )
        cursor = con.execute(
            """insert into po_decisions (draft_id, sku, supplier_id, as_of_date, suggested_qty, approved_qty,
                   status, decided_at, snapshot_version, note, decided_by)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
                decision.decided_by,
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


TARGET_COLUMNS = ["shop_id", "month", "net_revenue_target", "contribution_target", "set_by", "set_at", "note"]


def _amount(value: object, what: str, shop_id: str, *, negative_ok: bool) -> str | None:
    """A target as exact decimal text (two places), or None for no target."""
    if value is None or (isinstance(value, float) and value != value) or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise OpsStoreError(f"{shop_id}: the {what} target {value!r} is not a number") from None
    if not amount.is_finite() or (amount < 0 and not negative_ok):
        raise OpsStoreError(f"{shop_id}: the {what} target must be a number of at least 0 (got {value!r})")
    return str(amount.quantize(Decimal("0.01")))


def set_target(
    path: Path | str,
    *,
    shop_id: str,
    month: date,
    net_revenue_target: object = None,
    contribution_target: object = None,
    set_by: str = "manager",
    note: str | None = None,
    set_at: datetime | None = None,
) -> int:
    """Record a new version of a shop's targets for the month of `month` (both None clears them); returns its id.
    Raises OpsStoreError naming the shop for a target that is not a number (or a negative revenue)."""
    if not shop_id:
        raise OpsStoreError("a target needs a shop")
    revenue = _amount(net_revenue_target, "net revenue", shop_id, negative_ok=False)
    contribution = _amount(contribution_target, "contribution margin", shop_id, negative_ok=True)
    stamp = (set_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    with connect(path) as con:
        cursor = con.execute(
            """insert into shop_targets (shop_id, month, net_revenue_target, contribution_target, set_by, set_at,
                   note) values (?, ?, ?, ?, ?, ?, ?)""",
            (shop_id, month.replace(day=1).isoformat(), revenue, contribution, set_by, stamp,
             (note or "").strip() or None),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)


def current_targets(path: Path | str) -> pd.DataFrame:
    """The targets in force per shop and month (TARGET_COLUMNS; amounts as Decimal). A store that does not
    exist yet has none."""
    if not Path(path).exists():
        return pd.DataFrame(columns=TARGET_COLUMNS)
    with connect(path) as con:
        frame = pd.read_sql_query(
            f"select {', '.join(TARGET_COLUMNS)} from shop_targets_current order by shop_id, month", con
        )
    for column in ("net_revenue_target", "contribution_target"):
        frame[column] = pd.Series([None if pd.isna(v) else Decimal(v) for v in frame[column]], dtype=object)
    return frame


def target_history(path: Path | str, shop_id: str, month: date) -> pd.DataFrame:
    """Every version of a shop's targets for a month, oldest first (who set what, when)."""
    if not Path(path).exists():
        return pd.DataFrame(columns=TARGET_COLUMNS)
    with connect(path) as con:
        return pd.read_sql_query(
            f"select {', '.join(TARGET_COLUMNS)} from shop_targets where shop_id = ? and month = ? "
            "order by target_id",
            con,
            params=[shop_id, month.replace(day=1).isoformat()],
        )
