"""Queries on the sales marts (dbt_project/models/marts/sales: daily_shop_sales, channel_daily_performance,
daily_sku_sales): the date filter's bounds, the Overview and Channels pages, and a SKU's daily units.

Ranges aggregate the marts' additive columns with sums; AOV for a range is sum(net_sales_cny) / sum(orders),
the ratio of sums of the mart's own definition (not a new metric). `buyers` is not additive across days and is
therefore not summed here.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
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


def ratio(numerator: Decimal | None, denominator: int | None) -> Decimal | None:
    """numerator / denominator rounded to cents (half up); None when the denominator is 0 or missing."""
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def date_bounds(path: str, version: Version) -> tuple[date, date] | None:
    """First and latest order_date in marts.daily_shop_sales; None when the mart is empty."""
    row = _one(path, "select min(order_date), max(order_date) from marts.daily_shop_sales")
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


# Overview and Channels read channel_daily_performance's shop rows (is_total = false), so a shop filter sums
# the selected shops; ratios over a window are ratios of the window's sums (AOV = Σ net_sales / Σ orders,
# refund rate = Σ refunds / Σ net_sales, margin % = Σ contribution_margin / Σ net_revenue): the mart's own
# definitions applied to the pooled rows.
_CDP_SHOPS = "not is_total and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id))"
Window = tuple[date, date]


def with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Add aov_cny, refund_rate and margin_pct as ratios of the frame's summed columns (None on a 0 base)."""
    out = frame.copy()
    out["aov_cny"] = [ratio(n, o) for n, o in zip(out["net_sales_cny"], out["orders"], strict=True)]
    out["refund_rate"] = [
        float(r / n) if n else None for r, n in zip(out["refunds_cny"], out["net_sales_cny"], strict=True)
    ]
    out["margin_pct"] = [
        float(m / n) if n else None
        for m, n in zip(out["contribution_margin_cny"], out["net_revenue_cny"], strict=True)
    ]
    return out


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
    return with_ratios(frame).drop(columns="idx")


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
    frame = with_ratios(frame)
    frame["asp_cny"] = [ratio(n, u) for n, u in zip(frame["net_sales_cny"], frame["units"], strict=True)]
    return frame


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
