"""经营月报 Monthly P&L over the built warehouse: its table is marts.shop_monthly_pnl for the months of the range,
its tiles the sums of the mart's columns, shops without an ad report are named, and a manager's target goes to
the ops store (validated, versioned), never to the warehouse."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from dashboards.filters import SHOPS_KEY
from dashboards.format import money, percent
from tests.dashboards.pages_helper import default_dates, month_start, render_page, rows, tiles
from writeback import ops_store as ops


def _pnl(at) -> pd.DataFrame:
    return next(t.value for t in at.dataframe if "lines_fees_estimated" in t.value.columns)


def test_the_monthly_pnl_lists_each_shop_and_month_of_the_range_and_adds_up_to_the_sku_margins(
    built_serve_path, monkeypatch, tmp_path
):
    serve = built_serve_path
    monkeypatch.setenv("SHOPKEEP_OPS_PATH", str(tmp_path / "ops.sqlite"))
    start, end = default_dates(serve)
    at = render_page(serve, "pnl", monkeypatch, **{SHOPS_KEY: ["jd_pop", "tmall_flagship"]})

    pnl = _pnl(at)
    expected = rows(
        serve,
        "select strftime(month, '%Y-%m'), shop_id, orders, contribution_margin_cny, ad_spend_cny, "
        "contribution_after_ads_cny from marts.shop_monthly_pnl "
        "where month between ? and ? and shop_id in ('jd_pop', 'tmall_flagship') order by month desc, shop_id",
        [month_start(start), month_start(end)],
    )
    assert expected
    assert list(pnl["month"]) == [r[0] for r in expected]
    assert [int(o) for o in pnl["orders"]] == [r[2] for r in expected]
    assert [Decimal(str(m)) for m in pnl["contribution_margin_cny"]] == [r[3] for r in expected]
    assert [Decimal(str(m)) for m in pnl["ad_spend_cny"]] == [r[4] for r in expected]
    assert all(r[4] > 0 for r in expected)  # both shops have ad reports in the simulated world
    # the same money as the SKU × shop margins, month by month
    ((diff,),) = rows(
        serve,
        "select max(abs(p.cm - s.cm)) from "
        "(select month, shop_id, sum(contribution_margin_cny) as cm from marts.shop_monthly_pnl group by all) p "
        "join (select month, shop_id, sum(contribution_margin_cny) as cm from marts.sku_margins group by all) s "
        "using (month, shop_id)",
    )
    assert diff == 0
    # the tiles: sums of the mart's columns over the rows shown, ratios of those sums
    revenue, margin, ads, after, orders = rows(
        serve,
        "select sum(net_revenue_cny), sum(contribution_margin_cny), sum(ad_spend_cny), "
        "sum(contribution_after_ads_cny), sum(orders) from marts.shop_monthly_pnl "
        "where month between ? and ? and shop_id in ('jd_pop', 'tmall_flagship')",
        [month_start(start), month_start(end)],
    )[0]
    shown = tiles(at)
    assert shown["推广费用"] == money(ads)
    assert shown["推广后利润"] == money(after) and after == margin - ads
    assert shown["推广后利润率"] == percent(after / revenue)
    assert shown["每单利润"] == money(after / orders)
    assert not [i for i in at.info if "没有导入任何推广报表" in i.value]  # both shops have one


def test_a_shop_without_an_ad_report_is_named_rather_than_shown_as_spending_nothing(
    built_serve_path, monkeypatch, tmp_path
):
    monkeypatch.setenv("SHOPKEEP_OPS_PATH", str(tmp_path / "ops.sqlite"))
    at = render_page(built_serve_path, "pnl", monkeypatch)
    ((name,),) = rows(built_serve_path, "select shop_name from marts.shops where shop_id = 'shopify_global'")
    notes = [i.value for i in at.info if "没有导入任何推广报表" in i.value]
    assert len(notes) == 1 and name in notes[0]


def test_a_managers_target_is_saved_to_the_ops_store_and_a_bad_one_is_refused(
    built_serve_path, monkeypatch, tmp_path
):
    store = tmp_path / "ops.sqlite"
    monkeypatch.setenv("SHOPKEEP_OPS_PATH", str(store))
    at = render_page(built_serve_path, "pnl", monkeypatch)

    at.selectbox(key="pnl_target_shop").set_value("jd_pop")
    month = at.selectbox(key="pnl_target_month").options[0]
    at.text_input(key="pnl_target_revenue").input("120,000")
    at.text_input(key="pnl_target_contribution").input("8000.5")
    next(b for b in at.button if b.label == "保存目标").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success if "已保存" in s.value]
    saved = ops.current_targets(store)
    assert saved[["shop_id", "net_revenue_target", "contribution_target"]].values.tolist() == [
        ["jd_pop", Decimal("120000.00"), Decimal("8000.50")]
    ]
    assert saved["month"].str[:7].tolist() == [month[:7]]  # the month chosen (options are "YYYY-MM")
    assert any("set_by" in t.value.columns for t in at.dataframe)  # the saved targets are listed

    at.text_input(key="pnl_target_revenue").input("很多")
    next(b for b in at.button if b.label == "保存目标").click()
    at.run()
    assert [e.value for e in at.error if "未保存" in e.value and "not a number" in e.value]
    assert len(ops.target_history(store, "jd_pop", saved["month"].map(pd.Timestamp)[0].date())) == 1
    # the warehouse is untouched: targets reach it only through the next build
    ((n,),) = rows(
        built_serve_path,
        "select count(*) from marts.shop_monthly_pnl where net_revenue_target_cny is not null",
    )
    assert n == 0
