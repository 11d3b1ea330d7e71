"""Queries on the operations mart (dbt_project/models/marts/operations: order_exceptions): the Order exceptions
(异常订单) page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards.queries.serving import TTL_SECONDS, ShopIds, Version, _df, _one, _shops_only

# Order exceptions (异常订单): the review queue as of the snapshot (open orders, any order date; the shop
# filter applies, the date range does not). The mart masks buyer data itself (a buyer key that reads like an
# e-mail is hashed, digit runs in remarks are masked, only which address part is missing is kept): nothing
# here needs to.
EXCEPTION_REASONS = (
    "address_incomplete",
    "remark_attention",
    "high_value",
    "possible_duplicate",
    "ship_overdue",
    "oversold_sku",
    "unmapped_sku",
)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_reason_counts(path: str, version: Version, shop_ids: ShopIds) -> pd.DataFrame:
    """Open orders per reason in marts.order_exceptions (an order with two reasons counts under both):
    reason, orders, paid_amount_cny. Most orders first."""
    return _df(
        path,
        f"""
        select reason, count(*) as orders, sum(paid_amount_cny) as paid_amount_cny
        from (select unnest(reasons) as reason, paid_amount_cny from marts.order_exceptions
              where {_shops_only()})
        group by reason
        order by orders desc, reason
        """,
        {"shops": list(shop_ids)},
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_totals(path: str, version: Version, shop_ids: ShopIds) -> dict[str, Any]:
    """The queue's size: orders, paid_amount_cny, multi_reason (orders with more than one reason)."""
    row = _one(
        path,
        f"""
        select count(*), coalesce(sum(paid_amount_cny), 0), count(*) filter (where reason_count > 1)
        from marts.order_exceptions
        where {_shops_only()}
        """,
        {"shops": list(shop_ids)},
    )
    assert row is not None
    return {"orders": int(row[0]), "paid_amount_cny": row[1], "multi_reason": int(row[2])}


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def exception_queue(
    path: str, version: Version, shop_ids: ShopIds, reasons: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The review queue: orders of marts.order_exceptions with any of `reasons` (empty = all): shop_id,
    shop_name, platform_order_id, order_id, buyer_key (masked), order_date, paid_at, paid_amount_cny,
    hours_since_paid, promise_hours, hours_left (promise − hours since paid; negative = overdue), reasons
    (codes joined by ','), reason_count, address_missing (which part is missing, joined by ',': province, city,
    or 'street' when both are there — never the address itself), remark_keywords, buyer_remark and
    seller_remark (digit runs of 5+ masked), duplicate_order_ids, oversold_skus, unmapped_codes (joined by
    ', '). Lists come as text: a DataFrame of per-cell arrays costs more to cache (pickle) than the query.
    Most reasons, then longest waiting first."""
    return _df(
        path,
        f"""
        select e.shop_id, coalesce(s.shop_name, e.shop_id) as shop_name, e.platform_order_id, e.order_id,
               e.buyer_key,
               e.order_date, e.paid_at, e.paid_amount_cny, e.hours_since_paid, e.promise_hours,
               e.promise_hours - e.hours_since_paid as hours_left,
               array_to_string(e.reasons, ',') as reasons, e.reason_count,
               array_to_string(e.address_missing, ',') as address_missing,
               array_to_string(e.remark_keywords, ', ') as remark_keywords,
               e.buyer_remark, e.seller_remark,
               array_to_string(e.duplicate_order_ids, ', ') as duplicate_order_ids,
               array_to_string(e.oversold_skus, ', ') as oversold_skus,
               array_to_string(e.unmapped_codes, ', ') as unmapped_codes
        from marts.order_exceptions as e
        left join marts.shops as s using (shop_id)
        where {_shops_only("e")}
          and (len($reasons::varchar[]) = 0 or list_has_any(e.reasons, $reasons::varchar[]))
        order by e.reason_count desc, e.hours_since_paid desc, e.order_id
        """,
        {"shops": list(shop_ids), "reasons": list(reasons)},
    )
