"""对账 Reconciliation over the built warehouse: tiles, the orders to chase and the per-shop table equal
marts.settlement_reconciliation(_monthly), over the range's order months or every month."""

from __future__ import annotations

from dashboards.filters import SHOPS_KEY
from dashboards.format import integer, money
from dashboards.i18n import t
from dashboards.queries import RECON_TO_CHASE
from tests.dashboards.pages_helper import default_dates, month_start, one, render_page, rows, tiles

MONTHLY_SUMS = """
    select sum(matched_orders), sum(matched_orders + amount_mismatch_orders + missing_settlement_orders
               + duplicate_bill_orders),
           sum(amount_mismatch_orders + missing_settlement_orders + duplicate_bill_orders + orphan_bill_orders),
           sum(outstanding_amount), sum(overdue_amount), sum(discrepancy_amount), sum(orphan_amount)
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
            "select shop_id, sum(outstanding_amount) from marts.settlement_reconciliation_monthly "
            "where month between ? and ? group by 1",
            months,
        )
    )
    names = dict(rows(serve, "select shop_name, shop_id from marts.shops"))
    assert {
        names[n]: money(v) for n, v in zip(by_shop["shop_name"], by_shop["outstanding_amount"], strict=True)
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
