"""The TOP sandbox gateway rejects what the real gateway rejects, in TOP's own envelopes, and serves the Tmall
shop's slice of the world as it stood at the sandbox clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from connectors.taobao.signing import sign
from sandbox import taobao
from sandbox.faults import FaultConfig, Faults

SHOP = "tmall_flagship"
KEY, SECRET, TOKEN = "app-1", "secret-1", "session-1"
NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 2026-07-01 00:00 in GMT+8, after every event of the world


def top(moment: datetime) -> str:
    return taobao.top_time(moment)


def call(client: TestClient, method: str, business: dict | None = None, *, secret: str = SECRET,
         session: str = TOKEN, sign_method: str = "md5", timestamp: datetime = NOW) -> dict:  # fmt: skip
    system = {"method": method, "app_key": KEY, "timestamp": top(timestamp), "format": "json", "v": "2.0",
              "sign_method": sign_method}  # fmt: skip
    body = {k: str(v) for k, v in (business or {}).items()}
    body["session"] = session
    system["sign"] = sign({**system, **body}, secret, sign_method)
    return client.post("/router/rest", params=system, data=body).json()


def trades(client: TestClient, start: datetime, end: datetime, **extra) -> dict:
    params = {
        "fields": "tid,status,modified,payment,orders",
        "start_modified": top(start),
        "end_modified": top(end),
    }
    return call(client, "taobao.trades.sold.increment.get", {**params, **extra})


@pytest.fixture(scope="module")
def app(small_world):
    return taobao.create_app(small_world, shop_id=SHOP, app_key=KEY, app_secret=SECRET, access_token=TOKEN,
                             now=NOW, history_days=30)  # fmt: skip


@pytest.fixture
def client(app):
    app.state.sandbox.faults = Faults(FaultConfig(rate=0.0))
    app.state.sandbox.token_expired = False
    return TestClient(app)


def error(answer: dict) -> dict:
    assert "error_response" in answer, answer
    return answer["error_response"]


@pytest.mark.parametrize("sign_method", ["md5", "hmac", "hmac-sha256"])
def test_each_sign_method_is_accepted_when_the_signature_matches(client, sign_method):
    params = {
        "fields": "refund_id",
        "start_modified": top(NOW - timedelta(hours=6)),
        "end_modified": top(NOW),
    }
    answer = call(client, "taobao.refunds.receive.get", params, sign_method=sign_method)
    assert "refunds_receive_get_response" in answer


def test_a_wrong_signature_is_rejected_with_code_25(client):
    answer = call(client, "taobao.time.get", secret="not-the-secret")
    assert error(answer)["code"] == 25


def test_a_window_wider_than_a_day_is_rejected_by_the_taobao_sandbox(client):
    answer = trades(client, NOW - timedelta(days=1, seconds=1), NOW)
    assert error(answer)["code"] == 15
    assert error(answer)["sub_code"].startswith("isv.invalid-parameter")


def test_a_page_size_over_100_is_rejected(client):
    answer = trades(client, NOW - timedelta(hours=6), NOW, page_size=101)
    assert error(answer)["sub_code"] == "isv.invalid-parameter:page_size"


def test_a_wrong_or_expired_session_is_rejected_with_code_27(client):
    params = {
        "fields": "refund_id",
        "start_modified": top(NOW - timedelta(hours=1)),
        "end_modified": top(NOW),
    }
    assert error(call(client, "taobao.refunds.receive.get", params, session="wrong"))["code"] == 27
    assert "refunds_receive_get_response" in call(client, "taobao.refunds.receive.get", params)
    client.post("/_sandbox/expire_token")
    assert error(call(client, "taobao.refunds.receive.get", params))["code"] == 27


def test_a_window_older_than_the_online_history_is_rejected(client):
    start = NOW - timedelta(days=31)
    answer = trades(client, start, start + timedelta(hours=12))
    assert error(answer)["code"] == 15
    assert "30 days" in error(answer)["sub_msg"]


def test_a_timestamp_more_than_ten_minutes_off_the_clock_is_rejected(client):
    answer = call(client, "taobao.refunds.receive.get", {"fields": "refund_id", "start_modified": top(NOW - timedelta(hours=1)),
                  "end_modified": top(NOW)}, timestamp=NOW + timedelta(minutes=11))  # fmt: skip
    assert error(answer)["code"] == 31


def test_trades_come_newest_first_in_the_platform_envelope_with_lists_wrapped_twice(client, small_world):
    start = NOW - timedelta(days=1)
    answer = trades(client, start, NOW, page_size=100)
    body = answer["trades_sold_increment_get_response"]
    listed = body["trades"]["trade"]
    modified = [t["modified"] for t in listed]
    assert modified == sorted(modified, reverse=True)
    assert body["total_results"] == len(listed)
    assert all(isinstance(t["orders"]["order"], list) for t in listed)
    orders = small_world.shop(SHOP, "orders")
    expected = sum(1 for u in orders["updated_at"] if start <= u.floor("s") < NOW)
    assert len(listed) == expected
    assert (
        "total_results"
        not in trades(client, start, NOW, use_has_next="true")["trades_sold_increment_get_response"]
    )


def test_a_throttle_is_answered_with_code_7_and_the_seconds_to_wait(client):
    client.post(
        "/_sandbox/faults", json={"rate": 1.0, "kinds": ["throttle"], "seed": 1, "throttle_seconds": 4}
    )
    answer = error(trades(client, NOW - timedelta(hours=1), NOW))
    assert answer["code"] == 7
    assert answer["sub_msg"] == "This ban will last for 4 more seconds"
    assert client.get("/_sandbox/faults").json()["counts"] == {"throttle": 1}


def test_a_truncated_fault_answers_half_a_json_body(client):
    client.post("/_sandbox/faults", json={"rate": 1.0, "kinds": ["truncated"], "seed": 1})
    with pytest.raises(ValueError):
        trades(client, NOW - timedelta(hours=6), NOW)


def test_stock_writes_set_and_add_refused_below_zero_and_show_in_the_listing(client):
    item = next(iter(client.app.state.sandbox.items.values()))
    sku = item["skus"][0]["sku_id"]
    answer = call(
        client, "taobao.item.quantity.update", {"num_iid": item["num_iid"], "sku_id": sku, "quantity": 7}
    )
    skus = answer["item_quantity_update_response"]["item"]["skus"]["sku"]
    assert {s["sku_id"]: s["quantity"] for s in skus}[sku] == 7
    refused = call(
        client,
        "taobao.item.quantity.update",
        {"num_iid": item["num_iid"], "sku_id": sku, "quantity": -50, "type": 2},
    )  # buyers took more since the caller read the stock than the change leaves
    assert error(refused)["sub_code"] == "isv.item-quantity-update-failed:stock-negative"
    call(
        client,
        "taobao.item.quantity.update",
        {"num_iid": item["num_iid"], "sku_id": sku, "quantity": -7, "type": 2},
    )
    assert client.get("/_sandbox/stock").json()["stock"][str(sku)] == 0
    pairs = ";".join(f"{s['sku_id']}:{n + 1}" for n, s in enumerate(item["skus"]))
    call(client, "taobao.skus.quantity.update", {"num_iid": item["num_iid"], "skuid_quantities": pairs})
    stock = client.get("/_sandbox/stock").json()["stock"]
    assert [stock[str(s["sku_id"])] for s in item["skus"]] == list(range(1, len(item["skus"]) + 1))


def test_a_batch_of_more_than_20_skus_is_rejected(client):
    item = next(iter(client.app.state.sandbox.items.values()))
    pairs = ";".join(f"{item['skus'][0]['sku_id']}:1" for _ in range(21))
    answer = call(
        client, "taobao.skus.quantity.update", {"num_iid": item["num_iid"], "skuid_quantities": pairs}
    )
    assert error(answer)["sub_code"] == "isv.invalid-parameter:skuid_quantities"
