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
from sandbox import douyin, jd, runner

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
