"""Stock-sync rules and locks, as 旺店通-style ERPs define them (策略 / 锁定库存).

A rule matches shops and categories, or single SKUs, with a priority, and says how much of a SKU's stock a shop
lists:

- `warehouses`: which warehouses count ("*": all);
- `add` / `subtract`: which quantities add to or subtract from on-hand stock (QUANTITIES below);
- `percent` and `plus`: the listed quantity is `floor(x × percent / 100 + plus)` of that stock x;
- `minimum` / `maximum`: below the minimum the rule either delists (`below_minimum = "delist"`: pushes 0) or keeps
  the minimum listed (`"minimum"`, an over-allocation the plan reports); never more than the maximum;
- `share`: how shops in the same priority split stock that is too scarce for all of them;
- `overallocate`: the shop lists its quantity even when other shops' quantities already use the stock (the plan
  reports the units it over-allocates). Off by default: across shops, the plan never lists more than there is.

A lock (`Lock`) holds N units of a SKU for one shop (a live stream, a promotion slot) until a time: the units
count only for that shop, and the lock ends by itself.

Plain data and pure functions: the rules come from `shopkeep.toml` ([stock_sync]) and the ops store (rules and
locks edited on the dashboard, versioned), the plan is writeback/stock/plan.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

QUANTITIES = {
    "reserved": "units in paid orders not yet shipped (the inventory marts' reserved, per warehouse)",
    "in_transit": "purchased units on their way (open purchase-order lines, per warehouse)",
    "arrived_not_stocked": "units arrived at a warehouse but not yet put away (0 until a source reports them)",
    "unpaid_orders": "units in orders placed but not yet paid (all shops)",
    "presale": "units in presale / deposit orders (all shops; 0 until a source reports them)",
}
"""The quantities a rule may add to or subtract from on-hand stock."""

BelowMinimum = Literal["delist", "minimum"]
ALL = "*"


class RuleError(ValueError):
    """A rule or lock that cannot be used, with one message naming it, the key and the fix."""


@dataclass(frozen=True)
class Rule:
    name: str
    priority: int = 0
    """Higher first: the rule with the highest priority among those matching a shop and SKU applies, and in a
    shortage higher-priority shops are served first."""
    shops: tuple[str, ...] = (ALL,)
    categories: tuple[str, ...] = (ALL,)
    skus: tuple[str, ...] = ()
    """Non-empty: the rule matches only these master SKUs (its categories are not consulted)."""
    warehouses: tuple[str, ...] = (ALL,)
    add: tuple[str, ...] = ()
    subtract: tuple[str, ...] = ("reserved",)
    percent: Decimal = Decimal(100)
    plus: int = 0
    minimum: int = 0
    maximum: int | None = None
    below_minimum: BelowMinimum = "delist"
    share: int = 1
    overallocate: bool = False
    version: int = 0
    """The rule's version in the ops store (0: as written in shopkeep.toml)."""

    def matches(self, shop_id: str, sku: str, category: str | None) -> bool:
        if ALL not in self.shops and shop_id not in self.shops:
            return False
        if self.skus:
            return sku in self.skus
        return ALL in self.categories or (category is not None and category in self.categories)

    @property
    def specificity(self) -> int:
        """2 for a rule of named SKUs, 1 for named categories, 0 for all: the tie-break between equal
        priorities (the narrower rule wins)."""
        return 2 if self.skus else 0 if ALL in self.categories else 1

    def counts(self, warehouse_id: str) -> bool:
        return ALL in self.warehouses or warehouse_id in self.warehouses

    def listed(self, stock: int) -> tuple[int, bool]:
        """The quantity this rule lists for `stock` units (may be negative: nothing to sell), and whether that
        quantity is the minimum kept listed below it (`below_minimum = "minimum"`)."""
        quantity = math.floor(Decimal(stock) * self.percent / 100 + self.plus)
        if self.maximum is not None:
            quantity = min(quantity, self.maximum)
        if quantity < self.minimum or quantity <= 0:
            if self.below_minimum == "minimum" and self.minimum > 0:
                return self.minimum, True
            return 0, False
        return quantity, False


DEFAULT_RULE = Rule(name="default")
"""What applies when no rule matches: all warehouses, on hand minus reserved units, 100 %."""


@dataclass(frozen=True)
class Lock:
    lock_id: str
    sku: str
    shop_id: str
    quantity: int
    until: datetime
    """UTC; the lock ends by itself then."""
    note: str = ""
    version: int = 0

    def active(self, now: datetime) -> bool:
        return self.quantity > 0 and now < self.until


def select_rule(rules: list[Rule], shop_id: str, sku: str, category: str | None) -> Rule:
    """The rule for a shop and SKU: the highest priority among those matching, then the narrowest (SKUs before
    categories before all), then the name; DEFAULT_RULE when none matches."""
    matching = [rule for rule in rules if rule.matches(shop_id, sku, category)]
    if not matching:
        return DEFAULT_RULE
    return min(matching, key=lambda rule: (-rule.priority, -rule.specificity, rule.name))


def _names(value: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RuleError(f'{where}: {key} must be a list of names (or "*"), got {value!r}')
    return tuple(v.strip() for v in value)


def _whole(value: Any, where: str, key: str, *, lowest: int | None = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (lowest is not None and value < lowest):
        bound = f" >= {lowest}" if lowest is not None else ""
        raise RuleError(f"{where}: {key} must be a whole number{bound}, got {value!r}")
    return value


def rule_from_dict(data: dict[str, Any], where: str = "stock rule") -> Rule:
    """A Rule from a TOML table or a dashboard form, checked: one RuleError naming the rule, the key and what
    is allowed."""
    known = {f.name for f in fields(Rule)}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleError(f'{where}: every rule needs a name (name = "...")')
    where = f"{where} (name {name!r})"
    unknown = sorted(set(data) - known)
    if unknown:
        raise RuleError(
            f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(sorted(known - {'version'}))}"
        )
    values: dict[str, Any] = {"name": name.strip()}
    for key in ("shops", "categories", "skus", "warehouses"):
        if key in data:
            values[key] = _names(data[key], where, key)
    for key in ("add", "subtract"):
        if key in data:
            names = _names(data[key], where, key) if data[key] else ()
            bad = [n for n in names if n not in QUANTITIES]
            if bad:
                raise RuleError(f"{where}: {key} has {bad[0]!r}; the quantities are {', '.join(QUANTITIES)}")
            values[key] = names
    both = set(values.get("add", ())) & set(values.get("subtract", Rule.subtract))
    if both:
        raise RuleError(f"{where}: {sorted(both)[0]!r} is both added and subtracted; keep it in one list")
    if "percent" in data:
        try:
            percent = Decimal(str(data["percent"]))
        except InvalidOperation:
            percent = Decimal(-1)
        if isinstance(data["percent"], bool) or not percent.is_finite() or percent < 0 or percent > 1000:
            raise RuleError(f"{where}: percent must be a number from 0 to 1000, got {data['percent']!r}")
        values["percent"] = percent
    for key in ("priority", "plus"):
        if key in data:
            values[key] = _whole(data[key], where, key, lowest=None)
    for key in ("minimum", "version"):
        if key in data:
            values[key] = _whole(data[key], where, key)
    if "share" in data:
        values["share"] = _whole(data["share"], where, "share", lowest=1)
    if data.get("maximum") is not None:
        values["maximum"] = _whole(data["maximum"], where, "maximum")
        if values["maximum"] < values.get("minimum", 0):
            raise RuleError(f"{where}: maximum {values['maximum']} is below minimum {values['minimum']}")
    if "below_minimum" in data:
        if data["below_minimum"] not in ("delist", "minimum"):
            raise RuleError(
                f'{where}: below_minimum must be "delist" (push 0) or "minimum" (keep the minimum listed), '
                f"got {data['below_minimum']!r}"
            )
        values["below_minimum"] = data["below_minimum"]
    if "overallocate" in data:
        if not isinstance(data["overallocate"], bool):
            raise RuleError(f"{where}: overallocate must be true or false, got {data['overallocate']!r}")
        values["overallocate"] = data["overallocate"]
    return Rule(**values)


def rules_from_config(tables: list[dict[str, Any]], where: str = "stock_sync.rules") -> list[Rule]:
    """The rules of shopkeep.toml ([[stock_sync.rules]]), checked; two rules of one name are refused."""
    rules = [rule_from_dict(table, f"{where}[{i}]") for i, table in enumerate(tables)]
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise RuleError(f"{where}: two rules are named {rule.name!r}; give each its own name")
        seen.add(rule.name)
    return rules
