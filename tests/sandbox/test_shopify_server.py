"""The Shopify sandbox rejects what Shopify rejects and shows each order as it stood at the sandbox's clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pandas as pd
import pytest

from sandbox import runner, shopify
from sandbox.world import World

SHOP = "shopify_global"
TOKEN = "shpat_server_test_token"
API = "/admin/api/2025-07"
T0 = pd.Timestamp("2026-06-01 02:00", tz="UTC")  # 10:00 in Shanghai


def order_row(n: int, created: pd.Timestamp, **changes) -> dict:
    row = {
        "shop_id": SHOP, "order_id": str(4000 + n), "order_number": f"#{1001 + n}", "created_at": created,
        "paid_at": created + pd.Timedelta(minutes=5), "shipped_at": pd.NaT, "completed_at": pd.NaT,
        "cancelled_at": pd.NaT, "updated_at": created + pd.Timedelta(minutes=5), "status": "paid",
        "currency": "USD", "buyer_id": str(70 + n), "buyer_name": "Ada Lovelace", "buyer_phone": "+1-555-0100",
        "buyer_email": "ada@example.com", "province": "CA", "city": "San Jose", "district": "",
        "address_detail": "1 Analytical Way", "buyer_remark": "", "seller_remark": "",
        "list_amount": Decimal("25.00"), "merchant_discount": Decimal("2.50"), "platform_discount": Decimal("0.00"),
        "shipping_fee": Decimal("4.99"), "paid_amount": Decimal("27.49"), "promo_id": None,
    }  # fmt: skip
    row.update(changes)
    return row


def line_row(n: int) -> dict:
    return {
        "shop_id": SHOP, "order_id": str(4000 + n), "line_id": f"9{4000 + n}", "sku": "AP-0001-M",
        "platform_product_id": "700", "platform_sku_id": "800", "outer_id": "AP-0001-M", "title": "Linen shirt",
        "quantity": 2, "unit_list_price": Decimal("12.50"), "merchant_discount": Decimal("2.50"),
        "platform_discount": Decimal("0.00"), "paid_amount": Decimal("22.50"),
    }  # fmt: skip


def tiny_world(n_orders: int = 7) -> World:
    """Order 0 is paid, shipped on day 2 and refunded on day 5; order 1 is cancelled unpaid; the rest are paid,
    one per hour."""
    orders = [
        order_row(
            0, T0, shipped_at=T0 + pd.Timedelta(days=2), updated_at=T0 + pd.Timedelta(days=5), status="refunded"
        ),
        order_row(1, T0 + pd.Timedelta(hours=1), paid_at=pd.NaT, cancelled_at=T0 + pd.Timedelta(hours=2),
                  updated_at=T0 + pd.Timedelta(hours=2), status="cancelled"),
    ] + [order_row(n, T0 + pd.Timedelta(hours=n)) for n in range(2, n_orders)]  # fmt: skip
    refunds = [
        {
            "shop_id": SHOP, "refund_id": "R1", "order_id": "4000", "line_id": "94000",
            "created_at": T0 + pd.Timedelta(days=5), "quantity": 1, "amount": Decimal("11.25"), "reason": "size",
            "reason_text": "Too small", "goods_returned": True, "restocked": True, "status": "success",
        },
        {
            "shop_id": SHOP, "refund_id": "R2", "order_id": "4002", "line_id": "94002",
            "created_at": T0 + pd.Timedelta(days=1), "quantity": 1, "amount": Decimal("11.25"), "reason": "size",
            "reason_text": "rejected", "goods_returned": False, "restocked": False, "status": "closed",
        },
    ]  # fmt: skip
    listing = {
        "shop_id": SHOP, "sku": "AP-0001-M", "platform_product_id": "700", "platform_sku_id": "800",
        "inventory_item_id": "900", "outer_id": "AP-0001-M", "price": Decimal("12.50"), "title": "Linen shirt",
    }  # fmt: skip
    return World(
        params={},
        tables={
            "shops": pd.DataFrame([{"shop_id": SHOP, "channel": "shopify", "currency": "USD",
                                    "timezone": "Asia/Shanghai"}]),
            "orders": pd.DataFrame(orders),
            "order_lines": pd.DataFrame([line_row(n) for n in range(n_orders)]),
            "refunds": pd.DataFrame(refunds),
            "listings": pd.DataFrame([listing]),
            "products": pd.DataFrame([{"sku": "AP-0001-M", "size": "M"}]),
            "stock_snapshots": pd.DataFrame([
                {"snapshot_date": date(2026, 5, 31), "warehouse_id": "WH-SH", "sku": "AP-0001-M", "on_hand": 99},
                {"snapshot_date": date(2026, 6, 1), "warehouse_id": "WH-SH", "sku": "AP-0001-M", "on_hand": 5},
                {"snapshot_date": date(2026, 6, 1), "warehouse_id": "WH-GZ", "sku": "AP-0001-M", "on_hand": 7},
            ]),
        },
    )  # fmt: skip


@pytest.fixture
def store():
    """A running sandbox store at day 3 (after order 0 shipped, before its refund)."""
    app = shopify.create_app(tiny_world(), shop_id=SHOP, token=TOKEN, now=T0 + pd.Timedelta(days=3))
    server = runner.start(app, "shopify-server-test")
    with httpx.Client(base_url=server.url, headers={"X-Shopify-Access-Token": TOKEN}) as client:
        yield client
    server.stop()


def orders(client: httpx.Client, **params) -> list[dict]:
    response = client.get(f"{API}/orders.json", params={"status": "any", **params})
    assert response.status_code == 200, response.text
    return response.json()["orders"]


def test_a_request_without_the_right_token_is_refused_with_shopifys_401(store: httpx.Client):
    missing = httpx.get(f"{store.base_url}{API}/orders.json")
    wrong = store.get(f"{API}/orders.json", headers={"X-Shopify-Access-Token": "shpat_wrong"})
    expected = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    assert (missing.status_code, missing.json()) == (401, expected)
    assert (wrong.status_code, wrong.json()) == (401, expected)


def test_a_limit_above_250_is_a_400(store: httpx.Client):
    response = store.get(f"{API}/orders.json", params={"limit": 251})
    assert response.status_code == 400 and "limit" in response.json()["errors"]


def test_pages_are_linked_by_page_info_and_page_info_refuses_other_filters(store: httpx.Client):
    first = store.get(f"{API}/orders.json", params={"status": "any", "limit": 3})
    assert 'rel="next"' in first.headers["Link"] and 'rel="previous"' not in first.headers["Link"]
    next_url = httpx.URL(first.headers["Link"].split(";")[0].strip("<>"))
    assert set(next_url.params) == {"limit", "page_info"}
    second = store.get(f"{API}/orders.json", params=dict(next_url.params))
    assert 'rel="previous"' in second.headers["Link"]
    third_url = httpx.URL(second.headers["Link"].split(", ")[-1].split(";")[0].strip("<>"))
    third = store.get(f"{API}/orders.json", params=dict(third_url.params))
    assert "Link" in third.headers and 'rel="next"' not in third.headers["Link"]
    ids = [o["id"] for page in (first, second, third) for o in page.json()["orders"]]
    assert sorted(ids) == sorted(o["id"] for o in orders(store, limit=250)) and len(ids) == len(set(ids)) == 7

    combined = store.get(
        f"{API}/orders.json", params={**next_url.params, "updated_at_min": "2026-01-01T00:00:00Z"}
    )
    assert combined.status_code == 400
    assert "cannot be combined" in combined.json()["errors"]["page_info"][0]


def test_one_page_has_no_link_header(store: httpx.Client):
    response = store.get(f"{API}/orders.json", params={"status": "any", "limit": 250})
    assert response.status_code == 200 and "Link" not in response.headers


def test_orders_come_sorted_by_updated_at_with_money_as_decimal_strings_and_local_offsets(
    store: httpx.Client,
):
    listed = orders(store)
    keys = [(datetime.fromisoformat(o["updated_at"]), o["id"]) for o in listed]
    assert keys == sorted(keys)
    paid = next(o for o in listed if o["id"] == 4003)
    assert paid["created_at"] == "2026-06-01T13:00:00+08:00"
    assert (paid["total_price"], paid["subtotal_price"], paid["total_discounts"], paid["total_tax"]) == (
        "27.49", "22.50", "2.50", "0.00",
    )  # fmt: skip
    assert paid["shipping_lines"][0]["price"] == "4.99" and paid["line_items"][0]["price"] == "12.50"
    assert paid["financial_status"] == "paid" and paid["fulfillment_status"] is None
    assert paid["customer"]["email"] == "ada@example.com" and paid["name"] == "#1004"


def test_the_default_status_open_hides_cancelled_orders(store: httpx.Client):
    open_ids = [o["id"] for o in store.get(f"{API}/orders.json").json()["orders"]]
    assert 4001 not in open_ids and 4001 in [o["id"] for o in orders(store)]


def test_an_order_is_shown_as_it_stood_at_the_clock_and_changes_when_the_clock_moves(store: httpx.Client):
    day3 = {o["id"]: o for o in orders(store)}
    assert day3[4000]["refunds"] == [] and day3[4000]["fulfillment_status"] == "fulfilled"
    assert day3[4000]["financial_status"] == "paid"
    assert day3[4001]["financial_status"] == "voided" and day3[4001]["cancelled_at"] is not None
    assert day3[4002]["refunds"] == [], "a rejected refund never shows"
    since = day3[4000]["updated_at"]

    store.post("/_sandbox/clock", json={"now": (T0 + timedelta(days=6)).isoformat()})
    changed = orders(store, updated_at_min=since)
    assert [o["id"] for o in changed] == [4000]
    refund = changed[0]["refunds"][0]
    assert changed[0]["financial_status"] == "partially_refunded"
    assert changed[0]["updated_at"] == "2026-06-06T10:00:00+08:00"
    assert (
        refund["refund_line_items"][0]["subtotal"] == "11.25"
        and refund["refund_line_items"][0]["quantity"] == 1
    )
    assert refund["transactions"] == [{"amount": "11.25", "kind": "refund", "status": "success"}]


def test_orders_created_after_the_clock_are_not_visible(store: httpx.Client):
    store.post("/_sandbox/clock", json={"now": (T0 + timedelta(hours=3, minutes=30)).isoformat()})
    assert sorted(o["id"] for o in orders(store)) == [4000, 4001, 4002, 4003]


def test_calls_beyond_the_bucket_get_429_with_retry_after():
    app = shopify.create_app(tiny_world(), token=TOKEN, bucket_size=3, leak_per_second=0.5, now=T0)
    server = runner.start(app, "shopify-bucket-test")
    try:
        with httpx.Client(base_url=server.url, headers={"X-Shopify-Access-Token": TOKEN}) as client:
            answers = [client.get(f"{API}/locations.json") for _ in range(4)]
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-Shopify-Shop-Api-Call-Limit"] for a in answers[:3]] == ["1/3", "2/3", "3/3"]
    assert float(answers[3].headers["Retry-After"]) > 0
    assert answers[3].json()["errors"].startswith("Exceeded 2 calls per second")


def test_listed_stock_starts_from_the_latest_snapshot_and_can_be_set(store: httpx.Client):
    (location,) = store.get(f"{API}/locations.json").json()["locations"]
    levels = store.get(f"{API}/inventory_levels.json", params={"location_ids": location["id"]}).json()
    assert [(lv["inventory_item_id"], lv["available"]) for lv in levels["inventory_levels"]] == [(900, 12)]

    answer = store.post(
        f"{API}/inventory_levels/set.json",
        json={"location_id": location["id"], "inventory_item_id": 900, "available": 4},
    )
    assert answer.status_code == 200 and answer.json()["inventory_level"]["available"] == 4
    again = store.get(f"{API}/inventory_levels.json", params={"inventory_item_ids": "900"}).json()
    assert again["inventory_levels"][0]["available"] == 4


@pytest.mark.parametrize(
    "body",
    [
        {"location_id": 1001, "inventory_item_id": 123, "available": 4},
        {"location_id": 1001, "inventory_item_id": 900, "available": "lots"},
        {"location_id": 1001, "inventory_item_id": 900, "available": -3},
        {"location_id": 1001, "inventory_item_id": 900},
    ],
)
def test_setting_stock_of_an_unknown_item_or_to_a_nonsense_value_is_a_422(store: httpx.Client, body: dict):
    answer = store.post(f"{API}/inventory_levels/set.json", json=body)
    assert answer.status_code == 422 and answer.json()["errors"]
    levels = store.get(f"{API}/inventory_levels.json", params={"inventory_item_ids": "900"}).json()
    assert levels["inventory_levels"][0]["available"] == 12


def test_products_list_variants_with_inventory_item_ids(store: httpx.Client):
    (product,) = store.get(f"{API}/products.json").json()["products"]
    assert product["id"] == 700
    assert product["variants"] == [
        {
            "id": 800,
            "product_id": 700,
            "title": "M",
            "sku": "AP-0001-M",
            "price": "12.50",
            "inventory_item_id": 900,
        }
    ]


def test_the_request_log_records_method_path_query_and_status(store: httpx.Client):
    store.post("/_sandbox/reset_log")
    store.get(f"{API}/orders.json", params={"limit": 999})
    (entry,) = store.get("/_sandbox/requests").json()["requests"]
    assert entry == {"method": "GET", "path": f"{API}/orders.json", "query": {"limit": "999"}, "status": 400}


# -- Shopify Payments: balance transactions and payouts ---------------------------------------------------------- #

PAYOUTS = f"{API}/shopify_payments/payouts.json"
TRANSACTIONS = f"{API}/shopify_payments/balance/transactions.json"


def bill(line_id: str, order: int, kind: str, amount: str, day: date) -> dict:
    return {"shop_id": SHOP, "bill_line_id": line_id, "order_id": str(4000 + order), "type": kind,
            "amount": Decimal(amount), "settled_date": day}  # fmt: skip


def paid_out_world() -> World:
    """tiny_world with settlement lines: orders 3 and 4 settle on 3 June (4 with a refund), 5 and 6 on 4 June —
    6 charged twice (two income lines, each with its fee line)."""
    world = tiny_world()
    june3, june4 = date(2026, 6, 3), date(2026, 6, 4)
    lines = [
        bill("BL1", 3, "income", "27.49", june3), bill("BL2", 3, "service_fee", "-0.80", june3),
        bill("BL3", 4, "income", "27.49", june3), bill("BL4", 4, "service_fee", "-0.80", june3),
        bill("BL5", 4, "refund", "-11.25", june3),
        bill("BL6", 5, "income", "27.49", june4), bill("BL7", 5, "service_fee", "-0.80", june4),
        bill("BL8", 6, "income", "27.49", june4), bill("BL9", 6, "service_fee", "-0.80", june4),
        bill("BM1", 6, "income", "27.49", june4), bill("BM2", 6, "service_fee", "-0.80", june4),
    ]  # fmt: skip
    world.tables["bill_lines"] = pd.DataFrame(lines)
    return world


@pytest.fixture
def payments():
    """The store of paid_out_world with its clock at 8 June (every payout paid)."""
    app = shopify.create_app(paid_out_world(), shop_id=SHOP, token=TOKEN, now=T0 + pd.Timedelta(days=7))
    server = runner.start(app, "shopify-payments-test")
    with httpx.Client(base_url=server.url, headers={"X-Shopify-Access-Token": TOKEN}) as client:
        yield client
    server.stop()


def listing(client: httpx.Client, path: str, key: str, **params) -> list[dict]:
    response = client.get(path, params={"limit": 250, **params})
    assert response.status_code == 200, response.text
    return response.json()[key]


def every_page(client: httpx.Client, path: str, key: str) -> list[dict]:
    rows, response = [], client.get(path, params={"limit": 250})
    while True:
        assert response.status_code == 200, response.text
        rows += response.json()[key]
        if 'rel="next"' not in response.headers.get("Link", ""):
            return rows
        next_url = httpx.URL(response.headers["Link"].split(", ")[-1].split(";")[0].strip("<>"))
        response = client.get(path, params=dict(next_url.params))


def set_clock(client: httpx.Client, moment: str) -> None:
    client.post("/_sandbox/clock", json={"now": moment}).raise_for_status()


def test_charges_carry_their_fee_refunds_are_their_own_transactions_and_each_names_its_order(
    payments: httpx.Client,
):
    transactions = listing(payments, TRANSACTIONS, "transactions")
    orders_by_id = {o["id"] for o in orders(payments)}
    for_orders = [t for t in transactions if t["type"] != "payout"]
    assert {t["source_order_id"] for t in for_orders} <= orders_by_id
    summary = sorted((t["source_order_id"], t["type"], t["amount"], t["fee"], t["net"]) for t in for_orders)
    assert summary == [
        (4003, "charge", "27.49", "0.80", "26.69"),
        (4004, "charge", "27.49", "0.80", "26.69"),
        (4004, "refund", "-11.25", "0.00", "-11.25"),
        (4005, "charge", "27.49", "0.80", "26.69"),
        (4006, "charge", "27.49", "0.80", "26.69"),
        (4006, "charge", "27.49", "0.80", "26.69"),
    ]
    assert all(t["currency"] == "USD" and t["test"] is False for t in transactions)
    charge = next(t for t in for_orders if t["source_order_id"] == 4003)
    assert charge["source_type"] == "charge" and charge["source_order_transaction_id"] is not None
    # booked during the settlement's local day (Shanghai)
    booked = datetime.fromisoformat(charge["processed_at"]).astimezone(shopify.ZoneInfo("Asia/Shanghai"))
    assert booked.date() == date(2026, 6, 3)


def test_each_days_transactions_are_paid_out_together_with_a_summary_that_adds_up(payments: httpx.Client):
    payouts = listing(payments, PAYOUTS, "payouts")
    assert [(p["date"], p["status"], p["amount"]) for p in payouts] == [
        ("2026-06-06", "paid", "80.07"),  # 4 June: three charges
        ("2026-06-05", "paid", "42.13"),  # 3 June: two charges, one refund
    ]
    summary = payouts[1]["summary"]
    assert (summary["charges_gross_amount"], summary["charges_fee_amount"]) == ("54.98", "1.60")
    assert (summary["refunds_gross_amount"], summary["refunds_fee_amount"]) == ("-11.25", "0.00")
    for payout in payouts:
        paid_in = listing(payments, TRANSACTIONS, "transactions", payout_id=payout["id"])
        assert {t["payout_id"] for t in paid_in} == {payout["id"]}
        (moved,) = [t for t in paid_in if t["type"] == "payout"]
        assert moved["source_id"] == payout["id"] and moved["amount"] == f"-{payout['amount']}"
        net = sum(Decimal(t["net"]) for t in paid_in if t["type"] != "payout")
        assert net == Decimal(payout["amount"])


def test_a_transaction_is_pending_until_its_payout_is_created_and_the_payout_moves_to_paid(
    payments: httpx.Client,
):
    set_clock(payments, "2026-06-03T12:00:00+00:00")  # 20:00 on 3 June in Shanghai
    transactions = listing(payments, TRANSACTIONS, "transactions")
    assert transactions and {(t["payout_id"], t["payout_status"]) for t in transactions} == {
        (None, "pending")
    }
    assert listing(payments, PAYOUTS, "payouts") == []
    assert listing(payments, TRANSACTIONS, "transactions", payout_status="pending") == transactions

    statuses = []
    for moment in ("2026-06-04T01:00:00+08:00", "2026-06-05T01:00:00+08:00", "2026-06-06T01:00:00+08:00"):
        set_clock(payments, moment)
        payouts = listing(payments, PAYOUTS, "payouts", date="2026-06-05")
        statuses.append([p["status"] for p in payouts])
    assert statuses == [["scheduled"], ["in_transit"], ["paid"]]
    assert listing(payments, PAYOUTS, "payouts", status="in_transit")[0]["date"] == "2026-06-06"


def test_balance_transactions_come_newest_first_in_linked_pages_and_since_id_gives_only_newer_ones(
    payments: httpx.Client,
):
    everything = listing(payments, TRANSACTIONS, "transactions")
    ids = [t["id"] for t in everything]
    assert ids == sorted(ids, reverse=True) and len(ids) == 8  # six for orders, two payouts
    moments = [datetime.fromisoformat(t["processed_at"]) for t in everything]
    assert moments == sorted(moments, reverse=True), "ids grow with processing time"

    first = payments.get(TRANSACTIONS, params={"limit": 3})
    pages, response = [first.json()["transactions"]], first
    while 'rel="next"' in response.headers.get("Link", ""):
        next_url = httpx.URL(response.headers["Link"].split(", ")[-1].split(";")[0].strip("<>"))
        assert set(next_url.params) == {"limit", "page_info"}
        response = payments.get(TRANSACTIONS, params=dict(next_url.params))
        pages.append(response.json()["transactions"])
    assert [t["id"] for page in pages for t in page] == ids and len(pages) == 3
    refused = payments.get(TRANSACTIONS, params={**dict(next_url.params), "since_id": 1})
    assert refused.status_code == 400

    newer = listing(payments, TRANSACTIONS, "transactions", since_id=ids[3])
    assert [t["id"] for t in newer] == ids[:3]
    older = listing(payments, TRANSACTIONS, "transactions", last_id=ids[3])
    assert [t["id"] for t in older] == ids[4:]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (PAYOUTS, {"date_min": "yesterday"}),
        (PAYOUTS, {"status": "lost"}),
        (TRANSACTIONS, {"since_id": "abc"}),
        (TRANSACTIONS, {"limit": 251}),
    ],
)
def test_a_nonsense_payments_filter_is_a_400(payments: httpx.Client, path: str, params: dict):
    answer = payments.get(path, params=params)
    assert answer.status_code == 400 and answer.json()["errors"]


def test_a_store_without_shopify_payments_answers_404_on_both_payments_endpoints():
    app = shopify.create_app(paid_out_world(), token=TOKEN, now=T0 + pd.Timedelta(days=7), payments=False)
    server = runner.start(app, "shopify-no-payments-test")
    try:
        with httpx.Client(base_url=server.url, headers={"X-Shopify-Access-Token": TOKEN}) as client:
            answers = [client.get(PAYOUTS), client.get(TRANSACTIONS), client.get(f"{API}/orders.json")]
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [404, 404, 200]
    assert answers[0].json() == {"errors": "Not Found"}


def test_the_simulated_stores_ledger_is_its_settlement_lines_with_the_injected_discrepancies(small_world):
    end = pd.Timestamp(small_world.params["end_date"]) + pd.Timedelta(days=5)
    app = shopify.create_app(small_world, shop_id=SHOP, token=TOKEN, now=end.tz_localize("Asia/Shanghai"))
    server = runner.start(app, "shopify-ledger-test")
    try:
        with httpx.Client(base_url=server.url, headers={"X-Shopify-Access-Token": TOKEN}) as client:
            transactions = [
                t for t in every_page(client, TRANSACTIONS, "transactions") if t["type"] != "payout"
            ]
            payouts = every_page(client, PAYOUTS, "payouts")
    finally:
        server.stop()
    lines = small_world.shop(SHOP, "bill_lines")
    by_type = lines.groupby("type")["amount"].apply(lambda s: sum(s, Decimal("0")))
    charges = [t for t in transactions if t["type"] == "charge"]
    assert sum(Decimal(t["amount"]) for t in charges) == by_type["income"]
    assert -sum(Decimal(t["fee"]) for t in charges) == by_type["service_fee"]
    assert sum(Decimal(t["amount"]) for t in transactions if t["type"] == "refund") == by_type.get(
        "refund", 0
    )
    assert sum(Decimal(p["amount"]) for p in payouts) == sum(lines["amount"], Decimal("0"))
    assert {p["status"] for p in payouts} == {"paid"}

    errors = small_world.truth_bill_errors
    errors = errors[errors["shop_id"] == SHOP].set_index("error")["order_id"]
    charged = pd.Series([t["source_order_id"] for t in charges]).value_counts()
    assert int(errors["missing_settlement"]) not in charged.index
    assert charged[int(errors["duplicate_bill"])] == 2
    assert (charged.drop(int(errors["duplicate_bill"])) == 1).all()


def test_the_fault_mode_cuts_bodies_fails_with_5xx_and_repeats_records_across_pages(store: httpx.Client):
    first = store.get(f"{API}/orders.json", params={"status": "any", "limit": 3})
    next_url = first.headers["Link"].split(";")[0].strip("<>")
    clean = store.get(next_url).json()["orders"]
    store.post("/_sandbox/faults", json={"rate": 1.0, "seed": 1, "kinds": ["overlap"]})
    moved = store.get(next_url).json()["orders"]
    assert moved[0]["id"] == first.json()["orders"][-1]["id"]  # the page starts inside the page before
    assert [o["id"] for o in moved[1:]] == [o["id"] for o in clean[: len(moved) - 1]]
    store.post("/_sandbox/faults", json={"rate": 1.0, "kinds": ["truncated"]})
    cut = store.get(f"{API}/orders.json", params={"status": "any"})
    assert cut.status_code == 200 and cut.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        cut.json()
    store.post("/_sandbox/faults", json={"rate": 1.0, "kinds": ["server_error"]})
    assert store.get(f"{API}/orders.json").status_code in (500, 502, 503)
    counts = store.get("/_sandbox/faults").json()["counts"]
    assert counts == {"overlap": 1, "truncated": 1, "server_error": 1}
