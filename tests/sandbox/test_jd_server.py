"""The JD sandbox rejects what JOS rejects, each in JD's own `error_response` envelope."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from sandbox import jd
from sandbox.faults import FaultConfig, Faults
from sandbox.world import World

NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
KEY, SECRET, TOKEN = "k", "s", "t"


@pytest.fixture(scope="module")
def app(small_world: World):
    return jd.create_app(
        small_world, shop_id="jd_pop", app_key=KEY, app_secret=SECRET, access_token=TOKEN, now=NOW,
        history_days=90, faults=Faults(FaultConfig()),
    )  # fmt: skip


def post(app, method: str, params: dict, secret: str = SECRET, token: str = TOKEN) -> dict:
    form = {
        "method": method, "app_key": KEY, "access_token": token, "timestamp": "2026-06-30 23:00:00",
        "v": "2.0", "format": "json", "sign_method": "md5", "360buy_param_json": json.dumps(params),
    }  # fmt: skip
    form["sign"] = jd.sign(form, secret)
    return TestClient(app).post("/routerjson", data=form).json()


def search(start: str, end: str, page_size: str = "100") -> dict:
    return {"start_date": start, "end_date": end, "page": "1", "page_size": page_size, "dateType": "0"}


def test_a_good_order_search_answers_under_the_responce_key_with_orders(app):
    body = post(app, "jingdong.pop.order.search", search("2026-06-20 00:00:00", "2026-06-30 23:59:59"))
    result = body["jingdong_pop_order_search_responce"]["searchorderinfo_result"]
    assert result["orderTotal"] > 100 and len(result["orderInfoList"]) == 100
    assert result["orderInfoList"][0]["itemInfoList"]


def test_a_wrong_signature_is_rejected_with_code_12(app):
    body = post(app, "jingdong.pop.order.search", search("2026-06-20 00:00:00", "2026-06-21 00:00:00"), "x")
    assert body["error_response"]["code"] == "12"


def test_a_window_wider_than_30_days_is_rejected_with_code_101(app):
    body = post(app, "jingdong.pop.order.search", search("2026-05-01 00:00:00", "2026-06-01 00:00:01"))
    assert body["error_response"]["code"] == "101"


def test_a_page_over_100_is_rejected_with_code_102(app):
    body = post(app, "jingdong.pop.order.search", search("2026-06-20 00:00:00", "2026-06-21 00:00:00", "101"))
    assert body["error_response"]["code"] == "102"


def test_a_window_older_than_the_online_history_is_rejected_with_code_103(app):
    body = post(app, "jingdong.pop.order.search", search("2026-03-01 00:00:00", "2026-03-20 00:00:00"))
    assert body["error_response"]["code"] == "103"


def test_a_wrong_or_expired_token_is_rejected_with_code_19(small_world: World):
    app = jd.create_app(small_world, app_key=KEY, app_secret=SECRET, access_token=TOKEN, now=NOW)
    params = {"page": "1", "pageSize": "10"}
    assert "error_response" not in post(app, "jingdong.sku.read.searchSkuList", params)
    assert post(app, "jingdong.sku.read.searchSkuList", params, token="old")["error_response"]["code"] == "19"
    TestClient(app).post("/_sandbox/expire_token")
    assert post(app, "jingdong.sku.read.searchSkuList", params)["error_response"]["code"] == "19"


def test_a_throttle_fault_answers_code_2_app_call_limited_naming_the_wait(small_world: World):
    app = jd.create_app(small_world, app_key=KEY, app_secret=SECRET, access_token=TOKEN, now=NOW)
    TestClient(app).post("/_sandbox/faults", json={"rate": 1.0, "seed": 1, "kinds": ["throttle"]})
    error = post(app, "jingdong.sku.read.searchSkuList", {"page": "1", "pageSize": "10"})["error_response"]
    assert error["code"] == "2" and "retry after 1 seconds" in error["en_desc"]
    assert TestClient(app).get("/_sandbox/faults").json()["counts"] == {"throttle": 1}


def test_a_stock_write_changes_the_listed_quantity(small_world: World):
    app = jd.create_app(small_world, app_key=KEY, app_secret=SECRET, access_token=TOKEN, now=NOW)
    sku = str(small_world.shop("jd_pop", "listings").platform_sku_id.iloc[0])
    answer = post(app, "jingdong.stock.write.updateSkuStock", {"skuId": sku, "stockNum": 5})
    assert answer["jingdong_stock_write_updateSkuStock_responce"]["success"] is True
    assert TestClient(app).get("/_sandbox/stock").json()["stock"][sku] == 5
