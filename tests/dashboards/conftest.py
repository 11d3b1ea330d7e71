"""A small `serve.duckdb` with exactly the publish contract the dashboards read.

The real file from the pipeline will replace this fixture later: tests depend only on `serve_path`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

END = date(2026, 6, 30)
DAYS = 120
SHOPS = [  # shop_id, shop_name, channel, currency, timezone, daily order rate
    ("shopify_global", "Shopify 独立站", "shopify", "USD", "Asia/Shanghai", 6),
    ("tmall_flagship", "天猫旗舰店", "taobao", "CNY", "Asia/Shanghai", 14),
    ("jd_pop", "京东POP店", "jd", "CNY", "Asia/Shanghai", 9),
]
PRODUCTS = [  # sku, name, category, list price CNY
    ("AP-0001-M", "纯棉T恤 M", "apparel", Decimal("89.00")),
    ("AP-0002-L", "防晒外套 L", "apparel", Decimal("259.00")),
    ("HM-0003", "香薰蜡烛", "home", Decimal("59.90")),
    ("HM-0004", "收纳箱", "home", Decimal("39.00")),
    ("SN-0005", "坚果礼盒", "snacks", Decimal("128.00")),
]
CENT = Decimal("0.01")

DDL = """
create schema marts;
create schema meta;
create table marts.shops (
    shop_id varchar primary key, shop_name varchar, channel varchar, currency varchar, timezone varchar
);
create table marts.daily_sku_sales (
    order_date date, shop_id varchar, sku varchar, product_name varchar, category varchar, units bigint,
    gmv_cny decimal(18,2), net_sales_cny decimal(18,2), refunds_cny decimal(18,2), net_revenue_cny decimal(18,2),
    primary key (order_date, shop_id, sku)
);
create table marts.daily_shop_sales (
    order_date date, shop_id varchar, orders bigint, units bigint, buyers bigint, gmv_cny decimal(18,2),
    net_sales_cny decimal(18,2), refunds_cny decimal(18,2), net_revenue_cny decimal(18,2),
    aov_cny decimal(18,2), primary key (order_date, shop_id)
);
create table meta.publish_log (published_at timestamptz, build_started_at timestamptz, tables varchar);
"""

PUBLISHED_AT = datetime(2026, 7, 1, 1, 30, tzinfo=UTC)


def _sku_rows(rng: np.random.Generator) -> tuple[list[tuple], list[tuple]]:
    sku_rows: list[tuple] = []
    shop_rows: list[tuple] = []
    for offset in range(DAYS):
        day = END - timedelta(days=DAYS - 1 - offset)
        for shop_id, _name, _channel, _cur, _tz, rate in SHOPS:
            orders = int(rng.poisson(rate))
            if orders == 0:
                continue  # no paid orders that day: no row (as the mart would have)
            units_total = gmv_total = net_total = ref_total = Decimal(0)
            lines = rng.multinomial(
                orders + int(rng.poisson(orders / 3)), [1 / len(PRODUCTS)] * len(PRODUCTS)
            )
            for (sku, pname, category, price), units in zip(PRODUCTS, lines, strict=True):
                if units == 0:
                    continue
                gmv = price * int(units)
                net = (gmv * Decimal(str(round(rng.uniform(0.75, 0.95), 3)))).quantize(CENT)
                refunds = (
                    (net * Decimal(str(round(rng.uniform(0, 0.12), 3)))).quantize(CENT)
                    if rng.random() < 0.3
                    else Decimal("0.00")
                )
                sku_rows.append(
                    (day, shop_id, sku, pname, category, int(units), gmv, net, refunds, net - refunds)
                )
                units_total += units
                gmv_total += gmv
                net_total += net
                ref_total += refunds
            buyers = max(1, orders - int(rng.integers(0, 2)))
            aov = (net_total / orders).quantize(CENT)
            shop_rows.append(
                (
                    day,
                    shop_id,
                    orders,
                    int(units_total),
                    buyers,
                    gmv_total,
                    net_total,
                    ref_total,
                    net_total - ref_total,
                    aov,
                )
            )
    return sku_rows, shop_rows


PERIOD_RATIOS_MODEL = Path(__file__).resolve().parents[2] / "dbt_project/models/marts/core/period_ratios.sql"


def create_period_ratios(con: duckdb.DuckDBPyConnection) -> None:
    """marts.period_ratios as dbt builds it: the model is plain SQL under its Jinja comment."""
    sql = re.sub(r"\{#.*?#\}", "", PERIOD_RATIOS_MODEL.read_text(encoding="utf-8"), flags=re.S)
    con.execute(f"create table marts.period_ratios as {sql}")


def build_serve_file(path: Path, seed: int = 7) -> Path:
    """Write a serve.duckdb at `path` following the publish contract; returns the path."""
    rng = np.random.default_rng(seed)
    sku_rows, shop_rows = _sku_rows(rng)
    con = duckdb.connect(str(path))
    try:
        con.execute(DDL)
        create_period_ratios(con)
        con.executemany("insert into marts.shops values (?, ?, ?, ?, ?)", [s[:5] for s in SHOPS])
        sku_df = pd.DataFrame(sku_rows, columns=["d", "s", "k", "n", "c", "u", "g", "ns", "r", "nr"])
        shop_df = pd.DataFrame(shop_rows, columns=["d", "s", "o", "u", "b", "g", "ns", "r", "nr", "a"])
        for col in ("g", "ns", "r", "nr"):  # Decimal -> exact text, cast back in SQL
            sku_df[col] = sku_df[col].map(str)
            shop_df[col] = shop_df[col].map(str)
        shop_df["a"] = shop_df["a"].map(str)
        con.register("sku_df", sku_df)
        con.register("shop_df", shop_df)
        con.execute(
            """insert into marts.daily_sku_sales select d::date, s, k, n, c, u, g::decimal(18,2),
               ns::decimal(18,2), r::decimal(18,2), nr::decimal(18,2) from sku_df"""
        )
        con.execute(
            """insert into marts.daily_shop_sales select d::date, s, o, u, b, g::decimal(18,2),
               ns::decimal(18,2), r::decimal(18,2), nr::decimal(18,2), a::decimal(18,2) from shop_df"""
        )
        con.execute(
            "insert into meta.publish_log values (?, ?, ?)",
            [
                PUBLISHED_AT,
                PUBLISHED_AT - timedelta(minutes=4),
                "marts.daily_shop_sales,marts.daily_sku_sales,marts.shops",
            ],
        )
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def write_serve_file() -> Callable[..., Path]:
    """`write_serve_file(path, seed=...)`: another snapshot with the same contract (e.g. a new publish)."""
    return build_serve_file


@pytest.fixture(scope="session")
def serve_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published serving file with 3 shops and 120 days of sales ending 2026-06-30."""
    return build_serve_file(tmp_path_factory.mktemp("serve") / "serve.duckdb")


SERVE_OVERRIDE_ENV = "SHOPKEEP_TEST_SERVE_PATH"


@pytest.fixture(scope="session")
def built_serve_path(request: pytest.FixtureRequest) -> Path:
    """serve.duckdb of the session's built warehouse (`built_warehouse`, tests/conftest.py). While working on
    the dashboards, SHOPKEEP_TEST_SERVE_PATH=<an already published serve.duckdb> skips the build (the file is
    only read: tests that publish copy it first)."""
    override = os.environ.get(SERVE_OVERRIDE_ENV)
    if override:
        return Path(override).resolve()
    return request.getfixturevalue("built_warehouse").serve_path
