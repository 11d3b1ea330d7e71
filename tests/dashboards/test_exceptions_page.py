"""异常订单 Order exceptions over the built warehouse: the queue equals marts.order_exceptions, the reason
filter narrows it, and no buyer's name, phone, e-mail or address reaches the page."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from dashboards.format import integer
from dashboards.queries import operations
from tests.dashboards.pages_helper import one, render_page, rows, tiles

PII_COLUMN = re.compile(
    r"phone|mobile|tel|mail|receiver|address(?!_missing)|province|city|district|buyer_name"
)
PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])|\+1 \d{3}-\d{3}-\d{4}")


def test_the_queue_equals_the_mart_and_the_reason_counts_match(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path

    at = render_page(serve, "exceptions", monkeypatch)

    (n,) = one(serve, "select count(*) from marts.order_exceptions")
    (overdue,) = one(serve, "select count(*) from marts.order_exceptions where ship_overdue")
    assert tiles(at)["待审核订单"] == integer(n)
    assert tiles(at)["超时未发货"] == integer(overdue)
    queue = at.dataframe[0].value
    assert sorted(queue["platform_order_id"]) == sorted(
        r[0] for r in rows(serve, "select platform_order_id from marts.order_exceptions")
    )


def test_filtering_by_a_reason_keeps_only_its_orders(built_warehouse, monkeypatch):
    serve = built_warehouse.serve_path
    ((reason, count),) = rows(
        serve,
        "select r, count(*) from (select unnest(reasons) r from marts.order_exceptions) "
        "group by 1 order by 2 asc, 1 limit 1",
    )

    at = render_page(serve, "exceptions", monkeypatch, lang="en")
    at.multiselect(key="exceptions_reasons").set_value([reason]).run()

    assert not at.exception
    assert len(at.dataframe[0].value) == count


def test_no_name_phone_email_or_address_of_any_buyer_reaches_the_page(
    built_warehouse, demo_stack, monkeypatch
):
    serve = built_warehouse.serve_path
    orders = demo_stack.world.orders

    at = render_page(serve, "exceptions", monkeypatch, lang="en")

    queue = at.dataframe[0].value
    assert not [c for c in queue.columns if PII_COLUMN.search(c)]
    cells = {str(v) for v in queue.astype(str).to_numpy().ravel() if not pd.isna(v)}
    text = "\n".join(cells)
    assert not PHONE.search(text)
    secrets = set(orders["buyer_name"]) | set(orders["buyer_phone"]) | set(orders["buyer_email"])
    secrets |= {a for a in orders["address_detail"] if isinstance(a, str) and len(a) > 3}
    leaked = [s for s in secrets if isinstance(s, str) and s and s in text]
    assert not leaked, leaked[:5]
    masked = r"^[a-z_]+:(h:[0-9a-f]{16}|[0-9]+)$"  # an HMAC, or Shopify's numeric customer id
    assert queue["buyer_key"].str.match(masked).all(), list(queue["buyer_key"])


def test_the_queue_shows_the_marts_masked_buyer_data_as_it_is_and_which_address_part_is_missing(
    built_warehouse, tmp_path
):
    """Masking happens in the mart (order_exceptions: dbt unit test order_exceptions_hold_no_buyer_datum_in_the_clear);
    the query passes its masked values through and never selects the province or city themselves."""
    serve = tmp_path / "serve.duckdb"
    with duckdb.connect(str(serve)) as con:
        con.execute(f"attach '{built_warehouse.serve_path}' as built (read_only)")
        con.execute("create schema marts")
        con.execute("create table marts.shops as select * from built.marts.shops")
        con.execute(
            "create table marts.order_exceptions as select * from built.marts.order_exceptions limit 0"
        )
        con.execute(
            """
            insert into marts.order_exceptions by name
            select 'shopify_global:1' as order_id, 'shopify_global' as shop_id, '1' as platform_order_id,
                   'shopify_global:h:0185a258f5c301ed' as buyer_key, 1.0 as hours_since_paid,
                   48 as promise_hours, '请打 *** 联系' as buyer_remark, ['remark_attention'] as reasons,
                   1 as reason_count, true as remark_attention, '广东省' as province, null as city,
                   true as address_incomplete, ['city'] as address_missing
            """
        )

    (row,) = operations.exception_queue(str(serve), ("test", 1), ()).to_dict("records")

    assert row["buyer_key"] == "shopify_global:h:0185a258f5c301ed"
    assert row["buyer_remark"] == "请打 *** 联系"
    assert row["address_missing"] == "city"
    assert "province" not in row and "city" not in row
