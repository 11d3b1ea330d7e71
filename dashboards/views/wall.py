"""大屏 Wall screen (url /wall, for a TV): dark, no sidebar, type sized by the screen (wall_board). Today's GMV
and orders against the same time yesterday and last week, today's shop split, GMV and orders of the 7 whole
days before today (queries.wall.wall_trend), the contribution margin per shop this month to date and last month
(queries.wall.wall_shop_margin, from marts.shop_monthly_pnl), and tickers of low stock and orders to review.

It refreshes itself: the board is an `st.fragment(run_every=...)` (settings.wall_refresh_seconds, env
SHOPKEEP_WALL_REFRESH_SECONDS, default 30 s) that re-reads the serving file's version on every tick, so a new
publish shows up without reloading the page and the screen keeps running across publishes. The router draws
no filters here: the wall always shows every shop.

"Now" is the newest order in the snapshot; "the same time yesterday / last week" counts that day's orders up
to now − 1 day / now − 7 days (queries.wall.wall_pace).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboards import notices, wall_board
from dashboards.figures.common import shop_colors
from dashboards.filters import status_label
from dashboards.format import (
    integer,
    local_date,
    local_timestamp,
    money,
    money_whole,
    pct_change,
    percent,
    set_reporting_currency,
)
from dashboards.i18n import STRINGS, t
from dashboards.queries import core, serving, wall
from dashboards.settings import DISPLAY_TIMEZONE, SettingsError, serve_path, wall_refresh_seconds

st.html(wall_board.STYLE)


def _clock(value: datetime) -> str:
    return pd.Timestamp(value).tz_convert(DISPLAY_TIMEZONE).strftime("%H:%M")


def _pace_card(totals: pd.Series, field: str, title: str, fmt, test_id: str) -> str:
    """A big figure for today's `field` with its change against the same time yesterday and last week."""
    versus = [
        wall_board.Versus(
            t(label), pct_change(totals[field], totals[f"{field}_{base}"]), fmt(totals[f"{field}_{base}"])
        )
        for label, base in (("wall_vs_yesterday", "yesterday"), ("wall_vs_last_week", "last_week"))
    ]
    return wall_board.card(title, fmt(totals[field]), versus, test_id=test_id)


def board(path: str) -> None:
    """Everything on the wall, for the snapshot published at `path` right now."""
    version = serving.snapshot_version(path)
    set_reporting_currency(core.reporting_currency(path, version))
    pace = wall.wall_pace(path, version)
    stamp = serving.published_at(path, version)
    if pace.empty:
        st.html(wall_board.head(t("wall_title"), t("wall_no_orders")))
        return
    now_at, today = pace["now_at"].iloc[0], pace["today"].iloc[0]
    as_of = t("wall_as_of", day=local_date(today), time=_clock(now_at))
    if stamp is not None:
        as_of += " · " + t("published_at", ts=local_timestamp(stamp))
    # the wall's clock: this tick's time, so a frozen screen shows (it moves every refresh)
    as_of += " · " + t("wall_refreshed", time=_clock(datetime.now(UTC)))
    st.html(wall_board.head(t("wall_title"), as_of))

    totals = pace[
        [
            "gmv_cny",
            "orders",
            "gmv_cny_yesterday",
            "orders_yesterday",
            "gmv_cny_last_week",
            "orders_last_week",
        ]
    ].sum()
    gmv_card, orders_card, split = st.columns([1, 1, 1.3])
    gmv_card.html(_pace_card(totals, "gmv_cny", t("wall_gmv_today"), money, "wall-gmv"))
    orders_card.html(_pace_card(totals, "orders", t("wall_orders_today"), integer, "wall-orders"))
    colors = shop_colors(core.shops(path, version)["shop_id"])
    split.html(_shop_split(pace, colors))

    trend, margin = st.columns([1.25, 1])
    trend.html(_trend(wall.wall_trend(path, version)))
    margin.html(_shop_margin(wall.wall_shop_margin(path, version), colors))

    low = wall.wall_low_stock(path, version)
    st.html(
        wall_board.ticker(
            t("wall_low_stock"),
            [
                f"{status_label(row.health_status)} · {row.sku} {row.product_name} · "
                + t("wall_available", n=integer(row.available))
                for row in low.itertuples()
            ],
            # no WMS: say so rather than "nothing low" (no stock rows is not "all stocked")
            empty=t("not_configured_stock")
            if notices.absent(path, version, "wms")
            else t("wall_no_low_stock"),
            color="#f59e0b",
        )
    )
    queue = wall.wall_exceptions(path, version)
    size = int(queue["queue_size"].iloc[0]) if not queue.empty else 0
    st.html(
        wall_board.ticker(
            t("wall_exceptions", n=integer(size)),
            [
                f"{row.shop_name} {row.platform_order_id} · {_clock(row.created_at)} · "
                + ", ".join(_reason(r) for r in row.reasons)
                for row in queue.itertuples()
            ],
            empty=t("wall_no_exceptions"),
            color="#ef4444",
        )
    )


def _shop_split(pace: pd.DataFrame, colors: dict[str, str]) -> str:
    """Today's GMV per shop, largest first, with its share of the day."""
    total = float(pace["gmv_cny"].sum())
    bars = [
        wall_board.Bar(
            label=str(row.shop_name),
            value=float(row.gmv_cny),
            shown=money_whole(row.gmv_cny),
            note=percent(float(row.gmv_cny) / total, 0) if total > 0 else "",
            color=colors.get(str(row.shop_id), wall_board.BAR),
        )
        for row in pace.sort_values(["gmv_cny", "shop_id"], ascending=[False, True]).itertuples()
    ]
    return wall_board.hbars(t("wall_split_title"), bars, "wall-split", row="wall-cards-row")


def _trend(days: pd.DataFrame) -> str:
    """GMV (bars) and orders of each of the 7 whole days before today, all shops."""
    weekdays = t("wall_weekdays").split(",")
    bars = [
        wall_board.Bar(
            label=f"{pd.Timestamp(row.order_date):%m-%d} {weekdays[pd.Timestamp(row.order_date).weekday()]}",
            value=float(row.gmv_cny),
            shown=money_whole(row.gmv_cny),
            note=t("wall_trend_orders", n=integer(row.orders)),
        )
        for row in days.itertuples()
    ]
    note = (
        t(
            "wall_trend_window",
            first=local_date(days["order_date"].iloc[0]),
            last=local_date(days["order_date"].iloc[-1]),
        )
        if not days.empty
        else ""
    )
    return wall_board.vbars(
        t("wall_trend_title"), bars, "wall-trend", note=note, empty=t("wall_no_orders"), row="wall-panels-row"
    )


def _margin_pct(margin, net_revenue) -> float | None:
    """The mart's margin_pct over a window: its summed numerator over its summed denominator."""
    return float(margin) / float(net_revenue) if net_revenue else None


def _shop_margin(shops: pd.DataFrame, colors: dict[str, str]) -> str:
    """Contribution margin % per shop this month to date, last month's beside it."""
    bars = []
    for row in shops.itertuples():
        this = _margin_pct(row.this_margin_cny, row.this_net_revenue_cny)
        last = _margin_pct(row.last_margin_cny, row.last_net_revenue_cny)
        if this is None and last is None:
            continue  # a shop with no sales in either month
        bars.append(
            wall_board.Bar(
                label=str(row.shop_name),
                value=this,
                shown=percent(this),
                note=t("wall_margin_last", pct=percent(last)),
                color=colors.get(str(row.shop_id), wall_board.BAR),
            )
        )
    note = ""
    if not shops.empty:
        first = shops["this_month"].iloc[0]
        note = t(
            "wall_margin_window",
            first=local_date(first),
            today=local_date(shops["today"].iloc[0]),
            last_month=f"{pd.Timestamp(shops['last_month'].iloc[0]):%Y-%m}",
        )
    return wall_board.hbars(
        t("wall_margin_title"),
        bars,
        "wall-margin",
        note=note,
        empty=t("wall_no_margin"),
        row="wall-panels-row",
        scale=1.0,  # a bar's length is the margin itself: a full bar is 100 %
    )


def _reason(reason: str) -> str:
    key = f"wall_reason_{reason}"
    return t(key) if key in STRINGS else reason


try:
    REFRESH = wall_refresh_seconds()
except SettingsError as exc:
    st.error(str(exc))
    st.stop()


@st.fragment(run_every=REFRESH)
def live() -> None:
    """Re-read the latest snapshot and redraw the board (every REFRESH seconds, without a page reload)."""
    try:
        board(str(serve_path()))
    except serving.WarehouseNotPublished as exc:
        st.warning(t("not_published", path=exc.path), icon=":material/database:")
    except (SettingsError, serving.ServeFileInvalid) as exc:
        st.error(str(exc))


live()
