"""The lean path: a stock change reaches every channel within a minute, without a build.

Between two builds the published snapshot does not move, but two things change what a SKU may list: the
warehouse moves stock (a receipt, a return to stock, a count adjustment) and the channels sell it (an order
takes listed units on its platform). The lean path watches both and re-plans only the SKUs they touched:

1. **Look** (`look_for_changes`, cheap enough to run every few seconds): ask the WMS for its movements since
   the last one seen (minus an overlap; each counted once by its id) and read back what every listing lists
   now. Each new movement, and each listing that lists another quantity than shopkeep last read or set,
   bumps its SKU's change counter in the ops store (store.note_changes and friends). So do a lock's edit (its
   SKU) and a rule's (every SKU).
2. **Plan and push** (`run_lean_sync`): take the SKUs whose counter is past what was last planned, with the
   counters as taken, and run stock sync for them and what shares their stock (kits and components) from the
   published positions plus the movements seen after the snapshot's stock count (sync.with_changes_since_count).
   When done, each SKU is marked planned up to the counter taken: a change that landed while the pushes were
   on their way has bumped it further, so the SKU is planned again by the next run. A SKU whose push failed
   stays queued and is tried again after a back-off (store.mark_planned).

The full plan after each build plans every SKU from the new snapshot and so reconciles whatever the lean path
did. Dagster runs the two steps as a sensor and a job (orchestration/writeback.py); both are plain functions
here so that tests and the bench call them directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from connectors.common.stock import StockWriter
from writeback.stock import store
from writeback.stock.rules import Rule
from writeback.stock.sync import Mode, SyncResult, as_seen, read_back, read_inputs, sync

OVERLAP = timedelta(minutes=10)
"""How far before the last movement seen the WMS is asked again: a movement recorded late (its moved_at in the
past) is still found; one listed twice is counted once."""


class Movements(Protocol):
    def movements(self, since: datetime | None = None) -> Iterator[list[dict]]: ...


@dataclass
class Changes:
    """What one look found."""

    movements: int = 0
    """New WMS movements."""
    listings: dict[str, str] = field(default_factory=dict)
    """SKUs whose listed quantity changed on a channel -> what changed."""
    unread: dict[str, str] = field(default_factory=dict)
    """Shops that could not be read -> why."""
    dirty: dict[str, int] = field(default_factory=dict)
    """Every SKU waiting to be planned -> its change counter."""


def look_for_changes(
    wms: Movements,
    writers: Mapping[str, StockWriter],
    serve_path: Path,
    ops_path: Path,
    now: datetime | None = None,
) -> Changes:
    """Record the movements and sales since the last look as changes of their SKUs (see the module)."""
    now = now or datetime.now(UTC)
    inputs = read_inputs(serve_path)
    cursor = store.movement_cursor(ops_path)
    since = inputs.counted_until
    if cursor is not None and (since is None or cursor - OVERLAP > since):
        since = cursor - OVERLAP
    found = 0
    if since is not None:  # without a stock count there is nothing to add movements to
        for page in wms.movements(since):
            found += store.record_movements(ops_path, page, now)
    listings = inputs.listings[inputs.listings["shop_id"].isin(writers.keys())]
    listed, unread = read_back(listings, writers)
    sold = store.saw_listings(ops_path, as_seen(listings, listed), now, bump=True)
    return Changes(found, sold, unread, store.dirty_skus(ops_path, now))


def run_lean_sync(
    serve_path: Path,
    ops_path: Path,
    writers: Mapping[str, StockWriter],
    config_rules: list[Rule],
    *,
    safety_buffer: int = 0,
    now: datetime | None = None,
    mode: Mode = "automatic",
    pushable: Iterable[str] | None = None,
) -> tuple[dict[str, int], SyncResult | None]:
    """Plan and push the SKUs waiting in the change queue; returns them (SKU -> counter taken) and the sync's
    result (None when nothing was waiting)."""
    now = now or datetime.now(UTC)
    taken = store.dirty_skus(ops_path, now)
    if not taken:
        return taken, None
    skus = None if store.EVERY_SKU in taken else set(taken)
    result = sync(
        serve_path, ops_path, writers, config_rules, safety_buffer=safety_buffer, now=now, dry_run=False,
        mode=mode, skus=skus, pushable=set(pushable) if pushable is not None else None,
    )  # fmt: skip
    failed = {p["sku"] for p in result.pushed if not p["ok"]}
    store.mark_planned(ops_path, taken, failed, now)
    return taken, result
