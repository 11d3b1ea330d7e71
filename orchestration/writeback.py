"""Wiring of writeback (the composition root's part): each configured shop's StockWriter from its settings, and
stock sync run over the published snapshot and the ops store."""

from __future__ import annotations

import importlib
from datetime import datetime

from connectors.channels import CHANNELS
from connectors.common.stock import StockWriter
from orchestration.ingest import connector_kwargs
from orchestration.settings import ConfigError, Settings
from writeback.stock.sync import SyncResult, sync


def stock_writers(settings: Settings, shops: set[str] | None = None) -> dict[str, StockWriter]:
    """Every enabled channel shop's StockWriter (connectors.<channel>.stock.stock_writer), credentials resolved
    from the environment (a missing one is a ConfigError naming the variable)."""
    writers = {}
    for shop in settings.enabled_shops:
        if shop.channel not in CHANNELS or (shops is not None and shop.id not in shops):
            continue
        module = importlib.import_module(f"connectors.{shop.channel}.stock")
        writers[shop.id] = module.stock_writer(**connector_kwargs(settings, shop, resolve_secrets=True))
    return writers


def run_stock_sync(
    settings: Settings,
    *,
    shops: set[str] | None = None,
    dry_run: bool = True,
    now: datetime | None = None,
    mode: str = "manual",
) -> SyncResult:
    """Plan (and unless `dry_run`, push) stock for every listing of the published snapshot."""
    unknown = sorted((shops or set()) - {s.id for s in settings.enabled_shops})
    if unknown:
        raise ConfigError(f"shop {unknown[0]!r} is not an enabled shop in {settings.config_path.name}")
    if not settings.serve_path.exists():
        raise ConfigError(
            f"no published snapshot at {settings.serve_path}: run `shopkeep materialize` first (stock sync plans "
            "from the published marts)"
        )
    writers = {} if dry_run else stock_writers(settings, shops)
    pushable = {s.id for s in settings.enabled_shops if s.channel in CHANNELS}
    return sync(
        settings.serve_path, settings.ops_path, writers, list(settings.stock_sync.rules),
        safety_buffer=settings.stock_sync.safety_buffer, now=now, dry_run=dry_run, mode=mode, shops=shops,
        pushable=pushable,
    )  # fmt: skip
