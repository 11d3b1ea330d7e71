"""Write listed stock to Shopify (used by writeback): the REST set is absolute, not a delta."""

from __future__ import annotations

from connectors.common.stock import ChannelStockWriter, ListingAddress, StockResult
from connectors.shopify.client import (
    ShopifyAuthError,
    ShopifyClient,
    ShopifyError,
    ShopifyPermissionError,
    ShopifyResponseError,
)


def set_inventory_level(
    client: ShopifyClient, location_id: str | int, inventory_item_id: str | int, available: int
) -> dict:
    """Set `available` units of one inventory item at one location; returns Shopify's inventory_level."""
    if isinstance(available, bool) or not isinstance(available, int) or available < 0:
        raise ValueError(
            f"Shopify shop {client.shop_id}: available for inventory item {inventory_item_id} must be a whole "
            f"number >= 0, got {available!r}"
        )
    body = {
        "location_id": int(location_id),
        "inventory_item_id": int(inventory_item_id),
        "available": available,
    }
    answer = client.post("inventory_levels/set.json", body)
    if not isinstance(answer, dict) or "inventory_level" not in answer:
        raise ShopifyResponseError(
            f"Shopify shop {client.shop_id}: inventory_levels/set.json answered without an inventory_level "
            f"for item {inventory_item_id} at location {location_id}"
        )
    return answer["inventory_level"]


class ShopifyStockWriter(ChannelStockWriter):
    """StockWriter for one Shopify shop (`inventory_levels/set`: absolute, at the shop's configured location or
    the listing's own)."""

    refusals = (ShopifyError,)
    shop_wide = (ShopifyAuthError, ShopifyPermissionError)

    def __init__(self, client: ShopifyClient, location_id: str | int | None = None) -> None:
        super().__init__(client)
        self.location_id = str(location_id) if location_id else None

    def _set(self, listing: ListingAddress, quantity: int, push_id: str) -> StockResult:
        location = self.location_id or listing.location_id
        if not listing.stock_item_id or not location:
            return StockResult(
                False, None,
                f"variant {listing.platform_sku_id} has no inventory item at a location Shopify reported; "
                "track its inventory in Shopify, then pull again",
            )  # fmt: skip
        level = set_inventory_level(self.client, location, listing.stock_item_id, quantity)
        return StockResult(True, int(level.get("available", quantity)))


def stock_writer(
    *, shop_id: str, base_url: str, token: str, token_env: str, api_version: str = "2025-07",
    location_id: str | int | None = None, **_: object,
) -> ShopifyStockWriter:  # fmt: skip
    """The shop's StockWriter from its connector arguments (orchestration.ingest.connector_kwargs); a configured
    `location_id` is where stock is set, else each listing's own location."""
    return ShopifyStockWriter(
        ShopifyClient(shop_id, base_url, token, api_version=api_version, token_env=token_env), location_id
    )
