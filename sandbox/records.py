"""What every channel sandbox reads from the world the same way: one shop's rows, their values, the sandbox clock
and an order's timeline as of that clock.

The world (sandbox/world.py) keeps timestamps as UTC pandas Timestamps, money as Decimal and ids as strings, with
None/NaT/NaN where a value is missing. The channel servers (shopify, taobao, jd, pinduoduo, douyin) each turn them
into their platform's formats; what does not depend on the platform is here:

- `utc_moment`: a world timestamp -> aware UTC datetime at second precision (None when missing);
- `money`: an amount as a decimal string with 2 places ("0.00" when missing), `decimal_money` the same as a Decimal,
  `fen`: whole fen (0 when missing);
- `text` ("" when missing) and `optional_text` (None when missing: Shopify sends null where the marketplaces send
  an empty string);
- `records`: the rows of a table of one shop, `lines_by_order`: a shop's order lines per order,
  `stock_on_hand` and `listed_stock`: the units on hand and listed per master SKU (kits: buildable);
- `Clocked`: the sandbox clock, pinned (`now`) or the wall clock at second precision;
- `Timeline`: one order as the clock shows it (`at(column, now)`, `updated_at(now)`), and `OrderIndex`: the
  orders the clock shows, sorted the channel's way.

Each server keeps its own time format (Shopify's ISO with the shop's offset, Taobao's and JD's GMT+8 strings,
Pinduoduo's `gmt8`, Douyin's unix seconds), its state names and which moments change an order on its platform.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import UnionType
from typing import Any, Generic, Self, TypeVar

import pandas as pd

from sandbox.world import World

CENT = Decimal("0.01")
ORDER_MOMENTS = ("paid_at", "shipped_at", "completed_at", "cancelled_at", "updated_at")
"""The order row's timestamps after its creation."""


# ---------------------------------------------------------------------------------------------------------- #
# values


def _missing(value: Any, kind: type | UnionType) -> bool:
    """None, or NaT/NaN for a value that is not already of `kind` (a Decimal NaN stays a value)."""
    return value is None or (not isinstance(value, kind) and pd.isna(value))


def utc_moment(value: Any) -> datetime | None:
    """World timestamp -> aware UTC datetime at second precision (None for None/NaT)."""
    if _missing(value, str | datetime):
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.floor("s").to_pydatetime()


def money(value: Any) -> str:
    """An amount (Decimal, number or string) -> "12.30"; "0.00" when missing."""
    if _missing(value, Decimal):
        return "0.00"
    return str(Decimal(str(value)).quantize(CENT))


def decimal_money(value: Any) -> Decimal:
    """`money` as a Decimal with 2 places."""
    return Decimal(money(value))


def fen(value: Any) -> int:
    """Yuan (Decimal) -> whole fen; 0 when missing."""
    if _missing(value, Decimal):
        return 0
    return int((Decimal(str(value)) * 100).quantize(Decimal(1)))


def text(value: Any) -> str:
    """The value as a string; '' when missing."""
    return "" if _missing(value, str) else str(value)


def optional_text(value: Any) -> str | None:
    """The value as a string; None when missing (an empty string stays '')."""
    return None if _missing(value, str) else str(value)


# ---------------------------------------------------------------------------------------------------------- #
# rows


def records(world: World, table: str, shop_id: str | None) -> list[dict]:
    """The rows of `table` as dicts: `shop_id`'s own when the table has shops, every row for shop_id None."""
    frame = world.tables.get(table)
    if frame is None or frame.empty:
        return []
    if shop_id is not None and "shop_id" in frame.columns:
        frame = frame[frame["shop_id"] == shop_id]
    return frame.to_dict("records")


def lines_by_order(world: World, shop_id: str) -> dict[str, list[dict]]:
    """The shop's order lines per order id, each order's sorted by line id."""
    lines: dict[str, list[dict]] = {}
    for line in records(world, "order_lines", shop_id):
        lines.setdefault(str(line["order_id"]), []).append(line)
    return {order_id: sorted(rows, key=lambda line: str(line["line_id"])) for order_id, rows in lines.items()}


def stock_on_hand(world: World) -> dict[str, int]:
    """Units on hand per master SKU on the latest stock snapshot, summed over the warehouses."""
    snapshots = world.tables.get("stock_snapshots")
    if snapshots is None or snapshots.empty:
        return {}
    latest = snapshots[snapshots["snapshot_date"] == snapshots["snapshot_date"].max()]
    return {str(k): int(v) for k, v in latest.groupby("sku")["on_hand"].sum().items()}


def listed_stock(world: World) -> Callable[[str], int]:
    """The units a shop lists of a master SKU at the start: its units on hand, or for a kit (组合装, no stock of
    its own) as many as its components build."""
    on_hand = stock_on_hand(world)
    kits: dict[str, list[tuple[str, int]]] = {}
    for row in records(world, "kit_components", None):
        kits.setdefault(str(row["kit_sku"]), []).append((str(row["component_sku"]), int(row["quantity"])))

    def units(sku: str) -> int:
        if sku in kits:
            return min(on_hand.get(c, 0) // max(q, 1) for c, q in kits[sku])
        return on_hand.get(sku, 0)

    return units


# ---------------------------------------------------------------------------------------------------------- #
# the clock and the orders as of it


class Clocked:
    """A sandbox with a clock: `now` when pinned (tests move it), else the wall clock at second precision."""

    now: datetime | None

    def clock(self) -> datetime:
        return self.now or datetime.now(UTC).replace(microsecond=0)


@dataclass(kw_only=True)
class Timeline:
    """One order as the clock shows it: its world row and lines, when it was created, when each of its moment
    columns happened (None: never) and every moment it changed, sorted (creation first).

    A channel subclasses it for what only it carries (its order id, its refunds, its state names)."""

    row: dict
    lines: list[dict]
    created_at: datetime
    moments: dict[str, datetime | None]
    events: list[datetime]

    @classmethod
    def of(
        cls,
        row: dict,
        lines: list[dict],
        *,
        columns: Sequence[str] = ORDER_MOMENTS,
        changes: Iterable[datetime] = (),
        **fields: Any,
    ) -> Self:
        """The timeline of a world order row. `columns` are the row's moments the channel shows, each an event;
        `changes` are further moments the order changed at on the channel (its refunds, where the platform counts
        them). A moment before the creation is no event: the order is not shown before it was created, so such a
        moment could never be its latest change."""
        created = utc_moment(row["created_at"])
        at = {column: utc_moment(row.get(column)) for column in columns}
        events = {created, *changes, *(m for m in at.values() if m is not None)}
        return cls(
            row=row,
            lines=lines,
            created_at=created,
            moments=at,
            events=sorted(e for e in events if e >= created),
            **fields,
        )

    def at(self, column: str, now: datetime) -> datetime | None:
        """The moment `column` happened, if it happened by `now`."""
        happened = self.moments.get(column)
        return happened if happened is not None and happened <= now else None

    def updated_at(self, now: datetime) -> datetime:
        """The order's latest change up to `now` (the order must have been created by then)."""
        return self.events[bisect_right(self.events, now) - 1]


Order = TypeVar("Order", bound=Timeline)


class OrderIndex(Generic[Order]):
    """The orders created by the clock, sorted by `key(order, now)` (a tuple that ends in a unique id); the sort
    is redone only when the clock has passed another of the orders' events."""

    def __init__(self, orders: Sequence[Order], key: Callable[[Order, datetime], tuple]) -> None:
        self.orders = orders
        self.key = key
        self.events = sorted(e for o in orders for e in o.events)
        self._events_seen: int | None = None
        self._index: tuple[list[tuple], list[Order]] = ([], [])

    def at(self, now: datetime) -> tuple[list[tuple], list[Order]]:
        """(sort keys, orders) as of `now`."""
        seen = bisect_right(self.events, now)
        if seen != self._events_seen:
            rows = sorted(
                ((self.key(o, now), o) for o in self.orders if o.created_at <= now), key=lambda r: r[0]
            )
            self._index = ([k for k, _ in rows], [o for _, o in rows])
            self._events_seen = seen
        return self._index


def fault_endpoint(state):
    """`POST /_sandbox/fail {"mode": ..., "times": n}` (test-only, no auth): the next `n` orders a sender sends meet
    the fault `mode` (each server says which it knows); `state` has a `lock` and a `faults` list."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def fail(request: Request) -> JSONResponse:
        payload = await request.json()
        with state.lock:
            state.faults += [payload["mode"]] * int(payload.get("times", 1))
        return JSONResponse({"ok": True})

    return fail
