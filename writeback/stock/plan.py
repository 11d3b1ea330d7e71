"""The stock plan: how many units each shop lists of each SKU, never more than there is.

For each SKU every shop that lists it gets the quantity its rule asks for (rules.py: the warehouses that count,
the quantities added and subtracted, percent, plus, minimum, maximum) out of the stock that is really there:

1. **Sellable stock per warehouse**: on hand minus reserved (paid orders not yet shipped), minus presale orders
   (taken from the warehouses in id order), minus the safety buffer.
2. **Locks** are carved out of it first (oldest lock first): locked units count only for their shop.
3. **Allocation**: shops are served by rule priority (highest first); shops of equal priority split each
   warehouse's remaining stock by their rules' shares (largest remainder, ties by shop id), never above what
   their rule asks for. Units always come from a warehouse the shop's rule counts, so across all shops that
   share a warehouse the plan never lists more than its sellable stock.
4. **Planned** = allocated + the shop's own locked units. A rule may over-allocate explicitly
   (`overallocate = true`, or `below_minimum = "minimum"` keeping a listing alive): the plan then lists what
   the rule asks for and reports the units over-allocated, per line.

A kit (组合装) has no stock of its own: per warehouse, it has the minimum over its components of the
component's sellable stock ÷ the quantity in the kit. Kits and their components are planned from the same
component stock, as ERPs do; a sale of either is seen at the next plan.

Deterministic: the same inputs in any order give the same plan. Pure: no I/O (writeback/stock/sync.py reads
the inputs and pushes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from writeback.stock.rules import Lock, Rule, select_rule

ORDER_QUANTITIES = ("unpaid_orders", "presale")
"""Per SKU (all shops): units in orders the warehouses do not hold for yet."""
COMMITTED = ("presale",)
"""Order quantities that are sold already: never sellable, whatever a rule counts (as reserved units)."""


@dataclass(frozen=True)
class Position:
    """One SKU in one warehouse."""

    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int = 0
    in_transit: int = 0
    arrived_not_stocked: int = 0


@dataclass(frozen=True)
class Target:
    """A SKU listed in a shop: what the plan is for."""

    shop_id: str
    sku: str
    category: str | None = None
    listed: int | None = None
    """What the channel lists now, if known."""


WHY = ("not_stocked", "kept_minimum", "nothing", "delisted", "over_allocated", "scarce", "as_rule")
"""Why a line plans what it plans (PlanLine.why), as codes."""


@dataclass(frozen=True)
class PlanLine:
    shop_id: str
    sku: str
    rule: str
    rule_version: int
    stock: int
    """The stock the rule counts (its warehouses, its quantities, minus other shops' locks)."""
    wanted: int
    """What the rule lists for that stock (percent, plus, minimum, maximum)."""
    allocated: int
    """Units allocated out of sellable stock (never more than there is)."""
    locked: int
    """The shop's own locked units."""
    planned: int
    """What to list: allocated + locked + over_allocated."""
    over_allocated: int
    listed: int | None
    reason: str
    why: str = "as_rule"
    """`reason` as a code (WHY) for pages that say it in their own language."""
    by_warehouse: tuple[tuple[str, int], ...] = ()
    stocked: bool = True
    """False when no warehouse has a record of the SKU (nor, for a kit, of all its components)."""

    @property
    def change(self) -> int | None:
        return None if self.listed is None else self.planned - self.listed


@dataclass
class _Claim:
    target: Target
    rule: Rule
    stock: int
    wanted: int
    kept_minimum: bool
    locked: int = 0
    allocated: dict[str, int] = field(default_factory=dict)

    @property
    def got(self) -> int:
        return sum(self.allocated.values())


def _kit_positions(
    kit: str, components: list[tuple[str, int]], positions: dict[str, dict[str, Position]]
) -> dict[str, Position]:
    """A kit's positions per warehouse: the minimum over components of (on hand - reserved) ÷ quantity."""
    warehouses = (
        set.intersection(*(set(positions.get(c, {})) for c, _ in components)) if components else set()
    )
    kit_positions = {}
    for warehouse in sorted(warehouses):
        buildable = min(
            max(0, positions[c][warehouse].on_hand - positions[c][warehouse].reserved) // quantity
            for c, quantity in components
        )
        kit_positions[warehouse] = Position(kit, warehouse, buildable)
    return kit_positions


def with_sales(
    positions: Iterable[Position],
    sold: Mapping[str, int],
    kits: Mapping[str, list[tuple[str, int]]] | None = None,
) -> list[Position]:
    """`positions` with units the channels sold since the snapshot (`sold`: per listed SKU) reserved: they are
    gone from the shelves even though no order pull has brought them yet. A kit's sale reserves its components
    (units × quantity in the kit). Each SKU's units are reserved in the warehouses in id order, up to what each
    has free; what is left goes to the first (sold is sold: the plan can only list less)."""
    kits = kits or {}
    extra: dict[str, int] = defaultdict(int)
    for sku, units in sold.items():
        if units <= 0:
            continue
        for component, quantity in kits.get(sku, [(sku, 1)]):
            extra[component] += units * quantity
    by_sku: dict[str, list[Position]] = defaultdict(list)
    for position in positions:
        by_sku[position.sku].append(position)
    result = []
    for sku in sorted(by_sku):
        left = extra.get(sku, 0)
        stock = sorted(by_sku[sku], key=lambda p: p.warehouse_id)
        adjusted = []
        for position in stock:
            taken = min(left, max(0, position.on_hand - position.reserved))
            left -= taken
            adjusted.append(replace(position, reserved=position.reserved + taken))
        if left and adjusted:
            adjusted[0] = replace(adjusted[0], reserved=adjusted[0].reserved + left)
        result += adjusted
    return result


def with_movements(positions: Iterable[Position], moved: Mapping[tuple[str, str], int]) -> list[Position]:
    """`positions` with the units the warehouses moved in or out since the snapshot's stock count (`moved`: per
    (SKU, warehouse), receipts and returns in, adjustments either way) on hand; a warehouse that had no record
    of a SKU gets one. On hand never goes below 0."""
    result = []
    left = dict(moved)
    for position in positions:
        units = left.pop((position.sku, position.warehouse_id), 0)
        result.append(replace(position, on_hand=max(0, position.on_hand + units)) if units else position)
    result += [
        Position(sku, warehouse, on_hand=units)
        for (sku, warehouse), units in sorted(left.items())
        if units > 0
    ]
    return result


def split(amount: int, wants: Mapping[str, int], shares: Mapping[str, int]) -> dict[str, int]:
    """`amount` units split among `wants` (key -> at most this many) in proportion to `shares`: largest
    remainder, ties by key; what a capped key cannot take goes to the others. Never more than `amount` in all,
    never more than a key wants."""
    given = {key: 0 for key in wants}
    left = amount
    while left > 0:
        open_keys = sorted(key for key in wants if given[key] < wants[key])
        if not open_keys:
            break
        total_share = sum(shares[key] for key in open_keys)
        exact = {key: left * shares[key] / total_share for key in open_keys}
        portions = {key: min(int(exact[key]), wants[key] - given[key]) for key in open_keys}
        if sum(portions.values()) == 0:  # fewer units than keys: one each, largest remainder first
            for key in sorted(open_keys, key=lambda k: (-(exact[k] - int(exact[k])), -shares[k], k)):
                if left == 0:
                    break
                given[key] += 1
                left -= 1
            continue
        for key, portion in portions.items():
            given[key] += portion
            left -= portion
    return given


def plan(
    positions: Iterable[Position],
    targets: Iterable[Target],
    rules: list[Rule],
    locks: Iterable[Lock] = (),
    now: datetime | None = None,
    *,
    orders: Mapping[str, Mapping[str, int]] | None = None,
    kits: Mapping[str, list[tuple[str, int]]] | None = None,
    safety_buffer: int = 0,
) -> list[PlanLine]:
    """The plan for every target (SKU × shop), sorted by SKU and shop. `orders`: per SKU, units in orders the
    warehouse does not hold yet (ORDER_QUANTITIES); `kits`: kit SKU -> [(component SKU, quantity)];
    `safety_buffer`: units per SKU and warehouse never listed; `now` decides which locks are active (UTC)."""
    orders = orders or {}
    kits = kits or {}
    by_sku: dict[str, dict[str, Position]] = defaultdict(dict)
    for position in positions:
        by_sku[position.sku][position.warehouse_id] = position
    targets_by_sku: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        targets_by_sku[target.sku].append(target)
    active = sorted(
        (lock for lock in locks if now is None or lock.active(now)),
        key=lambda lock: (lock.until, lock.lock_id),
    )
    locks_by_sku: dict[str, list[Lock]] = defaultdict(list)
    for lock in active:
        locks_by_sku[lock.sku].append(lock)

    lines = []
    for sku in sorted(targets_by_sku):
        stock = _kit_positions(sku, kits[sku], by_sku) if sku in kits else by_sku.get(sku, {})
        lines += _plan_sku(
            sku, stock, sorted(targets_by_sku[sku], key=lambda t: t.shop_id), rules,
            locks_by_sku.get(sku, []), orders.get(sku, {}), safety_buffer,
        )  # fmt: skip
    return lines


def _plan_sku(
    sku: str,
    stock: dict[str, Position],
    targets: list[Target],
    rules: list[Rule],
    locks: list[Lock],
    orders: Mapping[str, int],
    safety_buffer: int,
) -> list[PlanLine]:
    warehouses = sorted(stock)
    # 1. sellable per warehouse: on hand - reserved - committed orders (first warehouses first) - buffer
    sellable = {w: max(0, stock[w].on_hand - stock[w].reserved) for w in warehouses}
    committed = sum(max(0, int(orders.get(q, 0))) for q in COMMITTED)
    for w in warehouses:
        taken = min(committed, sellable[w])
        sellable[w] -= taken
        committed -= taken
    for w in warehouses:
        sellable[w] = max(0, sellable[w] - safety_buffer)
    # 2. locks carved first, oldest first; a lock gets what is there
    locked_by_shop: dict[str, int] = defaultdict(int)
    for lock in locks:
        want = lock.quantity
        for w in warehouses:
            taken = min(want, sellable[w])
            sellable[w] -= taken
            want -= taken
        locked_by_shop[lock.shop_id] += lock.quantity - want
    all_locked = sum(locked_by_shop.values())

    claims = []
    for target in targets:
        rule = select_rule(rules, target.shop_id, sku, target.category)
        counted = [w for w in warehouses if rule.counts(w)]
        x = sum(stock[w].on_hand for w in counted)
        for name in ("in_transit", "arrived_not_stocked", "reserved"):
            amount = sum(getattr(stock[w], name) for w in counted)
            x += amount if name in rule.add else -amount if name in rule.subtract else 0
        if counted:
            for name in ORDER_QUANTITIES:
                amount = max(0, int(orders.get(name, 0)))
                x += amount if name in rule.add else -amount if name in rule.subtract else 0
        x -= all_locked - locked_by_shop.get(target.shop_id, 0)  # other shops' locks never count here
        wanted, kept_minimum = rule.listed(x) if counted else (0, False)
        claims.append(
            _Claim(target, rule, x, wanted, kept_minimum, locked=locked_by_shop.get(target.shop_id, 0))
        )

    # 3. allocation: priority tiers, highest first; shares within a tier, warehouse by warehouse
    for priority in sorted({c.rule.priority for c in claims}, reverse=True):
        tier = [c for c in claims if c.rule.priority == priority]
        for w in warehouses:
            wants = {
                c.target.shop_id: c.wanted - c.got for c in tier if c.rule.counts(w) and c.wanted > c.got
            }
            if not wants or sellable[w] == 0:
                continue
            given = split(sellable[w], wants, {c.target.shop_id: c.rule.share for c in tier})
            for c in tier:
                units = given.get(c.target.shop_id, 0)
                if units:
                    c.allocated[w] = c.allocated.get(w, 0) + units
                    sellable[w] -= units

    return [_line(c, stocked=bool(stock)) for c in claims]


def _line(c: _Claim, stocked: bool) -> PlanLine:
    over = 0
    if (c.rule.overallocate or c.kept_minimum) and c.wanted > c.got:
        over = c.wanted - c.got
    planned = c.got + c.locked + over
    if not stocked:
        why, reason = "not_stocked", "no warehouse keeps this SKU: not synced"
    elif c.kept_minimum:
        why = "kept_minimum"
        reason = f"below the minimum: kept at {c.rule.minimum}" + (f", {over} over-allocated" if over else "")
    elif c.wanted == 0:
        why, reason = (
            ("nothing", "nothing to list") if c.stock <= 0 else ("delisted", "below the minimum: delisted")
        )
    elif over:
        why, reason = "over_allocated", f"over-allocated by rule: {over} more than the shared stock allows"
    elif c.got < c.wanted:
        why, reason = "scarce", f"scarce: {c.got} of the {c.wanted} the rule asks for"
    else:
        why, reason = "as_rule", "as the rule asks"
    if c.locked:
        reason += f"; {c.locked} locked for this shop"
    return PlanLine(
        shop_id=c.target.shop_id,
        sku=c.target.sku,
        rule=c.rule.name,
        rule_version=c.rule.version,
        stock=c.stock,
        wanted=c.wanted,
        allocated=c.got,
        locked=c.locked,
        planned=planned,
        over_allocated=over,
        listed=c.target.listed,
        reason=reason,
        why=why,
        by_warehouse=tuple(sorted((w, n) for w, n in c.allocated.items() if n)),
        stocked=stocked,
    )
