"""Returns against the simulated shop's truth: the injected size-return hotspot (one SKU in one shop) tops its
category, and the return counts add up to the world's after-sales cases.

"Tops" = the highest size-return rate among its category's SKU × shop rows of return_shop_comparison with
enough volume (return_min_units sold in the window), and the only row flagged is_return_hotspot."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest


def _query(settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def comparison(built_warehouse) -> pd.DataFrame:
    return _query(built_warehouse, "select * from marts.return_shop_comparison")


def test_the_injected_size_return_hotspot_tops_its_category(comparison, pipeline_world):
    hotspots = pipeline_world.truth_flags[pipeline_world.truth_flags["kind"] == "size_return_hotspot"]
    assert len(hotspots) > 0
    for flag in hotspots.itertuples():
        row = comparison[(comparison["sku"] == flag.sku) & (comparison["shop_id"] == flag.shop_id)]
        assert len(row) == 1, f"{flag.sku} in {flag.shop_id} missing from return_shop_comparison"
        row = row.iloc[0]
        ranked = comparison[(comparison["category"] == row["category"]) & comparison["has_enough_volume"]]
        top = ranked.sort_values("size_return_rate", ascending=False).head(3)
        assert row["has_enough_volume"], row
        assert row["size_rank_in_category"] == 1, top[["sku", "shop_id", "units_sold", "size_return_rate"]]
        assert row["size_return_rate_gap"] >= 0.10
        assert row["is_return_hotspot"]


def test_no_other_sku_shop_is_flagged_as_a_return_hotspot(comparison, pipeline_world):
    truth = pipeline_world.truth_flags
    expected = {(f.sku, f.shop_id) for f in truth[truth["kind"] == "size_return_hotspot"].itertuples()}
    flagged = {(r.sku, r.shop_id) for r in comparison[comparison["is_return_hotspot"]].itertuples()}
    assert flagged == expected


def test_return_cases_and_units_add_up_to_the_worlds_open_and_done_cases(built_warehouse, pipeline_world):
    analysis = _query(
        built_warehouse,
        "select shop_id, sum(return_cases) as cases, sum(units_sold) as sold from marts.return_analysis group by 1",
    ).set_index("shop_id")
    components = _query(
        built_warehouse,
        "select shop_id, count(distinct refund_id) as cases from intermediate.int_return_components "
        "where is_counted group by 1",
    ).set_index("shop_id")
    refunds = pipeline_world.refunds.merge(
        pipeline_world.order_lines[["line_id", "outer_id"]], on="line_id", how="left", validate="many_to_one"
    )
    # a line under a merchant code no master SKU matches has no SKU to rate its return against: it waits in
    # marts.unmapped_skus until someone maps the code
    unmapped = ~refunds["outer_id"].isin(set(pipeline_world.products["sku"]))
    listed = _query(built_warehouse, "select outer_id from marts.unmapped_skus")["outer_id"]
    assert set(refunds.loc[unmapped, "outer_id"]) <= set(listed)
    # Shopify's API has refunds only once they are made (no open or rejected return requests)
    shopify = refunds["shop_id"] == "shopify_global"
    counted = (refunds["status"] != "closed") & (~shopify | (refunds["status"] == "success")) & ~unmapped
    world = refunds[counted].groupby("shop_id")["refund_id"].nunique()
    for shop_id, cases in world.items():
        assert components.at[shop_id, "cases"] == cases, shop_id
        assert analysis.at[shop_id, "cases"] >= cases, shop_id  # kit cases count once per component SKU


def test_return_rates_are_returned_over_sold_by_order_month(built_warehouse):
    frame = _query(built_warehouse, "select * from marts.return_analysis where units_sold > 0")
    assert ((frame["return_rate"] - frame["units_returned"] / frame["units_sold"]).abs() < 1e-9).all()
    with_returns = frame[frame["units_returned"] > 0]
    assert with_returns["top_reason"].notna().all()
    assert (with_returns["top_reason_share"] > 0).all() and (with_returns["top_reason_share"] <= 1).all()
