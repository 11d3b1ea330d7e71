"""Shopify Admin REST: the client (auth, pagination, rate limits), the dlt source and the stock writer."""

from connectors.shopify.client import ShopifyAuthError, ShopifyClient, ShopifyError, ShopifyResponseError
from connectors.shopify.source import load_shop, shopify_source

__all__ = [
    "ShopifyAuthError",
    "ShopifyClient",
    "ShopifyError",
    "ShopifyResponseError",
    "load_shop",
    "shopify_source",
]
