"""Queries on the finance marts (dbt_project/models/marts/finance): the SKU margin page (sku_margins,
order_line_margins), the monthly P&L (shop_monthly_pnl) and the Reconciliation page (settlement_reconciliation,
settlement_reconciliation_monthly).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from dashboards.queries.serving import (
    TTL_SECONDS,
    ShopIds,
    Version,
    _arrow,
    _df,
    _exact_frame,
    _in_months,
    _one,
    _range_params,
    _records,
    _shops_only,
    in_list,
)
from dashboards.ratios import period_ratios, ratio_sql


# SKU margin: sku_margins is monthly, so a date range reads the order months it touches (whole months).
def margin_months(start: date, end: date) -> tuple[date, date]:
    """The first days of the first and last order months a date range touches."""
    return start.replace(day=1), end.replace(day=1)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def shop_monthly_pnl(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """marts.shop_monthly_pnl rows of the order months [start, end] touches, selected shops; newest month first,
    then shop."""
    first_month, last_month = margin_months(start, end)
    return _records(
        path,
        """
        select * from marts.shop_monthly_pnl
        where month between $first_month and $last_month
          and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id))
        order by month desc, shop_id
        """,
        {"first_month": first_month, "last_month": last_month, "shops": list(shop_ids)},
    )


_MARGIN_WHERE = f"""
    month between $first_month and $last_month
    and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], shop_id))
    and {in_list("category", "categories")}
"""
MARGIN_SUMS = [
    "units",
    "gmv_cny",
    "net_sales_cny",
    "refunds_cny",
    "net_revenue_cny",
    "cogs_cny",
    "platform_fees_cny",
    "fulfilment_cost_cny",
    "return_cost_cny",
    "contribution_margin_cny",
]


MARGIN_TABLE_ROWS = 1000  # rows the SKU margin page's tables show (the downloads hold every row)


def _margin_params(start: date, end: date, shop_ids: ShopIds, categories: tuple[str, ...]) -> dict[str, Any]:
    first, last = margin_months(start, end)
    return {"first_month": first, "last_month": last, "shops": list(shop_ids), "categories": list(categories)}


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def margin_totals(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, categories: tuple[str, ...]
) -> dict[str, Any]:
    """Sums of sku_margins over the months, shops and categories (Decimal CNY; units int), plus
    `estimated_fees_cny`: the part of platform_fees_cny on orders without a settlement bill yet
    (order_line_margins.fees_estimated, same months/shops/categories), and `rows`."""
    sums = ", ".join(f"coalesce(sum({c}), 0) as {c}" for c in MARGIN_SUMS)
    params = _margin_params(start, end, shop_ids, categories)
    row = _records(
        path, f"select {sums}, count(*) as rows from marts.sku_margins where {_MARGIN_WHERE}", params
    )
    totals = row.iloc[0].to_dict()
    estimated = _one(
        path,
        f"""
        select coalesce(sum(platform_fees_cny) filter (where fees_estimated), 0)
        from marts.order_line_margins
        where {_MARGIN_WHERE.replace("month between", "order_month between")}
        """,
        params,
    )
    totals["estimated_fees_cny"] = estimated[0] if estimated else Decimal(0)
    totals["units"] = int(totals["units"])
    totals["rows"] = int(totals["rows"])
    return totals


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def margin_by_sku_shop(
    path: str,
    version: Version,
    start: date,
    end: date,
    shop_ids: ShopIds,
    categories: tuple[str, ...],
    limit: int | None = MARGIN_TABLE_ROWS,
) -> pd.DataFrame:
    """One row per SKU × shop over the months: sku, product_name, category, shop_id, shop_name, the sums of
    MARGIN_SUMS, margin_pct = Σ contribution_margin / Σ net_revenue (ratio of sums), fees_estimated /
    costs_estimated (any month estimated), and on every row sku_shops / losing_sku_shops = how many SKU × shop
    rows (and how many with a negative margin) the selection has in all; highest margin first (then sku,
    shop_id).

    With `limit` (the page): only the `limit` highest-margin rows and the `limit` largest losses, what its two
    tables show; `limit=None`: every row (their downloads). A large seller has ~100k SKU × shop rows; two passes
    keep that cheap: the margin per SKU × shop picks the rows, then only those get every sum. Money columns are
    exact ArrowDtype decimals (_exact_frame)."""
    sums = ", ".join(
        f"cast(sum(m.{c}) as bigint) as {c}" if c == "units" else f"sum(m.{c}) as {c}" for c in MARGIN_SUMS
    )
    if limit is None:
        shown = "select sku, shop_id from margins"
    else:
        shown = f"""
            (select sku, shop_id from margins order by margin desc, sku, shop_id limit {int(limit)})
            union
            (select sku, shop_id from margins where margin < 0 order by margin, sku, shop_id limit {int(limit)})
        """
    table = _arrow(
        path,
        f"""
        with margins as materialized (
            select sku, shop_id, sum(contribution_margin_cny) as margin
            from marts.sku_margins
            where {_MARGIN_WHERE}
            group by sku, shop_id
        ),
        counts as (
            select count(*) as sku_shops, count(*) filter (where margin < 0) as losing_sku_shops from margins
        ),
        shown as ({shown}),
        by_sku_shop as (
            select m.sku, m.shop_id, any_value(m.product_name) as product_name,
                   any_value(m.category) as category,
                   {sums},
                   bool_or(m.fees_estimated) as fees_estimated,
                   bool_or(m.costs_estimated) as costs_estimated
            from marts.sku_margins as m
            semi join shown on shown.sku = m.sku and shown.shop_id = m.shop_id
            where {_MARGIN_WHERE.replace("shop_id", "m.shop_id").replace("category", "m.category")}
            group by m.sku, m.shop_id
        )
        select g.sku, g.product_name, g.category, g.shop_id, coalesce(s.shop_name, g.shop_id) as shop_name,
               {", ".join(f"g.{c}" for c in MARGIN_SUMS)},
               {ratio_sql(period_ratios(path, version)["sku_margin_pct"], "g", summed=True)} as margin_pct,
               g.fees_estimated, g.costs_estimated, c.sku_shops, c.losing_sku_shops
        from by_sku_shop as g
        cross join counts as c
        left join marts.shops as s on s.shop_id = g.shop_id
        order by g.contribution_margin_cny desc, g.sku, g.shop_id
        """,
        _margin_params(start, end, shop_ids, categories),
    )
    return _exact_frame(table)


# Reconciliation (对账). Amounts are in the shop's currency (the reconciled marketplaces all settle in CNY;
# Shopify is not reconciled). A date range selects the order months it overlaps, unless `all_months`.
RECON_STATUSES = (
    "matched",
    "pending",
    "amount_mismatch",
    "missing_settlement",
    "duplicate_bill",
    "orphan_bill",
)
RECON_TO_CHASE = ("amount_mismatch", "missing_settlement", "duplicate_bill", "orphan_bill")


def _recon_where(all_months: bool, alias: str = "") -> str:
    return _shops_only(alias) if all_months else _in_months("month", alias)


def _recon_params(start: date, end: date, shop_ids: ShopIds, all_months: bool) -> dict[str, Any]:
    return {"shops": list(shop_ids)} if all_months else _range_params(start, end, shop_ids)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reconciliation_by_shop(
    path: str, version: Version, start: date, end: date, shop_ids: ShopIds, all_months: bool = False
) -> pd.DataFrame:
    """marts.settlement_reconciliation_monthly summed per shop over the selected months: shop_id, shop_name,
    currency (the shop's), orders and <status>_orders per status, expected/settled/unsettled/overdue/
    discrepancy/outstanding/orphan amounts in the shop's currency and the same as *_cny (CNY at the order
    months' rates: the ones to add across shops), match_rate = Σ matched / Σ (matched + mismatch + missing +
    duplicate) (the mart's definition, pooled). Largest outstanding (CNY) first."""
    amounts = ("expected", "settled", "unsettled", "overdue", "discrepancy", "outstanding", "orphan")
    sums = ",\n".join(f"sum(m.{a}_amount{c}) as {a}_amount{c}" for c in ("", "_cny") for a in amounts)
    return _df(
        path,
        f"""
        select m.shop_id, coalesce(any_value(s.shop_name), m.shop_id) as shop_name,
               any_value(s.currency) as currency,
               sum(m.orders)::bigint as orders,
               sum(m.matched_orders)::bigint as matched_orders,
               sum(m.pending_orders)::bigint as pending_orders,
               sum(m.amount_mismatch_orders)::bigint as amount_mismatch_orders,
               sum(m.missing_settlement_orders)::bigint as missing_settlement_orders,
               sum(m.duplicate_bill_orders)::bigint as duplicate_bill_orders,
               sum(m.orphan_bill_orders)::bigint as orphan_bill_orders,
               {sums},
               {ratio_sql(period_ratios(path, version)["match_rate"], "m")} as match_rate
        from marts.settlement_reconciliation_monthly as m
        left join marts.shops as s using (shop_id)
        where {_recon_where(all_months, "m")}
        group by m.shop_id
        order by outstanding_amount_cny desc, m.shop_id
        """,
        _recon_params(start, end, shop_ids, all_months),
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reconciled_shop_ids(path: str, version: Version) -> set[str]:
    """Shops with any row in marts.settlement_reconciliation_monthly (any month): the shops that have bills."""
    frame = _df(path, "select distinct shop_id from marts.settlement_reconciliation_monthly")
    return set(frame["shop_id"])


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reconciliation_to_chase(
    path: str,
    version: Version,
    start: date,
    end: date,
    shop_ids: ShopIds,
    statuses: tuple[str, ...] = RECON_TO_CHASE,
    all_months: bool = False,
) -> pd.DataFrame:
    """Orders of marts.settlement_reconciliation in `statuses` (default: every status to chase) over the
    selected months: status, shop_id, shop_name, platform_order_id, order_id, month, order_date, due_date,
    currency, expected_settlement, settled_amount, difference, bill_lines, duplicated_bill_lines,
    first/last_settled_date, days_overdue (as_of_date − due_date, missing settlements only); the amounts are
    in the order's `currency`, and expected_settlement_cny / settled_amount_cny / difference_cny in CNY. Biggest
    |difference| in CNY (or expected, for missing; settled, for orphans) first."""
    params = _recon_params(start, end, shop_ids, all_months) | {"statuses": list(statuses)}
    return _df(
        path,
        f"""
        select r.status, r.shop_id, coalesce(s.shop_name, r.shop_id) as shop_name, r.platform_order_id,
               r.order_id, r.month, r.order_date, r.due_date, r.currency, r.expected_settlement,
               r.settled_amount, r.difference, r.expected_settlement_cny, r.settled_amount_cny,
               r.difference_cny, r.bill_lines, r.duplicated_bill_lines, r.first_settled_date,
               r.last_settled_date,
               case when r.status = 'missing_settlement' then r.as_of_date - r.due_date end as days_overdue
        from marts.settlement_reconciliation as r
        left join marts.shops as s using (shop_id)
        where {_recon_where(all_months, "r")}
          and list_contains($statuses::varchar[], r.status)
        order by abs(coalesce(r.difference_cny, r.expected_settlement_cny, r.settled_amount_cny))
                 desc nulls last,
                 r.order_id
        """,
        params,
    )
