"""Write listed stock to Pinduoduo (used by writeback): `pdd.goods.quantity.update`, set (1) or add (2)."""

from __future__ import annotations

from collections.abc import Iterator

from connectors.common.stock import (
    ChannelStockWriter,
    Listed,
    ListingAddress,
    StockResult,
    marketplace_writer,
)
from connectors.pinduoduo.client import (
    PddAuthError,
    PddClient,
    PddError,
    PddPermissionError,
    PddResponseError,
    PddSignatureError,
    goods_skus,
)

UPDATE = ("pdd.goods.quantity.update", "goods_quantity_update_response")


def find_goods_id(client: PddClient, sku: str | int, by_outer_id: bool = False, page_size: int = 100) -> int:
    """The goods_id that lists a sku_id (or a merchant code when `by_outer_id`), read from pdd.goods.list.get."""
    page = 1
    while True:
        body = client.call(
            "pdd.goods.list.get", {"page": page, "page_size": page_size}, "goods_list_get_response"
        )
        goods = body.get("goods_list") or []
        for item in goods:
            for entry in item.get("sku_list") or []:
                if str(entry.get("outer_id" if by_outer_id else "sku_id")) == str(sku):
                    return int(item["goods_id"])
        if not goods or page * page_size >= int(body.get("total_count") or 0):
            break
        page += 1
    what = "merchant code (outer_id)" if by_outer_id else "sku_id"
    raise PddResponseError(
        f"Pinduoduo shop {client.shop_id}: no listed goods has {what} {sku}; check the listing on the platform."
    )


def set_stock(
    client: PddClient,
    sku: str | int,
    quantity: int,
    *,
    goods_id: int | None = None,
    by_outer_id: bool = False,
    update_type: int = 1,
) -> bool:
    """Set (update_type 1) or add (2) listed stock of one SKU, addressed by sku_id or by outer_id."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or (update_type == 1 and quantity < 0):
        raise ValueError(
            f"Pinduoduo shop {client.shop_id}: quantity for sku {sku} must be a whole number"
            f"{' >= 0' if update_type == 1 else ''}, got {quantity!r}"
        )
    if update_type not in (1, 2):
        raise ValueError(f"update_type must be 1 (set) or 2 (add), got {update_type!r}")
    if goods_id is None:
        goods_id = find_goods_id(client, sku, by_outer_id)
    params = {"goods_id": goods_id, "quantity": quantity, "update_type": update_type}
    params["outer_id" if by_outer_id else "sku_id"] = sku
    answer = client.call(UPDATE[0], params, UPDATE[1], idempotent=update_type == 1)
    if answer.get("is_success") is not True:
        raise PddResponseError(
            f"Pinduoduo shop {client.shop_id}: stock update of sku {sku} was not confirmed (is_success false)."
        )
    return True


class PddStockWriter(ChannelStockWriter):
    """StockWriter for one Pinduoduo shop (`pdd.goods.quantity.update`, update_type 1: set)."""

    refusals = (PddError,)
    shop_wide = (PddAuthError, PddSignatureError, PddPermissionError)

    def _set(
        self, listing: ListingAddress, quantity: int, push_id: str, listed: int | None = None
    ) -> StockResult:
        by_outer_id = not listing.platform_sku_id
        goods_id = int(listing.platform_product_id) if listing.platform_product_id else None
        sku = listing.platform_sku_id or listing.outer_id or listing.sku
        change = None if listed is None else quantity - listed
        set_stock(
            self.client, sku, quantity if change is None else change, goods_id=goods_id,
            by_outer_id=by_outer_id, update_type=1 if change is None else 2,
        )  # fmt: skip
        return StockResult(True, quantity)

    def _listed_now(self) -> Iterator[Listed]:
        for _goods, sku in goods_skus(self.client):
            yield sku.get("sku_id"), sku.get("outer_id"), sku.get("sku_quantity")


def stock_writer(**kwargs: object) -> ChannelStockWriter:
    """The shop's StockWriter from its connector arguments (orchestration.ingest.connector_kwargs)."""
    return marketplace_writer(PddStockWriter, PddClient, **kwargs)
