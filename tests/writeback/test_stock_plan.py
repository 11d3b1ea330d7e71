"""The stock plan (writeback/stock/plan.py) over random stock, orders, locks, rules and shop sets: it never lists
more than there is across the shops that share a warehouse, does exactly what a rule says when stock allows,
and is deterministic."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from writeback.stock.plan import Position, Target, plan, split
from writeback.stock.rules import Lock, Rule, RuleError, rule_from_dict, rules_from_config, select_rule

NOW = datetime(2026, 12, 4, 2, tzinfo=UTC)
SHOPS = ("tmall", "jd", "pdd", "douyin", "shopify")
WAREHOUSES = ("WH-A", "WH-B", "WH-C")
SKUS = ("S1", "S2", "S3")

rules_st = st.builds(
    Rule,
    name=st.sampled_from(["r1", "r2", "r3", "r4"]),
    priority=st.integers(0, 3),
    shops=st.one_of(st.just(("*",)), st.lists(st.sampled_from(SHOPS), min_size=1, max_size=3).map(tuple)),
    categories=st.sampled_from([("*",), ("tea",), ("cups",)]),
    skus=st.one_of(st.just(()), st.lists(st.sampled_from(SKUS), min_size=1, max_size=2).map(tuple)),
    warehouses=st.one_of(st.just(("*",)), st.lists(st.sampled_from(WAREHOUSES), min_size=1, max_size=2).map(tuple)),
    add=st.sampled_from([(), ("in_transit",), ("in_transit", "arrived_not_stocked")]),
    subtract=st.sampled_from([("reserved",), (), ("reserved", "unpaid_orders", "presale")]),
    percent=st.sampled_from([Decimal(0), Decimal(50), Decimal("33.3"), Decimal(100), Decimal(150)]),
    plus=st.integers(-5, 5),
    minimum=st.integers(0, 4),
    maximum=st.one_of(st.none(), st.integers(4, 60)),
    below_minimum=st.sampled_from(["delist", "minimum"]),
    share=st.integers(1, 4),
    overallocate=st.booleans(),
)  # fmt: skip


@st.composite
def worlds(draw):
    positions = [
        Position(sku, w, on_hand=draw(st.integers(0, 80)), reserved=draw(st.integers(0, 10)),
                 in_transit=draw(st.integers(0, 30)), arrived_not_stocked=draw(st.integers(0, 5)))
        for sku in SKUS for w in WAREHOUSES if draw(st.booleans())
    ]  # fmt: skip
    targets = [
        Target(shop, sku, category=draw(st.sampled_from(["tea", "cups", None])), listed=draw(st.integers(0, 50)))
        for sku in SKUS for shop in SHOPS if draw(st.booleans())
    ]  # fmt: skip
    rules = draw(st.lists(rules_st, max_size=4, unique_by=lambda r: r.name))
    locks = [
        Lock(f"L{i}", draw(st.sampled_from(SKUS)), draw(st.sampled_from(SHOPS)), draw(st.integers(1, 30)),
             NOW + timedelta(hours=draw(st.integers(-2, 5))))
        for i in range(draw(st.integers(0, 3)))
    ]  # fmt: skip
    orders = {sku: {q: draw(st.integers(0, 15)) for q in ("unpaid_orders", "presale")} for sku in SKUS}
    return positions, targets, rules, locks, orders, draw(st.integers(0, 3))


def _sellable(positions, orders, buffer):
    """Per SKU and warehouse: what may be listed at most (on hand - reserved - presale orders - buffer)."""
    out = defaultdict(dict)
    by_sku = defaultdict(list)
    for p in positions:
        by_sku[p.sku].append(p)
    for sku, items in by_sku.items():
        committed = orders[sku]["presale"]
        for p in sorted(items, key=lambda p: p.warehouse_id):
            free = max(0, p.on_hand - p.reserved)
            taken = min(committed, free)
            committed -= taken
            out[sku][p.warehouse_id] = max(0, free - taken - buffer)
    return out


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_the_plan_never_lists_more_than_the_sellable_stock_of_a_warehouse_unless_a_rule_says_so(world):
    positions, targets, rules, locks, orders, buffer = world
    lines = plan(positions, targets, rules, locks, NOW, orders=orders, safety_buffer=buffer)
    assert len(lines) == len(targets)
    sellable = _sellable(positions, orders, buffer)
    used = defaultdict(int)
    for line in lines:
        for warehouse, units in line.by_warehouse:
            used[(line.sku, warehouse)] += units
        assert line.planned == line.allocated + line.locked + line.over_allocated
        assert line.planned >= 0 and line.allocated >= 0
        assert line.allocated <= line.wanted
        rule = select_rule(
            rules,
            line.shop_id,
            line.sku,
            next(t.category for t in targets if (t.shop_id, t.sku) == (line.shop_id, line.sku)),
        )
        assert (rule.name, rule.version) == (line.rule, line.rule_version)
        for warehouse, _ in line.by_warehouse:
            assert rule.counts(warehouse), "units from a warehouse the rule does not count"
        if line.over_allocated:
            assert rule.overallocate or rule.below_minimum == "minimum", line
    active = [lock for lock in locks if lock.active(NOW)]
    for sku in SKUS:
        total = sum(sellable[sku].values())
        planned_here = sum(line.allocated + line.locked for line in lines if line.sku == sku)
        locked_everywhere = sum(lock.quantity for lock in active if lock.sku == sku)
        # locks are carved out whether or not the lock's shop lists the SKU
        assert planned_here <= total
        assert sum(used[(sku, w)] for w in sellable[sku]) + min(locked_everywhere, total) <= total
        for warehouse, most in sellable[sku].items():
            assert used[(sku, warehouse)] <= most


@settings(max_examples=200, deadline=None)
@given(worlds(), st.randoms(use_true_random=False))
def test_the_plan_is_the_same_for_the_same_inputs_in_any_order(world, rnd):
    positions, targets, rules, locks, orders, buffer = world
    first = plan(positions, targets, rules, locks, NOW, orders=orders, safety_buffer=buffer)
    shuffled = [list(x) for x in (positions, targets, rules, locks)]
    for items in shuffled:
        rnd.shuffle(items)
    assert plan(*shuffled[:2], shuffled[2], shuffled[3], NOW, orders=orders, safety_buffer=buffer) == first


@settings(max_examples=300, deadline=None)
@given(
    on_hand=st.integers(0, 500), reserved=st.integers(0, 20), in_transit=st.integers(0, 50),
    percent=st.integers(0, 100), plus=st.integers(-10, 0), minimum=st.integers(0, 20),
    maximum=st.one_of(st.none(), st.integers(20, 400)), below=st.sampled_from(["delist", "minimum"]),
    add_transit=st.booleans(),
)  # fmt: skip
def test_one_shop_with_enough_stock_gets_exactly_floor_of_percent_plus_within_min_and_max(
    on_hand, reserved, in_transit, percent, plus, minimum, maximum, below, add_transit
):
    rule = Rule("r", percent=Decimal(percent), plus=plus, minimum=minimum, maximum=maximum, below_minimum=below,
                add=("in_transit",) if add_transit else (), subtract=("reserved",))  # fmt: skip
    position = Position("S", "W", on_hand=on_hand, reserved=min(reserved, on_hand), in_transit=in_transit)
    (line,) = plan([position], [Target("shop", "S")], [rule], now=NOW)
    x = on_hand - position.reserved + (in_transit if add_transit else 0)
    quantity = (Decimal(x) * percent / 100 + plus).__floor__()
    if maximum is not None:
        quantity = min(quantity, maximum)
    kept_minimum = False
    if quantity < minimum or quantity <= 0:
        kept_minimum = below == "minimum" and minimum > 0
        quantity = minimum if kept_minimum else 0
    assert line.wanted == quantity
    sellable = on_hand - position.reserved
    if quantity <= sellable:
        assert line.planned == quantity and line.over_allocated == 0
    else:  # asks for more than there is: only a kept minimum goes over, and says so
        assert line.allocated == sellable
        if kept_minimum:
            assert line.planned == minimum and line.over_allocated == minimum - sellable
        else:
            assert line.planned == sellable and "scarce" in line.reason


def test_a_lock_counts_only_for_its_shop_and_ends_by_itself():
    position = Position("S", "W", on_hand=30)
    targets = [Target("live", "S"), Target("jd", "S")]
    live = Lock("L1", "S", "live", 20, until=NOW + timedelta(hours=2))
    during = {line.shop_id: line for line in plan([position], targets, [], [live], NOW)}
    assert during["live"].locked == 20 and during["jd"].locked == 0
    assert during["live"].planned + during["jd"].planned == 30
    assert during["jd"].stock == 10  # the locked units do not count for JD
    after = {line.shop_id: line for line in plan([position], targets, [], [live], NOW + timedelta(hours=3))}
    assert after["live"].locked == 0 and after["live"].planned + after["jd"].planned == 30


def test_scarce_stock_goes_to_the_higher_priority_first_then_by_share():
    position = Position("S", "W", on_hand=10)
    rules = [Rule("vip", priority=5, shops=("tmall",)), Rule("rest", shops=("jd", "pdd")),
             Rule("pdd", shops=("pdd",), share=3)]  # fmt: skip
    targets = [Target(s, "S") for s in ("tmall", "jd", "pdd")]
    lines = {line.shop_id: line for line in plan([position], targets, rules, now=NOW)}
    assert lines["tmall"].planned == 10  # the highest priority asks for all ten and gets them
    few = Position("S", "W", on_hand=10)
    rules = [Rule("half", shops=("tmall",), percent=Decimal(50), priority=5), Rule("jd", shops=("jd",)),
             Rule("pdd", shops=("pdd",), share=3)]  # fmt: skip
    lines = {line.shop_id: line for line in plan([few], targets, rules, now=NOW)}
    assert lines["tmall"].planned == 5
    assert (lines["jd"].planned, lines["pdd"].planned) == (
        1,
        4,
    )  # five left, split 1 : 3 by share, rest by share


def test_a_kit_has_the_minimum_over_its_components_of_stock_over_quantity():
    positions = [Position("CUP", "W", on_hand=9), Position("TEA", "W", on_hand=40, reserved=4)]
    kits = {"GIFT": [("CUP", 2), ("TEA", 6)]}
    (line,) = plan(positions, [Target("shop", "GIFT")], [], now=NOW, kits=kits)
    assert line.planned == 4 and line.stock == 4  # min(9 // 2, 36 // 6)


def test_a_rule_that_overallocates_says_so_and_one_that_does_not_never_does():
    position = Position("S", "W", on_hand=10)
    rules = [
        Rule("all", shops=("*",)),
        Rule("stream", shops=("douyin",), priority=1, overallocate=True, plus=5),
    ]
    lines = {
        line.shop_id: line
        for line in plan([position], [Target("douyin", "S"), Target("jd", "S")], rules, now=NOW)
    }
    assert lines["douyin"].planned == 15 and lines["douyin"].over_allocated == 5
    assert "over-allocated" in lines["douyin"].reason
    assert lines["jd"].planned == 0 and "scarce" in lines["jd"].reason


def test_split_never_gives_more_than_there_is_or_than_wanted():
    rnd = random.Random(3)
    for _ in range(500):
        keys = [f"k{i}" for i in range(rnd.randint(1, 5))]
        wants = {k: rnd.randint(0, 30) for k in keys}
        shares = {k: rnd.randint(1, 4) for k in keys}
        amount = rnd.randint(0, 100)
        given = split(amount, wants, shares)
        assert sum(given.values()) == min(amount, sum(wants.values()))
        assert all(0 <= given[k] <= wants[k] for k in keys)


@pytest.mark.parametrize(
    "table, message",
    [
        ({"percent": 80}, "every rule needs a name"),
        ({"name": "a", "persent": 80}, "unknown key 'persent'"),
        ({"name": "a", "add": ["intransit"]}, "add has 'intransit'; the quantities are"),
        ({"name": "a", "percent": "lots"}, "percent must be a number from 0 to 1000"),
        ({"name": "a", "minimum": -1}, "minimum must be a whole number >= 0"),
        ({"name": "a", "minimum": 5, "maximum": 3}, "maximum 3 is below minimum 5"),
        ({"name": "a", "below_minimum": "zero"}, 'below_minimum must be "delist"'),
        ({"name": "a", "add": ["reserved"]}, "'reserved' is both added and subtracted"),
        ({"name": "a", "share": 0}, "share must be a whole number >= 1"),
    ],
)
def test_a_wrong_rule_is_refused_naming_the_rule_and_the_key(table, message):
    with pytest.raises(RuleError, match=None) as refused:
        rule_from_dict(table)
    assert message in str(refused.value)


def test_two_rules_of_one_name_are_refused():
    with pytest.raises(RuleError, match="two rules are named 'a'"):
        rules_from_config([{"name": "a"}, {"name": "a", "percent": 50}])


def test_the_narrowest_rule_wins_a_tie_of_priority():
    rules = [Rule("all"), Rule("tea", categories=("tea",)), Rule("one", skus=("S1",))]
    assert select_rule(rules, "jd", "S1", "tea").name == "one"
    assert select_rule(rules, "jd", "S2", "tea").name == "tea"
    assert select_rule(rules, "jd", "S2", "cups").name == "all"
    assert select_rule([Rule("only_jd", shops=("jd",))], "pdd", "S1", None).name == "default"


def test_units_sold_since_the_pull_are_the_drops_between_sets_plus_what_sold_while_a_set_was_on_its_way():
    from writeback.stock.sync import sold_since_pull

    assert sold_since_pull(10, [], 7) == 3
    assert (
        sold_since_pull(10, [], 12) == 0
    )  # a rise (a cancellation, a back-office edit) is never listed again
    assert sold_since_pull(None, [], 4) == 0
    history = [
        {"before_qty": 8, "result": "ok", "pushed_qty": 12, "planned_qty": 13, "in_flight_qty": 1},
        {"before_qty": 11, "result": "failed", "pushed_qty": None, "planned_qty": 5, "in_flight_qty": 0},
    ]
    assert sold_since_pull(10, history, 9) == (10 - 8) + 1 + (12 - 11) + (11 - 9)
    killed = [{"before_qty": 8, "result": "interrupted", "pushed_qty": None, "planned_qty": 15}]
    assert sold_since_pull(10, killed, 12) == 2 + 3  # a killed push counts as having set the higher level


def test_units_sold_since_the_snapshot_are_reserved_warehouse_by_warehouse_and_a_kits_through_its_components():
    from writeback.stock.plan import with_sales

    positions = [Position("X", "WH-B", 10), Position("X", "WH-A", 5, reserved=1), Position("Y", "WH-A", 3)]
    reserved = {
        (p.sku, p.warehouse_id): p.reserved
        for p in with_sales(positions, {"X": 6, "K": 1}, {"K": [("X", 2)]})
    }
    assert reserved == {("X", "WH-A"): 5, ("X", "WH-B"): 4, ("Y", "WH-A"): 0}
    over = {(p.sku, p.warehouse_id): p.reserved for p in with_sales(positions, {"Y": 5})}
    assert over[("Y", "WH-A")] == 5  # sold is sold: more than there was is still reserved (the plan lists 0)
