"""Write listed stock to Tmall/Taobao (used by writeback): `taobao.item.quantity.update` (type 1 = set, the
default here; type 2 = add, floored at 0 by the platform) and the batch `taobao.skus.quantity.update`."""

from __future__ import annotations

from collections.abc import Iterator

from connectors.common.stock import (
    ChannelStockWriter,
    Listed,
    ListingAddress,
    Push,
    StockResult,
    marketplace_writer,
)
from connectors.taobao.client import (
    TaobaoAuthError,
    TaobaoClient,
    TaobaoConfigError,
    TaobaoError,
    TaobaoPermissionError,
    TaobaoResponseError,
    TaobaoUnclearError,
    onsale_skus,
)

MAX_BATCH = 20


def _check(client: TaobaoClient, what: str, quantity: int, kind: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or (kind == 1 and quantity < 0):
        raise ValueError(
            f"Taobao shop {client.shop_id}: quantity for {what} must be a whole number"
            f"{' >= 0' if kind == 1 else ''}, got {quantity!r}"
        )
    if kind not in (1, 2):
        raise ValueError(f"Taobao shop {client.shop_id}: type must be 1 (set) or 2 (add), got {kind!r}")


def _item(client: TaobaoClient, body: dict, what: str) -> dict:
    item = body.get("item")
    if not isinstance(item, dict):
        raise TaobaoResponseError(
            f"Taobao shop {client.shop_id}: the stock update of {what} answered no item"
        )
    return item


def find_item(client: TaobaoClient, sku: int | str) -> int:
    """The num_iid of the item holding `sku` (a platform sku_id or a merchant code), read from the listing."""
    for page in client.pages("taobao.items.onsale.get", {"fields": "num_iid,skus"}, "items", "item", 100):
        for item in page:
            for entry in (item.get("skus") or {}).get("sku", []):
                if str(entry.get("sku_id")) == str(sku) or entry.get("outer_id") == str(sku):
                    return int(item["num_iid"])
    raise ValueError(f"Taobao shop {client.shop_id}: no item on sale has a SKU {sku!r} (sku_id or outer_id)")


def set_stock(
    client: TaobaoClient, sku: int | str, quantity: int, *, num_iid: int | str | None = None, kind: int = 1
) -> dict:
    """Set (kind 1) or add to (kind 2) the listed quantity of one SKU, named by its platform `sku_id` (digits)
    or its merchant code `outer_id`. `num_iid` is looked up from the listing when not given. Returns TOP's
    item (num, skus with their quantities)."""
    what = f"sku {sku}"
    _check(client, what, quantity, kind)
    item_id = num_iid if num_iid is not None else find_item(client, sku)
    params: dict = {"num_iid": item_id, "quantity": quantity, "type": kind}
    params.update({"sku_id": sku} if str(sku).isdigit() else {"outer_id": sku})
    answer = client.call("taobao.item.quantity.update", params, idempotent=kind == 1)
    return _item(client, answer, what)


def set_stock_batch(
    client: TaobaoClient, num_iid: int | str, quantities: dict[int | str, int], kind: int = 1
) -> dict:
    """Set the listed quantity of several SKUs (by sku_id) of one item, at most 20 per call."""
    if not quantities or len(quantities) > MAX_BATCH:
        raise ValueError(
            f"Taobao shop {client.shop_id}: item {num_iid}: give 1 to {MAX_BATCH} SKUs per batch, got {len(quantities)}"
        )
    for sku_id, quantity in quantities.items():
        _check(client, f"item {num_iid} sku {sku_id}", quantity, kind)
    pairs = ";".join(f"{sku_id}:{quantity}" for sku_id, quantity in quantities.items())
    params = {"num_iid": num_iid, "skuid_quantities": pairs, "type": kind}
    body = client.call("taobao.skus.quantity.update", params, idempotent=kind == 1)
    return _item(client, body, f"item {num_iid}")


def _confirmed(intended: int, confirmed: object, change: bool) -> StockResult:
    """The level TOP confirmed; after a change, units it falls short of the one intended were sold meanwhile."""
    if confirmed is None:
        return StockResult(True, intended)
    level = int(confirmed)
    return StockResult(True, level, in_flight=max(0, intended - level) if change else 0)


class TaobaoStockWriter(ChannelStockWriter):
    """StockWriter for one Tmall/Taobao shop: `taobao.skus.quantity.update` for the SKUs of one item, 20 a call
    (type 1: set); `taobao.item.quantity.update` for a lone SKU, or SKU by SKU when a batch is refused (the
    platform takes a batch whole or not at all), so each SKU gets its own result."""

    refusals = (TaobaoError,)
    shop_wide = (TaobaoAuthError, TaobaoConfigError, TaobaoPermissionError)

    def _set(
        self, listing: ListingAddress, quantity: int, push_id: str, listed: int | None = None
    ) -> StockResult:
        change = None if listed is None else quantity - listed
        item = set_stock(
            self.client, listing.platform_sku_id or listing.outer_id or listing.sku,
            quantity if change is None else change, num_iid=listing.platform_product_id,
            kind=1 if change is None else 2,
        )  # fmt: skip
        skus = (item.get("skus") or {}).get("sku") or []
        confirmed = next(
            (s.get("quantity") for s in skus if str(s.get("sku_id")) == str(listing.platform_sku_id)),
            None,
        )
        return _confirmed(quantity, confirmed, change is not None)

    def _listed_now(self) -> Iterator[Listed]:
        for _item, sku in onsale_skus(self.client):
            yield sku.get("sku_id"), sku.get("outer_id"), sku.get("quantity")

    def set_many(self, pushes: list[Push], listed: list[int | None] | None = None) -> list[StockResult]:
        """Batches of one item's SKUs: a level each (type 1) where nothing was read back, else the change from
        what was read (type 2, sent once); a SKU whose change is 0 is not sent."""
        listed = listed or [None] * len(pushes)
        results: dict[int, StockResult] = {}
        batches: dict[tuple[str, int], list[int]] = {}
        for at, (listing, quantity, _push_id) in enumerate(pushes):
            if listed[at] is not None and quantity == listed[at]:
                results[at] = StockResult(True, quantity)
            elif listing.platform_product_id and str(listing.platform_sku_id or "").isdigit():
                kind = 1 if listed[at] is None else 2
                batches.setdefault((str(listing.platform_product_id), kind), []).append(at)
        for (num_iid, kind), members in batches.items():
            for start in range(0, len(members), MAX_BATCH):
                chunk = members[start : start + MAX_BATCH]
                if len(chunk) == 1:
                    continue  # a lone SKU: the single call below
                quantities = {
                    pushes[at][0].platform_sku_id: pushes[at][1] - (listed[at] if kind == 2 else 0)
                    for at in chunk
                }
                try:
                    item = set_stock_batch(self.client, num_iid, quantities, kind=kind)
                except (TaobaoAuthError, TaobaoConfigError, TaobaoPermissionError) as failed:
                    return [
                        results.get(at, StockResult(False, None, str(failed))) for at in range(len(pushes))
                    ]
                except TaobaoUnclearError as unclear:  # a change that may have landed is never sent again
                    results.update({at: StockResult(False, None, str(unclear)) for at in chunk})
                    continue
                except (TaobaoError, ValueError):
                    continue  # refused as a whole: SKU by SKU below, for each one's own answer
                levels = {
                    str(s.get("sku_id")): s.get("quantity") for s in (item.get("skus") or {}).get("sku") or []
                }
                for at in chunk:
                    confirmed = levels.get(str(pushes[at][0].platform_sku_id))
                    results[at] = _confirmed(pushes[at][1], confirmed, kind == 2)
        rest = [at for at in range(len(pushes)) if at not in results]
        answers = super().set_many([pushes[at] for at in rest], [listed[at] for at in rest])
        for at, answer in zip(rest, answers, strict=True):
            results[at] = answer
        return [results[at] for at in range(len(pushes))]


def stock_writer(**kwargs: object) -> ChannelStockWriter:
    """The shop's StockWriter from its connector arguments (orchestration.ingest.connector_kwargs)."""
    return marketplace_writer(TaobaoStockWriter, TaobaoClient, **kwargs)
