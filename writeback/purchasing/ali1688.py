"""A purchase order placed as a 1688 order (阿里巴巴 1688 开放平台, `com.alibaba.trade`), the second supplier channel.

Placing is two signed calls, as 1688 documents them: `alibaba.createOrder.preview` (may these offers and quantities
be ordered: stock, minimum order quantity), then `alibaba.trade.fastCreateOrder` with the PO number as
`outOrderId`, the caller's own order id. Asking whether an order arrived is `alibaba.trade.get.buyerView` with that
`outOrderId`. 1688 does not promise to refuse a second order with the same `outOrderId`, so the sender (send.py)
always asks before it sends again. Signing: `_aop_signature` = upper-case hex HMAC-SHA1 (app secret) of the URL
path plus the sorted `key+value` parameters; `_aop_timestamp` in milliseconds.

A SKU is ordered as the supplier's offer and spec (`offerId`, `specId`) the seller's offer map gives
(`[[suppliers]] offers_file`, a CSV of `sku,offer_id,spec_id`); an order with a SKU the map lacks is not sent and
its result names the SKU and the file. 1688's answers become the sender's normalised confirmation: an order placed
is accepted in full (1688 takes the quantities or refuses the order; it gives no delivery date, so the order's
expected date stands); a refusal (preview or create) is the supplier rejecting the order, with 1688's message.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from writeback.purchasing.orders import PurchaseOrder

NAMESPACE = "com.alibaba.trade"


class OfferMapError(ValueError):
    """The offer map file is missing or malformed (names the file, the row and the fix)."""


@dataclass(frozen=True)
class Ali1688Endpoint:
    supplier_id: str
    gateway_url: str
    """The open platform's gateway, https://gw.open.1688.com/openapi."""
    app_key: str
    app_secret: str
    access_token: str
    offers: dict[str, tuple[int, str]]
    """SKU -> (offerId, specId)."""
    address_id: str
    """The buyer's 1688 delivery address (its id in the buyer's address book) the goods go to."""
    offers_file: str = ""

    def cargos(self, order: PurchaseOrder) -> list[dict]:
        missing = [line.sku for line in order.lines if line.sku not in self.offers]
        if missing:
            raise OfferMapError(
                f"{order.po_number}: no 1688 offer for {', '.join(missing)} in {self.offers_file or 'the offer map'}: "
                f"add a row sku,offer_id,spec_id for each"
            )
        return [{"offerId": self.offers[line.sku][0], "specId": self.offers[line.sku][1],
                 "quantity": line.quantity} for line in order.lines]  # fmt: skip

    def sku_of(self, offer_id: int, spec_id: str) -> str | None:
        for sku, key in self.offers.items():
            if key == (int(offer_id), str(spec_id)):
                return sku
        return None


def read_offers(path: Path) -> dict[str, tuple[int, str]]:
    """The seller's offer map: a CSV with the header sku,offer_id,spec_id (UTF-8, a BOM allowed)."""
    if not path.exists():
        raise OfferMapError(f"{path}: no such offer map file (sku,offer_id,spec_id per SKU bought on 1688)")
    offers: dict[str, tuple[int, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if not {"sku", "offer_id", "spec_id"} <= set(reader.fieldnames or []):
            raise OfferMapError(
                f"{path}: the header must name sku, offer_id and spec_id (found {reader.fieldnames})"
            )
        for n, row in enumerate(reader, start=2):
            sku, offer, spec = (row.get(k, "").strip() for k in ("sku", "offer_id", "spec_id"))
            if not sku or not offer.isdigit() or not spec:
                raise OfferMapError(
                    f"{path} row {n}: needs a sku, a numeric offer_id and a spec_id (got {row})"
                )
            if sku in offers:
                raise OfferMapError(f"{path} row {n}: {sku} appears twice; one offer per SKU")
            offers[sku] = (int(offer), spec)
    return offers


def signature(secret: str, path: str, params: dict[str, str]) -> str:
    pairs = sorted(f"{k}{v}" for k, v in params.items() if k != "_aop_signature")
    return hmac.new(secret.encode(), (path + "".join(pairs)).encode(), hashlib.sha1).hexdigest().upper()


class GatewayRefused(RuntimeError):
    """1688's gateway refused the call itself (signature, app key, token): no order can be placed until fixed."""


def call(
    http: httpx.Client, endpoint: Ali1688Endpoint, api: str, params: dict[str, object]
) -> httpx.Response:
    """One signed call; raises httpx.HTTPError when the gateway cannot be reached."""
    path = f"param2/1/{NAMESPACE}/{api}/{endpoint.app_key}"
    form = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
            for k, v in params.items()}  # fmt: skip
    form |= {"access_token": endpoint.access_token, "_aop_timestamp": str(int(time.time() * 1000))}
    form["_aop_signature"] = signature(endpoint.app_secret, path, form)
    response = http.post(f"{endpoint.gateway_url.rstrip('/')}/{path}", data=form)
    if response.status_code == 401:
        body = _json(response)
        raise GatewayRefused(
            f"1688 refused the call for {endpoint.supplier_id}: {body.get('error_code')} {body.get('error_message')} "
            "(check app_key, the app secret and the access token)"
        )
    return response


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def answer_from_view(endpoint: Ali1688Endpoint, order: PurchaseOrder, view: dict) -> dict:
    """1688's view of a placed order as the sender's confirmation: every SKU at the quantity 1688 holds."""
    accepted: dict[str, int] = {}
    for item in view.get("productItems", []):
        sku = endpoint.sku_of(item.get("productID"), item.get("specId"))
        if sku is not None:
            accepted[sku] = accepted.get(sku, 0) + int(item.get("quantity", 0))
    ordered = {line.sku: line.quantity for line in order.lines}
    lines = [{"sku": sku, "accepted_quantity": min(accepted.get(sku, 0), q)} for sku, q in ordered.items()]
    full = all(line["accepted_quantity"] == ordered[line["sku"]] for line in lines)
    order_id = view.get("baseInfo", {}).get("idOfStr") or view.get("baseInfo", {}).get("id")
    return {"status": "accepted" if full else "partial", "lines": lines, "promised_date": order.expected_date,
            "message": f"1688 order {order_id}"}  # fmt: skip


def ask(http: httpx.Client, endpoint: Ali1688Endpoint, order: PurchaseOrder) -> dict | None:
    """The order 1688 holds with the PO number as outOrderId, as a confirmation, or None."""
    response = call(
        http, endpoint, "alibaba.trade.get.buyerView", {"webSite": "1688", "outOrderId": order.po_number}
    )
    body = _json(response)
    if response.status_code != 200 or not body:
        raise httpx.HTTPStatusError(
            f"HTTP {response.status_code}", request=response.request, response=response
        )
    if not body.get("success"):
        if body.get("errorCode") == "ORDER_NOT_FOUND":
            return None
        raise httpx.HTTPStatusError(
            f"buyerView: {body.get('errorCode')} {body.get('errorMsg') or body.get('errorMessage')}",
            request=response.request, response=response,
        )  # fmt: skip
    return answer_from_view(endpoint, order, body.get("result", {}))


def place(
    http: httpx.Client, endpoint: Ali1688Endpoint, order: PurchaseOrder
) -> tuple[int, dict | None, str]:
    """Preview, then create. Returns (HTTP status, the confirmation or None when the outcome is unknown, what
    happened). A refusal of either call is a rejection (nothing placed); an error answer to create is unknown."""
    cargos = endpoint.cargos(order)
    address = {"addressId": endpoint.address_id}
    preview = call(http, endpoint, "alibaba.createOrder.preview",
                   {"addressParam": address, "cargoParamList": cargos, "flow": "general"})  # fmt: skip
    body = _json(preview)
    if preview.status_code != 200 or not body:
        return preview.status_code, None, f"preview: HTTP {preview.status_code}: {preview.text[:200]}"
    if not body.get("success"):
        reason = f"1688 preview refused: {body.get('errorCode')} {body.get('errorMsg')}"
        return 200, _rejected(order, reason), reason
    created = call(http, endpoint, "alibaba.trade.fastCreateOrder", {
        "flow": "general", "addressParam": address, "cargoParamList": cargos, "outOrderId": order.po_number,
        "message": f"{order.po_number} (shopkeep)",
    })  # fmt: skip
    body = _json(created)
    if created.status_code != 200 or not body:
        return created.status_code, None, f"fastCreateOrder: HTTP {created.status_code}: {created.text[:200]}"
    result = body.get("result") or {}
    if not body.get("success") or not result.get("orderId"):
        reason = f"1688 refused the order: {body.get('errorCode') or result.get('code')} " + str(
            body.get("errorMsg") or result.get("message") or ""
        )
        return 200, _rejected(order, reason), reason
    lines = [{"sku": line.sku, "accepted_quantity": line.quantity} for line in order.lines]
    message = f"1688 order {result['orderId']}"
    return (
        200,
        {"status": "accepted", "lines": lines, "promised_date": order.expected_date, "message": message},
        message,
    )


def _rejected(order: PurchaseOrder, reason: str) -> dict:
    return {"status": "rejected", "message": reason,
            "lines": [{"sku": line.sku, "accepted_quantity": 0} for line in order.lines]}  # fmt: skip
