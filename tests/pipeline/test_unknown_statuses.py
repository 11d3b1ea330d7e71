"""A status a platform adds after our mapping was written, an order sent without a financial status or a
currency, a fulfilled Shopify order without its fulfillment_status: each such order is set aside with the
platform's own status in the reason, and the build goes on (the staging not_null tests warn, they do not fail).
And a line's merchant code maps as the listings' does: a Douyin line without `code` by its `out_sku_id`, a JD line
whose code has spaces around it, trimmed.

The warehouse is a copy of the session's built demo whose raw orders get, per channel, one order with a status
no mapping lists; dbt then builds every model and test, as `shopkeep materialize`
would after the next load.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.analytics.dbt_helper import run_dbt

pytestmark = pytest.mark.slow

# raw table, status column, the new value (as SQL), the channel's staging model
UNKNOWN = {
    "taobao": ("raw_taobao.orders", "status", "'TRADE_PRESALE_DEPOSIT_PAID'"),
    "jd": ("raw_jd.orders", "order_state", "'PRESALE'"),
    "pinduoduo": ("raw_pinduoduo.orders", "order_status", "9"),
    "douyin": ("raw_douyin.orders", "order_status", "777"),
    "shopify": ("raw_shopify.orders", "financial_status", "null"),
}
# a refunded PDD order is refunded whatever its order_status says
ONLY = {"pinduoduo": "where coalesce(refund_status, 1) <> 4"}
ID_COLUMN = {
    "taobao": "tid",
    "jd": "order_id",
    "pinduoduo": "order_sn",
    "douyin": "order_id",
    "shopify": "id",
}


def _one(con, sql: str, params=()):
    return con.execute(sql, list(params)).fetchone()


@pytest.fixture(scope="module")
def rebuilt(built_build_path: Path, tmp_path_factory: pytest.TempPathFactory):
    """(build path, {channel: order_id changed}, the currency-less and the fulfilment-only Shopify orders, the
    orders set aside before, dbt's result)."""
    work = tmp_path_factory.mktemp("unknown_statuses")
    build = work / "build.duckdb"
    shutil.copy(built_build_path, build)
    changed = {}
    with duckdb.connect(str(build)) as con:
        before = {
            k
            for (k,) in con.execute(
                "select row_key from marts.set_aside_rows where entity = 'order'"
            ).fetchall()
        }
        for channel, (table, column, value) in UNKNOWN.items():
            id_column = ID_COLUMN[channel]
            (shop_id, platform_id) = _one(
                con,
                f"select shop_id, cast({id_column} as varchar) from {table} {ONLY.get(channel, '')} "
                f"order by {id_column} limit 1",
            )
            con.execute(
                f"update {table} set {column} = {value} where cast({id_column} as varchar) = ?", [platform_id]
            )
            changed[channel] = f"{shop_id}:{platform_id}"
        # a Shopify order sent without its currency
        (no_currency,) = _one(
            con,
            "select shop_id || ':' || cast(id as varchar) from raw_shopify.orders "
            "where financial_status = 'paid' order by id desc limit 1",
        )
        con.execute(
            "update raw_shopify.orders set currency = null where shop_id || ':' || cast(id as varchar) = ?",
            [no_currency],
        )
        # a shipped Shopify order whose answer left fulfillment_status out (it has a fulfilment)
        (shipped,) = _one(
            con,
            "select order_id from staging.stg_shopify__orders where order_status = 'shipped' "
            f"and order_id not in ('{no_currency}', '{changed['shopify']}') order by order_id limit 1",
        )
        con.execute(
            "update raw_shopify.orders set fulfillment_status = null where shop_id || ':' || cast(id as varchar) = ?",
            [shipped],
        )
        # a Douyin sub-order sent without its merchant code (its out_sku_id holds it); a JD code with spaces
        # around it (each a line of a counted order whose code the product master knows)
        products = "(select sku from staging.stg_product_master__products)"
        (douyin_line,) = _one(
            con,
            "select line.order_id from raw_douyin.orders__sku_order_list line "
            "join raw_douyin.orders o on o._dlt_id = line._dlt_parent_id "
            f"where line.code = line.out_sku_id and line.code in {products} "
            "and o.shop_id || ':' || o.order_id <> ? order by line.order_id limit 1",
            [changed["douyin"]],
        )
        con.execute(
            "update raw_douyin.orders__sku_order_list set code = null where order_id = ?", [douyin_line]
        )
        (jd_order,) = _one(
            con,
            "select o.shop_id || ':' || o.order_id from raw_jd.orders o "
            "join raw_jd.orders__item_info_list line on o._dlt_id = line._dlt_parent_id "
            "where o.shop_id || ':' || o.order_id <> ? group by 1 "
            f"having count(*) = 1 and bool_and(line.outer_sku_id in {products}) order by 1 limit 1",
            [changed["jd"]],
        )
        con.execute(
            "update raw_jd.orders__item_info_list set outer_sku_id = '  ' || outer_sku_id || ' ' "
            "where _dlt_parent_id = (select _dlt_id from raw_jd.orders where shop_id || ':' || order_id = ?)",
            [jd_order],
        )
    done = run_dbt(build, work, "build", "--exclude", "test_type:unit", check=False)
    return build, changed, no_currency, shipped, before, done, (douyin_line, jd_order)


def test_the_build_goes_on_and_its_not_null_tests_on_status_only_warn(rebuilt):
    *_, done, _ = rebuilt
    assert done.returncode == 0, done.stdout[-3000:]
    assert "WARN" in done.stdout and "not_null_stg_taobao__orders_order_status" in done.stdout


def test_each_order_with_an_unknown_status_is_set_aside_naming_the_status(rebuilt):
    build, changed, no_currency, _, before, *_ = rebuilt
    with duckdb.connect(str(build), read_only=True) as con:
        aside = dict(
            con.execute("select row_key, reason from marts.set_aside_rows where entity = 'order'").fetchall()
        )
        counted = {
            o for (o,) in con.execute("select order_id from intermediate.int_orders_unified").fetchall()
        }
    expected = {
        "taobao": "status 'TRADE_PRESALE_DEPOSIT_PAID' of taobao not recognised",
        "jd": "status 'PRESALE' of jd not recognised",
        "pinduoduo": "status '9' of pinduoduo not recognised",
        "douyin": "status '777' of douyin not recognised",
        "shopify": "status (none sent) of shopify not recognised",
    }
    for channel, order_id in changed.items():
        assert aside[order_id].startswith(expected[channel]), (order_id, aside.get(order_id))
        assert order_id not in counted
    assert set(aside) == before | set(changed.values()) | {no_currency}  # nothing else


def test_an_order_without_a_currency_is_set_aside_saying_where_to_set_it(rebuilt):
    build, _, no_currency, *_ = rebuilt
    with duckdb.connect(str(build), read_only=True) as con:
        (reason,) = _one(con, "select reason from marts.set_aside_rows where row_key = ?", [no_currency])
    assert reason.startswith("no currency on the order") and "[[shops]] currency" in reason


def test_a_fulfilled_shopify_order_without_fulfillment_status_still_counts_as_shipped(rebuilt):
    build, _, _, shipped, *_ = rebuilt
    with duckdb.connect(str(build), read_only=True) as con:
        (status,) = _one(
            con, "select order_status from staging.stg_shopify__orders where order_id = ?", [shipped]
        )
    assert status == "shipped"


def test_a_line_without_its_merchant_code_or_with_spaces_around_it_still_maps_to_its_master_sku(rebuilt):
    build, *_, (douyin_line, jd_order) = rebuilt
    with duckdb.connect(str(build), read_only=True) as con:
        douyin = _one(
            con,
            "select lines.outer_id, lines.sku, raw.out_sku_id from intermediate.int_order_lines_enriched lines "
            "join raw_douyin.orders__sku_order_list raw on lines.platform_line_id = raw.order_id "
            "where lines.channel = 'douyin' and raw.order_id = ?",
            [douyin_line],
        )
        jd = _one(
            con,
            "select outer_id, sku from intermediate.int_order_lines_enriched where order_id = ?",
            [jd_order],
        )
        (raw_code,) = _one(
            con,
            "select line.outer_sku_id from raw_jd.orders__item_info_list line "
            "join raw_jd.orders o on o._dlt_id = line._dlt_parent_id where o.shop_id || ':' || o.order_id = ?",
            [jd_order],
        )
    assert douyin[0] == douyin[1] == douyin[2], douyin
    assert raw_code != raw_code.strip() and jd[0] == jd[1] == raw_code.strip(), (raw_code, jd)
