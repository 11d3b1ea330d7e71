"""Queries on the promotions mart (dbt_project/models/marts/promotions: promotion_results): the Promotions page."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboards.queries.serving import TTL_SECONDS, ShopIds, Version, _range_params, _records


# Promotions: the promotions whose days overlap the selected range.
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def promotions(path: str, version: Version, start: date, end: date, shop_ids: ShopIds) -> pd.DataFrame:
    """promotion_results rows overlapping [start, end] in the selected shops, with shop_name; newest first."""
    return _records(
        path,
        """
        select p.*, coalesce(s.shop_name, p.shop_id) as shop_name
        from marts.promotion_results as p
        left join marts.shops as s using (shop_id)
        where p.start_date <= $end and p.end_date >= $start
          and (len($shops::varchar[]) = 0 or list_contains($shops::varchar[], p.shop_id))
        order by p.start_date desc, p.promo_id
        """,
        _range_params(start, end, shop_ids),
    )
