"""The simulated shop: the tables every sandbox server and warehouse test relies on."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from sandbox.shop.generate import generate
from sandbox.shop.product_master import (
    KIT_HEADERS,
    PRODUCT_HEADERS,
    PROMOTION_HEADERS,
    SUPPLIER_HEADERS,
    write_product_master_xlsx,
)
from sandbox.world import SCHEMA

SMALL = dict(seed=7, days=120, orders_per_day=60, end_date=date(2026, 6, 30))


@pytest.fixture(scope="module")
def world():
    return generate(**SMALL)


def test_the_same_arguments_generate_identical_tables(world):
    again = generate(**SMALL)
    for name in SCHEMA:
        pd.testing.assert_frame_equal(world.tables[name], again.tables[name], obj=name)


def test_every_schema_table_has_its_columns_first(world):
    for name, columns in SCHEMA.items():
        assert list(world.tables[name].columns[: len(columns)]) == list(columns), name
    for name in (
        "shops",
        "products",
        "listings",
        "orders",
        "order_lines",
        "refunds",
        "bill_lines",
        "stock_snapshots",
        "stock_movements",
        "purchase_orders",
        "receipts",
        "promotions",
    ):
        assert len(world.tables[name]) > 0, name


def test_the_five_shops_have_the_configured_ids_channels_and_currencies(world):
    got = set(world.shops[["shop_id", "channel", "currency"]].itertuples(index=False, name=None))
    assert got == {
        ("shopify_global", "shopify", "USD"),
        ("tmall_flagship", "taobao", "CNY"),
        ("jd_pop", "jd", "CNY"),
        ("pdd_main", "pinduoduo", "CNY"),
        ("douyin_live", "douyin", "CNY"),
    }


def test_money_is_two_place_decimal_and_timestamps_are_utc(world):
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2 for v in world.orders["paid_amount"])
    assert str(world.orders["created_at"].dt.tz) == "UTC"
    assert all(isinstance(d, date) for d in world.stock_snapshots["snapshot_date"].head(50))


def test_paid_amounts_add_up_per_line_and_per_order(world):
    lines, orders = world.order_lines, world.orders
    line_value = lines["unit_list_price"] * lines["quantity"]
    assert (
        line_value - lines["merchant_discount"] - lines["platform_discount"] == lines["paid_amount"]
    ).all()
    assert (
        orders["list_amount"]
        - orders["merchant_discount"]
        - orders["platform_discount"]
        + orders["shipping_fee"]
        == orders["paid_amount"]
    ).all()
    sums = (
        lines.assign(value=line_value)
        .groupby(["shop_id", "order_id"])[["value", "merchant_discount", "platform_discount", "paid_amount"]]
        .sum()
    )
    o = orders.set_index(["shop_id", "order_id"]).loc[sums.index]
    assert (sums["value"] == o["list_amount"]).all()
    assert (sums["merchant_discount"] == o["merchant_discount"]).all()
    assert (sums["platform_discount"] == o["platform_discount"]).all()
    assert (sums["paid_amount"] + o["shipping_fee"] == o["paid_amount"]).all()


def test_stock_snapshots_equal_the_running_sum_of_movements(world):
    m = world.stock_movements
    local_day = m["moved_at"].dt.tz_convert("Asia/Shanghai").dt.date
    daily = m.assign(day=local_day).groupby(["warehouse_id", "sku", "day"])["quantity"].sum()
    snaps = world.stock_snapshots.set_index(["warehouse_id", "sku", "snapshot_date"])["on_hand"].sort_index()
    running = daily.groupby(level=[0, 1]).cumsum()
    # the snapshot on each day with movements equals the running sum up to that day
    joined = snaps.loc[running.index]
    assert (joined.to_numpy() == running.to_numpy()).all()
    assert (world.stock_snapshots["on_hand"] >= 0).all()


def test_no_kit_ever_appears_in_stock_tables(world):
    kits = set(world.products.loc[world.products["is_kit"], "sku"])
    assert kits & set(world.order_lines["sku"])  # kits are sold ...
    assert not kits & set(world.stock_snapshots["sku"])  # ... but never stocked
    assert not kits & set(world.stock_movements["sku"])


def test_the_size_hotspot_has_the_highest_size_return_rate_of_its_category_in_its_shop(world):
    flag = world.truth_flags[world.truth_flags["kind"] == "size_return_hotspot"].iloc[0]
    lines = world.order_lines[world.order_lines["shop_id"] == flag.shop_id]
    products = world.products.set_index("sku")
    apparel = lines[lines["sku"].map(products["category"]) == "apparel"]
    size_refunds = world.refunds[world.refunds["reason"] == "size"]
    apparel = apparel.assign(size_return=apparel["line_id"].isin(size_refunds["line_id"]))
    stats = apparel.groupby("sku")["size_return"].agg(["mean", "size"])
    stats = stats[stats["size"] >= 20]
    assert stats["mean"].idxmax() == flag.sku


def test_every_injected_bill_error_is_visible_in_bill_lines(world):
    bills, errors = world.bill_lines, world.truth_bill_errors
    shops = world.shops.set_index("shop_id")
    own_store = errors["shop_id"].map(shops["channel"]) == "shopify"
    assert sorted(errors.loc[~own_store, "error"].value_counts().items()) == [
        ("amount_mismatch", 2),
        ("duplicate_bill", 2),
        ("missing_settlement", 2),
        ("orphan_bill", 1),
    ]
    # Shopify Payments has its own: one order never paid out, one fee off, one order charged twice
    assert sorted(errors.loc[own_store, "error"]) == [
        "amount_mismatch",
        "duplicate_bill",
        "missing_settlement",
    ]
    order_ids = set(world.orders["order_id"])
    for e in errors.itertuples(index=False):
        mine = bills[bills["order_id"] == e.order_id]
        channel = shops.at[e.shop_id, "channel"]
        if e.error == "missing_settlement":
            assert mine.empty and e.order_id in order_ids
        elif e.error == "orphan_bill":
            assert not mine.empty and e.order_id not in order_ids
        elif e.error == "duplicate_bill" and channel == "shopify":  # a second charge: new ids, two incomes
            assert (mine["type"] == "income").sum() == 2 and not mine["bill_line_id"].duplicated().any()
        elif e.error == "duplicate_bill":
            assert mine["bill_line_id"].duplicated().sum() == 1
        else:
            paid = world.orders.set_index("order_id").at[e.order_id, "paid_amount"]
            fee = "service_fee" if channel == "shopify" else "commission"
            billed = mine.loc[mine["type"] == fee, "amount"].sum()
            expected = -(paid * shops.at[e.shop_id, f"{fee}_rate"]).quantize(Decimal("0.01"))
            assert billed != expected
    assert bills["bill_line_id"].duplicated().sum() == 2


def test_promotions_really_raise_units_against_the_two_weeks_before(world):
    lines = world.order_lines.merge(
        world.orders[["shop_id", "order_id", "created_at"]], on=["shop_id", "order_id"]
    )
    lines["day"] = lines["created_at"].dt.tz_convert("Asia/Shanghai").dt.date
    start = date.fromisoformat(world.params["start_date"])
    ratios = []
    for p in world.promotions.itertuples(index=False):
        if p.start_date - timedelta(days=14) < start:
            continue
        skus = p.skus.split(",")
        mine = lines[(lines["shop_id"] == p.shop_id) & lines["sku"].isin(skus)]
        during = mine[(mine["day"] >= p.start_date) & (mine["day"] <= p.end_date)]["quantity"].sum()
        before = mine[(mine["day"] >= p.start_date - timedelta(days=14)) & (mine["day"] < p.start_date)]
        per_day_during = during / ((p.end_date - p.start_date).days + 1)
        ratios.append(per_day_during / max(before["quantity"].sum() / 14, 0.1))
    assert len(ratios) >= 3
    assert np.median(ratios) > 1.3


def test_dead_stock_skus_sell_nothing_for_100_days_yet_hold_stock():
    w = generate(seed=3, days=200, orders_per_day=40, end_date=date(2026, 6, 30))
    dead = w.truth_flags.loc[w.truth_flags["kind"] == "dead_stock", "sku"]
    assert len(dead) == 5
    created = w.orders.set_index(["shop_id", "order_id"])["created_at"]
    lines = w.order_lines[w.order_lines["sku"].isin(dead)]
    last_sale = created.loc[pd.MultiIndex.from_frame(lines[["shop_id", "order_id"]])].max()
    assert last_sale < pd.Timestamp("2026-06-30", tz="UTC") - pd.Timedelta(days=100)
    final = w.stock_snapshots[w.stock_snapshots["snapshot_date"] == date(2026, 6, 30)]
    assert (final[final["sku"].isin(dead)].groupby("sku")["on_hand"].sum() > 0).all()


def test_starved_skus_are_out_of_stock_at_the_end(world):
    starved = world.truth_flags.loc[world.truth_flags["kind"] == "starved", "sku"]
    last = world.stock_snapshots[world.stock_snapshots["snapshot_date"] == SMALL["end_date"]]
    assert (last[last["sku"].isin(starved)].groupby("sku")["on_hand"].sum() == 0).all()
    assert set(starved) <= set(world.truth_stockouts["sku"])


def test_three_listings_carry_a_merchant_code_that_is_no_master_sku(world):
    unmapped = world.listings[~world.listings["outer_id"].isin(world.products["sku"])]
    assert len(unmapped) == 3
    assert set(unmapped["outer_id"]) & set(world.order_lines["outer_id"])


def test_the_product_master_workbook_round_trips_with_exact_headers(world, tmp_path):
    path = write_product_master_xlsx(world, tmp_path / "product_master.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["商品", "组合装", "供应商", "促销"]
    rows = list(wb["商品"].iter_rows(values_only=True))
    assert list(rows[0]) == PRODUCT_HEADERS
    assert len(rows) - 1 == len(world.products)
    first = dict(zip(PRODUCT_HEADERS, rows[1], strict=True))
    product = world.products.iloc[0]
    assert first["商家编码"] == product.sku and Decimal(str(first["成本价"])) == product.unit_cost
    assert first["类目"] in {"服装", "家居", "零食"} and first["是否组合装"] in {"是", "否"}
    assert first["上市日期"].date() == product.launched_on
    assert list(next(wb["组合装"].iter_rows(values_only=True))) == KIT_HEADERS
    assert wb["组合装"].max_row - 1 == len(world.kit_components)
    assert list(next(wb["供应商"].iter_rows(values_only=True))) == SUPPLIER_HEADERS
    assert list(next(wb["促销"].iter_rows(values_only=True))) == PROMOTION_HEADERS
    assert wb["促销"].max_row - 1 == len(world.promotions)
