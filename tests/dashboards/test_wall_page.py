"""大屏 The wall screen over the built warehouse: today's GMV and orders equal the marts, the same-time
comparisons count only orders created by that time of day, no filters are drawn (and the others' filters
survive a visit), a new publish is read on the next refresh."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import wall_board
from dashboards.filters import SHOPS_KEY
from dashboards.format import integer, money, money_whole, percent
from dashboards.settings import SettingsError, wall_refresh_seconds

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def wall(serve: Path, monkeypatch: pytest.MonkeyPatch, **state: object) -> AppTest:
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(serve))
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("views/wall.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cards(at: AppTest) -> dict[str, str]:
    """data-testid of each big number -> its text."""
    found = {}
    for element in at.get("html"):
        match = re.search(r'class="wall-value"[^>]*data-testid="(wall-[a-z]+)">([^<]*)<', element.value)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def html_text(at: AppTest) -> str:
    return "\n".join(e.value for e in at.get("html"))


def frame(serve: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(serve), read_only=True) as con:
        return con.execute(sql).df()


def test_todays_gmv_and_orders_equal_the_last_day_of_daily_shop_sales(built_serve_path, monkeypatch):
    at = wall(built_serve_path, monkeypatch)

    day = frame(
        built_serve_path,
        "select sum(gmv_cny) as gmv, sum(orders) as orders from marts.daily_shop_sales "
        "where order_date = (select max(order_date) from marts.customer_orders)",
    ).iloc[0]
    assert cards(at) == {"wall-gmv": money(day["gmv"]), "wall-orders": integer(day["orders"])}


def test_the_head_shows_the_time_of_the_last_refresh_as_a_clock(built_serve_path, monkeypatch):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    before = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    at = wall(built_serve_path, monkeypatch)
    after = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))

    shown = re.findall(r"刷新于 (\d\d:\d\d)", html_text(at))
    assert shown and shown[0] in {before.strftime("%H:%M"), after.strftime("%H:%M")}


def test_the_same_time_yesterday_and_last_week_count_only_orders_created_by_that_time_of_day(
    built_serve_path, tmp_path, monkeypatch
):
    # A snapshot taken at noon: today's orders after 12:00 (Shanghai) are not in it yet.
    noon = tmp_path / "serve.duckdb"
    shutil.copy(built_serve_path, noon)
    with duckdb.connect(str(noon)) as con:
        con.execute(
            "delete from marts.customer_orders where order_date = (select max(order_date) from "
            "marts.customer_orders) and created_at > (order_date::timestamp + interval 4 hour)::timestamptz"
        )
    at = wall(noon, monkeypatch)

    orders = frame(noon, "select order_id, order_date, created_at from marts.customer_orders")
    lines = frame(noon, "select order_id, list_amount_cny from marts.order_line_margins")
    gmv = lines.groupby("order_id")["list_amount_cny"].sum()
    now, today = orders["created_at"].max(), orders["order_date"].max()
    assert now.tz_convert("Asia/Shanghai").hour < 12
    text = html_text(at)
    for days, label in ((1, "较昨日同时"), (7, "较上周同时")):
        then = orders[
            (orders["order_date"] == today - timedelta(days=days))
            & (orders["created_at"] <= now - timedelta(days=days))
        ]
        whole_day = orders[orders["order_date"] == today - timedelta(days=days)]
        assert 0 < len(then) < len(whole_day)  # the same time of day, not the whole day
        expected_gmv = money(round(gmv.reindex(then["order_id"]).fillna(0).sum(), 2))
        assert re.search(rf"{label}<b[^>]*>[^<]*</b>{re.escape(expected_gmv)}</div>", text), (
            label,
            expected_gmv,
        )
        assert re.search(rf"{label}<b[^>]*>[^<]*</b>{re.escape(integer(len(then)))}</div>", text), label


def panel_rows(at: AppTest, test_id: str) -> list[dict[str, str]]:
    """The bars of a wall panel (data-testid `test_id`): their data-label / data-value / data-note."""
    (panel,) = [e.value for e in at.get("html") if f'data-testid="{test_id}"' in e.value]
    return [
        dict(re.findall(r'data-(label|value|note)="([^"]*)"', bar))
        for bar in re.findall(r'<div class="wall-[hv]bar" ([^>]*)>', panel)
    ]


def panel_note(at: AppTest, test_id: str) -> str:
    (panel,) = [e.value for e in at.get("html") if f'data-testid="{test_id}"' in e.value]
    return re.search(r'<div class="wall-panel-note">([^<]*)</div>', panel).group(1)


def test_the_7_day_trend_shows_each_whole_days_gmv_and_orders_before_today(built_serve_path, monkeypatch):
    at = wall(built_serve_path, monkeypatch)

    days = frame(
        built_serve_path,
        "with today as (select max(order_date) as d from marts.customer_orders) "
        "select order_date, sum(gmv_cny) as gmv, sum(orders) as orders from marts.daily_shop_sales, today "
        "where order_date >= today.d - 7 and order_date < today.d group by order_date order by order_date",
    )
    assert len(days) == 7  # the test shop sells every day
    weekdays = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    assert panel_rows(at, "wall-trend") == [
        {
            "label": f"{day.order_date:%m-%d} {weekdays[day.order_date.weekday()]}",
            "value": money_whole(day.gmv),
            "note": f"{integer(day.orders)} 单",
        }
        for day in days.itertuples()
    ]
    first, last = days["order_date"].iloc[0], days["order_date"].iloc[-1]
    assert panel_note(at, "wall-trend").startswith(f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}（不含今日）")


def test_the_margin_per_shop_is_this_months_and_last_months_contribution_margin_over_net_revenue(
    built_serve_path, monkeypatch
):
    at = wall(built_serve_path, monkeypatch)

    # from the order lines, not the monthly mart the wall reads: the same windows by order date
    today = pd.Timestamp(
        frame(built_serve_path, "select max(order_date) as d from marts.customer_orders")["d"].iloc[0]
    ).date()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    lines = frame(
        built_serve_path,
        "select s.shop_name, l.order_date, l.contribution_margin_cny, l.net_revenue_cny "
        "from marts.order_line_margins as l join marts.shops as s using (shop_id)",
    )
    lines["order_date"] = pd.to_datetime(lines["order_date"]).dt.date

    def pct(rows: pd.DataFrame) -> str:
        revenue = rows["net_revenue_cny"].sum()
        return percent(float(rows["contribution_margin_cny"].sum()) / float(revenue)) if revenue else "—"

    expected = {}
    for shop, rows in lines.groupby("shop_name"):
        this = rows[(rows["order_date"] >= this_month) & (rows["order_date"] <= today)]
        last = rows[(rows["order_date"] >= last_month) & (rows["order_date"] < this_month)]
        expected[shop] = {"label": shop, "value": pct(this), "note": f"上月 {pct(last)}"}
    shown = {row["label"]: row for row in panel_rows(at, "wall-margin")}
    assert shown == expected
    assert {row["value"] for row in shown.values()} != {"—"}  # some margin this month to compare at all
    assert panel_note(at, "wall-margin").startswith(
        f"本月 {this_month:%Y-%m-%d} 至 {today:%Y-%m-%d} · 上月 {last_month:%Y-%m}"
    )


def test_todays_shop_split_adds_up_to_todays_gmv(built_serve_path, monkeypatch):
    at = wall(built_serve_path, monkeypatch)

    by_shop = frame(
        built_serve_path,
        "select coalesce(s.shop_name, d.shop_id) as shop_name, sum(d.gmv_cny) as gmv "
        "from marts.daily_shop_sales as d join marts.shops as s using (shop_id) "
        "where d.order_date = (select max(order_date) from marts.customer_orders) group by 1",
    )
    shown = {row["label"]: row["value"] for row in panel_rows(at, "wall-split")}
    assert {k: v for k, v in shown.items() if v != money_whole(0)} == {
        row.shop_name: money_whole(row.gmv) for row in by_shop.itertuples() if row.gmv
    }


def test_the_tickers_list_low_stock_and_the_review_queue(built_serve_path, monkeypatch):
    at = wall(built_serve_path, monkeypatch)

    text = html_text(at)
    low = frame(
        built_serve_path,
        "select sku from marts.inventory_health left join marts.replenishment_suggestions using (sku) "
        "where health_status in ('oversold', 'stockout') "
        "or (health_status = 'at_risk' and decision is distinct from 'covered_by_open_pos')",
    )
    covered = frame(
        built_serve_path,
        "select sku from marts.inventory_health join marts.replenishment_suggestions using (sku) "
        "where health_status = 'at_risk' and decision = 'covered_by_open_pos'",
    )
    queue = frame(
        built_serve_path,
        "select platform_order_id from marts.order_exceptions order by created_at desc, order_id",
    )
    assert all(sku in text for sku in low["sku"])
    # an at-risk SKU its open purchase orders already cover needs nobody: not on the wall
    assert not any(sku in text for sku in covered["sku"])
    assert f"待审订单 {len(queue)}" in text
    assert queue["platform_order_id"].iloc[0] in text  # the newest order heads the ticker


def test_the_wall_draws_no_filters_and_the_filters_survive_a_visit(built_serve_path, monkeypatch):
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(built_serve_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.multiselect(key=SHOPS_KEY).set_value(["jd_pop"]).run()

    at.switch_page("views/wall.py").run()
    assert not at.exception
    assert not at.multiselect and not at.date_input and not at.sidebar.children
    assert wall_board.STYLE.strip() in [e.value.strip() for e in at.get("html")]

    at.switch_page("views/overview.py").run()
    assert at.multiselect(key=SHOPS_KEY).value == ["jd_pop"]


def test_a_new_publish_is_read_on_the_next_refresh(built_serve_path, tmp_path, monkeypatch):
    live = tmp_path / "serve.duckdb"
    shutil.copy(built_serve_path, live)
    at = wall(live, monkeypatch)
    before = cards(at)["wall-gmv"]

    staged = tmp_path / ".serve.duckdb.next"
    shutil.copy(live, staged)
    with duckdb.connect(str(staged)) as con:
        con.execute(
            "update marts.order_line_margins set list_amount_cny = list_amount_cny + 1000 where order_line_id = "
            "(select min(order_line_id) from marts.order_line_margins where order_id in (select order_id from "
            "marts.customer_orders where order_date = (select max(order_date) from marts.customer_orders)))"
        )
    os.replace(staged, live)
    at.run()

    assert not at.exception
    as_number = lambda s: float(s.replace("¥", "").replace(",", ""))  # noqa: E731
    assert as_number(cards(at)["wall-gmv"]) == pytest.approx(as_number(before) + 1000)


def test_a_missing_serve_file_shows_the_publish_hint_instead_of_an_error(tmp_path, monkeypatch):
    at = wall(tmp_path / "serve.duckdb", monkeypatch, lang="en")

    assert [w.value for w in at.warning] == [
        f"No published warehouse at {tmp_path / 'serve.duckdb'} — run `make demo` or `shopkeep materialize`."
    ]


def test_the_refresh_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("SHOPKEEP_WALL_REFRESH_SECONDS", raising=False)
    assert wall_refresh_seconds() == 30
    monkeypatch.setenv("SHOPKEEP_WALL_REFRESH_SECONDS", "2.5")
    assert wall_refresh_seconds() == 2.5
    for bad in ("soon", "0", "-3", "nan"):
        monkeypatch.setenv("SHOPKEEP_WALL_REFRESH_SECONDS", bad)
        with pytest.raises(SettingsError, match="SHOPKEEP_WALL_REFRESH_SECONDS"):
            wall_refresh_seconds()


def test_a_bad_refresh_interval_is_shown_on_the_wall(built_serve_path, monkeypatch):
    monkeypatch.setenv("SHOPKEEP_WALL_REFRESH_SECONDS", "soon")

    at = wall(built_serve_path, monkeypatch)

    (error,) = [e.value for e in at.error]
    assert "SHOPKEEP_WALL_REFRESH_SECONDS='soon'" in error


def test_cards_and_tickers_escape_their_text_and_colour_the_change():
    card = wall_board.card(
        "今日 <GMV>", "¥1,000.00", [wall_board.Versus("较昨日同时", "+5.0%", "¥952.38")], test_id="wall-gmv"
    )
    assert "今日 &lt;GMV&gt;" in card and 'data-testid="wall-gmv">¥1,000.00<' in card
    assert f'color:{wall_board.UP}">+5.0%' in card
    assert f'color:{wall_board.DOWN}">-1.0%' in wall_board.card(
        "x", "1", [wall_board.Versus("v", "-1.0%", "2")], "t"
    )
    assert f'color:{wall_board.FLAT}">—' in wall_board.card(
        "x", "1", [wall_board.Versus("v", None, "0")], "t"
    )

    bars = wall_board.hbars(
        "毛利率",
        [wall_board.Bar("<天猫>", 0.25, "25.0%"), wall_board.Bar("京东", -0.1, "-10.0%")],
        "wall-margin",
        note="本月",
        scale=1.0,
    )
    assert "&lt;天猫&gt;" in bars and "width:25.0%" in bars
    assert f"width:10.0%;background:{wall_board.DOWN}" in bars  # a loss is a red bar as long as the loss
    assert "暂无" in wall_board.vbars("近 7 日", [], "wall-trend", empty="暂无")
    days = wall_board.vbars(
        "近 7 日", [wall_board.Bar("a", 50.0, "¥50"), wall_board.Bar("b", 200.0, "¥200")], "t"
    )
    assert "height:25.0%" in days and "height:100.0%" in days  # relative to the largest day

    ticker = wall_board.ticker("库存预警", ["缺货 · <b>AP-1</b>"] * 3, empty="无", color="#f59e0b")
    assert ticker.count("wall-ticker-item") == 3 and "&lt;b&gt;AP-1&lt;/b&gt;" in ticker
    assert "animation-duration:20s" in ticker  # at least 20 s per pass
    assert "无" in wall_board.ticker("库存预警", [], empty="无", color="#f59e0b")
