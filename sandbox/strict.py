"""Strict mode: the sandboxes serve what the platforms' docs allow, not only the demo's tidy shape.

The demo shop is one seller whose every record carries every field. Real sellers differ in ways the platforms
document, and shopkeep must hold for all of them. `strict_world()` reshapes a simulated world, and
`StrictApp` wraps any channel sandbox's ASGI app, so that:

- **shop ids are the seller's own** (`rename`: every table's shop_id, so the files, the config and the
  sandboxes all use them);
- **a new shop has no refunds, bills or listings yet** (`empty_for`: those lists of these shops are empty);
- **one order lists the same SKU on two lines** (`repeat_rate`: that share of multi-unit lines without a refund
  is split into two lines of the same SKU — quantities and money add up to the original line, so the truth per
  shop is unchanged);
- **optional fields are missing** (`StrictApp`: each field the platform documents as optional, or only sends
  when it has a value, is left out of a record with probability `omit_rate`; money fields only when they are 0,
  since a platform leaves out a zero discount but never a real one). The choice is a hash of the seed, the field
  and the record, so a record read twice (overlapping pages, a retry) looks the same both times.

Throttling and busy codes come from the fault mode (`sandbox.faults`), which every sandbox takes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from sandbox.world import World

OPTIONAL_FIELDS: dict[str, dict[str, bool]] = {
    # field name -> whether it is money (left out only when zero)
    "shopify": {
        "processed_at": False,
        "customer": False,
        "shipping_address": False,
        "billing_address": False,
        "note": False,
        "closed_at": False,
        "fulfillment_status": False,
        "total_line_items_price": False,
        "total_discounts": True,
        "total_discount": True,
        "sku": False,
        "phone": False,
        "email": False,
    },
    "taobao": {
        "buyer_message": False,
        "seller_memo": False,
        "receiver_district": False,
        "receiver_address": False,
        "receiver_mobile": False,
        "outer_sku_id": False,
        "discount_fee": True,
        "post_fee": True,
        "refund_status": False,
    },
    "jd": {
        "orderRemark": False,
        "venderRemark": False,
        "sellerDiscount": True,
        "freightPrice": True,
        "county": False,
        "fullAddress": False,
        "mobile": False,
        "outerSkuId": False,
    },
    "pinduoduo": {
        "buyer_memo": False,
        "remark": False,
        "town": False,
        "address": False,
        "receiver_phone": False,
        "platform_discount": True,
        "seller_discount": True,
        "capital_free_discount": True,
        "outer_id": False,
    },
    "douyin": {
        "buyer_words": False,
        "seller_words": False,
        "promotion_amount": True,
        "promotion_shop_amount": True,
        "promotion_platform_amount": True,
        "post_amount": True,
        "out_sku_id": False,
        "code": False,
        "town": False,
    },
}
"""Per channel, fields of orders, lines and after-sales records that the platform's docs mark optional or that
some accounts never receive."""

OPTIONAL_IN: dict[str, tuple[str, ...]] = {"shopify": ("orders",), "douyin": ("data",)}
"""Where a channel's field names are not specific enough, the top-level keys of an answer whose records lose
optional fields (Shopify's balance transactions always carry their processed_at; Douyin's envelope always
carries its `code`, a name its SKUs use for the merchant code); other channels: anywhere."""


@dataclass(frozen=True)
class Strictness:
    seed: int = 0
    omit_rate: float = 0.3
    """Share of records that lose each optional field."""
    repeat_rate: float = 0.2
    """Share of multi-unit lines (without a refund) split into two lines of the same SKU."""


def _is_zero(value: Any) -> bool:
    try:
        return Decimal(str(value)) == 0
    except ArithmeticError:
        return False


def _drops(seed: int, name: str, record: dict, rate: float) -> bool:
    text = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256(f"{seed}|{name}|{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def omit_optional(body: Any, channel: str, strictness: Strictness) -> Any:
    """`body` with each optional field of every record left out at `omit_rate` (recursively, in place)."""
    if channel in OPTIONAL_IN and isinstance(body, dict):
        for key in OPTIONAL_IN[channel]:
            if key in body:
                _omit(body[key], OPTIONAL_FIELDS[channel], strictness)
        return body
    return _omit(body, OPTIONAL_FIELDS[channel], strictness)


def _omit(body: Any, optional: dict[str, bool], strictness: Strictness) -> Any:
    if isinstance(body, list):
        for item in body:
            _omit(item, optional, strictness)
    elif isinstance(body, dict):
        for value in body.values():
            _omit(value, optional, strictness)
        snapshot = dict(body)
        for name, is_money in optional.items():
            if name not in body or (is_money and not _is_zero(body[name])):
                continue
            if _drops(strictness.seed, name, snapshot, strictness.omit_rate):
                del body[name]
    return body


class StrictApp:
    """ASGI wrapper of a channel sandbox: every JSON answer of a data call loses optional fields (see module
    docstring); the sandbox's own test endpoints (`/_sandbox/...`) and non-JSON answers pass untouched."""

    def __init__(self, app, channel: str, strictness: Strictness) -> None:
        if channel not in OPTIONAL_FIELDS:
            raise ValueError(f"no optional-field list for channel {channel!r}")
        self.app, self.channel, self.strictness = app, channel, strictness

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    await self._send(send, start, b"".join(chunks))

        await self.app(scope, receive, capture)

    async def _send(self, send, start: dict, body: bytes) -> None:
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        try:
            data = json.loads(body)
        except ValueError:  # a cut-off body of the fault mode, or not JSON: as it was
            pass
        else:
            body = json.dumps(omit_optional(data, self.channel, self.strictness), ensure_ascii=False).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


CENT = Decimal("0.01")


def _split_money(value: Any, part: int, whole: int) -> tuple[Decimal, Decimal]:
    total = Decimal(str(value))
    first = (total * part / whole).quantize(CENT, ROUND_HALF_UP)
    return first, total - first


def strict_world(
    world: World,
    strictness: Strictness = Strictness(),
    rename: dict[str, str] | None = None,
    empty_for: set[str] | frozenset[str] = frozenset(),
) -> World:
    """A copy of `world` shaped as real sellers' data can be: shops renamed, no refunds / bills / listings for
    `empty_for` (new ids), and some lines split into two lines of the same SKU. Truth tables follow along."""
    tables = {name: frame.copy() for name, frame in world.tables.items()}
    rename = rename or {}
    for frame in tables.values():
        if "shop_id" in frame.columns:
            frame["shop_id"] = frame["shop_id"].replace(rename)
    for name in ("refunds", "bill_lines", "listings"):
        frame = tables[name]
        tables[name] = frame[~frame["shop_id"].isin(empty_for)].reset_index(drop=True)
    tables["order_lines"] = _repeat_skus(tables["order_lines"], tables["refunds"], strictness)
    return World(params={**world.params, "strict": True, "renamed": rename}, tables=tables)


def _repeat_skus(lines: pd.DataFrame, refunds: pd.DataFrame, strictness: Strictness) -> pd.DataFrame:
    refunded = set(refunds["line_id"])
    rows = []
    next_id = max(int(x) for x in lines["line_id"] if str(x).isdigit()) + 1
    for line in lines.to_dict("records"):
        split = (
            line["quantity"] >= 2
            and line["line_id"] not in refunded
            and _drops(strictness.seed, "repeat", {"line_id": line["line_id"]}, strictness.repeat_rate)
        )
        if not split:
            rows.append(line)
            continue
        quantity = int(line["quantity"])
        first, second = dict(line), dict(line)
        first["quantity"], second["quantity"] = 1, quantity - 1
        for money in ("merchant_discount", "platform_discount", "paid_amount"):
            first[money], second[money] = _split_money(line[money], 1, quantity)
        second["line_id"] = str(next_id)
        next_id += 1
        rows += [first, second]
    return pd.DataFrame(rows, columns=lines.columns)
