"""A supplier's order system receiving shopkeep's purchase orders on its webhook (spec/channels.md, Suppliers).

- `POST /webhook/purchase-orders`: the order as JSON (`po_number`, `supplier_id`, `currency`, `expected_date`,
  `lines`: `sku`, `quantity`, `unit_price`), signed: `X-Shopkeep-Signature: sha256=<hex hmac_sha256(secret,
  raw body)>`, `X-Shopkeep-Timestamp` (Unix seconds, within 5 minutes of the supplier's clock) and
  `Idempotency-Key` equal to the PO number. A repeat of a key already received is not a second order: it gets the
  first answer again (`"repeat": true`). The answer is the supplier's confirmation: `status` accepted, partial
  or rejected, `lines` with `accepted_quantity`, `promised_date`.
- `GET /webhook/purchase-orders/{po_number}` (signed the same way over the empty body): the confirmation of an
  order it holds, or 404: how a sender asks whether an order arrived before it sends again.
- The same under `/suppliers/{supplier_id}/purchase-orders`: the demo's suppliers share one server, each at the
  webhook its product-master row gives.

How the supplier answers (`Policy`): it accepts every line in full, except that it can only make `short` of a
SKU (partial) and rejects an order with a SKU in `rejects`; it promises `lead_days` after the order.

Test-only (no auth): `GET /_sandbox/orders` lists what it holds; `POST /_sandbox/fail {"mode": ..., "times": n}`:
`before_accept` answers 503 without taking the order, `after_accept` takes it and answers 503 (the answer lost on
its way back).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.records import fault_endpoint

MAX_SKEW_SECONDS = 300


@dataclass
class Policy:
    lead_days: int = 7
    short: dict[str, int] = field(default_factory=dict)
    """SKU -> the most units the supplier can make."""
    rejects: set[str] = field(default_factory=set)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SupplierState:
    def __init__(self, secret: str, policy: Policy, now=None) -> None:
        self.secret = secret
        self.policy = policy
        self.now = now or (lambda: datetime.now(UTC))
        self.lock = threading.Lock()
        self.orders: dict[str, dict] = {}
        self.received: list[dict] = []
        """Every signed request that reached the webhook (method, po_number, repeat)."""
        self.faults: list[str] = []

    def answer(self, order: dict) -> dict:
        lines, rejected = [], False
        for line in order["lines"]:
            quantity = int(line["quantity"])
            if line["sku"] in self.policy.rejects:
                rejected = True
            accepted = min(quantity, self.policy.short.get(line["sku"], quantity))
            lines.append({"sku": line["sku"], "quantity": quantity, "accepted_quantity": accepted})
        if rejected:
            lines = [{**line, "accepted_quantity": 0} for line in lines]
            status = "rejected"
        elif all(line["accepted_quantity"] == line["quantity"] for line in lines):
            status = "accepted"
        else:
            status = "partial"
        promised = (self.now() + timedelta(days=self.policy.lead_days)).date().isoformat()
        return {"po_number": order["po_number"], "status": status, "lines": lines,
                "promised_date": None if rejected else promised,
                "message": "rejected: we no longer make " + ", ".join(sorted(self.policy.rejects & {
                    line["sku"] for line in order["lines"]})) if rejected else ""}  # fmt: skip


def create_app(secret: str = "supplier-sandbox-secret", policy: Policy | None = None, now=None) -> Starlette:
    state = SupplierState(secret, policy or Policy(), now)

    def _refused(request: Request, body: bytes) -> JSONResponse | None:
        stamp = request.headers.get("x-shopkeep-timestamp", "")
        try:
            skew = abs(state.now().timestamp() - int(stamp))
        except ValueError:
            return JSONResponse(
                {"error": "X-Shopkeep-Timestamp missing or not Unix seconds"}, status_code=401
            )
        if skew > MAX_SKEW_SECONDS:
            return JSONResponse({"error": f"X-Shopkeep-Timestamp is {skew:.0f} s off"}, status_code=401)
        given = request.headers.get("x-shopkeep-signature", "")
        if not hmac.compare_digest(given, signature(state.secret, body)):
            return JSONResponse({"error": "signature does not match the body"}, status_code=401)
        return None

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        refused = _refused(request, body)
        if refused is not None:
            return refused
        try:
            order = json.loads(body)
            po = order["po_number"]
            assert isinstance(order["lines"], list) and order["lines"]
        except (ValueError, KeyError, TypeError, AssertionError):
            return JSONResponse({"error": "the body is not a purchase order with lines"}, status_code=400)
        if request.headers.get("idempotency-key") != po:
            return JSONResponse({"error": "Idempotency-Key must be the PO number"}, status_code=400)
        with state.lock:
            fault = state.faults.pop(0) if state.faults else None
            if fault == "before_accept":
                return JSONResponse({"error": "injected failure"}, status_code=503)
            repeat = po in state.orders
            if not repeat:
                state.orders[po] = {"order": order, "answer": state.answer(order)}
            state.received.append({"method": "POST", "po_number": po, "repeat": repeat})
            answer = {**state.orders[po]["answer"], "repeat": repeat}
        if fault == "after_accept":
            return JSONResponse({"error": "injected failure after the order was taken"}, status_code=503)
        return JSONResponse(answer, status_code=200 if repeat else 201)

    async def lookup(request: Request) -> JSONResponse:
        refused = _refused(request, b"")
        if refused is not None:
            return refused
        po = request.path_params["po_number"]
        with state.lock:
            state.received.append({"method": "GET", "po_number": po, "repeat": False})
            held = state.orders.get(po)
        if held is None:
            return JSONResponse({"error": f"no order {po}"}, status_code=404)
        return JSONResponse({**held["answer"], "repeat": True})

    async def list_orders(request: Request) -> JSONResponse:
        with state.lock:
            return JSONResponse({"orders": [held["order"] for held in state.orders.values()],
                                 "requests": list(state.received)})  # fmt: skip

    app = Starlette(
        routes=[
            Route("/webhook/purchase-orders", receive, methods=["POST"]),
            Route("/webhook/purchase-orders/{po_number}", lookup, methods=["GET"]),
            # the demo's suppliers share one server, each at the webhook the product master gives it
            Route("/suppliers/{supplier_id}/purchase-orders", receive, methods=["POST"]),
            Route("/suppliers/{supplier_id}/purchase-orders/{po_number}", lookup, methods=["GET"]),
            Route("/_sandbox/orders", list_orders, methods=["GET"]),
            Route("/_sandbox/fail", fault_endpoint(state), methods=["POST"]),
        ]
    )
    app.state.sandbox = state
    return app
