"""Demand forecasts and replenishment against the simulated shop (the `built_warehouse` fixture): every stocked
SKU is forecast and summarised, the model family follows the demand pattern the simulator produced, the
suggestions obey MOQ and pack sizes, and the SKUs the simulator starved are flagged before anyone notices.

The 90-day replay (fill rate and stock against the naive rule) is a benchmark, not a test: bench/replenishment_replay.py."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

INTERMITTENT_MODELS = {"croston_optimized", "tsb", "adida"}
SMOOTH_MODELS = {"ses", "ets"}


def _query(built_warehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(built_warehouse.build_path), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def summary(built_warehouse) -> pd.DataFrame:
    return _query(built_warehouse, "select * from marts.demand_forecast_summary")


@pytest.fixture(scope="module")
def suggestions(built_warehouse) -> pd.DataFrame:
    return _query(built_warehouse, "select * from marts.replenishment_suggestions")


@pytest.fixture(scope="module")
def stocked_skus(pipeline_world) -> set[str]:
    products = pipeline_world.products
    return set(products.loc[~products["is_kit"].astype(bool), "sku"])


@pytest.fixture(scope="module")
def world_daily_units(pipeline_world) -> pd.DataFrame:
    """The simulator's paid units per stocked SKU and local day (kits exploded), zero-filled: days x skus."""
    w = pipeline_world
    orders = w.orders[w.orders["paid_at"].notna()][["order_id", "shop_id", "created_at"]]
    lines = w.order_lines.merge(orders, on=["shop_id", "order_id"])
    lines["day"] = lines["created_at"].dt.tz_convert("Asia/Shanghai").dt.date
    kits = w.kit_components.rename(columns={"kit_sku": "sku", "quantity": "per_kit"})
    exploded = lines.merge(kits, on="sku", how="left")
    exploded["component"] = exploded["component_sku"].fillna(exploded["sku"])
    exploded["units"] = exploded["quantity"] * exploded["per_kit"].fillna(1)
    table = exploded.pivot_table(
        index="day", columns="component", values="units", aggfunc="sum", fill_value=0
    )
    days = pd.date_range(w.params["start_date"], w.params["end_date"]).date
    return table.reindex(index=days, fill_value=0)


def test_every_stocked_sku_has_a_full_forecast_and_a_summary_row(built_warehouse, summary, stocked_skus):
    forecasts = _query(
        built_warehouse,
        "select sku, count(*) as days, min(day_ahead) as first, max(day_ahead) as last "
        "from marts.demand_forecasts group by sku",
    )
    assert set(forecasts["sku"]) == stocked_skus
    horizon = int(forecasts["days"].max())
    assert horizon >= 37  # covers the longest lead time (30) + the review period (7)
    assert (forecasts["days"] == horizon).all() and (forecasts["first"] == 1).all()
    assert set(summary["sku"]) == stocked_skus
    assert summary["daily_demand"].notna().all() and (summary["daily_demand"] >= 0).all()
    backtested = summary[~summary["is_fallback"]]
    assert len(backtested) > len(summary) / 2
    assert backtested["model_name"].notna().all() and backtested["sigma"].notna().all()
    with_demand = backtested[backtested["avg_daily_units_28d"] > 0]
    assert with_demand["wape"].notna().all() and with_demand["bias"].notna().all()


def test_skus_that_sell_now_and_then_get_an_intermittent_demand_model(summary, world_daily_units):
    """The simulator's own series: a SKU sold on fewer than half of the days (ADI ≥ 2) is intermittent, one sold
    on nearly every day (ADI ≤ 1.1) smooth. The mart must classify them the same way (it learns from the same
    days less stock-outs and promotions, hence the margin around the 1.32 cut-off), and never forecast an
    intermittent SKU with exponential smoothing."""
    days = len(world_daily_units)
    adi = days / (world_daily_units > 0).sum().replace(0, np.nan)
    rows = summary.set_index("sku")
    fitted = rows[~rows["is_fallback"]]
    sparse = [s for s in fitted.index if s in adi and (pd.isna(adi[s]) or adi[s] >= 2)]
    steady = [s for s in fitted.index if s in adi and adi[s] <= 1.1]
    assert len(sparse) >= 20, "the test shop should have plenty of slow movers"
    assert (fitted.loc[sparse, "demand_class"] == "intermittent").all()
    assert not set(fitted.loc[sparse, "model_name"]) & SMOOTH_MODELS
    picked = fitted.loc[sparse, "model_name"].isin(INTERMITTENT_MODELS).mean()
    assert picked >= 0.5, fitted.loc[sparse, "model_name"].value_counts()
    assert (fitted.loc[steady, "demand_class"] == "smooth").all()


def test_suggested_quantities_obey_the_reorder_point_moq_and_pack_size(
    suggestions, pipeline_world, built_warehouse
):
    products = pipeline_world.products.set_index("sku")
    suppliers = pipeline_world.suppliers.set_index("supplier_id")
    for row in suggestions.itertuples():
        product = products.loc[row.sku]
        moq = (
            int(product["moq"])
            if pd.notna(product["moq"])
            else int(suppliers.at[product["supplier_id"], "moq"])
        )
        pack = int(product["pack_size"])
        lead = product["lead_time_days"]
        lead = int(lead) if pd.notna(lead) else int(suppliers.at[product["supplier_id"], "lead_time_days"])
        assert (row.moq, row.pack_size, row.lead_time_days) == (moq, pack, lead), row.sku
        assert row.position == row.available + row.on_order
        if row.suggested_qty:
            assert row.position <= row.reorder_point
            assert row.suggested_qty >= moq and row.suggested_qty % pack == 0
            want = max(float(row.order_up_to) - row.position, moq)
            assert row.suggested_qty == math.ceil(want / pack - 1e-9) * pack, row.sku
        else:
            assert row.position > row.reorder_point or float(row.order_up_to) == 0, row.sku
    drafts = _query(built_warehouse, "select * from marts.purchase_order_drafts")
    ordered = suggestions[suggestions["suggested_qty"] > 0]
    assert dict(zip(drafts["sku"], drafts["quantity"], strict=True)) == dict(
        zip(ordered["sku"], ordered["suggested_qty"], strict=True)
    )
    assert (drafts.groupby("draft_id")["supplier_id"].nunique() == 1).all()


def test_skus_the_simulator_starved_get_a_suggestion_or_a_stockout_date(suggestions, pipeline_world):
    flags = pipeline_world.truth_flags
    starved = set(flags.loc[flags["kind"] == "starved", "sku"])
    assert starved
    rows = suggestions.set_index("sku").loc[sorted(starved)]
    flagged = (rows["suggested_qty"] > 0) | rows["stockout_date"].notna()
    assert flagged.all(), rows[["available", "on_order", "reorder_point", "suggested_qty", "stockout_date"]]


def test_dead_stock_is_not_reordered(suggestions, pipeline_world):
    flags = pipeline_world.truth_flags
    dead = sorted(set(flags.loc[flags["kind"] == "dead_stock", "sku"]))
    rows = suggestions.set_index("sku").loc[dead]
    assert (rows["suggested_qty"] == 0).all(), rows[["available", "reorder_point", "suggested_qty"]]
