"""Buyers on a channel sandbox, as the platforms keep listed stock: an order takes units from the listing it is
placed on and is refused when it asks for more than is listed (the platform's "库存不足"); a cancelled order
gives its units back to the listing.

Each channel server adds `buyer_routes(sandbox)` (test-only, like its other `/_sandbox/` routes):

- `POST /_sandbox/buy` `{"sku_id": <platform SKU id>, "quantity": n}` -> `{"accepted": bool, "listed": units now}`;
- `POST /_sandbox/cancel` `{"sku_id": ..., "quantity": n}` -> `{"listed": units now}`.

A sandbox implements `ListedStock`: `listed(sku_id)` (None for an id it does not list) and `set_listed`. Its
server handles one request at a time (one event loop), so a buy and a stock write never interleave.

`Market` is the ground truth a test keeps of the seller's real stock while buyers buy on every channel: the
units each sale took that the seller did not have are oversold.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class ListedStock(Protocol):
    def listed(self, sku_id: str) -> int | None: ...

    def set_listed(self, sku_id: str, quantity: int) -> None: ...


def buyer_routes(sandbox: ListedStock) -> list[Route]:
    async def _order(request: Request) -> tuple[str, int, int] | JSONResponse:
        body = await request.json()
        sku_id, quantity = str(body.get("sku_id", "")), body.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            return JSONResponse({"error": "quantity must be a whole number above 0"}, status_code=400)
        listed = sandbox.listed(sku_id)
        if listed is None:
            return JSONResponse({"error": f"no listing of SKU id {sku_id}"}, status_code=404)
        return sku_id, quantity, listed

    async def buy(request: Request) -> JSONResponse:
        order = await _order(request)
        if isinstance(order, JSONResponse):
            return order
        sku_id, quantity, listed = order
        if quantity > listed:
            return JSONResponse({"accepted": False, "listed": listed})
        sandbox.set_listed(sku_id, listed - quantity)
        return JSONResponse({"accepted": True, "listed": listed - quantity})

    async def cancel(request: Request) -> JSONResponse:
        order = await _order(request)
        if isinstance(order, JSONResponse):
            return order
        sku_id, quantity, listed = order
        sandbox.set_listed(sku_id, listed + quantity)
        return JSONResponse({"listed": listed + quantity})

    return [
        Route("/_sandbox/buy", buy, methods=["POST"]),
        Route("/_sandbox/cancel", cancel, methods=["POST"]),
    ]


class Market:
    """The seller's real stock per master SKU while buyers buy on every channel (thread-safe): a sale takes its
    units, and those beyond what was left are oversold; a cancellation gives them back."""

    def __init__(self, on_hand: dict[str, int]) -> None:
        self.left = Counter({sku: max(int(units), 0) for sku, units in on_hand.items()})
        self.sold: Counter[str] = Counter()
        self.oversold: Counter[str] = Counter()
        self._lock = threading.Lock()

    def sell(self, sku: str, quantity: int) -> int:
        """Record a sale; returns the units of it the seller did not have."""
        with self._lock:
            over = max(quantity - self.left[sku], 0)
            self.left[sku] -= quantity - over
            self.sold[sku] += quantity
            self.oversold[sku] += over
            return over

    def cancel(self, sku: str, quantity: int) -> None:
        with self._lock:
            back = min(quantity, self.sold[sku])
            self.sold[sku] -= back
            given_back = min(back, self.oversold[sku])
            self.oversold[sku] -= given_back
            self.left[sku] += back - given_back
