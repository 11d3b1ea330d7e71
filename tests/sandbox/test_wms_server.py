"""The WMS sandbox serves the world's closing stock and movements behind a bearer token, with a movable clock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import httpx
import numpy as np
import pandas as pd
import pytest

from sandbox.runner import start
from sandbox.wms import create_app
from sandbox.world import World

TOKEN = "wms-test-token"
END = date(2026, 6, 30)


def tiny_world(days: int = 40, skus: int = 7, end: date = END) -> World:
    """Two warehouses, a few SKUs, daily movements and the closing stock they add up to."""
    rng = np.random.default_rng(7)
    start_day = end - timedelta(days=days - 1)
    snapshots, movements = [], []
    for warehouse in ("WH-SH", "WH-GZ"):
        for s in range(skus):
            sku = f"AP-{s:04d}-M"
            on_hand = int(rng.integers(20, 200))
            for d in range(days):
                day = start_day + timedelta(days=d)
                for k in range(int(rng.integers(1, 4))):
                    qty = int(rng.integers(-8, 12))
                    qty = max(qty, -on_hand)
                    if qty == 0:
                        continue
                    on_hand += qty
                    moved = pd.Timestamp(f"{day}T{int(rng.integers(0, 16)):02d}:{k * 7:02d}:00", tz="UTC")
                    movements.append(
                        {
                            "movement_id": f"MV-{len(movements) + 1:07d}",
                            "moved_at": moved,
                            "warehouse_id": warehouse,
                            "sku": sku,
                            "type": "receipt" if qty > 0 else "shipment",
                            "quantity": qty,
                            "reference": f"PO-{day:%Y%m%d}-001" if qty > 0 else f"O{len(movements)}",
                        }
                    )
                snapshots.append(
                    {"snapshot_date": day, "warehouse_id": warehouse, "sku": sku, "on_hand": on_hand}
                )
    tables = {
        "warehouses": pd.DataFrame(
            {"warehouse_id": ["WH-SH", "WH-GZ"], "name": ["上海仓", "广州仓"], "city": ["上海", "广州"]}
        ),
        "stock_snapshots": pd.DataFrame(snapshots),
        "stock_movements": pd.DataFrame(movements),
    }
    return World(params={"end_date": end.isoformat()}, tables=tables)


@pytest.fixture(scope="module")
def world() -> World:
    return tiny_world()


@pytest.fixture()
def server(world):
    running = start(create_app(world, token=TOKEN, now="2026-06-20T04:00:00Z"), "wms-test")
    yield running
    running.stop()


@pytest.fixture()
def api(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def test_a_request_without_the_right_bearer_token_is_refused_with_401(server):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = httpx.get(f"{server.url}/api/v1/stock", params={"warehouse": "WH-SH"}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized"}


def test_stock_without_a_date_is_the_closing_stock_of_the_clocks_local_day(api, world):
    body = api.get("/api/v1/stock", params={"warehouse": "WH-SH"}).json()
    snaps = world.stock_snapshots
    expected = snaps[(snaps.warehouse_id == "WH-SH") & (snaps.snapshot_date == date(2026, 6, 20))]
    assert body["date"] == "2026-06-20"  # 04:00 UTC is noon in Shanghai
    assert body["total"] == len(expected)
    assert {i["merchant_code"]: i["on_hand"] for i in body["items"]} == dict(
        zip(expected.sku, expected.on_hand, strict=True)
    )
    assert {i["warehouse"] for i in body["items"]} == {"WH-SH"}


def test_stock_of_a_past_date_pages_through_every_sku_without_overlap(api, world):
    pages = [
        api.get(
            "/api/v1/stock", params={"warehouse": "WH-GZ", "date": "2026-06-01", "page": p, "page_size": 3}
        ).json()
        for p in (1, 2, 3)
    ]
    codes = [item["merchant_code"] for page in pages for item in page["items"]]
    assert len(codes) == len(set(codes)) == pages[0]["total"] == 7
    assert all(page["date"] == "2026-06-01" for page in pages)


def test_a_clock_after_the_last_snapshot_serves_the_latest_snapshot(world):
    running = start(create_app(world, token=TOKEN, now="2026-08-01T00:00:00Z"), "wms-late")
    try:
        body = httpx.get(
            f"{running.url}/api/v1/stock",
            params={"warehouse": "WH-SH"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).json()
    finally:
        running.stop()
    assert body["date"] == END.isoformat()
    assert body["total"] == 7


@pytest.mark.parametrize(
    ("params", "status", "phrase"),
    [
        ({"warehouse": "WH-XX"}, 404, "WH-XX"),
        ({"warehouse": "WH-SH", "page_size": 501}, 400, "page_size"),
        ({"warehouse": "WH-SH", "date": "2026-06-21"}, 400, "future"),
        ({"warehouse": "WH-SH", "date": "21/06/2026"}, 400, "YYYY-MM-DD"),
    ],
)
def test_bad_stock_requests_are_refused_with_a_message_saying_what_is_wrong(api, params, status, phrase):
    response = api.get("/api/v1/stock", params=params)
    assert response.status_code == status
    assert phrase in response.json()["error"]


def test_movements_are_sorted_paged_and_stop_at_the_clock(api, world):
    items, page = [], 1
    while True:
        body = api.get(
            "/api/v1/movements", params={"since": "2026-06-10T00:00:00Z", "page": page, "page_size": 50}
        ).json()
        items += body["items"]
        if not body["has_next"]:
            break
        page += 1
    moves = world.stock_movements
    expected = moves[
        (moves.moved_at >= pd.Timestamp("2026-06-10", tz="UTC"))
        & (moves.moved_at <= pd.Timestamp("2026-06-20T04:00:00Z"))
    ]
    assert len(items) == body["total"] == len(expected)
    assert [(i["moved_at"], i["id"]) for i in items] == sorted((i["moved_at"], i["id"]) for i in items)
    assert {i["id"] for i in items} == set(expected.movement_id)
    assert sum(i["quantity"] for i in items) == expected.quantity.sum()


def test_moving_the_clock_forward_makes_the_next_day_visible(server, api):
    before = api.get("/api/v1/movements").json()["total"]
    clock = httpx.post(f"{server.url}/_sandbox/clock", json={"now": "2026-06-21T04:00:00Z"}).json()
    assert clock["local_date"] == "2026-06-21"
    assert api.get("/api/v1/stock", params={"warehouse": "WH-SH"}).json()["date"] == "2026-06-21"
    assert api.get("/api/v1/movements").json()["total"] > before


def test_the_request_log_lists_api_calls_with_their_query_and_status(server, api):
    api.get("/api/v1/stock", params={"warehouse": "WH-SH", "date": "2026-06-02"})
    httpx.get(f"{server.url}/api/v1/movements")
    log = httpx.get(f"{server.url}/_sandbox/requests").json()["requests"]
    assert [(r["path"], r["query"].get("date"), r["status"]) for r in log] == [
        ("/api/v1/stock", "2026-06-02", 200),
        ("/api/v1/movements", None, 401),
    ]
    assert TOKEN not in str(log)


# -- purchase orders and receipts ------------------------------------------------------------------------------


def purchasing_world() -> World:
    """tiny_world plus three purchase orders as of 2026-06-20 04:00Z (the test clock):
    PO-1 received in full before the clock, PO-2 half received before and the rest after it, PO-3 placed after."""
    world = tiny_world()
    at = pd.Timestamp
    world.tables["purchase_orders"] = pd.DataFrame(
        {
            "po_number": ["PO-20260601-001", "PO-20260610-001", "PO-20260625-001"],
            "supplier_id": ["SUP-01", "SUP-02", "SUP-01"],
            "warehouse_id": ["WH-SH", "WH-GZ", "WH-SH"],
            "ordered_at": [at("2026-06-01T02:00Z"), at("2026-06-10T02:00Z"), at("2026-06-25T02:00Z")],
            "expected_date": [date(2026, 6, 8), date(2026, 6, 17), date(2026, 7, 2)],
            "status": ["received", "received", "open"],
        }
    )
    world.tables["purchase_order_lines"] = pd.DataFrame(
        {
            "po_number": ["PO-20260601-001", "PO-20260601-001", "PO-20260610-001", "PO-20260625-001"],
            "sku": ["AP-0000-M", "AP-0001-M", "AP-0002-M", "AP-0000-M"],
            "quantity": [40, 24, 60, 30],
            "unit_cost": [Decimal("12.50"), Decimal("30.00"), Decimal("8.80"), Decimal("12.90")],
        }
    )
    world.tables["receipts"] = pd.DataFrame(
        {
            "receipt_id": ["RC1", "RC2", "RC3", "RC4"],
            "po_number": ["PO-20260601-001", "PO-20260601-001", "PO-20260610-001", "PO-20260610-001"],
            "sku": ["AP-0000-M", "AP-0001-M", "AP-0002-M", "AP-0002-M"],
            "received_at": [
                at("2026-06-08T03:00Z"),
                at("2026-06-09T05:00Z"),
                at("2026-06-18T06:00Z"),
                at("2026-06-24T06:00Z"),
            ],
            "quantity": [40, 24, 36, 24],
            "unit_cost": [Decimal("12.50"), Decimal("30.00"), Decimal("8.80"), Decimal("8.80")],
        }
    )
    return world


@pytest.fixture()
def purchasing():
    running = start(create_app(purchasing_world(), token=TOKEN, now="2026-06-20T04:00:00Z"), "wms-po")
    with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield running, client
    running.stop()


@pytest.mark.parametrize("path", ["/api/v1/purchase-orders", "/api/v1/receipts"])
def test_purchasing_endpoints_refuse_a_request_without_the_token(purchasing, path):
    running, _ = purchasing
    assert httpx.get(f"{running.url}{path}").status_code == 401


def test_purchase_orders_show_their_status_and_received_units_as_of_the_clock(purchasing):
    _, api = purchasing
    body = api.get("/api/v1/purchase-orders").json()
    orders = {po["po_number"]: po for po in body["items"]}
    assert set(orders) == {"PO-20260601-001", "PO-20260610-001"}  # the third is placed after the clock
    full, partial = orders["PO-20260601-001"], orders["PO-20260610-001"]
    assert full["status"] == "received" and full["updated_at"] == "2026-06-09T05:00:00Z"
    assert [
        (li["merchant_code"], li["quantity"], li["received_quantity"], li["unit_cost"])
        for li in full["lines"]
    ] == [
        ("AP-0000-M", 40, 40, "12.50"),
        ("AP-0001-M", 24, 24, "30.00"),
    ]
    assert partial["status"] == "open"  # the world's final status is 'received', but not yet at the clock
    assert partial["lines"][0]["received_quantity"] == 36
    assert partial["warehouse"] == "WH-GZ" and partial["expected_date"] == "2026-06-17"


def test_purchase_orders_updated_since_lists_only_later_changes_oldest_first(purchasing):
    _, api = purchasing
    body = api.get("/api/v1/purchase-orders", params={"updated_since": "2026-06-10T00:00:00Z"}).json()
    assert [po["po_number"] for po in body["items"]] == ["PO-20260610-001"]
    everything = api.get("/api/v1/purchase-orders", params={"page_size": 1, "page": 1}).json()
    assert everything["total"] == 2 and everything["has_next"]
    assert everything["items"][0]["po_number"] == "PO-20260601-001"  # updated 06-09, before 06-18


def test_moving_the_clock_receives_the_rest_and_shows_the_later_order(purchasing):
    running, api = purchasing
    httpx.post(f"{running.url}/_sandbox/clock", json={"now": "2026-06-26T00:00:00Z"}).raise_for_status()
    orders = {po["po_number"]: po for po in api.get("/api/v1/purchase-orders").json()["items"]}
    assert orders["PO-20260610-001"]["status"] == "received"
    assert orders["PO-20260610-001"]["lines"][0]["received_quantity"] == 60
    assert orders["PO-20260625-001"]["status"] == "open"
    assert orders["PO-20260625-001"]["lines"][0]["received_quantity"] == 0


def test_receipts_are_sorted_paged_carry_the_warehouse_and_stop_at_the_clock(purchasing):
    _, api = purchasing
    pages = [api.get("/api/v1/receipts", params={"page": p, "page_size": 2}).json() for p in (1, 2)]
    items = [item for page in pages for item in page["items"]]
    assert [i["id"] for i in items] == ["RC1", "RC2", "RC3"]  # RC4 arrives after the clock
    assert pages[0]["has_next"] and not pages[1]["has_next"] and pages[0]["total"] == 3
    assert items[2] == {
        "id": "RC3",
        "received_at": "2026-06-18T06:00:00Z",
        "po_number": "PO-20260610-001",
        "warehouse": "WH-GZ",
        "merchant_code": "AP-0002-M",
        "quantity": 36,
        "unit_cost": "8.80",
    }
    later = api.get("/api/v1/receipts", params={"since": "2026-06-09T05:00:00Z"}).json()["items"]
    assert [i["id"] for i in later] == ["RC2", "RC3"]


def test_a_world_without_purchasing_serves_empty_lists(api):
    assert api.get("/api/v1/purchase-orders").json()["items"] == []
    assert api.get("/api/v1/receipts").json()["total"] == 0
