"""Write listed stock to JD (used by writeback): `jingdong.stock.write.updateSkuStock` sets an absolute number."""

from __future__ import annotations

from connectors.common.stock import ChannelStockWriter, ListingAddress, StockResult, marketplace_writer
from connectors.jd.client import (
    JdAuthError,
    JdClient,
    JdError,
    JdPermissionError,
    JdResponseError,
    JdSignatureError,
)

UPDATE_STOCK = "jingdong.stock.write.updateSkuStock"
FIND_STOCK = "jingdong.stock.read.findSkuStock"


def set_stock(client: JdClient, sku_id: str | int, quantity: int) -> dict:
    """Set the listed stock of one JD skuId to `quantity` units; JD's answer (`{"success": true, ...}`)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValueError(
            f"JD shop {client.shop_id}: stock for skuId {sku_id} must be a whole number >= 0, got {quantity!r}"
        )
    answer = client.call(UPDATE_STOCK, {"skuId": str(sku_id), "stockNum": quantity})
    if answer.get("success") is not True:
        raise JdResponseError(
            f"JD shop {client.shop_id}: {UPDATE_STOCK} did not confirm the stock of skuId {sku_id}: {answer}"
        )
    return answer


def get_stock(client: JdClient, sku_id: str | int) -> int:
    """The listed stock of one JD skuId (`jingdong.stock.read.findSkuStock`)."""
    answer = client.call(FIND_STOCK, {"skuId": str(sku_id)})
    result = answer.get("skuStockResult")
    if not isinstance(result, dict) or "stockNum" not in result:
        raise JdResponseError(
            f"JD shop {client.shop_id}: {FIND_STOCK} answered without skuStockResult for {sku_id}"
        )
    return int(result["stockNum"])


class JdStockWriter(ChannelStockWriter):
    """StockWriter for one JD shop (`jingdong.stock.write.updateSkuStock`: set)."""

    refusals = (JdError,)
    shop_wide = (JdAuthError, JdSignatureError, JdPermissionError)

    def _set(
        self, listing: ListingAddress, quantity: int, push_id: str, listed: int | None = None
    ) -> StockResult:
        """JD takes only a level: the units sold since `listed` was read are read again just before the set and
        come off it (what still sells between that read and the set is listed again: JD has no change or
        compare-and-set call)."""
        sku_id = listing.platform_sku_id or listing.sku
        sold = 0 if listed is None else max(0, listed - get_stock(self.client, sku_id))
        quantity = max(0, quantity - sold)
        set_stock(self.client, sku_id, quantity)
        return StockResult(True, quantity, in_flight=sold)

    def read_many(self, listings: list[ListingAddress]) -> list[int | None]:
        """JD reads stock SKU by SKU (`jingdong.stock.read.findSkuStock`); a skuId JD does not know is None."""
        listed: list[int | None] = []
        for listing in listings:
            try:
                listed.append(get_stock(self.client, listing.platform_sku_id or listing.sku))
            except JdError as refused:
                if isinstance(refused, self.shop_wide):
                    raise
                listed.append(None)
        return listed


def stock_writer(**kwargs: object) -> ChannelStockWriter:
    """The shop's StockWriter from its connector arguments (orchestration.ingest.connector_kwargs)."""
    return marketplace_writer(JdStockWriter, JdClient, **kwargs)
