"""One interface for writing listed stock to a channel (used by writeback/stock): `StockWriter`.

Each channel's implementation lives beside its client (`connectors/<channel>/stock.py`) and speaks the platform's
own semantics: an absolute set where the platform offers it (so a retried push cannot add twice), Douyin's
`idempotent_id` (the platform ignores a repeated id), Shopify's absolute `inventory_levels/set` at one location.
A refusal the platform gives for one SKU (a promotion slot whose stock cannot go down, an unknown SKU) is a
per-SKU `StockResult` with the platform's message, never an exception that stops the other SKUs; a failure of
the channel itself (auth, network, throttling past the client's retries) raises the client's ChannelError.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
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
    in_flight: int = 0
    """Units the channel sold between the read (`listed`) and the write landing, as far as the writer could see
    (a confirmed level below the one intended, or a fresh read): sold, though no listing shows them any more."""


Push = tuple[ListingAddress, int, str]
"""One listing's push: where, the quantity to set, the push id."""

Listed = tuple[object, object, object]
"""One SKU as the platform lists it now: its platform SKU id, its merchant code, its listed quantity."""


class StockWriter(Protocol):
    """Sets the listed stock of SKUs in one shop."""

    shop_id: str

    def set_stock(
        self, listing: ListingAddress, quantity: int, push_id: str, listed: int | None = None
    ) -> StockResult:
        """Make `listing` list `quantity` units. `push_id` identifies this push: a retry of the same push passes
        the same id (platforms with idempotency ids use it). `listed`: what the platform listed when it was read
        back; where the platform takes a change rather than a level (Taobao, Pinduoduo, Douyin, Shopify), the
        writer sends `quantity - listed`, so a buyer's order that lands between the read and the write still
        counts (an absolute set would list those units again). The result's quantity is the level the platform
        confirmed, else the one intended."""
        ...

    def set_many(self, pushes: list[Push], listed: list[int | None] | None = None) -> list[StockResult]:
        """Set several listings of the shop, in as few calls as the platform allows; one result per push, in
        order (`listed`: per push, as in set_stock). A failure of the shop itself fails the pushes not yet sent,
        never the ones the platform took."""
        ...

    def read_many(self, listings: list[ListingAddress]) -> list[int | None]:
        """What the platform lists now for each of `listings`, in order (None: it lists no such SKU). Read just
        before a push, so units the channel sold since the last pull are not listed again. A failure of the
        shop raises the client's ChannelError."""
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

    def _set(
        self, listing: ListingAddress, quantity: int, push_id: str, listed: int | None = None
    ) -> StockResult:
        raise NotImplementedError

    def set_stock(
        self, listing: ListingAddress, quantity: int, push_id: str, listed: int | None = None
    ) -> StockResult:
        if listed is not None and quantity == listed:
            return StockResult(True, quantity)  # the platform lists it already: nothing to send
        try:
            return self._set(listing, quantity, push_id, listed)
        except (*self.refusals, ValueError) as refused:
            if isinstance(refused, self.shop_wide):
                raise  # the shop's credentials or permissions: no SKU of this shop can be pushed
            if listed is None or quantity >= listed:
                return StockResult(False, None, str(refused))
            first = refused
        # a decrease refused (buyers took more since the read than the change leaves): read it again and take
        # the listing to what the change meant for what is left, 0 at least
        try:
            fresh = self.read_many([listing])[0]
            if fresh is None:
                return StockResult(False, None, str(first))
            sold = max(0, listed - fresh)
            answer = self._set(listing, max(0, quantity - sold), f"{push_id}-again", fresh)
        except (*self.refusals, ValueError) as refused:
            if isinstance(refused, self.shop_wide):
                raise
            return StockResult(False, None, f"{first}; again after a fresh read: {refused}")
        return replace(answer, in_flight=sold + answer.in_flight)

    def _listed_now(self) -> Iterable[Listed]:
        """Every SKU the shop lists now, from the platform's listing call (the one the listings pull makes); a
        channel that reads SKU by SKU overrides `read_many` instead."""
        raise NotImplementedError

    def read_many(self, listings: list[ListingAddress]) -> list[int | None]:
        by_id: dict[str, int] = {}
        by_code: dict[str, int] = {}
        for sku_id, code, quantity in self._listed_now():
            units = int(quantity or 0)
            if sku_id is not None:
                by_id[str(sku_id)] = units
            if code:
                by_code.setdefault(str(code), units)
        return [
            by_id.get(str(listing.platform_sku_id))
            if listing.platform_sku_id
            else by_code.get(str(listing.outer_id or listing.sku))
            for listing in listings
        ]

    def set_many(self, pushes: list[Push], listed: list[int | None] | None = None) -> list[StockResult]:
        """One call per push (a channel with a batch call overrides this); a failure of the shop itself fails
        the pushes not yet sent, with its message."""
        results: list[StockResult] = []
        listed = listed or [None] * len(pushes)
        for sent, ((listing, quantity, push_id), before) in enumerate(zip(pushes, listed, strict=True)):
            try:
                results.append(self.set_stock(listing, quantity, push_id, before))
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
