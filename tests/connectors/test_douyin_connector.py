"""The Douyin connector against the real sandbox on loopback, real dlt and a temp DuckDB file.

Truth is the simulated world: what lands for douyin_live over the online window must equal the world's orders,
lines, after-sales and bill lines, in count and to the fen — with and without the fault mode.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest

from connectors.common.loading import warehouse_pipeline
from connectors.douyin import DouyinAuthError, DouyinClient, DouyinConfigError, DouyinError, load_shop
from connectors.douyin.client import DouyinPermissionError, DouyinUnknownCodeError
from connectors.douyin.signing import param_json, sign, string_to_sign
from connectors.douyin.stock import set_stock
from sandbox import douyin, runner
from sandbox.faults import FaultConfig, Faults
from sandbox.world import World

SHOP = "douyin_live"
APP_KEY, SECRET, TOKEN = "dy_test_key", "dy_test_secret_9f3", "dy_test_token_5c1"
TOKEN_ENV = "DOUYIN_LIVE_TOKEN"
SALT = "test-salt"
NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 2026-07-01 00:00 Beijing: the small shop's last moment
HISTORY_DAYS = 8


# ------------------------------------------------------------------------------------------------------------ #
# signer: known answers


def test_param_json_sorts_keys_at_every_depth_without_spaces_or_unicode_escapes():
    text = param_json({"z": 1, "a": {"y": [{"b": 2, "a": 1}], "x": "抖店"}})
    assert text == '{"a":{"x":"抖店","y":[{"a":1,"b":2}]},"z":1}'
    assert param_json(None) == "{}"


def test_the_md5_signature_matches_a_hand_computed_known_answer():
    """str = 's' + 'app_keyk' + 'methodorder.searchList' + 'param_json{"a":{"x":"抖店","y":[{"a":1,"b":2}]},"z":1}'
    + 'timestamp1700000000' + 'v2' + 's'; expected = hashlib.md5(str.encode()).hexdigest(), computed once with
    python3 -c on that literal."""
    pj = '{"a":{"x":"抖店","y":[{"a":1,"b":2}]},"z":1}'
    assert string_to_sign("k", "s", "order.searchList", pj, 1700000000) == (
        's' + 'app_keyk' + 'methodorder.searchList' + 'param_json' + pj + 'timestamp1700000000' + 'v2' + 's'
    )  # fmt: skip
    assert sign("k", "s", "order.searchList", pj, 1700000000) == "f384c9b454fd7335de5bfce47bd51f1a"


def test_the_hmac_sha256_signature_matches_a_hand_computed_known_answer():
    """expected = hmac.new(b's', str.encode(), hashlib.sha256).hexdigest() on the same literal string as above."""
    pj = '{"a":{"x":"抖店","y":[{"a":1,"b":2}]},"z":1}'
    assert (
        sign("k", "s", "order.searchList", pj, 1700000000, "hmac-sha256")
        == "23f69ebab5fca98af681260a98435bbad1a15ca3509710a0b6b8fc78570dbd05"
    )


# ------------------------------------------------------------------------------------------------------------ #
# fixtures


@pytest.fixture(scope="module")
def server(small_world: World):
    faults = Faults()
    app = douyin.create_app(small_world, shop_id=SHOP, app_key=APP_KEY, app_secret=SECRET, access_token=TOKEN,
                            now=NOW, faults=faults, history_days=HISTORY_DAYS)  # fmt: skip
    running = runner.start(app, "douyin")
    yield running, app.state.sandbox
    running.stop()


@pytest.fixture
def sandbox(server):
    running, state = server
    state.now, state.token_expired = NOW, False
    state.faults.configure(FaultConfig())
    state.faults.counts.clear()
    state.log.clear()
    return running.url, state


def pipeline(tmp_path: Path):
    return warehouse_pipeline("douyin_test", "raw_douyin", tmp_path / "build.duckdb", tmp_path / "dlt")


def source_kwargs(url: str, **overrides) -> dict:
    kwargs = dict(shop_id=SHOP, base_url=url, app_key=APP_KEY, app_secret=SECRET, access_token=TOKEN,
                  pii_salt=SALT, token_env=TOKEN_ENV, history_days=HISTORY_DAYS, now=NOW, request_timeout=0.4)  # fmt: skip
    kwargs.update(overrides)
    return kwargs


def truth(world: World, now: datetime = NOW, history_days: int = HISTORY_DAYS) -> dict:
    """The shop's ground truth for the online window the connector reads (fen)."""
    first = now - timedelta(days=history_days - 1)
    orders = world.shop(SHOP, "orders")
    columns = ["created_at", "paid_at", "shipped_at", "completed_at", "cancelled_at", "updated_at"]
    moments = orders[columns].apply(lambda c: c.dt.floor("s"))
    last_change = moments.where(moments <= now).max(axis=1)  # the order as it stood at `now`
    orders = orders[(last_change >= first) & (orders.created_at <= now)]
    lines = world.shop(SHOP, "order_lines")
    lines = lines[lines.order_id.isin(orders.order_id)]
    refunds = world.shop(SHOP, "refunds")
    refunds = refunds[(refunds.created_at.dt.floor("s") >= first) & (refunds.created_at <= now)]
    bills = world.shop(SHOP, "bill_lines")
    days = pd.to_datetime(bills.settled_date).dt.date
    bills = bills[
        (days >= first.astimezone(douyin.BEIJING).date()) & (days < now.astimezone(douyin.BEIJING).date())
    ]
    fen = lambda s: int(s.sum() * 100)  # noqa: E731
    return {
        "orders": (len(orders), fen(orders.paid_amount)),
        "lines": (len(lines), fen(lines.paid_amount)),
        "refunds": (len(refunds), fen(refunds.amount)),
        "settlements": (len(bills), fen(bills.amount)),
    }


def landed(path: Path) -> dict:
    with duckdb.connect(str(path / "build.duckdb"), read_only=True) as con:
        one = lambda sql: tuple(int(v or 0) for v in con.execute(sql).fetchall()[0])  # noqa: E731
        return {
            "orders": one("select count(*), sum(pay_amount) from raw_douyin.orders"),
            "lines": one("select count(*), sum(pay_amount) from raw_douyin.orders__sku_order_list"),
            "refunds": one("select count(*), sum(refund_amount) from raw_douyin.refunds"),
            "settlements": one("select count(*), sum(settle_amount) from raw_douyin.settlements"),
        }


# ------------------------------------------------------------------------------------------------------------ #
# full loads


def test_a_full_load_of_the_online_window_equals_the_world_and_never_asks_beyond_the_limits(
    sandbox, small_world, tmp_path, caplog
):
    """Asked for 30-day windows and 500-record pages, the connector still sends at most 7 days and 100 records."""
    url, state = sandbox
    with caplog.at_level(logging.INFO, logger="connectors.douyin"):
        load_shop(pipeline(tmp_path), **source_kwargs(url, window_hours=24 * 30, page_size=500))
    assert landed(tmp_path) == truth(small_world)
    assert "older history comes from exported files" in caplog.text
    assert {entry["code"] for entry in state.log} == {10000}
    for entry in state.log:
        params = entry["params"]
        assert int(params.get("size", 0)) <= 100
        if "update_time_start" in params:
            assert params["update_time_end"] - params["update_time_start"] <= 7 * 86400
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw_douyin.listings").fetchall()[0][0] == len(
            small_world.shop(SHOP, "listings")
        )
        shops = con.execute("select distinct shop_id from raw_douyin.orders").fetchall()
        buyers = con.execute("select doudian_open_id from raw_douyin.orders limit 5").fetchall()
    assert shops == [(SHOP,)]
    clear_ids = set(small_world.shop(SHOP, "orders").buyer_id)
    assert all(b[0].startswith("h:") and b[0] not in clear_ids for b in buyers)


def test_with_faults_at_20_percent_the_full_load_still_equals_the_world(sandbox, small_world, tmp_path):
    url, state = sandbox
    state.faults.configure(FaultConfig(rate=0.2, seed=3, timeout_seconds=0.8))
    load_shop(pipeline(tmp_path), **source_kwargs(url, window_hours=24, page_size=30))
    assert set(state.faults.counts) == {"throttle", "server_error", "timeout", "truncated", "overlap"}
    assert landed(tmp_path) == truth(small_world)


def test_a_rerun_duplicates_nothing_and_a_day_later_only_the_new_and_changed_land(
    sandbox, small_world, tmp_path
):
    url, state = sandbox
    earlier = NOW - timedelta(days=1)
    state.now = earlier
    pipe = pipeline(tmp_path)
    load_shop(pipe, **source_kwargs(url, now=earlier))
    assert landed(tmp_path) == truth(small_world, earlier)
    load_shop(pipe, **source_kwargs(url, now=earlier))
    assert landed(tmp_path) == truth(small_world, earlier)
    state.now = NOW
    state.log.clear()
    load_shop(pipe, **source_kwargs(url, now=NOW))
    windows = [e["params"] for e in state.log if e["method"] == "order.searchList"]
    assert min(w["update_time_start"] for w in windows) >= int((earlier - timedelta(minutes=10)).timestamp())
    # everything changed that day landed; what fell out of the online window stays, nothing doubles
    now_truth, was = truth(small_world, NOW, HISTORY_DAYS + 1), landed(tmp_path)
    assert was["orders"] == now_truth["orders"] and was["lines"] == now_truth["lines"]


def test_an_interrupted_backfill_resumes_where_it_stopped(sandbox, small_world, tmp_path):
    url, state = sandbox
    pipe = pipeline(tmp_path)
    original = state.faults.draw
    calls = {"n": 0}

    def expire_after_some_calls():
        calls["n"] += 1
        if calls["n"] == 25:  # during the second of four runs
            state.token_expired = True
        return original()

    state.faults.draw = expire_after_some_calls
    try:
        with pytest.raises(DouyinAuthError, match="DOUYIN_LIVE_TOKEN"):
            load_shop(pipe, windows_per_run=2, **source_kwargs(url))
    finally:
        state.faults.draw = original
    state.token_expired = False
    done_before = len(state.log)
    load_shop(pipe, windows_per_run=2, **source_kwargs(url))
    first_run_windows = {
        e["params"].get("update_time_start") for e in state.log[:done_before] if e.get("params")
    }
    second_run = [e["params"] for e in state.log[done_before:] if e["method"] == "order.searchList"]
    assert min(p["update_time_start"] for p in second_run) > min(w for w in first_run_windows if w)
    assert landed(tmp_path) == truth(small_world)


# ------------------------------------------------------------------------------------------------------------ #
# errors


def test_a_wrong_app_secret_fails_at_once_with_a_config_error(sandbox):
    url, state = sandbox
    client = DouyinClient(SHOP, url, APP_KEY, "wrong-secret", TOKEN, token_env=TOKEN_ENV)
    with client, pytest.raises(DouyinConfigError) as error:
        client.call("sku.list", {"page": 0, "size": 10})
    assert SHOP in str(error.value) and "DOUYIN_LIVE_APP_SECRET" in str(error.value)
    assert "wrong-secret" not in str(error.value)
    assert len(state.log) == 1  # not retried


def test_an_expired_token_fails_naming_the_shop_and_the_variable_to_renew(sandbox, tmp_path):
    url, state = sandbox
    state.token_expired = True
    with pytest.raises(Exception) as error:
        load_shop(pipeline(tmp_path), **source_kwargs(url))
    assert (
        isinstance(error.value, DouyinAuthError)
        or isinstance(error.value.__cause__, DouyinAuthError)
        or ("DouyinAuthError" in repr(error.value))
    )
    message = str(error.value)
    assert SHOP in message and TOKEN_ENV in message and TOKEN not in message and SECRET not in message


def test_5xx_and_truncated_answers_are_retried_until_they_succeed(sandbox):
    url, state = sandbox
    state.faults.configure(FaultConfig(rate=0.6, kinds=("server_error", "truncated"), seed=1))
    with DouyinClient(SHOP, url, APP_KEY, SECRET, TOKEN, sleep=lambda s: None) as client:
        pages = [client.call("sku.list", {"page": page, "size": 100}) for page in (0, 1, 0, 1)]
    assert [len(p["sku_list"]) for p in pages] == [100, 100, 100, 100]
    assert sum(state.faults.counts.values()) >= 2


def test_a_bad_base_url_answering_html_is_reported_with_the_shop(sandbox):
    transport = httpx.MockTransport(lambda request: httpx.Response(404, text="<html>not here</html>"))
    with DouyinClient(SHOP, "http://example.invalid", APP_KEY, SECRET, TOKEN, transport=transport) as client:
        with pytest.raises(Exception, match="douyin_live.*base_url"):
            client.call("sku.list", {"page": 0, "size": 10})


# ------------------------------------------------------------------------------------------------------------ #
# stock writes


def test_set_stock_writes_listed_stock_and_a_repeated_idempotent_id_is_ignored(sandbox):
    url, state = sandbox
    sku_id, sku = next(iter(state.skus.items()))
    with DouyinClient(SHOP, url, APP_KEY, SECRET, TOKEN, sign_method="hmac-sha256") as client:
        used = set_stock(client, sku_id, 31, product_id=sku["product_id"])
        assert httpx.get(f"{url}/_sandbox/stock").json()["stock"][sku_id] == 31
        set_stock(client, sku_id, 2, idempotent_id=used)
        assert httpx.get(f"{url}/_sandbox/stock").json()["stock"][sku_id] == 31
        set_stock(client, sku["out_sku_id"], 4, by="out_sku_id", incremental=True)
        assert httpx.get(f"{url}/_sandbox/stock").json()["stock"][sku_id] == 35


# every kind of 抖店 error code gets its own exception and one clear message: the sub_code decides, since one code
# (40003, 30001) covers a bad signature and an expired token, a missing permission and a lapsed authorisation

OK = {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "data": {"sku_list": []}}


def _error(code: int, msg: str, sub_code: str, sub_msg: str = "") -> dict:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, "log_id": "x", "data": {}}


def _mock_client(answers: list[dict | int], sleeps: list[float]) -> DouyinClient:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        return httpx.Response(item) if isinstance(item, int) else httpx.Response(200, json=item)

    return DouyinClient(SHOP, "http://dy.test", APP_KEY, SECRET, TOKEN, token_env=TOKEN_ENV, sleep=sleeps.append,
                        transport=httpx.MockTransport(handler))  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "expected", "says", "never_says"),
    [
        (_error(40003, "非法的参数（平台校验）", "isv.access-token-expired", "access_token已过期"), DouyinAuthError,
         ["renew", TOKEN_ENV], []),
        (_error(40003, "非法的参数（平台校验）", "isv.access-token-no-existed", "access_token不存在"), DouyinAuthError,
         [TOKEN_ENV], []),
        (_error(30001, "操作权限不足", "dop.authorization-no-existed", "店铺授权已失效，请重新授权"), DouyinAuthError,
         ["renew", TOKEN_ENV], []),
        (_error(40003, "非法的参数（平台校验）", "isv.signature-invalid", "签名校验失败"), DouyinConfigError,
         ["DOUYIN_LIVE_APP_SECRET"], ["renew", TOKEN_ENV]),
        (_error(40001, "缺少必选参数（平台校验）", "isv.app-id-missing", "认证失败，app_key不存在"), DouyinConfigError,
         ["app key"], ["renew"]),
        (_error(30002, "请求来源IP不可信，请检查IP白名单", "isv.invalid_ip"), DouyinConfigError, ["whitelist"], ["renew"]),
        (_error(30001, "操作权限不足", "isv.app-permissions-insufficient", "应用无权限调用该接口"), DouyinPermissionError,
         ["permission package"], ["renew"]),
        (_error(123456, "新的错误", "isv.brand-new", "说明"), DouyinUnknownCodeError, ["does not know", "说明"], ["renew"]),
    ],
)  # fmt: skip
def test_each_kind_of_douyin_error_code_gives_its_own_exception_naming_shop_code_and_text(
    answer, expected, says, never_says
):
    sleeps: list[float] = []
    with pytest.raises(DouyinError) as caught:
        _mock_client([answer], sleeps).call("sku.list", {"page": 0, "size": 10})
    error, message = caught.value, str(caught.value)
    assert type(error) is expected and (error.code, error.sub_code) == (answer["code"], answer["sub_code"])
    assert message.startswith(f"Douyin shop {SHOP}:") and f"code {answer['code']} {answer['msg']}" in message
    assert answer["sub_code"] in message
    assert all(part.lower() in message.lower() for part in says), message
    assert not any(part.lower() in message.lower() for part in never_says), message
    assert TOKEN not in message and SECRET not in message and "\n" not in message
    assert sleeps == []


def test_the_rate_limit_and_service_errors_are_retried_then_the_call_succeeds():
    sleeps: list[float] = []
    answers = [
        _error(60000, "超过限流限制", "isv.traffic-limited", "请求太频繁，请2秒后重试"),
        _error(60000, "超过限流限制", "isv.traffic-limited", "请求太频繁，请稍后重试"),
        _error(20000, "服务不可用", "dop.service-error", "服务繁忙"),
        _error(20000, "服务不可用", "isp.service-error:1234", "底层错误"),
        OK,
    ]
    assert _mock_client(answers, sleeps).call("sku.list", {"page": 0, "size": 10}) == OK["data"]
    assert sleeps[:2] == [2.0, 2.0] and len(sleeps) == 4  # named seconds, else a doubling wait
