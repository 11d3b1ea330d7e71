"""The order review queue against what the simulator injects (sandbox/shop/generate.py and friends): buyers
without a city or street address (buyers.py, ~0.4 %), buyer and seller remarks (sales.py), slow shipments
(orders.py: 2 % ship 73–150 h after payment), listings whose merchant code matches no master SKU
(listings.py) — each open order must carry exactly the reasons the world says it has."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
PROMISE = timedelta(hours=48)  # seeds/channel_ship_promises.csv: every channel 48 h
HIGH_VALUE_CNY = Decimal("2000")  # var exception_high_value_cny
BOUNDARY = timedelta(hours=3)  # orders this close to their promise are skipped (the build ran a while ago)


def _query(settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        return con.execute(sql).df()


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""


@pytest.fixture(scope="module")
def queue(built_warehouse) -> pd.DataFrame:
    frame = _query(built_warehouse, "select * from marts.order_exceptions")
    frame["platform_order_id"] = frame["order_id"].str.split(":", n=1).str[1]
    return frame.set_index("platform_order_id")


@pytest.fixture(scope="module")
def open_orders(pipeline_world) -> pd.DataFrame:
    """The world's orders paid and not shipped (nor cancelled or refunded) at its end, with their lines."""
    orders = pipeline_world.orders
    return orders[orders["status"] == "paid"].set_index("order_id")


@pytest.fixture(scope="module")
def keywords() -> list[str]:
    with (REPO / "dbt_project" / "seeds" / "remark_keywords.csv").open(encoding="utf-8") as f:
        return [row["keyword"].lower() for row in csv.DictReader(f)]


def test_has_address_detail_is_false_exactly_for_orders_without_a_street_address(
    built_warehouse, pipeline_world
):
    loaded = _query(
        built_warehouse, "select order_id, has_address_detail from intermediate.int_orders_unified"
    )
    loaded["platform_order_id"] = loaded["order_id"].str.split(":", n=1).str[1]
    world = pipeline_world.orders.set_index("order_id")["address_detail"].map(_blank)
    missing = {o for o in loaded.loc[~loaded["has_address_detail"], "platform_order_id"]}
    expected = {o for o in loaded["platform_order_id"] if world.get(o, False)}
    assert len(expected) > 0
    assert missing == expected


def test_no_street_address_is_stored_in_the_clear(built_warehouse, pipeline_world):
    keys = _query(built_warehouse, "select distinct address_key from intermediate.int_orders_unified")[
        "address_key"
    ]
    clear = set(pipeline_world.orders["address_detail"].dropna())
    assert not clear & set(keys.dropna())
    assert keys.dropna().str.startswith("h:").all()


def test_every_open_order_carries_exactly_the_reasons_the_world_gives_it(
    queue, open_orders, pipeline_world, keywords
):
    world = pipeline_world
    products = set(world.products["sku"])
    lines = world.order_lines[world.order_lines["order_id"].isin(open_orders.index)]
    rate = {(r.month, r.currency): r.rate_to_cny for r in world.fx_rates.itertuples()}
    now = datetime.now(UTC)
    checked = 0
    for order_id, order in open_orders.iterrows():
        paid_at = order["paid_at"].floor("us").to_pydatetime()
        if abs(paid_at + PROMISE - now) < BOUNDARY:
            continue
        month = order["created_at"].tz_convert("Asia/Shanghai").date().replace(day=1)
        fx = Decimal(1) if order["currency"] == "CNY" else rate[(month, order["currency"])]
        own = lines[lines["order_id"] == order_id]
        remarks = f"{order['buyer_remark'] or ''} {order['seller_remark'] or ''}".lower()
        expected = {
            "address_incomplete": any(_blank(order[c]) for c in ("province", "city", "address_detail")),
            "remark_attention": any(k in remarks for k in keywords),
            "high_value": sum(own["paid_amount"]) * fx > HIGH_VALUE_CNY,
            "ship_overdue": paid_at + PROMISE < now,
            "unmapped_sku": bool(set(own["outer_id"]) - products),
        }
        if not any(expected.values()):
            assert order_id not in queue.index or queue.at[order_id, "oversold_sku"], order_id
            continue
        assert order_id in queue.index, (order_id, expected)
        row = queue.loc[order_id]
        assert {k: bool(row[k]) for k in expected} == expected, order_id
        checked += 1
    assert checked > 0
    assert set(queue.index) <= set(open_orders.index)


def test_the_simulators_injected_exceptions_reach_the_queue(queue, open_orders, pipeline_world):
    """Slow shipments and remarks are frequent enough to be among every test shop's open orders; unmapped
    merchant codes and broken addresses are rarer: when the world has an open order with one, it is queued."""
    assert queue["ship_overdue"].sum() > 0
    assert queue["remark_attention"].sum() > 0
    unmapped_codes = set(pipeline_world.listings["outer_id"]) - set(pipeline_world.products["sku"])
    lines = pipeline_world.order_lines
    with_unmapped = set(lines.loc[lines["outer_id"].isin(unmapped_codes), "order_id"]) & set(
        open_orders.index
    )
    assert with_unmapped == set(queue.index[queue["unmapped_sku"]])
    flagged = {c for codes in queue["unmapped_codes"] for c in codes}
    assert flagged <= unmapped_codes
    broken = open_orders[(open_orders["city"] == "") | (open_orders["address_detail"] == "")]
    assert set(broken.index) == set(queue.index[queue["address_incomplete"]])


def test_no_possible_duplicates_where_the_world_has_none(queue, pipeline_world):
    orders = pipeline_world.orders
    live = orders[~orders["status"].isin(["cancelled", "refunded"])]
    items = (
        pipeline_world.order_lines.assign(item=lambda f: f["outer_id"] + "x" + f["quantity"].astype(str))
        .groupby("order_id")["item"]
        .apply(lambda s: ",".join(sorted(s)))
    )
    live = live.assign(items=live["order_id"].map(items))
    twins = set()
    for _, group in live.groupby(["shop_id", "buyer_id", "address_detail", "items"]):
        times = group.sort_values("created_at")
        gaps = times["created_at"].diff() <= pd.Timedelta(hours=1)
        for i in range(1, len(times)):
            if gaps.iloc[i]:
                twins |= {times["order_id"].iloc[i - 1], times["order_id"].iloc[i]}
    flagged = set(queue.index[queue["possible_duplicate"]])
    assert flagged == twins & set(queue.index)


def test_oversold_orders_hold_a_sku_inventory_health_calls_oversold(queue, built_warehouse):
    oversold = set(
        _query(built_warehouse, "select sku from marts.inventory_health where health_status = 'oversold'")[
            "sku"
        ]
    )
    for skus in queue.loc[queue["oversold_sku"], "oversold_skus"]:
        assert set(skus) and set(skus) <= oversold
