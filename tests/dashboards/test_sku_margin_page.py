"""SKU 利润 SKU margin over the built warehouse: the waterfall, tiles and tables equal marts.sku_margins summed
over the order months the date range touches."""

from __future__ import annotations

from decimal import Decimal

import plotly.io

from dashboards.filters import CATEGORIES_KEY, SHOPS_KEY
from dashboards.format import money, percent
from dashboards.queries import finance
from tests.dashboards.pages_helper import default_dates, month_start, one, render_page, rows, tiles

SUMS = "sum(net_sales_cny), sum(refunds_cny), sum(cogs_cny), sum(platform_fees_cny), sum(fulfilment_cost_cny), " \
       "sum(return_cost_cny), sum(net_revenue_cny), sum(contribution_margin_cny)"  # fmt: skip


def test_the_waterfall_and_tiles_equal_the_mart_over_the_months_of_the_range(built_serve_path, monkeypatch):
    serve = built_serve_path
    start, end = default_dates(serve)

    at = render_page(serve, "sku_margin", monkeypatch)

    net_sales, refunds, cogs, fees, fulfilment, returns, net_revenue, margin = one(
        serve, f"select {SUMS} from marts.sku_margins where month between ? and ?", [month_start(start), end]
    )
    estimated = one(
        serve,
        "select sum(platform_fees_cny) filter (where fees_estimated) from marts.order_line_margins "
        "where order_month between ? and ?",
        [month_start(start), end],
    )[0] or Decimal(0)
    assert tiles(at) == {
        "净收入": money(net_revenue),
        "贡献毛利": money(margin),
        "毛利率": percent(margin / net_revenue),
        "预估平台费占比": percent(estimated / fees),
    }
    waterfall = plotly.io.from_json(at.get("plotly_chart")[0].proto.spec).data[0]
    assert waterfall.type == "waterfall"
    steps = (net_sales, -refunds, -cogs, -fees, -fulfilment, -returns, margin)
    assert list(waterfall.y) == [float(v) for v in steps]
    assert waterfall.x[0] == "净销售额" and waterfall.x[-1] == "贡献毛利"


def test_the_negative_margin_list_is_every_sku_and_shop_losing_money_and_the_table_adds_up(
    built_serve_path, monkeypatch
):
    serve = built_serve_path
    start, end = default_dates(serve)

    at = render_page(serve, "sku_margin", monkeypatch)

    losing = rows(
        serve,
        "select sku, shop_id from marts.sku_margins where month between ? and ? group by 1, 2 "
        "having sum(contribution_margin_cny) < 0",
        [month_start(start), end],
    )
    tables = {t.key.split("__")[0]: t.value for t in at.dataframe if t.key}
    negative = tables.get("sku_margin_negative")
    assert (0 if negative is None else len(negative)) == len(losing)
    if negative is not None:
        assert (negative["contribution_margin_cny"].astype(float) < 0).all()
    everything = tables["sku_margin_all"]
    margin = one(
        serve,
        "select sum(contribution_margin_cny) from marts.sku_margins where month between ? and ?",
        [month_start(start), end],
    )[0]
    assert sum(everything["contribution_margin_cny"]) == margin


def test_shop_and_category_filters_cut_the_margin(built_serve_path, monkeypatch):
    serve = built_serve_path
    start, end = default_dates(serve)

    at = render_page(
        serve, "sku_margin", monkeypatch, **{SHOPS_KEY: ["tmall_flagship"], CATEGORIES_KEY: ["snacks"]}
    )

    margin = one(
        serve,
        "select sum(contribution_margin_cny) from marts.sku_margins where month between ? and ? "
        "and shop_id = 'tmall_flagship' and category = 'snacks'",
        [month_start(start), end],
    )[0]
    assert tiles(at)["贡献毛利"] == money(margin)
    table = next(t.value for t in at.dataframe if t.key and t.key.startswith("sku_margin_all"))
    assert set(table["category"]) == {"零食"} and len(set(table["shop_name"])) == 1


def test_a_long_table_shows_the_highest_margins_and_the_largest_losses_and_the_downloads_hold_every_row(
    built_serve_path, monkeypatch
):
    serve = built_serve_path
    start, end = default_dates(serve)
    monkeypatch.setattr(finance, "MARGIN_TABLE_ROWS", 3)

    at = render_page(serve, "sku_margin", monkeypatch)

    by_sku_shop = rows(
        serve,
        "select sku, shop_id, sum(contribution_margin_cny) as margin from marts.sku_margins "
        "where month between ? and ? group by 1, 2",
        [month_start(start), end],
    )
    highest = sorted(by_sku_shop, key=lambda r: (-r[2], r[0], r[1]))[:3]
    worst = sorted((r for r in by_sku_shop if r[2] < 0), key=lambda r: (r[2], r[0], r[1]))[:3]
    tables = {t.key.split("__")[0]: t.value for t in at.dataframe if t.key}
    everything = tables["sku_margin_all"]
    assert list(everything["sku"]) == [r[0] for r in highest]
    assert list(everything["contribution_margin_cny"]) == [r[2] for r in highest]
    negative = tables.get("sku_margin_negative")
    assert ([] if negative is None else list(negative["sku"])) == [r[0] for r in worst]
    captions = [c.value for c in at.caption]
    assert f"显示 3 行，共 {len(by_sku_shop):,} 行（下载文件含全部）" in " ".join(captions)

    # what the downloads write: every SKU × shop, adding up to the mart
    full = finance.margin_by_sku_shop.__wrapped__(str(serve), (0, 0), start, end, (), (), limit=None)
    assert len(full) == len(by_sku_shop)
    assert sum(full["contribution_margin_cny"]) == sum(r[2] for r in by_sku_shop)
    assert list(full["contribution_margin_cny"]) == sorted(full["contribution_margin_cny"], reverse=True)
