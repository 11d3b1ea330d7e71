"""Queries on the returns marts (dbt_project/models/marts/returns: return_analysis, return_shop_comparison): the
Returns (售后) page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.queries.serving import (
    TTL_SECONDS,
    ShopIds,
    Version,
    _df,
    _in_months,
    _one,
    _range_params,
    _shops_only,
    in_list,
)
from dashboards.ratios import period_ratios, ratio_sql

# Returns (售后). return_analysis is by order month: a date range selects the order months it overlaps
# (first month = the month of `start`). Rates over several months or shops are ratios of sums of the mart's
# own columns (Σ units_returned / Σ units_sold), i.e. the mart's definition applied to the pooled rows.
# `categories` (the global category filter; empty = all) cuts every returns query.
RETURN_REASONS = ("size", "quality", "not_as_described", "damaged", "changed_mind", "late", "other")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def returns_kpis(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, categories: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Totals of marts.return_analysis over the order months the range overlaps: units_sold, units_returned,
    returned_size, refund_amount_cny, return_rate and size_return_rate (ratios of sums; None without sales),
    first/last order month."""
    row = _one(
        path,
        f"""
        select coalesce(sum(units_sold), 0), coalesce(sum(units_returned), 0),
               coalesce(sum(returned_size), 0), coalesce(sum(refund_amount_cny), 0),
               min(order_month), max(order_month)
        from marts.return_analysis
        where {_in_months("order_month")} and {in_list("category", "categories")}
        """,
        _range_params(start, end, shop_ids) | {"categories": list(categories)},
    )
    assert row is not None
    sold, returned, size, refunds, first, last = row
    return {
        "units_sold": int(sold),
        "units_returned": int(returned),
        "returned_size": int(size),
        "refund_amount_cny": refunds,
        "return_rate": returned / sold if sold else None,
        "size_return_rate": size / sold if sold else None,
        "first_month": first,
        "last_month": last,
    }


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def returns_by_sku_shop(
    path: str,
    version: Version,
    start: date,
    end: date,
    shop_ids: ShopIds,
    categories: tuple[str, ...] = (),
    limit: int = 1000,
) -> pd.DataFrame:
    """SKU × shop rows over the order months the range overlaps (pairs with returns or sales), the `limit`
    with most returned units (a 1-of-1 return is not where to look), then highest return rate: sku,
    product_name, category, shop_id, shop_name, units_sold, units_returned, returned_size, refund_amount_cny,
    return_rate, size_return_rate (ratios of sums), returned_<reason> per reason, top_reason (the reason with
    most returned units, ties alphabetical as in the mart; null without returns) and pairs_total (rows before
    the limit)."""
    reason_sums = ",\n".join(f"sum(r.returned_{r})::bigint as returned_{r}" for r in RETURN_REASONS)
    # top reason = argmax of the reason columns, ties alphabetical: encode units × base + (ties rank), take the
    # greatest, decode the rank (a correlated subquery per row costs more than the whole aggregate)
    alphabetical = sorted(RETURN_REASONS)
    base = len(alphabetical) + 1
    top_code = ", ".join(
        f"p.returned_{r} * {base} + {len(alphabetical) - i}" for i, r in enumerate(alphabetical)
    )
    return _df(
        path,
        f"""
        with pairs as (  -- cheap first pass: the pairs to show
            select r.sku, r.shop_id, sum(r.units_sold) as units_sold, sum(r.units_returned) as units_returned
            from marts.return_analysis as r
            where {_in_months("order_month", "r")} and {in_list("r.category", "categories")}
            group by r.sku, r.shop_id
        ),
        chosen as (
            select sku, shop_id, count(*) over () as pairs_total
            from pairs
            order by units_returned desc, units_returned / nullif(units_sold, 0) desc nulls last, sku, shop_id
            limit $limit
        ),
        top as (  -- every column, for those pairs only
            select r.sku, r.shop_id,
                   any_value(r.product_name) as product_name, any_value(r.category) as category,
                   sum(r.units_sold)::bigint as units_sold, sum(r.units_returned)::bigint as units_returned,
                   sum(r.refund_amount_cny) as refund_amount_cny,
                   {ratio_sql(period_ratios(path, version)["return_rate"], "r")} as return_rate,
                   {reason_sums},
                   any_value(chosen.pairs_total) as pairs_total
            from marts.return_analysis as r
            join chosen using (sku, shop_id)
            where {_in_months("order_month", "r")}
            group by r.sku, r.shop_id
        )
        select p.sku, p.product_name, p.category, p.shop_id, coalesce(s.shop_name, p.shop_id) as shop_name,
               p.units_sold, p.units_returned, p.refund_amount_cny, p.return_rate,
               p.returned_size / nullif(p.units_sold, 0) as size_return_rate,
               {", ".join(f"p.returned_{r}" for r in RETURN_REASONS)},
               case when p.units_returned > 0
                    then {alphabetical}[{base} - greatest({top_code}) % {base}] end as top_reason,
               p.pairs_total
        from top as p
        left join marts.shops as s using (shop_id)
        order by p.units_returned desc, p.return_rate desc nulls last, p.sku, p.shop_id
        """,
        _range_params(start, end, shop_ids) | {"categories": list(categories), "limit": limit},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def returns_reason_mix(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, categories: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Returned units per shop and reason over the order months the range overlaps (long form): shop_id,
    shop_name, reason, units. Reasons with no units are left out."""
    reason_sums = ", ".join(f"sum(returned_{r})::bigint as {r}" for r in RETURN_REASONS)
    return _df(
        path,
        f"""
        with per_shop as (
            select shop_id, {reason_sums}
            from marts.return_analysis
            where {_in_months("order_month")} and {in_list("category", "categories")}
            group by shop_id
        )
        select u.shop_id, coalesce(s.shop_name, u.shop_id) as shop_name, u.reason, u.units
        from (unpivot per_shop on {", ".join(RETURN_REASONS)} into name reason value units) as u
        left join marts.shops as s using (shop_id)
        where u.units > 0
        order by u.shop_id, u.units desc, u.reason
        """,
        _range_params(start, end, shop_ids) | {"categories": list(categories)},
    )


# marts.return_shop_comparison has its own fixed window (window_start..window_end: matured orders), not the
# date filter; the shop and category filters apply.
_COMPARISON_COLUMNS = """
    c.sku, c.product_name, c.category, c.shop_id, coalesce(s.shop_name, c.shop_id) as shop_name,
    c.window_start, c.window_end, c.units_sold, c.units_returned, c.size_returned, c.return_rate,
    c.size_return_rate, c.other_shops_size_return_rate, c.size_return_rate_gap, c.has_enough_volume,
    c.size_rank_in_category, c.is_return_hotspot
"""


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def return_hotspots(
    path: str, version: Version, shop_ids: ShopIds, categories: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The rows of marts.return_shop_comparison flagged is_return_hotspot (the selected shops and categories),
    largest size-return gap first: sku, product_name, category, shop_id, shop_name, window_start, window_end,
    units_sold, units_returned, size_returned, return_rate, size_return_rate, other_shops_size_return_rate,
    size_return_rate_gap, has_enough_volume, size_rank_in_category, is_return_hotspot."""
    return _df(
        path,
        f"""
        select {_COMPARISON_COLUMNS}
        from marts.return_shop_comparison as c
        left join marts.shops as s using (shop_id)
        where c.is_return_hotspot and {_shops_only("c")} and {in_list("c.category", "categories")}
        order by c.size_return_rate_gap desc, c.sku, c.shop_id
        """,
        {"shops": list(shop_ids), "categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def return_categories(
    path: str, version: Version, shop_ids: ShopIds, categories: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Categories in marts.return_shop_comparison for the selection: category, hotspots (rows flagged),
    window_start, window_end (the mart's window). Categories with hotspots first, then alphabetical."""
    return _df(
        path,
        f"""
        select category, count(*) filter (where is_return_hotspot) as hotspots,
               min(window_start) as window_start, max(window_end) as window_end
        from marts.return_shop_comparison
        where category is not null and {_shops_only()} and {in_list("category", "categories")}
        group by category
        order by hotspots desc, category
        """,
        {"shops": list(shop_ids), "categories": list(categories)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def return_heatmap(
    path: str, version: Version, category: str, shop_ids: ShopIds, max_skus: int = 25
) -> pd.DataFrame:
    """The cells of the SKU × shop size-return heatmap for one category: every selected shop's row of
    marts.return_shop_comparison for the category's `max_skus` SKUs with the highest size-return rate among
    rows with enough volume (ties by SKU; SKUs with no shop of enough volume are left out: nothing to rate).
    Columns as return_hotspots."""
    return _df(
        path,
        f"""
        with cells as (
            select * from marts.return_shop_comparison as c
            where c.category = $category and {_shops_only("c")}
        ),
        worst as (
            select sku, max(size_return_rate) filter (where has_enough_volume) as worst
            from cells
            group by sku
            having worst is not null
            order by worst desc, sku
            limit $max_skus
        )
        select {_COMPARISON_COLUMNS}
        from cells as c
        join worst as w using (sku)
        left join marts.shops as s using (shop_id)
        order by w.worst desc, c.sku, c.shop_id
        """,
        {"shops": list(shop_ids), "category": category, "max_skus": max_skus},
    )
