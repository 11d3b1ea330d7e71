"""Settings: `shopkeep.toml` (path from SHOPKEEP_CONFIG) plus secrets from the environment, read in one place.

Every other part of orchestration receives a `Settings`; connectors receive plain arguments. Secrets are only
ever looked up by the environment-variable name the config gives, and error messages name the variable, never
its value.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CHANNELS = ("shopify", "taobao", "jd", "pinduoduo", "douyin")


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


@dataclass(frozen=True)
class Wms:
    base_url: str
    token_env: str
    warehouses: tuple[str, ...]
    backfill_days: int = 90


@dataclass(frozen=True)
class Files:
    directory: Path
    """Exported files (orders, refunds) to import; each named <shop_id>__<kind>.<csv|xlsx>."""


@dataclass(frozen=True)
class Demo:
    seed: int = 42
    days: int = 540
    orders_per_day: int = 150
    end_date: str = ""
    data_dir: Path = Path(".shopkeep/demo")


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

    @property
    def enabled_shops(self) -> tuple[Shop, ...]:
        return tuple(s for s in self.shops if s.enabled)

    @property
    def dbt_env(self) -> dict[str, str]:
        """Environment variables `dbt_project/profiles.yml` reads."""
        return {"SHOPKEEP_BUILD_PATH": str(self.build_path)}

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
        return self.secret(self.pii_salt_env, "salt for hashing buyer data")


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
        raise ConfigError(f"{path}: {exc}") from exc
    base = path.parent

    def rel(value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else (base / p).resolve()

    wh = raw.get("warehouse", {})
    shops = []
    seen = set()
    for i, entry in enumerate(raw.get("shops", []), start=1):
        for key in ("id", "channel", "name"):
            if key not in entry:
                raise ConfigError(f"{path}: [[shops]] entry {i} has no '{key}'")
        if entry["channel"] not in CHANNELS:
            raise ConfigError(
                f"{path}: shop {entry['id']!r} has channel {entry['channel']!r}; expected one of {', '.join(CHANNELS)}"
            )
        if entry["id"] in seen:
            raise ConfigError(f"{path}: shop id {entry['id']!r} appears twice; shop ids must be unique")
        seen.add(entry["id"])
        known = {f for f in Shop.__dataclass_fields__}
        unknown = set(entry) - known
        if unknown:
            raise ConfigError(f"{path}: shop {entry['id']!r} has unknown keys {sorted(unknown)}")
        shops.append(Shop(**{k: (str(v) if k == "location_id" else v) for k, v in entry.items()}))

    wms = None
    if "wms" in raw:
        w = raw["wms"]
        wms = Wms(
            base_url=w["base_url"],
            token_env=w.get("token_env", "WMS_TOKEN"),
            warehouses=tuple(w.get("warehouses", [])),
            backfill_days=int(w.get("backfill_days", 90)),
        )
    pm = raw.get("product_master", {}).get("path")
    files = Files(directory=rel(raw["files"]["directory"])) if raw.get("files", {}).get("directory") else None
    d = raw.get("demo", {})
    demo = Demo(
        seed=int(d.get("seed", 42)),
        days=int(d.get("days", 540)),
        orders_per_day=int(d.get("orders_per_day", 150)),
        end_date=str(d.get("end_date", "")),
        data_dir=rel(d.get("data_dir", ".shopkeep/demo")),
    )
    return Settings(
        config_path=path,
        build_path=rel(wh.get("build_path", ".shopkeep/build.duckdb")),
        serve_path=rel(wh.get("serve_path", ".shopkeep/serve.duckdb")),
        ops_path=rel(wh.get("ops_path", ".shopkeep/ops.sqlite")),
        dlt_dir=rel(wh.get("dlt_dir", ".shopkeep/dlt")),
        pii_salt_env=wh.get("pii_salt_env", "SHOPKEEP_PII_SALT"),
        shops=tuple(shops),
        wms=wms,
        product_master_path=rel(pm) if pm else None,
        files=files,
        demo=demo,
    )
