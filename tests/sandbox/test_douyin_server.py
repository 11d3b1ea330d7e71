"""The Douyin sandbox rejects what 抖店 rejects, in its own envelope, and serves the shop as it stood at its clock."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from sandbox import douyin
from sandbox.faults import FaultConfig, Faults
from sandbox.world import World

SHOP = "douyin_live"
APP_KEY, SECRET, TOKEN = "dy_app_key", "dy_app_secret", "dy_access_token"
NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 2026-07-01 00:00 in Beijing, the small shop's end


def signed(method: str, params: dict, *, secret: str = SECRET, token: str = TOKEN, sign_method: str = "md5",
           sort_keys: bool = True) -> tuple[str, dict, bytes]:  # fmt: skip
    """(path, query, body) for one call, signed the way the spec says (an independent signer for the tests)."""
    body = json.dumps(params, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    canonical = json.dumps(params, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    timestamp = "1782835200"
    text = (
        f"{secret}app_key{APP_KEY}method{method}param_json{canonical}timestamp{timestamp}v2{secret}".encode()
    )
    if sign_method == "md5":
        sign = hashlib.md5(text).hexdigest()
    else:
        import hmac

        sign = hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()
    query = {"method": method, "app_key": APP_KEY, "access_token": token, "timestamp": timestamp, "v": "2",
             "sign_method": sign_method, "sign": sign}  # fmt: skip
    return "/" + method.replace(".", "/"), query, body.encode()


def call(client: TestClient, method: str, params: dict, **kwargs) -> dict:
    path, query, body = signed(method, params, **kwargs)
    response = client.post(path, params=query, content=body)
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def app(small_world: World):
    return douyin.create_app(small_world, shop_id=SHOP, app_key=APP_KEY, app_secret=SECRET, access_token=TOKEN,
                             now=NOW, history_days=90)  # fmt: skip


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        c.post("/_sandbox/clock", json={"now": NOW.isoformat()})
        yield c


def window(days: float, end: datetime = NOW) -> dict:
    return {
        "update_time_start": int((end - timedelta(days=days)).timestamp()),
        "update_time_end": int(end.timestamp()),
    }


def test_a_correctly_signed_order_search_succeeds_with_pages_from_zero_and_amounts_in_fen(
    client, small_world
):
    body = call(client, "order.searchList", {**window(2), "page": 0, "size": 5, "order_by": "update_time"})
    assert body["code"] == 10000 and body["msg"] == "success" and body["log_id"]
    data = body["data"]
    assert data["page"] == 0 and len(data["shop_order_list"]) == 5 and data["total"] > 5
    order = data["shop_order_list"][0]
    truth = small_world.orders.set_index("order_id").loc[order["order_id"]]
    assert order["pay_amount"] == int(truth["paid_amount"] * 100)
    lines = small_world.order_lines[small_world.order_lines.order_id == order["order_id"]]
    assert sorted(s["order_id"] for s in order["sku_order_list"]) == sorted(lines.line_id)
    assert sum(s["pay_amount"] for s in order["sku_order_list"]) == int(lines.paid_amount.sum() * 100)
    assert truth["buyer_name"] not in json.dumps(order, ensure_ascii=False)  # receiver data comes encrypted


def test_an_hmac_sha256_signature_and_an_unsorted_body_are_accepted(client):
    params = {"size": 1, "page": 0, **window(1)}
    assert call(client, "order.searchList", params, sign_method="hmac-sha256")["code"] == 10000
    assert call(client, "order.searchList", params, sort_keys=False)["code"] == 10000


def test_a_wrong_signature_is_rejected_with_code_40003_signature_invalid(client):
    body = call(client, "order.searchList", {**window(1), "page": 0, "size": 10}, secret="not-the-secret")
    assert (body["code"], body["sub_code"]) == (40003, "isv.signature-invalid")
    assert body["data"] == {}


def test_a_window_wider_than_seven_days_is_rejected(client):
    body = call(client, "order.searchList", {**window(7.5), "page": 0, "size": 10})
    assert body["code"] == 40003 and body["sub_code"].startswith("isv.parameter-invalid")
    assert "7天" in body["sub_msg"]


def test_a_page_size_over_100_is_rejected(client):
    body = call(client, "order.searchList", {**window(1), "page": 0, "size": 101})
    assert (body["code"], body["sub_code"]) == (40003, "isv.parameter-invalid:size")


def test_a_window_older_than_the_online_history_is_rejected(client):
    old = window(3, NOW - timedelta(days=89))  # starts 92 days before the clock
    params = {"update_start_time": old["update_time_start"], "update_end_time": old["update_time_end"]}
    body = call(client, "afterSale.List", {**params, "page": 0, "size": 10})
    assert (body["code"], body["sub_code"]) == (40003, "isv.time-out-of-range")


def test_an_unknown_or_expired_token_is_rejected_with_code_40003_and_its_token_sub_code(client, app):
    body = call(client, "order.searchList", {**window(1), "page": 0, "size": 10}, token="someone-else")
    assert (body["code"], body["sub_code"]) == (40003, "isv.access-token-no-existed")
    client.post("/_sandbox/expire_token")
    try:
        body = call(client, "order.searchList", {**window(1), "page": 0, "size": 10})
        assert (body["code"], body["sub_code"]) == (40003, "isv.access-token-expired")
    finally:
        app.state.sandbox.token_expired = False


def test_an_order_is_shown_as_it_stood_at_the_clock(client, small_world):
    orders = small_world.shop(SHOP, "orders")
    completed = orders[orders.completed_at.notna()].iloc[-1]
    before = completed.completed_at.floor("s").to_pydatetime() - timedelta(seconds=1)
    client.post("/_sandbox/clock", json={"now": before.isoformat()})
    data = call(client, "order.searchList", {**window(6, before), "page": 0, "size": 100})["data"]
    shown = {o["order_id"]: o for o in data["shop_order_list"]}
    page = 1
    while completed.order_id not in shown and page * 100 < data["total"]:
        more = call(client, "order.searchList", {**window(6, before), "page": page, "size": 100})["data"]
        shown.update({o["order_id"]: o for o in more["shop_order_list"]})
        page += 1
    assert shown[completed.order_id]["order_status"] == 3  # shipped, not yet completed
    assert shown[completed.order_id]["finish_time"] == 0


def test_settlement_lines_page_with_start_index_in_beijing_time(client, small_world):
    params = {
        "start_time": "2026-06-20 00:00:00",
        "end_time": "2026-06-26 23:59:59",
        "time_type": "0",
        "size": 100,
    }
    rows, start_index = [], ""
    while True:
        data = call(client, "order.getSettleBillDetailV3", {**params, "start_index": start_index})["data"]
        rows += data["data"]
        start_index = data["next_start_index"]
        if data["is_end"]:
            break
    bills = small_world.shop(SHOP, "bill_lines")
    dates = bills.settled_date.astype(str)
    truth = bills[(dates >= "2026-06-20") & (dates <= "2026-06-26")]
    assert len(rows) == len(truth)
    assert sum(r["settle_amount"] for r in rows) == int(truth.amount.sum() * 100)


def test_a_repeated_idempotent_id_is_ignored_and_incremental_adds(client, app):
    sku_id, sku = next(iter(app.state.sandbox.skus.items()))
    first = call(client, "sku.syncStock", {"sku_id": sku_id, "stock_num": 40, "incremental": False,
                                           "idempotent_id": "writeback-1"})  # fmt: skip
    assert first["code"] == 10000
    call(
        client,
        "sku.syncStock",
        {"sku_id": sku_id, "stock_num": 7, "incremental": False, "idempotent_id": "writeback-1"},
    )
    assert client.get("/_sandbox/stock").json()["stock"][sku_id] == 40
    call(client, "sku.syncStock", {"out_sku_id": sku["out_sku_id"], "stock_num": 5, "incremental": True,
                                   "idempotent_id": "writeback-2"})  # fmt: skip
    assert client.get("/_sandbox/stock").json()["stock"][sku_id] == 45
    listed = call(client, "sku.list", {"product_id": sku["product_id"], "page": 0, "size": 100})["data"][
        "sku_list"
    ]
    assert {s["id"]: s["stock_num"] for s in listed}[sku_id] == 45


def test_the_fault_mode_throttles_in_the_douyin_envelope_and_counts_what_it_injected(small_world):
    faults = Faults(FaultConfig(rate=1.0, kinds=("throttle",), seed=1))
    app = douyin.create_app(small_world, shop_id=SHOP, app_key=APP_KEY, app_secret=SECRET, access_token=TOKEN,
                            now=NOW, faults=faults)  # fmt: skip
    with TestClient(app) as c:
        body = call(c, "sku.list", {"page": 0, "size": 10})
        assert (body["code"], body["sub_code"]) == (60000, "isv.traffic-limited") and "1秒" in body["sub_msg"]
        c.post("/_sandbox/faults", json={"rate": 1.0, "seed": 2, "kinds": ["truncated"]})
        path, query, raw = signed("sku.list", {"page": 0, "size": 10})
        response = c.post(path, params=query, content=raw)
        with pytest.raises(ValueError):
            json.loads(response.content)
        assert c.get("/_sandbox/faults").json()["counts"] == {"throttle": 1, "truncated": 1}
