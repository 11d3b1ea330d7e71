"""A local Shopify Admin REST server over one shop's slice of the simulated world.

It speaks what a connector meets on a real store (see /work/shared/spec/channels.md, Shopify): the
`X-Shopify-Access-Token` header, cursor pagination through the `Link` header (a `page_info` follow-up may only
carry `limit` and `fields`), a leaky-bucket rate limit per token with `X-Shopify-Shop-Api-Call-Limit` and 429 +
`Retry-After`, money as decimal strings and timestamps with the shop's UTC offset.

The server has a clock: an order is visible once it was created, and it is shown as it stood at the clock
(payment, fulfillment, refunds made so far; `updated_at` = its latest event up to the clock). Tests move the
clock with `POST /_sandbox/clock` and read the request log from `GET /_sandbox/requests`.

Shopify Payments (`shopify_payments/payouts.json`, `shopify_payments/balance/transactions.json`) is the
store's ledger built from the world's settlement lines of the shop (`bill_lines`, with the simulator's injected
discrepancies): an order's income line is a `charge` whose `fee` is the order's fee lines, a refund line a
`refund`, booked during the day of the line's settled date (the world settles an order its shop's settlement lag
after completion; a real store books the charge at payment — the world's timing is kept so the ledger is the
world's truth). Every local day's transactions go into one payout, created at the end of the day (`scheduled`),
issued two days after the day (`date`, `in_transit`) and `paid` the day after; the payout itself is a `payout`
balance transaction. Lists are newest first with `Link` cursors, ids grow with time (`since_id`/`last_id`
filter on them). `create_app(..., payments=False)` is a store without Shopify Payments: both endpoints answer
404 as Shopify does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.buyers import buyer_routes
from sandbox.faults import FaultConfig, Faults
from sandbox.records import (
    Clocked,
    OrderIndex,
    Timeline,
    decimal_money,
    lines_by_order,
    listed_stock,
    money,
    optional_text,
    records,
    utc_moment,
)
from sandbox.world import World

DEFAULT_TOKEN = "shpat_sandbox_0123456789abcdef"
"""Access token the demo sandbox accepts (the demo puts it in SHOPIFY_GLOBAL_TOKEN)."""

DEFAULT_LOCATION_ID = 1001
MAX_LIMIT = 250
DEFAULT_LIMIT = 50

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
)
PAGE_INFO_COMBINED = (
    "Invalid value. page_info cannot be combined with other filter parameters, only with limit and fields."
)

ORDER_FILTERS = ("status", "updated_at_min", "updated_at_max", "created_at_min", "created_at_max", "ids")


class ApiError(Exception):
    """An error answered in Shopify's JSON error shape."""

    def __init__(self, status: int, errors: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.errors = errors
        self.headers = headers or {}


# ---------------------------------------------------------------------------------------------------------- #
# small conversions


def shopify_id(value: Any) -> int:
    """Shopify ids are integers: a numeric world id is kept, any other id maps to a stable 12-digit int."""
    text = str(value)
    if text.isdigit() and len(text) < 18:
        return int(text)
    return 10**12 + int.from_bytes(hashlib.blake2b(text.encode(), digest_size=6).digest()) % (9 * 10**12)


def parse_time(value: str, name: str) -> datetime:
    """An ISO-8601 query parameter (a naive one is read as UTC); 400 when it is not a time."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiError(400, {name: ["is not a valid ISO-8601 time"]}) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """(first_name, last_name): 'Ada Lovelace' -> ('Ada', 'Lovelace'); '张伟' -> ('伟', '张')."""
    if not name:
        return None, None
    name = name.strip()
    if " " in name:
        first, last = name.split(" ", 1)
        return first, last
    return (name[1:] or None), name[:1]


# ---------------------------------------------------------------------------------------------------------- #
# the shop's data


@dataclass
class _Refund:
    id: int
    created_at: datetime
    note: str | None
    lines: list[dict]  # world refund rows of this refund

    @property
    def amount(self) -> Decimal:
        return sum((decimal_money(r["amount"]) for r in self.lines), Decimal("0.00"))


@dataclass(kw_only=True)
class _Order(Timeline):
    """An order and its refunds: a refund changes the order (its `updated_at`)."""

    id: int
    refunds: list[_Refund]


def _load_orders(world: World, shop_id: str) -> list[_Order]:
    lines = lines_by_order(world, shop_id)
    refund_rows: dict[str, dict[str, list[dict]]] = {}
    for refund in records(world, "refunds", shop_id):
        # Shopify only records a refund once the money went back; rejected or pending ones never show.
        if str(refund.get("status", "success")) != "success" or utc_moment(refund["created_at"]) is None:
            continue
        refund_rows.setdefault(str(refund["order_id"]), {}).setdefault(str(refund["refund_id"]), []).append(
            refund
        )
    orders = []
    for row in records(world, "orders", shop_id):
        order_id = str(row["order_id"])
        refunds = [
            _Refund(
                id=shopify_id(refund_id),
                created_at=utc_moment(rows[0]["created_at"]),
                note=optional_text(rows[0].get("reason_text")),
                lines=rows,
            )
            for refund_id, rows in refund_rows.get(order_id, {}).items()
        ]
        refunds.sort(key=lambda r: (r.created_at, r.id))
        orders.append(
            _Order.of(
                row,
                lines.get(order_id, []),
                changes=[r.created_at for r in refunds],
                id=shopify_id(order_id),
                refunds=refunds,
            )
        )
    return orders


# ---------------------------------------------------------------------------------------------------------- #
# cursor pagination


def encode_page_info(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_page_info(token: str) -> dict:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(payload, dict) or not isinstance(payload.get("f"), dict):
            raise ValueError
        return payload
    except (ValueError, TypeError):
        raise ApiError(400, {"page_info": ["Invalid value."]}) from None


@dataclass
class Page:
    items: list[Any]
    next_key: list | None
    previous_key: list | None


def paginate(
    keys: Sequence[tuple], items: Sequence[Any], limit: int, after: list | None, before: list | None
) -> Page:
    """One page of `items` (sorted by `keys`) after or before a cursor key."""
    if before is not None:
        end = bisect_left(keys, tuple(before))
        start = max(0, end - limit)
    else:
        start = bisect_right(keys, tuple(after)) if after is not None else 0
        end = min(len(items), start + limit)
    return Page(
        items=list(items[start:end]),
        next_key=list(keys[end - 1]) if end < len(items) and end > start else None,
        previous_key=list(keys[start]) if start > 0 and end > start else None,
    )


# ---------------------------------------------------------------------------------------------------------- #
# the server


class ShopifySandbox(Clocked):
    """State of one sandbox store: data, clock, inventory levels, rate-limit bucket, request log."""

    def __init__(
        self,
        world: World,
        shop_id: str,
        token: str,
        api_version: str,
        bucket_size: int,
        leak_per_second: float,
        now: datetime | None,
        location_id: int,
        payments: bool = True,
    ) -> None:
        self.shop_id = shop_id
        self.token = token
        self.api_version = api_version
        self.bucket_size = bucket_size
        self.leak_per_second = leak_per_second
        self.now = utc_moment(now)
        self.location_id = int(location_id)
        shop = next((s for s in records(world, "shops", None) if s["shop_id"] == shop_id), {})
        self.tz = ZoneInfo(str(shop.get("timezone") or "Asia/Shanghai"))
        self.currency = str(shop.get("currency") or "USD")
        self.orders = _load_orders(world, shop_id)
        self.index = OrderIndex(self.orders, lambda o, now: (int(o.updated_at(now).timestamp()), o.id))
        self._rendered: dict[tuple[int, datetime], dict] = {}
        self.products = self._load_products(world)
        self.levels: dict[tuple[int, int], dict] = self._initial_levels(world)
        self.payments_enabled = payments
        self.ledger = _load_ledger(world, shop_id, self.tz, self.currency)
        self.bucket: dict[str, tuple[float, float]] = {}  # token -> (level, monotonic time)
        self.log: list[dict] = []
        self.failures: list[int] = []  # statuses to answer the next API calls with (fault injection)

    # -- clock and indexes ------------------------------------------------------------------------------- #

    def visible_orders(self) -> tuple[list[tuple], list[_Order]]:
        """Orders created by the clock, sorted by (updated_at as of the clock, id)."""
        return self.index.at(self.clock())

    # -- rendering ----------------------------------------------------------------------------------------- #

    def iso(self, moment: datetime | None) -> str | None:
        return moment.astimezone(self.tz).isoformat() if moment is not None else None

    def render_order(self, order: _Order, now: datetime) -> dict:
        """The order's JSON as it stood at `now` (fully determined by its latest event up to `now`)."""
        key = (order.id, order.updated_at(now))
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = self._render_order(order, now)
        return rendered

    def _render_order(self, order: _Order, now: datetime) -> dict:
        row = order.row
        paid_at, cancelled_at = order.at("paid_at", now), order.at("cancelled_at", now)
        shipped_at, completed_at = order.at("shipped_at", now), order.at("completed_at", now)
        refunds = [r for r in order.refunds if r.created_at <= now]
        total = decimal_money(row.get("paid_amount"))
        refunded = sum((r.amount for r in refunds), Decimal("0.00"))
        if paid_at is None:
            financial = "voided" if cancelled_at is not None else "pending"
        elif refunded > 0:
            financial = "refunded" if refunded >= total else "partially_refunded"
        else:
            financial = "voided" if cancelled_at is not None else "paid"
        discounts = decimal_money(row.get("merchant_discount")) + decimal_money(row.get("platform_discount"))
        list_amount = decimal_money(row.get("list_amount"))
        first, last = split_name(optional_text(row.get("buyer_name")))
        email, phone = optional_text(row.get("buyer_email")), optional_text(row.get("buyer_phone"))
        number = optional_text(row.get("order_number")) or f"#{order.id}"
        digits = "".join(ch for ch in number if ch.isdigit())
        return {
            "id": order.id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order.id}",
            "name": number,
            "order_number": int(digits) if digits else order.id,
            "email": email,
            "phone": phone,
            "created_at": self.iso(order.created_at),
            "updated_at": self.iso(order.updated_at(now)),
            "processed_at": self.iso(order.created_at),
            "cancelled_at": self.iso(cancelled_at),
            "closed_at": self.iso(completed_at),
            "cancel_reason": "customer" if cancelled_at is not None else None,
            "financial_status": financial,
            "fulfillment_status": "fulfilled" if shipped_at is not None else None,
            "currency": optional_text(row.get("currency")) or self.currency,
            "total_price": money(total),
            "subtotal_price": money(list_amount - discounts),
            "total_discounts": money(discounts),
            "total_line_items_price": money(list_amount),
            "total_tax": "0.00",
            "taxes_included": False,
            "note": optional_text(row.get("buyer_remark")) or None,
            "tags": optional_text(row.get("promo_id")) or "",
            "shipping_lines": [{"title": "Standard Shipping", "price": money(row.get("shipping_fee"))}],
            "customer": {
                "id": shopify_id(row.get("buyer_id")),
                "email": email,
                "first_name": first,
                "last_name": last,
                "phone": phone,
            },
            "shipping_address": {
                "first_name": first,
                "last_name": last,
                "address1": optional_text(row.get("address_detail")),
                "address2": optional_text(row.get("district")),
                "city": optional_text(row.get("city")),
                "province": optional_text(row.get("province")),
                "country": "China" if self.tz.key == "Asia/Shanghai" else None,
                "zip": str(100000 + shopify_id(row.get("address_detail")) % 800000),
                "phone": phone,
            },
            "line_items": [self.render_line(line) for line in order.lines],
            "refunds": [self.render_refund(order, refund) for refund in refunds],
            "fulfillments": (
                [{"id": shopify_id(f"F-{order.id}"), "created_at": self.iso(shipped_at), "status": "success"}]
                if shipped_at is not None
                else []
            ),
        }

    @staticmethod
    def render_line(line: dict) -> dict:
        return {
            "id": shopify_id(line["line_id"]),
            "variant_id": shopify_id(line.get("platform_sku_id")),
            "product_id": shopify_id(line.get("platform_product_id")),
            "sku": optional_text(line.get("outer_id")),
            "title": optional_text(line.get("title")),
            "quantity": int(line["quantity"]),
            "price": money(line.get("unit_list_price")),
            "total_discount": money(
                decimal_money(line.get("merchant_discount")) + decimal_money(line.get("platform_discount"))
            ),
        }

    def render_refund(self, order: _Order, refund: _Refund) -> dict:
        return {
            "id": refund.id,
            "order_id": order.id,
            "created_at": self.iso(refund.created_at),
            "note": refund.note,
            "refund_line_items": [
                {
                    "id": shopify_id(f"{refund.id}:{row['line_id']}"),
                    "line_item_id": shopify_id(row["line_id"]),
                    "quantity": int(row["quantity"]),
                    "subtotal": money(row["amount"]),
                    "restock_type": "return" if bool(row.get("restocked")) else "no_restock",
                }
                for row in refund.lines
            ],
            "transactions": [{"amount": money(refund.amount), "kind": "refund", "status": "success"}],
        }

    # -- products and stock -------------------------------------------------------------------------------- #

    def _load_products(self, world: World) -> list[dict]:
        products: dict[int, dict] = {}
        sizes = {str(p["sku"]): optional_text(p.get("size")) for p in records(world, "products", None)}
        for listing in records(world, "listings", self.shop_id):
            product_id = shopify_id(listing["platform_product_id"])
            variant_id = shopify_id(listing["platform_sku_id"])
            item = listing.get("inventory_item_id")
            product = products.setdefault(
                product_id,
                {
                    "id": product_id,
                    "title": optional_text(listing.get("title")),
                    "status": "active",
                    "vendor": "shopkeep",
                    "variants": [],
                },
            )
            product["variants"].append(
                {
                    "id": variant_id,
                    "product_id": product_id,
                    "title": sizes.get(str(listing.get("sku"))) or "Default Title",
                    "sku": optional_text(listing.get("outer_id")),
                    "price": money(listing.get("price")),
                    "inventory_item_id": shopify_id(item)
                    if optional_text(item)
                    else shopify_id(f"item:{variant_id}"),
                    "_master_sku": str(listing.get("sku")),
                }
            )
        return [products[k] for k in sorted(products)]

    def _level(self, sku_id: str) -> dict | None:
        """The inventory level of an inventory item id (its first location: buyers order from it)."""
        if not sku_id.isdigit():
            return None
        return next((self.levels[key] for key in sorted(self.levels) if key[0] == int(sku_id)), None)

    def listed(self, sku_id: str) -> int | None:
        """Available units of an inventory item id (sandbox/buyers.py)."""
        level = self._level(sku_id)
        return None if level is None else level["available"]

    def set_listed(self, sku_id: str, quantity: int) -> None:
        self._level(sku_id)["available"] = quantity

    def _initial_levels(self, world: World) -> dict[tuple[int, int], dict]:
        """Listed stock per variant = total on_hand of its SKU on the latest snapshot day (kits: buildable)."""
        units = listed_stock(world)
        stamp = self.iso(self.clock())
        levels = {}
        for product in self.products:
            for variant in product["variants"]:
                levels[(variant["inventory_item_id"], self.location_id)] = {
                    "inventory_item_id": variant["inventory_item_id"],
                    "location_id": self.location_id,
                    "available": units(variant.pop("_master_sku")),
                    "updated_at": stamp,
                }
        return levels

    # -- rate limit ---------------------------------------------------------------------------------------- #

    def take_call(self, token: str) -> str:
        """Count one call in the token's leaky bucket; 429 when it is full. Returns the call-limit header."""
        level, then = self.bucket.get(token, (0.0, time.monotonic()))
        now = time.monotonic()
        level = max(0.0, level - (now - then) * self.leak_per_second)
        if level + 1 > self.bucket_size:
            wait = max(0.1, (level + 1 - self.bucket_size) / self.leak_per_second)
            self.bucket[token] = (level, now)
            raise ApiError(
                429,
                THROTTLED,
                {
                    "Retry-After": f"{math.ceil(wait * 10) / 10:.1f}",
                    "X-Shopify-Shop-Api-Call-Limit": f"{self.bucket_size}/{self.bucket_size}",
                },
            )
        level += 1
        self.bucket[token] = (level, now)
        return f"{math.ceil(level)}/{self.bucket_size}"


# ---------------------------------------------------------------------------------------------------------- #
# Shopify Payments: balance transactions and payouts from the world's settlement lines

FEE_TYPES = ("commission", "service_fee", "affiliate_commission")
PAYOUT_STATUSES = ("scheduled", "in_transit", "paid", "failed", "canceled")
TRANSACTION_BASE_ID = 30_000_000_000
PAYOUT_BASE_ID = 700_000_000


@dataclass
class _Payout:
    id: int
    day: date  # local day whose transactions it pays out
    created_at: datetime  # end of that day: scheduled
    issued_at: datetime  # start of `date`: in transit
    paid_at: datetime  # a day later: in the bank
    currency: str
    transactions: list[_Transaction] = field(default_factory=list)

    @property
    def date(self) -> date:
        return self.day + timedelta(days=2)

    def status(self, now: datetime) -> str:
        return "paid" if now >= self.paid_at else "in_transit" if now >= self.issued_at else "scheduled"


@dataclass
class _Transaction:
    id: int
    type: str  # charge | refund | adjustment | payout
    processed_at: datetime
    amount: Decimal
    fee: Decimal
    source_id: int
    source_type: str
    source_order_id: int | None
    source_order_transaction_id: int | None
    payout: _Payout | None = None

    @property
    def net(self) -> Decimal:
        return self.amount - self.fee


@dataclass
class _Ledger:
    transactions: list[_Transaction]  # by processed_at, then id (ids grow with processed_at)
    payouts: list[_Payout]  # by day


def _booked_at(bill_line_id: str, day: date, tz: ZoneInfo) -> datetime:
    """A stable moment during the local day (08:00–20:00) for one settlement line."""
    seconds = 8 * 3600 + int(hashlib.md5(bill_line_id.encode()).hexdigest(), 16) % (12 * 3600)
    return (datetime.combine(day, datetime.min.time(), tz) + timedelta(seconds=seconds)).astimezone(UTC)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)


def _ledger_entries(lines: list[dict], tz: ZoneInfo) -> list[tuple]:
    """(processed_at, key, type, amount, fee, source_kind, order_id, line_id) for one order's lines of one day:
    each income line a charge carrying one fee line (the first charge takes any fee lines left over), each
    refund line a refund, anything else (a subsidy) an adjustment."""
    by_type: dict[str, list[dict]] = {}
    for line in sorted(lines, key=lambda r: str(r["bill_line_id"])):
        kind = "fee" if line["type"] in FEE_TYPES else str(line["type"])
        by_type.setdefault(kind, []).append(line)
    incomes, fees = by_type.pop("income", []), by_type.pop("fee", [])
    entries = []
    for n, income in enumerate(incomes):
        charged = [fees[n]] if n < len(fees) else []
        if n == 0:
            charged += fees[len(incomes) :]
        fee = -sum((decimal_money(f["amount"]) for f in charged), Decimal("0.00"))
        entries.append(("charge", income, decimal_money(income["amount"]), fee))
    if not incomes:  # fees without a charge (never made by the simulator): an adjustment
        entries += [("adjustment", f, decimal_money(f["amount"]), Decimal("0.00")) for f in fees]
    for kind, rows in by_type.items():
        kind = "refund" if kind == "refund" else "adjustment"
        entries += [(kind, row, decimal_money(row["amount"]), Decimal("0.00")) for row in rows]
    result = []
    for kind, row, amount, fee in entries:
        line_id = str(row["bill_line_id"])
        settled = row["settled_date"]
        day = settled if isinstance(settled, date) else pd.Timestamp(settled).date()
        moment = _booked_at(line_id, day, tz)
        result.append((moment, line_id, kind, amount, fee, str(row["order_id"]), day))
    return result


def _load_ledger(world: World, shop_id: str, tz: ZoneInfo, currency: str) -> _Ledger:
    groups: dict[tuple[str, Any], list[dict]] = {}
    for line in records(world, "bill_lines", shop_id):
        groups.setdefault((str(line["order_id"]), line["settled_date"]), []).append(line)
    entries = sorted(e for lines in groups.values() for e in _ledger_entries(lines, tz))
    payouts: dict[date, _Payout] = {}
    for _, _, _, _, _, _, day in entries:
        if day not in payouts:
            payouts[day] = _Payout(
                id=PAYOUT_BASE_ID + day.toordinal(),
                day=day,
                created_at=_local_midnight(day + timedelta(days=1), tz),
                issued_at=_local_midnight(day + timedelta(days=2), tz),
                paid_at=_local_midnight(day + timedelta(days=3), tz),
                currency=currency,
            )
    # the payouts' own ledger entries come at the end of their day, after that day's charges and refunds
    timeline = [(e[0], 0, e) for e in entries] + [(p.created_at, 1, p) for p in payouts.values()]
    timeline.sort(key=lambda item: (item[0], item[1], item[2][1] if item[1] == 0 else item[2].id))
    transactions = []
    for n, (moment, is_payout, item) in enumerate(timeline):
        txn_id = TRANSACTION_BASE_ID + n
        if is_payout:
            payout = item
            net = sum((t.net for t in payout.transactions), Decimal("0.00"))
            transactions.append(
                _Transaction(
                    txn_id, "payout", moment, -net, Decimal("0.00"), payout.id, "payout", None, None, payout
                )
            )
            continue
        _, line_id, kind, amount, fee, order_id, day = item
        txn = _Transaction(
            id=txn_id,
            type=kind,
            processed_at=moment,
            amount=amount,
            fee=fee,
            source_id=shopify_id(f"{kind}:{line_id}"),
            source_type=kind,
            source_order_id=shopify_id(order_id),
            source_order_transaction_id=None if kind == "adjustment" else shopify_id(f"txn:{line_id}"),
            payout=payouts[day],
        )
        payouts[day].transactions.append(txn)
        transactions.append(txn)
    return _Ledger(transactions=transactions, payouts=[payouts[d] for d in sorted(payouts)])


def _payout_at(txn: _Transaction, now: datetime) -> _Payout | None:
    return txn.payout if txn.payout is not None and txn.payout.created_at <= now else None


def render_transaction(txn: _Transaction, now: datetime) -> dict:
    """A balance transaction as it stands at `now`: in no payout (`pending`) until its payout is created."""
    payout = _payout_at(txn, now)
    return {
        "id": txn.id,
        "type": txn.type,
        "test": False,
        "payout_id": payout.id if payout else None,
        "payout_status": payout.status(now) if payout else "pending",
        "currency": txn.payout.currency if txn.payout else None,
        "amount": money(txn.amount),
        "fee": money(txn.fee),
        "net": money(txn.net),
        "source_id": txn.source_id,
        "source_type": txn.source_type,
        "source_order_id": txn.source_order_id,
        "source_order_transaction_id": txn.source_order_transaction_id,
        "processed_at": txn.processed_at.isoformat().replace("+00:00", "Z"),
    }


def render_payout(payout: _Payout, now: datetime) -> dict:
    def total(kind: str, what: str) -> str:
        return money(sum((getattr(t, what) for t in payout.transactions if t.type == kind), Decimal("0.00")))

    return {
        "id": payout.id,
        "status": payout.status(now),
        "date": payout.date.isoformat(),
        "currency": payout.currency,
        "amount": money(sum((t.net for t in payout.transactions), Decimal("0.00"))),
        "summary": {
            "adjustments_fee_amount": total("adjustment", "fee"),
            "adjustments_gross_amount": total("adjustment", "amount"),
            "charges_fee_amount": total("charge", "fee"),
            "charges_gross_amount": total("charge", "amount"),
            "refunds_fee_amount": total("refund", "fee"),
            "refunds_gross_amount": total("refund", "amount"),
            "reserved_funds_fee_amount": "0.00",
            "reserved_funds_gross_amount": "0.00",
            "retried_payouts_fee_amount": "0.00",
            "retried_payouts_gross_amount": "0.00",
        },
    }


# ---------------------------------------------------------------------------------------------------------- #
# request handling


def _limit(params: dict[str, str]) -> int:
    raw = params.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, {"limit": ["is not a number"]}) from None
    if limit > MAX_LIMIT:
        raise ApiError(400, {"limit": [f"must be less than or equal to {MAX_LIMIT}"]})
    if limit < 1:
        raise ApiError(400, {"limit": ["must be greater than or equal to 1"]})
    return limit


def _cursor(params: dict[str, str], filter_names: Sequence[str]) -> tuple[dict, list | None, list | None]:
    """(filters, after, before) from either the first request's filters or a page_info token."""
    token = params.get("page_info")
    if token is None:
        return {k: params[k] for k in filter_names if k in params}, None, None
    extra = sorted(set(params) - {"page_info", "limit", "fields"})
    if extra:
        raise ApiError(400, {"page_info": [PAGE_INFO_COMBINED]})
    payload = decode_page_info(token)
    return payload["f"], payload.get("a"), payload.get("b")


def _fields(params: dict[str, str], items: list[dict]) -> list[dict]:
    wanted = [f.strip() for f in params.get("fields", "").split(",") if f.strip()]
    return [{k: v for k, v in item.items() if k in wanted} for item in items] if wanted else items


def _link(request: Request, resource: str, limit: int, filters: dict, page: Page) -> str | None:
    base = f"{str(request.base_url).rstrip('/')}{request.url.path}"
    parts = []
    for rel, key, direction in (("previous", page.previous_key, "b"), ("next", page.next_key, "a")):
        if key is not None:
            token = encode_page_info({"f": filters, direction: key, "r": resource})
            parts.append(f'<{base}?{urlencode({"limit": limit, "page_info": token})}>; rel="{rel}"')
    return ", ".join(parts) or None


def _order_matches(sandbox: ShopifySandbox, order: _Order, filters: dict, now: datetime) -> bool:
    status = filters.get("status", "open")
    if status != "any":
        cancelled = order.at("cancelled_at", now) is not None
        closed = order.at("completed_at", now) is not None
        if status == "open" and (cancelled or closed):
            return False
        if status == "closed" and not closed:
            return False
        if status == "cancelled" and not cancelled:
            return False
    if "created_at_min" in filters and order.created_at < parse_time(
        filters["created_at_min"], "created_at_min"
    ):
        return False
    if "created_at_max" in filters and order.created_at > parse_time(
        filters["created_at_max"], "created_at_max"
    ):
        return False
    if "ids" in filters:
        wanted = {int(x) for x in filters["ids"].split(",") if x.strip().isdigit()}
        if order.id not in wanted:
            return False
    return True


def _orders(sandbox: ShopifySandbox, request: Request, params: dict[str, str]) -> JSONResponse:
    limit = _limit(params)
    filters, after, before = _cursor(params, ORDER_FILTERS)
    if filters.get("status", "open") not in ("open", "closed", "cancelled", "any"):
        raise ApiError(400, {"status": ["is not one of open, closed, cancelled, any"]})
    now = sandbox.clock()
    keys, orders = sandbox.visible_orders()
    lo, hi = 0, len(keys)
    if "updated_at_min" in filters:
        lo = bisect_left(keys, (int(parse_time(filters["updated_at_min"], "updated_at_min").timestamp()),))
    if "updated_at_max" in filters:
        bound = int(parse_time(filters["updated_at_max"], "updated_at_max").timestamp())
        hi = bisect_right(keys, (bound, math.inf))
    selected = [i for i in range(lo, hi) if _order_matches(sandbox, orders[i], filters, now)]
    page = paginate([keys[i] for i in selected], [orders[i] for i in selected], limit, after, before)
    body = {"orders": _fields(params, [sandbox.render_order(o, now) for o in page.items])}
    return _respond(body, _link(request, "orders", limit, filters, page))


def _products(sandbox: ShopifySandbox, request: Request, params: dict[str, str]) -> JSONResponse:
    limit = _limit(params)
    filters, after, before = _cursor(params, ("ids", "status"))
    products = sandbox.products
    if "ids" in filters:
        wanted = {int(x) for x in filters["ids"].split(",") if x.strip().isdigit()}
        products = [p for p in products if p["id"] in wanted]
    page = paginate([(p["id"],) for p in products], products, limit, after, before)
    return _respond(
        {"products": _fields(params, page.items)}, _link(request, "products", limit, filters, page)
    )


def _locations(sandbox: ShopifySandbox, request: Request, params: dict[str, str]) -> JSONResponse:
    location = {"id": sandbox.location_id, "name": "Shopkeep Warehouse", "active": True, "country_code": "CN"}
    return _respond({"locations": [location]}, None)


def _id_list(filters: dict, name: str) -> set[int] | None:
    if name not in filters:
        return None
    try:
        return {int(x) for x in filters[name].split(",") if x.strip()}
    except ValueError:
        raise ApiError(400, {name: ["must be a comma-separated list of ids"]}) from None


def _inventory_levels(sandbox: ShopifySandbox, request: Request, params: dict[str, str]) -> JSONResponse:
    limit = _limit(params)
    filters, after, before = _cursor(params, ("location_ids", "inventory_item_ids"))
    locations, items = _id_list(filters, "location_ids"), _id_list(filters, "inventory_item_ids")
    if locations is None and items is None:
        raise ApiError(422, {"base": ["inventory_item_ids or location_ids must be present"]})
    keys = sorted(
        k
        for k in sandbox.levels
        if (items is None or k[0] in items) and (locations is None or k[1] in locations)
    )
    page = paginate(keys, [sandbox.levels[k] for k in keys], limit, after, before)
    body = {"inventory_levels": _fields(params, [dict(level) for level in page.items])}
    return _respond(body, _link(request, "inventory_levels", limit, filters, page))


async def _set_inventory_level(
    sandbox: ShopifySandbox, request: Request, params: dict[str, str]
) -> JSONResponse:
    return await _write_inventory_level(sandbox, request, "available")


async def _adjust_inventory_level(
    sandbox: ShopifySandbox, request: Request, params: dict[str, str]
) -> JSONResponse:
    """`inventory_levels/adjust.json`: adds `available_adjustment` (may be negative) to what is available now."""
    return await _write_inventory_level(sandbox, request, "available_adjustment")


async def _write_inventory_level(sandbox: ShopifySandbox, request: Request, amount: str) -> JSONResponse:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise ApiError(400, {"base": ["body is not valid JSON"]}) from None
    if not isinstance(body, dict):
        raise ApiError(400, {"base": ["body must be a JSON object"]})
    problems: dict[str, list[str]] = {}
    values = {}
    for name in ("location_id", "inventory_item_id", amount):
        value = body.get(name)
        if isinstance(value, str) and value.lstrip("-").isdigit() and name != amount:
            value = int(value)
        if value is None:
            problems[name] = ["is required"]
        elif isinstance(value, bool) or not isinstance(value, int):
            problems[name] = ["must be an integer"]
        values[name] = value
    if not problems and amount == "available" and values["available"] < 0:
        problems["available"] = ["must be greater than or equal to 0"]
    key = (values.get("inventory_item_id"), values.get("location_id"))
    if not problems and key not in sandbox.levels:
        if values["location_id"] != sandbox.location_id:
            problems["location_id"] = ["Location not found"]
        else:
            problems["inventory_item_id"] = ["Inventory item does not exist"]
    if problems:
        raise ApiError(422, problems)
    level = sandbox.levels[key]
    available = values[amount] if amount == "available" else level["available"] + values[amount]
    level.update(available=available, updated_at=sandbox.iso(sandbox.clock()))
    return _respond({"inventory_level": dict(level)}, None)


PAYOUT_FILTERS = ("since_id", "last_id", "date_min", "date_max", "date", "status")
TRANSACTION_FILTERS = ("since_id", "last_id", "test", "payout_id", "payout_status")


def _payments_enabled(sandbox: ShopifySandbox) -> None:
    if not sandbox.payments_enabled:  # a store on another payment provider has no Shopify Payments account
        raise ApiError(404, "Not Found")


def _int_filter(filters: dict, name: str) -> int | None:
    if name not in filters:
        return None
    try:
        return int(filters[name])
    except ValueError:
        raise ApiError(400, {name: ["must be an integer"]}) from None


def _date_filter(filters: dict, name: str) -> date | None:
    if name not in filters:
        return None
    try:
        return date.fromisoformat(filters[name].strip()[:10])
    except ValueError:
        raise ApiError(400, {name: ["is not a valid ISO-8601 date"]}) from None


def _id_window(filters: dict, ident: int) -> bool:
    since, last = _int_filter(filters, "since_id"), _int_filter(filters, "last_id")
    return (since is None or ident > since) and (last is None or ident < last)


def _payouts(sandbox: ShopifySandbox, request: Request, params: dict[str, str]) -> JSONResponse:
    _payments_enabled(sandbox)
    limit = _limit(params)
    filters, after, before = _cursor(params, PAYOUT_FILTERS)
    status = filters.get("status")
    if status is not None and status not in PAYOUT_STATUSES:
        raise ApiError(400, {"status": [f"is not one of {', '.join(PAYOUT_STATUSES)}"]})
    low, high, on = (_date_filter(filters, n) for n in ("date_min", "date_max", "date"))
    now = sandbox.clock()
    chosen = [
        p
        for p in reversed(sandbox.ledger.payouts)  # newest first
        if p.created_at <= now
        and _id_window(filters, p.id)
        and (low is None or p.date >= low)
        and (high is None or p.date <= high)
        and (on is None or p.date == on)
        and (status is None or p.status(now) == status)
    ]
    keys = [(-p.date.toordinal(), -p.id) for p in chosen]
    page = paginate(keys, chosen, limit, after, before)
    body = {"payouts": _fields(params, [render_payout(p, now) for p in page.items])}
    return _respond(body, _link(request, "payouts", limit, filters, page))


def _balance_transactions(sandbox: ShopifySandbox, request: Request, params: dict[str, str]) -> JSONResponse:
    _payments_enabled(sandbox)
    limit = _limit(params)
    filters, after, before = _cursor(params, TRANSACTION_FILTERS)
    payout_id = _int_filter(filters, "payout_id")
    payout_status = filters.get("payout_status")
    if payout_status is not None and payout_status not in (*PAYOUT_STATUSES, "pending"):
        raise ApiError(400, {"payout_status": [f"is not one of pending, {', '.join(PAYOUT_STATUSES)}"]})
    test = filters.get("test")
    if test is not None and test not in ("true", "false"):
        raise ApiError(400, {"test": ["must be true or false"]})
    now = sandbox.clock()
    transactions = sandbox.ledger.transactions
    visible = transactions[: bisect_right([t.processed_at for t in transactions], now)]
    chosen = []
    for txn in reversed(visible):  # newest first
        payout = _payout_at(txn, now)
        if not _id_window(filters, txn.id) or test == "true":  # the sandbox store takes no test payments
            continue
        if payout_id is not None and (payout is None or payout.id != payout_id):
            continue
        if payout_status is not None and (payout.status(now) if payout else "pending") != payout_status:
            continue
        chosen.append(txn)
    page = paginate([(-t.id,) for t in chosen], chosen, limit, after, before)
    body = {"transactions": _fields(params, [render_transaction(t, now) for t in page.items])}
    return _respond(body, _link(request, "transactions", limit, filters, page))


def _respond(body: dict, link: str | None) -> JSONResponse:
    return JSONResponse(body, headers={"Link": link} if link else None)


Handler = Callable[[ShopifySandbox, Request, dict[str, str]], Any]


def _api(sandbox: ShopifySandbox, handler: Handler) -> Callable:
    """Wrap a Shopify endpoint: version, auth, fault injection, rate limit, error shape, request log.

    Fault mode (`sandbox.faults`, shared with the marketplace sandboxes): a throttle is Shopify's own 429 with
    `Retry-After`; a server error a 500/502/503; a timeout stalls before answering; a truncated answer is a JSON
    body cut in half; an overlap moves a `page_info` cursor back so the page repeats records of the page before."""

    async def endpoint(request: Request) -> Response:
        params = dict(request.query_params)
        call_limit = fault = None
        try:
            if request.path_params["version"] != sandbox.api_version:
                raise ApiError(404, "Not Found")
            if request.headers.get("X-Shopify-Access-Token") != sandbox.token:
                raise ApiError(401, INVALID_TOKEN)
            if sandbox.failures:
                raise ApiError(sandbox.failures.pop(0), "Internal Server Error")
            fault = sandbox.faults.draw()
            if fault == "throttle":
                raise ApiError(
                    429, THROTTLED, {"Retry-After": f"{sandbox.faults.config.throttle_seconds:.1f}"}
                )
            if fault == "server_error":
                raise ApiError(
                    (500, 502, 503)[sandbox.faults.counts["server_error"] % 3], "Internal Server Error"
                )
            if fault == "timeout":
                await asyncio.sleep(sandbox.faults.config.timeout_seconds)
            if fault == "overlap" and "page_info" in params:
                params["page_info"] = _moved_back(params["page_info"])
            call_limit = sandbox.take_call(sandbox.token)
            response = handler(sandbox, request, params)
            if hasattr(response, "__await__"):
                response = await response
        except ApiError as error:
            response = JSONResponse({"errors": error.errors}, status_code=error.status, headers=error.headers)
        if fault == "truncated" and response.status_code == 200:
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            response = Response(Faults.truncate(response.body), 200, headers=headers)
        if call_limit:
            response.headers["X-Shopify-Shop-Api-Call-Limit"] = call_limit
        response.headers["X-Shopify-API-Version"] = sandbox.api_version
        entry = {
            "method": request.method,
            "path": request.url.path,
            "query": params,
            "status": response.status_code,
        }
        sandbox.log.append({**entry, "fault": fault} if fault else entry)
        return response

    return endpoint


def _moved_back(page_info: str) -> str:
    """The same cursor one step earlier, so the page starts with the last record(s) of the page before."""
    try:
        payload = decode_page_info(page_info)
    except ApiError:
        return page_info
    after = payload.get("a")
    if after and isinstance(after[0], int):
        payload["a"] = [after[0] - 1, *after[1:]]
    return encode_page_info(payload)


def create_app(
    world: World,
    shop_id: str = "shopify_global",
    token: str = DEFAULT_TOKEN,
    api_version: str = "2025-07",
    bucket_size: int = 40,
    leak_per_second: float = 2.0,
    now: datetime | None = None,
    location_id: int = DEFAULT_LOCATION_ID,
    payments: bool = True,
    faults: Faults | None = None,
) -> Starlette:
    """A Starlette app serving `world`'s slice for `shop_id` as Shopify's Admin REST API.

    `now` fixes the sandbox clock (default: the wall clock); `payments=False` is a store without Shopify
    Payments; `faults` injects the failures of sandbox/faults.py (GET/POST `/_sandbox/faults` reads and sets
    them); `app.state.sandbox` holds the live state."""
    sandbox = ShopifySandbox(
        world, shop_id, token, api_version, bucket_size, leak_per_second, now, location_id, payments
    )
    sandbox.faults = faults or Faults(FaultConfig())

    async def faults_endpoint(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = json.loads(await request.body() or b"{}")
            current = sandbox.faults.config
            sandbox.faults.configure(
                FaultConfig(
                    rate=float(body.get("rate", current.rate)),
                    kinds=tuple(body.get("kinds", current.kinds)),
                    seed=int(body.get("seed", current.seed)),
                    timeout_seconds=float(body.get("timeout_seconds", current.timeout_seconds)),
                    throttle_seconds=int(body.get("throttle_seconds", current.throttle_seconds)),
                )
            )
        config = sandbox.faults.config
        return JSONResponse(
            {"rate": config.rate, "kinds": list(config.kinds), "counts": dict(sandbox.faults.counts)}
        )

    async def set_clock(request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"{}")
        sandbox.now = parse_time(body["now"], "now") if body.get("now") else None
        return JSONResponse({"now": sandbox.iso(sandbox.clock())})

    async def get_clock(request: Request) -> JSONResponse:
        return JSONResponse({"now": sandbox.iso(sandbox.clock())})

    async def requests(request: Request) -> JSONResponse:
        return JSONResponse({"requests": sandbox.log})

    async def reset_log(request: Request) -> JSONResponse:
        sandbox.log.clear()
        return JSONResponse({"requests": []})

    async def fail_next(request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"{}")
        sandbox.failures.extend([int(body.get("status", 503))] * int(body.get("count", 1)))
        return JSONResponse({"pending_failures": len(sandbox.failures)})

    api = "/admin/api/{version}"
    routes = [
        Route(f"{api}/orders.json", _api(sandbox, _orders), methods=["GET"]),
        Route(f"{api}/products.json", _api(sandbox, _products), methods=["GET"]),
        Route(f"{api}/locations.json", _api(sandbox, _locations), methods=["GET"]),
        Route(f"{api}/inventory_levels.json", _api(sandbox, _inventory_levels), methods=["GET"]),
        Route(f"{api}/inventory_levels/set.json", _api(sandbox, _set_inventory_level), methods=["POST"]),
        Route(f"{api}/inventory_levels/adjust.json", _api(sandbox, _adjust_inventory_level), methods=["POST"]),
        Route(f"{api}/shopify_payments/payouts.json", _api(sandbox, _payouts), methods=["GET"]),
        Route(
            f"{api}/shopify_payments/balance/transactions.json",
            _api(sandbox, _balance_transactions),
            methods=["GET"],
        ),
        Route("/_sandbox/clock", set_clock, methods=["POST"]),
        Route("/_sandbox/clock", get_clock, methods=["GET"]),
        Route("/_sandbox/requests", requests, methods=["GET"]),
        Route("/_sandbox/reset_log", reset_log, methods=["POST"]),
        Route("/_sandbox/fail_next", fail_next, methods=["POST"]),
    ]
    routes.append(Route("/_sandbox/faults", faults_endpoint, methods=["GET", "POST"]))
    routes += buyer_routes(sandbox)
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
