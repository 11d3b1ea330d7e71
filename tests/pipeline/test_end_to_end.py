"""From channel to serve.duckdb: the whole Dagster graph over the sandboxes, checked against the simulator's truth."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.cli import run_materialize
from orchestration.definitions import build_definitions
from tests.conftest import in_memory_instance

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CENT = Decimal("0.01")


def test_the_published_overview_numbers_equal_the_simulated_shops_own_data(
    built_warehouse, pipeline_world, truth_for_shop, serve_totals
):
    """Every shop: API for the online window, exported files before it — together exactly the world."""
    for shop_id in pipeline_world.shops["shop_id"]:
        truth = truth_for_shop(pipeline_world, shop_id)
        assert truth["orders"] > 100, f"{shop_id} has enough orders to mean something"
        assert serve_totals(built_warehouse.serve_path, shop_id) == truth, shop_id


def test_money_stays_exact_decimal_from_raw_to_the_serving_file(built_warehouse):
    def money_types(path: Path, schema: str, table: str) -> set[str]:
        with duckdb.connect(str(path), read_only=True) as con:
            return {
                r[0]
                for r in con.execute(
                    "select data_type from information_schema.columns where table_schema = ? and table_name = ? "
                    "and (column_name like '%price%' or column_name like '%_cny' or column_name like '%amount%')",
                    [schema, table],
                ).fetchall()
            }

    assert money_types(built_warehouse.build_path, "raw_shopify", "orders") == {"DECIMAL(18,2)"}
    assert money_types(built_warehouse.build_path, "raw_shopify", "orders__line_items") == {"DECIMAL(18,2)"}
    assert money_types(built_warehouse.serve_path, "marts", "daily_shop_sales") == {"DECIMAL(18,2)"}


def test_the_serving_file_holds_only_marts_and_no_buyer_data(built_warehouse, pipeline_world):
    with duckdb.connect(str(built_warehouse.serve_path), read_only=True) as con:
        schemas = {
            r[0]
            for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
    assert schemas == {"marts", "meta"}
    orders = pipeline_world.orders
    secrets = {
        str(v)
        for column in ("buyer_email", "buyer_phone", "buyer_name", "address_detail")
        for v in orders[column].dropna()
        if str(v).strip()
    }
    for path in (built_warehouse.build_path, built_warehouse.serve_path):
        with duckdb.connect(str(path), read_only=True) as con:
            columns = con.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where data_type = 'VARCHAR' and table_schema not like 'pg_%' and table_schema != 'information_schema'"
            ).fetchall()
            for schema, table, column in columns:
                values = con.execute(f'select distinct "{column}" from {schema}."{table}"').fetchall()
                leaked = {v[0] for v in values} & secrets
                assert not leaked, f"buyer data in the clear in {path.name}: {schema}.{table}.{column}"


REBUILT_UNIFIED = (
    "int_orders_unified", "int_order_lines_unified", "int_refunds_unified", "int_settlements_unified"
)
REBUILT = " or ".join(
    ["key:raw_*/*", "+key:marts/daily_shop_sales", *(f"+key:intermediate/{t}" for t in REBUILT_UNIFIED)]
)


def test_a_second_materialisation_duplicates_nothing(built_warehouse, pipeline_world, start_stack, tmp_path):
    """Every channel loaded again over a copy of the built warehouse, against sandboxes serving the same world
    (its own: the shared warehouse is only read), and the models from raw to the unified facts and the daily
    sales rebuilt (the rest of the graph reads those): every row is loaded again and kept once."""
    stack = start_stack(pipeline_world, tmp_path)
    shutil.copy(built_warehouse.build_path, tmp_path / "build.duckdb")
    shutil.copytree(built_warehouse.dlt_dir, tmp_path / "dlt")
    # the very files of the first load (a spreadsheet written again differs in its timestamps, so it would be
    # another version of the file to the importer)
    shutil.copytree(built_warehouse.config_path.parent / "exports", tmp_path / "exports", dirs_exist_ok=True)
    shutil.copy(built_warehouse.config_path.parent / "product_master.xlsx", tmp_path / "product_master.xlsx")
    settings = stack.settings()
    assert settings.build_path == tmp_path / "build.duckdb" and settings.dlt_dir == tmp_path / "dlt"

    def counts() -> dict[str, int]:
        with duckdb.connect(str(settings.build_path), read_only=True) as con:
            tables = con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema like 'raw_%' and table_schema not like '%_staging' "
                "and table_name not like '_dlt%'"
            ).fetchall()
            tables += [("intermediate", t) for t in REBUILT_UNIFIED] + [("marts", "daily_shop_sales")]
            return {
                f"{s}.{t}": con.execute(f'select count(*) from {s}."{t}"').fetchone()[0] for s, t in tables
            }

    before = counts()
    try:
        with in_memory_instance() as instance:
            run_materialize(settings, instance=instance, select=REBUILT)
    finally:
        for server in stack.servers.values():
            server.stop()
    assert counts() == before


def test_every_warehouse_writer_is_in_the_one_warehouse_pool_and_lineage_runs_channel_to_dashboard(
    built_warehouse,
):
    defs = build_definitions(built_warehouse)
    graph = defs.resolve_asset_graph()
    executable = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.is_executable]
    writers = [a for a in executable if not any(k.path[0] == "writeback" for k in a.keys)]
    assert len(writers) >= 5
    for assets in writers:
        assert assets.node_def.pool == "warehouse", (
            f"{assets.node_def.name} writes outside the warehouse pool"
        )
    # writeback reads the published snapshot and writes only the ops store: its own pool, one run at a time
    (stock,) = [a for a in executable if dg.AssetKey(["writeback", "stock_sync"]) in a.keys]
    assert stock.node_def.pool == "stock_sync"
    upstream = graph.get(dg.AssetKey(["dashboards", "overview"]))
    seen, frontier = set(), [upstream.key]
    while frontier:
        key = frontier.pop()
        seen.add(key)
        frontier.extend(k for k in graph.get(key).parent_keys if k not in seen)
    for key in (
        ["serve", "snapshot"],
        ["marts", "daily_shop_sales"],
        ["raw_shopify", "orders"],
        ["channel", "shopify_global"],
    ):
        assert dg.AssetKey(key) in seen, f"{'/'.join(key)} is not upstream of the Overview dashboard"


def test_the_code_location_imports_without_reading_a_config_or_parsing_dbt(tmp_path):
    """Before, the import read shopkeep.toml and ran `dbt parse`: a config error broke every importer."""
    code = "import orchestration.definitions; print('imported')"
    env = {**os.environ, "SHOPKEEP_CONFIG": str(tmp_path / "missing.toml")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr[-2000:]
    called = subprocess.run(
        [sys.executable, "-c", "import orchestration.definitions as m; m.defs()"],
        env=env, capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert called.returncode != 0 and "missing.toml" in called.stderr


def test_the_shipped_definitions_load_with_the_demo_config():
    import orchestration.definitions as module

    defs = module.defs()
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {
        "raw_shopify/orders",
        "raw_shopify/payouts",
        "raw_shopify/balance_transactions",
        "staging/stg_shopify__balance_transactions",
        "raw_wms/stock_snapshots",
        "raw_wms/purchase_orders",
        "raw_wms/receipts",
        "staging/stg_wms__purchase_order_lines",
        "staging/stg_shopify__orders",
        "marts/daily_shop_sales",
        "serve/snapshot",
        "dashboards/overview",
    } <= keys
    assert defs.resolve_schedule_def("hourly_refresh").default_status == dg.DefaultScheduleStatus.STOPPED


def test_the_overview_page_over_the_built_warehouse_shows_the_simulated_shops_numbers(
    built_warehouse, pipeline_world, monkeypatch, truth_for_shop
):
    from streamlit.testing.v1 import AppTest

    from dashboards.filters import DATES_KEY
    from dashboards.format import integer, money

    truths = [truth_for_shop(pipeline_world, shop_id) for shop_id in pipeline_world.shops["shop_id"]]
    truth = {key: sum(t[key] for t in truths) for key in truths[0]}
    orders = pipeline_world.orders
    first = orders["created_at"].min().tz_convert("Asia/Shanghai").date()
    last = orders["created_at"].max().tz_convert("Asia/Shanghai").date()
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(built_warehouse.serve_path))
    at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=60)
    at.session_state[DATES_KEY] = (first, last)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tiles = {metric.label: metric.value for metric in at.metric}
    assert tiles["订单数"] == integer(truth["orders"])
    assert tiles["GMV 成交额"] == money(truth["gmv_cny"])
    assert tiles["净收入"] == money(truth["net_sales_cny"] - truth["refunds_cny"])
