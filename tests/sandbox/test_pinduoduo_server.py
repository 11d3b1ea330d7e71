"""The Pinduoduo POP sandbox enforces the platform's rules, each answered in POP's own error envelope."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from sandbox import pinduoduo
from sandbox.faults import FaultConfig, Faults
from sandbox.world import World

NOW = datetime(2026, 6, 20, 16, 0, tzinfo=UTC)
KEY, SECRET, TOKEN = "client-id-1", "client-secret-1", "token-1"


@pytest.fixture()
def pop(small_world: World) -> TestClient:
    app = pinduoduo.create_app(
        small_world,
        shop_id="pdd_main",
        app_key=KEY,
        app_secret=SECRET,
        access_token=TOKEN,
        now=NOW,
        history_days=90,
    )
    return TestClient(app)


def call(client: TestClient, api_type: str, secret: str = SECRET, json: bool = False, **params) -> dict:
    form = {
        "type": api_type, "client_id": KEY, "access_token": TOKEN, "timestamp": str(int(time.time())),
        "data_type": "JSON", "version": "V1", **{k: str(v) for k, v in params.items()},
    }  # fmt: skip
    form["sign"] = pinduoduo.sign(form, secret)
    response = client.post("/api/router", json=form) if json else client.post("/api/router", data=form)
    assert response.status_code == 200
    return response.json()


def window(minutes: int, end: datetime = NOW) -> dict:
    return {
        "start_updated_at": int((end - timedelta(minutes=minutes)).timestamp()),
        "end_updated_at": int(end.timestamp()),
    }


def test_the_sandbox_signature_is_upper_md5_of_secret_sorted_pairs_secret() -> None:
    # md5("s" + "a1" + "b2" + "s") computed independently:
    expected = hashlib.md5(b"sa1b2s").hexdigest().upper()
    assert pinduoduo.sign({"b": "2", "a": "1", "sign": "x"}, "s") == expected


def test_a_wrong_signature_is_rejected_with_20004(pop: TestClient) -> None:
    body = call(pop, "pdd.order.number.list.increment.get", secret="not-the-secret", **window(30))
    assert body["error_response"]["error_code"] == 20004


def test_an_unknown_client_id_is_rejected_with_pop_s_10016(pop: TestClient) -> None:
    body = call(pop, "pdd.order.number.list.increment.get", client_id="someone-else", **window(30))
    assert body["error_response"]["error_code"] == 10016


def test_a_window_wider_than_30_minutes_is_a_business_error(pop: TestClient) -> None:
    body = call(pop, "pdd.order.number.list.increment.get", **window(31))
    assert body["error_response"]["error_code"] == 50001
    assert "30" in body["error_response"]["sub_msg"]


def test_a_page_size_over_100_is_a_bad_parameter(pop: TestClient) -> None:
    body = call(pop, "pdd.order.number.list.increment.get", page_size=101, **window(30))
    assert body["error_response"]["error_code"] == 10000


def test_an_expired_token_is_refused_with_the_token_code(pop: TestClient) -> None:
    assert "order_sn_increment_get_response" in call(pop, "pdd.order.number.list.increment.get", **window(30))
    pop.post("/_sandbox/expire_token")
    body = call(pop, "pdd.order.number.list.increment.get", **window(30))
    assert body["error_response"]["error_code"] == pinduoduo.INVALID_TOKEN_CODE


def test_a_window_older_than_the_history_kept_online_is_refused(pop: TestClient) -> None:
    body = call(pop, "pdd.order.number.list.increment.get", **window(30, NOW - timedelta(days=91)))
    assert body["error_response"]["error_code"] == 50001


def test_orders_come_in_fen_with_platform_and_seller_discounts_apart(
    pop: TestClient, small_world: World
) -> None:
    found = []
    for hours in range(0, 48):
        end = NOW - timedelta(hours=hours)
        body = call(
            pop, "pdd.order.number.list.increment.get", json=True, use_has_next="true", **window(30, end)
        )
        found += body["order_sn_increment_get_response"]["order_sn_list"]
    assert found
    truth = small_world.shop("pdd_main", "orders").set_index("order_id")
    for order in found:
        row = truth.loc[order["order_sn"]]
        assert order["pay_amount"] == int(row["paid_amount"] * 100)
        assert order["platform_discount"] == int(row["platform_discount"] * 100)
        assert order["seller_discount"] == int(row["merchant_discount"] * 100)
        assert order["goods_amount"] == sum(i["goods_price"] * i["goods_count"] for i in order["item_list"])


def test_pages_say_whether_more_follow(pop: TestClient) -> None:
    body = call(pop, "pdd.goods.list.get", page=1, page_size=10)["goods_list_get_response"]
    assert body["total_count"] > 10 and len(body["goods_list"]) == 10


def test_a_stock_write_sets_or_adds_and_never_goes_below_zero(pop: TestClient) -> None:
    sku = pop.get("/_sandbox/stock").json()["stock"][0]
    base = {"goods_id": sku["goods_id"], "sku_id": sku["sku_id"]}
    ok = call(pop, "pdd.goods.quantity.update", quantity=7, update_type=1, **base)
    assert ok["goods_quantity_update_response"]["is_success"] is True
    call(pop, "pdd.goods.quantity.update", quantity=3, update_type=2, **base)
    refused = call(pop, "pdd.goods.quantity.update", quantity=-11, update_type=2, **base)
    assert refused["error_response"]["error_code"] == 50001
    stock = {s["sku_id"]: s["quantity"] for s in pop.get("/_sandbox/stock").json()["stock"]}
    assert stock[sku["sku_id"]] == 10


def test_the_fault_mode_throttles_in_the_pop_envelope_and_counts_what_it_did(small_world: World) -> None:
    faults = Faults(FaultConfig(rate=1.0, kinds=("throttle",), seed=1))
    app = pinduoduo.create_app(
        small_world,
        shop_id="pdd_main",
        app_key=KEY,
        app_secret=SECRET,
        access_token=TOKEN,
        now=NOW,
        faults=faults,
    )
    client = TestClient(app)
    body = call(client, "pdd.goods.list.get", page=1, page_size=10)
    assert body["error_response"]["error_code"] == pinduoduo.THROTTLE_CODE
    assert "1" in body["error_response"]["sub_msg"]
    client.post("/_sandbox/faults", json={"rate": 0.0})
    assert "goods_list_get_response" in call(client, "pdd.goods.list.get", page=1, page_size=10)
    assert client.get("/_sandbox/faults").json()["counts"] == {"throttle": 1}
