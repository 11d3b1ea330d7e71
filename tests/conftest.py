"""Shared fixtures: the small simulated shop, its sandbox servers on loopback, and a warehouse built from them.

Everything here is real: the simulator's world, HTTP servers speaking the channels' protocols, dlt loading a
DuckDB file, dbt building the models, Dagster running the assets, the publish step writing serve.duckdb.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from sandbox import runner
from sandbox.world import World

SMALL_SHOP = {"seed": 7, "days": 120, "orders_per_day": 60, "end_date": date(2026, 6, 30)}
TOKENS = {
    "SHOPIFY_GLOBAL_TOKEN": "shpat_test_token_0123456789",
    "WMS_TOKEN": "wms_test_token_0123456789",
    "SHOPKEEP_PII_SALT": "test-salt",
}


@pytest.fixture(scope="session")
def small_world() -> World:
    """The small simulated shop every test uses (120 days, ~60 orders/day, ending 2026-06-30)."""
    from sandbox.shop.generate import generate

    return generate(**SMALL_SHOP)


@dataclass
class DemoStack:
    world: World
    config_path: Path
    shopify_url: str
    wms_url: str
    servers: list[runner.RunningServer]

    def settings(self):
        from orchestration.settings import load_settings

        return load_settings(self.config_path)


def write_config(directory: Path, shopify_url: str, wms_url: str, product_master: Path) -> Path:
    config = directory / "shopkeep.toml"
    config.write_text(
        f"""
[warehouse]
build_path = "build.duckdb"
serve_path = "serve.duckdb"
ops_path = "ops.sqlite"
dlt_dir = "dlt"

[[shops]]
id = "shopify_global"
channel = "shopify"
name = "Shopify 独立站"
currency = "USD"
base_url = "{shopify_url}"
token_env = "SHOPIFY_GLOBAL_TOKEN"
location_id = "1001"
start_date = "2025-01-01"

[[shops]]
id = "tmall_flagship"
channel = "taobao"
name = "天猫旗舰店"
enabled = false

[wms]
base_url = "{wms_url}"
token_env = "WMS_TOKEN"
warehouses = ["WH-SH", "WH-GZ"]
backfill_days = 14

[product_master]
path = "{product_master}"
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="session")
def demo_stack(small_world: World, tmp_path_factory: pytest.TempPathFactory):
    """Sandbox servers for the small shop on free loopback ports, and a config pointing at them."""
    from sandbox import shopify, wms
    from sandbox.shop.product_master import write_product_master_xlsx

    for key, value in TOKENS.items():
        os.environ[key] = value
    directory = tmp_path_factory.mktemp("stack")
    product_master = write_product_master_xlsx(small_world, directory / "product_master.xlsx") or (
        directory / "product_master.xlsx"
    )
    servers = [
        runner.start(
            shopify.create_app(small_world, shop_id="shopify_global", token=TOKENS["SHOPIFY_GLOBAL_TOKEN"]),
            "shopify",
        ),
        runner.start(wms.create_app(small_world, token=TOKENS["WMS_TOKEN"]), "wms"),
    ]
    config = write_config(directory, servers[0].url, servers[1].url, Path(product_master))
    yield DemoStack(small_world, config, servers[0].url, servers[1].url, servers)
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def built_warehouse(demo_stack: DemoStack):
    """Every asset materialised once against the sandboxes, the way `shopkeep materialize` does it (stage by
    stage: ingest, dbt build, publish): build.duckdb and serve.duckdb exist."""
    import dagster as dg

    from orchestration.cli import run_materialize

    settings = demo_stack.settings()
    with dg.instance_for_test() as instance:
        run_materialize(settings, instance=instance)
    return settings
