"""Stock-sync rules, locks and the push audit in the ops store (writeback/ops_store.py's tables).

Rules and locks are versioned: an edit names the version it was made from, and an edit made from a version
that is no longer the latest is refused (`StaleEdit`, saying who changed it and when) instead of overwriting
the other person's change. Every version is kept, with who changed what and when.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from writeback.ops_store import OpsStoreError, connect
from writeback.stock.rules import Lock, Rule, RuleError, rule_from_dict


class StaleEdit(OpsStoreError):
    """The rule or lock changed since the editor read it."""


def _now(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def _latest(con: sqlite3.Connection, table: str, key: str, value: str) -> sqlite3.Row | None:
    con.row_factory = sqlite3.Row
    return con.execute(
        f"select * from {table} where {key} = ? order by version desc limit 1", (value,)
    ).fetchone()


def _insert_version(
    path: Path | str, table: str, key: str, value: str, expected: int, row: dict[str, Any], what: str
) -> int:
    with connect(path) as con:
        latest = _latest(con, table, key, value)
        current = int(latest["version"]) if latest else 0
        if current != expected:
            by = f" by {latest['changed_by']} at {latest['changed_at']}" if latest else ""
            raise StaleEdit(
                f"{what} was changed{by} (now version {current}, you edited version {expected}); "
                "reload it and make your change again"
            )
        columns = {key: value, "version": current + 1, **row}
        try:
            con.execute(
                f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
                list(columns.values()),
            )
        except sqlite3.IntegrityError as exc:  # another process inserted the same version meanwhile
            raise StaleEdit(
                f"{what} was changed at the same moment; reload it and make your change again"
            ) from exc
        return current + 1


def save_rule(
    path: Path | str, definition: dict[str, Any], by: str, expected_version: int, note: str | None = None,
    at: datetime | None = None,
) -> Rule:  # fmt: skip
    """Save a rule (checked: RuleError names the key) as a new version of its name; `expected_version` is the
    version the editor started from (0 for a new rule). Returns the rule at its new version."""
    if not by.strip():
        raise OpsStoreError("say who changes the rule (changed_by)")
    definition = {k: v for k, v in definition.items() if k != "version"}
    rule = rule_from_dict(definition)
    stored = {k: (str(v) if k == "percent" else v) for k, v in definition.items()}
    version = _insert_version(
        path, "stock_rules", "name", rule.name, expected_version,
        {"definition": json.dumps(stored, sort_keys=True, ensure_ascii=False), "changed_by": by.strip(),
         "changed_at": _now(at), "note": note},
        f"stock rule {rule.name!r}",
    )  # fmt: skip
    note_changes(path, {EVERY_SKU: f"rule {rule.name} version {version} by {by.strip()}"}, at)
    return rule_from_dict({**definition, "version": version})


def delete_rule(
    path: Path | str, name: str, by: str, expected_version: int, at: datetime | None = None
) -> None:
    _insert_version(
        path, "stock_rules", "name", name, expected_version,
        {"definition": None, "changed_by": by, "changed_at": _now(at), "note": "deleted"}, f"stock rule {name!r}",
    )  # fmt: skip
    note_changes(path, {EVERY_SKU: f"rule {name} deleted by {by}"}, at)


def current_rules(path: Path | str) -> list[Rule]:
    """The rules in force in the ops store (each at its latest version); a stored rule that no longer checks
    (an older shopkeep wrote it) raises RuleError naming it."""
    if not Path(path).exists():
        return []
    with connect(path) as con:
        rows = con.execute(
            "select name, version, definition from stock_rules_current order by name"
        ).fetchall()
    rules = []
    for name, version, definition in rows:
        try:
            rules.append(
                rule_from_dict({**json.loads(definition), "version": version}, "stock rule in the ops store")
            )
        except (RuleError, ValueError) as exc:
            raise RuleError(
                f"{exc} (ops store rule {name!r} version {version}: edit it on the stock page)"
            ) from exc
    return rules


def rule_history(path: Path | str, name: str) -> pd.DataFrame:
    with connect(path) as con:
        return pd.read_sql_query(
            "select name, version, definition, changed_by, changed_at, note from stock_rules where name = ? "
            "order by version desc",
            con,
            params=(name,),
        )


def save_lock(
    path: Path | str, lock_id: str, sku: str, shop_id: str, quantity: int, until: datetime, by: str,
    expected_version: int, note: str | None = None, at: datetime | None = None,
) -> Lock:  # fmt: skip
    """Lock `quantity` units of `sku` for `shop_id` until `until` (UTC); quantity 0 releases the lock."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise OpsStoreError(f"lock {lock_id}: quantity must be a whole number >= 0, got {quantity!r}")
    if until.tzinfo is None:
        raise OpsStoreError(f"lock {lock_id}: give the end time with its timezone")
    if not all(isinstance(v, str) and v.strip() for v in (lock_id, sku, shop_id, by)):
        raise OpsStoreError("a lock needs an id, a SKU, a shop and who sets it")
    version = _insert_version(
        path, "stock_locks", "lock_id", lock_id, expected_version,
        {"sku": sku, "shop_id": shop_id, "quantity": quantity, "until": until.astimezone(UTC).isoformat(),
         "changed_by": by, "changed_at": _now(at), "note": note},
        f"lock {lock_id!r}",
    )  # fmt: skip
    note_changes(path, {sku: f"lock {lock_id} of {quantity} for {shop_id} by {by}"}, at)
    return Lock(lock_id, sku, shop_id, quantity, until.astimezone(UTC), note or "", version)


def current_locks(path: Path | str) -> list[Lock]:
    """Every lock at its latest version (active or not: the plan decides by its clock)."""
    if not Path(path).exists():
        return []
    with connect(path) as con:
        rows = con.execute(
            "select lock_id, sku, shop_id, quantity, until, coalesce(note, ''), version from stock_locks_current"
        ).fetchall()
    return [
        Lock(lock_id, sku, shop, quantity, datetime.fromisoformat(until), note, version)
        for lock_id, sku, shop, quantity, until, note, version in rows
    ]


PUSH_COLUMNS = [
    "push_id", "run_id", "mode", "shop_id", "sku", "listing_id", "rule", "rule_version", "before_qty",
    "sold_since_pull", "in_flight_qty", "listing_fetched_at", "planned_qty", "pushed_qty", "result", "message",
    "started_at", "finished_at",
]  # fmt: skip


def start_push(path: Path | str, row: dict[str, Any]) -> None:
    """Record a push about to be sent (result 'pending'): a run killed before it finishes leaves the row."""
    with connect(path) as con:
        values = {**row, "result": "pending", "started_at": _now(row.get("started_at"))}
        con.execute(
            f"insert into stock_pushes ({', '.join(values)}) values ({', '.join('?' for _ in values)})",
            list(values.values()),
        )


def finish_push(
    path: Path | str, push_id: str, ok: bool, pushed: int | None, message: str, at: datetime | None = None,
    in_flight: int = 0,
) -> None:  # fmt: skip
    with connect(path) as con:
        con.execute(
            "update stock_pushes set result = ?, pushed_qty = ?, message = ?, finished_at = ?, in_flight_qty = ? "
            "where push_id = ?",
            ("ok" if ok else "failed", pushed, message or None, _now(at), in_flight, push_id),
        )


def interrupted_pushes(path: Path | str) -> pd.DataFrame:
    """Pushes a killed run left pending: marked 'interrupted' (the next plan decides again) and returned."""
    if not Path(path).exists():
        return pd.DataFrame(columns=PUSH_COLUMNS)
    with connect(path) as con:
        pending = pd.read_sql_query("select * from stock_pushes where result = 'pending'", con)
        con.execute(
            "update stock_pushes set result = 'interrupted', finished_at = ?, "
            "message = 'the run stopped before the platform answered; planned again' where result = 'pending'",
            (_now(None),),
        )
    return pending


def pushes(path: Path | str, limit: int = 500) -> pd.DataFrame:
    """The latest pushes, newest first."""
    if not Path(path).exists():
        return pd.DataFrame(columns=PUSH_COLUMNS)
    with connect(path) as con:
        return pd.read_sql_query(
            "select * from stock_pushes order by started_at desc, push_id limit ?", con, params=(limit,)
        )


def pushes_of(path: Path | str, listing_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every push of these listings, oldest first, by listing (what sync.sold_since_pull reads)."""
    if not Path(path).exists() or not listing_ids:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    with connect(path) as con:
        con.row_factory = sqlite3.Row
        for start in range(0, len(listing_ids), 500):
            chunk = listing_ids[start : start + 500]
            rows = con.execute(
                "select listing_id, listing_fetched_at, before_qty, in_flight_qty, planned_qty, pushed_qty, "
                f"result from stock_pushes where listing_id in ({', '.join('?' for _ in chunk)}) "
                "order by rowid",  # the order they were recorded in
                chunk,
            )
            for row in rows:
                found.setdefault(row["listing_id"], []).append(dict(row))
    return found


def last_pushes(path: Path | str) -> pd.DataFrame:
    """Per listing: the last push that got an answer (its result, quantity, time) and how many pushes in a row
    failed up to now (0 when the last one was ok)."""
    columns = ["listing_id", "result", "pushed_qty", "planned_qty", "listing_fetched_at", "finished_at", "message",
               "failures_in_a_row"]  # fmt: skip
    if not Path(path).exists():
        return pd.DataFrame(columns=columns)
    with connect(path) as con:
        return pd.read_sql_query(
            """
            with answered as (
                select *, row_number() over (partition by listing_id order by started_at desc, push_id desc) as n
                from stock_pushes where result in ('ok', 'failed')
            ),
            last_ok as (
                select listing_id, max(started_at) as at from stock_pushes where result = 'ok' group by listing_id
            )
            select a.listing_id, a.result, a.pushed_qty, a.planned_qty, a.listing_fetched_at, a.finished_at,
                   a.message,
                   (select count(*) from stock_pushes f
                    where f.listing_id = a.listing_id and f.result = 'failed'
                      and f.started_at > coalesce((select at from last_ok o where o.listing_id = a.listing_id), ''))
                   as failures_in_a_row
            from answered a where n = 1
            """,
            con,
        )[columns]


REQUEST_COLUMNS = ["request_id", "requested_by", "requested_at", "shops", "snapshot_version", "status", "run_id",
                   "message", "finished_at"]  # fmt: skip


def request_push(
    path: Path | str, by: str, snapshot_version: str | None, shops: list[str] | None = None,
    at: datetime | None = None,
) -> int:  # fmt: skip
    """A manager asks for the plan they saw (of `snapshot_version`, the published snapshot) to be pushed, to
    `shops` or every shop. The dashboards hold no channel credentials: Dagster's sensor carries the request out
    (orchestration/writeback.py). A request while another is waiting is the same request: its id is returned."""
    with connect(path) as con:
        waiting = con.execute(
            "select request_id from stock_push_requests where status = 'pending' "
            "and coalesce(shops, '') = ? and coalesce(snapshot_version, '') = ?",
            (",".join(sorted(shops or [])), snapshot_version or ""),
        ).fetchone()
        if waiting:
            return int(waiting[0])
        cursor = con.execute(
            "insert into stock_push_requests (requested_by, requested_at, shops, snapshot_version, status) "
            "values (?, ?, ?, ?, 'pending')",
            (by, _now(at), ",".join(sorted(shops)) if shops else None, snapshot_version),
        )
        return int(cursor.lastrowid)


def pending_push_requests(path: Path | str) -> list[dict[str, Any]]:
    """Requests nobody has started, oldest first."""
    if not Path(path).exists():
        return []
    with connect(path) as con:
        con.row_factory = sqlite3.Row
        rows = con.execute("select * from stock_push_requests where status = 'pending' order by request_id")
        return [dict(row) for row in rows]


def claim_push_request(path: Path | str, request_id: int, run_id: str) -> dict[str, Any] | None:
    """Mark a pending request running (by `run_id`) and return it; None if another run claimed it first."""
    with connect(path) as con:
        con.row_factory = sqlite3.Row
        claimed = con.execute(
            "update stock_push_requests set status = 'running', run_id = ? where request_id = ? and status = 'pending'",
            (run_id, request_id),
        ).rowcount
        if not claimed:
            return None
        return dict(
            con.execute("select * from stock_push_requests where request_id = ?", (request_id,)).fetchone()
        )


def finish_push_request(
    path: Path | str, request_id: int, refused: bool, message: str, at: datetime | None = None
) -> None:
    with connect(path) as con:
        con.execute(
            "update stock_push_requests set status = ?, message = ?, finished_at = ? where request_id = ?",
            ("refused" if refused else "done", message, _now(at), request_id),
        )


def push_requests(path: Path | str, limit: int = 50) -> pd.DataFrame:
    """The latest requests, newest first."""
    if not Path(path).exists():
        return pd.DataFrame(columns=REQUEST_COLUMNS)
    with connect(path) as con:
        return pd.read_sql_query(
            "select * from stock_push_requests order by request_id desc limit ?", con, params=(limit,)
        )


# The change queue of the lean path (writeback/stock/lean.py): a counter per SKU that every change bumps. A plan
# takes the counters it starts from and, when done, marks them planned; a change that lands while the plan's
# pushes are on their way bumps the counter past what was taken, so the SKU is planned again.

EVERY_SKU = "*"
"""The change-queue key that means every SKU (a rule changed)."""
RETRY_SECONDS = 30
RETRY_MAX_SECONDS = 900
MOVEMENTS_KEPT_DAYS = 35


def _utc_text(value: datetime | str) -> str:
    stamp = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).isoformat(timespec="seconds")


def _bump(con: sqlite3.Connection, changes: dict[str, str], at: str) -> None:
    con.executemany(
        "insert into stock_changes (sku, changes, last_change, changed_at) values (?, 1, ?, ?) "
        "on conflict (sku) do update set changes = changes + 1, last_change = excluded.last_change, "
        "changed_at = excluded.changed_at",
        [(sku, what, at) for sku, what in sorted(changes.items())],
    )


def note_changes(path: Path | str, changes: dict[str, str], at: datetime | None = None) -> None:
    """Bump the change counter of each SKU in `changes` (SKU -> what changed; EVERY_SKU for all)."""
    if changes:
        with connect(path) as con:
            _bump(con, changes, _now(at))


def record_movements(path: Path | str, movements: list[dict[str, Any]], at: datetime | None = None) -> int:
    """Keep the WMS movements (the API's items) not seen before, bumping each one's SKU; returns how many were
    new. Movements older than MOVEMENTS_KEPT_DAYS are dropped (a build's closing stock counts them)."""
    seen_at = _now(at)
    rows = [
        (str(m["id"]), _utc_text(m["moved_at"]), str(m["warehouse"]), str(m["merchant_code"]), str(m["type"]),
         int(m["quantity"]), seen_at)
        for m in movements
    ]  # fmt: skip
    with connect(path) as con:
        known = set()
        for start in range(0, len(rows), 500):
            chunk = [r[0] for r in rows[start : start + 500]]
            known |= {r[0] for r in con.execute(
                f"select movement_id from stock_movements_seen where movement_id in ({', '.join('?' * len(chunk))})",
                chunk,
            )}  # fmt: skip
        new = [r for r in rows if r[0] not in known]
        con.executemany(
            "insert or ignore into stock_movements_seen "
            "(movement_id, moved_at, warehouse_id, sku, movement_type, quantity, seen_at) values (?, ?, ?, ?, ?, ?, ?)",
            new,
        )
        _bump(con, {sku: f"{kind} {qty:+d} at {wh}" for _id, _at, wh, sku, kind, qty, _s in new}, seen_at)
        oldest = (datetime.fromisoformat(seen_at) - timedelta(days=MOVEMENTS_KEPT_DAYS)).isoformat()
        con.execute("delete from stock_movements_seen where moved_at < ?", (oldest,))
    return len(new)


def movement_cursor(path: Path | str) -> datetime | None:
    """The latest moved_at of the movements seen (the lean path asks the WMS from there, minus an overlap)."""
    if not Path(path).exists():
        return None
    with connect(path) as con:
        latest = con.execute("select max(moved_at) from stock_movements_seen").fetchone()[0]
    return datetime.fromisoformat(latest) if latest else None


def movements_after(path: Path | str, since: datetime) -> dict[tuple[str, str], int]:
    """Per (SKU, warehouse): the net units the WMS moved in or out at or after `since` (the end of the
    snapshot's stock count), shipments aside: a shipped unit was sold already, and the snapshot's reserved units
    or the channels' listed stock (read back) count its sale."""
    if not Path(path).exists():
        return {}
    with connect(path) as con:
        rows = con.execute(
            "select sku, warehouse_id, sum(quantity) from stock_movements_seen "
            "where moved_at >= ? and movement_type <> 'shipment' group by sku, warehouse_id",
            (_utc_text(since),),
        ).fetchall()
    return {(sku, warehouse): int(units) for sku, warehouse, units in rows if units}


def saw_listings(
    path: Path | str, listed: dict[str, tuple[str, str, int | None]], at: datetime | None = None,
    bump: bool = False,
) -> dict[str, str]:  # fmt: skip
    """Record what each listing (id -> (shop, SKU, units)) lists now. With `bump`, a listing whose units differ
    from what was seen last (an order took units, someone edited it on the platform) bumps its SKU; returns
    those SKUs with what changed. A listing seen for the first time is only recorded."""
    seen_at = _now(at)
    changed: dict[str, str] = {}
    with connect(path) as con:
        if bump:
            ids = list(listed)
            before: dict[str, int | None] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                before |= dict(con.execute(
                    f"select listing_id, listed from stock_listings_seen where listing_id in ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall())  # fmt: skip
            for listing_id, (shop_id, sku, units) in sorted(listed.items()):
                if listing_id in before and before[listing_id] != units:
                    changed[sku] = f"{shop_id} lists {units} (was {before[listing_id]})"
            _bump(con, changed, seen_at)
        con.executemany(
            "insert into stock_listings_seen (listing_id, shop_id, sku, listed, seen_at) values (?, ?, ?, ?, ?) "
            "on conflict (listing_id) do update set listed = excluded.listed, seen_at = excluded.seen_at",
            [(i, shop, sku, units, seen_at) for i, (shop, sku, units) in listed.items()],
        )
    return changed


def dirty_skus(path: Path | str, at: datetime | None = None) -> dict[str, int]:
    """The SKUs changed since their last plan (SKU -> its counter now), those backing off after a failed push
    aside until their time comes."""
    if not Path(path).exists():
        return {}
    with connect(path) as con:
        rows = con.execute(
            "select sku, changes from stock_changes where changes > planned "
            "and (retry_after is null or retry_after <= ?) order by sku",
            (_now(at),),
        ).fetchall()
    return {sku: int(changes) for sku, changes in rows}


def mark_planned(
    path: Path | str, taken: dict[str, int], failed: set[str], at: datetime | None = None
) -> None:
    """A plan of the SKUs `taken` (SKU -> the counter it started from) is done: each is planned up to that
    counter (a change since stays queued), except those in `failed` (a push failed): they are planned again
    after RETRY_SECONDS, doubling with each failure in a row up to RETRY_MAX_SECONDS."""
    now = at or datetime.now(UTC)
    with connect(path) as con:
        con.executemany(
            "update stock_changes set planned = max(planned, ?), failures = 0, retry_after = null where sku = ?",
            [(counter, sku) for sku, counter in taken.items() if sku not in failed],
        )
        _bump(con, {sku: "its push failed" for sku in failed if sku not in taken}, _now(now))
        for sku in sorted(failed):
            failures = con.execute("select failures from stock_changes where sku = ?", (sku,)).fetchone()[0]
            wait = min(RETRY_MAX_SECONDS, RETRY_SECONDS * 2 ** int(failures))
            con.execute(
                "update stock_changes set failures = failures + 1, retry_after = ? where sku = ?",
                (_now(now + timedelta(seconds=wait)), sku),
            )


def change_queue(path: Path | str) -> pd.DataFrame:
    """The change counters, most recently changed first (the stock page's "waiting to be planned")."""
    columns = ["sku", "changes", "planned", "failures", "retry_after", "last_change", "changed_at"]
    if not Path(path).exists():
        return pd.DataFrame(columns=columns)
    with connect(path) as con:
        return pd.read_sql_query(
            f"select {', '.join(columns)} from stock_changes order by changed_at desc", con
        )
