"""A 1688 (阿里巴巴 1688 开放平台) procurement gateway taking shopkeep's purchase orders as 1688 orders.

The protocol as the 1688 open platform documents it (open.1688.com, API docs of `com.alibaba.trade`):

- Every call is `POST {gateway}/param2/1/com.alibaba.trade/{api}/{appKey}`, form-encoded, with `access_token`,
  `_aop_timestamp` (milliseconds) and `_aop_signature`: the upper-case hex HMAC-SHA1, keyed with the app secret,
  of the URL path (`param2/1/com.alibaba.trade/{api}/{appKey}`) followed by every other parameter as `key+value`,
  those pairs sorted. Structured parameters (`addressParam`, `cargoParamList`) are JSON text.
- `alibaba.createOrder.preview` checks that each cargo (`offerId`, `specId`, `quantity`) can be ordered: the offer
  and spec exist, the quantity is at least the offer's minimum (起批量) and at most its stock. It answers
  `{"success": true, "orderPreviewResuslt": [...]}` (the platform's own spelling) with `sumPayment` in fen and a
  `cargoList` of `amount` and `finalUnitPrice` in yuan, or `{"success": false, "errorCode", "errorMsg"}`.
- `alibaba.trade.fastCreateOrder` places the order (`flow`, `addressParam`, `cargoParamList`, `message`,
  `outOrderId`: the caller's own order id) and answers `{"success": true, "result": {"orderId",
  "totalSuccessAmount"}}`. The platform does not promise to refuse a second order with the same `outOrderId`,
  and this sandbox does not: a blind retry makes a second order, so a caller must look before it sends again.
- `alibaba.trade.get.buyerView` (`webSite=1688`, `orderId` or `outOrderId`) returns the order (`baseInfo`,
  `productItems`), or `{"success": false, "errorCode": "ORDER_NOT_FOUND"}`.

Where the docs are silent, this sandbox chooses: a gateway refusal (bad signature, unknown app key or token, a
timestamp more than 5 minutes off) is HTTP 401 `{"error_code": "gw.SignatureInvalid" | "gw.AppKeyInvalid" |
"gw.InvalidAccessToken" | "gw.TimestampInvalid", "error_message"}`; the business error codes are
`OFFER_NOT_FOUND`, `QUANTITY_BELOW_MOQ`, `STOCK_NOT_ENOUGH`, `ORDER_NOT_FOUND` and `PARAM_INVALID`.

Test-only (no auth): `GET /_sandbox/orders` lists the orders placed; `POST /_sandbox/fail {"mode", "times"}`:
`before_accept` answers 502 before placing, `after_accept` places the order and answers 502 (the answer lost).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.records import fault_endpoint

NAMESPACE = "com.alibaba.trade"
MAX_SKEW_MS = 300_000
CST = timezone(timedelta(hours=8))


@dataclass
class Offer:
    """One SKU (spec) of a 1688 offer, as the supplier lists it."""

    offer_id: int
    spec_id: str
    sku: str
    price: Decimal
    """Yuan per unit."""
    moq: int = 1
    stock: int = 100_000


def offers_for(world, supplier_id: str) -> list[Offer]:
    """The supplier's 1688 listing of the world's SKUs it makes: one offer per product family (SPU), one spec per
    SKU, at the unit cost, the product's minimum order quantity and plenty of stock (ids derived from the codes)."""
    products = world.products
    offers = []
    for row in products[
        (products["supplier_id"] == supplier_id) & ~products["is_kit"].astype(bool)
    ].itertuples():
        offer_id = (
            600_000_000_000 + int(hashlib.sha1(str(row.spu).encode()).hexdigest()[:8], 16) % 100_000_000_000
        )
        spec_id = hashlib.md5(str(row.sku).encode()).hexdigest()
        offers.append(Offer(offer_id, spec_id, str(row.sku), Decimal(str(row.unit_cost)), int(row.moq or 1)))
    return offers


def write_offer_map(offers: list[Offer], path) -> None:
    """What the seller keeps of the supplier's 1688 listing: sku,offer_id,spec_id (the `offers_file`)."""
    from pathlib import Path

    lines = ["sku,offer_id,spec_id"] + [f"{o.sku},{o.offer_id},{o.spec_id}" for o in offers]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def url_path(api: str, app_key: str) -> str:
    return f"param2/1/{NAMESPACE}/{api}/{app_key}"


def aop_signature(secret: str, path: str, params: dict[str, str]) -> str:
    """1688's request signature: HMAC-SHA1 (app secret) of the URL path plus the sorted `key+value` pairs."""
    pairs = sorted(f"{k}{v}" for k, v in params.items() if k != "_aop_signature")
    return hmac.new(secret.encode(), (path + "".join(pairs)).encode(), hashlib.sha1).hexdigest().upper()


class Ali1688State:
    def __init__(
        self, app_key: str, app_secret: str, access_token: str, offers: list[Offer], now=None
    ) -> None:
        self.app_key, self.app_secret, self.access_token = app_key, app_secret, access_token
        self.offers = {(o.offer_id, o.spec_id): o for o in offers}
        self.now = now or (lambda: datetime.now(UTC))
        self.lock = threading.Lock()
        self.orders: list[dict] = []
        self.calls: list[dict] = []
        """Every authenticated call: api and outOrderId."""
        self.faults: list[str] = []
        self._next_id = 3_300_000_000_000_000

    def check(self, cargos: list[dict]) -> tuple[list[tuple[Offer, int]], dict | None]:
        """The cargos' offers and quantities, or the business error that refuses them."""
        taken = []
        for cargo in cargos:
            try:
                key = (int(cargo["offerId"]), str(cargo["specId"]))
                quantity = int(Decimal(str(cargo["quantity"])))
            except (KeyError, TypeError, ValueError, ArithmeticError):
                return [], _error("PARAM_INVALID", f"cargo {cargo!r} needs offerId, specId and quantity")
            offer = self.offers.get(key)
            if offer is None:
                return [], _error("OFFER_NOT_FOUND", f"商品 {key[0]} 规格 {key[1]} 不存在或已下架")
            if quantity < offer.moq:
                return [], _error(
                    "QUANTITY_BELOW_MOQ",
                    f"商品 {offer.offer_id} 规格 {offer.spec_id} 购买数量 {quantity} 小于起批量 {offer.moq}",
                )
            if quantity > offer.stock:
                return [], _error(
                    "STOCK_NOT_ENOUGH",
                    f"商品 {offer.offer_id} 规格 {offer.spec_id} 库存不足：可售 {offer.stock}，需要 {quantity}",
                )
            taken.append((offer, quantity))
        if not taken:
            return [], _error("PARAM_INVALID", "cargoParamList is empty")
        return taken, None

    def place(self, taken: list[tuple[Offer, int]], out_order_id: str | None, message: str) -> dict:
        self._next_id += 7
        for offer, quantity in taken:
            offer.stock -= quantity
        order = {
            "id": str(self._next_id), "outOrderId": out_order_id, "status": "waitbuyerpay", "message": message,
            "createTime": self.now().astimezone(CST).strftime("%Y%m%d%H%M%S000+0800"),
            "items": [(offer, quantity) for offer, quantity in taken],
        }  # fmt: skip
        self.orders.append(order)
        return order


def _error(code: str, message: str) -> dict:
    return {"success": False, "errorCode": code, "errorMsg": message}


def _fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _view(order: dict) -> dict:
    total = sum((offer.price * quantity for offer, quantity in order["items"]), Decimal(0))
    return {
        "success": True,
        "result": {
            "baseInfo": {"id": order["id"], "idOfStr": order["id"], "status": order["status"],
                         "outOrderId": order["outOrderId"], "totalAmount": float(total),
                         "createTime": order["createTime"], "buyerMemo": order["message"]},
            "productItems": [{"productID": offer.offer_id, "specId": offer.spec_id, "quantity": quantity,
                              "price": float(offer.price), "itemAmount": float(offer.price * quantity)}
                             for offer, quantity in order["items"]],
        },
    }  # fmt: skip


def create_app(
    app_key: str = "1688-sandbox-app", app_secret: str = "1688-sandbox-secret",
    access_token: str = "1688-sandbox-token", offers: list[Offer] | None = None, now=None,
) -> Starlette:  # fmt: skip
    state = Ali1688State(app_key, app_secret, access_token, list(offers or []), now)

    def _gateway_refusal(api: str, key: str, params: dict[str, str]) -> JSONResponse | None:
        def refuse(code: str, message: str) -> JSONResponse:
            return JSONResponse({"error_code": code, "error_message": message}, status_code=401)

        if key != state.app_key:
            return refuse("gw.AppKeyInvalid", f"appKey {key} is not a registered app")
        given = params.get("_aop_signature", "")
        if not hmac.compare_digest(given, aop_signature(state.app_secret, url_path(api, key), params)):
            return refuse("gw.SignatureInvalid", "the request signature does not match")
        try:
            skew = abs(state.now().timestamp() * 1000 - int(params.get("_aop_timestamp", "")))
        except ValueError:
            return refuse("gw.TimestampInvalid", "_aop_timestamp missing or not milliseconds")
        if skew > MAX_SKEW_MS:
            return refuse("gw.TimestampInvalid", f"_aop_timestamp is {skew / 1000:.0f} s off")
        if params.get("access_token") != state.access_token:
            return refuse("gw.InvalidAccessToken", "access_token is invalid or expired")
        return None

    async def gateway(request: Request) -> JSONResponse:
        api, key = request.path_params["api"], request.path_params["app_key"]
        params = {k: str(v) for k, v in (await request.form()).items()}
        refused = _gateway_refusal(api, key, params)
        if refused is not None:
            return refused
        handler = {"alibaba.createOrder.preview": preview, "alibaba.trade.fastCreateOrder": create,
                   "alibaba.trade.get.buyerView": buyer_view}.get(api)  # fmt: skip
        if handler is None:
            return JSONResponse(
                {"error_code": "gw.ApiNotExists", "error_message": f"{api} does not exist"}, 404
            )
        with state.lock:
            state.calls.append({"api": api, "outOrderId": params.get("outOrderId")})
        return handler(params)

    def _cargos(params: dict[str, str]) -> list[dict] | None:
        try:
            cargos = json.loads(params.get("cargoParamList", ""))
            json.loads(params.get("addressParam", ""))
        except ValueError:
            return None
        return cargos if isinstance(cargos, list) else None

    def preview(params: dict[str, str]) -> JSONResponse:
        cargos = _cargos(params)
        if cargos is None:
            return JSONResponse(_error("PARAM_INVALID", "addressParam and cargoParamList must be JSON"))
        with state.lock:
            taken, refusal = state.check(cargos)
        if refusal is not None:
            return JSONResponse(refusal)
        total = sum((offer.price * quantity for offer, quantity in taken), Decimal(0))
        return JSONResponse({"success": True, "orderPreviewResuslt": [{
            "status": True, "flowFlag": params.get("flow") or "general", "tradeModeNameList": ["assureTrade"],
            "sumPayment": _fen(total), "sumCarriage": 0, "sumPaymentNoCarriage": _fen(total), "discountFee": 0,
            "cargoList": [{"offerId": offer.offer_id, "specId": offer.spec_id, "amount": float(offer.price * quantity),
                           "finalUnitPrice": float(offer.price)} for offer, quantity in taken],
        }]})  # fmt: skip

    def create(params: dict[str, str]) -> JSONResponse:
        cargos = _cargos(params)
        if cargos is None:
            return JSONResponse(_error("PARAM_INVALID", "addressParam and cargoParamList must be JSON"))
        with state.lock:
            fault = state.faults.pop(0) if state.faults else None
            if fault == "before_accept":
                return JSONResponse({"error": "injected failure"}, status_code=502)
            taken, refusal = state.check(cargos)
            if refusal is not None:
                return JSONResponse(refusal)
            order = state.place(taken, params.get("outOrderId") or None, params.get("message", ""))
        if fault == "after_accept":
            return JSONResponse({"error": "injected failure after the order was placed"}, status_code=502)
        total = sum((offer.price * quantity for offer, quantity in order["items"]), Decimal(0))
        return JSONResponse({"success": True, "result": {
            "success": True, "orderId": order["id"], "totalSuccessAmount": _fen(total), "postFee": 0,
        }})  # fmt: skip

    def buyer_view(params: dict[str, str]) -> JSONResponse:
        order_id, out_id = params.get("orderId"), params.get("outOrderId")
        if not order_id and not out_id:
            return JSONResponse(_error("PARAM_INVALID", "orderId or outOrderId is required"))
        with state.lock:
            found = [
                o
                for o in state.orders
                if (order_id and o["id"] == order_id) or (out_id and o["outOrderId"] == out_id)
            ]
        if not found:
            return JSONResponse(_error("ORDER_NOT_FOUND", f"订单不存在: {order_id or out_id}"))
        return JSONResponse(_view(found[0]))

    async def list_orders(request: Request) -> JSONResponse:
        with state.lock:
            return JSONResponse(
                {"orders": [_view(o)["result"] for o in state.orders], "calls": list(state.calls)}
            )

    app = Starlette(
        routes=[
            Route("/openapi/param2/1/" + NAMESPACE + "/{api}/{app_key}", gateway, methods=["POST"]),
            Route("/_sandbox/orders", list_orders, methods=["GET"]),
            Route("/_sandbox/fail", fault_endpoint(state), methods=["POST"]),
        ]
    )
    app.state.sandbox = state
    return app
