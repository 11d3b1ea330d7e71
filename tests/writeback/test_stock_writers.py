"""Each channel's StockWriter (connectors/<channel>/stock.py) against its sandbox: a platform's refusal of one
SKU is that SKU's result with the platform's words; refused credentials stop the shop (an exception)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.common.stock import ListingAddress
from connectors.douyin.client import DouyinAuthError
from connectors.douyin.stock import stock_writer as douyin_writer
from connectors.jd.client import JdAuthError
from connectors.jd.stock import stock_writer as jd_writer
from connectors.taobao.stock import stock_writer as taobao_writer
from sandbox import douyin, jd, runner, taobao

NOW = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
KEYS = {"app_key": "k", "app_secret": "s", "access_token": "t"}


@pytest.fixture
def jd_shop(small_world):
    app = jd.create_app(small_world, shop_id="jd_pop", now=NOW, history_days=10, **KEYS)
    server = runner.start(app, "jd")
    yield server.url, app.state.sandbox
    server.stop()


@pytest.fixture
def douyin_shop(small_world):
    app = douyin.create_app(small_world, shop_id="douyin_live", now=NOW, history_days=10, **KEYS)
    server = runner.start(app, "douyin")
    yield server.url, app.state.sandbox
    server.stop()


@pytest.fixture
def taobao_shop(small_world):
    app = taobao.create_app(small_world, shop_id="tmall_flagship", now=NOW, history_days=10, **KEYS)
    server = runner.start(app, "taobao")
    yield server.url, app.state.sandbox
    server.stop()


def test_taobao_sets_the_skus_of_one_item_in_one_batch_call_and_a_refused_batch_sku_by_sku(taobao_shop):
    url, sandbox = taobao_shop
    writer = taobao_writer(shop_id="tmall_flagship", base_url=url, token_env="TMALL_FLAGSHIP_TOKEN", **KEYS)
    num_iid, item = next((k, v) for k, v in sandbox.items.items() if len(v["skus"]) >= 3)
    other_iid, other = next((k, v) for k, v in sandbox.items.items() if k != num_iid)

    def push(iid, sku_id, quantity, n):
        address = ListingAddress(
            "tmall_flagship", "X", platform_product_id=str(iid), platform_sku_id=str(sku_id)
        )
        return address, quantity, f"push-{n}"

    pushes = [push(num_iid, s["sku_id"], 10 + n, n) for n, s in enumerate(item["skus"])]
    pushes.append(push(other_iid, other["skus"][0]["sku_id"], 4, 99))  # a lone SKU of another item
    sandbox.log.clear()
    answers = writer.set_many(pushes)

    assert [a.ok for a in answers] == [True] * len(pushes)
    assert [a.quantity for a in answers] == [q for _, q, _ in pushes]
    assert [sandbox.stock[s["sku_id"]] for s in item["skus"]] == [10 + n for n in range(len(item["skus"]))]
    writes = [
        e["method"] for e in sandbox.log if e["method"] != "taobao.time.get"
    ]  # the client's clock check
    assert writes == ["taobao.skus.quantity.update", "taobao.item.quantity.update"]

    # a batch with a SKU the item does not have is refused whole: each SKU is then set on its own
    bad = [push(num_iid, s["sku_id"], 7, n) for n, s in enumerate(item["skus"][:2])] + [
        push(num_iid, 999999, 7, 9)
    ]
    sandbox.log.clear()
    answers = writer.set_many(bad)
    assert [a.ok for a in answers] == [True, True, False] and answers[2].message
    assert [sandbox.stock[s["sku_id"]] for s in item["skus"][:2]] == [7, 7]
    writes = [e["method"] for e in sandbox.log if e["method"] != "taobao.time.get"]
    assert writes == ["taobao.skus.quantity.update"] + ["taobao.item.quantity.update"] * 3


def test_jd_sets_a_skus_stock_and_refuses_an_unknown_sku_as_that_skus_result(jd_shop):
    url, sandbox = jd_shop
    writer = jd_writer(shop_id="jd_pop", base_url=url, token_env="JD_POP_TOKEN", **KEYS)
    sku_id = next(iter(sandbox.stock))
    answer = writer.set_stock(ListingAddress("jd_pop", "X", platform_sku_id=str(sku_id)), 7, "push-1")
    assert answer.ok and answer.quantity == 7 and sandbox.stock[sku_id] == 7
    refused = writer.set_stock(ListingAddress("jd_pop", "X", platform_sku_id="999999999"), 3, "push-2")
    assert not refused.ok and refused.message and "jd_pop" in refused.message
    bad = jd_writer(shop_id="jd_pop", base_url=url, token_env="JD_POP_TOKEN", **{**KEYS, "access_token": "x"})
    with pytest.raises(JdAuthError):
        bad.set_stock(ListingAddress("jd_pop", "X", platform_sku_id=str(sku_id)), 3, "push-3")


def test_douyin_passes_the_push_id_as_idempotent_id_so_a_retried_push_is_applied_once(douyin_shop):
    url, sandbox = douyin_shop
    writer = douyin_writer(shop_id="douyin_live", base_url=url, token_env="DOUYIN_LIVE_TOKEN", **KEYS)
    sku_id, sku = next(iter(sandbox.skus.items()))
    listing = ListingAddress("douyin_live", sku["out_sku_id"], platform_product_id=sku["product_id"],
                             platform_sku_id=str(sku_id))  # fmt: skip
    assert writer.set_stock(listing, 11, "push-a").ok and sandbox.skus[sku_id]["stock_num"] == 11
    sandbox.skus[sku_id]["stock_num"] = 9  # an order on the platform meanwhile
    assert writer.set_stock(listing, 11, "push-a").ok  # the same push retried: the platform ignores it
    assert sandbox.skus[sku_id]["stock_num"] == 9 and "push-a" in sandbox.seen_idempotent_ids
    bad = douyin_writer(shop_id="douyin_live", base_url=url, token_env="DOUYIN_LIVE_TOKEN",
                        **{**KEYS, "access_token": "x"})  # fmt: skip
    with pytest.raises(DouyinAuthError):
        bad.set_stock(listing, 3, "push-b")


def test_a_shop_that_fails_midway_keeps_the_pushes_it_took_and_fails_the_rest_with_its_message():
    from types import SimpleNamespace

    from connectors.common.errors import ChannelError
    from connectors.common.stock import ChannelStockWriter, StockResult

    class Expired(ChannelError):
        pass

    class Writer(ChannelStockWriter):
        refusals = (ChannelError,)
        shop_wide = (Expired,)

        def _set(self, listing, quantity, push_id, listed=None):
            if push_id == "p3":
                raise Expired("the seller's token expired: authorise the app again")
            if push_id == "p2":
                raise ChannelError("stock of an item in a promotion cannot go down")
            return StockResult(True, quantity)

    writer = Writer(SimpleNamespace(shop_id="shop"))
    pushes = [(ListingAddress("shop", f"S{n}"), n, f"p{n}") for n in range(1, 5)]
    answers = writer.set_many(pushes)
    assert [(a.ok, a.quantity) for a in answers] == [(True, 1), (False, None), (False, None), (False, None)]
    assert answers[1].message == "stock of an item in a promotion cannot go down"
    assert answers[2].message == answers[3].message == "the seller's token expired: authorise the app again"
