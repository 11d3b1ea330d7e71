"""Buyers on the five channel sandboxes meet listed stock as the platforms keep it: an order lowers the listing it
is placed on, an order for more than is listed is refused, a cancellation gives the units back; the Market keeps
the seller's real stock and counts the units sold that the seller did not have."""

from __future__ import annotations

import httpx
import pytest

from sandbox.buyers import Market
from tests.conftest import DEMO_SHOPS


def _stock_ids(name: str, state) -> list[str]:
    """Platform SKU ids the sandbox lists at least 3 units of."""
    if name == "pdd_main":
        skus = [s for g in state.goods.values() for s in g["sku_list"]]
        return [str(s["sku_id"]) for s in skus if s["sku_quantity"] >= 3]
    if name == "douyin_live":
        return [k for k, s in state.skus.items() if s["stock_num"] >= 3]
    if name == "shopify_global":
        return [str(item) for (item, _), level in sorted(state.levels.items()) if level["available"] >= 3]
    return [str(k) for k, v in state.stock.items() if v >= 3]


def test_an_order_lowers_the_listing_one_beyond_it_is_refused_and_a_cancellation_gives_it_back(
    pipeline_world, tmp_path, start_stack
):
    stack = start_stack(pipeline_world, tmp_path)
    try:
        for name in DEMO_SHOPS:
            server = stack.servers[name]
            state = server.server.config.app.state.sandbox
            sku_id = _stock_ids(name, state)[0]
            listed = state.listed(sku_id)
            with httpx.Client(base_url=server.url, timeout=10) as buyer:
                refused = buyer.post("/_sandbox/buy", json={"sku_id": sku_id, "quantity": listed + 1}).json()
                assert refused == {"accepted": False, "listed": listed}, name
                taken = buyer.post("/_sandbox/buy", json={"sku_id": sku_id, "quantity": 2}).json()
                assert taken == {"accepted": True, "listed": listed - 2}, name
                assert state.listed(sku_id) == listed - 2, name  # what the platform's stock calls now read
                rest = buyer.post("/_sandbox/buy", json={"sku_id": sku_id, "quantity": listed - 2}).json()
                assert rest == {"accepted": True, "listed": 0}, name
                assert (
                    buyer.post("/_sandbox/buy", json={"sku_id": sku_id, "quantity": 1}).json()["accepted"]
                    is False
                )
                assert buyer.post("/_sandbox/cancel", json={"sku_id": sku_id, "quantity": 2}).json() == {
                    "listed": 2
                }
                assert (
                    buyer.post("/_sandbox/buy", json={"sku_id": "999999999", "quantity": 1}).status_code
                    == 404
                )
                assert buyer.post("/_sandbox/buy", json={"sku_id": sku_id, "quantity": 0}).status_code == 400
    finally:
        for server in stack.servers.values():
            server.stop()


@pytest.mark.parametrize(
    ("sales", "cancelled", "oversold", "left"),
    [
        ([3, 4], 0, 0, 3),  # 7 of 10
        ([6, 6], 0, 2, 0),  # the second sale had 4
        ([6, 6], 6, 0, 4),  # the cancelled sale's units come back, oversold ones first
    ],
)
def test_the_market_counts_units_sold_that_the_seller_did_not_have(sales, cancelled, oversold, left):
    market = Market({"SKU-1": 10})
    for quantity in sales:
        market.sell("SKU-1", quantity)
    if cancelled:
        market.cancel("SKU-1", cancelled)
    assert (market.oversold["SKU-1"], market.left["SKU-1"]) == (oversold, left)
