"""Queries on the sales marts (dbt_project/models/marts/sales: daily_shop_sales, channel_daily_performance,
daily_sku_sales): the date filter's bounds, the Overview and Channels pages, and a SKU's daily units.

Ranges aggregate the marts' additive columns with sums; a ratio for a range (AOV, ASP, refund rate, margin %) is
pooled as marts.period_ratios declares it (dashboards/ratios.py), never written here. `buyers` is not additive across days and is
therefore not summed here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.queries.serving import (
    _IN_RANGE,
    TTL_SECONDS,
    ShopIds,
    Version,
    _df,
    _one,
    _range_params,
    _records,
    in_list,
)
from dashboards.ratios import period_ratios, with_pooled


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def date_bounds(path: str, version: Version) -> tuple[date, date] | None:
    """First and latest order_date in marts.daily_shop_sales; None when the mart is empty."""
    row = _one(path, "select min(order_date), max(order_date) from marts.daily_shop_sales")
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


# Overview and Channels read channel_daily_performance's shop rows (is_total = false), so a shop filter sums
# the selected shops; ratios over a window are the window's sums pooled as marts.period_ratios declares them.
_CDP_SHOPS = "not is_total and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id))"
Window = tuple[date, date]


WINDOW_RATIOS = ("aov_cny", "refund_rate", "margin_pct")


def with_ratios(path: str, version: Version, frame: pd.DataFrame, names=WINDOW_RATIOS) -> pd.DataFrame:
    """Add the ratios `names` (aov_cny, refund_rate, margin_pct by default) to a frame whose rows are sums, each
    row pooled as marts.period_ratios declares it (None on a 0 base)."""
    declared = period_ratios(path, version)
    return with_pooled(frame, [declared[name] for name in names])


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def window_totals(
    path: str, version: Version, windows: tuple[Window, ...], shop_ids: ShopIds
) -> pd.DataFrame:
    """One row per window (in the order given): gmv/net_sales/refunds/net_revenue/contribution_margin (CNY
    Decimal), orders, units, days (calendar days with a row), maturing_days (days whose refunds are still coming
    in: marts.dates.is_return_maturing), plus aov_cny, refund_rate, margin_pct."""
    values = ", ".join(f"({i}, $s{i}::date, $e{i}::date)" for i in range(len(windows)))
    params: dict[str, Any] = {"shops": list(shop_ids)}
    for i, (start, end) in enumerate(windows):
        params[f"s{i}"], params[f"e{i}"] = start, end
    frame = _records(
        path,
        f"""
        with windows (idx, start_date, end_date) as (values {values}),
        rows as (select * from marts.channel_daily_performance where {_CDP_SHOPS})
        select w.idx,
               cast(coalesce(sum(r.gmv_cny), 0) as decimal(18, 2)) as gmv_cny,
               cast(coalesce(sum(r.net_sales_cny), 0) as decimal(18, 2)) as net_sales_cny,
               cast(coalesce(sum(r.refunds_cny), 0) as decimal(18, 2)) as refunds_cny,
               cast(coalesce(sum(r.net_revenue_cny), 0) as decimal(18, 2)) as net_revenue_cny,
               cast(coalesce(sum(r.contribution_margin_cny), 0) as decimal(18, 2)) as contribution_margin_cny,
               coalesce(sum(r.orders), 0)::bigint as orders,
               coalesce(sum(r.units), 0)::bigint as units,
               count(distinct r.order_date) as days,
               (select count(*) from marts.dates as d
                where d.is_return_maturing and d.date_day between w.start_date and w.end_date) as maturing_days
        from windows as w
        left join rows as r on r.order_date between w.start_date and w.end_date
        group by w.idx, w.start_date, w.end_date
        order by w.idx
        """,
        params,
    )
    return with_ratios(path, version, frame).drop(columns="idx")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def channel_daily(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """channel_daily_performance's shop rows in the range with shop_name and channel, by date and shop."""
    return _df(
        path,
        f"""
        select c.*, coalesce(s.shop_name, c.shop_id) as shop_name, s.channel
        from marts.channel_daily_performance as c
        left join marts.shops as s using (shop_id)
        where c.order_date between $start and $end and {_CDP_SHOPS.replace("shop_id", "c.shop_id")}
        order by c.order_date, c.shop_id
        """,
        _range_params(start, end, shop_ids),
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def channel_by_shop(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """One row per shop for the range: sums of channel_daily_performance plus ratio-of-sums columns."""
    frame = _records(
        path,
        f"""
        select c.shop_id,
               coalesce(any_value(s.shop_name), c.shop_id) as shop_name,
               any_value(s.channel) as channel,
               sum(c.gmv_cny) as gmv_cny,
               sum(c.net_sales_cny) as net_sales_cny,
               sum(c.refunds_cny) as refunds_cny,
               sum(c.net_revenue_cny) as net_revenue_cny,
               sum(c.contribution_margin_cny) as contribution_margin_cny,
               sum(c.orders)::bigint as orders,
               sum(c.units)::bigint as units
        from marts.channel_daily_performance as c
        left join marts.shops as s using (shop_id)
        where c.order_date between $start and $end and {_CDP_SHOPS.replace("shop_id", "c.shop_id")}
        group by c.shop_id
        order by net_revenue_cny desc, c.shop_id
        """,
        _range_params(start, end, shop_ids),
    )
    return with_ratios(path, version, frame, (*WINDOW_RATIOS, "asp_cny"))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def top_skus(
    path: str,
    version: Version,
    start: date,
    end: date,
    shop_ids: ShopIds,
    categories: tuple[str, ...],
    limit: int = 20,
) -> pd.DataFrame:
    """The range's best-selling SKUs by net revenue (daily_sku_sales, selected shops and categories): sku,
    product_name, category, units, gmv_cny, net_sales_cny, refunds_cny, net_revenue_cny."""
    return _df(
        path,
        f"""
        select sku, any_value(product_name) as product_name, any_value(category) as category,
               sum(units)::bigint as units, sum(gmv_cny) as gmv_cny, sum(net_sales_cny) as net_sales_cny,
               sum(refunds_cny) as refunds_cny, sum(net_revenue_cny) as net_revenue_cny
        from marts.daily_sku_sales
        where {_IN_RANGE} and {in_list("category", "categories")}
        group by sku
        order by net_revenue_cny desc, sku
        limit {int(limit)}
        """,
        {**_range_params(start, end, shop_ids), "categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def sku_daily_units(path: str, version: Version, sku: str, start: date) -> pd.DataFrame:
    """Units sold per local order date of one SKU, all shops (daily_sku_sales: as sold, kits not exploded)."""
    return _df(
        path,
        """
        select order_date, sum(units)::bigint as units, sum(net_revenue_cny) as net_revenue_cny
        from marts.daily_sku_sales
        where sku = $sku and order_date >= $start
        group by order_date
        order by order_date
        """,
        {"sku": sku, "start": start},
    )
