"""The wall screen's queries: today's pace, the last days' trend, the margin per shop, low stock and the newest
orders to review (they read the sales, customers, finance, inventory, replenishment and operations marts).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboards.queries.serving import TTL_SECONDS, Version, _connect, _df

WALL_PACE_COLUMNS = [
    "shop_id", "shop_name", "now_at", "today", "gmv_cny", "orders", "gmv_cny_yesterday", "orders_yesterday",
    "gmv_cny_last_week", "orders_last_week",
]  # fmt: skip


# The wall screen. "Now" is the newest order in the snapshot (max created_at in customer_orders) and "today" its
# local order date; "the same time yesterday / last week" are the orders of that day created up to now − 1 day
# (now − 7 days). The marts are daily, so the time of day comes from customer_orders.created_at (paid orders)
# and GMV from order_line_margins.list_amount_cny (the same line list values daily_shop_sales sums as GMV).
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_pace(path: str, version: Version) -> pd.DataFrame:
    """Per shop: gmv/orders today so far, the same time yesterday and the same time last week, with now and
    today on every row (empty when the snapshot has no orders).

    Two statements on one connection: "now" first (two max(), ~1 ms on 7M orders), then the three days as
    constants, so DuckDB skips the row groups of every other day (the order marts grow by date) instead of
    scanning 10M order lines to join them to a computed date."""
    with _connect(path) as con:
        ((today, now_at),) = con.execute(
            "select max(order_date), max(created_at) from marts.customer_orders"
        ).fetchall()
        if today is None:
            return pd.DataFrame(columns=WALL_PACE_COLUMNS)
        return con.execute(
            """
            with orders as (
                select o.order_id, o.shop_id, o.order_date, o.created_at
                from marts.customer_orders as o
                where o.order_date between $last_week and $today
                  and o.order_date in ($today, $yesterday, $last_week)
            ),
            gmv as (
                select l.order_id, sum(l.list_amount_cny) as gmv_cny
                from marts.order_line_margins as l
                where l.order_date between $last_week and $today
                  and l.order_date in ($today, $yesterday, $last_week)
                group by l.order_id
            ),
            flagged as (
                select o.*, coalesce(g.gmv_cny, 0) as gmv_cny,
                       o.order_date = $today as is_today,
                       o.order_date = $yesterday
                           and o.created_at <= $now_at::timestamptz - interval 1 day as is_yesterday,
                       o.order_date = $last_week
                           and o.created_at <= $now_at::timestamptz - interval 7 day as is_last_week
                from orders as o
                left join gmv as g using (order_id)
            )
            select s.shop_id, coalesce(s.shop_name, s.shop_id) as shop_name,
                   $now_at::timestamptz as now_at, $today::date as today,
                   coalesce(sum(f.gmv_cny) filter (where f.is_today), 0) as gmv_cny,
                   count(f.order_id) filter (where f.is_today) as orders,
                   coalesce(sum(f.gmv_cny) filter (where f.is_yesterday), 0) as gmv_cny_yesterday,
                   count(f.order_id) filter (where f.is_yesterday) as orders_yesterday,
                   coalesce(sum(f.gmv_cny) filter (where f.is_last_week), 0) as gmv_cny_last_week,
                   count(f.order_id) filter (where f.is_last_week) as orders_last_week
            from marts.shops as s
            left join flagged as f using (shop_id)
            group by s.shop_id, s.shop_name
            order by gmv_cny desc, s.shop_id
            """,
            {
                "now_at": now_at,
                "today": today,
                "yesterday": today - timedelta(days=1),
                "last_week": today - timedelta(days=7),
            },
        ).df()


WALL_TREND_DAYS = 7


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_trend(path: str, version: Version, days: int = WALL_TREND_DAYS) -> pd.DataFrame:
    """GMV and orders of all shops per day (daily_shop_sales) for the `days` whole days before the wall's "today"
    (the newest order date, as in wall_pace): order_date, gmv_cny, orders, one row per day oldest first, 0 on a
    day without orders. Empty when the snapshot has no orders."""
    with _connect(path) as con:
        ((today,),) = con.execute("select max(order_date) from marts.customer_orders").fetchall()
        if today is None:
            return pd.DataFrame(columns=["order_date", "gmv_cny", "orders"])
        return con.execute(
            """
            with days as (
                select cast(day as date) as order_date
                from generate_series($first::date, $last::date, interval 1 day) as t(day)
            ),
            sales as (
                select order_date, sum(gmv_cny) as gmv_cny, sum(orders) as orders
                from marts.daily_shop_sales
                where order_date between $first and $last
                group by order_date
            )
            select d.order_date, coalesce(s.gmv_cny, 0) as gmv_cny, coalesce(s.orders, 0) as orders
            from days as d
            left join sales as s using (order_date)
            order by d.order_date
            """,
            {"first": today - timedelta(days=int(days)), "last": today - timedelta(days=1)},
        ).df()


WALL_MARGIN_COLUMNS = [
    "shop_id",
    "shop_name",
    "today",
    "this_month",
    "last_month",
    "this_margin_cny",
    "this_net_revenue_cny",
    "last_margin_cny",
    "last_net_revenue_cny",
]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_shop_margin(path: str, version: Version) -> pd.DataFrame:
    """Contribution margin per shop (shop_monthly_pnl) for two windows: the order month of the wall's "today" up
    to today (`this_*`) and the whole month before (`last_*`). Per shop (every shop in marts.shops): shop_id,
    shop_name, this_month, last_month (first days), this_margin_cny / this_net_revenue_cny and the same for
    last_*: the mart's numerator and denominator summed, so margin % = margin / net revenue, the mart's margin_pct
    over the window. Empty when the snapshot has no orders."""
    with _connect(path) as con:
        ((today,),) = con.execute("select max(order_date) from marts.customer_orders").fetchall()
        if today is None:
            return pd.DataFrame(columns=WALL_MARGIN_COLUMNS)
        this_month = today.replace(day=1)
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        return con.execute(
            """
            select s.shop_id, coalesce(s.shop_name, s.shop_id) as shop_name,
                   $today::date as today, $this_month::date as this_month, $last_month::date as last_month,
                   coalesce(sum(p.contribution_margin_cny) filter (where p.month = $this_month), 0)
                       as this_margin_cny,
                   coalesce(sum(p.net_revenue_cny) filter (where p.month = $this_month), 0)
                       as this_net_revenue_cny,
                   coalesce(sum(p.contribution_margin_cny) filter (where p.month = $last_month), 0)
                       as last_margin_cny,
                   coalesce(sum(p.net_revenue_cny) filter (where p.month = $last_month), 0)
                       as last_net_revenue_cny
            from marts.shops as s
            left join marts.shop_monthly_pnl as p
                on p.shop_id = s.shop_id and p.month in ($this_month, $last_month)
            group by s.shop_id, s.shop_name
            order by this_net_revenue_cny desc, s.shop_id
            """,
            {"today": today, "this_month": this_month, "last_month": last_month},
        ).df()


WALL_STOCK_STATUSES = ("oversold", "stockout", "at_risk")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_low_stock(path: str, version: Version, limit: int = 30) -> pd.DataFrame:
    """SKUs oversold, out of stock or at risk (inventory_health) that a buyer must act on, worst first: sku,
    product_name, health_status, available, days_of_cover. An at-risk SKU whose open purchase orders already cover
    it (replenishment_suggestions.decision covered_by_open_pos) is left out: the wall lists what needs a person."""
    return _df(
        path,
        f"""
        select h.sku, h.product_name, h.health_status, h.available, h.days_of_cover
        from marts.inventory_health as h
        left join marts.replenishment_suggestions as r using (sku)
        where h.health_status in {WALL_STOCK_STATUSES}
          and not (h.health_status = 'at_risk' and r.decision = 'covered_by_open_pos')
        order by list_position({list(WALL_STOCK_STATUSES)}, health_status), days_of_cover nulls first, sku
        limit {int(limit)}
        """,
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def wall_exceptions(path: str, version: Version, limit: int = 30) -> pd.DataFrame:
    """The newest orders in the review queue (order_exceptions): order_id, shop_name, platform_order_id,
    created_at, reasons, paid_amount_cny; plus the queue's total size in `queue_size`."""
    return _df(
        path,
        f"""
        select e.order_id, coalesce(s.shop_name, e.shop_id) as shop_name, e.platform_order_id, e.created_at,
               e.reasons, e.paid_amount_cny, count(*) over () as queue_size
        from marts.order_exceptions as e
        left join marts.shops as s using (shop_id)
        order by e.created_at desc, e.order_id
        limit {int(limit)}
        """,
    )
