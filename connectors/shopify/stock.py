"""Write listed stock to Shopify (used by writeback): the REST set is absolute, not a delta."""

from __future__ import annotations

from connectors.shopify.client import ShopifyClient, ShopifyResponseError


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
