"""The overview page, rendered headlessly with Streamlit's AppTest against the fixture serve.duckdb."""

from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.filters import SHOPS_KEY
from dashboards.format import integer, money

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def run_app(serve: Path, monkeypatch: pytest.MonkeyPatch, **state: object) -> AppTest:
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(serve))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tiles(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def sql_totals(serve: Path, start: date, end: date, shops: list[str] | None = None) -> dict[str, str]:
    """The KPI values computed independently with SQL, formatted as the page shows them."""
    where = "order_date between ? and ?" + (" and shop_id in (select unnest(?))" if shops else "")
    params: list[object] = [start, end] + ([shops] if shops else [])
    with duckdb.connect(str(serve), read_only=True) as con:
        gmv, net_rev, net_sales, orders = con.execute(
            f"select sum(gmv_cny), sum(net_revenue_cny), sum(net_sales_cny), sum(orders) "
            f"from marts.daily_shop_sales where {where}",
            params,
        ).fetchone()
    aov = (net_sales / orders).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {"GMV": money(gmv), "net revenue": money(net_rev), "orders": integer(orders), "AOV": money(aov)}


def shown(at: AppTest) -> dict[str, str]:
    values = {label: value for label, (value, _) in tiles(at).items()}
    return {
        "GMV": values["GMV 成交额"],
        "net revenue": values["净收入"],
        "orders": values["订单数"],
        "AOV": values["客单价"],
    }


def test_the_overview_shows_kpis_equal_to_sql_sums_over_the_last_30_days_of_data(serve_path, monkeypatch):
    at = run_app(serve_path, monkeypatch)

    assert shown(at) == sql_totals(serve_path, date(2026, 6, 1), date(2026, 6, 30))
    assert at.date_input[0].value == (date(2026, 6, 1), date(2026, 6, 30))
    assert shown(at)["GMV"].startswith("¥") and "," in shown(at)["GMV"]


def test_choosing_one_shop_shows_only_that_shops_totals(serve_path, monkeypatch):
    at = run_app(serve_path, monkeypatch)
    all_shops = shown(at)

    at.multiselect(key=SHOPS_KEY).set_value(["jd_pop"]).run()

    assert not at.exception
    assert shown(at) == sql_totals(serve_path, date(2026, 6, 1), date(2026, 6, 30), ["jd_pop"])
    assert shown(at)["GMV"] != all_shops["GMV"]
    table = at.dataframe[0].value
    assert list(table["shop_name"]) == ["京东POP店"]


def test_a_chosen_date_range_drives_kpis_and_the_delta_compares_with_the_equal_prior_period(
    serve_path, monkeypatch
):
    at = run_app(serve_path, monkeypatch)

    at.date_input[0].set_value((date(2026, 5, 1), date(2026, 5, 10))).run()

    assert not at.exception
    assert shown(at) == sql_totals(serve_path, date(2026, 5, 1), date(2026, 5, 10))
    now = sql_totals(serve_path, date(2026, 5, 1), date(2026, 5, 10))
    prior = sql_totals(serve_path, date(2026, 4, 21), date(2026, 4, 30))
    as_number = lambda s: Decimal(s.replace("¥", "").replace(",", ""))  # noqa: E731
    expected = (as_number(now["orders"]) - as_number(prior["orders"])) / as_number(prior["orders"]) * 100
    assert tiles(at)["订单数"][1] == f"{expected:+.1f}%"


def test_the_shop_filter_carries_over_to_the_next_run_and_the_table_lists_each_shop_once(
    serve_path, monkeypatch
):
    at = run_app(serve_path, monkeypatch)
    assert sorted(at.dataframe[0].value["shop_name"]) == sorted(["Shopify 独立站", "天猫旗舰店", "京东POP店"])

    at.multiselect(key=SHOPS_KEY).set_value(["tmall_flagship", "jd_pop"]).run()
    at.run()  # e.g. a rerun after navigating: the global filter stays in session_state

    assert at.multiselect(key=SHOPS_KEY).value == ["tmall_flagship", "jd_pop"]
    assert shown(at) == sql_totals(
        serve_path, date(2026, 6, 1), date(2026, 6, 30), ["tmall_flagship", "jd_pop"]
    )


def test_the_footer_says_when_the_snapshot_was_published_in_shanghai_time(serve_path, monkeypatch):
    at = run_app(serve_path, monkeypatch)

    assert "数据更新于 2026-07-01 09:30 (Asia/Shanghai)" in [c.value for c in at.caption]


def test_switching_to_english_translates_the_tiles_but_not_the_numbers(serve_path, monkeypatch):
    chinese = run_app(serve_path, monkeypatch)
    english = run_app(serve_path, monkeypatch, lang="en")

    assert [m.label for m in english.metric] == ["GMV", "Net revenue", "Orders", "AOV"]
    assert [m.value for m in english.metric] == [m.value for m in chinese.metric]


def test_without_a_serve_file_the_page_says_how_to_publish_instead_of_raising(tmp_path, monkeypatch):
    missing = tmp_path / "serve.duckdb"

    at = run_app(missing, monkeypatch, lang="en")

    assert [w.value for w in at.warning] == [
        f"No published warehouse at {missing} — run `make demo` or `shopkeep materialize`."
    ]
    assert not at.metric


def test_a_new_publish_renamed_over_the_serve_file_is_shown_on_the_next_run(
    serve_path, write_serve_file, tmp_path, monkeypatch
):
    live = tmp_path / "serve.duckdb"
    shutil.copy(serve_path, live)
    at = run_app(live, monkeypatch)
    before = shown(at)

    write_serve_file(tmp_path / "serve.new.duckdb", seed=99)
    os.replace(tmp_path / "serve.new.duckdb", live)  # what the publish step does
    at.run()

    assert not at.exception
    assert shown(at) == sql_totals(live, date(2026, 6, 1), date(2026, 6, 30))
    assert shown(at) != before


def test_without_a_serve_file_the_chinese_page_names_the_path_and_the_commands(tmp_path, monkeypatch):
    missing = tmp_path / "serve.duckdb"

    at = run_app(missing, monkeypatch)

    (warning,) = [w.value for w in at.warning]
    assert str(missing) in warning and "`make demo`" in warning and "`shopkeep materialize`" in warning
