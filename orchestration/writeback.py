"""Wiring of writeback (the composition root's part): each configured shop's StockWriter from its settings, and
stock sync run over the published snapshot and the ops store."""


import importlib
from datetime import datetime

import dagster as dg

from connectors.channels import CHANNELS
from connectors.common.stock import StockWriter
from orchestration.ingest import connector_kwargs
from orchestration.settings import ConfigError, Settings
from writeback.stock.sync import SyncResult, sync

STOCK_SYNC_POOL = "stock_sync"
"""One stock sync at a time (the pools' default limit is 1, orchestration/dagster.yaml): two runs planning from
the same pull would push twice."""


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
    if settings.wms is None:
        raise ConfigError(
            "stock sync needs warehouse stock: configure [wms] in "
            f"{settings.config_path.name} (without it shopkeep does not know what there is to list)"
        )
    writers = {} if dry_run else stock_writers(settings, shops)
    pushable = {s.id for s in settings.enabled_shops if s.channel in CHANNELS}
    return sync(
        settings.serve_path, settings.ops_path, writers, list(settings.stock_sync.rules),
        safety_buffer=settings.stock_sync.safety_buffer, now=now, dry_run=dry_run, mode=mode, shops=shops,
        pushable=pushable,
    )  # fmt: skip


def demo_stock_sync(settings: Settings, now: datetime | None = None) -> tuple[str, SyncResult]:
    """What `shopkeep demo` shows of stock sync: a lock of 5 units of the SKU listed in most shops with the most
    stock, for the live shop's stream over the next 3 hours, then the plan pushed to every sandbox channel."""
    from datetime import UTC, timedelta

    from writeback.stock import store

    now = now or datetime.now(UTC)
    plan = run_stock_sync(settings, now=now).frame()
    live = "douyin_live" if "douyin_live" in set(plan["shop_id"]) else None
    note = "no live shop to lock stock for"
    if live and not plan.empty:
        spread = plan.groupby("sku").agg(shops=("shop_id", "nunique"), stock=("stock", "max"))
        sku = spread.sort_values(["shops", "stock"], ascending=False).index[0]
        current = {lock.lock_id: lock for lock in store.current_locks(settings.ops_path)}
        version = current["demo-live-stream"].version if "demo-live-stream" in current else 0
        until = now + timedelta(hours=3)
        store.save_lock(settings.ops_path, "demo-live-stream", sku, live, 5, until, "demo", version,
                        note="tonight's live stream")  # fmt: skip
        note = f"5 units of {sku} locked for {live}'s live stream until {until:%H:%M} UTC"
    return note, run_stock_sync(settings, now=now, dry_run=False, mode="manual")


def stock_sync_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """`writeback/stock_sync` after each publish: plans stock for every listing and, with [stock_sync]
    push = "after_build", pushes the changes (audited as automatic). Failed pushes do not fail the run: they
    are in the audit and retried at the next run. None without a [wms] (no stock to plan from)."""
    if settings.wms is None:
        return []

    @dg.asset(
        key=["writeback", "stock_sync"], deps=[dg.AssetKey(["serve", "snapshot"])], group_name="writeback",
        pool=STOCK_SYNC_POOL,
    )  # fmt: skip
    def stock_sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        push = settings.stock_sync.push == "after_build"
        result = run_stock_sync(settings, dry_run=not push, mode="automatic")
        frame = result.frame()
        failed = [p for p in result.pushed if not p["ok"]]
        for p in failed[:20]:
            context.log.warning(f"stock push of {p['sku']} to {p['shop_id']} failed: {p['message']}")
        return dg.MaterializeResult(
            metadata={
                "mode": "pushed" if push else 'plan only ([stock_sync] push = "manual")',
                "listings": len(frame),
                "to change": int((frame["action"] == "push").sum()),
                "pushed": len(result.pushed) - len(failed),
                "failed": len(failed),
                "over-allocated units": int(sum(line.over_allocated for line in result.lines)),
                "run": result.run_id,
            }
        )

    return [stock_sync]
