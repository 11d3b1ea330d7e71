"""库存同步 Stock sync over the built warehouse: the page's plan is writeback's own dry-run plan; a click on "push"
records a request (with the snapshot it saw) for Dagster and sends nothing itself; a rule and a lock saved on the
page are versioned in the ops store, and a save made from a version someone else has since replaced is refused."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboards.format import integer
from tests.dashboards.pages_helper import one, render_page, rows, tiles
from writeback.stock import store
from writeback.stock.rules import rules_from_config
from writeback.stock.sync import sync

CONFIG = """
[stock_sync]
safety_buffer = 1
rules = [{ name = "marketplaces", shops = ["tmall_flagship", "jd_pop", "pdd_main"], percent = 80, maximum = 40 }]
"""


@pytest.fixture
def ops_store(tmp_path, monkeypatch) -> Path:
    config = tmp_path / "shopkeep.toml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(config))
    path = tmp_path / "state" / "ops.sqlite"
    monkeypatch.setenv("SHOPKEEP_OPS_PATH", str(path))
    return path


def expected_plan(serve: Path, ops: Path):
    shops = {shop for (shop,) in rows(serve, "select distinct shop_id from marts.channel_listings")}
    rules = rules_from_config([{"name": "marketplaces", "shops": ["tmall_flagship", "jd_pop", "pdd_main"],
                                "percent": 80, "maximum": 40}])  # fmt: skip
    return sync(serve, ops, {}, rules, safety_buffer=1, pushable=shops).frame()


def test_the_page_shows_writebacks_plan_and_a_push_click_only_records_a_request(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path
    serve_stamp = os.stat(serve).st_mtime_ns
    plan = expected_plan(serve, ops_store)
    assert not ops_store.exists(), "planning creates no ops store"

    at = render_page(serve, "stock_sync", monkeypatch)

    shown = tiles(at)
    assert shown["商品链接"] == integer(len(plan))
    assert shown["待推送"] == integer(int((plan["action"] == "push").sum())) != "0"
    table = at.dataframe[0].value
    assert sorted(zip(table["shop_id"], table["sku"], table["planned"], strict=True)) == sorted(
        zip(plan["shop_id"], plan["sku"], plan["planned"], strict=True)
    )
    assert set(table.loc[table["shop_id"] == "jd_pop", "rule"]) == {"marketplaces"}
    assert table.loc[table["shop_id"] == "jd_pop", "planned"].max() <= 40
    push = at.button(key="stock_sync_push")
    assert push.disabled, "no push without a name for the audit"

    at.text_input(key="stock_sync_by").input("王经理").run()
    at.button(key="stock_sync_push").click().run()

    assert not at.exception and not at.error
    (request,) = store.push_requests(ops_store).to_dict("records")
    assert [s.value for s in at.success] == [
        f"已提交推送请求 #{request['request_id']}，Dagster 将在一分钟内执行。"
    ]
    published = one(serve, "select max(published_at) from meta.publish_log")[0]
    assert (request["requested_by"], request["status"], request["shops"]) == ("王经理", "pending", None)
    assert request["snapshot_version"] == published.isoformat()
    assert store.pushes(ops_store).empty, "the page sends nothing itself"
    assert os.stat(serve).st_mtime_ns == serve_stamp, "the warehouse is never written"


def test_a_rule_saved_on_the_page_is_versioned_and_a_save_from_a_replaced_version_is_refused(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path
    at = render_page(serve, "stock_sync", monkeypatch, lang="en")
    at.text_input(key="stock_sync_by").input("ming")
    at.text_input(key="stock_sync_rule_name").input("douyin_half")
    at.number_input(key="stock_sync_rule_percent").set_value(50.0)
    at.multiselect(key="stock_sync_rule_shops").select("douyin_live")
    at.button(key="stock_sync_save_rule").click().run()

    assert not at.exception and [e.value for e in at.error] == []
    (rule,) = [r for r in store.current_rules(ops_store) if r.name == "douyin_half"]
    assert (rule.version, rule.shops, float(rule.percent)) == (1, ("douyin_live",), 50.0)
    assert [s.value for s in at.success] == ["Rule douyin_half saved as version 1."]
    table = at.dataframe[0].value
    assert set(table.loc[table["shop_id"] == "douyin_live", "rule"]) == {"douyin_half"}

    # another manager changes the rule while this one has it open
    at.selectbox(key="stock_sync_rule_pick").select("douyin_half").run()
    store.save_rule(ops_store, {"name": "douyin_half", "shops": ["douyin_live"], "percent": 30}, "li", 1)
    at.number_input(key="stock_sync_rule_percent").set_value(70.0)
    at.button(key="stock_sync_save_rule").click().run()

    assert len(at.error) == 1 and at.error[0].value.startswith("Not saved:") and "li" in at.error[0].value
    (rule,) = [r for r in store.current_rules(ops_store) if r.name == "douyin_half"]
    assert (rule.version, float(rule.percent)) == (2, 30.0), "the other manager's change stands"


def test_a_lock_saved_on_the_page_holds_units_for_its_shop_in_the_plan(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path
    plan = expected_plan(serve, ops_store)
    listed = plan[(plan["shop_id"] == "douyin_live") & (plan["stock"] >= 10)].sort_values("sku")
    sku = listed["sku"].iloc[0]

    at = render_page(serve, "stock_sync", monkeypatch, lang="en")
    at.text_input(key="stock_sync_by").input("ming")
    at.text_input(key="stock_sync_lock_sku").input(sku)
    at.selectbox(key="stock_sync_lock_shop").select("douyin_live")
    at.number_input(key="stock_sync_lock_units").set_value(5)
    at.button(key="stock_sync_save_lock").click().run()

    assert not at.exception and [e.value for e in at.error] == []
    (lock,) = store.current_locks(ops_store)
    assert (lock.sku, lock.shop_id, lock.quantity) == (sku, "douyin_live", 5)
    assert lock.until > datetime.now(UTC) + timedelta(hours=2)
    assert tiles(at)["Locked"] == "5"
    table = at.dataframe[0].value
    mine = table[(table["shop_id"] == "douyin_live") & (table["sku"] == sku)]
    assert set(mine["locked"]) == {5}
    # the lock put its SKU in the lean path's change queue, and the page says it waits
    assert any(sku in c.value and "waiting for the lean sync" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]


def test_the_purchase_orders_page_lists_orders_by_state_with_one_orders_lines_history_and_sends(
    built_serve_path, ops_store, monkeypatch
):
    from datetime import date

    from writeback.purchasing import orders
    from writeback.purchasing.orders import Line

    sent = orders.create(ops_store, "SUP-01", [Line("AP-0001-M", 40, "35.00"), Line("HM-0002", 12)], "ming",
                         expected_date=date(2026, 12, 12))  # fmt: skip
    orders.approve(ops_store, sent.po_number, "ming")
    orders.mark_sent(ops_store, sent.po_number, "sender")
    orders.confirm(ops_store, sent.po_number, {"AP-0001-M": 30, "HM-0002": 12}, date(2026, 12, 10), "sender")
    waiting = orders.create(ops_store, "SUP-02", [Line("SN-0001", 5)], "li")

    at = render_page(built_serve_path, "purchase_orders", monkeypatch, lang="en")
    assert tiles(at) == {"To send": "1", "Open orders": "1", "Outstanding units": "42", "Cancelled": "0"}
    listed = at.dataframe[0].value.set_index("po_number")
    assert (
        listed.loc[sent.po_number, "state"] == "confirmed"
        and listed.loc[waiting.po_number, "state"] == "draft"
    )
    assert listed.loc[sent.po_number, "confirmed"] == 42 and listed.loc[sent.po_number, "outstanding"] == 42
    at.selectbox(key="purchase_orders_pick").select(sent.po_number).run()
    lines = at.dataframe[1].value
    assert dict(zip(lines["sku"], lines["confirmed"], strict=True)) == {"AP-0001-M": 30, "HM-0002": 12}
    history = at.dataframe[2].value
    assert list(history["command"]) == ["create", "approve", "send", "confirm"]
    assert list(history["changed_by"]) == ["ming", "ming", "sender", "sender"]
    assert any("Not sent yet" in c.value for c in at.caption)  # marked sent by hand here, no send attempt

    from writeback.purchasing import send

    attempt = send._start(ops_store, sent.po_number, "webhook")  # an attempt the supplier refused
    send._finish(ops_store, attempt, "failed", 401, "signature does not match the body")
    at.run()
    sends = at.dataframe[3].value
    assert list(sends["outcome"]) == ["failed"] and list(sends["http_status"]) == [401]
