"""对账 Reconciliation over the built warehouse: tiles, the orders to chase and the per-shop table equal
marts.settlement_reconciliation(_monthly), over the range's order months or every month; money added across
shops is in CNY (a Shopify store's USD at the month's rate)."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboards.filters import SHOPS_KEY
from dashboards.format import integer, money
from dashboards.i18n import t
from dashboards.queries.finance import RECON_STATUSES, RECON_TO_CHASE
from tests.dashboards.pages_helper import default_dates, month_start, one, render_page, rows, tiles

MONTHLY_SUMS = """
    select sum(matched_orders), sum(matched_orders + amount_mismatch_orders + missing_settlement_orders
               + duplicate_bill_orders),
           sum(amount_mismatch_orders + missing_settlement_orders + duplicate_bill_orders + orphan_bill_orders),
           sum(outstanding_amount_cny), sum(overdue_amount_cny), sum(discrepancy_amount_cny),
           sum(orphan_amount_cny)
    from marts.settlement_reconciliation_monthly
"""


def expected_tiles(serve, where: str = "", params: list | None = None) -> dict[str, str]:
    matched, due, chase, outstanding, overdue, discrepancy, orphan = one(serve, MONTHLY_SUMS + where, params)
    return {
        "对账一致率": f"{matched / due:.2%}",
        "待追查订单": integer(chase),
        "待结算净额": money(outstanding),
        "逾期未结算": money(overdue),
        "结算差额": money(discrepancy),
        "无对应订单账单": money(orphan),
    }


def test_tiles_and_orders_to_chase_equal_the_marts_for_the_months_of_the_range(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path
    start, end = default_dates(serve)
    months = [month_start(start), end]

    at = render_page(serve, "reconciliation", monkeypatch)

    assert tiles(at) == expected_tiles(serve, "where month between ? and ?", months)
    chase = at.dataframe[0].value
    mart = rows(
        serve,
        "select order_id, expected_settlement, settled_amount from marts.settlement_reconciliation "
        "where month between ? and ? and status in (select unnest(?)) order by order_id",
        [*months, list(RECON_TO_CHASE)],
    )
    shown = sorted(zip(chase["order_id"], chase["expected_settlement"], chase["settled_amount"], strict=True))
    as_float = lambda v: None if v is None or v != v else float(v)  # noqa: E731  (NaN on the page = NULL)
    assert [(o, as_float(e), as_float(a)) for o, e, a in shown] == [
        (o, as_float(e), as_float(a)) for o, e, a in mart
    ]
    by_shop = at.dataframe[1].value
    per_shop = dict(
        rows(
            serve,
            "select shop_id, sum(outstanding_amount_cny) from marts.settlement_reconciliation_monthly "
            "where month between ? and ? group by 1",
            months,
        )
    )
    names = dict(rows(serve, "select shop_name, shop_id from marts.shops"))
    assert {
        names[n]: money(v)
        for n, v in zip(by_shop["shop_name"], by_shop["outstanding_amount_cny"], strict=True)
    } == {shop: money(v) for shop, v in per_shop.items()}


def test_all_months_shows_every_bill_error_of_the_world(built_warehouse, demo_stack, monkeypatch):
    serve = built_warehouse.serve_path

    at = render_page(serve, "reconciliation", monkeypatch)
    at.toggle(key="recon_all_months").set_value(True).run()

    assert not at.exception
    assert tiles(at) == expected_tiles(serve)
    chase = at.dataframe[0].value
    status_of = {t(f"reconciliation_status_{s}", lang="zh"): s for s in RECON_TO_CHASE}
    shown = sorted(zip(chase["order_id"], chase["status"].map(status_of), strict=True))
    mart = rows(
        serve,
        "select order_id, status from marts.settlement_reconciliation where status in (select unnest(?)) "
        "order by 1",
        [list(RECON_TO_CHASE)],
    )
    assert shown == mart
    # exactly the bill errors the simulator injected, each under its own status
    errors = demo_stack.world.truth_bill_errors
    assert shown == sorted(
        (f"{shop}:{order}", error)
        for shop, order, error in errors[["shop_id", "order_id", "error"]].itertuples(index=False)
    )


def test_status_filter_and_shop_filter_narrow_the_list(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path

    at = render_page(serve, "reconciliation", monkeypatch, lang="en", **{SHOPS_KEY: ["pdd_main"]})
    at.toggle(key="recon_all_months").set_value(True).run()
    at.multiselect(key="recon_statuses").set_value(["matched"]).run()

    assert not at.exception
    chase = at.dataframe[0].value
    (n,) = one(
        serve,
        "select count(*) from marts.settlement_reconciliation where shop_id = 'pdd_main' and status = 'matched'",
    )
    assert len(chase) == n and set(chase["status"]) == {"Matched"}
    assert list(at.dataframe[1].value["shop_name"]) == ["pdd_main"]


AMOUNTS = ("expected", "settled", "unsettled", "overdue", "discrepancy", "outstanding", "orphan")
MONTHLY_DDL = (
    "create table marts.settlement_reconciliation_monthly (shop_id varchar, month date, orders bigint, "
    + ", ".join(f"{s}_orders bigint" for s in RECON_STATUSES)
    + ", "
    + ", ".join(f"{a}_amount{c} decimal(18,2)" for c in ("", "_cny") for a in AMOUNTS)
    + ", match_rate double)"
)
ORDERS_DDL = """create table marts.settlement_reconciliation (
    order_id varchar, shop_id varchar, channel varchar, platform_order_id varchar, month date, order_date date,
    due_date date, currency varchar, expected_settlement decimal(18,2), settled_amount decimal(18,2),
    difference decimal(18,2), fx_rate decimal(18,6), expected_settlement_cny decimal(18,2),
    settled_amount_cny decimal(18,2), difference_cny decimal(18,2), bill_lines integer,
    duplicated_bill_lines integer, first_settled_date date, last_settled_date date, status varchar,
    as_of_date date)"""


@pytest.fixture
def two_currencies(serve_path: Path, tmp_path: Path) -> Path:
    """The small serve file plus reconciliation marts for June 2026: the Tmall shop (CNY) with ¥110.00 still
    owed, the Shopify store (USD, at 7.20) with $30.00 = ¥216.00 owed on one missing settlement."""
    serve = tmp_path / "serve.duckdb"
    shutil.copy(serve_path, serve)
    statuses = {s: 0 for s in RECON_STATUSES}
    tmall = {**statuses, "matched": 1, "amount_mismatch": 1, "missing_settlement": 1}
    shopify = {**statuses, "matched": 1, "missing_settlement": 1}
    #               expected, settled, unsettled, overdue, discrepancy, outstanding, orphan
    tmall_cny = [300, 190, 100, 100, -10, 110, 0]
    shopify_usd = [50, 20, 30, 30, 0, 30, 0]
    june = date(2026, 6, 1)
    with duckdb.connect(str(serve)) as con:
        # the sidebar's filters read these
        con.execute("create table marts.skus (sku varchar, product_name varchar, category varchar)")
        con.execute("create table marts.inventory_health_by_warehouse (warehouse_id varchar)")
        con.execute(MONTHLY_DDL)
        con.execute(ORDERS_DDL)
        for shop, counts, own, cny in (
            ("tmall_flagship", tmall, tmall_cny, tmall_cny),
            ("shopify_global", shopify, shopify_usd, [Decimal(v) * Decimal("7.2") for v in shopify_usd]),
        ):
            values = [shop, june, sum(counts.values()), *counts.values(), *own, *cny, None]
            marks = ", ".join("?" * len(values))
            con.execute(f"insert into marts.settlement_reconciliation_monthly values ({marks})", values)
        con.executemany(
            "insert into marts.settlement_reconciliation values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, null, null, ?, '2026-06-30')",
            [
                ["tmall_flagship:T1", "tmall_flagship", "taobao", "T1", june, date(2026, 6, 2), date(2026, 6, 12),
                 "CNY", 100, 90, -10, 1, 100, 90, -10, "amount_mismatch"],
                ["tmall_flagship:T2", "tmall_flagship", "taobao", "T2", june, date(2026, 6, 2), date(2026, 6, 12),
                 "CNY", 100, None, None, 1, 100, None, None, "missing_settlement"],
                ["shopify_global:S1", "shopify_global", "shopify", "S1", june, date(2026, 6, 3), date(2026, 6, 10),
                 "USD", 30, None, None, Decimal("7.2"), 216, None, None, "missing_settlement"],
            ],
        )  # fmt: skip
    return serve


def test_a_usd_stores_money_is_added_to_the_totals_in_yuan_at_its_rate(two_currencies, monkeypatch):
    at = render_page(two_currencies, "reconciliation", monkeypatch)

    assert not at.error, [e.value for e in at.error]
    shown = tiles(at)
    assert shown["待结算净额"] == money(Decimal("110.00") + Decimal("216.00"))  # not ¥140.00 (110 + $30)
    assert shown["逾期未结算"] == money(Decimal("100.00") + Decimal("216.00"))
    chase, by_shop = at.dataframe[0].value, at.dataframe[1].value
    # the orders to chase: the store's $30.00 (¥216.00) outweighs Tmall's ¥100.00, shown in its own currency
    first = chase.iloc[0]
    assert (first["order_id"], first["currency"], float(first["expected_settlement"])) == (
        "shopify_global:S1",
        "USD",
        30.0,
    )
    store = by_shop.set_index("shop_name").loc["Shopify 独立站"]
    assert (
        float(store["outstanding_amount_cny"]),
        store["currency"],
        float(store["outstanding_amount"]),
    ) == (
        216.0,
        "USD",
        30.0,
    )
    text = " ".join(str(c.value) for c in at.caption) + " ".join(str(i.value) for i in at.info)
    assert "Shopify 不对账" not in text and "不对账" not in text
