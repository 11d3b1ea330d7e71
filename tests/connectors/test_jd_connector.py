"""The JD connector against the JD sandbox on loopback, real dlt and a temp DuckDB file.

Truth is the simulated world's jd_pop slice: what lands for the online window must equal it exactly (counts and
money totals of orders, lines, refunds and settlement bill lines), also with 20 % faults and across reruns.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pandas as pd
import pytest

from connectors.common.loading import warehouse_pipeline
from connectors.jd import JdAuthError, JdClient, JdError, JdSignatureError, jd_source, load_shop
from connectors.jd.client import JdPermissionError, JdUnknownCodeError
from connectors.jd.signing import sign, sign_string
from connectors.jd.stock import get_stock, set_stock
from sandbox import jd, runner
from sandbox.faults import FaultConfig, Faults
from sandbox.world import World

SHOP = "jd_pop"
APP_KEY, SECRET, TOKEN = "jd_app_test", "jd_secret_never_shown", "jd_token_never_shown"
TOKEN_ENV = "JD_POP_TOKEN"
NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
HISTORY_DAYS = 12
GMT8 = ZoneInfo("Asia/Shanghai")


@dataclass
class Stack:
    url: str
    sandbox: jd.JdSandbox
    server: runner.RunningServer
    tmp: Path

    def kwargs(self, **overrides) -> dict:
        return {
            "shop_id": SHOP, "base_url": self.url, "app_key": APP_KEY, "app_secret": SECRET,
            "access_token": TOKEN, "pii_salt": "test-salt", "token_env": TOKEN_ENV, "history_days": HISTORY_DAYS,
            "now": NOW, "page_size": 40, "window_days": 5, "timeout": 5.0, **overrides,
        }  # fmt: skip

    def pipeline(self, name: str = "jd"):
        return warehouse_pipeline(name, "raw_jd", self.tmp / f"{name}.duckdb", self.tmp / "dlt")

    def query(self, sql: str, name: str = "jd") -> list[tuple]:
        with duckdb.connect(str(self.tmp / f"{name}.duckdb"), read_only=True) as con:
            return con.sql(sql).fetchall()


@pytest.fixture
def stack(small_world: World, tmp_path: Path):
    app = jd.create_app(
        small_world, shop_id=SHOP, app_key=APP_KEY, app_secret=SECRET, access_token=TOKEN, now=NOW,
        history_days=HISTORY_DAYS, faults=Faults(FaultConfig(timeout_seconds=1.5)),
    )  # fmt: skip
    server = runner.start(app, "jd")
    yield Stack(server.url, app.state.sandbox, server, tmp_path)
    server.stop()


def truth(world: World, now: datetime) -> dict:
    """The world's jd_pop rows the online window [now - (history_days - 1) days, now] must bring in."""
    oldest = now - timedelta(days=HISTORY_DAYS - 1)

    def floor(series: pd.Series) -> pd.Series:
        return pd.to_datetime(series, utc=True).dt.floor("s")

    orders = world.shop(SHOP, "orders")
    orders = orders[(floor(orders.updated_at) >= oldest) & (floor(orders.created_at) <= now)]
    lines = world.shop(SHOP, "order_lines")
    lines = lines[lines.order_id.isin(orders.order_id)]
    refunds = world.shop(SHOP, "refunds")
    refunds = refunds[(floor(refunds.created_at) >= oldest) & (floor(refunds.created_at) <= now)]
    bills = world.shop(SHOP, "bill_lines")
    first_day, today = oldest.astimezone(GMT8).date(), now.astimezone(GMT8).date()
    bills = bills[(bills.settled_date >= first_day) & (bills.settled_date <= today)]
    return {
        "orders": (
            len(orders),
            sum(orders.paid_amount, Decimal(0)),
            sum(orders.merchant_discount, Decimal(0)),
        ),
        "lines": (
            len(lines),
            int(lines.quantity.sum()),
            sum(lines.unit_list_price * lines.quantity, Decimal(0)),
        ),
        "refunds": (len(refunds), sum(refunds.amount, Decimal(0))),
        "bills": (len(bills), sum(bills.amount, Decimal(0))),
    }


def landed(stack: Stack, name: str = "jd") -> dict:
    q = stack.query
    orders = q("select count(*), sum(order_payment), sum(seller_discount) from raw_jd.orders", name)[0]
    lines = q(
        "select count(*), sum(cast(item_total as int)), sum(jd_price * cast(item_total as int))"
        " from raw_jd.orders__item_info_list",
        name,
    )[0]
    return {
        "orders": orders,
        "lines": (lines[0], int(lines[1]), lines[2]),
        "refunds": q("select count(*), sum(apply_refund_sum) from raw_jd.refunds", name)[0],
        "bills": q("select count(*), sum(amount) from raw_jd.settlements", name)[0],
    }


def requests(stack: Stack) -> list[dict]:
    return [r for r in stack.sandbox.log if r.get("params") is not None]


def window_of(params: dict) -> timedelta | None:
    for a, b in (("start_date", "end_date"), ("applyTimeStart", "applyTimeEnd")):
        if a in params:
            return datetime.fromisoformat(params[b]) - datetime.fromisoformat(params[a])
    if "startDate" in params:
        return datetime.fromisoformat(params["endDate"]) - datetime.fromisoformat(params["startDate"])
    return None


# ------------------------------------------------------------------------------------------------------------ #
# signing


def test_the_signer_matches_a_signature_computed_by_hand_from_the_spec():
    params = {
        "360buy_param_json": '{"page":"1","page_size":"100"}',
        "access_token": "tok",
        "app_key": "key",
        "method": "jingdong.pop.order.search",
        "sign_method": "md5",
        "timestamp": "2026-06-30 12:00:00",
        "v": "2.0",
        "format": "json",
        "empty": "",
    }
    # Sorted by name, empty value skipped, name+value concatenated, secret "sec" on both sides:
    # hashlib.md5(b'sec360buy_param_json{"page":"1","page_size":"100"}access_tokentokapp_keykeyformatjson'
    #             b'methodjingdong.pop.order.searchsign_methodmd5timestamp2026-06-30 12:00:00v2.0sec')
    #   .hexdigest().upper()  (computed once, pasted here)
    literal = (
        'sec360buy_param_json{"page":"1","page_size":"100"}access_tokentokapp_keykeyformatjson'
        "methodjingdong.pop.order.searchsign_methodmd5timestamp2026-06-30 12:00:00v2.0sec"
    )
    assert sign_string(params) == literal[3:-3]
    assert sign(params, "sec") == "3CF5C8F87A3619A77494D11CCFCFBE31"


# ------------------------------------------------------------------------------------------------------------ #
# full loads


def test_a_full_load_of_the_online_window_equals_the_world(stack: Stack, small_world: World, caplog):
    with caplog.at_level(logging.INFO, logger="connectors.jd.source"):
        load_shop(stack.pipeline(), **stack.kwargs())
    assert landed(stack) == truth(small_world, NOW)
    assert any("file importer" in m and SHOP in m for m in caplog.messages), "the history cut is logged"
    sent = requests(stack)
    assert all(
        window_of(r["params"]) <= timedelta(days=30) for r in sent if window_of(r["params"]) is not None
    )
    assert max(int(r["params"].get("page_size") or r["params"].get("pageSize")) for r in sent) <= 100
    assert stack.query("select count(*) from raw_jd.listings")[0][0] == len(
        small_world.shop(SHOP, "listings")
    )
    # buyer data arrives hashed
    pins = stack.query("select pin, consignee_info__mobile from raw_jd.orders limit 5")
    assert all(p.startswith("h:") and m.startswith("h:") for p, m in pins)


def test_with_a_fifth_of_requests_failing_the_load_still_equals_the_world(stack: Stack, small_world: World):
    stack.sandbox.faults.configure(FaultConfig(rate=0.2, seed=7, timeout_seconds=1.5, throttle_seconds=0))
    infos = load_shop(stack.pipeline(), **stack.kwargs(timeout=0.7, max_windows=2))
    assert len(infos) > 1, "the load committed window by window over several runs"
    assert landed(stack) == truth(small_world, NOW)
    assert set(stack.sandbox.faults.counts) == {"throttle", "server_error", "timeout", "truncated", "overlap"}


def test_a_rerun_duplicates_nothing_and_a_day_later_only_new_windows_are_read(
    stack: Stack, small_world: World
):
    pipeline = stack.pipeline()
    load_shop(pipeline, **stack.kwargs())
    first = landed(stack)
    load_shop(pipeline, **stack.kwargs())
    assert landed(stack) == first
    stack.sandbox.log.clear()
    later = NOW + timedelta(days=1)
    stack.sandbox.now = later
    load_shop(pipeline, **stack.kwargs(now=later, history_days=HISTORY_DAYS + 1))
    starts = [
        datetime.strptime(r["params"]["start_date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=GMT8)
        for r in requests(stack)
        if "start_date" in r["params"]
    ]
    assert min(starts) >= NOW - timedelta(minutes=10), "only the new day (and the overlap) is asked for"
    assert landed(stack) == truth(
        small_world, NOW
    )  # the world ends on 2026-06-30: nothing new, nothing doubled


# ------------------------------------------------------------------------------------------------------------ #
# rejections


def test_an_expired_token_fails_with_the_shop_and_the_env_var_to_renew(stack: Stack):
    stack.sandbox.token_expired = True
    with pytest.raises(Exception) as raised:
        load_shop(stack.pipeline(), **stack.kwargs())
    error = raised.value
    while error.__cause__ is not None or error.__context__ is not None:
        if isinstance(error, JdAuthError):
            break
        error = error.__cause__ or error.__context__
    assert isinstance(error, JdAuthError)
    assert SHOP in str(error) and TOKEN_ENV in str(error)
    assert TOKEN not in str(raised.value) and SECRET not in str(raised.value)


def test_a_wrong_secret_fails_as_a_configuration_problem_without_retries(stack: Stack):
    with JdClient(SHOP, stack.url, APP_KEY, "wrong-secret", TOKEN, token_env=TOKEN_ENV) as client:
        with pytest.raises(JdSignatureError, match="app secret"):
            client.call("jingdong.sku.read.searchSkuList", {"page": "1", "pageSize": "10"})
    assert len(stack.sandbox.log) == 1


def test_an_oversized_page_size_is_capped_at_100(stack: Stack):
    stack.pipeline().run(jd_source(**stack.kwargs(page_size=500, window_days=30)).with_resources("listings"))
    sizes = {int(r["params"].get("page_size") or r["params"].get("pageSize")) for r in requests(stack)}
    assert sizes == {100}
    assert all(r["error"] is None for r in stack.sandbox.log)


def test_a_window_wider_than_30_days_is_never_sent(stack: Stack):
    stack.sandbox.history_days = 40
    stack.pipeline().run(jd_source(**stack.kwargs(window_days=90, history_days=40)).with_resources("refunds"))
    widths = [window_of(r["params"]) for r in requests(stack) if window_of(r["params"]) is not None]
    assert widths and max(widths) <= timedelta(days=30)


def test_set_stock_changes_the_listed_quantity_on_jd(stack: Stack, small_world: World):
    sku = str(small_world.shop(SHOP, "listings").platform_sku_id.iloc[0])
    with JdClient(SHOP, stack.url, APP_KEY, SECRET, TOKEN) as client:
        set_stock(client, sku, 37)
        assert get_stock(client, sku) == 37
    assert httpx.get(f"{stack.url}/_sandbox/stock").json()["stock"][sku] == 37


def test_the_business_parameters_travel_as_one_signed_json_string(stack: Stack):
    with JdClient(SHOP, stack.url, APP_KEY, SECRET, TOKEN) as client:
        form = client.signed_form("jingdong.stock.read.findSkuStock", {"skuId": "1"})
    assert json.loads(form["360buy_param_json"]) == {"skuId": "1"}
    assert form["sign"] == sign({k: v for k, v in form.items() if k != "sign"}, SECRET)


# ------------------------------------------------------------------------------------------------------------ #
# every kind of JOS error code gets its own exception and one clear message

OK = {"jingdong_sku_read_searchSkuList_responce": {"code": "0", "page": {"data": [], "totalItem": 0}}}


def _error(code: str, en: str, zh: str = "") -> dict:
    return {"error_response": {"code": code, "en_desc": en, "zh_desc": zh}}


def _mock_client(answers: list[dict | int], sleeps: list[float]) -> JdClient:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        return httpx.Response(item) if isinstance(item, int) else httpx.Response(200, json=item)

    return JdClient(SHOP, "http://jos.test", APP_KEY, SECRET, TOKEN, token_env=TOKEN_ENV, sleep=sleeps.append,
                    transport=httpx.MockTransport(handler))  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "expected", "says", "never_says"),
    [
        (_error("19", "Invalid access_token", "无效access_token"), JdAuthError, ["re-authorise", TOKEN_ENV], []),
        (_error("18", "Missing access_token"), JdAuthError, [TOKEN_ENV], []),
        (_error("12", "Invalid Signature", "无效签名"), JdSignatureError, ["app secret"], ["re-authorise", TOKEN_ENV]),
        (_error("21", "Invalid app_key"), JdSignatureError, ["app key"], ["re-authorise"]),
        (_error("24", "cannot use this API", "无权调用API"), JdPermissionError, ["JOS console"], ["re-authorise"]),
        (_error("98765", "Something new", "新的"), JdUnknownCodeError, ["does not know"], ["re-authorise"]),
    ],
)  # fmt: skip
def test_each_kind_of_jos_error_code_gives_its_own_exception_naming_shop_code_and_text(
    answer, expected, says, never_says
):
    sleeps: list[float] = []
    with pytest.raises(JdError) as caught:
        _mock_client([answer], sleeps).call("jingdong.sku.read.searchSkuList", {"page": "1"})
    error, message, platform = caught.value, str(caught.value), answer["error_response"]
    assert type(error) is expected and error.code == platform["code"]
    assert (
        message.startswith(f"JD shop {SHOP}:")
        and f"JD code {platform['code']}: {platform['en_desc']}" in message
    )
    assert all(part.lower() in message.lower() for part in says), message
    assert not any(part.lower() in message.lower() for part in never_says), message
    assert TOKEN not in message and SECRET not in message and "\n" not in message
    assert sleeps == []


def test_the_documented_call_limit_code_2_is_waited_out_and_5xx_retried_then_the_call_succeeds():
    sleeps: list[float] = []
    throttle = _error("2", "App Call Limited, retry after 3 seconds", "限制时间内调用失败次数")
    client = _mock_client([throttle, 502, throttle, OK], sleeps)
    assert (
        client.call("jingdong.sku.read.searchSkuList", {"page": "1"})
        == OK["jingdong_sku_read_searchSkuList_responce"]
    )
    assert sleeps.count(3.0) == 2 and len(sleeps) == 3


def test_a_call_limit_that_never_lifts_fails_with_jd_s_code_and_text():
    sleeps: list[float] = []
    client = _mock_client([_error("2", "App Call Limited")] * 30, sleeps)
    client.max_throttle_retries = 3
    with pytest.raises(JdError, match=r"JD shop jd_pop: .*JD code 2: App Call Limited.*try again later"):
        client.call("jingdong.sku.read.searchSkuList", {"page": "1"})
    assert len(sleeps) == 4
