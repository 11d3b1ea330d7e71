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


def adjust_inventory_level(
    client: ShopifyClient, location_id: str | int, inventory_item_id: str | int, change: int
) -> dict:
    """Add `change` (may be negative) to what is available of one inventory item at one location, sent once;
    returns Shopify's inventory_level (what is available after it)."""
    if isinstance(change, bool) or not isinstance(change, int):
        raise ValueError(
            f"Shopify shop {client.shop_id}: an adjustment must be a whole number, got {change!r}"
        )
    body = {
        "location_id": int(location_id),
        "inventory_item_id": int(inventory_item_id),
        "available_adjustment": change,
    }
    answer = client.post("inventory_levels/adjust.json", body, idempotent=False)
    if not isinstance(answer, dict) or "inventory_level" not in answer:
        raise ShopifyResponseError(
            f"Shopify shop {client.shop_id}: inventory_levels/adjust.json answered without an inventory_level "
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

    def _set(
        self, listing: ListingAddress, quantity: int, push_id: str, listed: int | None = None
    ) -> StockResult:
        location = self.location_id or listing.location_id
        if not listing.stock_item_id or not location:
            return StockResult(
                False, None,
                f"variant {listing.platform_sku_id} has no inventory item at a location Shopify reported; "
                "track its inventory in Shopify, then pull again",
            )  # fmt: skip
        if listed is None:
            level = set_inventory_level(self.client, location, listing.stock_item_id, quantity)
            return StockResult(True, int(level.get("available", quantity)))
        # the change from what was read: an order placed since still counts
        level = adjust_inventory_level(self.client, location, listing.stock_item_id, quantity - listed)
        confirmed = int(level.get("available", quantity))
        return StockResult(True, confirmed, in_flight=max(0, quantity - confirmed))

    def read_many(self, listings: list[ListingAddress]) -> list[int | None]:
        by_location: dict[str, list[str]] = {}
        for listing in listings:
            location = self.location_id or listing.location_id
            if listing.stock_item_id and location:
                by_location.setdefault(location, []).append(str(listing.stock_item_id))
        levels = {
            (location, item): units
            for location, items in by_location.items()
            for item, units in available_levels(self.client, location, sorted(set(items))).items()
        }
        return [
            levels.get((self.location_id or listing.location_id, str(listing.stock_item_id)))
            for listing in listings
        ]


LEVELS_PER_CALL = 50
"""inventory_levels.json takes at most 50 inventory_item_ids."""


def available_levels(
    client: ShopifyClient, location_id: str | int, inventory_item_ids: list[str]
) -> dict[str, int]:
    """`available` per inventory item at one location (`GET inventory_levels.json`, 50 items a call)."""
    levels: dict[str, int] = {}
    for start in range(0, len(inventory_item_ids), LEVELS_PER_CALL):
        chunk = inventory_item_ids[start : start + LEVELS_PER_CALL]
        params = {"inventory_item_ids": ",".join(chunk), "location_ids": str(location_id), "limit": 250}
        for page in client.paginate("inventory_levels.json", params):
            for level in page:
                if level.get("available") is not None:
                    levels[str(level["inventory_item_id"])] = int(level["available"])
    return levels


def stock_writer(
    *, shop_id: str, base_url: str, token: str, token_env: str, api_version: str = "2025-07",
    location_id: str | int | None = None, **_: object,
) -> ShopifyStockWriter:  # fmt: skip
    """The shop's StockWriter from its connector arguments (orchestration.ingest.connector_kwargs); a configured
    `location_id` is where stock is set, else each listing's own location."""
    return ShopifyStockWriter(
        ShopifyClient(shop_id, base_url, token, api_version=api_version, token_env=token_env), location_id
    )
