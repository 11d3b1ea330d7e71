"""Sending an approved purchase order to its supplier exactly once (spec/channels.md, Suppliers).

The order goes as a signed JSON `POST` to the supplier's webhook with the PO number as `Idempotency-Key`. Every
attempt is a row of the send ledger (`purchase_order_sends`), written before the request (`pending`) and after
it (`delivered`, `already_there`, `failed` with the HTTP status and the supplier's words).

Exactly once: an order with any earlier attempt (a run killed after the supplier took the order and before the
ledger said so leaves a `pending` row; a lost answer leaves a `failed` one) is never sent blind: the sender first
asks the supplier (`GET .../{po_number}`) whether it holds the order, and if it does takes the supplier's
confirmation from there instead of sending again. The supplier also ignores a repeat of a key it has seen, so
two senders racing each other still make one order; the second finds the order moved on and records nothing.

What the supplier answers is recorded through the order's commands (orders.py): `mark_sent`, then `confirm` with
the accepted quantities and promised date, or `cancel` with the supplier's reason when it rejects the order.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from writeback.ops_store import connect
from writeback.purchasing import ali1688, orders
from writeback.purchasing.ali1688 import Ali1688Endpoint
from writeback.purchasing.orders import IllegalTransition, PurchaseOrder

SENDER = "shopkeep sender"


@dataclass(frozen=True)
class SupplierEndpoint:
    supplier_id: str
    webhook_url: str
    """The supplier's purchase-order webhook, e.g. https://supplier.example/webhook/purchase-orders."""
    secret: str
    """The shared secret the requests are signed with (from the environment, never the config file)."""


@dataclass(frozen=True)
class SendResult:
    po_number: str
    outcome: Literal["delivered", "already_there", "failed", "skipped"]
    state: str
    """The order's state afterwards."""
    message: str


def _now(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def body(order: PurchaseOrder) -> bytes:
    """The order as the supplier receives it (the bytes that are signed)."""
    return json.dumps(
        {
            "po_number": order.po_number, "supplier_id": order.supplier_id, "currency": order.currency,
            "expected_date": order.expected_date,
            "lines": [{"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price} for line in order.lines],
        },
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    ).encode()  # fmt: skip


def signed_headers(secret: str, payload: bytes, po_number: str, now: float | None = None) -> dict[str, str]:
    import hashlib
    import hmac

    return {
        "Content-Type": "application/json",
        "X-Shopkeep-Timestamp": str(int(now if now is not None else time.time())),
        "X-Shopkeep-Signature": "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest(),
        "Idempotency-Key": po_number,
    }


def attempts(path: Path | str, po_number: str) -> list[dict[str, Any]]:
    """Every attempt at sending the order, oldest first (the send ledger)."""
    if not Path(path).exists():
        return []
    with connect(path) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(
            "select * from purchase_order_sends where po_number = ? order by attempt_id", (po_number,))]  # fmt: skip


def _start(path: Path | str, po_number: str, channel: str) -> int:
    with connect(path) as con:
        cursor = con.execute(
            "insert into purchase_order_sends (po_number, channel, started_at, outcome) values (?, ?, ?, 'pending')",
            (po_number, channel, _now()),
        )
        return int(cursor.lastrowid)


def _finish(path: Path | str, attempt: int, outcome: str, status: int | None, message: str) -> None:
    with connect(path) as con:
        con.execute(
            "update purchase_order_sends set outcome = ?, http_status = ?, message = ?, finished_at = ? "
            "where attempt_id = ?",
            (outcome, status, message[:500] or None, _now(), attempt),
        )


class SupplierUnreachable(RuntimeError):
    """The supplier could not be asked whether it holds an order: nothing is sent blind."""


def _ask(http: httpx.Client, endpoint: SupplierEndpoint, po_number: str) -> dict | None:
    url = f"{endpoint.webhook_url.rstrip('/')}/{po_number}"
    try:
        response = http.get(url, headers=signed_headers(endpoint.secret, b"", po_number))
    except httpx.HTTPError as exc:
        raise SupplierUnreachable(
            f"could not ask {endpoint.supplier_id} whether it holds {po_number}: {exc}"
        ) from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise SupplierUnreachable(
            f"{endpoint.supplier_id} answered HTTP {response.status_code} when asked whether it holds {po_number}: "
            f"{response.text[:200]}"
        )
    return response.json()


def _record(path: Path | str, order: PurchaseOrder, answer: dict, by: str, channel: str) -> PurchaseOrder:
    """The supplier's answer through the order's commands."""
    po = order.po_number
    if answer.get("status") == "rejected" and channel == "1688":  # 1688 refused it: nothing was placed
        return orders.cancel(
            path, po, f"rejected by {order.supplier_id}: {answer.get('message') or 'no reason'}", by
        )
    if order.state == "approved":
        order = orders.mark_sent(path, po, by, channel=channel)
    if answer.get("status") == "rejected":
        return orders.cancel(
            path, po, f"rejected by {order.supplier_id}: {answer.get('message') or 'no reason'}", by
        )
    accepted = {line["sku"]: int(line["accepted_quantity"]) for line in answer.get("lines", [])}
    promised = date.fromisoformat(answer["promised_date"]) if answer.get("promised_date") else None
    return orders.confirm(path, po, accepted, promised, by)


Endpoint = SupplierEndpoint | Ali1688Endpoint


def _channel(endpoint: Endpoint) -> str:
    return "1688" if isinstance(endpoint, Ali1688Endpoint) else "webhook"


def _ask_held(http: httpx.Client, endpoint: Endpoint, order: PurchaseOrder) -> dict | None:
    """Whether the supplier holds the order (its confirmation), asked through its channel."""
    if isinstance(endpoint, SupplierEndpoint):
        return _ask(http, endpoint, order.po_number)
    try:
        return ali1688.ask(http, endpoint, order)
    except (httpx.HTTPError, ali1688.GatewayRefused) as exc:
        raise SupplierUnreachable(
            f"could not ask 1688 whether {endpoint.supplier_id} holds {order.po_number}: {exc}"
        ) from exc


def _place(
    http: httpx.Client, endpoint: Endpoint, order: PurchaseOrder
) -> tuple[str, int | None, dict | None, str]:
    """Send the order through the supplier's channel: (ledger outcome, HTTP status, the supplier's confirmation
    or None when nothing is known, what happened)."""
    if isinstance(endpoint, Ali1688Endpoint):
        try:
            status, answer, message = ali1688.place(http, endpoint, order)
        except ali1688.GatewayRefused as exc:
            return "failed", 401, None, str(exc)
        except httpx.HTTPError as exc:
            return "failed", None, None, f"could not reach 1688 for {endpoint.supplier_id}: {exc}"
        if answer is None:
            return "failed", status, None, message
        return ("failed" if answer["status"] == "rejected" else "delivered"), status, answer, message
    payload = body(order)
    try:
        response = http.post(
            endpoint.webhook_url,
            content=payload,
            headers=signed_headers(endpoint.secret, payload, order.po_number),
        )
    except httpx.HTTPError as exc:
        return "failed", None, None, f"could not reach {endpoint.supplier_id}: {exc}"
    if response.status_code not in (200, 201):
        return "failed", response.status_code, None, f"HTTP {response.status_code}: {response.text[:300]}"
    answer = response.json()
    return "delivered", response.status_code, answer, f"the supplier answered {answer.get('status')}"


def send(
    path: Path | str, po_number: str, endpoint: Endpoint, *, http: httpx.Client | None = None,
    by: str = SENDER,
) -> SendResult:  # fmt: skip
    """Send one approved order (or record the confirmation of one the supplier already holds)."""
    order = orders.get(path, po_number)
    if order.supplier_id != endpoint.supplier_id:
        raise ValueError(f"{po_number} is to {order.supplier_id}, not {endpoint.supplier_id}")
    if order.state not in ("approved", "sent"):
        return SendResult(po_number, "skipped", order.state, f"{po_number} is {order.state}: nothing to send")
    if isinstance(endpoint, Ali1688Endpoint):
        try:
            endpoint.cargos(order)
        except ali1688.OfferMapError as exc:  # nothing can go out until the map names every SKU
            return SendResult(po_number, "failed", order.state, str(exc))
    channel = _channel(endpoint)
    client = http or httpx.Client(timeout=30)
    try:
        if order.state == "sent" or attempts(path, po_number):
            try:
                held = _ask_held(client, endpoint, order)
            except SupplierUnreachable as exc:  # this order waits; the other suppliers' orders still go
                return SendResult(po_number, "failed", order.state, f"{exc}; not sent again until it answers")
            if held is not None:
                attempt = _start(path, po_number, channel)
                _finish(path, attempt, "already_there", 200,
                        f"the supplier held it already: {held.get('status')} {held.get('message') or ''}".strip())  # fmt: skip
                return _settled(path, order, held, by, "already_there", channel)
            if order.state == "sent":
                return SendResult(po_number, "failed", order.state,
                                  f"{po_number} is recorded as sent but {endpoint.supplier_id} does not hold it")  # fmt: skip
        attempt = _start(path, po_number, channel)
        outcome, status, answer, message = _place(client, endpoint, order)
        _finish(path, attempt, outcome, status, message)
        if answer is None:
            return SendResult(po_number, "failed", order.state, message)
        return _settled(path, order, answer, by, "delivered" if outcome == "delivered" else "failed", channel)
    finally:
        if http is None:
            client.close()


def _settled(
    path: Path | str, order: PurchaseOrder, answer: dict, by: str, outcome: str, channel: str
) -> SendResult:
    try:
        after = _record(path, order, answer, by, channel)
    except IllegalTransition as exc:  # another sender recorded it meanwhile
        now = orders.get(path, order.po_number)
        return SendResult(order.po_number, outcome, now.state, f"recorded by another sender ({exc})")
    said = f"the supplier answered {answer.get('status')}"
    return SendResult(
        order.po_number,
        outcome,
        after.state,
        f"{said}: {answer['message']}" if answer.get("message") else said,
    )
