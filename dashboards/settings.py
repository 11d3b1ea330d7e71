"""Where the dashboards find the published warehouse (`serve.duckdb`) and the ops store (`ops.sqlite`).

Resolution order: env `SHOPKEEP_SERVE_PATH` (`SHOPKEEP_OPS_PATH`); else `warehouse.serve_path`
(`warehouse.ops_path`) in the config file (`SHOPKEEP_CONFIG`, else `./shopkeep.toml`), relative to that file's
folder. Dashboards read configuration themselves (they must not import `orchestration/`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

SERVE_PATH_ENV = "SHOPKEEP_SERVE_PATH"
LAKE_PREFIX = "ducklake:"  # connectors.common.warehouse.lake_locator
OPS_PATH_ENV = "SHOPKEEP_OPS_PATH"
DEFAULT_OPS_PATH = (
    ".shopkeep/ops.sqlite"  # as orchestration/settings.py: the default when the config has none
)
CONFIG_ENV = "SHOPKEEP_CONFIG"
DEFAULT_CONFIG = "shopkeep.toml"
DISPLAY_TIMEZONE = "Asia/Shanghai"  # shops' default timezone; timestamps are shown in it


class SettingsError(RuntimeError):
    """The dashboards cannot work out where the published warehouse is."""


def config_path() -> Path:
    """The config file: `SHOPKEEP_CONFIG` if set, else ./shopkeep.toml."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser().resolve()


def _read(cfg: Path) -> dict:
    """The config file's tables, or a SettingsError naming the file and the TOML error."""
    try:
        with cfg.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{cfg} is not valid TOML: {exc}") from exc


def serve_path() -> Path | str:
    """Absolute path of `serve.duckdb` (the file need not exist yet); or, when the warehouse is a DuckLake, its
    locator `ducklake:<catalog_url>#<data_path>` (SHOPKEEP_SERVE_PATH set to one, or `[warehouse] engine =
    "ducklake"` in the config), which the query layer opens read-only at the latest published snapshot."""
    from_env = os.environ.get(SERVE_PATH_ENV)
    if from_env:
        return from_env if from_env.startswith(LAKE_PREFIX) else Path(from_env).expanduser().resolve()
    cfg = config_path()
    if not cfg.is_file():
        raise SettingsError(
            f"No config file at {cfg}: set {CONFIG_ENV} to your shopkeep.toml, "
            f"or set {SERVE_PATH_ENV} to the serve.duckdb file."
        )
    config = _read(cfg)
    warehouse = config.get("warehouse", {})
    if warehouse.get("engine") == "ducklake":
        data_path = str(warehouse.get("data_path", ""))
        if data_path.startswith("s3://"):
            data_path = data_path if data_path.endswith("/") else data_path + "/"
        elif data_path:  # a local folder, as orchestration/settings.py reads it: relative to the config file
            local = Path(data_path.removeprefix("file://")).expanduser()
            data_path = str(local if local.is_absolute() else (cfg.parent / local).resolve()) + "/"
        return f"{LAKE_PREFIX}{warehouse.get('catalog_url', '')}#{data_path}"
    raw = warehouse.get("serve_path")
    if not raw:
        raise SettingsError(f"{cfg} has no [warehouse] serve_path; add it or set {SERVE_PATH_ENV}.")
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (cfg.parent / path).resolve()


def ops_path() -> Path:
    """Absolute path of the ops store `ops.sqlite` (dashboard decisions; the file need not exist yet)."""
    from_env = os.environ.get(OPS_PATH_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    cfg = config_path()
    if not cfg.is_file():
        raise SettingsError(
            f"No config file at {cfg}: set {CONFIG_ENV} to your shopkeep.toml, "
            f"or set {OPS_PATH_ENV} to the ops.sqlite file."
        )
    config = _read(cfg)
    path = Path(config.get("warehouse", {}).get("ops_path") or DEFAULT_OPS_PATH).expanduser()
    return path if path.is_absolute() else (cfg.parent / path).resolve()


WALL_REFRESH_ENV = "SHOPKEEP_WALL_REFRESH_SECONDS"
DEFAULT_WALL_REFRESH_SECONDS = 30.0
MIN_WALL_REFRESH_SECONDS = 0.5


def wall_refresh_seconds() -> float:
    """How often the wall screen re-reads the published snapshot: env `SHOPKEEP_WALL_REFRESH_SECONDS`, else 30."""
    raw = os.environ.get(WALL_REFRESH_ENV, "").strip()
    if not raw:
        return DEFAULT_WALL_REFRESH_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise SettingsError(f"{WALL_REFRESH_ENV}={raw!r} is not a number of seconds (e.g. 30)") from None
    if not seconds >= MIN_WALL_REFRESH_SECONDS:
        raise SettingsError(f"{WALL_REFRESH_ENV}={raw!r}: refresh at most every {MIN_WALL_REFRESH_SECONDS} s")
    return seconds


def stock_sync_section() -> dict:
    """The config file's [stock_sync] table (its default rules and safety buffer; empty without a config file:
    then only the rules edited on the stock page apply). Checked where it is used (writeback.stock.rules)."""
    cfg = config_path()
    if not cfg.is_file():
        return {}
    config = _read(cfg)
    section = config.get("stock_sync", {})
    return section if isinstance(section, dict) else {}
