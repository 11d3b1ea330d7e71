"""Settings: `shopkeep.toml` (path from SHOPKEEP_CONFIG) plus secrets from the environment, read in one place.

Every other part of orchestration receives a `Settings`; connectors receive plain arguments. Secrets are only
ever looked up by the environment-variable name the config gives, and error messages name the variable, never
its value.

The file is checked against a schema (pydantic, strict: TOML already has types, so `history_days = "thirty"`
or `enabled = "yes"` is refused rather than guessed) that knows every key: a misspelt key is refused too, so a
typo in `[warehouse]` cannot silently put the warehouse somewhere else. Every mistake is one line naming the
file, the key (`shops[2] (id 'jd_pop').history_days`) and what is expected.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.channels import CHANNELS
from connectors.common.warehouse import Lake
from writeback.alerts.digest import Kind
from writeback.stock.rules import Rule, RuleError, rules_from_config


class ConfigError(ValueError):
    """The configuration is wrong; the message says which file, which key and how to fix it."""


@dataclass(frozen=True)
class Shop:
    id: str
    channel: str
    name: str
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    base_url: str = ""
    enabled: bool = True
    token_env: str = ""
    """Env var holding the shop's access token / session (all channels)."""
    app_key_env: str = ""
    """Env var holding the app key / client id (marketplaces)."""
    app_secret_env: str = ""
    """Env var holding the app secret used for signing (marketplaces)."""
    history_days: int = 90
    """How far back the platform's API serves orders; older history comes from exported files."""
    api_version: str = "2025-07"
    location_id: str | None = None
    start_date: str = "2024-01-01"
    # This shop's terms where they differ from its channel's defaults (dbt seeds channel_fee_rates and
    # channel_ship_promises); None = the channel default.
    commission_rate: Decimal | None = None
    service_fee_rate: Decimal | None = None
    affiliate_commission_rate: Decimal | None = None
    settlement_lag_days: int | None = None
    carrier: str | None = None
    ship_promise_hours: int | None = None


@dataclass(frozen=True)
class Wms:
    base_url: str
    token_env: str
    warehouses: tuple[str, ...]
    backfill_days: int = 90


@dataclass(frozen=True)
class Files:
    directory: Path
    """Exported files (orders, refunds, bills) to import; each named <shop_id>__<anything>.<csv|xlsx|…>."""
    mappings_dir: Path | None = None
    """The seller's own column mappings (YAML), beside the shipped ones; None: the shipped ones only."""


@dataclass(frozen=True)
class Currency:
    reporting: str = "CNY"
    """The currency every mart's money (the `_cny` columns) is reported in."""
    rates_file: Path | None = None
    """The seller's exchange rates (CSV: currency, month or date, rate in the reporting currency), over the
    shipped seeds/fx_rates.csv; None: the shipped rates only."""


@dataclass(frozen=True)
class Demo:
    seed: int = 42
    days: int = 540
    orders_per_day: int = 150
    end_date: str = ""
    data_dir: Path = Path(".shopkeep/demo")


@dataclass(frozen=True)
class StockSync:
    """[stock_sync]: the default rules (the stock page's edits in the ops store win over a rule of the same
    name) and the units per SKU and warehouse never listed (writeback/stock)."""

    rules: tuple[Rule, ...] = ()
    safety_buffer: int = 0
    push: Literal["manual", "after_build", "continuous"] = "manual"
    """"manual": only `shopkeep stock push` (or the demo) sends; "after_build": every materialisation pushes;
    "continuous": that, and between builds the lean path (writeback/stock/lean.py) pushes the SKUs a stock
    movement or an order changed, looking every `watch_seconds`."""
    watch_seconds: int = 15


@dataclass(frozen=True)
class Schedule:
    """[schedule]: when the refresh and the full refresh run (`shopkeep daemon` starts them; cron, in `timezone`)."""

    refresh_cron: str = "5 * * * *"
    """Pull every channel, build and publish: at five past each hour by default (e.g. "*/15 * * * *" during a
    live-stream sale)."""
    full_refresh_cron: str = "15 3 * * *"
    """The same with dbt's --full-refresh: 03:15 by default."""
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class Supplier:
    """[[suppliers]]: where a supplier takes purchase orders (writeback/purchasing): its signed webhook
    (channel "webhook") or a 1688 order (channel "1688", writeback/purchasing/ali1688.py)."""

    id: str
    webhook_url: str
    secret_env: str
    """Env var holding the secret the webhook requests are signed with (1688: the app secret)."""
    name: str = ""
    channel: Literal["webhook", "1688"] = "webhook"
    gateway_url: str = ""
    """1688: the open platform's gateway (https://gw.open.1688.com/openapi)."""
    app_key: str = ""
    token_env: str = ""
    """1688: env var holding the buyer account's access token."""
    offers_file: Path | None = None
    """1688: CSV sku,offer_id,spec_id: the supplier's offer and spec for each SKU bought from it."""
    address_id: str = ""
    """1688: the delivery address's id in the buyer's 1688 address book."""
    warehouse: str = ""
    """Where its orders are delivered; empty: the first of [wms] warehouses."""
    document_title: str = "采购订单"
    document_columns: tuple[tuple[str, str], ...] = ()
    """The XLSX document's line columns in order (field, the supplier's header); empty: the default layout."""


@dataclass(frozen=True)
class AlertRobot:
    """[[alerts.robots]]: a DingTalk custom robot or a WeCom group robot the digests go to (writeback/alerts)."""

    name: str
    kind: Literal["dingtalk", "wecom"]
    url_env: str
    """Env var holding the robot's whole webhook URL (with its access_token / key)."""
    secret_env: str = ""
    """DingTalk signed mode (加签): env var holding the robot's SEC… secret; empty: not signed."""
    keyword: str = ""
    """DingTalk keyword mode (自定义关键词): a keyword every message holds."""
    kinds: tuple[str, ...] | None = None
    """The alert kinds it gets; None: every kind."""


@dataclass(frozen=True)
class Alerts:
    """[alerts]: where alert digests go and what they say (README, Alerts)."""

    robots: tuple[AlertRobot, ...] = ()
    muted: frozenset[str] = frozenset()
    owners: tuple[tuple[str, str], ...] = ()
    reconciliation_threshold_cny: Decimal = Decimal("100")
    """An order's settlement difference (or unsettled / unexpected amount) from this much is alerted."""
    stockout_days: float = 7.0
    """A best-seller with fewer days of cover than this is about to stock out."""
    best_sellers: int = 20
    """How many SKUs, by daily demand, count as best-sellers."""
    repeat_after_hours: float = 24.0
    """The same alert is not sent to a robot again within this many hours (0: at every run)."""


@dataclass(frozen=True)
class Settings:
    config_path: Path
    build_path: Path
    serve_path: Path
    ops_path: Path
    dlt_dir: Path
    pii_salt_env: str
    shops: tuple[Shop, ...]
    wms: Wms | None
    product_master_path: Path | None
    files: Files | None = None
    demo: Demo = field(default_factory=Demo)
    currency: Currency = field(default_factory=Currency)
    stock_sync: StockSync = field(default_factory=StockSync)
    suppliers: tuple[Supplier, ...] = ()
    alerts: Alerts | None = None
    """None: no [alerts] section; alerts are logged, nothing is sent."""
    schedule: Schedule = field(default_factory=Schedule)
    dashboards_login: bool = False
    """True: an [access] section; the dashboards start through `python -m dashboards.serve` (login and roles)."""
    lake: Lake | None = None
    """The DuckLake the warehouse lives in (`[warehouse] engine = "ducklake"`); None: the single file build_path."""
    memory_limit: str = ""
    """`[warehouse] memory_limit`: DuckDB's memory limit for the dbt builds (e.g. "6GB"); empty: DuckDB's own
    (80 % of the machine's memory)."""

    @property
    def engine(self) -> str:
        """ "duckdb" (one file, build_path, published to serve_path) or "ducklake" (`lake`)."""
        return "duckdb" if self.lake is None else "ducklake"

    @property
    def serving_locator(self) -> str:
        """What the dashboards read: serve_path, or the lake's locator (they pin its published snapshot)."""
        from connectors.common.warehouse import lake_locator

        return str(self.serve_path) if self.lake is None else lake_locator(self.lake)

    def connect_warehouse(self, read_only: bool = False):
        """A connection to the build warehouse (build_path, or the lake attached and in use as `lake`)."""
        from connectors.common.warehouse import connect_warehouse

        return connect_warehouse(self.build_path, self.lake, read_only=read_only)

    def warehouse_pipeline(self, name: str, dataset: str, progress="log", pipelines_dir: Path | None = None):
        """A dlt pipeline loading `dataset` of the build warehouse (the file or the lake)."""
        from connectors.common.loading import warehouse_pipeline

        return warehouse_pipeline(
            name, dataset, self.build_path, pipelines_dir or self.dlt_dir, progress=progress, lake=self.lake
        )

    @property
    def enabled_shops(self) -> tuple[Shop, ...]:
        return tuple(s for s in self.shops if s.enabled)

    @property
    def dbt_env(self) -> dict[str, str]:
        """Environment variables `dbt_project/profiles.yml` reads."""
        # the memory limit is read by the on-run-start hook (macros/memory_limit.sql); "" = DuckDB's own
        env = {"SHOPKEEP_BUILD_PATH": str(self.build_path), "SHOPKEEP_DUCKDB_MEMORY_LIMIT": self.memory_limit}
        if self.lake is None:
            return {**env, "SHOPKEEP_DBT_TARGET": "dev"}
        from connectors.common.warehouse import extension_directory, s3_settings

        env |= {
            "SHOPKEEP_DBT_TARGET": "lake" if self.lake.on_s3 else "lake_local",
            "SHOPKEEP_LAKE_CATALOG_URL": self.lake.catalog_url,
            "SHOPKEEP_LAKE_DATA_PATH": self.lake.data_path,
            "SHOPKEEP_DUCKDB_EXTENSIONS": str(extension_directory(self.dlt_dir / ".duckdb_extensions")),
        }
        if self.lake.on_s3:
            env |= {f"SHOPKEEP_S3_{k.upper()}": v for k, v in s3_settings().items()}
        else:
            Path(self.lake.data_path).mkdir(parents=True, exist_ok=True)
        return env

    def secret(self, env_name: str, what: str) -> str:
        """The value of a secret environment variable, or a ConfigError naming it."""
        value = os.environ.get(env_name, "")
        if not value:
            raise ConfigError(
                f"environment variable {env_name} is not set ({what}). Set it in your shell or in .env next to "
                f"{self.config_path.name}; `make demo` sets sandbox values for the demo."
            )
        return value

    def pii_salt(self) -> str:
        value = os.environ.get(self.pii_salt_env, "")
        if not value:
            raise ConfigError(
                f"environment variable {self.pii_salt_env} is not set: it salts the hashes of buyer data "
                f"(named by warehouse.pii_salt_env in {self.config_path.name}). Set it to any long random string "
                f"(e.g. `openssl rand -hex 32`) in your shell or in .env next to {self.config_path.name}, and "
                "keep it stable: it makes one buyer's hash the same across loads."
            )
        return value

    def product_master_file(self) -> Path:
        """The product master workbook, or a ConfigError naming the key when the file is not there."""
        path = self.product_master_path
        if path is None:
            raise ConfigError(f"{self.config_path}: no [product_master] section")
        if not path.is_file():
            raise ConfigError(
                f"{self.config_path}: product_master.path: {path} does not exist; put your product master "
                "workbook there, correct the path, or remove the [product_master] section"
            )
        return path

    def files_directory(self) -> Path:
        """The exports folder, or a ConfigError naming the key when it is not there."""
        if self.files is None:
            raise ConfigError(f"{self.config_path}: no [files] section")
        directory = self.files.directory
        if not directory.is_dir():
            raise ConfigError(
                f"{self.config_path}: files.directory: {directory} is not a folder; create it (and put your "
                "platform exports in it), correct the path, or remove the [files] section"
            )
        return directory

    def files_mappings_dir(self) -> Path | None:
        """The seller's mappings folder (None: none configured), or a ConfigError naming the key."""
        if self.files is None or self.files.mappings_dir is None:
            return None
        if not self.files.mappings_dir.is_dir():
            raise ConfigError(
                f"{self.config_path}: files.mappings_dir: {self.files.mappings_dir} is not a folder; create it "
                "(and put your YAML mappings in it), correct the path, or remove the key"
            )
        return self.files.mappings_dir

    def rates_file(self) -> Path | None:
        """The seller's exchange-rates file, checked to exist; None when the config names none."""
        path = self.currency.rates_file
        if path is not None and not path.is_file():
            raise ConfigError(
                f"{self.config_path}: currency.rates_file: {path} is not a file; create it (columns currency, "
                "month or date, rate), correct the path, or remove the key to use the shipped rates"
            )
        return path

    def shop_channels(self) -> dict[str, str]:
        """Every configured shop (enabled or not) and its channel: the shops an export may belong to."""
        return {shop.id: shop.channel for shop in self.shops}

    def check_ready(self) -> None:
        """Everything a full build reads from outside the file is there: each enabled source's secrets, the
        buyer-data salt, the product master and the exports folder. Raises the first missing one as a ConfigError
        (before any data is pulled, rather than minutes into a build)."""
        for shop in self.enabled_shops:
            for key in _SECRET_KEYS[shop.channel]:
                self.secret(getattr(shop, key), f"{_SECRET_WHAT[key]} of shop {shop.id}, named by its {key}")
        if self.wms is not None:
            self.secret(self.wms.token_env, "WMS API token, named by wms.token_env")
        if self.enabled_shops or self.files is not None:
            self.pii_salt()
        if self.product_master_path is not None:
            self.product_master_file()
        if self.files is not None:
            self.files_directory()
            self.files_mappings_dir()
        self.rates_file()


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
"""DuckDB's memory amounts (its units; no percentage)."""

ENGINES = ("duckdb", "ducklake")
"""`[warehouse] engine`: the single DuckDB file, or a DuckLake (catalog in PostgreSQL, data files under data_path)."""

_SECRET_KEYS = {
    channel: ("token_env",) if channel == "shopify" else ("app_key_env", "app_secret_env", "token_env")
    for channel in CHANNELS
}
_SECRET_WHAT = {"token_env": "access token", "app_key_env": "app key", "app_secret_env": "app secret"}


# -- the file's schema -----------------------------------------------------------------------------------------


class _Section(BaseModel):
    """A table of the TOML file: every key known and typed (TOML's own types, no coercion)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: str | date, allow_empty: bool = False) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if allow_empty and value == "":
        return value
    try:
        if not _ISO_DATE.match(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected a date YYYY-MM-DD, got {_toml(value)}") from None
    return value


Rate = float | None


class _ShopSection(_Section):
    id: str = Field(min_length=1)
    channel: str
    name: str
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    base_url: str = ""
    enabled: bool = True
    token_env: str = ""
    app_key_env: str = ""
    app_secret_env: str = ""
    history_days: int = Field(90, gt=0)
    api_version: str = "2025-07"
    location_id: str | int | None = None
    start_date: str | date = "2024-01-01"
    commission_rate: Rate = Field(None, ge=0, lt=1)
    service_fee_rate: Rate = Field(None, ge=0, lt=1)
    affiliate_commission_rate: Rate = Field(None, ge=0, lt=1)
    settlement_lag_days: int | None = Field(None, ge=0)
    carrier: str | None = Field(None, min_length=1)
    ship_promise_hours: int | None = Field(None, gt=0)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if re.search(r"\s|:", value) or "__" in value:
            raise ValueError(
                f"{_toml(value)} is not usable as a shop id: no spaces, no ':' (canonical ids are "
                "shop_id:platform_id) and no '__' (export files are named <shop_id>__<kind>)"
            )
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"expected one of {', '.join(CHANNELS)}, got {_toml(value)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f'{_toml(value)} is not an IANA timezone; expected e.g. "Asia/Shanghai" or "America/New_York"'
            ) from None
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f'expected an ISO currency code such as "CNY" or "USD", got {_toml(value)}')
        return value

    @field_validator("start_date")
    @classmethod
    def _start_date(cls, value: str | date) -> str:
        return _iso_date(value)


class _WarehouseSection(_Section):
    engine: str = "duckdb"
    catalog_url: str = ""
    data_path: str = ""
    keep_hours: int | None = Field(None, ge=0)
    build_path: str = ".shopkeep/build.duckdb"
    serve_path: str = ".shopkeep/serve.duckdb"
    ops_path: str = ".shopkeep/ops.sqlite"
    dlt_dir: str = ".shopkeep/dlt"
    pii_salt_env: str = Field("SHOPKEEP_PII_SALT", min_length=1)
    memory_limit: str = ""

    @field_validator("memory_limit")
    @classmethod
    def _memory_limit(cls, value: str) -> str:
        if value and not _MEMORY.match(value):
            raise ValueError(f'expected an amount DuckDB reads, e.g. "6GB" or "8GiB", got {_toml(value)}')
        return value

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        if value not in ENGINES:
            close = difflib.get_close_matches(value, ENGINES, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f'expected "duckdb" or "ducklake", got {_toml(value)}{hint}')
        return value


class _WmsSection(_Section):
    base_url: str = Field(min_length=1)
    token_env: str = Field("WMS_TOKEN", min_length=1)
    warehouses: list[str] = []
    backfill_days: int = Field(90, gt=0)


class _SupplierSection(_Section):
    id: str = Field(min_length=1)
    name: str = ""
    channel: Literal["webhook", "1688"] = "webhook"
    webhook_url: str = ""
    secret_env: str = Field(min_length=1)
    gateway_url: str = ""
    app_key: str = ""
    token_env: str = ""
    offers_file: str = ""
    address_id: str = ""
    warehouse: str = ""
    document_title: str = Field("采购订单", min_length=1, max_length=31)
    document_columns: dict[Literal["sku", "quantity", "unit_price", "amount", "confirmed"], str] = {}


class _FilesSection(_Section):
    directory: str = Field(min_length=1)
    mappings_dir: str | None = Field(None, min_length=1)


class _CurrencySection(_Section):
    reporting: str = "CNY"
    rates_file: str | None = Field(None, min_length=1)

    @field_validator("reporting")
    @classmethod
    def _reporting(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f'expected an ISO currency code such as "CNY" or "USD", got {_toml(value)}')
        return value


class _ProductMasterSection(_Section):
    path: str = Field(min_length=1)


class _DemoSection(_Section):
    seed: int = 42
    days: int = Field(540, gt=0)
    orders_per_day: int = Field(150, gt=0)
    end_date: str | date = ""
    data_dir: str = ".shopkeep/demo"

    @field_validator("end_date")
    @classmethod
    def _end_date(cls, value: str | date) -> str:
        return _iso_date(value, allow_empty=True)


class _ScheduleSection(_Section):
    refresh_cron: str = "5 * * * *"
    full_refresh_cron: str = "15 3 * * *"
    timezone: str = "Asia/Shanghai"

    @field_validator("refresh_cron", "full_refresh_cron")
    @classmethod
    def _is_cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value) or len(value.split()) != 5:
            raise ValueError(
                f'{value!r} is not a cron schedule of five fields (minute hour day month weekday), e.g. "5 * * * *"'
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _is_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'{value!r} is not an IANA timezone such as "Asia/Shanghai"') from None
        return value


class _StockSyncSection(_Section):
    safety_buffer: int = Field(0, ge=0)
    push: Literal["manual", "after_build", "continuous"] = "manual"
    watch_seconds: int = Field(15, ge=5, le=300)
    rules: list[dict[str, Any]] = []


class _AlertRobotSection(_Section):
    name: str = Field(min_length=1)
    kind: Literal["dingtalk", "wecom"]
    url_env: str = Field(min_length=1)
    secret_env: str = Field("", min_length=1)
    keyword: str = Field("", min_length=1)
    kinds: list[Kind] | None = None


class _AlertsSection(_Section):
    robots: list[_AlertRobotSection] = []
    muted: list[Kind] = []
    owners: dict[Kind, str] = {}
    reconciliation_threshold_cny: float = Field(100, ge=0)
    stockout_days: float = Field(7, gt=0)
    best_sellers: int = Field(20, gt=0)
    repeat_after_hours: float = Field(24, ge=0)


class _ConfigFile(_Section):
    warehouse: _WarehouseSection = _WarehouseSection()
    shops: list[_ShopSection] = []
    wms: _WmsSection | None = None
    files: _FilesSection | None = None
    product_master: _ProductMasterSection | None = None
    currency: _CurrencySection = _CurrencySection()
    demo: _DemoSection = _DemoSection()
    stock_sync: _StockSyncSection = _StockSyncSection()
    suppliers: list[_SupplierSection] = []
    alerts: _AlertsSection | None = None
    schedule: _ScheduleSection = _ScheduleSection()
    access: dict[str, Any] | None = (
        None  # the dashboards' login: checked by dashboards/access.py, which reads it
    )


# -- one line per mistake --------------------------------------------------------------------------------------


def _toml(value: Any) -> str:
    """A value as it would be written in the TOML file (strings in double quotes, true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


_EXPECTED = {
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "string_type": "expected a string (in double quotes)",
    "bool_type": "expected true or false",
    "list_type": 'expected a list, e.g. ["a", "b"]',
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "dict_type": "expected a table",
}


_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _where(loc: tuple, raw: dict) -> str:
    """('shops', 2, 'history_days') -> "shops[2] (id 'jd_pop').history_days"; ('warehouse', 'x') -> warehouse.x."""
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int):
            parts[-1] += f"[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                parts[-1] += f" (id {node['id']!r})"
            elif isinstance(node, dict) and isinstance(node.get("name"), str):
                parts[-1] += f" (name {node['name']!r})"
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the table at `loc` (the parent of an unknown key) accepts."""
    for item in loc:
        if isinstance(item, int):
            continue
        annotation = model.model_fields[item].annotation
        args = [a for a in getattr(annotation, "__args__", (annotation,)) if a is not type(None)]
        inner = args[0]
        for arg in getattr(inner, "__args__", ()):  # list[Model]
            inner = arg
        model = inner
    return list(model.model_fields)


def _describe(error: dict, raw: dict) -> str:
    loc = tuple(error["loc"])
    where = _where(loc, raw)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(_ConfigFile, loc[:-1])
        what = "section" if len(loc) == 1 else "key"
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{where}: unknown {what}{hint}; expected one of {', '.join(allowed)}"
    if kind == "missing":
        return f"{where}: missing; this key is required"
    if kind == "value_error":
        return f"{where}: {error['ctx']['error']}"
    if kind == "string_too_short":
        return f"{where}: must not be empty"
    if str(loc[-1]).endswith("_rate") and kind in _BOUNDS:
        return f"{where}: expected a fraction from 0 to below 1 (0.05 = 5 %), got {_toml(error['input'])}"
    if kind in _BOUNDS:
        bound = next(iter(error["ctx"].values()))
        return f"{where}: expected a number {_BOUNDS[kind]} {bound}, got {_toml(error['input'])}"
    if kind == "list_type" and loc == ("shops",):
        return f"shops: expected [[shops]] tables (one per shop), got {_toml(error['input'])}"
    expected = _EXPECTED.get(kind)
    if expected is None:  # bounds and the like: pydantic's own wording ("Input should be greater than 0")
        expected = "expected " + error["msg"].removeprefix("Input should be ").rstrip(".")
    return f"{where}: {expected}, got {_toml(error['input'])}"


def _schema_error(path: Path, exc: ValidationError, raw: dict) -> ConfigError:
    # a union (`x: int | None`) reports one error per member: keep the first per location
    seen: dict[tuple, str] = {}
    # an unknown key first: a misspelt key also makes the key it was meant to be "missing"
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    for error in errors:
        loc = tuple(error["loc"])
        loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "int", "date"})))
        seen.setdefault(loc, _describe({**error, "loc": loc}, raw))
    problems = list(seen.values())
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return ConfigError(f"{path}: " + "; ".join(problems[:3]) + more)


# -- loading ---------------------------------------------------------------------------------------------------


def config_path() -> Path:
    return Path(os.environ.get("SHOPKEEP_CONFIG", "shopkeep.toml")).resolve()


def load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines of a git-ignored .env into os.environ (never overriding what is already set)."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


def _check_shops(path: Path, shops: list[_ShopSection], raw: dict) -> None:
    """What the schema cannot say alone: unique ids, and what an enabled shop needs to be pulled."""
    seen: set[str] = set()
    for i, shop in enumerate(shops):
        where = _where(("shops", i), raw)
        if shop.id in seen:
            raise ConfigError(
                f"{path}: {where}.id: shop id {shop.id!r} appears twice; shop ids must be unique"
            )
        seen.add(shop.id)
        if not shop.enabled:
            continue
        if not shop.base_url:
            example = (
                "https://your-store.myshopify.com"
                if shop.channel == "shopify"
                else "the platform's API gateway"
            )
            raise ConfigError(
                f"{path}: {where}.base_url: missing for an enabled shop; set it to the shop's API address "
                f"({example}), or set enabled = false to leave the shop out"
            )
        for key in _SECRET_KEYS[shop.channel]:
            if not getattr(shop, key):
                suggestion = f"{shop.id.upper().replace('-', '_')}_{key.removesuffix('_env').upper()}"
                raise ConfigError(
                    f"{path}: {where}.{key}: missing; name the environment variable that holds the shop's "
                    f'{_SECRET_WHAT[key]}, e.g. {key} = "{suggestion}" (the secret itself goes in that variable '
                    "or in .env, never in this file)"
                )


def _lake(path: Path, wh: _WarehouseSection) -> Lake | None:
    """[warehouse]'s DuckLake (None for engine = "duckdb"), or a ConfigError naming the key: a lake needs a
    PostgreSQL catalog URL without a password in it (libpq's PGPASSWORD gives that) and an s3:// or local
    data_path; with engine = "duckdb" the two keys are refused, since they would be silently ignored."""
    if wh.engine == "duckdb":
        for key in ("catalog_url", "data_path", "keep_hours"):
            if getattr(wh, key) not in ("", None):
                raise ConfigError(
                    f'{path}: warehouse.{key}: only read with engine = "ducklake"; set engine = "ducklake" '
                    f"to build into the lake, or remove {key} to keep the single file build_path"
                )
        return None
    if not wh.catalog_url:
        raise ConfigError(
            f'{path}: warehouse.catalog_url: missing; engine = "ducklake" keeps its catalog in PostgreSQL, e.g. '
            'catalog_url = "postgresql://shopkeep@db.example.internal:5432/shopkeep_lake"'
        )
    parts = urlsplit(wh.catalog_url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        raise ConfigError(
            f"{path}: warehouse.catalog_url: expected a PostgreSQL URL postgresql://user@host:port/dbname, "
            f"got {_toml(wh.catalog_url)}"
        )
    if parts.password is not None:
        raise ConfigError(
            f"{path}: warehouse.catalog_url: holds a password; secrets never go in this file: remove it from "
            "the URL and set PGPASSWORD (or ~/.pgpass) in the environment or in .env"
        )
    if not wh.data_path:
        raise ConfigError(
            f'{path}: warehouse.data_path: missing; engine = "ducklake" writes its Parquet files there: '
            "s3://bucket/prefix/ (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or a local folder"
        )
    scheme = urlsplit(wh.data_path).scheme
    if scheme == "s3":
        data_path = wh.data_path if wh.data_path.endswith("/") else wh.data_path + "/"
    elif scheme in ("", "file"):
        local = Path(wh.data_path.removeprefix("file://")).expanduser()
        data_path = str(local if local.is_absolute() else (path.parent / local).resolve()) + "/"
    else:
        raise ConfigError(
            f"{path}: warehouse.data_path: expected s3://bucket/prefix/ (AWS or any S3-compatible store) or a "
            f"local folder, got {_toml(wh.data_path)}"
        )
    if wh.keep_hours is None:
        return Lake(catalog_url=wh.catalog_url, data_path=data_path)
    return Lake(catalog_url=wh.catalog_url, data_path=data_path, keep_hours=wh.keep_hours)


def _check_alerts(path: Path, alerts: _AlertsSection | None, raw: dict) -> None:
    """What the schema cannot say alone: unique robot names, secret_env and keyword only for DingTalk."""
    if alerts is None:
        return
    names: set[str] = set()
    for n, robot in enumerate(alerts.robots):
        where = _where(("alerts", "robots", n), raw)
        if robot.name in names:
            raise ConfigError(
                f"{path}: {where}.name: robot {robot.name!r} appears twice; names must be unique"
            )
        names.add(robot.name)
        for key in ("secret_env", "keyword"):
            if robot.kind == "wecom" and getattr(robot, key):
                raise ConfigError(
                    f"{path}: {where}.{key}: a WeCom robot has no {key} (its key is in the webhook URL); "
                    'remove it, or set kind = "dingtalk"'
                )


def _alerts(config: _AlertsSection | None) -> Alerts | None:
    if config is None:
        return None
    return Alerts(
        robots=tuple(
            AlertRobot(
                name=r.name, kind=r.kind, url_env=r.url_env, secret_env=r.secret_env, keyword=r.keyword,
                kinds=None if r.kinds is None else tuple(r.kinds),
            )
            for r in config.robots
        ),
        muted=frozenset(config.muted),
        owners=tuple(config.owners.items()),
        reconciliation_threshold_cny=Decimal(str(config.reconciliation_threshold_cny)),
        stockout_days=float(config.stockout_days),
        best_sellers=config.best_sellers,
        repeat_after_hours=float(config.repeat_after_hours),
    )  # fmt: skip


def load_settings(path: Path | None = None) -> Settings:
    path = (path or config_path()).resolve()
    if not path.is_file():
        raise ConfigError(
            f"config file {path} not found: copy shopkeep.toml from the repository or set SHOPKEEP_CONFIG"
        )
    load_dotenv(path.parent / ".env")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = _ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise _schema_error(path, exc, raw) from None
    _check_shops(path, config.shops, raw)
    supplier_ids = [x.id for x in config.suppliers]
    for n, supplier_id in enumerate(supplier_ids):
        if supplier_id in supplier_ids[:n]:
            raise ConfigError(
                f"{path}: suppliers[{n}].id: supplier {supplier_id!r} appears twice; ids must be unique"
            )
    for n, supplier in enumerate(config.suppliers):
        needed = (
            ("webhook_url",)
            if supplier.channel == "webhook"
            else ("gateway_url", "app_key", "token_env", "offers_file", "address_id")
        )
        for key in needed:
            if not getattr(supplier, key):
                raise ConfigError(
                    f"{path}: suppliers[{n}] (id {supplier.id!r}).{key}: a supplier with channel "
                    f"{supplier.channel!r} needs {key}; see README, Purchase orders"
                )
    _check_alerts(path, config.alerts, raw)
    lake = _lake(path, config.warehouse)
    base = path.parent

    def rel(value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    def rate(value: float | None) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    shops = tuple(
        Shop(
            **s.model_dump(
                exclude={
                    "location_id",
                    "start_date",
                    "commission_rate",
                    "service_fee_rate",
                    "affiliate_commission_rate",
                }
            ),
            location_id=None if s.location_id is None else str(s.location_id),
            start_date=str(s.start_date),
            commission_rate=rate(s.commission_rate),
            service_fee_rate=rate(s.service_fee_rate),
            affiliate_commission_rate=rate(s.affiliate_commission_rate),
        )  # fmt: skip
        for s in config.shops
    )
    wms = None
    if config.wms is not None:
        wms = Wms(
            base_url=config.wms.base_url,
            token_env=config.wms.token_env,
            warehouses=tuple(config.wms.warehouses),
            backfill_days=config.wms.backfill_days,
        )
    try:
        stock_rules = tuple(rules_from_config(config.stock_sync.rules))
    except RuleError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    d = config.demo
    wh = config.warehouse
    return Settings(
        config_path=path,
        build_path=rel(wh.build_path),
        serve_path=rel(wh.serve_path),
        ops_path=rel(wh.ops_path),
        dlt_dir=rel(wh.dlt_dir),
        pii_salt_env=wh.pii_salt_env,
        shops=shops,
        wms=wms,
        product_master_path=rel(config.product_master.path) if config.product_master else None,
        files=Files(
            directory=rel(config.files.directory),
            mappings_dir=rel(config.files.mappings_dir) if config.files.mappings_dir else None,
        )
        if config.files
        else None,
        demo=Demo(
            seed=d.seed,
            days=d.days,
            orders_per_day=d.orders_per_day,
            end_date=str(d.end_date),
            data_dir=rel(d.data_dir),
        ),
        currency=Currency(
            reporting=config.currency.reporting,
            rates_file=rel(config.currency.rates_file) if config.currency.rates_file else None,
        ),
        stock_sync=StockSync(
            rules=stock_rules,
            safety_buffer=config.stock_sync.safety_buffer,
            push=config.stock_sync.push,
            watch_seconds=config.stock_sync.watch_seconds,
        ),
        suppliers=tuple(
            Supplier(
                id=x.id,
                webhook_url=x.webhook_url,
                secret_env=x.secret_env,
                name=x.name,
                warehouse=x.warehouse,
                document_title=x.document_title,
                document_columns=tuple(x.document_columns.items()),
                channel=x.channel,
                gateway_url=x.gateway_url,
                app_key=x.app_key,
                token_env=x.token_env,
                offers_file=rel(x.offers_file) if x.offers_file else None,
                address_id=x.address_id,
            )
            for x in config.suppliers
        ),  # fmt: skip
        alerts=_alerts(config.alerts),
        schedule=Schedule(
            config.schedule.refresh_cron, config.schedule.full_refresh_cron, config.schedule.timezone
        ),
        dashboards_login=config.access is not None,
        lake=lake,
        memory_limit=wh.memory_limit,
    )
