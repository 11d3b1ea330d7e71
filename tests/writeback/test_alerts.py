"""Alerts (writeback/alerts, orchestration/alerts.py): a run's alerts go as one markdown digest per robot to the
robots sandbox (sandbox/robots.py), which verifies DingTalk's signature or keyword and WeCom's key and enforces
20 messages per robot per minute; muted kinds stay out, owners are named, a long digest is split without losing
a line, the rate guard never lets a robot see more than 20 messages a minute however many runs fire, and no
secret is ever in a log line, an outcome or an exception."""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime

import duckdb
import httpx
import pytest

from sandbox.robots import DingTalkRobot, create_app
from sandbox.runner import start
from writeback.alerts import Alert, Policy, deliver
from writeback.alerts.digest import KINDS, LABELS, digest, nbytes
from writeback.alerts.robots import Ledger, Robot, Sender, dingtalk_sign, request_url

TOKEN = "dt-token-0123456789abcdef"
SECRET = "SECa1b2c3d4e5f6secret"
KEYWORD_TOKEN = "dt-keyword-token-fedcba"
WECOM_KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
SECRETS = (TOKEN, SECRET, KEYWORD_TOKEN, WECOM_KEY)


EVERY_RUN = Policy(repeat_after_hours=0)
"""Every run's alerts sent, repeats too: what the tests of the rate guard, signing and splitting send with."""


class FakeClock:
    """Unix seconds that move only when told (the sender's sleep advances it): a minute passes in no time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def robots_server(clock):
    app = create_app(
        dingtalk={
            TOKEN: DingTalkRobot("signed", secret=SECRET),
            KEYWORD_TOKEN: DingTalkRobot("kw", keyword="店铺告警"),
        },
        wecom={WECOM_KEY: "wecom"},
        clock=clock,
    )
    server = start(app, "robots")
    yield server
    server.stop()


def received(server) -> dict:
    return httpx.get(f"{server.url}/_sandbox/messages").json()


def signed(server) -> Robot:
    return Robot("ops-dingtalk", "dingtalk", f"{server.url}/robot/send?access_token={TOKEN}", secret=SECRET)


def keyworded(server, keyword="店铺告警") -> Robot:
    return Robot(
        "ops-keyword", "dingtalk", f"{server.url}/robot/send?access_token={KEYWORD_TOKEN}", keyword=keyword
    )


def wecom(server) -> Robot:
    return Robot("ops-wecom", "wecom", f"{server.url}/cgi-bin/webhook/send?key={WECOM_KEY}")


def thirty_alerts() -> list[Alert]:
    """30 alerts over the 8 kinds."""
    alerts = []
    for n in range(30):
        kind = KINDS[n % len(KINDS)]
        alerts.append(Alert(kind, "critical" if kind in ("run_failed", "oversold") else "warning",
                            f"{kind} #{n}", (f"SKU AP-{n:04d}-M 灯芯绒休闲裤: detail {n}",)))  # fmt: skip
    return alerts


def assert_no_secret(caplog, *texts: str) -> None:
    everything = [r.getMessage() for r in caplog.records] + [str(t) for t in texts]
    for record in caplog.records:
        if record.exc_info:
            everything.append(logging.Formatter().formatException(record.exc_info))
    for text in everything:
        for secret in SECRETS:
            assert secret not in text, f"a secret leaked into: {text[:200]}"


# -- signatures and keywords ----------------------------------------------------------------------------------


def test_dingtalks_signature_is_the_documented_hmac_and_goes_url_encoded_on_the_url():
    import base64
    import hashlib
    import hmac
    import urllib.parse

    stamp = 1764813600000
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    )
    assert dingtalk_sign(SECRET, stamp) == expected.decode()
    url = request_url(Robot("r", "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=x", SECRET),
                      stamp / 1000)  # fmt: skip
    assert url.endswith(f"&timestamp={stamp}&sign={urllib.parse.quote_plus(expected.decode())}")


def test_a_signed_digest_is_verified_by_the_receiver(robots_server, clock, caplog):
    caplog.set_level(logging.DEBUG)
    sender = Sender(clock=clock, sleep=clock.advance)
    outcomes = deliver(thirty_alerts(), [signed(robots_server)], EVERY_RUN, sender, heading="shopkeep 告警",
                       digest_id="run-1")  # fmt: skip
    assert [(o.status, o.errcode) for o in outcomes] == [("sent", 0)]
    got = received(robots_server)
    assert [m["robot"] for m in got["messages"]] == ["signed"] and not got["refused"]
    assert got["messages"][0]["title"].startswith("shopkeep 告警")
    assert_no_secret(caplog, outcomes)


def test_a_wrong_secret_is_refused_and_reported_without_any_secret(robots_server, clock, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = Robot("ops-dingtalk", "dingtalk", f"{robots_server.url}/robot/send?access_token={TOKEN}",
                  secret="SECwrong-" + SECRET)  # fmt: skip
    outcomes = deliver(
        thirty_alerts(), [wrong], EVERY_RUN, Sender(clock=clock), heading="h", digest_id="run-1"
    )
    assert [(o.status, o.errcode) for o in outcomes] == [("failed", 310000)]
    assert "sign not match" in outcomes[0].detail
    assert received(robots_server)["messages"] == []
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "ops-dingtalk" in r.getMessage()
    ]
    assert any("failed" in w and "310000" in w and "access_token=***" in w for w in warnings)
    assert_no_secret(caplog, outcomes, repr(wrong))


def test_a_timestamp_more_than_an_hour_off_is_refused(robots_server, clock):
    late = FakeClock()
    late.now = clock.now - 3601
    outcomes = Sender(clock=late).send(signed(robots_server), digest(thirty_alerts(), EVERY_RUN, heading="h",
                                                                      max_bytes=20000), "run-1")  # fmt: skip
    assert [(o.status, o.errcode, o.detail) for o in outcomes] == [
        ("failed", 310000, "errcode 310000: invalid timestamp")
    ]


def test_keyword_mode_puts_the_keyword_in_every_message_and_a_missing_keyword_is_refused(
    robots_server, clock
):
    sender = Sender(clock=clock)
    ok = deliver(
        thirty_alerts(), [keyworded(robots_server)], EVERY_RUN, sender, heading="shopkeep", digest_id="r1"
    )
    assert [o.status for o in ok] == ["sent"]
    refused = deliver(thirty_alerts(), [keyworded(robots_server, keyword="")], EVERY_RUN, sender, heading="shopkeep",
                      digest_id="r2")  # fmt: skip
    assert [(o.status, o.errcode) for o in refused] == [("failed", 310000)]
    got = received(robots_server)
    assert len(got["messages"]) == 1 and "店铺告警" in got["messages"][0]["text"].splitlines()[0]


def test_a_wrong_wecom_key_is_refused_naming_the_robot_not_the_key(robots_server, clock, caplog):
    caplog.set_level(logging.DEBUG)
    robot = Robot("ops-wecom", "wecom", f"{robots_server.url}/cgi-bin/webhook/send?key=not-{WECOM_KEY}")
    outcomes = deliver(thirty_alerts(), [robot], EVERY_RUN, Sender(clock=clock), heading="h", digest_id="r")
    assert [(o.robot, o.status, o.errcode) for o in outcomes] == [("ops-wecom", "failed", 93000)]
    assert_no_secret(caplog, outcomes)


def test_a_webhook_url_without_its_token_is_refused_without_showing_the_url():
    with pytest.raises(ValueError, match="no access_token= parameter") as info:
        Robot("r", "dingtalk", f"https://oapi.dingtalk.com/robot/send?token={TOKEN}")
    assert TOKEN not in str(info.value)


# -- one digest per robot ---------------------------------------------------------------------------------------


def test_thirty_alerts_of_eight_kinds_make_one_message_per_robot_grouped_by_kind(robots_server, clock):
    robots = [signed(robots_server), keyworded(robots_server), wecom(robots_server)]
    outcomes = deliver(thirty_alerts(), robots, EVERY_RUN, Sender(clock=clock), heading="shopkeep 告警",
                       digest_id="run-1")  # fmt: skip
    assert [(o.robot, o.status) for o in outcomes] == [(r.name, "sent") for r in robots]
    got = received(robots_server)["messages"]
    assert [m["robot"] for m in got] == ["signed", "kw", "wecom"]
    for message in got:
        text = message["text"]
        positions = [text.index(LABELS[kind]) for kind in KINDS]
        assert positions == sorted(positions), "kinds in the digest's order"
        assert all(f"detail {n}" in text for n in range(30))
        assert "8 类 kinds, 30 条 alerts" in text


def test_muted_kinds_are_left_out_owners_are_named_and_a_robot_gets_only_its_kinds(robots_server, clock):
    policy = Policy(muted=frozenset({"late_supplier", "stale_source"}),
                    owners={"oversold": "王仓管", "reconciliation_mismatch": "李会计"})  # fmt: skip
    finance = Robot("finance", "wecom", f"{robots_server.url}/cgi-bin/webhook/send?key={WECOM_KEY}",
                    kinds=("reconciliation_mismatch", "late_supplier"))  # fmt: skip
    deliver(
        thirty_alerts(),
        [signed(robots_server), finance],
        policy,
        Sender(clock=clock),
        heading="h",
        digest_id="r",
    )
    ops, money = (m["text"] for m in received(robots_server)["messages"])
    assert LABELS["late_supplier"] not in ops and LABELS["stale_source"] not in ops
    assert "stale_source #" not in ops and "late_supplier #" not in ops
    assert f"{LABELS['oversold']} (4) · 负责人 owner: 王仓管" in ops
    assert "李会计" in ops and "李会计" in money
    assert LABELS["reconciliation_mismatch"] in money and LABELS["oversold"] not in money
    assert LABELS["late_supplier"] not in money  # muted everywhere, even where the robot takes it


def test_an_empty_or_wholly_muted_run_sends_nothing(robots_server, clock):
    sender = Sender(clock=clock)
    assert (
        deliver(
            [], [signed(robots_server), wecom(robots_server)], EVERY_RUN, sender, heading="h", digest_id="r"
        )
        == []
    )
    muted = Policy(muted=frozenset(KINDS))
    assert deliver(thirty_alerts(), [signed(robots_server)], muted, sender, heading="h", digest_id="r2") == []
    assert received(robots_server)["messages"] == []


def test_a_digest_too_long_for_one_message_is_split_into_as_few_as_fit_without_losing_a_line(
    robots_server, clock
):
    lines = tuple(f"SKU HM-{n:04d} 瓜子 1kg 可售 {n} 天 · 仓库 WH-SH" for n in range(400))
    huge = "非常长的一行" * 1500  # one line longer than a whole WeCom message
    alerts = [
        Alert("stockout_risk", "warning", "400 SKUs", lines),
        Alert("oversold", "critical", "one", (huge,)),
    ]
    outcomes = deliver(alerts, [wecom(robots_server), signed(robots_server)], EVERY_RUN, Sender(clock=clock),
                       heading="shopkeep 告警", digest_id="big")  # fmt: skip
    got = received(robots_server)["messages"]
    assert {o.status for o in outcomes} == {"sent"}
    for robot, limit in (("wecom", 4096), ("signed", 20000)):
        texts = [m["text"] for m in got if m["robot"] == robot]
        assert all(nbytes(t) <= limit for t in texts)
        total = sum(nbytes(t) for t in texts)
        assert len(texts) <= total // (limit - 200) + 1, "as few messages as fit"
        n = len(texts)
        assert n > 1 and all(t.splitlines()[0].endswith(f"({i}/{n})") for i, t in enumerate(texts, start=1))
        body = [line for t in texts for line in t.splitlines()]
        for line in lines:
            assert body.count(f"  - {line}") == 1
        pieces = [line for line in body if "非常长的一行" in line]
        assert "".join(p.removeprefix("  - ").removesuffix("…") for p in pieces) == huge
        assert any(line.endswith("（续）") for line in body), "a kind going on is headed again"


# -- 20 messages a minute ---------------------------------------------------------------------------------------


def test_many_runs_never_make_a_robot_see_more_than_20_messages_a_minute(robots_server, clock):
    """45 runs, one a second, each with its digest to three robots: the guard waits (on the fake clock) so
    every message arrives and no robot's rolling minute ever holds more than 20."""
    robots = [signed(robots_server), keyworded(robots_server), wecom(robots_server)]
    sender = Sender(clock=clock, sleep=clock.advance)
    for run in range(45):
        outcomes = deliver(thirty_alerts()[: 1 + run % 30], robots, EVERY_RUN, sender, heading="shopkeep 告警",
                           digest_id=f"run-{run}")  # fmt: skip
        assert {o.status for o in outcomes} == {"sent"}
        clock.advance(1)
    got = received(robots_server)
    assert got["refused"] == []
    assert {robot: sum(m["robot"] == robot for m in got["messages"]) for robot in ("signed", "kw", "wecom")} == {
        "signed": 45, "kw": 45, "wecom": 45}  # fmt: skip
    assert max(got["max_per_minute"].values()) == 20


def test_a_sender_that_may_not_wait_defers_with_a_reason_and_sends_the_rest_first_next_time(
    robots_server, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    sender = Sender(clock=clock, max_wait=0)
    robot = signed(robots_server)
    outcomes = []
    for run in range(25):
        outcomes += deliver(
            thirty_alerts()[:3], [robot], EVERY_RUN, sender, heading="h", digest_id=f"run-{run}"
        )
    assert [o.status for o in outcomes].count("sent") == 20
    deferred = [o for o in outcomes if o.status == "deferred"]
    assert [o.digest_id for o in deferred] == [f"run-{n}" for n in range(20, 25)]
    assert "rate guard: 20 messages to robot 'ops-dingtalk' in the last 60 s" in deferred[0].detail
    clock.advance(61)
    later = deliver(
        [], [robot], EVERY_RUN, sender, heading="h", digest_id="run-25"
    )  # nothing new: the deferred go
    assert [(o.digest_id, o.status) for o in later] == [(f"run-{n}", "sent") for n in range(20, 25)]
    got = received(robots_server)
    assert len(got["messages"]) == 25 and got["refused"] == [] and got["max_per_minute"]["signed"] == 20
    assert_no_secret(caplog, outcomes, later)


def test_the_receiver_refuses_a_21st_message_and_the_sender_defers_on_its_answer(robots_server, clock):
    reckless = Sender(clock=clock, limit=1000)  # no guard to speak of
    for robot, errcode in ((signed(robots_server), 130101), (wecom(robots_server), 45009)):
        outcomes = []
        for run in range(22):
            outcomes += deliver(
                thirty_alerts()[:1], [robot], EVERY_RUN, reckless, heading="h", digest_id=f"{run}"
            )
        assert [o.status for o in outcomes[:20]] == ["sent"] * 20
        assert (outcomes[20].status, outcomes[20].errcode) == ("deferred", errcode)
    assert {r["errcode"] for r in received(robots_server)["refused"]} == {130101, 45009}


def test_the_ledger_in_the_ops_store_counts_every_process_sending_to_a_robot(robots_server, clock, tmp_path):
    """Two senders (the sensor's process and a build's) over one ops store: together never over 20 a minute."""
    ops = tmp_path / "ops.sqlite"
    first = Sender(Ledger(ops), clock=clock, max_wait=0)
    second = Sender(Ledger(ops), clock=clock, max_wait=0)
    robot = wecom(robots_server)
    statuses = []
    for run in range(15):
        for sender in (first, second):
            statuses += [o.status for o in deliver(thirty_alerts()[:2], [robot], EVERY_RUN, sender, heading="h",
                                                   digest_id=f"{run}-{id(sender)}")]  # fmt: skip
    assert statuses.count("sent") == 20 and received(robots_server)["refused"] == []
    rows = Ledger(ops).messages("ops-wecom")
    assert [r["status"] for r in rows].count("deferred") == 10
    assert all(SECRET not in str(r) and WECOM_KEY not in str(r) for r in rows)


# -- the run's alerts from the published snapshot (orchestration/alerts.py) -------------------------------------

SNAPSHOT = """
create schema marts; create schema meta;
create table meta.check_results (asset_key varchar, check_name varchar, status varchar, passed boolean,
    severity varchar, failed_rows bigint, evaluated_at timestamptz, run_id varchar);
insert into meta.check_results values
    ('marts/inventory_health', 'not_null_inventory_health', 'failed', false, 'ERROR', 3, now(), 'r'),
    ('marts/skus', 'unique_skus_sku', 'succeeded', true, 'ERROR', 0, now(), 'r');
create table marts.source_freshness (source_name varchar, table_name varchar, shop_id varchar,
    hours_since_last_load double, is_stale boolean);
insert into marts.source_freshness values ('raw_taobao', 'orders', 'tmall_flagship', 30.5, true),
    ('raw_jd', 'orders', 'jd_pop', 0.5, false), ('raw_files', 'orders', 'x', 900, null);
create table marts.inventory_health (sku varchar, product_name varchar, available integer, units_sold_30d integer,
    daily_demand double, days_of_cover double, on_order integer, next_expected_date date, health_status varchar,
    demand_rank integer);
insert into marts.inventory_health values
    ('AP-0001-M', '连衣裙 M', -3, 40, 2.0, 0, 0, null, 'oversold', 4),
    ('AP-0012-M', '灯芯绒休闲裤 M', 20, 269, 9.8, 2.0, 100, '2026-12-10', 'at_risk', 1),
    ('SN-0041', '瓜子 1kg', 0, 0, 3.4, 0, 0, null, 'stockout', 2),
    ('HM-0048', '慢销品', 1, 1, 0.05, 3.0, 0, null, 'at_risk', 5),
    ('HM-0003', '够卖', 200, 90, 3.0, 66.0, 0, null, 'healthy', 3);
create table marts.settlement_reconciliation (shop_id varchar, platform_order_id varchar, status varchar,
    difference_cny decimal(18,2), expected_settlement_cny decimal(18,2), settled_amount_cny decimal(18,2));
insert into marts.settlement_reconciliation values
    ('tmall_flagship', '3900009717016756094', 'duplicate_bill', 264.90, 250.06, 514.96),
    ('tmall_flagship', '3900000375523843348', 'amount_mismatch', -1.55, 20.67, 19.12),
    ('jd_pop', 'J-77', 'missing_settlement', null, 349.56, null),
    ('pdd_main', 'P-1', 'matched', 0, 120, 120);
create table marts.supplier_deliveries (supplier_id varchar, supplier_name varchar, sku varchar,
    open_quantity integer, days_late integer, delivery_status varchar);
insert into marts.supplier_deliveries values ('SUP-01', '杭州织锦服饰', 'AP-0013-M', 100, 93, 'overdue'),
    ('SUP-01', '杭州织锦服饰', 'AP-0013-S', 40, 5, 'late_open'), ('SUP-02', '好', 'X', 0, null, 'on_time');
"""

ALERTS_CONFIG = """
[warehouse]
serve_path = "serve.duckdb"
ops_path = "ops.sqlite"

[alerts]
muted = ["stale_source"]
owners = {oversold = "王仓管"}
reconciliation_threshold_cny = 100
stockout_days = 7
best_sellers = 3

[[alerts.robots]]
name = "ops"
kind = "dingtalk"
url_env = "TEST_ALERTS_DINGTALK_URL"
secret_env = "TEST_ALERTS_DINGTALK_SECRET"

[[alerts.robots]]
name = "finance"
kind = "wecom"
url_env = "TEST_ALERTS_WECOM_URL"
kinds = ["reconciliation_mismatch", "late_supplier"]
"""


@pytest.fixture
def snapshot_settings(tmp_path, robots_server, monkeypatch):
    """Settings over a hand-made serve file with the few tables the alerts read, a failed stock push in the ops
    store and two robots on the sandbox, their URLs and secret in the environment."""
    from orchestration.settings import load_settings
    from writeback.stock import store

    with duckdb.connect(str(tmp_path / "serve.duckdb")) as con:
        con.execute(SNAPSHOT)
    ops = tmp_path / "ops.sqlite"
    for n, ok in enumerate((False, False, True)):  # listing L2 failed twice; L3 failed and then succeeded
        listing = "jd_pop:L2" if n < 2 else "jd_pop:L3"
        store.start_push(ops, {"push_id": f"p{n}", "run_id": "r", "mode": "automatic", "shop_id": "jd_pop",
                               "sku": "AP-0012-M", "listing_id": listing, "rule": "default", "rule_version": 0,
                               "planned_qty": 5, "started_at": datetime(2026, 12, 4, 1, n, tzinfo=UTC)})  # fmt: skip
        store.finish_push(ops, f"p{n}", ok, 5 if ok else None, "" if ok else "库存更新失败 isv.stock-error")
    store.start_push(ops, {"push_id": "p9", "run_id": "r", "mode": "automatic", "shop_id": "jd_pop", "sku": "X",
                           "listing_id": "jd_pop:L3", "rule": "default", "rule_version": 0, "planned_qty": 1,
                           "started_at": datetime(2026, 12, 4, 1, 0, tzinfo=UTC)})  # fmt: skip
    store.finish_push(ops, "p9", False, None, "failed before it succeeded")
    (tmp_path / "shopkeep.toml").write_text(ALERTS_CONFIG)
    monkeypatch.setenv("TEST_ALERTS_DINGTALK_URL", f"{robots_server.url}/robot/send?access_token={TOKEN}")
    monkeypatch.setenv("TEST_ALERTS_DINGTALK_SECRET", SECRET)
    monkeypatch.setenv("TEST_ALERTS_WECOM_URL", f"{robots_server.url}/cgi-bin/webhook/send?key={WECOM_KEY}")
    return load_settings(tmp_path / "shopkeep.toml")


def test_the_post_build_digest_reads_every_kind_from_the_snapshot_and_the_ops_store(
    snapshot_settings, robots_server, clock, caplog
):
    from orchestration.alerts import post_build_alerts

    caplog.set_level(logging.DEBUG)
    sender = Sender(Ledger(snapshot_settings.ops_path), clock=clock, sleep=clock.advance)
    run = post_build_alerts(snapshot_settings, "run-1", sender_=sender)
    by_kind = {a.kind: a for a in run.alerts}
    assert set(by_kind) == set(KINDS) - {"run_failed"}
    assert by_kind["check_failed"].lines == (
        "marts/inventory_health · not_null_inventory_health (ERROR): 3 rows",
    )
    assert by_kind["stale_source"].lines == (
        "raw_taobao.orders (tmall_flagship): 30.5 h since the last load",
    )
    assert [line.split(":")[0] for line in by_kind["oversold"].lines] == ["AP-0001-M 连衣裙 M"]
    # best-sellers (the top 3 by daily demand) under 7 days of cover; the slow seller is not one, oversold is apart
    assert [line.split(" ")[0] for line in by_kind["stockout_risk"].lines] == ["SN-0041", "AP-0012-M"]
    assert [line.split(": ")[0] for line in by_kind["stock_push_failed"].lines] == ["jd_pop:L2"]
    assert "(2 in a row)" in by_kind["stock_push_failed"].lines[0]
    assert [line.split(":")[0] for line in by_kind["reconciliation_mismatch"].lines] == [
        "jd_pop J-77",
        "tmall_flagship 3900009717016756094",
    ]  # fmt: skip (¥1.55 is under the threshold)
    assert by_kind["late_supplier"].lines == (
        "SUP-01 杭州织锦服饰: 2 PO lines, 140 units open, up to 93 days late (1 overdue)",
    )
    assert [(o.robot, o.status) for o in run.outcomes] == [
        ("ops", "sent"),
        ("finance", "sent"),
    ] and not run.problems
    ops, finance = (m["text"] for m in received(robots_server)["messages"])
    assert LABELS["stale_source"] not in ops and "负责人 owner: 王仓管" in ops  # muted; owner named
    assert LABELS["reconciliation_mismatch"] in finance and LABELS["oversold"] not in finance
    assert any(
        LABELS["stale_source"] in r.getMessage() and "(muted)" in r.getMessage() for r in caplog.records
    )
    assert_no_secret(caplog, run)


def test_without_alerts_configured_the_alerts_are_only_logged(snapshot_settings, robots_server, caplog):
    import dataclasses

    from orchestration.alerts import post_build_alerts

    caplog.set_level(logging.INFO)
    run = post_build_alerts(dataclasses.replace(snapshot_settings, alerts=None), "run-1")
    assert len(run.alerts) == 7 and run.outcomes == []
    assert received(robots_server)["messages"] == []
    assert sum("alert run-1" in r.getMessage() for r in caplog.records) == 7


def test_a_robot_whose_variable_is_not_set_is_skipped_naming_the_variable(snapshot_settings, robots_server, clock,
                                                                            monkeypatch):  # fmt: skip
    from orchestration.alerts import post_build_alerts

    monkeypatch.delenv("TEST_ALERTS_WECOM_URL")
    run = post_build_alerts(snapshot_settings, "run-1", sender_=Sender(clock=clock))
    assert [o.robot for o in run.outcomes] == ["ops"]
    assert run.problems and "TEST_ALERTS_WECOM_URL is not set" in run.problems[0]


def test_a_failed_run_sends_one_run_failed_digest_and_the_same_failure_again_is_not_resent(
    snapshot_settings, robots_server
):
    import dagster as dg

    from orchestration.alerts import run_failure_alert_sensor

    answers = iter(["the WMS answered 503", "the WMS answered 503", "the WMS refused the token"])

    @dg.op
    def explode() -> None:
        raise RuntimeError(next(answers))

    @dg.job
    def pull_wms() -> None:
        explode()

    sensor = run_failure_alert_sensor(snapshot_settings)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    runs = []
    with dg.instance_for_test() as instance:
        for _ in range(3):
            result = pull_wms.execute_in_process(instance=instance, raise_on_error=False)
            runs.append(result.run_id)
            failure = [e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"][0]
            context = dg.build_run_status_sensor_context(
                sensor_name=sensor.name, dagster_event=failure, dagster_instance=instance,
                dagster_run=result.dagster_run,
            ).for_run_failure()  # fmt: skip
            sensor(context)
    got = received(robots_server)["messages"]
    # the first failure, then not the same failure of the next run (repeat_after_hours), then a new reason;
    # finance takes no run_failed
    assert [m["robot"] for m in got] == ["signed", "signed"]
    assert "运行失败 run failed: pull_wms" in got[0]["text"] and runs[0] in got[0]["text"]
    assert "refused the token" in got[1]["text"] and runs[2] in got[1]["text"]


def test_the_same_alerts_are_sent_again_once_the_repeat_window_has_passed(robots_server, clock):
    sender = Sender(clock=clock)
    robot = signed(robots_server)
    policy = Policy(repeat_after_hours=6)

    def found(hour: int) -> list[Alert]:  # the same 30 alerts, their figures changing from run to run
        return [dataclasses.replace(a, lines=tuple(f"{line} · {hour * 3 + 1} rows" for line in a.lines))
                for a in thirty_alerts()]  # fmt: skip

    sent = []
    for hour in range(8):  # an hourly refresh for 8 hours
        sent.append(len(deliver(found(hour), [robot], policy, sender, heading="h", digest_id=f"run-{hour}")))
        clock.advance(3600)
    assert sent == [1, 0, 0, 0, 0, 0, 1, 0]  # hour 0, then again 6 hours later
    # one new SKU (a line the last digest did not have) makes its alert new: only that one is sent
    changed = found(9)
    changed[0] = dataclasses.replace(changed[0], lines=(*changed[0].lines, "AP-9999-X: available -3"))
    assert len(deliver(changed, [robot], policy, sender, heading="h", digest_id="run-new")) == 1
    last = received(robots_server)["messages"][-1]["text"]
    assert "AP-9999-X" in last and last.count("###") == 1


def test_the_alerts_asset_sends_the_post_build_digest_and_reports_it(snapshot_settings, robots_server):
    import dagster as dg

    from orchestration.alerts import alert_assets

    (asset,) = alert_assets(snapshot_settings, after=[])
    assert dg.AssetKey(["serve", "snapshot"]) in asset.asset_deps[dg.AssetKey(["writeback", "alerts"])]
    with dg.instance_for_test() as instance:
        result = dg.materialize([asset], instance=instance)
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert (metadata["alerts"].value, metadata["sent"].value, metadata["failed"].value) == (7, 2, 0)
    assert [m["robot"] for m in received(robots_server)["messages"]] == ["signed", "wecom"]


def test_a_failed_dbt_build_is_alerted_with_each_failed_check_and_the_same_checks_again_are_the_same_alert():
    from orchestration.alerts import run_failed_alert

    def dbt_failure(rows: int) -> str:  # what dagster-dbt raises (colours and all)
        return (
            "The dbt CLI process with command\n\n`dbt build --select fqn:*`\n\nfailed with exit code `1`.\n\n"
            "Errors parsed from dbt logs:\n\n"
            f"132 of 683 FAIL {rows} accepted_values_stg_wms__stock_movements_movement_type__receipt  "
            f"[\x1b[31mFAIL {rows}\x1b[0m in 0.12s]\n\n"
            "310 of 683 ERROR creating sql table model marts.inventory_health  [\x1b[31mERROR\x1b[0m in 0.04s]\n"
        )

    alert = run_failed_alert("refresh_everything", "run-1", dbt_failure(1))
    assert alert.lines == (
        "run run-1",
        "dbt build: 2 failed, so nothing after it ran (no publish, no stock push):",
        "accepted_values_stg_wms__stock_movements_movement_type__receipt: 1 failing rows",
        "marts.inventory_health: error",
    )
    later = run_failed_alert("import_exports", "run-2", dbt_failure(7))
    assert later.repeat_key == alert.repeat_key  # the same checks failing: a repeat, whatever the job and rows
    other = run_failed_alert("refresh_everything", "run-3", "the WMS answered 503")
    assert other.repeat_key != alert.repeat_key and other.lines == ("run run-3", "the WMS answered 503")
