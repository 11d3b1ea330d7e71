"""The lean path's change queue (writeback/stock/store.py) and what it adds to the snapshot's positions: a change
that lands while a plan's pushes are on their way is planned again, a failed SKU backs off, a movement listed
twice counts once, and shipments are not taken off twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from writeback.stock import store
from writeback.stock.plan import Position, with_movements
from writeback.stock.sync import affected_skus

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def _movement(n: int, sku: str, kind: str, quantity: int, at: datetime, warehouse: str = "WH-SH") -> dict:
    return {"id": f"MV-{n}", "moved_at": at.isoformat().replace("+00:00", "Z"), "warehouse": warehouse,
            "merchant_code": sku, "type": kind, "quantity": quantity}  # fmt: skip


def test_a_change_that_lands_while_the_plan_is_pushing_keeps_its_sku_queued(tmp_path):
    ops = tmp_path / "ops.sqlite"
    store.note_changes(ops, {"A": "receipt +40 at WH-SH", "B": "jd_pop lists 3 (was 5)"}, T0)
    taken = store.dirty_skus(ops, T0)
    assert taken == {"A": 1, "B": 1}
    store.note_changes(ops, {"A": "douyin_live lists 7 (was 9)"}, T0)  # while the pushes are on their way
    store.mark_planned(ops, taken, failed=set(), at=T0)
    assert store.dirty_skus(ops, T0) == {"A": 2}
    store.mark_planned(ops, {"A": 2}, failed=set(), at=T0)
    assert store.dirty_skus(ops, T0) == {}


def test_a_sku_whose_push_failed_is_tried_again_later_and_later(tmp_path):
    ops = tmp_path / "ops.sqlite"
    store.note_changes(ops, {"A": "receipt +1 at WH-SH"}, T0)
    store.mark_planned(ops, {"A": 1}, failed={"A", "KIT-A"}, at=T0)  # a kit of A failed too
    assert store.dirty_skus(ops, T0) == {}
    assert store.dirty_skus(ops, T0 + timedelta(seconds=store.RETRY_SECONDS)) == {"A": 1, "KIT-A": 1}
    store.mark_planned(ops, {"A": 1, "KIT-A": 1}, failed={"A"}, at=T0 + timedelta(seconds=30))
    # the second failure in a row waits twice as long
    assert store.dirty_skus(ops, T0 + timedelta(seconds=30 + 59)) == {}
    assert store.dirty_skus(ops, T0 + timedelta(seconds=30 + 60)) == {"A": 1}
    store.mark_planned(ops, {"A": 1}, failed=set(), at=T0 + timedelta(seconds=90))
    queue = store.change_queue(ops).set_index("sku")
    assert queue.loc["A", "failures"] == 0 and queue.loc["KIT-A", "failures"] == 0


def test_a_movement_listed_twice_counts_once_and_shipments_are_not_taken_off_again(tmp_path):
    ops = tmp_path / "ops.sqlite"
    counted = T0 - timedelta(hours=3)
    page = [
        _movement(1, "A", "receipt", 40, T0),
        _movement(2, "A", "shipment", -2, T0),  # its sale is reserved already (snapshot or read back)
        _movement(3, "A", "adjustment", -5, T0, "WH-GZ"),
        _movement(4, "B", "return", 1, counted - timedelta(minutes=1)),  # counted by the snapshot already
    ]
    assert store.record_movements(ops, page, T0) == 4
    assert store.record_movements(ops, page[:2], T0) == 0  # the overlap of the next look
    assert store.movement_cursor(ops) == T0
    assert store.movements_after(ops, counted) == {("A", "WH-SH"): 40, ("A", "WH-GZ"): -5}
    assert store.dirty_skus(ops, T0) == {"A": 1, "B": 1}
    positions = [Position("A", "WH-SH", on_hand=10, reserved=2), Position("A", "WH-GZ", on_hand=3)]
    assert with_movements(positions, store.movements_after(ops, counted)) == [
        Position("A", "WH-SH", on_hand=50, reserved=2),
        Position("A", "WH-GZ", on_hand=0),
    ]
    assert with_movements([], {("C", "WH-SH"): 6}) == [Position("C", "WH-SH", on_hand=6)]


def test_a_listing_that_changed_on_its_platform_queues_its_sku_and_a_first_sight_does_not(tmp_path):
    ops = tmp_path / "ops.sqlite"
    assert (
        store.saw_listings(ops, {"L1": ("jd_pop", "A", 5), "L2": ("pdd_main", "B", 2)}, T0, bump=True) == {}
    )
    changed = store.saw_listings(ops, {"L1": ("jd_pop", "A", 3), "L2": ("pdd_main", "B", 2)}, T0, bump=True)
    assert changed == {"A": "jd_pop lists 3 (was 5)"} and store.dirty_skus(ops, T0) == {"A": 1}
    store.saw_listings(ops, {"L2": ("pdd_main", "B", 9)}, T0)  # shopkeep's own push: no change to react to
    assert store.saw_listings(ops, {"L2": ("pdd_main", "B", 9)}, T0, bump=True) == {}


def test_a_lock_queues_its_sku_a_rule_every_sku_and_a_kit_plans_with_its_components():
    kits = {"KIT-AB": [("A", 1), ("B", 2)], "KIT-BC": [("B", 1), ("C", 1)], "KIT-D": [("D", 1)]}
    assert affected_skus({"A"}, kits) == {"A", "KIT-AB"}
    assert affected_skus({"KIT-AB"}, kits) == {"KIT-AB", "A", "B", "KIT-BC"}


def test_edits_of_locks_and_rules_queue_what_they_change(tmp_path):
    ops = tmp_path / "ops.sqlite"
    store.save_lock(ops, "live", "A", "douyin_live", 5, T0 + timedelta(hours=3), "ming", 0, at=T0)
    assert store.dirty_skus(ops, T0) == {"A": 1}
    store.save_rule(ops, {"name": "half", "percent": 50}, "ming", 0, at=T0)
    assert store.dirty_skus(ops, T0) == {"A": 1, store.EVERY_SKU: 1}
