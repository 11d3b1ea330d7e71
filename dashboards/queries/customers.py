"""Queries on the customers marts (dbt_project/models/marts/customers: customer_orders, customers,
customer_cohorts, repurchase_rates): the Customers (客户) page.
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
    _shops_only,
)


# Customers (客户). Buyers are per platform (a masked id per shop): summing buyers across shops counts a
# person buying in two shops twice, as the marts do.
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def repurchase_by_shop(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.repurchase_rates (its own window, ending at the snapshot's as-of date) for the selected shops
    with shop_name: every mart column; highest window repurchase rate first."""
    return _df(
        path,
        f"""
        select r.*, coalesce(s.shop_name, r.shop_id) as shop_name
        from marts.repurchase_rates as r
        left join marts.shops as s using (shop_id)
        where {_shops_only("r")}
        order by r.repurchase_rate desc nulls last, r.shop_id
        """,
        {"shops": list(shop_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def cohort_retention(
    path: str, version: Version, end: date, shop_ids: ShopIds, months: int = 12
) -> pd.DataFrame:
    """marts.customer_cohorts pooled over the selected shops for the last `months` cohorts starting by `end`:
    cohort_month, months_since_first, cohort_size (Σ the shops' cohort sizes), active_buyers, orders,
    net_spend_cny, retention_rate = Σ active_buyers / Σ cohort_size."""
    return _df(
        path,
        f"""
        with cohorts as (
            select cohort_month, sum(cohort_size)::bigint as cohort_size
            from marts.customer_cohorts
            where months_since_first = 0 and cohort_month <= $end::date and {_shops_only()}
            group by cohort_month
            order by cohort_month desc
            limit $months
        ),
        activity as (
            select cohort_month, months_since_first, sum(active_buyers)::bigint as active_buyers,
                   sum(orders)::bigint as orders, sum(net_spend_cny) as net_spend_cny
            from marts.customer_cohorts
            where activity_month <= $end::date and {_shops_only()}
            group by cohort_month, months_since_first
        )
        select a.cohort_month, a.months_since_first, c.cohort_size, a.active_buyers, a.orders,
               a.net_spend_cny, a.active_buyers / c.cohort_size as retention_rate
        from activity as a
        join cohorts as c using (cohort_month)
        order by a.cohort_month, a.months_since_first
        """,
        {"end": end, "shops": list(shop_ids), "months": months},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def rfm_segments(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.customers per RFM segment for the selected shops: rfm_segment, buyers, orders, net_spend_cny,
    spend_per_buyer (Σ net spend / buyers), buyer_share and spend_share of the selection. Largest spend
    first."""
    return _df(
        path,
        f"""
        select rfm_segment, count(*) as buyers, sum(orders)::bigint as orders, sum(net_spend_cny) as net_spend_cny,
               round(sum(net_spend_cny) / count(*), 2) as spend_per_buyer,
               count(*) / sum(count(*)) over () as buyer_share,
               sum(net_spend_cny) / nullif(sum(sum(net_spend_cny)) over (), 0) as spend_share
        from marts.customers
        where {_shops_only()}
        group by rfm_segment
        order by net_spend_cny desc, rfm_segment
        """,
        {"shops": list(shop_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def customer_kpis(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> dict[str, Any]:
    """From marts.customer_orders in the range: buyers (distinct masked ids), orders, new_buyers (first orders),
    repeat_orders, net_spend_cny, repeat_order_share = repeat orders / orders.

    Buyers are counted without a distinct over the ids (too slow at millions of orders): a buyer's first order
    in the range is the one whose previous order (order_date − days_since_previous_order) falls before the
    range, or who has none — exactly one row per buyer with orders in the range."""
    row = _one(
        path,
        f"""
        select count(*) filter (where days_since_previous_order is null
                                or order_date - days_since_previous_order < $start::date),
               count(*), count(*) filter (where customer_type = 'new'),
               count(*) filter (where customer_type = 'repeat'), coalesce(sum(net_spend_cny), 0)
        from marts.customer_orders
        where {_IN_RANGE}
        """,
        _range_params(start, end, shop_ids),
    )
    assert row is not None
    buyers, orders, new, repeat, spend = row
    return {
        "buyers": int(buyers),
        "orders": int(orders),
        "new_buyers": int(new),
        "repeat_orders": int(repeat),
        "net_spend_cny": spend,
        "repeat_order_share": repeat / orders if orders else None,
    }


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def new_vs_repeat(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, grain: str = "day"
) -> pd.DataFrame:
    """Orders of new and repeat buyers per `grain` ('day', 'week' — weeks start Monday — or 'month') in the
    range, from marts.customer_orders: period, customer_type, orders, net_spend_cny."""
    if grain not in ("day", "week", "month"):
        raise ValueError(f"grain must be day, week or month, not {grain!r}")
    return _df(
        path,
        f"""
        select date_trunc('{grain}', order_date)::date as period, customer_type, count(*) as orders,
               sum(net_spend_cny) as net_spend_cny
        from marts.customer_orders
        where {_IN_RANGE}
        group by all
        order by period, customer_type
        """,
        _range_params(start, end, shop_ids),
    )
