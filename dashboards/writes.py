"""Every write a dashboard page makes to the ops store, each checking the session's role first (`access.require`):
a role that lacks the action is refused here, whatever the page drew, and nothing is written. Each records who
acted: the logged-in user's e-mail; on open dashboards (no [access]) the name typed on the page, as before.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from dashboards import access
from writeback import ops_store as ops
from writeback.stock import store as stock_store
from writeback.stock.rules import Lock, Rule


def _who(action: str, typed: str | None = None) -> str:
    """Who to record: the logged-in user's e-mail, else (open dashboards) the name typed on the page."""
    who = access.require(action)
    return who.user or (typed or "").strip()


def decide_po(path: Path | str, decision: ops.Decision, seen: int | None) -> int:
    """Record a manager's decision on a purchase-order draft line (ops.record), naming who decided."""
    by = _who(access.DECIDE_PO)
    return ops.record(path, ops.Decision(**{**decision.__dict__, "decided_by": by or None}), seen=seen)


def set_target(path: Path | str, *, shop_id: str, month: date, **values: Any) -> int:
    """Record a shop's targets for a month (ops.set_target), set by the logged-in user (open: "manager")."""
    by = _who(access.SET_TARGETS) or "manager"
    return ops.set_target(path, shop_id=shop_id, month=month, set_by=by, **values)


def save_rule(
    path: Path | str, definition: dict[str, Any], typed_by: str, expected_version: int, note: str | None
) -> Rule:
    """Save a version of a stock rule (stock_store.save_rule)."""
    by = _who(access.EDIT_STOCK, typed_by)
    return stock_store.save_rule(path, definition, by, expected_version, note=note)


def save_lock(
    path: Path | str,
    lock_id: str,
    sku: str,
    shop_id: str,
    quantity: int,
    until: datetime,
    typed_by: str,
    expected_version: int,
    note: str | None,
) -> Lock:
    """Save a version of a stock lock (stock_store.save_lock)."""
    by = _who(access.EDIT_STOCK, typed_by)
    return stock_store.save_lock(
        path, lock_id, sku, shop_id, quantity, until, by, expected_version, note=note
    )


def request_push(path: Path | str, typed_by: str, snapshot: str | None, shops: list[str] | None) -> int:
    """Ask Dagster to push the stock plan of `snapshot` (stock_store.request_push)."""
    by = _who(access.PUSH_STOCK, typed_by)
    return stock_store.request_push(path, by, snapshot, shops)
