"""Shared fixtures: the small simulated shop, its sandbox servers on loopback, and a warehouse built from them.

Everything here is real: the simulator's world, HTTP servers speaking the channels' protocols, dlt loading a
DuckDB file, dbt building the models, Dagster running the assets, the publish step writing serve.duckdb.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
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


MARKETPLACES = {  # shop_id -> channel, env-var prefix
    "tmall_flagship": ("taobao", "TMALL_FLAGSHIP"),
    "jd_pop": ("jd", "JD_POP"),
    "pdd_main": ("pinduoduo", "PDD_MAIN"),
    "douyin_live": ("douyin", "DOUYIN_LIVE"),
}
for _shop, (_channel, _prefix) in MARKETPLACES.items():
    for _kind in ("APP_KEY", "APP_SECRET", "TOKEN"):
        TOKENS[f"{_prefix}_{_kind}"] = f"test-{_channel}-{_kind.lower()}-0123456789"
PIPELINE_HISTORY_DAYS = 30
"""The marketplaces' online window in the end-to-end stack (older history comes through exported files)."""


def yesterday_local() -> date:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)


@pytest.fixture(scope="session")
def pipeline_world() -> World:
    """The small shop ending yesterday, so every sandbox on the live clock serves all of it (the marketplaces
    their last PIPELINE_HISTORY_DAYS days; exported files the rest)."""
    from sandbox.shop.generate import generate

    return generate(**{**SMALL_SHOP, "end_date": yesterday_local()})


@dataclass
class DemoStack:
    world: World
    config_path: Path
    servers: dict[str, runner.RunningServer]
    export_before: date

    def settings(self):
        from orchestration.settings import load_settings

        return load_settings(self.config_path)


def write_config(
    directory: Path,
    urls: dict[str, str],
    product_master: Path,
    exports: Path | None = None,
    history_days: int = PIPELINE_HISTORY_DAYS,
) -> Path:
    """A shopkeep.toml for a sandbox stack: `urls` maps shop ids (and "wms") to their servers."""
    shops = [
        f"""
[[shops]]
id = "shopify_global"
channel = "shopify"
name = "Shopify 独立站"
currency = "USD"
base_url = "{urls["shopify_global"]}"
token_env = "SHOPIFY_GLOBAL_TOKEN"
location_id = "1001"
start_date = "2024-01-01"
"""
    ]
    for shop_id, (channel, prefix) in MARKETPLACES.items():
        enabled = "true" if shop_id in urls else "false"
        shops.append(
            f"""
[[shops]]
id = "{shop_id}"
channel = "{channel}"
name = "{shop_id}"
base_url = "{urls.get(shop_id, "")}"
enabled = {enabled}
app_key_env = "{prefix}_APP_KEY"
app_secret_env = "{prefix}_APP_SECRET"
token_env = "{prefix}_TOKEN"
history_days = {history_days}
"""
        )
    files = f'\n[files]\ndirectory = "{exports}"\n' if exports else ""
    config = directory / "shopkeep.toml"
    config.write_text(
        f"""
[warehouse]
build_path = "build.duckdb"
serve_path = "serve.duckdb"
ops_path = "ops.sqlite"
dlt_dir = "dlt"
{"".join(shops)}
[wms]
base_url = "{urls["wms"]}"
token_env = "WMS_TOKEN"
warehouses = ["WH-SH", "WH-GZ"]
backfill_days = 14

[product_master]
path = "{product_master}"
{files}""",
        encoding="utf-8",
    )
    return config


def start_stack(
    world: World,
    directory: Path,
    history_days: int = PIPELINE_HISTORY_DAYS,
    faults=None,
    marketplaces: bool = True,
) -> DemoStack:
    """Every channel's sandbox for `world` on free loopback ports (live clock), the history exports, a config.
    `faults` (sandbox/faults.py) goes to the five channel sandboxes, Shopify's included (one Faults shared by all,
    or a dict of them by shop id); the WMS has none."""
    from datetime import timedelta

    from sandbox import douyin, jd, pinduoduo, shopify, taobao, wms
    from sandbox.shop.exports import write_history_exports
    from sandbox.shop.product_master import write_product_master_xlsx

    for key, value in TOKENS.items():
        os.environ[key] = value
    product_master = directory / "product_master.xlsx"
    write_product_master_xlsx(world, product_master)
    servers = {
        "shopify_global": runner.start(
            shopify.create_app(
                world,
                shop_id="shopify_global",
                token=TOKENS["SHOPIFY_GLOBAL_TOKEN"],
                faults=_faults_for(faults, "shopify_global"),
            ),
            "shopify",
        ),
        "wms": runner.start(wms.create_app(world, token=TOKENS["WMS_TOKEN"]), "wms"),
    }
    modules = {"taobao": taobao, "jd": jd, "pinduoduo": pinduoduo, "douyin": douyin}
    exports = None
    # exports reach a day into the online window (the API starts history_days - 1 days back): no gap, API wins
    before = yesterday_local() - timedelta(days=history_days - 3)
    if marketplaces:
        for shop_id, (channel, prefix) in MARKETPLACES.items():
            app = modules[channel].create_app(
                world, shop_id=shop_id, app_key=TOKENS[f"{prefix}_APP_KEY"], app_secret=TOKENS[f"{prefix}_APP_SECRET"],
                access_token=TOKENS[f"{prefix}_TOKEN"], history_days=history_days, faults=_faults_for(faults, shop_id),
            )  # fmt: skip
            servers[shop_id] = runner.start(app, channel)
        exports = directory / "exports"
        write_history_exports(world, exports, before=before)
    urls = {name: server.url for name, server in servers.items()}
    config = write_config(directory, urls, product_master, exports, history_days)
    return DemoStack(world, config, servers, before)


def _faults_for(faults, shop_id: str):
    return faults.get(shop_id) if isinstance(faults, dict) else faults


@pytest.fixture(scope="session")
def demo_stack(pipeline_world: World, tmp_path_factory: pytest.TempPathFactory):
    """Sandbox servers for every channel of the pipeline shop, its exported history, and a config for them."""
    stack = start_stack(pipeline_world, tmp_path_factory.mktemp("stack"))
    yield stack
    for server in stack.servers.values():
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


# -- the simulator's truth, as the marts should show it --------------------------------------------------------

CENT = Decimal("0.01")
REPO = Path(__file__).resolve().parents[1]


def fx_rates() -> dict[tuple[str, str], Decimal]:
    with open(REPO / "dbt_project" / "seeds" / "fx_rates.csv", newline="") as f:
        return {(row["month"][:7], row["currency"]): Decimal(row["rate_to_cny"]) for row in csv.DictReader(f)}


def _truth_for_shop(world, shop_id: str) -> dict[str, Decimal | int]:
    """Paid orders of one shop, from the simulator's own tables, in CNY at the month's rate."""
    orders = world.shop(shop_id, "orders")
    orders = orders[orders["paid_at"].notna()]
    lines = world.shop(shop_id, "order_lines").merge(
        orders[["order_id", "created_at", "currency"]], on="order_id"
    )
    refunds = world.shop(shop_id, "refunds")
    refunds = (
        refunds[refunds["status"] == "success"]
        .groupby("line_id")["amount"]
        .apply(lambda s: sum(s, Decimal(0)))
    )
    rates = fx_rates()
    gmv = net_sales = refunded = Decimal(0)
    for line in lines.itertuples():
        month = line.created_at.tz_convert("Asia/Shanghai").strftime("%Y-%m")
        rate = Decimal(1) if line.currency == "CNY" else rates[(month, line.currency)]
        list_amount = line.unit_list_price * line.quantity
        gmv += (list_amount * rate).quantize(CENT, ROUND_HALF_UP)
        net_sales += (line.paid_amount * rate).quantize(CENT, ROUND_HALF_UP)
        refunded += (refunds.get(line.line_id, Decimal(0)) * rate).quantize(CENT, ROUND_HALF_UP)
    return {"orders": len(orders), "gmv_cny": gmv, "net_sales_cny": net_sales, "refunds_cny": refunded}


def _serve_totals(serve_path: Path, shop_id: str) -> dict:
    with duckdb.connect(str(serve_path), read_only=True) as con:
        row = con.execute(
            "select sum(orders), sum(gmv_cny), sum(net_sales_cny), sum(refunds_cny) "
            "from marts.daily_shop_sales where shop_id = ?",
            [shop_id],
        ).fetchone()
    return dict(zip(["orders", "gmv_cny", "net_sales_cny", "refunds_cny"], row, strict=True))


@pytest.fixture(scope="session")
def truth_for_shop():
    """truth_for_shop(world, shop_id) -> paid orders, GMV, net sales and refunds in CNY, from the world itself."""
    return _truth_for_shop


@pytest.fixture(scope="session")
def serve_totals():
    """serve_totals(serve_path, shop_id) -> the same figures summed from marts.daily_shop_sales."""
    return _serve_totals


@pytest.fixture(scope="session")
def yesterday() -> date:
    """Yesterday in Asia/Shanghai: worlds ending then are fully in the past of every sandbox's live clock."""
    return yesterday_local()


@pytest.fixture(name="start_stack", scope="session")
def start_stack_fixture():
    """start_stack(world, directory, history_days=..., faults=...) -> a DemoStack (caller stops its servers)."""
    return start_stack
