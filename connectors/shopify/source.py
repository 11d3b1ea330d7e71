"""dlt source for one Shopify store: orders (incremental on updated_at), products, inventory levels, and Shopify
Payments' payouts and balance transactions (the store's settlements; empty tables for a store without it).

Records land as the API returned them, with three changes made here at the edge: each record gets `shop_id`,
buyer personal data is replaced by keyed hashes (connectors.common.pii), and money strings become Decimals
typed DECIMAL(18,2) — in the root tables and in the nested ones (orders__line_items, orders__refunds__…).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.sources import DltResource

from connectors.common.loading import MONEY
from connectors.common.pii import hash_pii, require_salt
from connectors.files.product_master import empty_table  # no rows but the columns (dlt creates the table)
from connectors.shopify.client import ShopifyClient, ShopifyNotFoundError, ShopifyResponseError

log = logging.getLogger(__name__)

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


PAYOUT_SUMMARY = tuple(
    f"{kind}_{part}_amount"
    for kind in ("adjustments", "charges", "refunds", "reserved_funds", "retried_payouts")
    for part in ("fee", "gross")
)
PAYOUT_MONEY = ("amount", *(f"summary__{name}" for name in PAYOUT_SUMMARY))
TRANSACTION_MONEY = ("amount", "fee", "net")
FINAL_PAYOUT_STATUSES = ("paid", "canceled")
"""A payout in one of these states changes no more; a transaction or payout in any other is read again."""


def _typed(kind: str, names: tuple[str, ...]) -> dict[str, dict]:
    return {name: {"name": name, "data_type": kind, "nullable": True} for name in names}


PAYOUT_COLUMNS: dict[str, dict] = {
    **_typed("bigint", ("id",)),
    **_typed("text", ("shop_id", "status", "currency")),
    **_typed("date", ("date",)),
    **_money_columns(PAYOUT_MONEY),
}
TRANSACTION_COLUMNS: dict[str, dict] = {
    **_typed("bigint", ("id", "payout_id", "source_id", "source_order_id", "source_order_transaction_id")),
    **_typed("text", ("shop_id", "type", "payout_status", "currency", "source_type")),
    **_typed("bool", ("test",)),
    **_typed("timestamp", ("processed_at",)),
    **_money_columns(TRANSACTION_MONEY),
}
"""Every field staging reads, declared so the tables exist with their columns for a store with no payouts yet."""


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


def prepare_payout(payout: dict, shop_id: str) -> dict:
    """shop_id added, money (the summary's too) as Decimal, date as a date; the nested summary flattened as
    dlt would (summary__charges_gross_amount, …)."""
    where = f"Shopify shop {shop_id} payout {payout.get('id')}"
    row = {k: v for k, v in payout.items() if k != "summary"}
    for name, value in (payout.get("summary") or {}).items():
        row[f"summary__{name}"] = value
    _convert_money(row, PAYOUT_MONEY, where)
    row["date"] = _parse_date(row.get("date"), where)
    row["shop_id"] = shop_id
    return row


def prepare_transaction(transaction: dict, shop_id: str) -> dict:
    where = f"Shopify shop {shop_id} balance transaction {transaction.get('id')}"
    transaction["shop_id"] = shop_id
    _convert_money(transaction, TRANSACTION_MONEY, where)
    if transaction.get("processed_at") is not None:
        transaction["processed_at"] = parse_timestamp(transaction["processed_at"], where, "processed_at")
    return transaction


def _parse_date(value: Any, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ShopifyResponseError(f"{where}: date {value!r} is not an ISO-8601 date") from None


def _without_payments(shop_id: str, error: ShopifyNotFoundError) -> None:
    log.info(
        "Shopify shop %s has no Shopify Payments account (%s): payouts and balance transactions stay empty, "
        "its orders are not reconciled against payouts",
        shop_id,
        error,
    )


def parse_timestamp(value: Any, where: str, field: str = "updated_at") -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ShopifyResponseError(f"{where}: {field} {value!r} is not an ISO-8601 time") from None
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
    until: datetime | None = None,
) -> list[DltResource]:
    """Orders, products and inventory levels of one Shopify store (resources: orders, products,
    inventory_levels). Orders are read incrementally: each run asks for orders updated since the last seen
    `updated_at` minus `overlap_minutes`, and merges them on (shop_id, id). `until` (a history backfill of past
    days) asks only for orders updated before it (`updated_at_max`)."""
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
        if until is not None:
            params["updated_at_max"] = until.isoformat()
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

    @dlt.resource(
        name="payouts", write_disposition="merge", primary_key=("shop_id", "id"), columns=PAYOUT_COLUMNS
    )
    def payouts() -> Iterator[list[dict] | Any]:
        """Shopify Payments payouts dated from the oldest payout not yet final at the last run (a payout moves
        scheduled -> in_transit -> paid), else from `start_date`."""
        state = dlt.current.resource_state()
        since = state.get("date_min") or start_moment(start_date).date().isoformat()
        rows: list[dict] = []
        try:
            with client() as shop:
                params = {"date_min": since, "limit": page_limit}
                for page in shop.paginate("shopify_payments/payouts.json", params, key="payouts"):
                    rows += [prepare_payout(payout, shop_id) for payout in page]
        except ShopifyNotFoundError as error:
            _without_payments(shop_id, error)
        if not rows:
            yield empty_table(PAYOUT_COLUMNS)
            return
        yield rows
        open_dates = [
            r["date"] for r in rows if r.get("status") not in FINAL_PAYOUT_STATUSES and r.get("date")
        ]
        dates = [r["date"] for r in rows if r.get("date")]
        if open_dates or dates:
            state["date_min"] = min(open_dates).isoformat() if open_dates else max(dates).isoformat()

    @dlt.resource(
        name="balance_transactions",
        write_disposition="merge",
        primary_key=("shop_id", "id"),
        columns=TRANSACTION_COLUMNS,
    )
    def balance_transactions() -> Iterator[list[dict] | Any]:
        """The Shopify Payments ledger: charges (with their fees), refunds, adjustments, payouts. Shopify lists
        it newest first and filters only by id, so a run asks for ids after the oldest transaction whose payout
        was not final at the last run (its payout_id/payout_status still change), and the first run stops at
        `start_date`."""
        state = dlt.current.resource_state()
        since_id = state.get("since_id")
        start = start_moment(start_date)
        rows: list[dict] = []
        try:
            with client() as shop:
                params = {"limit": page_limit} | ({"since_id": since_id} if since_id is not None else {})
                path = "shopify_payments/balance/transactions.json"
                for page in shop.paginate(path, params, key="transactions"):
                    prepared = [prepare_transaction(t, shop_id) for t in page]
                    rows += [
                        t for t in prepared if t.get("processed_at") is None or t["processed_at"] >= start
                    ]
                    if since_id is None and prepared and (prepared[-1].get("processed_at") or start) < start:
                        break  # newest first: the rest is older than start_date
        except ShopifyNotFoundError as error:
            _without_payments(shop_id, error)
        if not rows:
            yield empty_table(TRANSACTION_COLUMNS)
            return
        yield rows
        open_ids = [r["id"] for r in rows if r.get("payout_status") not in FINAL_PAYOUT_STATUSES]
        state["since_id"] = min(open_ids) - 1 if open_ids else max(r["id"] for r in rows)

    return [orders, products, inventory_levels, payouts, balance_transactions]


def load_shop(pipeline: dlt.Pipeline, **source_kwargs: Any) -> LoadInfo:
    """Run one Shopify store's source through `pipeline` (built with warehouse_pipeline(..., "raw_shopify"))."""
    info = pipeline.run(shopify_source(**source_kwargs))
    info.raise_on_failed_jobs()
    return info


def updated_since(last_updated_at: datetime, overlap_minutes: int) -> datetime:
    """The `updated_at_min` a run asks for after `last_updated_at` (what the incremental lag computes)."""
    return last_updated_at - timedelta(minutes=overlap_minutes)
