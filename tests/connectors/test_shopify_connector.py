"""The Shopify connector against the real sandbox server on loopback, real dlt and a temp DuckDB file.

Truth is the simulated world: what lands must equal the world's shopify_global orders as they stood at the
sandbox's clock (created by then; refunds made by then), to the cent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest

from connectors.common.loading import warehouse_pipeline
from connectors.shopify import ShopifyAuthError, ShopifyClient, ShopifyError, ShopifyResponseError, load_shop
from connectors.shopify.client import (
    ShopifyNotFoundError,
    ShopifyPermissionError,
    ShopifyUnknownStatusError,
)
from connectors.shopify.stock import set_inventory_level
from sandbox import runner, shopify
from sandbox.faults import KINDS, FaultConfig, Faults
from sandbox.world import World

SHOP = "shopify_global"
TOKEN = "shpat_test_secret_token_42"
SALT = "test-salt"
OVERLAP_MINUTES = 10


# ------------------------------------------------------------------------------------------------------------ #
# the world: the shared small shop when the simulator is there, else a hand-built Shopify slice


def hand_built_world(n_orders: int = 420, seed: int = 3) -> World:
    """Shopify orders over 30 days ending 2026-06-30 with payments, cancellations, shipments and refunds."""
    rng = random.Random(seed)
    end = pd.Timestamp("2026-06-30 16:00", tz="UTC")
    skus = [f"AP-{i:04d}-M" for i in range(1, 9)]
    listings = pd.DataFrame(
        {
            "shop_id": SHOP,
            "sku": skus,
            "platform_product_id": [str(7000 + i) for i in range(8)],
            "platform_sku_id": [str(8000 + i) for i in range(8)],
            "inventory_item_id": [str(9000 + i) for i in range(8)],
            "outer_id": skus,
            "price": [Decimal(f"{19 + i}.90") for i in range(8)],
            "title": [f"Linen shirt {i}" for i in range(8)],
        }
    )
    orders, lines, refunds = [], [], []
    for n in range(n_orders):
        created = end - pd.Timedelta(days=30) + pd.Timedelta(seconds=rng.randrange(30 * 86400))
        order_id = str(5_000_000 + n)
        line_rows = []
        for k in range(rng.choice([1, 1, 2, 3])):
            i = rng.randrange(8)
            qty = rng.choice([1, 1, 2])
            price = listings.price[i]
            discount = Decimal(rng.choice(["0.00", "0.00", "1.50", "3.10"])) * qty
            line_rows.append(
                {
                    "shop_id": SHOP, "order_id": order_id, "line_id": f"{order_id}{k}", "sku": skus[i],
                    "platform_product_id": listings.platform_product_id[i],
                    "platform_sku_id": listings.platform_sku_id[i], "outer_id": skus[i],
                    "title": listings.title[i], "quantity": qty, "unit_list_price": price,
                    "merchant_discount": discount, "platform_discount": Decimal("0.00"),
                    "paid_amount": price * qty - discount,
                }
            )  # fmt: skip
        list_amount = sum(r["unit_list_price"] * r["quantity"] for r in line_rows)
        discount = sum(r["merchant_discount"] for r in line_rows)
        shipping = Decimal(rng.choice(["0.00", "4.99"]))
        cancelled = rng.random() < 0.05
        paid_at = pd.NaT if cancelled else created + pd.Timedelta(minutes=rng.randrange(1, 30))
        shipped_at = pd.NaT if cancelled else paid_at + pd.Timedelta(hours=rng.randrange(6, 72))
        completed_at = pd.NaT if cancelled else shipped_at + pd.Timedelta(days=rng.randrange(2, 6))
        events = [created, paid_at, shipped_at, completed_at]
        if not cancelled and rng.random() < 0.2:
            line = rng.choice(line_rows)
            refund_at = shipped_at + pd.Timedelta(days=rng.randrange(1, 8), minutes=rng.randrange(600))
            status = rng.choice(["success", "success", "success", "closed"])
            refunds.append(
                {
                    "shop_id": SHOP, "refund_id": f"R{order_id}", "order_id": order_id, "line_id": line["line_id"],
                    "created_at": refund_at, "quantity": 1, "amount": line["unit_list_price"] - Decimal("0.01"),
                    "reason": "size", "reason_text": "Too small", "goods_returned": True, "restocked": True,
                    "status": status,
                }
            )  # fmt: skip
            if status == "success":
                events.append(refund_at)
        cancelled_at = created + pd.Timedelta(hours=2) if cancelled else pd.NaT
        events.append(cancelled_at)
        orders.append(
            {
                "shop_id": SHOP, "order_id": order_id, "order_number": f"#{1001 + n}", "created_at": created,
                "paid_at": paid_at, "shipped_at": shipped_at, "completed_at": completed_at,
                "cancelled_at": cancelled_at, "updated_at": max(e for e in events if not pd.isna(e)),
                "status": "cancelled" if cancelled else "completed", "currency": "USD",
                "buyer_id": str(300 + n % 97), "buyer_name": f"Buyer{n % 97} Surname{n % 89}",
                "buyer_phone": f"+1-555-{n % 97:04d}-77", "buyer_email": f"buyer{n % 97}@example.com",
                "province": "CA", "city": "San Jose", "district": "", "address_detail": f"{n % 97} Secret Street",
                "buyer_remark": "", "seller_remark": "", "list_amount": list_amount,
                "merchant_discount": discount, "platform_discount": Decimal("0.00"), "shipping_fee": shipping,
                "paid_amount": list_amount - discount + shipping, "promo_id": None,
            }
        )  # fmt: skip
        lines.extend(line_rows)
    tables = {
        "shops": pd.DataFrame([{"shop_id": SHOP, "channel": "shopify", "name": "Shopify", "currency": "USD",
                                "timezone": "Asia/Shanghai", "commission_rate": Decimal("0"),
                                "service_fee_rate": Decimal("0.029"), "settlement_lag_days": 3}]),
        "listings": listings,
        "orders": pd.DataFrame(orders),
        "order_lines": pd.DataFrame(lines),
        "refunds": pd.DataFrame(refunds),
        "stock_snapshots": pd.DataFrame(
            {"snapshot_date": date(2026, 6, 30), "warehouse_id": "WH-SH", "sku": skus, "on_hand": range(10, 18)}
        ),
    }  # fmt: skip
    return World(params={"hand_built": True}, tables=tables)


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest) -> World:
    try:
        return request.getfixturevalue("small_world")
    except ImportError:  # the simulator is not there yet
        return hand_built_world()


def _ts(value) -> pd.Series:
    """UTC moments at second precision, as Shopify shows them."""
    return pd.to_datetime(value, utc=True).dt.floor("s")


@dataclass
class Truth:
    orders: int
    total_price: Decimal
    line_items: int
    line_price: Decimal
    refund_lines: int
    refund_amount: Decimal
    max_updated_at: datetime


def truth_at(world: World, now: datetime) -> Truth:
    """The world's shopify_global orders as they stood at `now` (independent of the sandbox's code)."""
    orders = world.shop(SHOP, "orders")
    visible = orders[_ts(orders["created_at"]) <= now]
    lines = world.shop(SHOP, "order_lines")
    lines = lines[lines["order_id"].isin(visible["order_id"])]
    refunds = world.shop(SHOP, "refunds")
    refunds = refunds[(refunds["status"] == "success") & (_ts(refunds["created_at"]) <= now)]
    events = [_ts(visible[c]) for c in ("created_at", "paid_at", "shipped_at", "completed_at", "cancelled_at",
                                        "updated_at")]  # fmt: skip
    latest = max(e[e <= now].max() for e in events)
    refund_latest = _ts(refunds["created_at"]).max() if len(refunds) else latest
    return Truth(
        orders=len(visible),
        total_price=sum(visible["paid_amount"], Decimal("0")),
        line_items=len(lines),
        line_price=sum(lines["unit_list_price"] * lines["quantity"], Decimal("0")),
        refund_lines=len(refunds),
        refund_amount=sum(refunds["amount"], Decimal("0")),
        max_updated_at=max(latest, refund_latest).to_pydatetime().replace(microsecond=0),
    )


def world_end(world: World) -> datetime:
    orders = world.shop(SHOP, "orders")
    return _ts(orders["created_at"]).max().to_pydatetime().replace(microsecond=0) + timedelta(seconds=1)


# ------------------------------------------------------------------------------------------------------------ #
# helpers


@dataclass
class Sandbox:
    url: str
    server: runner.RunningServer

    def set_clock(self, now: datetime) -> None:
        httpx.post(f"{self.url}/_sandbox/clock", json={"now": now.isoformat()}).raise_for_status()

    def requests(self) -> list[dict]:
        return httpx.get(f"{self.url}/_sandbox/requests").json()["requests"]

    def reset_log(self) -> None:
        httpx.post(f"{self.url}/_sandbox/reset_log").raise_for_status()

    def fail_next(self, status: int, count: int) -> None:
        httpx.post(
            f"{self.url}/_sandbox/fail_next", json={"status": status, "count": count}
        ).raise_for_status()


def start_sandbox(world: World, now: datetime, **options) -> Sandbox:
    app = shopify.create_app(world, shop_id=SHOP, token=TOKEN, now=now, **options)
    server = runner.start(app, "shopify-test")
    return Sandbox(server.url, server)


def source_kwargs(sandbox: Sandbox, **overrides) -> dict:
    kwargs = dict(
        shop_id=SHOP, base_url=sandbox.url, token=TOKEN, api_version="2025-07", pii_salt=SALT,
        start_date="2024-01-01", location_id="1001", token_env="SHOPIFY_GLOBAL_TOKEN",
        overlap_minutes=OVERLAP_MINUTES, page_limit=100,
    )  # fmt: skip
    kwargs.update(overrides)
    return kwargs


def new_pipeline(tmp: Path, name: str = SHOP):
    return warehouse_pipeline(name, "raw_shopify", tmp / "build.duckdb", tmp / "dlt")


def query(tmp: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(tmp / "build.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@dataclass
class Landed:
    orders: int
    total_price: Decimal
    line_items: int
    line_price: Decimal
    refund_lines: int
    refund_amount: Decimal


def landed(tmp: Path) -> Landed:
    ((orders, total),) = query(tmp, "select count(*), sum(total_price) from raw_shopify.orders")
    ((lines, price),) = query(
        tmp, "select count(*), sum(price * quantity) from raw_shopify.orders__line_items"
    )
    refund_tables = {t for (t,) in query(tmp, "select table_name from information_schema.tables "
                                             "where table_schema = 'raw_shopify'")}  # fmt: skip
    refunds, amount = 0, Decimal("0")
    if "orders__refunds__refund_line_items" in refund_tables:
        ((refunds, amount),) = query(
            tmp,
            "select count(*), coalesce(sum(subtotal), 0) from raw_shopify.orders__refunds__refund_line_items",
        )
    return Landed(orders, total or Decimal("0"), lines, price or Decimal("0"), refunds, Decimal(amount))


def orders_calls(sandbox: Sandbox) -> list[dict]:
    return [r for r in sandbox.requests() if r["path"].endswith("/orders.json")]


# ------------------------------------------------------------------------------------------------------------ #
# one store loaded three times: first load, a rerun at the same clock, a rerun after the clock moved on


@dataclass
class Runs:
    tmp: Path
    world: World
    t1: datetime
    t2: datetime
    first_calls: list[dict]
    first: Landed
    second_calls: list[dict]
    second: Landed
    third_calls: list[dict]
    third: Landed
    changed_order_rows: list[tuple]


@pytest.fixture(scope="module")
def runs(world: World, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    tmp = tmp_path_factory.mktemp("shopify_runs")
    t2 = world_end(world)
    t1 = t2 - timedelta(days=4)
    sandbox = start_sandbox(world, t1)
    try:
        pipeline = new_pipeline(tmp)
        load_shop(pipeline, **source_kwargs(sandbox))
        first_calls, first = orders_calls(sandbox), landed(tmp)
        sandbox.reset_log()
        load_shop(new_pipeline(tmp), **source_kwargs(sandbox))
        second_calls, second = orders_calls(sandbox), landed(tmp)
        sandbox.reset_log()
        sandbox.set_clock(t2)
        load_shop(new_pipeline(tmp), **source_kwargs(sandbox))
        third_calls, third = orders_calls(sandbox), landed(tmp)
    finally:
        sandbox.server.stop()
    changed = query(tmp, "select id, count(*) from raw_shopify.orders group by id having count(*) > 1")
    return Runs(tmp, world, t1, t2, first_calls, first, second_calls, second, third_calls, third, changed)


def test_a_first_load_pages_through_link_headers_and_lands_every_order_visible_at_the_clock(runs: Runs):
    truth = truth_at(runs.world, runs.t1)
    assert len(runs.first_calls) > 1, "the first load should need several pages"
    first, *follow_ups = runs.first_calls
    assert first["query"]["status"] == "any" and "updated_at_min" in first["query"]
    assert all(set(call["query"]) <= {"page_info", "limit"} for call in follow_ups)
    assert all(call["status"] == 200 for call in runs.first_calls)
    assert (runs.first.orders, runs.first.total_price) == (truth.orders, truth.total_price)
    assert (runs.first.line_items, runs.first.line_price) == (truth.line_items, truth.line_price)
    assert (runs.first.refund_lines, runs.first.refund_amount) == (truth.refund_lines, truth.refund_amount)


def test_a_second_run_loads_nothing_twice_and_asks_from_the_last_cursor_minus_the_overlap(runs: Runs):
    assert runs.second == runs.first
    asked = datetime.fromisoformat(runs.second_calls[0]["query"]["updated_at_min"])
    expected = truth_at(runs.world, runs.t1).max_updated_at - timedelta(minutes=OVERLAP_MINUTES)
    assert asked == expected
    assert len(runs.second_calls) == 1, "only the overlap window should be read again"


def test_advancing_the_clock_lands_new_and_changed_orders_and_refunds_in_place(runs: Runs):
    truth = truth_at(runs.world, runs.t2)
    assert truth.orders > runs.first.orders, "the test world should have orders in the last days"
    assert (runs.third.orders, runs.third.total_price) == (truth.orders, truth.total_price)
    assert (runs.third.line_items, runs.third.line_price) == (truth.line_items, truth.line_price)
    assert (runs.third.refund_lines, runs.third.refund_amount) == (truth.refund_lines, truth.refund_amount)
    assert runs.changed_order_rows == [], "a changed order must be updated in place, not duplicated"
    asked = datetime.fromisoformat(runs.third_calls[0]["query"]["updated_at_min"])
    assert asked == truth_at(runs.world, runs.t1).max_updated_at - timedelta(minutes=OVERLAP_MINUTES)


def test_money_is_decimal_18_2_in_duckdb_including_nested_tables(runs: Runs):
    types = dict(
        ((table, column), kind)
        for table, column, kind in query(
            runs.tmp,
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_shopify'",
        )
    )
    money = [
        ("orders", "total_price"), ("orders", "subtotal_price"), ("orders", "total_discounts"),
        ("orders", "total_tax"), ("orders", "total_line_items_price"), ("orders__line_items", "price"),
        ("orders__line_items", "total_discount"), ("orders__shipping_lines", "price"),
        ("orders__refunds__refund_line_items", "subtotal"), ("orders__refunds__transactions", "amount"),
        ("products__variants", "price"),
    ]  # fmt: skip
    assert {key: types.get(key) for key in money} == {key: "DECIMAL(18,2)" for key in money}


def test_no_buyer_personal_data_lands_in_the_clear(runs: Runs):
    orders = runs.world.shop(SHOP, "orders")
    secrets = set()
    for column in ("buyer_email", "buyer_phone", "buyer_name", "address_detail"):
        secrets |= {str(v) for v in orders[column].dropna() if len(str(v)) >= 4}
    for name in orders["buyer_name"].dropna():  # the parts Shopify splits into first/last name
        secrets |= {part for part in str(name).split(" ") if len(part) >= 4}
    columns = query(
        runs.tmp,
        "select table_name, column_name from information_schema.columns where table_schema = 'raw_shopify' "
        "and data_type = 'VARCHAR' and table_name not like '_dlt%'",
    )
    leaked = {}
    with duckdb.connect(str(runs.tmp / "build.duckdb"), read_only=True) as con:
        for table, column in columns:
            values = {
                v for (v,) in con.execute(f'select distinct "{column}" from raw_shopify."{table}"').fetchall()
            }
            hits = values & secrets
            if hits:
                leaked[f"{table}.{column}"] = sorted(hits)[:3]
    assert leaked == {}
    (hashed,) = query(runs.tmp, "select count(*) from raw_shopify.orders where customer__email like 'h:%'")[0]
    assert hashed > 0, "buyers stay recognisable through a keyed hash"


def test_products_and_inventory_levels_land_with_the_listed_stock(runs: Runs):
    listings = runs.world.shop(SHOP, "listings")
    (variants,) = query(runs.tmp, "select count(*) from raw_shopify.products__variants")[0]
    assert variants == len(listings)
    (levels, located) = query(
        runs.tmp,
        "select count(*), count(*) filter (where location_id = 1001) from raw_shopify.inventory_levels",
    )[0]
    assert levels == located == len(listings)


# ------------------------------------------------------------------------------------------------------------ #
# rate limits, faults and errors


def test_a_429_is_retried_after_retry_after_and_every_order_lands(world: World, tmp_path: Path):
    now = world_end(world) - timedelta(days=10)
    sandbox = start_sandbox(world, now, bucket_size=2, leak_per_second=20.0)
    try:
        load_shop(new_pipeline(tmp_path), **source_kwargs(sandbox, page_limit=50))
        statuses = [call["status"] for call in orders_calls(sandbox)]
    finally:
        sandbox.server.stop()
    assert 429 in statuses
    assert statuses[-1] == 200
    truth = truth_at(world, now)
    result = landed(tmp_path)
    assert (result.orders, result.total_price) == (truth.orders, truth.total_price)


def test_a_failing_store_is_retried_with_backoff_and_the_load_completes(world: World, tmp_path: Path):
    now = world_end(world) - timedelta(days=20)
    sandbox = start_sandbox(world, now)
    try:
        sandbox.fail_next(503, 2)
        with ShopifyClient(SHOP, sandbox.url, TOKEN, sleep=lambda _: None) as client:
            pages = list(client.paginate("orders.json", {"status": "any", "limit": 250}))
        statuses = [call["status"] for call in orders_calls(sandbox)]
    finally:
        sandbox.server.stop()
    assert statuses[:3] == [503, 503, 200]
    assert sum(len(page) for page in pages) == truth_at(world, now).orders


def test_a_wrong_token_fails_naming_the_shop_and_env_var_but_not_the_token(world: World, tmp_path: Path):
    sandbox = start_sandbox(world, world_end(world))
    wrong = "shpat_expired_token_000111"
    try:
        with pytest.raises(Exception) as caught:
            load_shop(new_pipeline(tmp_path), **source_kwargs(sandbox, token=wrong))
        statuses = [call["status"] for call in orders_calls(sandbox)]
    finally:
        sandbox.server.stop()
    error = caught.value
    chain = [error]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    auth = [e for e in chain if isinstance(e, ShopifyAuthError)]
    assert auth, f"expected a ShopifyAuthError in {chain!r}"
    message = str(auth[0])
    assert SHOP in message and "SHOPIFY_GLOBAL_TOKEN" in message
    assert all(wrong not in str(e) and TOKEN not in str(e) for e in chain)
    assert statuses and set(statuses) == {401}


def test_a_body_that_is_not_json_fails_naming_the_shop_and_the_path():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>login</html>"))
    client = ShopifyClient(SHOP, "https://example.myshopify.com", TOKEN, transport=transport)
    with pytest.raises(ShopifyResponseError) as caught:
        list(client.paginate("orders.json", {"status": "any"}))
    assert SHOP in str(caught.value) and "/admin/api/2025-07/orders.json" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_setting_an_inventory_level_changes_what_the_store_lists(world: World):
    sandbox = start_sandbox(world, world_end(world))
    try:
        with ShopifyClient(SHOP, sandbox.url, TOKEN) as client:
            (levels,) = client.paginate("inventory_levels.json", {"location_ids": "1001", "limit": 250})
            item = levels[0]["inventory_item_id"]
            answer = set_inventory_level(client, "1001", item, 37)
            body, _ = client.get(
                "inventory_levels.json", {"inventory_item_ids": str(item), "location_ids": "1001"}
            )
    finally:
        sandbox.server.stop()
    assert answer["available"] == 37 and answer["inventory_item_id"] == item
    assert [level["available"] for level in body["inventory_levels"]] == [37]


# ------------------------------------------------------------------------------------------------------------ #
# Shopify Payments: payouts and balance transactions


def payments_calls(sandbox: Sandbox, name: str) -> list[dict]:
    return [r for r in sandbox.requests() if r["path"].endswith(f"shopify_payments/{name}")]


def world_ledger(world: World) -> dict[str, Decimal]:
    """The world's settlement lines of the store, summed by kind (what its ledger must add up to)."""
    lines = world.shop(SHOP, "bill_lines")
    return {kind: sum(group["amount"], Decimal("0")) for kind, group in lines.groupby("type")}


@dataclass
class PaymentRuns:
    tmp: Path
    first_open: int
    first_max_id: int
    second_transactions_query: dict
    second_payouts_query: dict


@pytest.fixture(scope="module")
def payment_runs(world: World, tmp_path_factory: pytest.TempPathFactory) -> PaymentRuns:
    """A first load 4 days before the world's end (recent transactions not yet paid out), then a second load
    once every payout is paid."""
    tmp = tmp_path_factory.mktemp("shopify_payments")
    end = world_end(world)
    sandbox = start_sandbox(world, end - timedelta(days=4))
    try:
        load_shop(new_pipeline(tmp), **source_kwargs(sandbox))
        ((first_open, first_max_id),) = query(
            tmp,
            "select count(*) filter (where payout_status != 'paid'), max(id) "
            "from raw_shopify.balance_transactions",
        )
        sandbox.reset_log()
        sandbox.set_clock(end + timedelta(days=5))
        load_shop(new_pipeline(tmp), **source_kwargs(sandbox))
        (second_transactions,) = payments_calls(sandbox, "balance/transactions.json")[:1]
        (second_payouts,) = payments_calls(sandbox, "payouts.json")[:1]
    finally:
        sandbox.server.stop()
    return PaymentRuns(tmp, first_open, first_max_id, second_transactions["query"], second_payouts["query"])


def test_balance_transactions_land_with_the_stores_charges_fees_and_refunds_to_the_cent(
    payment_runs: PaymentRuns, world: World
):
    truth = world_ledger(world)
    ((charges, fees, refunds, duplicates),) = query(
        payment_runs.tmp,
        "select sum(amount) filter (where type = 'charge'), sum(fee) filter (where type = 'charge'), "
        "coalesce(sum(amount) filter (where type = 'refund'), 0), count(*) - count(distinct id) "
        "from raw_shopify.balance_transactions",
    )
    assert (charges, -fees, refunds) == (truth["income"], truth["service_fee"], truth.get("refund", 0))
    assert duplicates == 0, "a re-read transaction is updated in place"
    ((paid_out, statuses),) = query(
        payment_runs.tmp,
        "select sum(amount), list(distinct status) from raw_shopify.payouts",
    )
    assert paid_out == sum(truth.values(), Decimal("0")) and statuses == ["paid"]


def test_a_rerun_reads_the_ledger_again_only_from_the_oldest_transaction_not_yet_paid_out(
    payment_runs: PaymentRuns,
):
    assert payment_runs.first_open > 0, "the first load should see transactions not yet paid out"
    since_id = int(payment_runs.second_transactions_query["since_id"])
    assert since_id < payment_runs.first_max_id
    ((reread, paid_now),) = query(
        payment_runs.tmp,
        f"select count(*) filter (where id > {payment_runs.first_max_id}), "
        f"count(*) filter (where id > {since_id} and payout_status = 'paid') "
        "from raw_shopify.balance_transactions",
    )
    assert reread > 0 and paid_now >= payment_runs.first_open
    # payouts are asked again from the first one still moving to the bank
    assert date.fromisoformat(payment_runs.second_payouts_query["date_min"]) > date(2024, 1, 1)


def test_payments_money_is_decimal_18_2_and_ids_are_integers(payment_runs: PaymentRuns):
    types = dict(
        ((table, column), kind)
        for table, column, kind in query(
            payment_runs.tmp,
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_shopify' and table_name in ('payouts', 'balance_transactions')",
        )
    )
    money = [("balance_transactions", c) for c in ("amount", "fee", "net")] + [
        ("payouts", "amount"), ("payouts", "summary__charges_fee_amount"), ("payouts", "summary__refunds_gross_amount"),
    ]  # fmt: skip
    assert {key: types.get(key) for key in money} == {key: "DECIMAL(18,2)" for key in money}
    assert types[("balance_transactions", "source_order_id")] == "BIGINT"
    assert types[("payouts", "date")] == "DATE"


PAYMENTS_COLUMNS_STAGING_READS = {
    "payouts": {"shop_id", "id", "status", "date", "currency", "amount", "summary__charges_gross_amount",
                "summary__charges_fee_amount", "summary__refunds_gross_amount", "summary__refunds_fee_amount",
                "summary__adjustments_gross_amount", "summary__adjustments_fee_amount"},
    "balance_transactions": {"shop_id", "id", "type", "test", "payout_id", "payout_status", "currency", "amount",
                             "fee", "net", "source_id", "source_type", "source_order_id",
                             "source_order_transaction_id", "processed_at"},
}  # fmt: skip


@pytest.mark.parametrize("payments", [False, True], ids=["without_shopify_payments", "no_payout_yet"])
def test_a_store_without_payments_or_payouts_loads_empty_payments_tables_with_their_columns(
    world: World, tmp_path: Path, payments: bool
):
    first_order = _ts(world.shop(SHOP, "orders")["created_at"]).min().to_pydatetime()
    now = world_end(world) if not payments else first_order + timedelta(days=1)  # nothing settled yet
    sandbox = start_sandbox(world, now, payments=payments)
    try:
        load_shop(new_pipeline(tmp_path), **source_kwargs(sandbox))
        statuses = {c["status"] for c in sandbox.requests() if "shopify_payments" in c["path"]}
    finally:
        sandbox.server.stop()
    assert statuses == ({404} if not payments else {200})
    for table, wanted in PAYMENTS_COLUMNS_STAGING_READS.items():
        columns = {c for (c,) in query(tmp_path, "select column_name from information_schema.columns "
                                                 f"where table_schema = 'raw_shopify' and table_name = '{table}'")}  # fmt: skip
        assert wanted <= columns, (table, wanted - columns)
        assert query(tmp_path, f"select count(*) from raw_shopify.{table}") == [(0,)]
    assert landed(tmp_path).orders > 0, "the orders still land"


# the fault mode the marketplaces have, and each kind of refusal with its own exception and message


def test_under_the_sandbox_s_fault_mode_the_load_equals_the_world_with_no_order_twice(
    world: World, tmp_path: Path
):
    now = world_end(world)
    faults = Faults(FaultConfig(rate=0.3, seed=48, timeout_seconds=0.2))
    sandbox = start_sandbox(world, now, faults=faults)
    try:
        load_shop(new_pipeline(tmp_path), **source_kwargs(sandbox, page_limit=50))
        injected = httpx.get(f"{sandbox.url}/_sandbox/faults").json()["counts"]
        moved = [r for r in sandbox.requests() if r.get("fault") == "overlap" and "page_info" in r["query"]]
    finally:
        sandbox.server.stop()
    assert set(injected) == set(KINDS), injected  # every kind really happened
    assert moved  # at least one page repeated records of the page before
    truth, result = truth_at(world, now), landed(tmp_path)
    assert (result.orders, result.total_price) == (truth.orders, truth.total_price)
    assert (result.line_items, result.line_price) == (truth.line_items, truth.line_price)
    assert (result.refund_lines, result.refund_amount) == (truth.refund_lines, truth.refund_amount)
    assert query(tmp_path, "select count(*) - count(distinct id) from raw_shopify.orders") == [(0,)]


def test_the_fault_mode_throttles_with_shopify_s_own_429_and_retry_after(world: World):
    sandbox = start_sandbox(
        world, world_end(world), faults=Faults(FaultConfig(rate=1.0, kinds=("throttle",)))
    )
    try:
        response = httpx.get(
            f"{sandbox.url}/admin/api/2025-07/orders.json", headers={"X-Shopify-Access-Token": TOKEN}
        )
    finally:
        sandbox.server.stop()
    assert response.status_code == 429 and response.headers["Retry-After"] == "1.0"
    assert "errors" in response.json()


def _mock_client(answers: list[httpx.Response], sleeps: list[float]) -> ShopifyClient:
    queue = list(answers)
    return ShopifyClient(SHOP, "https://example.myshopify.com", TOKEN, sleep=sleeps.append,
                         transport=httpx.MockTransport(lambda request: queue.pop(0)))  # fmt: skip


@pytest.mark.parametrize(
    ("status", "errors", "expected", "says", "never_says"),
    [
        (401, "[API] Invalid API key or access token", ShopifyAuthError, ["renew", "SHOPIFY_GLOBAL_TOKEN"], []),
        (403, "[API] This action requires merchant approval for read_orders scope.", ShopifyPermissionError,
         ["scope", "read_orders"], ["renew"]),
        (404, "Not Found", ShopifyNotFoundError, ["base_url", "api_version"], ["renew"]),
        (418, "I'm a teapot", ShopifyUnknownStatusError, ["does not know"], ["renew"]),
    ],
)  # fmt: skip
def test_each_kind_of_refusal_gives_its_own_exception_naming_shop_status_and_shopify_s_words(
    status, errors, expected, says, never_says
):
    sleeps: list[float] = []
    with pytest.raises(ShopifyError) as caught:
        _mock_client([httpx.Response(status, json={"errors": errors})], sleeps).get("orders.json")
    message = str(caught.value)
    assert type(caught.value) is expected and caught.value.status == status
    assert message.startswith(f"Shopify shop {SHOP}:") and f"HTTP {status}: {errors}" in message
    assert all(part.lower() in message.lower() for part in says), message
    assert not any(part.lower() in message.lower() for part in never_says), message
    assert TOKEN not in message and sleeps == []


def test_a_json_answer_cut_short_is_read_again_and_one_that_never_parses_says_which_shop_and_path():
    sleeps: list[float] = []
    cut = httpx.Response(200, content=b'{"orders": [{"id": 1', headers={"content-type": "application/json"})
    whole = httpx.Response(200, json={"orders": []})
    assert _mock_client([cut, whole], sleeps).get("orders.json")[0] == {"orders": []}
    assert len(sleeps) == 1
    with pytest.raises(ShopifyResponseError, match=f"Shopify shop {SHOP}: /admin/api/2025-07/orders.json"):
        _mock_client([cut] * 5, sleeps).get("orders.json")
