"""One interface for writing listed stock to a channel (used by writeback/stock): `StockWriter`.

Each channel's implementation lives beside its client (`connectors/<channel>/stock.py`) and speaks the platform's
own semantics: an absolute set where the platform offers it (so a retried push cannot add twice), Douyin's
`idempotent_id` (the platform ignores a repeated id), Shopify's absolute `inventory_levels/set` at one location.
A refusal the platform gives for one SKU (a promotion slot whose stock cannot go down, an unknown SKU) is a
per-SKU `StockResult` with the platform's message, never an exception that stops the other SKUs; a failure of
the channel itself (auth, network, throttling past the client's retries) raises the client's ChannelError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connectors.common.errors import ChannelError


@dataclass(frozen=True)
class ListingAddress:
    """Where one SKU is listed in one shop, in the platform's own ids (from marts.channel_listings)."""

    shop_id: str
    sku: str
    """The master SKU (the seller's merchant code)."""
    platform_product_id: str | None = None
    """num_iid (Taobao), goods_id (Pinduoduo), product_id (Douyin, Shopify), ware id (JD)."""
    platform_sku_id: str | None = None
    """sku_id (Taobao, Pinduoduo, Douyin), skuId (JD), variant id (Shopify)."""
    outer_id: str | None = None
    """The merchant code the listing carries."""
    stock_item_id: str | None = None
    """Shopify's inventory_item_id."""
    location_id: str | None = None
    """Shopify's location the stock is set at."""


@dataclass(frozen=True)
class StockResult:
    ok: bool
    quantity: int | None
    """The listed quantity the platform confirmed (or read back), when it says."""
    message: str = ""
    """The platform's words on a refusal (sanitised: no secret, no buyer datum)."""


Push = tuple[ListingAddress, int, str]
"""One listing's push: where, the quantity to set, the push id."""


class StockWriter(Protocol):
    """Sets the listed stock of SKUs in one shop."""

    shop_id: str

    def set_stock(self, listing: ListingAddress, quantity: int, push_id: str) -> StockResult:
        """Set the listed stock of `listing` to `quantity` (absolute). `push_id` identifies this push: a retry of
        the same push passes the same id (platforms with idempotency ids use it)."""
        ...

    def set_many(self, pushes: list[Push]) -> list[StockResult]:
        """Set several listings of the shop, in as few calls as the platform allows; one result per push, in
        order. A failure of the shop itself fails the pushes not yet sent, never the ones the platform took."""
        ...


class ChannelStockWriter:
    """The rule every channel's StockWriter follows, in one place: the channel's errors (`refusals`) and a
    ValueError (an address the platform cannot take) are that SKU's result with the message; the errors in
    `shop_wide` (credentials, signature, permission) stop the shop's push. A subclass sets `_set`."""

    refusals: tuple[type[Exception], ...] = ()
    shop_wide: tuple[type[Exception], ...] = ()

    def __init__(self, client) -> None:
        self.client = client
        self.shop_id: str = client.shop_id

    def _set(self, listing: ListingAddress, quantity: int, push_id: str) -> StockResult:
        raise NotImplementedError

    def set_stock(self, listing: ListingAddress, quantity: int, push_id: str) -> StockResult:
        try:
            return self._set(listing, quantity, push_id)
        except (*self.refusals, ValueError) as refused:
            if isinstance(refused, self.shop_wide):
                raise  # the shop's credentials or permissions: no SKU of this shop can be pushed
            return StockResult(False, None, str(refused))

    def set_many(self, pushes: list[Push]) -> list[StockResult]:
        """One call per push (a channel with a batch call overrides this); a failure of the shop itself fails
        the pushes not yet sent, with its message."""
        results: list[StockResult] = []
        for sent, (listing, quantity, push_id) in enumerate(pushes):
            try:
                results.append(self.set_stock(listing, quantity, push_id))
            except ChannelError as failed:
                results += [StockResult(False, None, str(failed))] * (len(pushes) - sent)
                break
        return results


def marketplace_writer(
    writer: type[ChannelStockWriter], client: type, *, shop_id: str, base_url: str, app_key: str, app_secret: str,
    access_token: str, token_env: str, **_: object,
) -> ChannelStockWriter:  # fmt: skip
    """A marketplace shop's StockWriter from its connector arguments (orchestration.ingest.connector_kwargs):
    every marketplace client takes the shop id, gateway, app key and secret and the seller's access token."""
    return writer(client(shop_id, base_url, app_key, app_secret, access_token, token_env=token_env))
