"""dlt source for one Shopify store: orders (incremental on updated_at), products, inventory levels.

Records land as the API returned them, with three changes made here at the edge: each record gets `shop_id`,
buyer personal data is replaced by keyed hashes (connectors.common.pii), and money strings become Decimals
typed DECIMAL(18,2) — in the root tables and in the nested ones (orders__line_items, orders__refunds__…).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.sources import DltResource

from connectors.common.loading import MONEY
from connectors.common.pii import hash_pii, require_salt
from connectors.shopify.client import ShopifyClient, ShopifyResponseError

ORDER_MONEY = ("total_price", "subtotal_price", "total_discounts", "total_tax", "total_line_items_price")
NESTED_MONEY: dict[tuple[str, ...], tuple[str, ...]] = {
    ("shipping_lines",): ("price",),
    ("line_items",): ("price", "total_discount"),
    ("refunds", "refund_line_items"): ("subtotal",),
    ("refunds", "transactions"): ("amount",),
}
"""Money fields inside the nested lists of an order, by path from the order."""

PII_PATHS = (
    "email", "contact_email", "phone", "browser_ip", "client_details.browser_ip",
    "customer.email", "customer.phone", "customer.first_name", "customer.last_name",
    "customer.default_address", "customer.addresses", "billing_address", "shipping_address",
    "fulfillments.destination", "line_items.destination_location",
    "payment_details.credit_card_name", "payment_details.credit_card_number",
    "refunds.transactions.payment_details.credit_card_name",
    "refunds.transactions.payment_details.credit_card_number",
)  # fmt: skip
"""Where Shopify's Admin REST order documents buyer data (an address path hashes its name, address1/2, phone,
zip, company, latitude/longitude); connectors.common.pii.hash_pii also hashes any other personal-looking field
(note attributes named like a phone or e-mail, …). city/province/country stay readable for regional analysis."""


def _money_columns(names: tuple[str, ...]) -> dict[str, dict]:
    return {name: {"name": name, **MONEY} for name in names}


ORDER_COLUMNS: dict[str, dict] = {
    **_money_columns(ORDER_MONEY),
    **{
        name: {"name": name, "data_type": "timestamp", "nullable": True}
        for name in ("cancelled_at", "closed_at")
    },
    **{
        name: {"name": name, "data_type": "text", "nullable": True}
        for name in (
            "note",
            "cancel_reason",
            "fulfillment_status",
            "email",
            "phone",
            "customer__phone",
            "shipping_address__address2",
            "shipping_address__phone",
        )
    },
}
"""Declared so that a column stays in the warehouse even when no order of a load has a value for it."""


def _order_nested_hints() -> dict:
    hints: dict = {("refunds",): {}}
    for path, names in NESTED_MONEY.items():
        hints[path] = {"columns": _money_columns(names)}
    return hints


def to_decimal(value: Any, where: str) -> Decimal | None:
    """A Shopify money string ("12.50") as an exact Decimal; None stays None."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ShopifyResponseError(f"{where}: money value {value!r} is not a decimal number") from None


def _convert_money(record: dict, names: tuple[str, ...], where: str) -> None:
    for name in names:
        if name in record:
            record[name] = to_decimal(record[name], f"{where}.{name}")


def _walk(record: dict, path: tuple[str, ...]) -> Iterator[dict]:
    """Every dict reached from `record` along a path of nested lists."""
    children = record.get(path[0]) or []
    for child in children if isinstance(children, list) else []:
        if isinstance(child, dict):
            if len(path) == 1:
                yield child
            else:
                yield from _walk(child, path[1:])


def prepare_order(order: dict, shop_id: str, salt: str) -> dict:
    """shop_id added, buyer data hashed, money as Decimal, updated_at as an aware datetime (the cursor)."""
    where = f"Shopify shop {shop_id} order {order.get('id')}"
    order["shop_id"] = shop_id
    hash_pii(order, salt, PII_PATHS)
    _convert_money(order, ORDER_MONEY, where)
    for path, names in NESTED_MONEY.items():
        for child in _walk(order, path):
            _convert_money(child, names, f"{where} {'.'.join(path)}")
    order["updated_at"] = parse_timestamp(order.get("updated_at"), where)
    return order


def parse_timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ShopifyResponseError(f"{where}: updated_at {value!r} is not an ISO-8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def start_moment(start_date: str | datetime) -> datetime:
    """'2024-01-01' -> 2024-01-01T00:00:00+00:00."""
    moment = start_date if isinstance(start_date, datetime) else datetime.fromisoformat(str(start_date))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dlt.source(name="shopify")
def shopify_source(
    shop_id: str,
    base_url: str,
    token: str,
    api_version: str = "2025-07",
    pii_salt: str | None = None,
    start_date: str = "2024-01-01",
    location_id: str | int | None = None,
    token_env: str = "SHOPIFY_GLOBAL_TOKEN",
    overlap_minutes: int = 10,
    page_limit: int = 250,
    pii_salt_env: str = "SHOPKEEP_PII_SALT",
) -> list[DltResource]:
    """Orders, products and inventory levels of one Shopify store (resources: orders, products,
    inventory_levels). Orders are read incrementally: each run asks for orders updated since the last seen
    `updated_at` minus `overlap_minutes`, and merges them on (shop_id, id)."""
    salt = require_salt(pii_salt, pii_salt_env)

    def client() -> ShopifyClient:
        return ShopifyClient(shop_id, base_url, token, api_version, token_env=token_env)

    cursor = dlt.sources.incremental(
        "updated_at", initial_value=start_moment(start_date), lag=overlap_minutes * 60
    )

    @dlt.resource(
        name="orders",
        write_disposition="merge",
        primary_key=("shop_id", "id"),
        columns=ORDER_COLUMNS,
        nested_hints=_order_nested_hints(),
    )
    def orders(
        updated_at: dlt.sources.incremental[datetime] = cursor,
    ) -> Iterator[list[dict]]:
        # start_value is the last cursor minus the lag (dlt applies it, never below initial_value).
        since = updated_at.start_value or start_moment(start_date)
        params = {"status": "any", "updated_at_min": since.isoformat(), "limit": page_limit}
        with client() as shop:
            for page in shop.paginate("orders.json", params):
                yield [prepare_order(order, shop_id, salt) for order in page]

    @dlt.resource(
        name="products",
        write_disposition="merge",
        primary_key=("shop_id", "id"),
        nested_hints={"variants": {"columns": _money_columns(("price",))}},
    )
    def products() -> Iterator[list[dict]]:
        with client() as shop:
            for page in shop.paginate("products.json", {"limit": page_limit}):
                for product in page:
                    product["shop_id"] = shop_id
                    for variant in product.get("variants") or []:
                        _convert_money(
                            variant, ("price",), f"Shopify shop {shop_id} product {product.get('id')}"
                        )
                yield page

    @dlt.resource(
        name="inventory_levels",
        write_disposition="merge",
        primary_key=("shop_id", "inventory_item_id", "location_id"),
    )
    def inventory_levels() -> Iterator[list[dict]]:
        with client() as shop:
            if location_id is not None:
                locations = [str(location_id)]
            else:
                body, _ = shop.get("locations.json")
                locations = [str(location["id"]) for location in body.get("locations", [])]
            if not locations:
                return
            params = {"location_ids": ",".join(locations), "limit": page_limit}
            for page in shop.paginate("inventory_levels.json", params):
                yield [dict(level, shop_id=shop_id) for level in page]

    return [orders, products, inventory_levels]


def load_shop(pipeline: dlt.Pipeline, **source_kwargs: Any) -> LoadInfo:
    """Run one Shopify store's source through `pipeline` (built with warehouse_pipeline(..., "raw_shopify"))."""
    info = pipeline.run(shopify_source(**source_kwargs))
    info.raise_on_failed_jobs()
    return info


def updated_since(last_updated_at: datetime, overlap_minutes: int) -> datetime:
    """The `updated_at_min` a run asks for after `last_updated_at` (what the incremental lag computes)."""
    return last_updated_at - timedelta(minutes=overlap_minutes)
