"""Ingest assets: one Dagster asset per raw table, loaded by the connectors' dlt sources.

Asset keys mirror the warehouse: `raw_shopify/orders` is table `orders` of schema `raw_shopify` in
build.duckdb. Every shop of a channel lands in the same `raw_<channel>` tables (rows carry `shop_id`), each shop
with its own dlt pipeline so cursors are kept per shop. The channel itself appears upstream as an external
asset (`channel/<shop_id>`), so the lineage reads from the platform to the dashboard.
"""

import importlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import dlt
import duckdb
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.common.runtime.collector_base import Collector

from connectors.common.warehouse import Lake, connect_warehouse
from connectors.files.product_master import load_product_master, product_master_source
from connectors.files.rates import COLUMNS as RATES_FILE_COLUMNS
from connectors.files.rates import read_rates
from connectors.files.source import files_source, import_files
from connectors.wms.source import load_wms, wms_source
from orchestration.settings import CHANNELS, Settings, Shop

WAREHOUSE_POOL = "warehouse"
"""Every step that writes build.duckdb runs in this pool; its limit is 1 (orchestration/dagster.yaml)."""


class RawTableTranslator(DagsterDltTranslator):
    """dlt resource `orders` of dataset `raw_shopify` -> asset `raw_shopify/orders`, downstream of the channel."""

    def __init__(self, dataset: str, upstream: list[dg.AssetKey], group: str):
        super().__init__()
        self.dataset = dataset
        self.upstream = upstream
        self.group = group

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(
            key=dg.AssetKey([self.dataset, data.resource.name]),
            deps=self.upstream,
            group_name=self.group,
            description=f"Raw `{data.resource.name}` as the API returned it (buyer data hashed), "
            f"table {self.dataset}.{data.resource.name} in build.duckdb.",
        )


Load = tuple[str, dlt.Pipeline, Callable[[dlt.Pipeline], object]]
"""(label for logs, the pipeline, the connector's own load function: it commits in chunks and resumes)."""


def _table_rows(pipeline: dlt.Pipeline, table: str) -> int | None:
    with pipeline.sql_client() as client:
        try:
            with client.execute_query(
                f"select count(*) from {client.make_qualified_table_name(table)}"
            ) as cur:
                return int(cur.fetchone()[0])
        except Exception:  # the table does not exist yet (nothing loaded)
            return None


def _run_loads(
    context: dg.AssetExecutionContext, dataset: str, loads: list[Load]
) -> Iterator[dg.MaterializeResult]:
    """Run each connector load (every resource of it: the connectors commit window by window, so a load is not
    split by asset) and report the rows now in each selected table."""
    for label, pipeline, load in loads:
        context.log.info(f"loading {dataset} for {label}")
        load(pipeline)
    pipeline = loads[0][1]
    for key in sorted(context.selected_asset_keys):
        yield dg.MaterializeResult(
            asset_key=key, metadata={"rows_in_table": _table_rows(pipeline, key.path[-1])}
        )


def _placeholder_pipeline(settings: Settings, name: str, dataset: str) -> dlt.Pipeline:
    return settings.warehouse_pipeline(name, dataset)


def connector_kwargs(settings: Settings, shop: Shop, resolve_secrets: bool) -> dict:
    """The connector's arguments for one shop; secrets only resolved when a load really runs."""

    def secret(env: str, what: str) -> str:
        return settings.secret(env, f"{what} of shop {shop.id}") if resolve_secrets else "unresolved"

    common = {
        "shop_id": shop.id,
        "base_url": shop.base_url,
        "pii_salt": settings.pii_salt() if resolve_secrets else "unresolved",
        "start_date": shop.start_date,
        "token_env": shop.token_env,
    }
    if shop.channel == "shopify":
        return {
            **common,
            "token": secret(shop.token_env, "Shopify access token"),
            "api_version": shop.api_version,
            "location_id": shop.location_id,
        }
    return {
        **common,
        "app_key": secret(shop.app_key_env, "app key"),
        "app_secret": secret(shop.app_secret_env, "app secret"),
        "access_token": secret(shop.token_env, "access token"),
        "history_days": shop.history_days,
    }


def channel_connector(channel: str):
    """connectors.<channel>.source: every channel's connector has `<channel>_source(...)` (the dlt source) and
    `load_shop(pipeline, **source_kwargs)` (runs it, committing window by window until caught up)."""
    return importlib.import_module(f"connectors.{channel}.source")


def _channel_specs(settings: Settings, channel: str) -> list[dg.AssetSpec]:
    """raw_<channel>/<resource> for each resource of the channel's dlt source (dagster-dlt's translation),
    downstream of the channel's enabled shops."""
    shops = [s for s in settings.enabled_shops if s.channel == channel]
    if not shops:
        return []
    source_fn = getattr(channel_connector(channel), f"{channel}_source")
    dataset = f"raw_{channel}"
    translator = RawTableTranslator(dataset, [dg.AssetKey(["channel", s.id]) for s in shops], group=dataset)

    @dlt_assets(
        dlt_source=source_fn(**connector_kwargs(settings, shops[0], resolve_secrets=False)),
        dlt_pipeline=_placeholder_pipeline(settings, shops[0].id, dataset),
        name=dataset,
        dagster_dlt_translator=translator,
    )
    def specs_only(context: dg.AssetExecutionContext):  # never run: only its specs are used
        yield from ()

    return list(specs_only.specs)


def _wms_kwargs(settings: Settings, resolve_secrets: bool) -> dict:
    wms = settings.wms
    assert wms is not None
    return {
        "base_url": wms.base_url,
        "token": settings.secret(wms.token_env, "WMS API token") if resolve_secrets else "unresolved",
        "warehouses": list(wms.warehouses),
        "backfill_days": wms.backfill_days,
        "token_env": wms.token_env,
    }


def _wms_specs(settings: Settings) -> list[dg.AssetSpec]:
    if settings.wms is None:
        return []

    @dlt_assets(
        dlt_source=wms_source(**_wms_kwargs(settings, False)),
        dlt_pipeline=_placeholder_pipeline(settings, "wms", "raw_wms"),
        name="raw_wms",
        dagster_dlt_translator=RawTableTranslator("raw_wms", [dg.AssetKey(["channel", "wms"])], "raw_wms"),
    )
    def specs_only(context: dg.AssetExecutionContext):  # never run: only its specs are used
        yield from ()

    return list(specs_only.specs)


@dataclass(frozen=True)
class Pull:
    """One API source's load: a shop of a channel, or the WMS."""

    label: str
    """The shop id, or "wms"."""
    dataset: str
    load: Callable[[dlt.Pipeline], object]
    """The connector's own load function (it commits window by window and resumes); secrets resolved on call."""


def pulls(settings: Settings) -> list[Pull]:
    """Every enabled shop's API pull and the WMS's, in config order."""
    out = []
    for shop in settings.enabled_shops:
        if shop.channel not in CHANNELS:
            continue
        connector = channel_connector(shop.channel)

        def load(pipeline: dlt.Pipeline, shop: Shop = shop, connector=connector) -> object:
            return connector.load_shop(pipeline, **connector_kwargs(settings, shop, resolve_secrets=True))

        out.append(Pull(shop.id, f"raw_{shop.channel}", load))
    if settings.wms is not None:
        out.append(Pull("wms", "raw_wms", lambda p: load_wms(p, **_wms_kwargs(settings, True))))
    return out


class SerialLoads:
    """A dlt pipeline whose `run` fetches on its own but writes the warehouse only under `lock`: pulls run in
    threads at once (each waits on its platform), while build.duckdb has one writer at a time. `run` is what
    dlt's does (sync state with the warehouse, extract, normalize, load), with the warehouse steps locked."""

    def __init__(self, pipeline: dlt.Pipeline, lock: threading.Lock) -> None:
        self._pipeline = pipeline
        self._lock = lock

    def run(self, data, **kwargs):
        with self._lock:
            self._pipeline.sync_destination()
        self._pipeline.extract(data, **kwargs)
        with self._lock:
            self._pipeline.normalize()
            return self._pipeline.load()

    def __getattr__(self, name: str):
        return getattr(self._pipeline, name)


PullProgress = Callable[[str], Collector]
"""Makes the progress collector of one pull from its label (the CLI draws a bar per pull); None: dlt's log."""
PULL_PROGRESS: PullProgress | None = None


def run_pulls(
    settings: Settings,
    chosen: list[Pull],
    log: Callable[[str], None],
    progress: PullProgress | None = None,
    workers: int | None = None,
) -> list[tuple[Pull, BaseException]]:
    """Run the pulls at once, one thread each (each waits on its own platform; the warehouse is written by one
    at a time), and return those that failed with their errors (the others are loaded). `workers`: at most
    that many at once (1: one after another)."""
    lock = threading.Lock()

    def run(pull: Pull) -> None:
        log(f"loading {pull.dataset} for {pull.label}")
        collector = progress(pull.label) if progress else None
        pipeline = settings.warehouse_pipeline(pull.label, pull.dataset, progress=collector or "log")
        try:
            pull.load(SerialLoads(pipeline, lock))
        except BaseException as error:
            if hasattr(collector, "finish"):
                collector.finish(error)
            raise
        if hasattr(collector, "finish"):
            collector.finish(None)

    failed = []
    with ThreadPoolExecutor(max_workers=workers or max(1, len(chosen)), thread_name_prefix="pull") as pool:
        futures = {pool.submit(run, pull): pull for pull in chosen}
        for future in futures:
            error = future.exception()
            if error is not None:
                failed.append((futures[future], error))
    return failed


def pull_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """One multi-asset for every API pull (the channels' raw_<channel>/* and raw_wms/*): a run pulls the sources
    of the tables it selects at once, and fails naming each source that failed after the others are loaded."""
    specs = [spec for channel in CHANNELS for spec in _channel_specs(settings, channel)] + _wms_specs(
        settings
    )
    if not specs:
        return []
    every = pulls(settings)

    @dg.multi_asset(specs=specs, can_subset=True, name="raw_pulls", pool=WAREHOUSE_POOL)
    def raw_pulls(context: dg.AssetExecutionContext):
        """Every selected source's pull, at once; the tables' row counts after it."""
        datasets = {key.path[0] for key in context.selected_asset_keys}
        chosen = [pull for pull in every if pull.dataset in datasets]
        failed = run_pulls(settings, chosen, context.log.info, PULL_PROGRESS)
        bad = {pull.dataset for pull, _ in failed}
        for key in sorted(context.selected_asset_keys):
            if key.path[0] in bad:
                continue
            pipeline = _placeholder_pipeline(settings, next(p.label for p in chosen if p.dataset == key.path[0]),
                                             key.path[0])  # fmt: skip
            yield dg.MaterializeResult(
                asset_key=key, metadata={"rows_in_table": _table_rows(pipeline, key.path[-1])}
            )
        for pull, error in failed[1:]:
            context.log.error(f"{pull.dataset} for {pull.label} failed: {error}")
        if failed:
            raise failed[0][1]

    return [raw_pulls]


def product_master_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    path = settings.product_master_path
    if path is None:
        return []

    @dlt_assets(
        dlt_source=product_master_source(str(path)),
        dlt_pipeline=_placeholder_pipeline(settings, "product_master", "raw_product_master"),
        name="raw_product_master",
        dagster_dlt_translator=RawTableTranslator(
            "raw_product_master", [dg.AssetKey(["channel", "product_master_xlsx"])], "raw_product_master"
        ),
        pool=WAREHOUSE_POOL,
    )
    def raw_product_master(context: dg.AssetExecutionContext):
        """Products, kits and suppliers from the seller's Excel product master (bad rows quarantined)."""
        pipeline = settings.warehouse_pipeline("product_master", "raw_product_master")
        load = (path.name, pipeline, lambda p: load_product_master(p, settings.product_master_file()))
        yield from _run_loads(context, "raw_product_master", [load])

    return [raw_product_master]


def files_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    files = settings.files
    if files is None:
        return []

    @dlt_assets(
        dlt_source=files_source(paths=[], pii_salt="unresolved"),  # the folder is only read when loading
        dlt_pipeline=_placeholder_pipeline(settings, "files", "raw_files"),
        name="raw_files",
        dagster_dlt_translator=RawTableTranslator(
            "raw_files", [dg.AssetKey(["channel", "exported_files"])], "raw_files"
        ),
        pool=WAREHOUSE_POOL,
    )
    def raw_files(context: dg.AssetExecutionContext):
        """Platform order and refund exports (CSV/XLSX, any encoding) — history older than the APIs keep."""
        pipeline = settings.warehouse_pipeline("files", "raw_files")
        load = (
            str(files.directory),
            pipeline,
            lambda p: import_files(
                p,
                directory=settings.files_directory(),
                pii_salt=settings.pii_salt(),
                mappings_dir=settings.files_mappings_dir(),
                shops=settings.shop_channels(),
                cache_dir=settings.dlt_dir / "files_cache",
            ),
        )
        yield from _run_loads(context, "raw_files", [load])

    return [raw_files]


SHOP_CONFIG_COLUMNS = {
    "shop_id": "varchar primary key",
    "channel": "varchar",
    "name": "varchar",
    "timezone": "varchar",
    "currency": "varchar",
    "enabled": "boolean",
    # the shop's own terms where they differ from its channel's defaults (null = the channel default)
    "commission_rate": "decimal(10, 4)",
    "service_fee_rate": "decimal(10, 4)",
    "affiliate_commission_rate": "decimal(10, 4)",
    "settlement_lag_days": "integer",
    "carrier": "varchar",
    "ship_promise_hours": "integer",
    "loaded_at": "timestamptz",
}


SOURCE_CONFIG_COLUMNS = {
    "source": "varchar",  # wms, product_master, files, or a shop's channel (shopify, taobao, jd, ...)
    "shop_id": "varchar",  # the shop, for a channel; null for the others
    "configured": "boolean",  # its section is in shopkeep.toml (a shop: enabled)
    "loaded_at": "timestamptz",
}


SETTINGS_COLUMNS = {
    "reporting_currency": "varchar",  # [currency] reporting: the currency of every mart's money
    "loaded_at": "timestamptz",
}
RATE_COLUMNS = RATES_FILE_COLUMNS  # [currency] rates_file, one row per rate that reads


def source_rows(settings: Settings) -> list[tuple[str, str | None, bool]]:
    """(source, shop_id, configured) for every source shopkeep can read, configured or not: the WMS, the
    product master, the exports folder, and each shop of shopkeep.toml under its channel (configured =
    enabled)."""
    return [
        ("wms", None, settings.wms is not None),
        ("product_master", None, settings.product_master_path is not None),
        ("files", None, settings.files is not None),
    ] + [(s.channel, s.id, s.enabled) for s in settings.shops]


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One commit for the block: in the lake, one snapshot (readers of the head never see half the tables)."""
    con.execute("begin")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def _replace_table(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], rows: list, keys: bool = True
) -> None:
    """raw_config.<table> replaced by `rows`; `keys=False` leaves the primary key out (DuckLake has none: the
    uniqueness is dbt's test on the staging model either way)."""
    kinds = {n: k if keys else k.replace(" primary key", "") for n, k in columns.items()}
    con.execute(
        f"create or replace table raw_config.{table} ({', '.join(f'{n} {k}' for n, k in kinds.items())})"
    )
    if rows:
        con.executemany(f"insert into raw_config.{table} values ({', '.join('?' for _ in columns)})", rows)


def config_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    @dg.asset(key=["raw_config", "shops"], group_name="raw_config", pool=WAREHOUSE_POOL)
    def shops_config() -> dg.MaterializeResult:
        """The shops of shopkeep.toml (id, channel, name, timezone, currency, and any per-shop fee rates,
        settlement lag, carrier or ship promise overriding the channel's defaults), so dbt knows each shop;
        and which sources are configured (raw_config.sources: WMS, product master, exports folder, each shop),
        so the dashboards can say what is not set up rather than show an empty chart; the reporting currency
        (raw_config.settings) and the seller's exchange rates (raw_config.fx_rates, from [currency] rates_file;
        a row that cannot be read is logged and left out)."""
        now = datetime.now(UTC)
        rows = [
            (
                s.id,
                s.channel,
                s.name,
                s.timezone,
                s.currency,
                s.enabled,
                s.commission_rate,
                s.service_fee_rate,
                s.affiliate_commission_rate,
                s.settlement_lag_days,
                s.carrier,
                s.ship_promise_hours,
                now,
            )  # fmt: skip
            for s in settings.shops
        ]
        sources = [(*row, now) for row in source_rows(settings)]
        rates_file = settings.rates_file()
        rates, problems = read_rates(rates_file) if rates_file is not None else ([], [])
        for problem in problems:
            dg.get_dagster_logger().warning("exchange rate not used: %s", problem)
        keys = settings.lake is None
        with settings.connect_warehouse() as con, _transaction(con):
            con.execute("create schema if not exists raw_config")
            _replace_table(con, "shops", SHOP_CONFIG_COLUMNS, rows, keys)
            _replace_table(con, "sources", SOURCE_CONFIG_COLUMNS, sources, keys)
            _replace_table(con, "settings", SETTINGS_COLUMNS, [(settings.currency.reporting, now)], keys)
            _replace_table(con, "fx_rates", RATE_COLUMNS, rates, keys)
        return dg.MaterializeResult(
            metadata={
                "rows": len(rows),
                "configured_sources": sum(1 for s in sources if s[2]),
                "reporting_currency": settings.currency.reporting,
                "exchange_rates": len(rates),
                "exchange_rate_problems": dg.MetadataValue.md(
                    "\n".join(f"- {p}" for p in problems) or "none"
                ),
            }
        )

    return [shops_config]


OPS_TARGET_COLUMNS = {
    "shop_id": "varchar",
    "month": "date",
    "net_revenue_target": "decimal(18, 2)",
    "contribution_target": "decimal(18, 2)",
    "set_by": "varchar",
    "set_at": "timestamptz",
}


def read_ops_targets(ops_path: Path) -> list[tuple]:
    """The targets in force from the ops store (its view shop_targets_current, written by the dashboards); none
    when the store or the view does not exist yet. Read-only: the dashboards own the store's schema."""
    if not ops_path.exists():
        return []
    con = sqlite3.connect(f"file:{ops_path}?mode=ro", uri=True, timeout=10)
    try:
        if not con.execute("select 1 from sqlite_master where name = 'shop_targets_current'").fetchone():
            return []
        return con.execute(
            f"select {', '.join(OPS_TARGET_COLUMNS)} from shop_targets_current order by shop_id, month"
        ).fetchall()
    finally:
        con.close()


OPS_PO_LINE_COLUMNS = {
    "po_number": "varchar",
    "supplier_id": "varchar",
    "warehouse_id": "varchar",
    "po_state": "varchar",
    "created_at": "timestamptz",
    "expected_date": "date",
    "promised_date": "date",
    "sku": "varchar",
    "quantity": "integer",
    "confirmed": "integer",
}


def read_ops_purchase_order_lines(ops_path: Path) -> list[tuple]:
    """Every line of shopkeep's own purchase orders (writeback/purchasing) with its order's state and dates; none
    before the first order. Read-only."""
    if not ops_path.exists():
        return []
    con = sqlite3.connect(f"file:{ops_path}?mode=ro", uri=True, timeout=10)
    try:
        if not con.execute("select 1 from sqlite_master where name = 'purchase_order_lines'").fetchone():
            return []
        return con.execute(
            "select o.po_number, o.supplier_id, o.warehouse_id, o.state, o.created_at, o.expected_date, "
            "o.promised_date, l.sku, l.quantity, l.confirmed "
            "from purchase_order_lines l join purchase_orders o on o.po_number = l.po_number order by 1, l.sku"
        ).fetchall()
    finally:
        con.close()


def replace_raw_ops(
    build_path: Path, table: str, columns: dict[str, str], rows: list[tuple], lake: Lake | None = None
) -> None:
    """raw_ops.<table> in the build warehouse (the file, or `lake`) replaced by `rows` (of `columns`)."""
    with connect_warehouse(build_path, lake) as con, _transaction(con):
        con.execute("create schema if not exists raw_ops")
        con.execute(
            f"create or replace table raw_ops.{table} ("
            + ", ".join(f"{n} {k}" for n, k in columns.items())
            + ")"
        )
        if rows:
            con.executemany(f"insert into raw_ops.{table} values ({', '.join('?' for _ in columns)})", rows)


def ops_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    @dg.asset(key=["raw_ops", "shop_targets"], group_name="raw_ops", pool=WAREHOUSE_POOL)
    def shop_targets() -> dg.MaterializeResult:
        """The managers' monthly targets per shop, copied from the ops store ([warehouse] ops_path) into the
        warehouse (raw_ops.shop_targets, replaced), so dbt can compute their attainment."""
        rows = read_ops_targets(settings.ops_path)
        replace_raw_ops(settings.build_path, "shop_targets", OPS_TARGET_COLUMNS, rows, settings.lake)
        return dg.MaterializeResult(metadata={"rows": len(rows), "ops_store": str(settings.ops_path)})

    @dg.asset(key=["raw_ops", "purchase_order_lines"], group_name="raw_ops", pool=WAREHOUSE_POOL)
    def purchase_order_lines() -> dg.MaterializeResult:
        """shopkeep's own purchase orders (sent by writeback/purchasing), line by line with their state, copied
        from the ops store into the warehouse (raw_ops.purchase_order_lines, replaced): what they still bring counts
        as on order until the WMS lists the order itself."""
        rows = read_ops_purchase_order_lines(settings.ops_path)
        replace_raw_ops(settings.build_path, "purchase_order_lines", OPS_PO_LINE_COLUMNS, rows, settings.lake)
        return dg.MaterializeResult(metadata={"rows": len(rows), "ops_store": str(settings.ops_path)})

    return [shop_targets, purchase_order_lines]


def channel_specs(settings: Settings) -> list[dg.AssetSpec]:
    """The platforms themselves, as external assets at the head of the lineage."""
    specs = [
        dg.AssetSpec(
            ["channel", s.id], group_name="channels", description=f"{s.name} ({s.channel} API, {s.base_url})"
        )
        for s in settings.enabled_shops
    ]
    if settings.wms:
        specs.append(
            dg.AssetSpec(["channel", "wms"], group_name="channels", description="Warehouse system API")
        )
    if settings.files:
        specs.append(
            dg.AssetSpec(
                ["channel", "exported_files"],
                group_name="channels",
                description=f"Platform order/refund exports in {settings.files.directory}",
            )
        )
    if settings.product_master_path:
        specs.append(
            dg.AssetSpec(
                ["channel", "product_master_xlsx"],
                group_name="channels",
                description=f"The seller's Excel product master ({settings.product_master_path.name})",
            )
        )
    return specs


def ingest_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    return (
        config_assets(settings)
        + pull_assets(settings)
        + product_master_assets(settings)
        + files_assets(settings)
        + ops_assets(settings)
    )
