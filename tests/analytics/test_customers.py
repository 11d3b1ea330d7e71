"""Customers against the simulated shop: one customer per buyer per platform (masked ids), new vs repeat per
order, cohorts that add up to the buyers, and repurchase rates equal to the world's."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pytest

WINDOW_DAYS = 90  # dbt var repurchase_window_days


def _query(settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def paid_orders(pipeline_world) -> pd.DataFrame:
    """The world's paid orders with their local order date."""
    orders = pipeline_world.orders
    paid = orders[orders["paid_at"].notna()].copy()
    paid["order_date"] = paid["created_at"].dt.tz_convert("Asia/Shanghai").dt.date
    return paid


@pytest.fixture(scope="module")
def customers(built_warehouse) -> pd.DataFrame:
    return _query(built_warehouse, "select * from marts.customers")


def test_one_customer_per_buyer_per_platform_with_their_orders(customers, paid_orders):
    world = paid_orders.groupby("shop_id")["buyer_id"].nunique()
    assert customers.groupby("shop_id").size().to_dict() == world.to_dict()
    orders = paid_orders.groupby("shop_id").size()
    assert customers.groupby("shop_id")["orders"].sum().to_dict() == orders.to_dict()
    per_buyer = (
        paid_orders.groupby(["shop_id", "buyer_id"])
        .size()
        .groupby("shop_id")
        .apply(lambda s: sorted(s.tolist()))
    )
    mart = customers.groupby("shop_id")["orders"].apply(lambda s: sorted(s.tolist()))
    assert mart.to_dict() == per_buyer.to_dict()


def test_no_buyer_id_is_stored_in_the_clear(customers, pipeline_world):
    clear = set(pipeline_world.orders["buyer_id"].astype(str))
    assert not clear & set(customers["customer_id"])
    assert not any(c.split(":")[-1] in clear for c in customers["customer_id"] if ":h:" in c)


def test_each_buyers_first_order_is_new_and_the_rest_repeat(built_warehouse, customers):
    orders = _query(built_warehouse, "select * from marts.customer_orders")
    new = orders[orders["customer_type"] == "new"]
    assert len(new) == len(customers)
    assert (orders["customer_type"] == "repeat").sum() == customers["orders"].sum() - len(customers)
    assert new["days_since_previous_order"].isna().all()


def test_cohort_sizes_sum_to_the_buyers(built_warehouse, customers):
    cohorts = _query(built_warehouse, "select * from marts.customer_cohorts")
    first = cohorts[cohorts["months_since_first"] == 0]
    assert (
        first.groupby("shop_id")["cohort_size"].sum().to_dict()
        == customers.groupby("shop_id").size().to_dict()
    )
    assert (first["retention_rate"] == 1).all()
    assert ((cohorts["retention_rate"] >= 0) & (cohorts["retention_rate"] <= 1)).all()


def test_repurchase_rates_match_the_worlds_buyers(built_warehouse, paid_orders, yesterday):
    rates = _query(built_warehouse, "select * from marts.repurchase_rates").set_index("shop_id")
    as_of = rates["window_end"].iloc[0]
    as_of = as_of.date() if hasattr(as_of, "date") else as_of
    assert as_of >= yesterday
    recent = paid_orders[paid_orders["order_date"] > as_of - timedelta(days=WINDOW_DAYS)]
    for shop_id, shop_orders in recent.groupby("shop_id"):
        counts = shop_orders.groupby("buyer_id").size()
        assert rates.at[shop_id, "buyers_in_window"] == len(counts), shop_id
        assert rates.at[shop_id, "repeat_buyers_in_window"] == (counts >= 2).sum(), shop_id


def test_rfm_scores_and_segments_are_filled_for_every_customer(customers):
    for score in ("r_score", "f_score", "m_score"):
        assert customers[score].between(1, 5).all()
    assert (customers["rfm_segment"] != "other").all()
    champions = customers[customers["rfm_segment"] == "champions"]
    assert len(champions) > 0 and (champions["r_score"] >= 4).all()
    assert customers.loc[customers["orders"] == 1, "f_score"].eq(1).all()
