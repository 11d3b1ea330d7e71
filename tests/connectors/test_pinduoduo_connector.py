"""The Pinduoduo connector against the POP sandbox on loopback, real dlt and a temp DuckDB file.

Truth is the simulated world: for the window the first load reads (from max(start_date, now − history_days + 1
day) to a few minutes before the clock), the warehouse must hold exactly the world's pdd_main orders, lines,
refunds and bill lines, to the fen.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pandas as pd
import pytest

from connectors.common.loading import warehouse_pipeline
from connectors.pinduoduo import PddAuthError, PddClient, PddSignatureError, load_shop
from connectors.pinduoduo.client import PddError, PddPermissionError, PddUnknownCodeError
from connectors.pinduoduo.signing import sign_params
from connectors.pinduoduo.source import plan_windows
from connectors.pinduoduo.stock import set_stock
from sandbox import pinduoduo, runner
from sandbox.faults import KINDS, FaultConfig, Faults
from sandbox.world import World

SHOP = "pdd_main"
KEY, SECRET, TOKEN, SALT = "pdd-client", "pdd-secret-value", "pdd-token-secret-42", "test-salt"
NOW = datetime(2026, 6, 20, 16, 0, tzinfo=UTC)
HISTORY_DAYS = 3
BEHIND = timedelta(minutes=5)
GMT8 = ZoneInfo("Asia/Shanghai")


def test_the_signer_matches_a_hand_computed_md5() -> None:
    # Sorted: access_token, client_id, data_type, page, timestamp, type, version; independently:
    # hashlib.md5(b"secaccess_tokentokclient_idabcdata_typeJSONpage1timestamp1700000000typepdd.goods.list.get"
    #             b"versionV1sec").hexdigest().upper()
    params = {
        "type": "pdd.goods.list.get", "client_id": "abc", "timestamp": "1700000000", "data_type": "JSON",
        "version": "V1", "access_token": "tok", "page": "1", "sign": "ignored",
    }  # fmt: skip
    assert sign_params(params, "sec") == "8FC8B907AC3D73F8C5D71EAA48BE0A7B"
    concatenated = b"secaccess_tokentokclient_idabcdata_typeJSONpage1timestamp1700000000typepdd.goods.list.getversionV1sec"
    assert hashlib.md5(concatenated).hexdigest().upper() == "8FC8B907AC3D73F8C5D71EAA48BE0A7B"


def test_windows_never_exceed_the_width_and_stay_behind_the_clock() -> None:
    windows = plan_windows(None, NOW, timedelta(minutes=30), "2024-01-01", 2, 10, 5)
    assert all(0 < end - start <= 1800 for start, end in windows)
    assert windows[0][0] == int((NOW - timedelta(days=1)).timestamp())
    assert windows[-1][1] == int((NOW - BEHIND).timestamp())


# ------------------------------------------------------------------------------------------------------------ #
# servers and loads


@pytest.fixture()
def server(small_world: World):
    running = runner.start(
        pinduoduo.create_app(
            small_world,
            shop_id=SHOP,
            app_key=KEY,
            app_secret=SECRET,
            access_token=TOKEN,
            now=NOW,
            history_days=10,
        ),
        "pinduoduo",
    )
    yield running
    running.stop()


def source_kwargs(url: str, now: datetime = NOW, **extra) -> dict:
    return dict(
        shop_id=SHOP, base_url=url, app_key=KEY, app_secret=SECRET, access_token=TOKEN, pii_salt=SALT,
        token_env="PDD_MAIN_TOKEN", history_days=HISTORY_DAYS, now=now, **extra,
    )  # fmt: skip


def pipeline(tmp_path: Path, name: str = "pdd"):
    return warehouse_pipeline(name, "raw_pinduoduo", tmp_path / "build.duckdb", tmp_path / "dlt")


def requests(url: str) -> list[dict]:
    return httpx.get(f"{url}/_sandbox/requests").json()["requests"]


def warehouse(tmp_path: Path) -> dict:
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        q = lambda sql: con.sql(sql).fetchall()[0]  # noqa: E731
        return {
            "orders": q(
                "select count(*), count(distinct order_sn), sum(pay_amount) from raw_pinduoduo.orders"
            ),
            "lines": q(
                "select count(*), sum(goods_price * goods_count) from raw_pinduoduo.orders__item_list"
            ),
            "refunds": q(
                "select count(*), count(distinct id), sum(refund_amount) from raw_pinduoduo.refunds"
            ),
            "bills": q("select count(*), count(distinct id), sum(amount) from raw_pinduoduo.settlements"),
        }


def _utc(value) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).floor("s").to_pydatetime()


def truth(world: World, now: datetime = NOW, since: datetime | None = None) -> dict:
    """The world's pdd_main rows the load window covers, as the platform shows them at `now`."""
    lo = since or now - timedelta(days=HISTORY_DAYS) + timedelta(days=1)
    hi = now - BEHIND
    refunds = world.shop(SHOP, "refunds")
    refund_moments: dict[str, list[datetime]] = {}
    for r in refunds.itertuples():
        refund_moments.setdefault(r.order_id, []).append(_utc(r.created_at))
    chosen = []
    for o in world.shop(SHOP, "orders").itertuples():
        created = _utc(o.created_at)
        if created > now:
            continue
        events = [created] + [
            _utc(getattr(o, c)) for c in ("paid_at", "shipped_at", "completed_at", "cancelled_at")
        ]
        events += [max(created, m) for m in refund_moments.get(o.order_id, [])]
        updated = max(e for e in events if e is not None and e <= now)
        if lo <= updated < hi:
            chosen.append(o)
    ids = {o.order_id for o in chosen}
    lines = world.shop(SHOP, "order_lines")
    lines = lines[lines.order_id.isin(ids)]
    ref = refunds[[lo <= _utc(c) < hi for c in refunds.created_at]]
    bills = world.shop(SHOP, "bill_lines")
    bill_moments = [datetime.combine(d, time(0), GMT8) for d in bills.settled_date]
    bills = bills[[lo <= m < hi for m in bill_moments]]
    fen = lambda values: int(sum(v * 100 for v in values))  # noqa: E731
    return {
        "orders": (len(chosen), len(chosen), fen(o.paid_amount for o in chosen)),
        "lines": (len(lines), fen(p * q for p, q in zip(lines.unit_list_price, lines.quantity, strict=True))),
        "refunds": (len(ref), len(ref), fen(ref.amount)),
        "bills": (len(bills), len(bills), fen(bills.amount)),
    }


def test_a_full_load_of_the_online_window_equals_the_world(
    server, small_world: World, tmp_path: Path
) -> None:
    load_shop(pipeline(tmp_path), chunk_windows=None, **source_kwargs(server.url))
    expected = truth(small_world)
    assert expected["orders"][0] > 50 and expected["bills"][0] > 0 and expected["refunds"][0] > 0
    assert warehouse(tmp_path) == expected
    sent = [r["params"] for r in requests(server.url) if r["type"] != "pdd.goods.list.get"]
    spans = [
        int(p.get("end_updated_at", p.get("end_time"))) - int(p.get("start_updated_at", p.get("start_time")))
        for p in sent
    ]
    assert max(spans) <= 86400
    assert all(
        int(p["end_updated_at"]) - int(p["start_updated_at"]) <= 1800 for p in sent if "end_updated_at" in p
    )
    assert all(int(p["page_size"]) <= 100 for p in sent)
    assert all(r["status"] == 200 and r["fault"] is None for r in requests(server.url))
    starts = [int(p["start_updated_at"]) for p in sent if "start_updated_at" in p]
    assert min(starts) == int((NOW - timedelta(days=HISTORY_DAYS - 1)).timestamp())


def test_with_faults_at_20_percent_the_load_still_equals_the_world(
    small_world: World, tmp_path: Path
) -> None:
    faults = Faults(FaultConfig(rate=0.2, seed=11, timeout_seconds=1.0, throttle_seconds=1))
    running = runner.start(
        pinduoduo.create_app(
            small_world, shop_id=SHOP, app_key=KEY, app_secret=SECRET, access_token=TOKEN, now=NOW,
            faults=faults, history_days=10,
        ),
        "pinduoduo-faults",
    )  # fmt: skip
    try:
        kwargs = source_kwargs(running.url, request_timeout=0.4, page_size=50)
        load_shop(pipeline(tmp_path), chunk_windows=None, **{**kwargs, "history_days": 2})
        counts = httpx.get(f"{running.url}/_sandbox/faults").json()["counts"]
    finally:
        running.stop()
    assert set(counts) == set(KINDS)
    assert warehouse(tmp_path) == truth(small_world, since=NOW - timedelta(days=1))


def test_a_rerun_duplicates_nothing_and_a_day_later_only_new_windows_are_read(
    server, small_world: World, tmp_path: Path
) -> None:
    pipe = pipeline(tmp_path)
    load_shop(pipe, **source_kwargs(server.url))
    first = warehouse(tmp_path)
    load_shop(pipe, **source_kwargs(server.url))
    assert warehouse(tmp_path) == first

    later = NOW + timedelta(days=1)
    httpx.post(f"{server.url}/_sandbox/clock", json={"now": later.isoformat()})
    httpx.post(f"{server.url}/_sandbox/reset_log")
    load_shop(pipe, **source_kwargs(server.url, now=later))
    starts = [
        int(r["params"]["start_updated_at"])
        for r in requests(server.url)
        if "start_updated_at" in r["params"]
    ]
    assert min(starts) == int((NOW - BEHIND - timedelta(minutes=10)).timestamp())
    after = warehouse(tmp_path)
    new = truth(small_world, later, since=NOW - BEHIND - timedelta(minutes=10))
    # orders: everything of the first window that did not change since, plus what the new window holds
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        loaded = {r[0] for r in con.sql("select order_sn from raw_pinduoduo.orders").fetchall()}
    assert after["orders"][0] == after["orders"][1] == len(loaded)
    assert after["orders"][0] >= max(first["orders"][0], new["orders"][0])
    assert after["refunds"][0] == after["refunds"][1]
    assert after["bills"][0] == first["bills"][0] + new["bills"][0]


def test_a_wrong_secret_fails_at_once_as_a_configuration_problem(server, tmp_path: Path) -> None:
    client = PddClient(SHOP, server.url, KEY, "wrong-secret", TOKEN, sleep=lambda s: None)
    with pytest.raises(PddSignatureError) as error:
        client.call("pdd.goods.list.get", {"page": 1, "page_size": 10}, "goods_list_get_response")
    assert "client_secret" in str(error.value) and "wrong-secret" not in str(error.value)
    assert len(requests(server.url)) == 1


def test_an_expired_token_fails_naming_the_shop_and_the_env_var(server, tmp_path: Path) -> None:
    httpx.post(f"{server.url}/_sandbox/expire_token")
    with pytest.raises(Exception) as error:
        load_shop(pipeline(tmp_path), **source_kwargs(server.url))
    chain, current = [], error.value
    while current is not None:
        chain.append(current)
        current = current.__cause__ or current.__context__
    auth = next(e for e in chain if isinstance(e, PddAuthError))
    assert SHOP in str(auth) and "PDD_MAIN_TOKEN" in str(auth)
    assert TOKEN not in str(error.value) and SECRET not in str(error.value)


def test_stock_is_set_by_sku_id_or_merchant_code(server) -> None:
    stock = httpx.get(f"{server.url}/_sandbox/stock").json()["stock"]
    first, second = stock[0], stock[-1]
    with PddClient(SHOP, server.url, KEY, SECRET, TOKEN) as client:
        set_stock(client, first["sku_id"], 12)
        set_stock(client, second["outer_id"], 4, by_outer_id=True, goods_id=second["goods_id"])
    after = {s["sku_id"]: s["quantity"] for s in httpx.get(f"{server.url}/_sandbox/stock").json()["stock"]}
    assert after[first["sku_id"]] == 12 and after[second["sku_id"]] == 4


# ------------------------------------------------------------------------------------------------------------ #
# every kind of POP error code gets its own exception and one clear message

OK = {"goods_list_get_response": {"goods_list": [], "total_count": 0}}


def _error(code: int, msg: str, sub_msg: str = "") -> dict:
    return {
        "error_response": {"error_code": code, "error_msg": msg, "sub_code": str(code), "sub_msg": sub_msg}
    }


def _mock_client(answers: list[dict | int], sleeps: list[float]) -> PddClient:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        return httpx.Response(item) if isinstance(item, int) else httpx.Response(200, json=item)

    return PddClient(SHOP, "http://pop.test", KEY, SECRET, TOKEN, sleep=sleeps.append,
                     transport=httpx.MockTransport(handler))  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "expected", "says", "never_says"),
    [
        (_error(10019, "access_token已过期"), PddAuthError, ["re-authorise", "PDD_MAIN_TOKEN"], []),
        (_error(20032, "access_token或client_id错误"), PddAuthError, ["PDD_MAIN_TOKEN", "client_id"], []),
        (_error(20004, "签名sign校验失败"), PddSignatureError, ["client_secret"], ["re-authorise", "PDD_MAIN_TOKEN"]),
        (_error(20005, "ip无权访问接口，请加入ip白名单"), PddSignatureError, ["whitelist"], ["re-authorise"]),
        (_error(20031, "用户没有授权访问此接口"), PddPermissionError, ["permission package"], ["re-authorise"]),
        (_error(30000, "没有调用此target接口权限"), PddPermissionError, ["permission"], ["re-authorise"]),
        (_error(88888, "新的错误", "说明"), PddUnknownCodeError, ["does not know", "说明"], ["re-authorise"]),
    ],
)  # fmt: skip
def test_each_kind_of_pop_error_code_gives_its_own_exception_naming_shop_code_and_text(
    answer, expected, says, never_says
):
    sleeps: list[float] = []
    with pytest.raises(PddError) as caught:
        _mock_client([answer], sleeps).call("pdd.goods.list.get", {"page": 1}, "goods_list_get_response")
    error, message, platform = caught.value, str(caught.value), answer["error_response"]
    assert type(error) is expected and error.code == platform["error_code"]
    assert message.startswith(f"Pinduoduo shop {SHOP}:")
    assert f"error_code {platform['error_code']}: {platform['error_msg']}" in message
    assert all(part.lower() in message.lower() for part in says), message
    assert not any(part.lower() in message.lower() for part in never_says), message
    assert TOKEN not in message and SECRET not in message and "\n" not in message
    assert sleeps == []


def test_throttle_and_busy_codes_are_retried_then_the_call_succeeds():
    sleeps: list[float] = []
    answers = [
        _error(70031, "调用过于频繁，请调整调用频率", "请2秒后重试"),
        _error(52101, "当前接口被限流，请稍后重试"),
        _error(52103, "服务暂时不可用，请稍后重试"),
        _error(50000, "系统内部错误"),
        OK,
    ]
    client = _mock_client(answers, sleeps)
    assert (
        client.call("pdd.goods.list.get", {"page": 1}, "goods_list_get_response")
        == OK["goods_list_get_response"]
    )
    assert sleeps[:2] == [2.0, 2.0] and len(sleeps) == 4  # named seconds, else a doubling wait
