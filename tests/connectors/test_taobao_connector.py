"""The Tmall/Taobao connector against the TOP sandbox on loopback, real dlt and a temp DuckDB file.

Truth is the simulated world: what lands for the online window must equal the world's tmall_flagship orders,
lines, refunds and bill lines for that window, in counts and to the cent — also with faults at 20 %.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest

from connectors.common.loading import warehouse_pipeline
from connectors.taobao import TaobaoAuthError, TaobaoClient, TaobaoConfigError, TaobaoError, load_shop
from connectors.taobao.client import TaobaoPermissionError, TaobaoUnknownCodeError, parse_top_time
from connectors.taobao.signing import sign, string_to_sign
from connectors.taobao.stock import set_stock, set_stock_batch
from sandbox import runner, taobao
from sandbox.faults import KINDS, FaultConfig, Faults
from sandbox.world import World

SHOP = "tmall_flagship"
KEY, SECRET, TOKEN = "app-7", "app-secret-7", "session-secret-token-7"
TOKEN_ENV = "TMALL_FLAGSHIP_SESSION"
SALT = "test-salt"
NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # 2026-07-01 00:00 GMT+8: every event of the world is visible
HISTORY_DAYS = 4  # small online window keeps the tests fast


# ------------------------------------------------------------------------------------------------------------ #
# known-answer signing


def test_the_md5_signature_matches_a_hand_computed_answer():
    """s = 'app_keyk1methodtaobao.time.gettimestamp2026-06-30 12:00:00v2.0' (sorted, empty session skipped,
    sign left out); expected = hashlib.md5(b'sec' + s + b'sec').hexdigest().upper()."""
    params = {"v": "2.0", "method": "taobao.time.get", "app_key": "k1", "timestamp": "2026-06-30 12:00:00",
              "session": "", "sign": "IGNORED"}  # fmt: skip
    assert string_to_sign(params) == "app_keyk1methodtaobao.time.gettimestamp2026-06-30 12:00:00v2.0"
    assert sign(params, "sec", "md5") == "C5D50C2FF2D627345D36CF4262653920"


def test_the_hmac_md5_signature_matches_a_hand_computed_answer():
    """hmac.new(b'sec', s, hashlib.md5).hexdigest().upper() for the same s."""
    params = {"v": "2.0", "method": "taobao.time.get", "app_key": "k1", "timestamp": "2026-06-30 12:00:00"}
    assert sign(params, "sec", "hmac") == "6CA2206673FAD95230803BAFF395E43B"


def test_the_hmac_sha256_signature_matches_a_hand_computed_answer():
    """hmac.new(b'sec', s, hashlib.sha256).hexdigest().upper() for the same s."""
    params = {"v": "2.0", "method": "taobao.time.get", "app_key": "k1", "timestamp": "2026-06-30 12:00:00"}
    expected = "898E594EAFA5303EB2A2CA2304737B5DB1587D95B95359F26C0B0257AC017B70"
    assert sign(params, "sec", "hmac-sha256") == expected


def test_parameters_are_sorted_by_byte_order_and_chinese_values_are_signed_as_utf8():
    params = {"b": "2", "B": "1", "a": "天猫"}  # byte order: 'B' < 'a' < 'b'
    s = "B1a天猫b2"
    assert sign(params, "k", "hmac-sha256") == hmac.new(b"k", s.encode(), hashlib.sha256).hexdigest().upper()


# ------------------------------------------------------------------------------------------------------------ #
# the sandbox and the warehouse


@dataclass
class Stack:
    url: str
    app: object
    server: runner.RunningServer

    @property
    def sandbox(self) -> taobao.TaobaoSandbox:
        return self.app.state.sandbox

    def requests(self, method: str | None = None) -> list[dict]:
        log = httpx.get(f"{self.url}/_sandbox/requests").json()["requests"]
        return [r for r in log if method is None or r["method"] == method]

    def reset(self, now: datetime = NOW) -> None:
        httpx.post(f"{self.url}/_sandbox/reset_log")
        httpx.post(f"{self.url}/_sandbox/clock", json={"now": now.isoformat()})
        httpx.post(f"{self.url}/_sandbox/faults", json={"rate": 0.0})
        self.sandbox.token_expired = False


@pytest.fixture(scope="module")
def stack(small_world: World):
    app = taobao.create_app(small_world, shop_id=SHOP, app_key=KEY, app_secret=SECRET, access_token=TOKEN,
                            now=NOW, history_days=HISTORY_DAYS)  # fmt: skip
    server = runner.start(app, "taobao")
    yield Stack(server.url, app, server)
    server.stop()


def source_kwargs(stack: Stack, **extra) -> dict:
    kwargs = dict(shop_id=SHOP, base_url=stack.url, app_key=KEY, app_secret=SECRET, access_token=TOKEN,
                  pii_salt=SALT, token_env=TOKEN_ENV, history_days=HISTORY_DAYS, start_date="2024-01-01")  # fmt: skip
    return {**kwargs, **extra}


def pipeline(tmp_path: Path, name: str = "taobao_test"):
    return warehouse_pipeline(name, "raw_taobao", tmp_path / "build.duckdb", tmp_path / "dlt")


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.floor("s")


def truth(world: World, start: datetime, clock: datetime) -> dict[str, tuple[int, Decimal]]:
    """(count, money) per table as the shop stood at `clock`: trades created by then whose latest change up to
    then is at or after `start`, their lines, refunds created and bill lines settled in [start, clock]."""
    orders = world.shop(SHOP, "orders")
    refunds = world.shop(SHOP, "refunds")
    refund_at = _utc(refunds["created_at"])
    refunds_seen = refunds.assign(at=refund_at)[refund_at <= clock]
    last_refund = refunds_seen.groupby("order_id")["at"].max()
    columns = ("created_at", "paid_at", "shipped_at", "completed_at", "cancelled_at", "updated_at")
    events = pd.concat([_utc(orders[c]) for c in columns] + [orders["order_id"].map(last_refund)], axis=1)
    modified = events.where(events <= clock).max(axis=1)
    created = _utc(orders["created_at"])
    orders = orders[(created <= clock) & (modified >= start)]
    lines = world.shop(SHOP, "order_lines")
    lines = lines[lines["order_id"].isin(orders["order_id"])]
    refunds = refunds[(refund_at >= start) & (refund_at <= clock)]
    bills = world.shop(SHOP, "bill_lines")
    settle = (
        pd.to_datetime(bills["settled_date"].astype(str)).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    )
    bills = bills[(settle >= start) & (settle <= clock)]
    return {
        "orders": (len(orders), sum(orders["paid_amount"], Decimal(0))),
        "orders__orders": (len(lines), sum(lines["paid_amount"], Decimal(0))),
        "refunds": (len(refunds), sum(refunds["amount"], Decimal(0))),
        "settlements": (len(bills), sum(bills["amount"], Decimal(0))),
    }


def landed(path: Path) -> dict[str, tuple[int, Decimal]]:
    money = {
        "orders": "payment",
        "orders__orders": "payment",
        "refunds": "refund_fee",
        "settlements": "amount",
    }
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: tuple(
                con.execute(f"select count(*), coalesce(sum({column}), 0) from raw_taobao.{table}").fetchone()
            )
            for table, column in money.items()
        }


def first_window_start(stack: Stack) -> datetime:
    starts = [r["params"]["start_modified"] for r in stack.requests("taobao.trades.sold.increment.get")]
    return parse_top_time(min(starts))


def test_a_full_load_of_the_online_window_equals_the_world(stack, small_world, tmp_path):
    stack.reset()
    load_shop(pipeline(tmp_path), **source_kwargs(stack, page_size=500))
    start = first_window_start(stack)
    assert abs(start - (NOW - timedelta(days=HISTORY_DAYS - 1))) < timedelta(
        minutes=1
    )  # now - history + 1 day
    assert landed(tmp_path / "build.duckdb") == truth(small_world, start, NOW)
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        listings = con.execute("select count(*), count(distinct sku_id) from raw_taobao.listings").fetchone()
        names = {r[0] for r in con.execute("select buyer_nick from raw_taobao.orders").fetchall()}
        shops = {r[0] for r in con.execute("select distinct shop_id from raw_taobao.settlements").fetchall()}
    assert listings == (len(small_world.shop(SHOP, "listings")),) * 2
    assert names and all(name.startswith("h:") for name in names)  # buyer data hashed at the edge
    assert shops == {SHOP}
    # the connector split the load itself: no window over a day, no page over 100
    log = stack.requests()
    windowed = [r for r in log if "start_modified" in r["params"] or "start_time" in r["params"]]
    for request in windowed:
        params = request["params"]
        a = parse_top_time(params.get("start_modified") or params["start_time"])
        b = parse_top_time(params.get("end_modified") or params["end_time"])
        assert b - a <= timedelta(days=1)
    assert all(int(r["params"].get("page_size", 40)) <= 100 for r in log)
    assert all(r["code"] is None for r in log)


def test_with_faults_at_20_percent_the_full_load_still_equals_the_world(stack, small_world, tmp_path):
    stack.reset()
    httpx.post(f"{stack.url}/_sandbox/faults",
               json={"rate": 0.2, "seed": 3, "kinds": list(KINDS), "timeout_seconds": 1.0, "throttle_seconds": 1})  # fmt: skip
    load_shop(pipeline(tmp_path), **source_kwargs(stack, page_size=10, timeout_seconds=0.4))
    counts = httpx.get(f"{stack.url}/_sandbox/faults").json()["counts"]
    httpx.post(f"{stack.url}/_sandbox/faults", json={"rate": 0.0})
    start = first_window_start(stack)
    assert landed(tmp_path / "build.duckdb") == truth(small_world, start, NOW)
    assert set(counts) == set(KINDS), counts


def test_a_rerun_duplicates_nothing_and_a_day_later_lands_only_the_new_and_changed(
    stack, small_world, tmp_path
):
    day_before = NOW - timedelta(days=1)
    stack.reset(day_before)
    pipe = pipeline(tmp_path)
    load_shop(pipe, **source_kwargs(stack, page_size=5))
    start = first_window_start(stack)
    # a window is read newest-first from its LAST page back: page 1 (learns total_results), last, …, 1
    pages = [int(r["params"]["page_no"]) for r in stack.requests("taobao.trades.sold.increment.get")]
    first_window = pages[: pages.index(1, 1) + 1]
    assert len(first_window) > 2
    assert first_window == [1, *range(len(first_window) - 1, 0, -1)]
    assert landed(tmp_path / "build.duckdb") == truth(small_world, start, day_before)

    stack.reset(NOW)
    load_shop(pipe, **source_kwargs(stack))
    starts = [
        parse_top_time(r["params"]["start_modified"])
        for r in stack.requests("taobao.trades.sold.increment.get")
    ]
    assert min(starts) >= day_before - timedelta(
        minutes=15
    )  # only the new day (and the overlap) was asked for
    # every trade, line, refund and bill line exactly once, as they stand now (what landed first was updated)
    assert landed(tmp_path / "build.duckdb") == truth(small_world, start, NOW)


def test_a_load_run_window_by_window_resumes_where_it_stopped(stack, small_world, tmp_path):
    stack.reset()
    pipe = pipeline(tmp_path)
    load_shop(pipe, max_runs=1, **source_kwargs(stack, windows_per_run=2))  # stops after two windows
    first = first_window_start(stack)
    state = pipe.state["sources"]["taobao"]["resources"]["orders"]
    stopped_at = datetime.fromisoformat(state["done_until"])
    assert state["caught_up"] is False
    stack.reset()
    load_shop(pipe, **source_kwargs(stack, windows_per_run=2))
    starts = [
        parse_top_time(r["params"]["start_modified"])
        for r in stack.requests("taobao.trades.sold.increment.get")
    ]
    assert min(starts) == stopped_at - timedelta(minutes=10)
    assert landed(tmp_path / "build.duckdb") == truth(small_world, first, NOW)


KILLED_LOAD = """
import sys
from connectors.common.loading import warehouse_pipeline
from connectors.taobao import load_shop
kwargs, path = eval(sys.argv[1]), sys.argv[2]
load_shop(warehouse_pipeline("taobao_test", "raw_taobao", path + "/build.duckdb", path + "/dlt"), **kwargs)
"""


def test_a_load_killed_at_a_random_point_and_rerun_equals_the_world(stack, small_world, tmp_path):
    stack.reset()
    kwargs = source_kwargs(stack, windows_per_run=1, page_size=10)
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOAD, repr(kwargs), str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(stack.requests()) < 10 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    load_shop(pipeline(tmp_path), **source_kwargs(stack, page_size=10))
    start = min(first_window_start(stack), NOW)
    assert landed(tmp_path / "build.duckdb") == truth(small_world, start, NOW)


# ------------------------------------------------------------------------------------------------------------ #
# what the user is told


def test_a_wrong_app_secret_fails_as_a_configuration_problem_without_retrying(stack, tmp_path):
    stack.reset()
    with pytest.raises(Exception) as caught:
        load_shop(pipeline(tmp_path), **source_kwargs(stack, app_secret="not-the-secret"))
    message = _chain(caught.value)
    assert "app_secret" in message and SHOP in message
    assert "not-the-secret" not in message
    log = stack.requests()
    assert log and all(r["code"] == 25 for r in log)
    assert len(log) <= 4  # at most one rejected call per resource, none retried


def test_an_expired_session_fails_naming_the_shop_and_the_variable_to_renew(stack, tmp_path):
    stack.reset()
    httpx.post(f"{stack.url}/_sandbox/expire_token")
    with pytest.raises(Exception) as caught:
        load_shop(pipeline(tmp_path), **source_kwargs(stack))
    message = _chain(caught.value)
    assert SHOP in message and TOKEN_ENV in message and "renew the seller session" in message.lower()
    assert TOKEN not in message and SECRET not in message


def _chain(error: BaseException | None) -> str:
    parts = []
    while error is not None:
        parts.append(str(error))
        error = error.__cause__ or error.__context__
    return " | ".join(parts)


def _answer(body: dict) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(body).encode())


def _client(responses: list[dict | int], sleeps: list[float]) -> TaobaoClient:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("method") == "taobao.time.get":
            return _answer({"time_get_response": {"time": taobao.top_time(datetime.now(UTC))}})
        item = queue.pop(0)
        return httpx.Response(item) if isinstance(item, int) else _answer(item)

    return TaobaoClient(SHOP, "http://top.test", KEY, SECRET, TOKEN, token_env=TOKEN_ENV, sleep=sleeps.append,
                        transport=httpx.MockTransport(handler))  # fmt: skip


OK = {"refunds_receive_get_response": {"total_results": 0, "has_next": False}}


def test_a_code_7_throttle_waits_the_seconds_named_in_sub_msg_then_retries():
    sleeps: list[float] = []
    throttle = {"error_response": {"code": 7, "msg": "App Call Limited", "sub_code": "accesscontrol.limited-by-app-access-count",
                                   "sub_msg": "This ban will last for 12 more seconds"}}  # fmt: skip
    client = _client([throttle, OK], sleeps)
    assert client.call("taobao.refunds.receive.get", {}) == OK["refunds_receive_get_response"]
    assert sleeps == [12.0]


def test_isp_errors_and_5xx_are_retried_with_backoff_but_isv_errors_fail_with_the_platform_message():
    sleeps: list[float] = []
    isp = {
        "error_response": {
            "code": 15,
            "msg": "Remote service error",
            "sub_code": "isp.remote-service-timeout",
        }
    }
    client = _client([isp, 503, OK], sleeps)
    assert client.call("taobao.refunds.receive.get", {}) == OK["refunds_receive_get_response"]
    assert len(sleeps) == 2
    isv = {"error_response": {"code": 15, "msg": "Remote service error", "sub_code": "isv.invalid-parameter:fields",
                              "sub_msg": "fields is invalid"}}  # fmt: skip
    sleeps.clear()
    client = _client([isv, OK], sleeps)
    with pytest.raises(TaobaoError, match="isv.invalid-parameter:fields: fields is invalid") as caught:
        client.call("taobao.refunds.receive.get", {})
    assert not isinstance(caught.value, TaobaoAuthError | TaobaoConfigError)
    assert sleeps == []


def test_a_missing_session_is_refused_before_any_call_naming_the_variable():
    with pytest.raises(TaobaoAuthError, match=TOKEN_ENV):
        TaobaoClient(SHOP, "http://top.test", KEY, SECRET, "", token_env=TOKEN_ENV)


# ------------------------------------------------------------------------------------------------------------ #
# stock writes


def test_set_stock_sets_and_adds_listed_quantity_and_batches_several_skus(stack):
    stack.reset()
    item = next(iter(stack.sandbox.items.values()))
    skus = [s["sku_id"] for s in item["skus"]]
    with TaobaoClient(SHOP, stack.url, KEY, SECRET, TOKEN) as client:
        answer = set_stock(client, skus[0], 11)
        assert {s["sku_id"]: s["quantity"] for s in answer["skus"]["sku"]}[skus[0]] == 11
        with pytest.raises(TaobaoError, match="below 0"):  # a change is never floored: it is refused
            set_stock(client, item["skus"][0]["outer_id"], -100, num_iid=item["num_iid"], kind=2)
        set_stock(client, item["skus"][0]["outer_id"], -11, num_iid=item["num_iid"], kind=2)
        set_stock_batch(client, item["num_iid"], {sku: 3 for sku in skus[1:]})
        with pytest.raises(ValueError, match=">= 0"):
            set_stock(client, skus[0], -1)
    stock = httpx.get(f"{stack.url}/_sandbox/stock").json()["stock"]
    assert [stock[str(s)] for s in skus] == [0] + [3] * (len(skus) - 1)


def test_faults_are_known_kinds_only():
    with pytest.raises(ValueError):
        Faults(FaultConfig(kinds=("meteor",)))


def test_a_stock_add_is_not_resent_after_a_5xx_because_it_may_have_been_applied():
    sleeps: list[float] = []
    client = _client([503, {"item_quantity_update_response": {"item": {}}}], sleeps)
    with pytest.raises(TaobaoError, match="may or may not have been applied"):
        set_stock(client, "5012", 3, num_iid=68, kind=2)
    assert sleeps == []


# ------------------------------------------------------------------------------------------------------------ #
# every kind of TOP error code gets its own exception and one clear message


def _error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> dict:
    return {"error_response": {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}}


@pytest.mark.parametrize(
    ("answer", "expected", "says", "never_says"),
    [
        (_error(27, "Invalid session", "invalid-sessionkey"), TaobaoAuthError, ["renew the seller session", TOKEN_ENV], []),
        (_error(26, "Missing session"), TaobaoAuthError, ["renew the seller session"], []),
        (_error(25, "Invalid signature"), TaobaoConfigError, ["app_secret"], ["renew", TOKEN_ENV]),
        (_error(29, "Invalid app Key"), TaobaoConfigError, ["app_key"], ["renew"]),
        (_error(11, "Insufficient isv permissions", "isv.permission-api-package-limit", "scope ban check"),
         TaobaoPermissionError, ["permission package", "isv.permission-api-package-limit"], ["renew"]),
        (_error(12, "Insufficient user permissions"), TaobaoPermissionError, ["permission"], ["renew"]),
        (_error(997, "Something new", "isv.something-new", "what it says"), TaobaoUnknownCodeError,
         ["does not know", "isv.something-new: what it says"], ["renew"]),
    ],
)  # fmt: skip
def test_each_kind_of_top_error_code_gives_its_own_exception_naming_shop_code_and_text(
    answer, expected, says, never_says
):
    sleeps: list[float] = []
    with pytest.raises(TaobaoError) as caught:
        _client([answer], sleeps).call("taobao.refunds.receive.get", {})
    error, message = caught.value, str(caught.value)
    assert type(error) is expected
    assert error.code == answer["error_response"]["code"]
    platform = answer["error_response"]
    assert (
        message.startswith(f"Taobao shop {SHOP}:") and f"code {platform['code']} {platform['msg']}" in message
    )
    assert all(part.lower() in message.lower() for part in says), message
    assert not any(part.lower() in message.lower() for part in never_says), message
    assert TOKEN not in message and SECRET not in message and "\n" not in message
    assert sleeps == []  # none of these is retried


@pytest.mark.parametrize("code", [4, 5, 6, 7, 8])
def test_every_documented_call_limit_code_is_waited_out_and_the_call_then_succeeds(code):
    sleeps: list[float] = []
    throttle = _error(code, "Call Limited", "accesscontrol.limited", "This ban will last for 3 more seconds")
    client = _client([throttle, throttle, OK], sleeps)
    assert client.call("taobao.refunds.receive.get", {}) == OK["refunds_receive_get_response"]
    assert sleeps == [3.0, 3.0]


def test_service_unavailable_and_isp_busy_codes_are_retried_with_backoff_then_succeed():
    sleeps: list[float] = []
    busy = [
        _error(10, "Service currently unavailable"),
        _error(15, "Remote service error", "isp.top-remote-unknown-error"),
    ]
    client = _client([*busy, OK], sleeps)  # fmt: skip
    assert client.call("taobao.refunds.receive.get", {}) == OK["refunds_receive_get_response"]
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    "time_answer",
    [_error(11, "Insufficient isv permissions", "isv.permission-api-package-limit"), _error(22, "Invalid method"),
     {"time_get_response": {}}, 404],
)  # fmt: skip
def test_without_a_server_time_the_client_uses_the_local_clock_and_says_so_once(time_answer, caplog):
    stamps: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("method") == "taobao.time.get":
            return httpx.Response(time_answer) if isinstance(time_answer, int) else _answer(time_answer)
        stamps.append(request.url.params["timestamp"])
        return _answer(OK)

    client = TaobaoClient(SHOP, "http://top.test", KEY, SECRET, TOKEN, sleep=lambda s: None,
                          transport=httpx.MockTransport(handler))  # fmt: skip
    with caplog.at_level("WARNING", logger="connectors.taobao.client"):
        for _ in range(3):
            assert client.call("taobao.refunds.receive.get", {}) == OK["refunds_receive_get_response"]
    assert len(stamps) == 3
    sent = parse_top_time(stamps[-1])
    assert abs((sent - datetime.now(UTC)).total_seconds()) < 5
    warnings = [r for r in caplog.records if "local" in r.getMessage() or "machine's clock" in r.getMessage()]
    assert len(warnings) == 1 and SHOP in warnings[0].getMessage()
