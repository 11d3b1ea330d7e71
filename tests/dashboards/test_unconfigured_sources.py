"""A seller with one Shopify store and nothing else — no WMS, no product master, no exports folder, no Shopify
Payments — gets a published snapshot whose every page renders without an exception, shows what there is, and
says "not configured: add [section]" where its data depends on an absent source, instead of an empty chart.

The warehouse is derived from the session's built demo: its raw Shopify tables only (the Shopify Payments
ledger dropped), raw_config written by the real config asset from a one-shop shopkeep.toml, then dbt build and
the publish step, as `shopkeep materialize` runs them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from analytics.dbt_cli import run_dbt
from dashboards.i18n import t
from orchestration.ingest import config_assets
from orchestration.publish import publish_serving_file
from orchestration.settings import load_settings
from tests.dashboards.pages_helper import render_page, rows, tiles
from tests.dashboards.test_browser import registered_pages

pytestmark = pytest.mark.slow

SHOP = "shopify_global"
CONFIG = f"""
[warehouse]
build_path = "build.duckdb"
serve_path = "serve.duckdb"
ops_path = "ops.sqlite"
dlt_dir = "dlt"

[[shops]]
id = "{SHOP}"
channel = "shopify"
name = "My store"
currency = "USD"
base_url = "https://my-store.myshopify.com"
token_env = "SHOPIFY_GLOBAL_TOKEN"
location_id = "1001"
"""
SHOPIFY_PAYMENTS_TABLES = ("payouts", "balance_transactions")


@pytest.fixture(scope="module")
def shopify_only(built_build_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """serve.duckdb published for the one-store setup."""
    work = tmp_path_factory.mktemp("shopify_only")
    build = work / "build.duckdb"
    shutil.copy(built_build_path, build)
    with duckdb.connect(str(build)) as con:
        schemas = [s for (s,) in con.execute("select schema_name from information_schema.schemata "
                                             "where catalog_name = 'build'").fetchall()]  # fmt: skip
        for schema in schemas:
            if schema not in ("raw_shopify", "main", "information_schema", "pg_catalog"):
                con.execute(f'drop schema "{schema}" cascade')
        for table in SHOPIFY_PAYMENTS_TABLES:  # a store paid through another provider
            con.execute(f"drop table if exists raw_shopify.{table}")
    (work / "shopkeep.toml").write_text(CONFIG, encoding="utf-8")
    config_assets(load_settings(work / "shopkeep.toml"))[0]()  # raw_config.shops and raw_config.sources
    done = run_dbt(build, work, "build", "--exclude", "test_type:unit")
    assert done.returncode == 0, done.stdout[-3000:]
    serve = work / "serve.duckdb"
    publish_serving_file(build, serve)
    return serve


def notices(at) -> list[str]:
    return [i.value for i in at.info]


def test_the_published_snapshot_says_which_sources_the_setup_configures(shopify_only):
    assert set(
        rows(shopify_only, "select source_id, is_configured, config_section from marts.data_sources")
    ) == {
        ("wms", False, "[wms]"),
        ("product_master", False, "[product_master]"),
        ("files", False, "[files]"),
        (f"shopify:{SHOP}", True, "[[shops]]"),
    }


NOT_CONFIGURED = [
    ("inventory", ["not_configured_stock", "not_configured_products"]),
    ("replenishment", ["not_configured_stock", "not_configured_products"]),
    ("suppliers", ["not_configured_stock"]),
    ("stock_sync", ["not_configured_stock"]),
    ("purchase_orders", []),
    ("promotions", ["not_configured_promotions"]),
    ("returns", ["not_configured_returns"]),
    ("sku", ["not_configured_products"]),
    ("reconciliation", ["not_configured_bills"]),
    ("sku_margin", ["not_configured_costs"]),
    ("pnl", ["not_configured_costs"]),
    ("overview", ["not_configured_costs"]),
    ("channels", ["not_configured_costs"]),
    ("customers", []),
    ("exceptions", []),
    ("data_status", []),
]  # the wall has its own test below


def test_every_registered_page_is_tried_without_its_sources():
    assert {page for page, _ in NOT_CONFIGURED} | {"wall"} == set(registered_pages()) | {"sku"}


@pytest.mark.parametrize(("page", "due"), NOT_CONFIGURED)
def test_every_page_renders_and_says_what_is_not_configured(shopify_only, monkeypatch, page, due):
    at = render_page(shopify_only, page, monkeypatch)  # asserts no exception

    shown = [n for n in notices(at) if "shopkeep.toml" in n]
    assert shown == [t(key, lang="zh") for key in due]


def test_pages_without_their_source_draw_no_figures_and_pages_with_sales_still_show_them(
    shopify_only, monkeypatch
):
    for page in (
        "inventory",
        "replenishment",
        "suppliers",
        "stock_sync",
        "promotions",
        "reconciliation",
        "sku",
    ):
        at = render_page(shopify_only, page, monkeypatch)
        assert not tiles(at) and not at.get("plotly_chart") and not at.dataframe, page
    # returns under merchant codes no master SKU matches are still counted (as unmapped:<code>): the page says
    # the product master is missing and shows the units sold and returned it has
    returns = render_page(shopify_only, "returns", monkeypatch)
    assert int(tiles(returns)["销售件数"].replace(",", "")) > 0 and tiles(returns)["退货件数"] != "—"
    assert notices(returns) == [t("not_configured_returns", lang="zh")]
    (orders,) = rows(shopify_only, "select sum(orders) from marts.daily_shop_sales")[0]
    assert orders > 0
    overview = render_page(shopify_only, "overview", monkeypatch)
    assert tiles(overview)["订单数"] != "0" and overview.get("plotly_chart")


def test_the_notice_speaks_english_when_the_page_does(shopify_only, monkeypatch):
    at = render_page(shopify_only, "inventory", monkeypatch, lang="en")

    assert notices(at) == [
        "Stock data is not configured: add [wms] to shopkeep.toml",
        "The product master is not configured (SKUs, categories, costs, suppliers): add [product_master] "
        "to shopkeep.toml",
    ]


def test_the_wall_says_stock_is_not_configured_instead_of_nothing_low(shopify_only, monkeypatch):
    at = render_page(shopify_only, "wall", monkeypatch)

    text = "\n".join(e.value for e in at.get("html"))
    assert t("not_configured_stock", lang="zh") in text
    assert t("wall_no_low_stock", lang="zh") not in text


def test_data_status_counts_the_unmapped_codes_per_shop_and_lists_the_absent_sources(
    shopify_only, monkeypatch
):
    at = render_page(shopify_only, "data_status", monkeypatch)

    (unmapped,) = rows(shopify_only, "select count(*) from marts.unmapped_skus where shop_id = ?", [SHOP])[0]
    assert unmapped > 0  # no product master: every merchant code is unmapped
    set_aside = next(d.value for d in at.dataframe if "what" in d.value.columns)
    assert set_aside.to_dict("records") == [
        {"what": t("data_status_unmapped", lang="zh"), "shop_name": "My store", "rows": unmapped}
    ]
    sources = next(d.value for d in at.dataframe if "config_section" in d.value.columns)
    assert dict(zip(sources["config_section"], sources["is_configured"], strict=True)) == {
        "[wms]": False,
        "[product_master]": False,
        "[files]": False,
        "[[shops]]": True,
    }


def test_data_status_counts_quarantined_rows_per_importer_and_shop_at_the_top(
    shopify_only, tmp_path, monkeypatch
):
    serve = tmp_path / "serve.duckdb"
    shutil.copy(shopify_only, serve)
    with duckdb.connect(str(serve)) as con:
        con.executemany(
            "insert into marts.quarantined_rows values (?, ?, ?, ?, 'sha', ?, ?, 'bad date', '{}', now())",
            [
                ["q1", "export", SHOP, f"{SHOP}__orders.csv", None, 3],
                ["q2", "export", SHOP, f"{SHOP}__orders.csv", None, 9],
                ["q3", "product_master", None, "master.xlsx", "商品", 5],
            ],
        )

    at = render_page(serve, "data_status", monkeypatch)

    set_aside = next(d.value for d in at.dataframe if "what" in d.value.columns)
    counts = {(r["what"], r["shop_name"]): r["rows"] for r in set_aside.to_dict("records")}
    assert counts[(t("data_status_importer_export", lang="zh"), "My store")] == 2
    assert counts[(t("data_status_importer_product_master", lang="zh"), "—")] == 1
    assert (t("data_status_unmapped", lang="zh"), "My store") in counts
