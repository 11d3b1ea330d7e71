"""Shared fixtures: the small simulated shop, its sandbox servers on loopback, and a warehouse built from them.

Everything here is real: the simulator's world, HTTP servers speaking the channels' protocols, dlt loading a
DuckDB file, dbt building the models, Dagster running the assets, the publish step writing serve.duckdb.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from sandbox import runner
from sandbox.world import World
from tests.clock import PINNED_CLOCK, pin, unpin

SMALL_SHOP = {"seed": 7, "days": 120, "orders_per_day": 60, "end_date": date(2026, 6, 30)}
"""The small simulated shop: the unit-level tests' world (in the past of tests/clock.py's PINNED_CLOCK)."""
SHANGHAI = timezone(timedelta(hours=8))
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


def pytest_configure(config: pytest.Config) -> None:
    """Every test process (each xdist worker too) runs on the tests' pinned, ticking clock (tests/clock.py)."""
    pin()


def pytest_unconfigure(config: pytest.Config) -> None:
    unpin()


def yesterday_local() -> date:
    """Yesterday in Asia/Shanghai on this process's clock (the pinned one: 2026-12-03)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)


@pytest.fixture(scope="session")
def pipeline_world() -> World:
    """The small shop ending yesterday on the tests' pinned clock (2026-12-03): every sandbox serves all of it
    (the marketplaces their last PIPELINE_HISTORY_DAYS days; exported files the rest)."""
    from sandbox.shop.generate import generate

    end = PINNED_CLOCK.astimezone(SHANGHAI).date() - timedelta(days=1)
    assert yesterday_local() == end, "the tests' clock is not pinned (tests/clock.py)"
    return generate(**{**SMALL_SHOP, "end_date": end})


@dataclass
class DemoStack:
    world: World
    config_path: Path
    servers: dict[str, runner.RunningServer]
    export_before: date

    def settings(self):
        from orchestration.settings import load_settings

        return load_settings(self.config_path)


DEMO_SHOPS = ("shopify_global", *MARKETPLACES)
CHANNEL_OF = {"shopify_global": "shopify", **{shop: channel for shop, (channel, _) in MARKETPLACES.items()}}
ENV_PREFIX = {
    "shopify_global": "SHOPIFY_GLOBAL",
    **{shop: prefix for shop, (_, prefix) in MARKETPLACES.items()},
}


@dataclass(frozen=True)
class Setup:
    """What a seller has: which of the simulated shops are pulled through their API, which come only as
    back-office exports, whether there is a WMS and a product master, the seller's own shop ids, and whether
    the sandboxes serve the strict shapes of sandbox/strict.py (optional fields missing, empty lists, a SKU
    twice in one order). The default is the demo: everything, as the demo shop has it."""

    api_shops: tuple[str, ...] = DEMO_SHOPS
    export_shops: tuple[str, ...] | None = None
    """Marketplace shops whose history comes as exports; None = every marketplace shop of api_shops. A shop
    here but not in api_shops is a files-only shop: its whole history is in the exports."""
    wms: bool = True
    product_master: bool = True
    rename: tuple[tuple[str, str], ...] = ()
    """(demo shop id, the seller's shop id) pairs."""
    strict: bool = False
    empty_for: tuple[str, ...] = ()
    """Demo shop ids with no refunds, bills or listings yet."""
    hostile: bool = False
    """Inputs a real run meets (tests/pipeline/hostile_inputs.py): a listing title a spreadsheet would run, and
    an export of bad rows full of buyer data next to the Taobao shop's orders."""

    def shop_id(self, demo_id: str) -> str:
        return dict(self.rename).get(demo_id, demo_id)

    @property
    def exported(self) -> tuple[str, ...]:
        if self.export_shops is not None:
            return self.export_shops
        return tuple(s for s in self.api_shops if s in MARKETPLACES)


def write_config(
    directory: Path,
    urls: dict[str, str],
    product_master: Path | None,
    exports: Path | None = None,
    history_days: int = PIPELINE_HISTORY_DAYS,
    setup: Setup = Setup(),
) -> Path:
    """A shopkeep.toml for a sandbox stack: `urls` maps demo shop ids (and "wms") to their servers; a shop
    without a server is listed without its API (enabled = false: its data comes from exports)."""
    shops = []
    for demo_id in DEMO_SHOPS:
        if demo_id not in urls and demo_id not in setup.exported:
            continue
        channel, prefix, api = CHANNEL_OF[demo_id], ENV_PREFIX[demo_id], demo_id in urls
        lines = [
            "[[shops]]",
            f'id = "{setup.shop_id(demo_id)}"',
            f'channel = "{channel}"',
            f'name = "{setup.shop_id(demo_id)}"',
            f"enabled = {'true' if api else 'false'}",
        ]
        if api:
            lines += [f'base_url = "{urls[demo_id]}"', f'token_env = "{prefix}_TOKEN"']
        if channel == "shopify":
            lines += ['currency = "USD"', 'start_date = "2024-01-01"', 'location_id = "1001"']
        else:
            lines.append(f"history_days = {history_days}")
            if api:
                lines += [f'app_key_env = "{prefix}_APP_KEY"', f'app_secret_env = "{prefix}_APP_SECRET"']
        shops.append("\n".join(lines))
    sections = [
        '[warehouse]\nbuild_path = "build.duckdb"\nserve_path = "serve.duckdb"\nops_path = "ops.sqlite"\n'
        'dlt_dir = "dlt"',
        *shops,
    ]
    if "wms" in urls:
        sections.append(
            f'[wms]\nbase_url = "{urls["wms"]}"\ntoken_env = "WMS_TOKEN"\nwarehouses = ["WH-SH", "WH-GZ"]\n'
            "backfill_days = 14"
        )
    if product_master:
        sections.append(f'[product_master]\npath = "{product_master}"')
    if exports:
        sections.append(f'[files]\ndirectory = "{exports}"')
    config = directory / "shopkeep.toml"
    config.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return config


def _with_shops(world: World, shop_ids: set[str]) -> World:
    """`world` as seen by an exporter of only these shops."""
    return World(
        params=world.params,
        tables={**world.tables, "shops": world.shops[world.shops["shop_id"].isin(shop_ids)]},
    )


def start_stack(
    world: World,
    directory: Path,
    history_days: int = PIPELINE_HISTORY_DAYS,
    faults=None,
    marketplaces: bool = True,
    setup: Setup | None = None,
    shopify_plus: bool = False,
) -> DemoStack:
    """The sandboxes of a seller's `setup` (default: the demo, every channel; `marketplaces=False`: Shopify and
    the WMS only) for `world` on free loopback ports (on the process's clock), the history exports, a config. `faults`
    (sandbox/faults.py) goes to the five channel sandboxes (one Faults shared by all, or a dict by demo shop
    id); the WMS has none. The stack's world is the one the sandboxes serve (renamed, strict). `shopify_plus`:
    the Shopify store has Shopify Plus's REST limits (a bucket of 400 calls leaking 20 a second; a standard
    store's 40 and 2 a second make 200 stock pushes take 80 s)."""
    from datetime import timedelta

    from sandbox import douyin, jd, pinduoduo, shopify, taobao, wms
    from sandbox.shop.exports import write_history_exports
    from sandbox.shop.product_master import write_product_master_xlsx
    from sandbox.strict import StrictApp, Strictness, strict_world

    if setup is None:
        setup = Setup() if marketplaces else Setup(api_shops=("shopify_global",))
    strictness = Strictness(seed=11) if setup.strict else None
    if setup.hostile:
        from tests.pipeline.hostile_inputs import with_hostile_title

        world = with_hostile_title(world)
    if strictness or setup.rename:
        world = strict_world(
            world,
            strictness or Strictness(repeat_rate=0),
            rename=dict(setup.rename),
            empty_for={setup.shop_id(s) for s in setup.empty_for},
        )
    for key, value in TOKENS.items():
        os.environ[key] = value

    product_master = None
    if setup.product_master:
        product_master = directory / "product_master.xlsx"
        write_product_master_xlsx(world, product_master)
    servers = {}
    if setup.wms:
        servers["wms"] = runner.start(wms.create_app(world, token=TOKENS["WMS_TOKEN"]), "wms")
    modules = {"taobao": taobao, "jd": jd, "pinduoduo": pinduoduo, "douyin": douyin}
    for demo_id in setup.api_shops:
        shop_id, channel, prefix = setup.shop_id(demo_id), CHANNEL_OF[demo_id], ENV_PREFIX[demo_id]
        shop_faults = faults.get(demo_id) if isinstance(faults, dict) else faults
        if channel == "shopify":
            app = shopify.create_app(
                world, shop_id=shop_id, token=TOKENS["SHOPIFY_GLOBAL_TOKEN"], faults=shop_faults,
                **({"bucket_size": 400, "leak_per_second": 20.0} if shopify_plus else {}),
            )  # fmt: skip
        else:
            app = modules[channel].create_app(
                world, shop_id=shop_id, app_key=TOKENS[f"{prefix}_APP_KEY"], app_secret=TOKENS[f"{prefix}_APP_SECRET"],
                access_token=TOKENS[f"{prefix}_TOKEN"], history_days=history_days, faults=shop_faults,
            )  # fmt: skip
        servers[demo_id] = runner.start(StrictApp(app, channel, strictness) if strictness else app, shop_id)
    exports = None
    # exports reach a day into the online window (the API starts history_days - 1 days back): no gap, API wins;
    # a files-only shop's exports hold its whole history
    before = yesterday_local() - timedelta(days=history_days - 3)
    if setup.exported:
        exports = directory / "exports"
        with_api = {setup.shop_id(s) for s in setup.exported if s in setup.api_shops}
        files_only = {setup.shop_id(s) for s in setup.exported if s not in setup.api_shops}
        if with_api:
            write_history_exports(_with_shops(world, with_api), exports, before=before)
        if files_only:
            write_history_exports(
                _with_shops(world, files_only), exports, before=yesterday_local() + timedelta(days=1)
            )
    if setup.hostile and "tmall_flagship" in setup.exported:
        from tests.pipeline.hostile_inputs import plant_bad_export

        plant_bad_export(exports, setup.shop_id("tmall_flagship"))
    urls = {name: server.url for name, server in servers.items()}
    config = write_config(directory, urls, product_master, exports, history_days, setup)
    return DemoStack(world, config, servers, before)


def in_memory_instance():
    """A Dagster instance whose runs and events stay in memory, for a test that materialises in-process and reads
    the results from the same instance. `instance_for_test()`'s SQLite storage opens, writes and commits a file
    for each of a build's ~3,000 events (one per dbt test: they are asset checks), about 20 s of a small shop's
    build; this one does not. `shopkeep materialize`'s own on-disk instance is exercised by the tests that run
    the CLI (tests/pipeline/test_any_layout.py, test_fault_tolerance.py) and by one setup (test_setups.py)."""
    import dagster as dg

    return dg.DagsterInstance.ephemeral()


SHARED_BUILD_WAIT_S = 45 * 60
"""How long a worker waits for another worker's build of the shared warehouse before it gives up (a build takes
5-8 minutes on a busy 2-core machine)."""


def _shared_stack(world: World, tmp_path_factory: pytest.TempPathFactory) -> DemoStack:
    """The demo stack materialised once per test run and shared by every pytest-xdist worker: the first worker
    that needs it starts the sandboxes in a folder all workers see, materialises every asset the way
    `shopkeep materialize` does (ingest, dbt build, publish) and writes built.json; a worker that comes later
    waits for the lock and reads it. The warehouse files are only read after that: a test that writes copies
    them first. The servers run in the building worker; the other workers' stacks have none (no test needs
    them after the build: a test that loads again starts its own, tests/pipeline/test_end_to_end.py). A failed
    build is recorded once, with its cause, and every worker reports that cause instead of building again."""
    import json
    from contextlib import redirect_stderr, redirect_stdout
    from io import StringIO

    from filelock import FileLock, Timeout

    from orchestration.cli import run_materialize

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    directory, built, failed = root / "shared_stack", root / "shared_stack.json", root / "shared_stack.failed"
    try:
        with FileLock(str(root / "shared_stack.lock"), timeout=SHARED_BUILD_WAIT_S):
            if failed.exists():
                pytest.fail(f"the shared warehouse build failed: {failed.read_text()}", pytrace=False)
            if built.exists():
                record = json.loads(built.read_text())
                return DemoStack(
                    world, Path(record["config"]), {}, date.fromisoformat(record["export_before"])
                )
            directory.mkdir()
            stack = start_stack(world, directory)
            output = StringIO()
            try:
                with redirect_stdout(output), redirect_stderr(output), in_memory_instance() as instance:
                    run_materialize(stack.settings(), instance=instance)
            except BaseException as exc:  # typer.Exit too: the cause is in what the build printed
                cause = "\n".join(output.getvalue().strip().splitlines()[-15:]) or repr(exc)
                failed.write_text(cause)
                for server in stack.servers.values():
                    server.stop()
                pytest.fail(f"the shared warehouse build failed: {cause}", pytrace=False)
            built.write_text(
                json.dumps(
                    {"config": str(stack.config_path), "export_before": stack.export_before.isoformat()}
                )
            )
            return stack
    except Timeout:
        pytest.fail(
            f"waited {SHARED_BUILD_WAIT_S} s for another worker's shared warehouse build", pytrace=False
        )


@pytest.fixture(scope="session")
def demo_stack(pipeline_world: World, tmp_path_factory: pytest.TempPathFactory):
    """The pipeline shop's sandboxes, exported history and config, with every asset materialised once for the
    whole test run (`_shared_stack`): read its world and its settings' files, never write them."""
    stack = _shared_stack(pipeline_world, tmp_path_factory)
    yield stack
    for server in stack.servers.values():
        server.stop()


@pytest.fixture(scope="session")
def built_warehouse(demo_stack: DemoStack):
    """The settings of the run's one materialisation of the demo stack (`_shared_stack`): build.duckdb and
    serve.duckdb exist; tests read them and copy them before writing."""
    return demo_stack.settings()


BUILD_OVERRIDE_ENV = "SHOPKEEP_TEST_BUILD_PATH"


@pytest.fixture(scope="session")
def built_build_path(request: pytest.FixtureRequest) -> Path:
    """build.duckdb of the session's built warehouse, for tests that derive a warehouse of their own from it
    (they copy it, never write it). SHOPKEEP_TEST_BUILD_PATH=<an already built build.duckdb> skips the build."""
    override = os.environ.get(BUILD_OVERRIDE_ENV)
    if override:
        return Path(override).resolve()
    return request.getfixturevalue("built_warehouse").build_path


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
    """Yesterday in Asia/Shanghai on the tests' clock: worlds ending then are fully in the past of every sandbox."""
    return yesterday_local()


@pytest.fixture(name="start_stack", scope="session")
def start_stack_fixture():
    """start_stack(world, directory, history_days=..., faults=...) -> a DemoStack (caller stops its servers)."""
    return start_stack


@pytest.fixture(scope="session")
def lake_servers(tmp_path_factory: pytest.TempPathFactory):
    """A PostgreSQL cluster (the lakes' catalogs) and moto's S3 server (their data files), started once per test
    process (sandbox/lake_servers.py) and stopped at its end. Skipped, saying why, only when PostgreSQL's server
    programs are not installed (`make test` installs Debian's postgresql)."""
    from sandbox import lake_servers

    if lake_servers.postgres_bin() is None:
        pytest.skip(
            "PostgreSQL's server programs are not installed (Debian package postgresql; `make test` installs it)"
        )
    with (
        lake_servers.postgres() as pg,
        lake_servers.s3_server(tmp_path_factory.mktemp("s3") / "moto.log") as s3,
    ):
        yield pg, s3


@pytest.fixture
def lake(lake_servers, monkeypatch: pytest.MonkeyPatch):
    """An empty DuckLake of this test's own: a new catalog database and a new bucket, with the AWS variables of
    the environment pointing at the S3 server (as a seller's environment would point at theirs)."""
    from connectors.common.warehouse import Lake
    from sandbox.lake_servers import unique_name

    pg, s3 = lake_servers
    name = unique_name("lake")
    url = pg.create_database(name.replace("-", "_"))
    s3.create_bucket(name)
    for key, value in s3.environment().items():
        monkeypatch.setenv(key, value)
    return Lake(catalog_url=url, data_path=f"s3://{name}/")


WAREHOUSE_FIXTURES = {"built_warehouse", "demo_stack", "built_serve_path", "built_build_path"}


def _uses_warehouse(item: pytest.Item) -> bool:
    return bool(WAREHOUSE_FIXTURES & set(getattr(item, "fixturenames", ())))


def _unit(item: pytest.Item) -> str:
    """The xdist group (work unit) of a test: its file, so a module's fixtures are built on one worker only;
    each seller setup of tests/pipeline/test_setups.py is a unit of its own (they share nothing)."""
    marker = item.get_closest_marker("xdist_group")
    if marker:
        return str(marker.args[0])
    return item.nodeid if item.path.name == "test_setups.py" else str(item.path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs on three pytest-xdist workers (`--dist loadgroup --no-loadscope-reorder`; on 2 cores the
    third fills the time the others wait on browsers, servers and subprocesses): a worker takes a
    whole unit (`_unit`) at a time, in the order of the units here. One unit over the shared warehouse comes
    first, so its worker starts the build at once (`_shared_stack`) while the other runs the units that need no
    warehouse, the slow ones (marked `slow`: a build of their own, or a browser over every page) first; the
    units over the warehouse come last, slow ones first, so no worker is left with a long test at the end."""
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_unit(item)))
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(_unit(item), []).append(item)

    def kind(tests: list[pytest.Item]) -> tuple[bool, bool]:
        over_warehouse = any(_uses_warehouse(t) for t in tests)
        return over_warehouse, any(t.get_closest_marker("slow") for t in tests)

    order = {(True, True): 3, (True, False): 4, (False, True): 1, (False, False): 2}
    ranked = sorted(units.values(), key=lambda tests: order[kind(tests)])  # stable: collection order within
    over_warehouse = [tests for tests in ranked if kind(tests)[0]]
    if over_warehouse:
        ranked.remove(over_warehouse[0])
        ranked.insert(0, over_warehouse[0])
    items[:] = [item for tests in ranked for item in tests]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """With SHOPKEEP_TEST_TIMELINE=<file>: one line per test phase (worker, phase, start, stop, test), to see how
    the workers' time is spent (the controller writes it; times are the workers' clocks, pinned or not)."""
    path = os.environ.get("SHOPKEEP_TEST_TIMELINE")
    if path:
        worker = getattr(report, "node", None)
        worker = getattr(getattr(worker, "gateway", None), "id", "main")
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{worker}\t{report.when}\t{report.start:.1f}\t{report.stop:.1f}\t{report.nodeid}\n")
