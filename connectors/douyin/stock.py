"""Write listed stock to Douyin (used by writeback): `sku.syncStock`, absolute by default, idempotent by id."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from connectors.common.stock import (
    ChannelStockWriter,
    Listed,
    ListingAddress,
    StockResult,
    marketplace_writer,
)
from connectors.douyin.client import (
    DouyinAuthError,
    DouyinClient,
    DouyinConfigError,
    DouyinError,
    DouyinPermissionError,
    sku_pages,
)


def set_stock(
    client: DouyinClient,
    sku: str,
    quantity: int,
    *,
    by: str = "sku_id",
    product_id: str | None = None,
    incremental: bool = False,
    idempotent_id: str | None = None,
) -> str:
    """Set (or, with `incremental`, add) listed stock of one SKU, named by platform `sku_id` or by merchant
    `out_sku_id` (`by`). Returns the idempotent_id used: sending the same id again is ignored by the platform, so
    a writeback that retries after an unknown outcome passes the id it used the first time."""
    if by not in ("sku_id", "out_sku_id"):
        raise ValueError(f"Douyin shop {client.shop_id}: by must be 'sku_id' or 'out_sku_id', got {by!r}")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or (quantity < 0 and not incremental):
        raise ValueError(
            f"Douyin shop {client.shop_id}: stock for SKU {sku} must be a whole number >= 0, got {quantity!r}"
        )
    idempotent_id = idempotent_id or uuid.uuid4().hex
    params: dict[str, object] = {
        by: str(sku),
        "stock_num": quantity,
        "incremental": incremental,
        "idempotent_id": idempotent_id,
    }
    if product_id:
        params["product_id"] = str(product_id)
    client.call("sku.syncStock", params)
    return idempotent_id


class DouyinStockWriter(ChannelStockWriter):
    """StockWriter for one Douyin shop (`sku.syncStock`: set, with the push id as `idempotent_id`)."""

    refusals = (DouyinError,)
    shop_wide = (DouyinAuthError, DouyinConfigError, DouyinPermissionError)

    def _set(
        self, listing: ListingAddress, quantity: int, push_id: str, listed: int | None = None
    ) -> StockResult:
        by = "sku_id" if listing.platform_sku_id else "out_sku_id"
        change = None if listed is None else quantity - listed
        set_stock(
            self.client, listing.platform_sku_id or listing.outer_id or listing.sku,
            quantity if change is None else change, by=by, product_id=listing.platform_product_id,
            incremental=change is not None, idempotent_id=push_id,
        )  # fmt: skip
        return StockResult(True, quantity)

    def _listed_now(self) -> Iterator[Listed]:
        for page in sku_pages(self.client):
            for sku in page:
                yield sku.get("id"), sku.get("out_sku_id") or sku.get("code"), sku.get("stock_num")


def stock_writer(**kwargs: object) -> ChannelStockWriter:
    """The shop's StockWriter from its connector arguments (orchestration.ingest.connector_kwargs)."""
    return marketplace_writer(DouyinStockWriter, DouyinClient, **kwargs)
