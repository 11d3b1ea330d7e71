"""The ops store keeps every purchase-order decision in SQLite (never the warehouse); the latest one counts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from dashboards.settings import ops_path
from writeback import ops_store as ops

LINE = {"draft_id": "DRAFT-20260630-SUP01", "sku": "AP-0001-M", "supplier_id": "SUP01", "suggested_qty": 120}


def test_the_store_and_its_schema_are_created_on_first_use_in_wal_mode(tmp_path):
    store = tmp_path / "nested" / "ops.sqlite"

    ops.record(store, ops.decide(**LINE, quantity=120))

    assert store.is_file()
    with sqlite3.connect(store) as con:
        assert con.execute("pragma journal_mode").fetchone() == ("wal",)
        tables = {r[0] for r in con.execute("select name from sqlite_master where type in ('table', 'view')")}
    assert {"po_decisions", "po_decisions_current"} <= tables


def test_approving_the_suggested_quantity_is_approved_and_a_different_one_is_edited(tmp_path):
    store = tmp_path / "ops.sqlite"

    ops.record(store, ops.decide(**LINE, quantity=120, snapshot_version="2026-07-01T01:30:00+00:00"))
    ops.record(store, ops.decide(**{**LINE, "sku": "HM-0003"}, quantity=96, note="  one carton less  "))

    current = ops.current_decisions(store).set_index("sku")
    assert current.loc["AP-0001-M", "status"] == "approved"
    assert current.loc["AP-0001-M", "approved_qty"] == 120
    assert current.loc["AP-0001-M", "snapshot_version"] == "2026-07-01T01:30:00+00:00"
    assert current.loc["HM-0003", "status"] == "edited"
    assert current.loc["HM-0003", "approved_qty"] == 96
    assert current.loc["HM-0003", "suggested_qty"] == 120
    assert current.loc["HM-0003", "note"] == "one carton less"


def test_the_latest_decision_on_a_line_wins_and_the_earlier_ones_stay_in_its_history(tmp_path):
    store = tmp_path / "ops.sqlite"
    first = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)

    ops.record(store, ops.decide(**LINE, quantity=120), decided_at=first)
    ops.record(store, ops.decide(**LINE, quantity=None, reject=True, note="supplier on holiday"))

    (row,) = ops.current_decisions(store, [LINE["draft_id"]]).to_dict("records")
    assert row["status"] == "rejected" and row["approved_qty"] is None
    assert row["note"] == "supplier on holiday"
    assert list(ops.history(store, LINE["draft_id"], LINE["sku"])["status"]) == ["approved", "rejected"]
    assert ops.history(store, LINE["draft_id"], LINE["sku"])["decided_at"][0] == "2026-07-01T02:00:00+00:00"


def test_a_decision_made_on_a_line_someone_else_decided_meanwhile_is_refused_and_theirs_stands(tmp_path):
    store = tmp_path / "ops.sqlite"
    # two managers load the page while the line is undecided (seen = None)
    mine = ops.record(store, ops.decide(**LINE, quantity=120), seen=None)
    with pytest.raises(ops.StaleDecision, match=r"someone approved 120 units this line at .* not saved"):
        ops.record(store, ops.decide(**LINE, quantity=None, reject=True), seen=None)
    (row,) = ops.current_decisions(store).to_dict("records")
    assert (row["decision_id"], row["status"]) == (mine, "approved")
    # after a reload the second manager sees the approval and may replace it
    theirs = ops.record(store, ops.decide(**LINE, quantity=None, reject=True), seen=mine)
    assert ops.current_decisions(store).to_dict("records")[0]["decision_id"] == theirs
    assert list(ops.history(store, LINE["draft_id"], LINE["sku"])["status"]) == ["approved", "rejected"]


@pytest.mark.parametrize("quantity", [0, -12, None, 1.5])
def test_an_approval_needs_a_whole_quantity_above_zero(quantity):
    with pytest.raises(ops.OpsStoreError, match="AP-0001-M.*reject the line"):
        ops.decide(**LINE, quantity=quantity)


def test_reading_a_store_that_does_not_exist_yet_shows_no_decisions_and_creates_no_file(tmp_path):
    store = tmp_path / "ops.sqlite"

    assert ops.current_decisions(store).empty
    assert ops.current_decisions(store, ["DRAFT-X"]).empty
    assert not store.exists()


def test_decisions_are_filtered_to_the_drafts_asked_for(tmp_path):
    store = tmp_path / "ops.sqlite"
    ops.record(store, ops.decide(**LINE, quantity=120))
    ops.record(store, ops.decide(**{**LINE, "draft_id": "DRAFT-20260629-SUP01"}, quantity=60))

    assert list(ops.current_decisions(store, ["DRAFT-20260630-SUP01"])["draft_id"]) == [
        "DRAFT-20260630-SUP01"
    ]
    assert ops.current_decisions(store, []).empty


def test_a_store_path_that_cannot_be_created_names_the_setting_to_fix(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    with pytest.raises(ops.OpsStoreError, match="ops_path.*SHOPKEEP_OPS_PATH"):
        ops.record(blocker / "ops.sqlite", ops.decide(**LINE, quantity=120))


def test_the_ops_path_comes_from_the_environment_else_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "shopkeep.toml"
    config.write_text('[warehouse]\nserve_path = "serve.duckdb"\nops_path = "state/ops.sqlite"\n')
    monkeypatch.delenv("SHOPKEEP_OPS_PATH", raising=False)
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(config))
    assert ops_path() == tmp_path / "state" / "ops.sqlite"

    config.write_text('[warehouse]\nserve_path = "serve.duckdb"\n')
    assert ops_path() == tmp_path / ".shopkeep" / "ops.sqlite"  # orchestration's default

    monkeypatch.setenv("SHOPKEEP_OPS_PATH", str(tmp_path / "elsewhere.sqlite"))
    assert ops_path() == tmp_path / "elsewhere.sqlite"


# -- monthly targets per shop ---------------------------------------------------------------------------------


def test_a_target_is_versioned_the_latest_counts_and_clearing_it_removes_it(tmp_path):
    from datetime import date
    from decimal import Decimal

    from orchestration.ingest import read_ops_targets

    store = tmp_path / "ops.sqlite"
    june = date(2026, 6, 17)  # any day of the month: the month counts
    ops.set_target(store, shop_id="tmall_flagship", month=june, net_revenue_target="500,000", set_by="li")
    ops.set_target(store, shop_id="tmall_flagship", month=june, net_revenue_target=600000,
                   contribution_target="-1000.5", set_by="wang")  # fmt: skip
    ops.set_target(store, shop_id="jd_pop", month=june, contribution_target=20000)
    ops.set_target(store, shop_id="jd_pop", month=date(2026, 7, 1), net_revenue_target=1)
    ops.set_target(store, shop_id="jd_pop", month=date(2026, 7, 1))  # both empty: cleared

    current = ops.current_targets(store)
    assert current[
        ["shop_id", "month", "net_revenue_target", "contribution_target", "set_by"]
    ].values.tolist() == [
        ["jd_pop", "2026-06-01", None, Decimal("20000.00"), "manager"],
        ["tmall_flagship", "2026-06-01", Decimal("600000.00"), Decimal("-1000.50"), "wang"],
    ]
    history = ops.target_history(store, "tmall_flagship", june)
    assert history["net_revenue_target"].tolist() == ["500000.00", "600000.00"]
    assert history["set_by"].tolist() == ["li", "wang"]
    # what the build copies into raw_ops.shop_targets: the same, read-only
    rows = read_ops_targets(store)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("jd_pop", "2026-06-01", None, "20000.00"),
        ("tmall_flagship", "2026-06-01", "600000.00", "-1000.50"),
    ]
    assert read_ops_targets(tmp_path / "absent.sqlite") == []


@pytest.mark.parametrize(
    ("revenue", "contribution", "message"),
    [("abc", None, "not a number"), (-5, None, "at least 0"), (None, "1e400x", "not a number")],
)
def test_a_target_that_is_not_an_amount_is_refused_naming_the_shop(tmp_path, revenue, contribution, message):
    from datetime import date

    with pytest.raises(ops.OpsStoreError, match=message) as err:
        ops.set_target(tmp_path / "ops.sqlite", shop_id="pdd_main", month=date(2026, 6, 1),
                       net_revenue_target=revenue, contribution_target=contribution)  # fmt: skip
    assert "pdd_main" in str(err.value)


def test_stock_rules_and_locks_keep_every_version_and_refuse_an_edit_from_a_stale_one(tmp_path):
    from datetime import UTC, datetime, timedelta

    from writeback.stock import store

    path = tmp_path / "ops.sqlite"
    first = store.save_rule(path, {"name": "live", "shops": ["douyin_live"], "percent": 90}, "ann", 0)
    assert first.version == 1 and str(first.percent) == "90"
    second = store.save_rule(path, {"name": "live", "shops": ["douyin_live"], "percent": 70}, "bo", 1)
    assert second.version == 2
    with pytest.raises(store.StaleEdit, match=r"changed by bo at .* \(now version 2, you edited version 1\)"):
        store.save_rule(path, {"name": "live", "percent": 10}, "ann", 1)  # ann still looked at version 1
    assert [r.percent for r in store.current_rules(path)] == [70]
    history = store.rule_history(path, "live")
    assert list(history["version"]) == [2, 1] and list(history["changed_by"]) == ["bo", "ann"]
    store.delete_rule(path, "live", "bo", 2)
    assert store.current_rules(path) == []

    until = datetime(2026, 12, 4, 14, tzinfo=UTC)
    store.save_lock(path, "L1", "HM-0001", "douyin_live", 20, until, "ann", 0, note="live stream")
    store.save_lock(path, "L1", "HM-0001", "douyin_live", 0, until, "bo", 1)  # released early
    (lock,) = store.current_locks(path)
    assert (lock.quantity, lock.version) == (0, 2) and not lock.active(until - timedelta(hours=1))
    with pytest.raises(store.StaleEdit):
        store.save_lock(path, "L1", "HM-0001", "douyin_live", 5, until, "ann", 1)


def test_a_wrong_rule_from_the_page_is_refused_and_nothing_is_stored(tmp_path):
    from writeback.stock import store
    from writeback.stock.rules import RuleError

    path = tmp_path / "ops.sqlite"
    with pytest.raises(RuleError, match="below_minimum must be"):
        store.save_rule(path, {"name": "x", "below_minimum": "zero"}, "ann", 0)
    assert store.current_rules(path) == []


def test_many_connections_deciding_at_once_on_a_new_store_lose_nothing(tmp_path):
    """Concurrent writers (a connection each) on a store that does not exist yet: every decision lands (no
    "database is locked" while the first ones create the schema)."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "new" / "ops.sqlite"
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(_decide_many, [str(path)] * 8, range(8)))
    assert sum(len(x) for x in ids) == 8 * 50
    assert len(ops.current_decisions(path)) == 8 * 50


def _decide_many(path: str, worker: int) -> list[int]:
    return [
        ops.record(path, ops.decide(**{**LINE, "sku": f"W{worker}-{n}"}, quantity=120)) for n in range(50)
    ]
