"""Purchase orders from draft to receipt, kept in the ops store (writeback/ops_store.py's `purchase_orders`,
`purchase_order_lines`, `purchase_order_events`).

    draft ──approve──► approved ──send──► sent ──confirm──► confirmed ──receive──► partially_received ──► received
      └────────────────┴──────────────────┴─────────────────┴──cancel (a reason)──► cancelled          close ─► closed

- A state changes only through a command here (`approve`, `mark_sent`, `confirm`, `receive`, `close`, `cancel`),
  each recorded as an event with who and when; a command the state does not allow raises `IllegalTransition`
  naming the order, its state and what is allowed, and changes nothing.
- The supplier confirms what it will deliver (`confirm`: accepted quantities, possibly fewer, and its promised
  date); a supplier that rejects the whole order cancels it with its reason. Receipts (from the WMS) move a
  confirmed order to partially received and, once every confirmed unit is in, to received; `close` ends an order
  that will get no more (the rest is not coming).
- PO numbers are `PO-<yyyymmdd>-<nnnn>`, counted per day in the ops store (`purchase_order_numbers`) in the same
  transaction as the order: never reused, a cancelled order keeps its number. A draft of the replenishment page
  becomes at most one order (`source_draft_id` is unique): asking again returns the same order.

Plain Python over sqlite3, no I/O beyond the ops store: sending is writeback/purchasing/send.py.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from writeback.ops_store import OpsStoreError, connect

STATES = ("draft", "approved", "sent", "confirmed", "partially_received", "received", "closed", "cancelled")
OPEN = ("sent", "confirmed", "partially_received")
"""States whose undelivered units are on order."""

TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {"draft": "approved"},
    "send": {"approved": "sent"},
    "confirm": {"sent": "confirmed"},
    "receive": {"sent": "partially_received", "confirmed": "partially_received", "partially_received": "partially_received"},
    "close": {"partially_received": "closed", "received": "closed"},
    "cancel": {"draft": "cancelled", "approved": "cancelled", "sent": "cancelled", "confirmed": "cancelled"},
}  # fmt: skip
"""command -> {state it may start from: state it leads to}; `receive` leads to `received` once every unit the
supplier confirmed (or, unconfirmed, every unit ordered) is in."""


DONE = {"approve": "approved", "send": "sent", "confirm": "confirmed", "receive": "received", "close": "closed",
        "cancel": "cancelled"}  # fmt: skip


class IllegalTransition(OpsStoreError):
    """The command is not allowed in the order's state."""


class UnknownOrder(OpsStoreError):
    pass


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price: str | None = None
    """Decimal text in the supplier's currency."""
    confirmed: int | None = None
    received: int = 0


@dataclass(frozen=True)
class PurchaseOrder:
    po_number: str
    supplier_id: str
    state: str
    version: int
    created_by: str
    created_at: str
    currency: str = "CNY"
    expected_date: str | None = None
    promised_date: str | None = None
    source_draft_id: str | None = None
    note: str | None = None
    warehouse_id: str | None = None
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def outstanding(self) -> dict[str, int]:
        """Units still to come per SKU: confirmed (else ordered) less received; none once closed or cancelled."""
        if self.state not in OPEN:
            return {}
        return {
            line.sku: max(
                0, (line.confirmed if line.confirmed is not None else line.quantity) - line.received
            )
            for line in self.lines
        }


def _now(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def _who(by: str) -> str:
    if not isinstance(by, str) or not by.strip():
        raise OpsStoreError("say who does it (by)")
    return by.strip()


def _event(con: sqlite3.Connection, po: str, command: str, before: str | None, after: str, by: str, at: str,
           detail: dict[str, Any] | None = None) -> None:  # fmt: skip
    con.execute(
        "insert into purchase_order_events (po_number, command, from_state, to_state, changed_by, changed_at, detail) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        (po, command, before, after, by, at, json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None),
    )  # fmt: skip


def create(
    path: Path | str, supplier_id: str, lines: list[Line], by: str, *, currency: str = "CNY",
    expected_date: date | None = None, source_draft_id: str | None = None, note: str | None = None,
    warehouse_id: str | None = None, at: datetime | None = None,
) -> PurchaseOrder:  # fmt: skip
    """A new order in `draft` with the next number of the day; for a `source_draft_id` already turned into an
    order, that order."""
    by = _who(by)
    if not lines:
        raise OpsStoreError(f"a purchase order to {supplier_id} needs at least one line")
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise OpsStoreError(f"a purchase order to {supplier_id} lists a SKU twice: {sorted(skus)}")
    for line in lines:
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity <= 0:
            raise OpsStoreError(
                f"{line.sku}: the quantity must be a whole number above 0 (got {line.quantity!r})"
            )
    stamp = _now(at)
    with connect(path) as con:
        if source_draft_id:
            found = con.execute(
                "select po_number from purchase_orders where source_draft_id = ?", (source_draft_id,)
            ).fetchone()
            if found:
                return _read(con, found[0])
        day = stamp[:10].replace("-", "")
        con.execute(
            "insert into purchase_order_numbers (day, last) values (?, 1) "
            "on conflict (day) do update set last = last + 1",
            (day,),
        )
        number = con.execute("select last from purchase_order_numbers where day = ?", (day,)).fetchone()[0]
        po = f"PO-{day}-{number:04d}"
        con.execute(
            "insert into purchase_orders (po_number, supplier_id, warehouse_id, state, version, created_by, created_at, "
            "currency, expected_date, source_draft_id, note) values (?, ?, ?, 'draft', 1, ?, ?, ?, ?, ?, ?)",
            (po, supplier_id, warehouse_id, by, stamp, currency, expected_date.isoformat() if expected_date else None,
             source_draft_id, note),
        )  # fmt: skip
        con.executemany(
            "insert into purchase_order_lines (po_number, sku, quantity, unit_price) values (?, ?, ?, ?)",
            [(po, line.sku, line.quantity, line.unit_price) for line in lines],
        )
        _event(con, po, "create", None, "draft", by, stamp, {"lines": len(lines), "draft": source_draft_id})
        return _read(con, po)


def _read(con: sqlite3.Connection, po: str) -> PurchaseOrder:
    con.row_factory = sqlite3.Row
    row = con.execute("select * from purchase_orders where po_number = ?", (po,)).fetchone()
    if row is None:
        raise UnknownOrder(f"there is no purchase order {po}")
    lines = tuple(
        Line(r["sku"], int(r["quantity"]), r["unit_price"], r["confirmed"], int(r["received"]))
        for r in con.execute("select * from purchase_order_lines where po_number = ? order by sku", (po,))
    )
    keys = ("po_number", "supplier_id", "state", "version", "created_by", "created_at", "currency",
            "expected_date", "promised_date", "source_draft_id", "note", "warehouse_id")  # fmt: skip
    return PurchaseOrder(**{k: row[k] for k in keys}, lines=lines)


def get(path: Path | str, po: str) -> PurchaseOrder:
    with connect(path) as con:
        return _read(con, po)


def orders(path: Path | str, states: tuple[str, ...] | None = None) -> list[PurchaseOrder]:
    """Every order (of `states`), newest number first."""
    if not Path(path).exists():
        return []
    with connect(path) as con:
        numbers = [r[0] for r in con.execute("select po_number from purchase_orders order by po_number desc")]
        found = [_read(con, po) for po in numbers]
    return [o for o in found if states is None or o.state in states]


def history(path: Path | str, po: str) -> list[dict[str, Any]]:
    """The order's events, oldest first."""
    with connect(path) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(
            "select * from purchase_order_events where po_number = ? order by event_id", (po,))]  # fmt: skip


def _move(
    path: Path | str, po: str, command: str, by: str, at: datetime | None, expected_version: int | None,
    change, detail: dict[str, Any] | None = None,
) -> PurchaseOrder:  # fmt: skip
    """Apply `command` to `po` in one transaction: check the state allows it (and the version, when given), run
    `change(con, order) -> the new state`, bump the version, record the event."""
    by, stamp = _who(by), _now(at)
    with connect(path) as con:
        con.execute("begin immediate")  # two senders or managers at once: one waits, then sees the new state
        order = _read(con, po)
        allowed = TRANSITIONS[command]
        if order.state not in allowed:
            raise IllegalTransition(
                f"{po} is {order.state}: it cannot be {DONE[command]} (only when {' or '.join(allowed)})"
            )
        if expected_version is not None and order.version != expected_version:
            raise IllegalTransition(
                f"{po} changed since you loaded it (now version {order.version}, you saw {expected_version}); reload it"
            )
        after = change(con, order) or allowed[order.state]
        con.execute(
            "update purchase_orders set state = ?, version = version + 1 where po_number = ?", (after, po)
        )
        _event(con, po, command, order.state, after, by, stamp, detail)
        return _read(con, po)


def approve(path: Path | str, po: str, by: str, *, at: datetime | None = None,
            expected_version: int | None = None) -> PurchaseOrder:  # fmt: skip
    return _move(path, po, "approve", by, at, expected_version, lambda con, order: None)


def mark_sent(
    path: Path | str, po: str, by: str, *, at: datetime | None = None, channel: str = "webhook"
) -> PurchaseOrder:
    """The supplier has the order (its channel said so)."""
    return _move(path, po, "send", by, at, None, lambda con, order: None, {"channel": channel})


def confirm(
    path: Path | str, po: str, accepted: dict[str, int], promised_date: date | None, by: str, *,
    at: datetime | None = None,
) -> PurchaseOrder:  # fmt: skip
    """The supplier's confirmation: units accepted per SKU (a SKU it does not name: 0) and its promised date. A
    confirmation of nothing at all cancels the order (the supplier rejected it)."""

    def change(con: sqlite3.Connection, order: PurchaseOrder) -> str | None:
        ordered = {line.sku: line.quantity for line in order.lines}
        unknown = sorted(set(accepted) - set(ordered))
        if unknown:
            raise OpsStoreError(f"{po}: the supplier confirmed SKUs the order does not have: {unknown}")
        for sku, quantity in ordered.items():
            units = int(accepted.get(sku, 0))
            if units < 0 or units > quantity:
                raise OpsStoreError(f"{po}: {sku} confirmed {units} of {quantity} ordered")
            con.execute(
                "update purchase_order_lines set confirmed = ? where po_number = ? and sku = ?",
                (units, po, sku),
            )
        con.execute(
            "update purchase_orders set promised_date = ? where po_number = ?",
            (promised_date.isoformat() if promised_date else None, po),
        )
        return "cancelled" if not any(accepted.values()) else None

    return _move(path, po, "confirm", by, at, None, change,
                 {"accepted": accepted, "promised_date": promised_date.isoformat() if promised_date else None})  # fmt: skip


def receive(
    path: Path | str, po: str, received: dict[str, int], by: str, *, at: datetime | None = None
) -> PurchaseOrder:
    """Units received per SKU (a WMS receipt): partially received, or received once every unit due is in."""

    def change(con: sqlite3.Connection, order: PurchaseOrder) -> str:
        lines = {line.sku: line for line in order.lines}
        for sku, units in received.items():
            if sku not in lines:
                raise OpsStoreError(f"{po}: a receipt of {sku}, which the order does not have")
            if int(units) <= 0:
                raise OpsStoreError(f"{po}: a receipt of {units} units of {sku}")
            con.execute(
                "update purchase_order_lines set received = received + ? where po_number = ? and sku = ?",
                (int(units), po, sku),
            )
        done = all(
            line.received + int(received.get(sku, 0)) >= (line.confirmed if line.confirmed is not None else line.quantity)
            for sku, line in lines.items()
        )  # fmt: skip
        return "received" if done else "partially_received"

    return _move(path, po, "receive", by, at, None, change, {"received": received})


def close(
    path: Path | str, po: str, by: str, reason: str | None = None, *, at: datetime | None = None
) -> PurchaseOrder:
    return _move(
        path, po, "close", by, at, None, lambda con, order: None, {"reason": reason} if reason else None
    )


def cancel(path: Path | str, po: str, reason: str, by: str, *, at: datetime | None = None) -> PurchaseOrder:
    if not isinstance(reason, str) or not reason.strip():
        raise OpsStoreError(f"{po}: say why it is cancelled")
    return _move(path, po, "cancel", by, at, None, lambda con, order: None, {"reason": reason.strip()})


def from_decisions(
    path: Path | str, drafts: Any, by: str = "replenishment page", warehouses: dict[str, str] | None = None,
    default_warehouse: str | None = None,
) -> list[PurchaseOrder]:  # fmt: skip
    """An approved order for each replenishment draft (rows of marts.purchase_order_drafts) with approved or
    edited lines in the ops store's decisions (writeback/ops_store.py), at the approved quantities and the draft's
    prices; returns the orders it made: a draft already made into an order is left alone (created once,
    `source_draft_id`). Rejected and undecided lines are not ordered. Each is delivered to its supplier's
    warehouse in `warehouses`, else `default_warehouse`."""
    import pandas as pd

    from writeback.ops_store import current_decisions

    if drafts is None or len(drafts) == 0:
        return []
    decided = current_decisions(path, sorted(set(drafts["draft_id"])))
    decided = decided[decided["status"] != "rejected"]
    already = {o.source_draft_id for o in orders(path)}
    made = []
    for draft_id, lines in decided.groupby("draft_id", sort=True):
        if draft_id in already:
            continue
        draft = drafts[drafts["draft_id"] == draft_id]
        price = dict(zip(draft["sku"], draft["unit_price_cny"], strict=True))
        first = draft.iloc[0]
        order = create(
            path, str(first["supplier_id"]),
            [Line(str(sku), int(qty), None if pd.isna(price.get(sku)) else f"{price[sku]:.2f}")
             for sku, qty in zip(lines["sku"], lines["approved_qty"], strict=True)],
            by, currency=str(first["currency"]), source_draft_id=str(draft_id),
            warehouse_id=(warehouses or {}).get(str(first["supplier_id"])) or default_warehouse,
            expected_date=None if pd.isna(first["expected_date"]) else pd.Timestamp(first["expected_date"]).date(),
        )  # fmt: skip
        if order.state == "draft":
            order = approve(path, order.po_number, by)
        made.append(order)
    return made


def apply_receipts(
    path: Path | str, receipts: list[dict[str, Any]], by: str = "wms receipts"
) -> list[PurchaseOrder]:
    """The WMS's goods receipts (its API's items: `po_number`, `merchant_code`, `quantity`) against shopkeep's
    open orders: each line's received units become the WMS's total for it, so a receipt seen twice counts once,
    moving the order to partially received or received. Receipts of other orders (the WMS's own POs) are left
    alone. Returns the orders that changed."""
    totals: dict[tuple[str, str], int] = {}
    for receipt in receipts:
        key = (str(receipt["po_number"]), str(receipt["merchant_code"]))
        totals[key] = totals.get(key, 0) + int(receipt["quantity"])
    changed = []
    for order in orders(path, ("sent", "confirmed", "partially_received")):
        received = {line.sku: line.received for line in order.lines}
        delta = {
            sku: totals[(order.po_number, sku)] - units
            for sku, units in received.items()
            if totals.get((order.po_number, sku), 0) > units
        }
        if delta:
            changed.append(receive(path, order.po_number, delta, by))
    return changed
