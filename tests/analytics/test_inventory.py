"""Inventory health against the simulated shop's truth (marts inventory_health, inventory_health_by_warehouse).

The simulator starves three SKUs (truth_flags kind='starved': their supplier stops delivering, purchase orders stay
open), leaves five with stock and no demand (kind='dead_stock'), and records every stretch a warehouse was out of
stock while there was demand (truth_stockouts). The marts must show:

- every starved SKU as stockout / at_risk / oversold — now, and (replaying the marts with var as_of_date) a few
  days before it ran out, from the fallback demand alone;
- every stock-out still going on at the end of the history, in its warehouse, the same way;
- every dead-stock SKU as dead;
- no false alarms. The rule: the stock position (on hand, reserved, available) equals the world's own, so a
  stockout or oversold row is one the world agrees has nothing left to sell; and every `dead` SKU outside the
  truth flags must, in the world's own orders and stock, have stock at the end, no unit sold for more than
  dead_stock_days and stock for at least that long (a genuinely dead SKU the simulator did not plan) — and there
  may be at most 2 of them.

on_order must equal the world's open purchase-order lines minus their receipts as of the WMS clock (the end of the
world's last day), leaving out the lines more than po_overdue_grace_days past their expected date."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from tests.analytics.dbt_helper import run_dbt

REPO = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
DEAD_STOCK_DAYS = 90  # dbt var dead_stock_days
ALERTS = {"stockout", "at_risk", "oversold"}
MAX_UNPLANNED_DEAD = 2
PO_OVERDUE_GRACE_DAYS = 14  # dbt var po_overdue_grace_days


def _query(path: Path, sql: str) -> pd.DataFrame:
    """Rows as Python values (Decimals stay Decimals, dates stay dates)."""
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(sql)
        return pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])


@pytest.fixture(scope="module")
def health(built_warehouse) -> pd.DataFrame:
    return _query(built_warehouse.build_path, "select * from marts.inventory_health")


@pytest.fixture(scope="module")
def by_warehouse(built_warehouse) -> pd.DataFrame:
    return _query(built_warehouse.build_path, "select * from marts.inventory_health_by_warehouse")


@pytest.fixture(scope="module")
def world_end(pipeline_world) -> date:
    return date.fromisoformat(str(pipeline_world.params["end_date"]))


@pytest.fixture(scope="module")
def clock(world_end) -> pd.Timestamp:
    """The WMS sandbox's clock in the pipeline stack: the end of the world's last local day."""
    return pd.Timestamp(datetime.combine(world_end, time(23, 59, 59), tzinfo=TZ)).tz_convert("UTC")


def _flagged(world, kind: str) -> set[str]:
    flags = world.truth_flags
    return set(flags.loc[flags["kind"] == kind, "sku"])


def _component_units(world, lines: pd.DataFrame) -> pd.DataFrame:
    """Order lines in master-SKU units: a kit line becomes one row per component (units × quantity per kit)."""
    kits = world.kit_components.rename(columns={"kit_sku": "sku", "quantity": "per_kit"})
    exploded = lines.merge(kits, on="sku", how="left")
    is_kit = exploded["component_sku"].notna()
    exploded.loc[is_kit, "sku"] = exploded.loc[is_kit, "component_sku"]
    exploded["units"] = exploded["quantity"] * exploded["per_kit"].fillna(1).astype(int)
    exploded["refunded_units"] = exploded["refunded"] * exploded["per_kit"].fillna(1).astype(int)
    return exploded


@pytest.fixture(scope="module")
def world_lines(pipeline_world) -> pd.DataFrame:
    """Paid order lines of the world with order status, local order date and successfully refunded units."""
    orders = pipeline_world.orders
    paid = orders[orders["paid_at"].notna()][["order_id", "status", "created_at", "shipped_at"]]
    refunds = pipeline_world.refunds
    refunded = refunds[refunds["status"] == "success"].groupby("line_id")["quantity"].sum()
    lines = pipeline_world.order_lines.merge(paid, on="order_id")
    lines["refunded"] = lines["line_id"].map(refunded).fillna(0).astype(int)
    lines["order_date"] = lines["created_at"].dt.tz_convert(TZ).dt.date
    return _component_units(pipeline_world, lines)


@pytest.fixture(scope="module")
def world_position(pipeline_world, world_lines, world_end) -> pd.DataFrame:
    """Per master SKU at the end of the history: on hand (closing snapshot), reserved (paid, not shipped)."""
    snaps = pipeline_world.stock_snapshots
    on_hand = snaps[snaps["snapshot_date"] == world_end].groupby("sku")["on_hand"].sum()
    waiting = world_lines[world_lines["status"] == "paid"]
    reserved = (waiting["units"] - waiting["refunded_units"]).groupby(waiting["sku"]).sum().clip(lower=0)
    position = pd.DataFrame({"on_hand": on_hand}).join(reserved.rename("reserved"), how="left").fillna(0)
    position["available"] = position["on_hand"] - position["reserved"]
    return position.astype(int)


def test_the_stock_position_equals_the_worlds_so_every_stockout_is_real(health, world_position):
    mart = health.set_index("sku")[["on_hand", "reserved", "available"]].astype(int).sort_index()
    assert mart.to_dict("index") == world_position.sort_index().to_dict("index")
    alarmed = health[health["health_status"].isin({"stockout", "oversold"})]
    assert len(alarmed) and (alarmed["available"] <= 0).all()
    stockouts = health[health["health_status"] == "stockout"]
    assert (stockouts["daily_demand"] > 0).all()


def test_the_warehouse_rows_add_up_to_the_sku_totals(health, by_warehouse):
    columns = ["on_hand", "reserved", "available", "on_order", "stock_value_cny", "cogs_90d_cny"]
    sums = by_warehouse.groupby("sku")[columns].sum().sort_index()
    totals = health.set_index("sku")[columns].sort_index()
    assert sums.to_dict("index") == totals.to_dict("index")
    shares = by_warehouse.groupby("sku")["demand_share"].sum()
    assert ((shares - 1).abs() < 1e-9).all()


def test_every_starved_sku_shows_stockout_at_risk_or_oversold(health, pipeline_world, built_warehouse):
    starved = _flagged(pipeline_world, "starved")
    assert starved
    status = health.set_index("sku")["health_status"]
    assert {sku: status[sku] for sku in starved if status[sku] not in ALERTS} == {}
    # their supplier never delivered: an order still within its grace days is on order; past it, it no longer
    # counts as incoming and the SKU gets a suggestion
    suggested = set(
        _query(
            built_warehouse.build_path, "select sku from marts.replenishment_suggestions where needs_order"
        )["sku"]
    )
    on_order = health.set_index("sku")["on_order"]
    assert [sku for sku in sorted(starved) if on_order[sku] == 0 and sku not in suggested] == []


def test_every_stock_out_of_the_world_gets_an_order_or_a_stated_reason(
    health, pipeline_world, built_warehouse, world_end
):
    """Every starved SKU, and every SKU the world has run out of in all its warehouses at the end, has a
    replenishment decision that acts on it: an order, or open purchase orders (not overdue) that cover it — never
    "enough stock". Its overdue purchase orders are flagged, not counted as incoming."""
    truth = pipeline_world.truth_stockouts
    available = health.set_index("sku")["available"]
    ongoing = {
        sku
        for sku in truth.loc[truth["end_date"] == world_end, "sku"]
        if sku in available and available[sku] <= 0
    }
    short = ongoing | _flagged(pipeline_world, "starved")
    assert short
    rows = _query(
        built_warehouse.build_path,
        "select sku, decision, suggested_qty, on_order, overdue_quantity from marts.replenishment_suggestions",
    ).set_index("sku")
    assert {
        sku: rows.loc[sku, "decision"]
        for sku in sorted(short)
        if rows.loc[sku, "decision"] not in ("order", "covered_by_open_pos")
    } == {}
    covered = rows[rows["decision"] == "covered_by_open_pos"]
    assert (covered["on_order"] > 0).all() and (covered["suggested_qty"] == 0).all()
    assert (rows.loc[rows["decision"] == "order", "suggested_qty"] > 0).all()
    # the inventory page and the replenishment page tell one story: the same overdue units per SKU
    assert rows["overdue_quantity"].astype(int).to_dict() == {
        sku: int(health.set_index("sku")["overdue_quantity"].get(sku, 0)) for sku in rows.index
    }


def test_every_stock_out_still_going_on_at_the_end_shows_in_its_warehouse(
    by_warehouse, pipeline_world, world_end
):
    truth = pipeline_world.truth_stockouts
    ongoing = truth[truth["end_date"] == world_end]
    assert len(ongoing)
    status = by_warehouse.set_index(["sku", "warehouse_id"])["health_status"]
    missed = {
        (row.sku, row.warehouse_id): status[(row.sku, row.warehouse_id)]
        for row in ongoing.itertuples()
        if status[(row.sku, row.warehouse_id)] not in ALERTS
    }
    assert missed == {}


def test_a_warehouse_flagged_out_of_stock_really_has_nothing_left_to_sell(
    by_warehouse, pipeline_world, world_position, world_end
):
    snaps = pipeline_world.stock_snapshots
    on_hand = snaps[snaps["snapshot_date"] == world_end].set_index(["sku", "warehouse_id"])["on_hand"]
    out = by_warehouse[by_warehouse["health_status"].isin({"stockout", "oversold"})]
    assert len(out)
    for row in out.itertuples():
        assert on_hand[(row.sku, row.warehouse_id)] <= world_position.loc[row.sku, "reserved"], row.sku


def test_every_dead_stock_sku_is_dead_and_the_others_are_really_unsold(
    health, pipeline_world, world_lines, world_end
):
    dead = _flagged(pipeline_world, "dead_stock")
    assert dead
    status = health.set_index("sku")["health_status"]
    assert {sku: status[sku] for sku in dead if status[sku] != "dead"} == {}

    as_of = health["as_of_date"].iloc[0]
    cutoff = as_of - timedelta(days=DEAD_STOCK_DAYS)
    sold = world_lines[(world_lines["units"] > 0) & (world_lines["order_date"] >= cutoff)]
    recently_sold = set(sold["sku"])
    snaps = pipeline_world.stock_snapshots
    total = snaps.groupby(["sku", "snapshot_date"])["on_hand"].sum().reset_index()
    stocked_since = total[total["on_hand"] > 0].groupby("sku")["snapshot_date"].min()
    at_end = total[total["snapshot_date"] == world_end].set_index("sku")["on_hand"]
    unplanned = set(health.loc[health["health_status"] == "dead", "sku"]) - dead
    for sku in unplanned:
        assert sku not in recently_sold, f"{sku} is flagged dead but sold since {cutoff}"
        assert at_end[sku] > 0 and stocked_since[sku] <= cutoff, sku
    assert len(unplanned) <= MAX_UNPLANNED_DEAD, sorted(unplanned)


def test_on_order_equals_the_open_purchase_order_lines_minus_receipts_as_of_the_clock(
    health, by_warehouse, pipeline_world, clock
):
    orders = pipeline_world.purchase_orders
    orders = orders[orders["ordered_at"] <= clock]
    receipts = pipeline_world.receipts
    receipts = receipts[receipts["received_at"] <= clock]
    received = receipts.groupby(["po_number", "sku"])["quantity"].sum()
    lines = pipeline_world.purchase_order_lines.merge(orders[["po_number", "warehouse_id"]], on="po_number")
    lines["received"] = [
        received.get((p, s), 0) for p, s in zip(lines["po_number"], lines["sku"], strict=True)
    ]
    lines["open"] = (lines["quantity"] - lines["received"]).clip(lower=0)
    still_open = lines.groupby("po_number")["open"].transform("sum") > 0
    # a line more than po_overdue_grace_days past its expected date is overdue, not incoming
    as_of = pd.Timestamp(health["as_of_date"].iloc[0]).date()
    due = lines["po_number"].map(orders.set_index("po_number")["expected_date"])
    overdue = pd.to_datetime(due).dt.date + timedelta(days=PO_OVERDUE_GRACE_DAYS) < as_of
    expected = (
        lines[still_open & (lines["open"] > 0) & ~overdue].groupby(["sku", "warehouse_id"])["open"].sum()
    )
    late = lines[still_open & (lines["open"] > 0) & overdue].groupby(["sku", "warehouse_id"])["open"].sum()
    flagged = by_warehouse[by_warehouse["overdue_quantity"] > 0].set_index(["sku", "warehouse_id"])
    assert (
        flagged["overdue_quantity"].astype(int).sort_index().to_dict()
        == late.astype(int).sort_index().to_dict()
    )
    assert expected.sum() > 0
    mart = by_warehouse[by_warehouse["on_order"] > 0].set_index(["sku", "warehouse_id"])["on_order"]
    assert mart.astype(int).sort_index().to_dict() == expected.astype(int).sort_index().to_dict()
    per_sku = expected.groupby(level="sku").sum()
    assert (
        health[health["on_order"] > 0].set_index("sku")["on_order"].astype(int).to_dict() == per_sku.to_dict()
    )


def test_daily_closing_stock_rebuilt_from_movements_equals_the_worlds_snapshots(
    built_warehouse, pipeline_world
):
    rebuilt = _query(
        built_warehouse.build_path,
        "select sku, warehouse_id, stock_date, closing_on_hand, is_snapshot from intermediate.int_stock_daily",
    )
    assert (~rebuilt["is_snapshot"]).sum() > rebuilt["is_snapshot"].sum()  # mostly rolled back, not served
    snaps = pipeline_world.stock_snapshots.rename(columns={"snapshot_date": "stock_date"})
    joined = rebuilt.merge(snaps, on=["sku", "warehouse_id", "stock_date"], how="left")
    assert joined["on_hand"].notna().all()
    assert (joined["closing_on_hand"] == joined["on_hand"]).all()


def test_stock_is_valued_at_the_moving_average_cost_of_the_receipts(health, pipeline_world):
    # the simulator receives every SKU at its standard cost, so the moving average stays the master cost
    cost = pipeline_world.products.set_index("sku")["unit_cost"]
    for row in health.itertuples():
        assert row.unit_cost == cost[row.sku]
        assert row.stock_value_cny == (row.on_hand * cost[row.sku]).quantize(row.stock_value_cny)


# -- replay: starved SKUs are flagged before they run out -----------------------------------------------------


@pytest.mark.slow
def test_starved_skus_are_at_risk_days_before_they_run_out(built_warehouse, pipeline_world, tmp_path):
    """Replayed with var as_of_date 3 days before each starved SKU's stock (all warehouses) first hit zero, on the
    fallback demand (the forecast mart is built for today only)."""
    snaps = pipeline_world.stock_snapshots
    total = snaps.groupby(["sku", "snapshot_date"])["on_hand"].sum()
    replays: dict[date, set[str]] = {}
    for sku in _flagged(pipeline_world, "starved"):
        stocked = [day for day, units in total[sku].items() if units > 0]
        out_days = [day for day, units in total[sku].items() if units == 0 and day > min(stocked)]
        assert out_days, f"{sku} never ran out"
        replays.setdefault(min(out_days) - timedelta(days=3), set()).add(sku)
    build = tmp_path / "build.duckdb"
    shutil.copy(built_warehouse.build_path, build)
    chain = [
        "int_sku_demand_rates",
        "int_inventory_positions",
        "int_sku_inventory_signals",
        "inventory_health",
    ]
    for as_of, skus in sorted(replays.items()):
        variables = f"{{as_of_date: '{as_of}', inventory_uses_forecast: false}}"
        run_dbt(build, tmp_path, "run", "-s", *chain, "--vars", variables)
        replayed = _query(build, "select sku, stock_date, on_hand, health_status from marts.inventory_health")
        replayed = replayed.set_index("sku")
        # still on the shelf (all of it may already be promised to paid orders: available 0 is an alert too)
        assert (replayed.loc[sorted(skus), "on_hand"] > 0).all(), f"already out on {as_of}"
        statuses = replayed.loc[sorted(skus), "health_status"].to_dict()
        assert {sku: s for sku, s in statuses.items() if s not in ALERTS} == {}, as_of


def test_the_90_day_margin_behind_gmroi_adds_up_to_the_order_lines_margin(built_warehouse, health):
    lines = _query(
        built_warehouse.build_path,
        "select sum(contribution_margin_cny) as margin from marts.order_line_margins "
        "where is_mapped and order_date >= (select max(as_of_date) - 90 from marts.inventory_health) "
        "and order_date < (select max(as_of_date) from marts.inventory_health)",
    )
    # a kit line's margin is split over its components by value, and each SKU's sum is rounded to cents once:
    # the SKUs together may differ from the lines by at most half a cent per SKU
    difference = abs(health["contribution_margin_90d_cny"].sum() - lines["margin"].iloc[0])
    assert difference <= Decimal("0.005") * len(health)
    with_stock = health[health["avg_stock_value_90d_cny"] > 0]
    expected = [
        float(m / v)
        for m, v in zip(
            with_stock["contribution_margin_90d_cny"], with_stock["avg_stock_value_90d_cny"], strict=True
        )
    ]
    assert with_stock["gmroi_90d"].tolist() == pytest.approx(expected)


def test_every_purchase_order_lines_delivery_status_is_the_worlds_and_starved_skus_show_as_late(
    built_warehouse, pipeline_world, clock
):
    """supplier_deliveries against the world's POs and receipts as of the WMS clock: the day each line was
    received in full (local), on time or late against its expected date, and open lines past due split at the
    grace days; every SKU whose supplier stopped delivering has a line late or overdue; supplier_performance's
    counts are the lines' counts."""
    mart = _query(built_warehouse.build_path, "select * from marts.supplier_deliveries").set_index(
        "po_line_id"
    )
    as_of = mart["as_of_date"].iloc[0]
    orders = pipeline_world.purchase_orders
    orders = orders[orders["ordered_at"] <= clock].set_index("po_number")
    receipts = pipeline_world.receipts
    receipts = receipts[receipts["received_at"] <= clock].sort_values(["received_at", "receipt_id"])
    lines = pipeline_world.purchase_order_lines
    lines = lines[lines["po_number"].isin(orders.index)]
    expected: dict[str, str] = {}
    for line in lines.itertuples():
        got = receipts[(receipts["po_number"] == line.po_number) & (receipts["sku"] == line.sku)]
        reached = got[got["quantity"].cumsum() >= line.quantity]
        due = orders.at[line.po_number, "expected_date"]
        if orders.at[line.po_number, "status"] == "cancelled":
            expected[f"{line.po_number}|{line.sku}"] = "cancelled"
        elif not reached.empty:
            day = reached["received_at"].iloc[0].tz_convert(TZ).date()
            expected[f"{line.po_number}|{line.sku}"] = "on_time" if day <= due else "late"
        elif as_of <= due:
            expected[f"{line.po_number}|{line.sku}"] = "open"
        else:
            late = due + timedelta(days=PO_OVERDUE_GRACE_DAYS) < as_of
            expected[f"{line.po_number}|{line.sku}"] = "overdue" if late else "late_open"
    assert set(mart.index) == set(expected)
    # a line received in full on a day the WMS's receipt history no longer holds is 'received' (not rated)
    rated = mart[mart["delivery_status"] != "received"]
    assert len(rated) > 0.5 * len(mart)
    assert rated["delivery_status"].to_dict() == {k: expected[k] for k in rated.index}
    statuses = set(rated["delivery_status"])
    assert {"on_time", "late", "open"} <= statuses
    for sku in _flagged(pipeline_world, "starved"):
        assert set(mart.loc[mart["sku"] == sku, "delivery_status"]) & {"late_open", "overdue"}, sku
    performance = _query(built_warehouse.build_path, "select * from marts.supplier_performance")
    counts = mart.groupby("supplier_id")["delivery_status"].value_counts().unstack(fill_value=0)
    for row in performance.itertuples():
        assert row.lines_on_time == counts.loc[row.supplier_id].get("on_time", 0)
        assert row.overdue_lines == counts.loc[row.supplier_id].get("overdue", 0)
        rated_lines = sum(
            counts.loc[row.supplier_id].get(s, 0) for s in ("on_time", "late", "late_open", "overdue")
        )
        if rated_lines:
            assert row.on_time_rate == pytest.approx(row.lines_on_time / rated_lines)
