"""Stock sync: plan from the published marts, diff against what the channels list, push the changes, audit.

1. **Inputs** (serve.duckdb, read-only): stock per SKU × warehouse (marts.inventory_health_by_warehouse: on hand,
   reserved, on order), the listings with their platform ids (marts.channel_listings), categories and kits
   (marts.skus, marts.kit_components), unpaid order units (marts.open_order_units); rules and locks from
   shopkeep.toml and the ops store. On hand also takes the WMS movements the lean path (lean.py) has seen after
   the snapshot's stock count (`stock_counted_until`): receipts, returns and adjustments; not shipments, whose
   sales the snapshot's reserved units or the channels' listings (read back) count already.
2. **Plan** (plan.py) per SKU × shop; a shop that lists one SKU in several listings has the planned units
   split over them (never the same units twice).
3. **Diff**: a listing is pushed when its planned quantity differs from what the channel lists now (the last
   pull, or the last confirmed push planned from that same pull), or when its last push failed. Nothing else
   is sent; a SKU no warehouse keeps a record of (and no kit of stocked components) is left alone ("not
   stocked"): shopkeep does not know its stock, so it neither lists nor delists it.
4. **Read back, then plan and push** through each shop's `StockWriter` (connectors/common/stock.py). Before a
   push run plans, every listing of every shop it can reach is read from its platform (`read_many`). What each
   channel sold since the listing was pulled (`sold_since_pull`: the drops of its listed quantity between
   shopkeep's own sets) is reserved out of the snapshot's stock (`plan.with_sales`), since the snapshot knows
   none of those orders yet, and the plan is compared with what the channels list now. A shop that cannot be
   read is not pushed, and what it listed last is reserved (it may all sell). The pushes send the change from
   what was read where the platform takes a change (an order landing meanwhile still counts) and a level where
   it does not (JD, read again just before). A shop's changes go in as few calls as its platform takes
   (`set_many`: Taobao's batch of 20 SKUs of an item), the shops at once (each platform has its own rate
   limit); each push is audited in the ops
   store before it is sent (`pending`) and after (`ok` / `failed` with the platform's words). A run killed in
   between leaves `pending` rows: the next run marks them `interrupted` and plans again, and the absolute
   sets (Douyin: the same idempotency id is never reused for another quantity) make that safe.

`dry_run` (the default of `shopkeep stock plan`) plans and diffs without sending or recording anything.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from connectors.common.errors import ChannelError
from connectors.common.stock import ListingAddress, StockResult, StockWriter
from connectors.common.warehouse import open_published
from writeback.stock import store
from writeback.stock.plan import PlanLine, Position, Target, plan, split, with_movements, with_sales
from writeback.stock.rules import Lock, Rule

Mode = Literal["manual", "automatic"]

PLAN_COLUMNS = [
    "shop_id", "sku", "listing_id", "rule", "rule_version", "stock", "wanted", "allocated", "locked", "planned",
    "over_allocated", "listed", "change", "action", "reason", "why", "failures_in_a_row",
]  # fmt: skip


@dataclass(frozen=True)
class Inputs:
    positions: list[Position]
    listings: pd.DataFrame
    categories: dict[str, str | None]
    kits: dict[str, list[tuple[str, int]]]
    orders: dict[str, dict[str, int]]
    published_at: str | None
    """The snapshot's identity: max(published_at) of meta.publish_log, ISO 8601 (as the dashboards record it)."""
    counted_until: datetime | None = None
    """The instant up to which the snapshot's on hand counts the WMS's movements (the end of its stock date)."""


def read_inputs(serve_path: Path | str) -> Inputs:
    """The plan's inputs from the published snapshot (read-only)."""
    with open_published(serve_path) as con:
        stock = con.execute(
            "select sku, warehouse_id, on_hand, reserved, coalesce(on_order, 0) "
            "from marts.inventory_health_by_warehouse"
        ).fetchall()
        listings = con.execute(
            "select listing_id, shop_id, channel, sku, is_kit, platform_product_id, platform_sku_id, outer_id, "
            "platform_stock_item_id, platform_location_id, listed_quantity, fetched_at "
            "from marts.channel_listings where is_mapped order by listing_id"
        ).df()
        categories = dict(con.execute("select sku, category from marts.skus").fetchall())
        kits: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for kit, component, quantity in con.execute(
            "select kit_sku, component_sku, quantity from marts.kit_components order by kit_sku, component_sku"
        ).fetchall():
            kits[kit].append((component, int(quantity)))
        orders = {
            sku: {"unpaid_orders": int(units)}
            for sku, units in con.execute("select sku, unpaid_units from marts.open_order_units").fetchall()
        }
        published = con.execute("select max(published_at) from meta.publish_log").fetchone()[0]
        has_cutoff = con.execute(
            "select count(*) from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'inventory_health_by_warehouse' and column_name = 'stock_counted_until'"
        ).fetchone()[0]  # a snapshot published by an older shopkeep has none: no movements are added
        counted_until = (
            con.execute(
                "select max(stock_counted_until) from marts.inventory_health_by_warehouse"
            ).fetchone()[0]
            if has_cutoff
            else None
        )
    positions = [
        Position(sku, warehouse, on_hand=int(on_hand), reserved=int(reserved), in_transit=int(on_order))
        for sku, warehouse, on_hand, reserved, on_order in stock
    ]
    return Inputs(
        positions, listings, categories, dict(kits), orders, published.isoformat() if published else None,
        counted_until,
    )  # fmt: skip


def affected_skus(skus: set[str], kits: Mapping[str, list[tuple[str, int]]]) -> set[str]:
    """`skus` with what shares their stock: a kit's components, and every kit holding one of those."""
    affected = set(skus)
    for kit in skus & set(kits):
        affected |= {component for component, _ in kits[kit]}
    affected |= {kit for kit, components in kits.items() if any(c in affected for c, _ in components)}
    return affected


def with_changes_since_count(inputs: Inputs, ops_path: Path, skus: set[str] | None = None) -> Inputs:
    """The inputs with the WMS movements seen after the snapshot's stock count (ops store) on hand, and only
    the listings of `skus` and what shares their stock (None: every listing)."""
    if inputs.counted_until is not None:
        moved = store.movements_after(ops_path, inputs.counted_until)
        inputs = replace(inputs, positions=with_movements(inputs.positions, moved))
    if skus is not None:
        keep = affected_skus(skus, inputs.kits)
        inputs = replace(inputs, listings=inputs.listings[inputs.listings["sku"].isin(keep)])
    return inputs


@dataclass
class ListingPlan:
    """The plan of one listing: its share of its shop's planned units, and what to do."""

    line: PlanLine
    address: ListingAddress
    listing_id: str
    planned: int
    listed: int | None
    action: Literal["push", "unchanged", "no writer", "not stocked"]
    failures_in_a_row: int = 0
    fetched_at: str | None = None
    """When the listing was pulled (ISO 8601)."""


@dataclass
class SyncResult:
    run_id: str
    lines: list[PlanLine]
    listings: list[ListingPlan]
    pushed: list[dict] = field(default_factory=list)
    interrupted: int = 0

    def frame(self) -> pd.DataFrame:
        """The plan per listing (PLAN_COLUMNS), for the CLI's table and CSV and the stock page."""
        rows = []
        for item in self.listings:
            line = item.line
            rows.append({
                "shop_id": line.shop_id, "sku": line.sku, "listing_id": item.listing_id, "rule": line.rule,
                "rule_version": line.rule_version, "stock": line.stock, "wanted": line.wanted,
                "allocated": line.allocated, "locked": line.locked, "planned": item.planned,
                "over_allocated": line.over_allocated, "listed": item.listed,
                "change": None if item.listed is None else item.planned - item.listed, "action": item.action,
                "reason": line.reason, "why": line.why, "failures_in_a_row": item.failures_in_a_row,
            })  # fmt: skip
        return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _fetched(listing: pd.Series) -> str | None:
    return None if pd.isna(listing["fetched_at"]) else pd.Timestamp(listing["fetched_at"]).isoformat()


def _now_listed(listing: pd.Series, last: Mapping[str, dict]) -> int | None:
    """What the channel lists now: the last confirmed push when it was planned from this same pull of the
    listing (no newer pull since), else the pull's quantity."""
    listed = None if pd.isna(listing["listed_quantity"]) else int(listing["listed_quantity"])
    pushed = last.get(listing["listing_id"])
    if pushed and pushed["result"] == "ok" and pushed["pushed_qty"] is not None:
        if pushed["listing_fetched_at"] == _fetched(listing):
            listed = int(pushed["pushed_qty"])
    return listed


def listing_address(listing: pd.Series) -> ListingAddress:
    return ListingAddress(
        shop_id=listing["shop_id"], sku=listing["sku"],
        **{k: (None if pd.isna(listing[c]) else str(listing[c])) for k, c in (
            ("platform_product_id", "platform_product_id"), ("platform_sku_id", "platform_sku_id"),
            ("outer_id", "outer_id"), ("stock_item_id", "platform_stock_item_id"),
            ("location_id", "platform_location_id"))},
    )  # fmt: skip


def read_back(
    listings: pd.DataFrame, writers: Mapping[str, StockWriter]
) -> tuple[dict[str, int | None], dict[str, str]]:
    """What every listing of the shops in `writers` lists now (listing id -> units, None where the platform
    lists no such SKU), the shops at once; and, per shop that could not be read, why."""
    groups = [(shop, group) for shop, group in listings.groupby("shop_id", sort=True) if shop in writers]

    def read(shop_id: str, group: pd.DataFrame) -> tuple[str, dict[str, int | None] | str]:
        try:
            units = writers[shop_id].read_many([listing_address(row) for _, row in group.iterrows()])
        except ChannelError as exc:
            return shop_id, str(exc)
        return shop_id, dict(zip(group["listing_id"], units, strict=True))

    listed: dict[str, int | None] = {}
    unread: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(groups)), thread_name_prefix="stock-read") as pool:
        for shop_id, answer in pool.map(lambda g: read(*g), groups):
            if isinstance(answer, str):
                unread[shop_id] = answer
            else:
                listed.update(answer)
    return listed, unread


def as_seen(
    listings: pd.DataFrame, listed: Mapping[str, int | None]
) -> dict[str, tuple[str, str, int | None]]:
    """What `read_back` read, as store.saw_listings records it: listing id -> (shop, SKU, units)."""
    read = listings[listings["listing_id"].isin(listed.keys())]
    return {
        i: (shop, sku, listed[i])
        for i, shop, sku in zip(read["listing_id"], read["shop_id"], read["sku"], strict=True)
    }


def plan_listings(
    inputs: Inputs,
    rules: list[Rule],
    locks: list[Lock],
    now: datetime,
    pushable: set[str],
    last: Mapping[str, dict],
    safety_buffer: int = 0,
    now_listed: Mapping[str, int | None] | None = None,
) -> tuple[list[PlanLine], list[ListingPlan]]:
    """The plan per listing. `now_listed`: what the channels list now, read back (listing id -> units), which
    then decides what is pushed instead of the last pull and push."""
    now_listed = now_listed or {}
    listings = inputs.listings
    targets = []
    for (shop_id, sku), group in listings.groupby(["shop_id", "sku"], sort=True):
        listed = [int(x) for x in group["listed_quantity"] if not pd.isna(x)]
        targets.append(Target(shop_id, sku, inputs.categories.get(sku), sum(listed) if listed else None))
    lines = plan(
        inputs.positions, targets, rules, locks, now, orders=inputs.orders, kits=inputs.kits,
        safety_buffer=safety_buffer,
    )  # fmt: skip
    by_key = {(line.shop_id, line.sku): line for line in lines}
    result = []
    for (shop_id, sku), group in listings.groupby(["shop_id", "sku"], sort=True):
        line = by_key[(shop_id, sku)]
        ids = list(group["listing_id"])
        shares = split(line.planned, {i: line.planned for i in ids}, {i: 1 for i in ids})
        for _, listing in group.iterrows():
            listing_id = listing["listing_id"]
            listed = _now_listed(listing, last)
            if now_listed.get(listing_id) is not None:
                listed = now_listed[listing_id]
            failures = int((last.get(listing_id) or {}).get("failures_in_a_row") or 0)
            planned = shares[listing_id]
            if not line.stocked:
                action = "not stocked"
            elif shop_id not in pushable:
                action = "no writer"
            elif listed == planned and failures == 0:
                action = "unchanged"
            else:
                action = "push"
            address = listing_address(listing)
            result.append(
                ListingPlan(line, address, listing_id, planned, listed, action, failures, _fetched(listing))
            )
    return lines, result


def sold_since_pull(pulled: int | None, history: list[Mapping], now: int | None) -> int:
    """Units a channel sold of one listing since it was pulled: the drops of its listed quantity over the
    intervals between shopkeep's own sets, each read back just before its set, plus what each set's writer saw
    sold while it was on its way (`in_flight_qty`) (`history`: the pushes planned from this same pull, oldest
    first; `now`: what the channel lists at this moment). A rise (a cancelled order,
    someone adding stock in the platform's back office) is never counted as units to list again, and a push whose
    outcome is unknown (its run was killed) counts as having set the higher of what was there and what it sent,
    so the figure can only err towards listing less."""
    level, sold = pulled, 0
    for push in history:
        read = push.get("before_qty")
        if read is not None and not pd.isna(read):
            if level is not None:
                sold += max(0, level - int(read))
            level = int(read)
        if push["result"] == "ok" and push.get("pushed_qty") is not None and not pd.isna(push["pushed_qty"]):
            sold += int(push.get("in_flight_qty") or 0)  # sold between the read and the push landing
            level = int(push["pushed_qty"])
        elif push["result"] in ("pending", "interrupted"):
            level = max(level if level is not None else 0, int(push["planned_qty"]))
    if now is not None and level is not None:
        sold += max(0, level - now)
    return sold


def sales_since_pull(
    listings: pd.DataFrame,
    now_listed: Mapping[str, int | None],
    unread: Mapping[str, str],
    last: Mapping[str, dict],
    history: Mapping[str, list[dict]],
) -> dict[str, int]:
    """Per listing: units its channel sold since the listing was pulled (`sold_since_pull`); for a shop that
    could not be read, everything it listed last (it may all sell, and no push will take it back)."""
    sold = {}
    for _, listing in listings.iterrows():
        listing_id = listing["listing_id"]
        if listing["shop_id"] in unread:
            sold[listing_id] = max(0, _now_listed(listing, last) or 0)
        elif listing_id in now_listed:
            fetched = _fetched(listing)
            same_pull = [h for h in history.get(listing_id, []) if h["listing_fetched_at"] == fetched]
            pulled = None if pd.isna(listing["listed_quantity"]) else int(listing["listed_quantity"])
            sold[listing_id] = sold_since_pull(pulled, same_pull, now_listed[listing_id])
    return sold


def sync(
    serve_path: Path,
    ops_path: Path,
    writers: Mapping[str, StockWriter],
    config_rules: list[Rule],
    *,
    safety_buffer: int = 0,
    now: datetime | None = None,
    dry_run: bool = True,
    mode: Mode = "manual",
    shops: set[str] | None = None,
    pushable: set[str] | None = None,
    skus: set[str] | None = None,
) -> SyncResult:
    """Plan every listing (or those of `skus` and what shares their stock: the lean path) and, unless
    `dry_run`, push the changes (of `shops`, or all) and audit each push. Rules: the ops store's (edited on the
    dashboard) over shopkeep.toml's of the same name. `pushable`: the shops a push would reach (default: those
    in `writers`), for a dry run that builds no writer."""
    now = now or datetime.now(UTC)
    run_id = uuid.uuid4().hex[:12]
    interrupted = 0 if dry_run else len(store.interrupted_pushes(ops_path))
    stored = store.current_rules(ops_path)
    names = {rule.name for rule in stored}
    rules = stored + [rule for rule in config_rules if rule.name not in names]
    locks = store.current_locks(ops_path)
    last = {row["listing_id"]: row for row in store.last_pushes(ops_path).to_dict("records")}
    inputs = with_changes_since_count(read_inputs(serve_path), ops_path, skus)
    pushable = set(writers) if pushable is None else pushable
    if dry_run:  # the plan from the snapshot alone: nothing is read from or sent to a channel
        lines, listings = plan_listings(inputs, rules, locks, now, pushable, last, safety_buffer)
        return SyncResult(run_id, lines, listings, interrupted=interrupted)

    now_listed, unread = read_back(inputs.listings, writers)
    store.saw_listings(ops_path, as_seen(inputs.listings, now_listed))
    sold = sales_since_pull(inputs.listings, now_listed, unread, last, store.pushes_of(ops_path, list(
        inputs.listings["listing_id"])))  # fmt: skip
    by_sku: dict[str, int] = defaultdict(int)
    for (_, listing), units in zip(
        inputs.listings.iterrows(), inputs.listings["listing_id"].map(sold), strict=True
    ):
        if units and not pd.isna(units):
            by_sku[listing["sku"]] += int(units)
    inputs = replace(inputs, positions=with_sales(inputs.positions, by_sku, inputs.kits))
    lines, listings = plan_listings(inputs, rules, locks, now, pushable, last, safety_buffer, now_listed)
    result = SyncResult(run_id, lines, listings, interrupted=interrupted)
    chosen = [i for i in listings if i.action == "push" and (shops is None or i.address.shop_id in shops)]
    lowered = [
        i for i in chosen if now_listed.get(i.listing_id) is not None and i.planned < now_listed[i.listing_id]
    ]
    going_down = {i.listing_id for i in lowered}
    raised = [i for i in chosen if i.listing_id not in going_down]

    def push_shop(shop_id: str, items: list[ListingPlan]) -> list[dict]:
        sends = [
            (item, now_listed.get(item.listing_id), f"{run_id}-{uuid.uuid4().hex[:12]}") for item in items
        ]
        for item, read, push_id in sends:
            store.start_push(ops_path, {
                "push_id": push_id, "run_id": run_id, "mode": mode, "shop_id": shop_id, "sku": item.line.sku,
                "listing_id": item.listing_id, "rule": item.line.rule, "rule_version": item.line.rule_version,
                "before_qty": read, "sold_since_pull": sold.get(item.listing_id),
                "listing_fetched_at": item.fetched_at, "planned_qty": item.planned,
            })  # fmt: skip
        if shop_id in unread:  # nothing is pushed blind: the shop's SKUs wait for the next run
            answers = [
                StockResult(False, None, f"could not read what the shop lists now: {unread[shop_id]}")
            ] * len(sends)
        else:
            try:  # the shop's pushes in as few calls as its platform takes (StockWriter.set_many)
                answers = writers[shop_id].set_many(
                    [(item.address, item.planned, push_id) for item, _read, push_id in sends],
                    [read for _item, read, _push_id in sends],
                )
            except ChannelError as exc:  # the shop itself failed (credentials, network): next run
                answers = [StockResult(False, None, str(exc))] * len(sends)
        done = []
        for (item, read, push_id), answer in zip(sends, answers, strict=True):
            store.finish_push(
                ops_path, push_id, answer.ok, answer.quantity, answer.message, in_flight=answer.in_flight
            )
            done.append({"push_id": push_id, "listing_id": item.listing_id, "shop_id": shop_id,
                         "sku": item.line.sku, "planned": item.planned, "read": read,
                         "sold": sold.get(item.listing_id, 0), "ok": answer.ok, "pushed": answer.quantity,
                         "in_flight": answer.in_flight, "message": answer.message})  # fmt: skip
        return done

    def push(items: list[ListingPlan]) -> list[dict]:
        """The shops at once: each is another platform with its own rate limit (a standard Shopify store's 2
        calls a second need not hold up the marketplaces); one shop's pushes stay in order."""
        by_shop: dict[str, list[ListingPlan]] = defaultdict(list)
        for item in items:
            by_shop[item.address.shop_id].append(item)
        done: list[dict] = []
        with ThreadPoolExecutor(max_workers=max(1, len(by_shop)), thread_name_prefix="stock-push") as pool:
            for answers in pool.map(lambda shop: push_shop(*shop), sorted(by_shop.items())):
                done.extend(answers)
        return done

    # decreases land first: units a shop sold beyond its new plan before its decrease landed are sold, so the
    # increases that would list them elsewhere are cut by as many (never below what those listings hold now)
    result.pushed.extend(push(lowered))
    over: dict[str, int] = defaultdict(int)
    for done in result.pushed:
        if done["ok"]:
            over[done["sku"]] += max(0, done["in_flight"] - done["planned"])
        else:  # still listing what it listed: it may all sell
            over[done["sku"]] += max(0, (done["read"] or 0) - done["planned"])
    for item in sorted(
        raised, key=lambda i: (-(i.planned - (now_listed.get(i.listing_id) or 0)), i.listing_id)
    ):
        cut = min(over[item.line.sku], item.planned - (now_listed.get(item.listing_id) or 0))
        if cut > 0:
            item.planned -= cut
            over[item.line.sku] -= cut
    result.pushed.extend(
        push([i for i in raised if i.planned != now_listed.get(i.listing_id) or i.failures_in_a_row])
    )
    store.saw_listings(ops_path, {  # what shopkeep set is no change for the lean path to react to
        p["listing_id"]: (p["shop_id"], p["sku"], p["pushed"]) for p in result.pushed if p["ok"]
    })  # fmt: skip
    return result
