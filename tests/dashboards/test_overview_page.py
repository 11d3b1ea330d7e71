"""经营概览 Overview, rendered headlessly with Streamlit's AppTest against the built warehouse's serve.duckdb:
every tile equals SQL over the marts, the periods compare as they say, filters carry over, a new publish shows."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.filters import CATEGORIES_KEY, DATES_KEY, SHOPS_KEY, default_range
from dashboards.format import integer, local_timestamp, money, pct_change, percent

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
CENT = Decimal("0.01")


def run_app(serve: Path, monkeypatch: pytest.MonkeyPatch, **state: object) -> AppTest:
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(serve))
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def one(serve: Path, sql: str, params: list[object] | None = None) -> tuple:
    with duckdb.connect(str(serve), read_only=True) as con:
        return con.execute(sql, params or []).fetchone()


def data_range(serve: Path) -> tuple[date, date]:
    return one(serve, "select min(order_date), max(order_date) from marts.daily_shop_sales")


def sql_totals(serve: Path, start: date, end: date, shops: list[str] | None = None) -> dict[str, str]:
    """The tiles computed independently: GMV, net revenue, orders and AOV from daily_shop_sales; contribution
    margin and units (master-SKU units) from channel_daily_performance; all formatted as the page shows them."""
    where = "order_date between ? and ?" + (" and shop_id in (select unnest(?))" if shops else "")
    params: list[object] = [start, end] + ([shops] if shops else [])
    gmv, net_rev, net_sales, refunds, orders = one(
        serve,
        "select sum(gmv_cny), sum(net_revenue_cny), sum(net_sales_cny), sum(refunds_cny), sum(orders) "
        f"from marts.daily_shop_sales where {where}",
        params,
    )
    margin, units = one(
        serve,
        "select sum(contribution_margin_cny), sum(units) from marts.channel_daily_performance "
        f"where shop_id != 'all' and {where}",
        params,
    )
    return {
        "GMV 成交额": money(gmv),
        "净收入": money(net_rev),
        "贡献毛利": money(margin),
        "客单价": money((net_sales / orders).quantize(CENT, rounding=ROUND_HALF_UP)),
        "订单数": integer(orders),
        "件数": integer(units),
        "退款率": percent(refunds / net_sales),
    }


def shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def deltas(at: AppTest) -> dict[str, str | None]:
    return {m.label: m.delta for m in at.metric}


def test_the_overview_shows_seven_kpis_equal_to_sql_over_the_last_30_days_of_data(
    built_serve_path, monkeypatch
):
    at = run_app(built_serve_path, monkeypatch)

    start, end = default_range(*data_range(built_serve_path))
    assert shown(at) == sql_totals(built_serve_path, start, end)
    assert at.date_input(key=DATES_KEY).value == (start, end)
    assert shown(at)["GMV 成交额"].startswith("¥") and "," in shown(at)["GMV 成交额"]


def test_choosing_one_shop_shows_only_that_shops_totals(built_serve_path, monkeypatch):
    at = run_app(built_serve_path, monkeypatch)
    all_shops = shown(at)

    at.multiselect(key=SHOPS_KEY).set_value(["jd_pop"]).run()

    assert not at.exception
    start, end = default_range(*data_range(built_serve_path))
    assert shown(at) == sql_totals(built_serve_path, start, end, ["jd_pop"])
    assert shown(at)["GMV 成交额"] != all_shops["GMV 成交额"]
    by_shop = at.dataframe[1].value
    assert list(by_shop["shop_name"]) == ["jd_pop"]


def test_a_chosen_date_range_drives_the_kpis_and_the_delta_compares_with_the_equal_prior_period(
    built_serve_path, monkeypatch
):
    first, last = data_range(built_serve_path)
    start, end = last - timedelta(days=19), last - timedelta(days=10)
    at = run_app(built_serve_path, monkeypatch)

    at.date_input(key=DATES_KEY).set_value((start, end)).run()

    assert not at.exception
    now = sql_totals(built_serve_path, start, end)
    prior = sql_totals(built_serve_path, start - timedelta(days=10), start - timedelta(days=1))
    assert shown(at) == now
    as_number = lambda s: Decimal(s.replace("¥", "").replace(",", ""))  # noqa: E731
    assert deltas(at)["订单数"] == pct_change(as_number(now["订单数"]), as_number(prior["订单数"]))
    assert deltas(at)["GMV 成交额"] == pct_change(
        as_number(now["GMV 成交额"]), as_number(prior["GMV 成交额"])
    )


def test_a_prior_period_before_the_first_order_shows_no_delta_rather_than_a_false_trend(
    built_serve_path, monkeypatch
):
    first, _ = data_range(built_serve_path)
    at = run_app(built_serve_path, monkeypatch)

    at.date_input(key=DATES_KEY).set_value((first, first + timedelta(days=9))).run()

    assert not at.exception
    assert not any(deltas(at).values())


def test_the_today_period_compares_the_last_day_with_the_day_before(built_serve_path, monkeypatch):
    _, last = data_range(built_serve_path)
    at = run_app(built_serve_path, monkeypatch)

    at.segmented_control(key="overview_period").set_value("today").run()

    assert not at.exception
    today = sql_totals(built_serve_path, last, last)
    yesterday = sql_totals(built_serve_path, last - timedelta(days=1), last - timedelta(days=1))
    assert shown(at) == today
    as_number = lambda s: Decimal(s.replace("¥", "").replace(",", ""))  # noqa: E731
    assert deltas(at)["净收入"] == pct_change(as_number(today["净收入"]), as_number(yesterday["净收入"]))


def test_the_comparison_table_lists_today_7_and_30_days_with_their_changes(built_serve_path, monkeypatch):
    _, last = data_range(built_serve_path)
    at = run_app(built_serve_path, monkeypatch)

    table = at.dataframe[0].value.set_index("kpi")

    seven = sql_totals(built_serve_path, last - timedelta(days=6), last)
    prior_seven = sql_totals(built_serve_path, last - timedelta(days=13), last - timedelta(days=7))
    thirty = sql_totals(built_serve_path, last - timedelta(days=29), last)
    assert table.loc["GMV 成交额", "today_value"] == sql_totals(built_serve_path, last, last)["GMV 成交额"]
    assert table.loc["订单数", "7d_value"] == seven["订单数"]
    assert table.loc["贡献毛利", "30d_value"] == thirty["贡献毛利"]
    as_number = lambda s: Decimal(s.replace("¥", "").replace(",", ""))  # noqa: E731
    assert table.loc["订单数", "7d_prior"] == pct_change(
        as_number(seven["订单数"]), as_number(prior_seven["订单数"])
    )
    # 120 days of history: nothing a year back, so no year-on-year change is claimed
    assert set(table["30d_last_year"]) == {"—"}


def test_the_shop_filter_carries_over_to_the_next_run_and_the_table_lists_each_shop_once(
    built_serve_path, monkeypatch
):
    at = run_app(built_serve_path, monkeypatch)
    shops = [r[0] for r in duckdb.connect(str(built_serve_path), read_only=True).execute(
        "select shop_name from marts.shops").fetchall()]  # fmt: skip
    assert sorted(at.dataframe[1].value["shop_name"]) == sorted(shops)

    at.multiselect(key=SHOPS_KEY).set_value(["tmall_flagship", "jd_pop"]).run()
    at.switch_page("views/channels.py").run()
    at.switch_page("views/overview.py").run()

    assert at.multiselect(key=SHOPS_KEY).value == ["tmall_flagship", "jd_pop"]
    start, end = default_range(*data_range(built_serve_path))
    assert shown(at) == sql_totals(built_serve_path, start, end, ["tmall_flagship", "jd_pop"])


def test_the_top_sku_table_follows_the_category_filter_and_equals_daily_sku_sales(
    built_serve_path, monkeypatch
):
    at = run_app(built_serve_path, monkeypatch)

    at.multiselect(key=CATEGORIES_KEY).set_value(["snacks"]).run()

    assert not at.exception
    start, end = default_range(*data_range(built_serve_path))
    top = at.dataframe[2].value
    assert set(top["category"]) == {"零食"}
    sku, net_revenue = one(
        built_serve_path,
        "select sku, sum(net_revenue_cny) as r from marts.daily_sku_sales where category = 'snacks' "
        "and order_date between ? and ? group by sku order by r desc, sku limit 1",
        [start, end],
    )
    assert (top["sku"].iloc[0], round(float(top["net_revenue_cny"].iloc[0]), 2)) == (sku, float(net_revenue))
    # the KPIs add up whole shops: unchanged by the category filter, and the page says so
    assert shown(at) == sql_totals(built_serve_path, start, end)
    assert any("类目筛选作用于下方热销 SKU 表" in c.value for c in at.caption)


def test_the_footer_says_when_the_snapshot_was_published_in_shanghai_time(built_serve_path, monkeypatch):
    at = run_app(built_serve_path, monkeypatch)

    (published,) = one(built_serve_path, "select max(published_at) from meta.publish_log")
    assert f"数据更新于 {local_timestamp(published)}" in [c.value for c in at.caption]


def test_switching_to_english_translates_the_tiles_but_not_the_numbers(built_serve_path, monkeypatch):
    chinese = run_app(built_serve_path, monkeypatch)
    english = run_app(built_serve_path, monkeypatch, lang="en")

    assert [m.label for m in english.metric] == [
        "GMV",
        "Net revenue",
        "Contribution margin",
        "AOV",
        "Orders",
        "Units",
        "Refund rate",
    ]
    assert [m.value for m in english.metric] == [m.value for m in chinese.metric]


def test_without_a_serve_file_the_page_says_how_to_publish_instead_of_raising(tmp_path, monkeypatch):
    missing = tmp_path / "serve.duckdb"

    at = run_app(missing, monkeypatch, lang="en")

    assert [w.value for w in at.warning] == [
        f"No published warehouse at {missing} — run `make demo` or `shopkeep materialize`."
    ]
    assert not at.metric


def test_without_a_serve_file_the_chinese_page_names_the_path_and_the_commands(tmp_path, monkeypatch):
    missing = tmp_path / "serve.duckdb"

    at = run_app(missing, monkeypatch)

    (warning,) = [w.value for w in at.warning]
    assert str(missing) in warning and "`make demo`" in warning and "`shopkeep materialize`" in warning


def publish_modified(source: Path, live: Path, sql: str) -> None:
    """Write a changed copy of `source` and rename it over `live`, as orchestration/publish.py does."""
    staged = live.with_name(f".{live.name}.next")
    shutil.copy(source, staged)
    with duckdb.connect(str(staged)) as con:
        con.execute(sql)
        con.execute("checkpoint")
    os.replace(staged, live)


def test_a_new_publish_renamed_over_the_serve_file_is_shown_on_the_next_run(
    built_serve_path, tmp_path, monkeypatch
):
    live = tmp_path / "serve.duckdb"
    shutil.copy(built_serve_path, live)
    at = run_app(live, monkeypatch)
    before = shown(at)

    _, last = data_range(live)
    publish_modified(
        live,
        live,
        "update marts.channel_daily_performance set gmv_cny = gmv_cny + 1000 "
        f"where shop_id = 'jd_pop' and order_date = date '{last}';"
        "update marts.daily_shop_sales set gmv_cny = gmv_cny + 1000 "
        f"where shop_id = 'jd_pop' and order_date = date '{last}'",
    )
    at.run()

    assert not at.exception
    start, end = default_range(*data_range(live))
    assert shown(at) == sql_totals(live, start, end)
    gmv = lambda s: Decimal(s.replace("¥", "").replace(",", ""))  # noqa: E731
    assert gmv(shown(at)["GMV 成交额"]) - gmv(before["GMV 成交额"]) == 1000


def test_a_refund_rate_over_days_whose_refunds_are_still_coming_is_marked_and_not_compared(
    built_serve_path, monkeypatch
):
    (maturing,) = one(built_serve_path, "select count(*) from marts.dates where is_return_maturing")
    assert maturing > 0, "the newest days of the data are maturing"
    at = run_app(built_serve_path, monkeypatch)
    assert not deltas(at)["退款率"], "the default range ends today: its refund rate is not final"
    assert deltas(at)["订单数"]
    table = at.dataframe[0].value.set_index("kpi")
    assert table.loc["退款率", "7d_value"].endswith("(未定)") and table.loc["退款率", "7d_prior"] == "—"

    first, last = data_range(built_serve_path)
    start, end = last - timedelta(days=59), last - timedelta(days=30)
    at.date_input(key=DATES_KEY).set_value((start, end)).run()
    assert deltas(at)["退款率"], "a range older than the maturity window is compared"
