"""Wiring of writeback (the composition root's part): each configured shop's StockWriter from its settings, and
stock sync run over the published snapshot and the ops store."""

import importlib
from datetime import datetime

import dagster as dg

from connectors.channels import CHANNELS
from connectors.common.stock import StockWriter
from connectors.common.warehouse import published_exists
from connectors.wms.client import WmsClient
from orchestration.gates import STOCK_SYNC_READS, GateClosed, require_passing
from orchestration.ingest import connector_kwargs
from orchestration.settings import ConfigError, Settings
from writeback.stock import store
from writeback.stock.lean import Changes, look_for_changes, run_lean_sync
from writeback.stock.sync import SyncResult, read_inputs, sync

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
    if not published_exists(settings.serving_locator):
        raise ConfigError(
            f"no published snapshot at {settings.serving_locator}: run `shopkeep materialize` first (stock sync plans "
            "from the published marts)"
        )
    if settings.wms is None:
        raise ConfigError(
            "stock sync needs warehouse stock: configure [wms] in "
            f"{settings.config_path.name} (without it shopkeep does not know what there is to list)"
        )
    if not dry_run:  # a plan is shown whatever the checks say; a push acts on it only if they passed
        require_passing(settings.serving_locator, STOCK_SYNC_READS, "stock push")
    writers = {} if dry_run else stock_writers(settings, shops)
    pushable = {s.id for s in settings.enabled_shops if s.channel in CHANNELS}
    return sync(
        settings.serving_locator, settings.ops_path, writers, list(settings.stock_sync.rules),
        safety_buffer=settings.stock_sync.safety_buffer, now=now, dry_run=dry_run, mode=mode, shops=shops,
        pushable=pushable,
    )  # fmt: skip


def demo_stock_sync(settings: Settings, now: datetime | None = None) -> tuple[str, SyncResult]:
    """What `shopkeep demo` shows of stock sync: a lock of 5 units of the SKU listed in most shops with the most
    stock, for the live shop's stream over the next 3 hours, then the plan pushed to every sandbox channel."""
    from datetime import UTC, timedelta

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
    push = "after_build" (or "continuous"), pushes the changes (audited as automatic). Failed pushes do not fail the run: they
    are in the audit and retried at the next run. None without a [wms] (no stock to plan from)."""
    if settings.wms is None:
        return []

    @dg.asset(
        key=["writeback", "stock_sync"], deps=[dg.AssetKey(["serve", "snapshot"])], group_name="writeback",
        pool=STOCK_SYNC_POOL,
    )  # fmt: skip
    def stock_sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        push = settings.stock_sync.push in ("after_build", "continuous")
        try:
            result = run_stock_sync(settings, dry_run=not push, mode="automatic")
        except GateClosed as exc:  # the run fails, saying which checks: nothing was pushed
            raise dg.Failure(description=str(exc)) from None
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


PUSH_OP = "push_requested_stock"


class StockPushRequest(dg.Config):
    request_id: int


def carry_out_push_request(settings: Settings, request_id: int, run_id: str) -> dict | None:
    """Push the plan a manager asked for on the stock page, if the snapshot it was planned from is still the
    published one; else refuse, saying so (the manager looks at the new plan and asks again). Returns the
    request as finished, or None when another run had claimed it."""
    request = store.claim_push_request(settings.ops_path, request_id, run_id)
    if request is None:
        return None
    try:
        published = (
            read_inputs(settings.serving_locator).published_at
            if published_exists(settings.serving_locator)
            else None
        )
        seen = request["snapshot_version"]
        if seen and published and datetime.fromisoformat(seen) != datetime.fromisoformat(published):
            refused, message = (
                True,
                (
                    f"not pushed: the plan shown was of the snapshot published at {seen}; a newer one "
                    f"({published}) has been published since, so the plan may differ. Look at the stock page again "
                    "and push from there."
                ),
            )
        else:
            shops = set(request["shops"].split(",")) if request["shops"] else None
            result = run_stock_sync(settings, shops=shops, dry_run=False, mode="manual")
            failed = sum(1 for p in result.pushed if not p["ok"])
            refused, message = (
                False,
                (
                    f"pushed {len(result.pushed) - failed} listing changes, {failed} failed (run {result.run_id})"
                ),
            )
    except Exception as exc:  # noqa: BLE001 - the request must say why, whatever it was; the run fails too
        store.finish_push_request(settings.ops_path, request_id, True, f"not pushed: {exc}")
        raise
    store.finish_push_request(settings.ops_path, request_id, refused, message)
    return {**request, "status": "refused" if refused else "done", "message": message}


def stock_push_job(settings: Settings) -> dg.JobDefinition:
    """`stock_push`: carries out one push request from the stock page (run config: its request_id)."""

    @dg.op(name=PUSH_OP, pool=STOCK_SYNC_POOL)
    def push_requested_stock(context: dg.OpExecutionContext, config: StockPushRequest) -> None:
        done = carry_out_push_request(settings, config.request_id, context.run_id)
        if done is None:
            context.log.info(f"push request {config.request_id} was carried out by another run")
        elif done["status"] == "refused":
            context.log.warning(done["message"])
        else:
            context.log.info(done["message"])

    @dg.job(name="stock_push", description="Push the stock plan a manager asked for on the stock page.")
    def stock_push() -> None:
        push_requested_stock()

    return stock_push


def push_request_run_config(request_id: int) -> dict:
    return {"ops": {PUSH_OP: {"config": {"request_id": request_id}}}}


def stock_push_sensor(settings: Settings, job: dg.JobDefinition) -> dg.SensorDefinition:
    """Every 15 s: a run of `stock_push` for each push a manager asked for (running by default: it acts only on
    a manager's request; `dagster-daemon` must run)."""

    @dg.sensor(
        name="stock_push_requests", job=job, minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )  # fmt: skip
    def stock_push_requests(context: dg.SensorEvaluationContext):
        requests = store.pending_push_requests(settings.ops_path)
        if not requests:
            return dg.SkipReason("no push requested on the stock page")
        return [
            dg.RunRequest(
                run_key=f"stock-push-{r['request_id']}", run_config=push_request_run_config(r["request_id"])
            )
            for r in requests
        ]

    return stock_push_requests


def _lean_ready(settings: Settings) -> None:
    if settings.wms is None or not published_exists(settings.serving_locator):
        raise ConfigError(
            "the lean path plans from the published snapshot and the WMS's movements: configure [wms] and run "
            "`shopkeep materialize` first"
        )


def look_for_stock_changes(settings: Settings, now: datetime | None = None) -> Changes:
    """One look of the lean path (writeback/stock/lean.py): the WMS's new movements and every channel's listings
    read back, recorded as changes of their SKUs."""
    _lean_ready(settings)
    wms = settings.wms
    with WmsClient(wms.base_url, settings.secret(wms.token_env, "WMS API token"), wms.token_env) as client:
        return look_for_changes(
            client, stock_writers(settings), settings.serving_locator, settings.ops_path, now
        )


def run_lean_stock_sync(
    settings: Settings, now: datetime | None = None
) -> tuple[dict[str, int], SyncResult | None]:
    """Plan and push the SKUs in the change queue (the lean path's second step)."""
    _lean_ready(settings)
    require_passing(settings.serving_locator, STOCK_SYNC_READS, "stock push (lean path)")
    return run_lean_sync(
        settings.serving_locator, settings.ops_path, stock_writers(settings), list(settings.stock_sync.rules),
        safety_buffer=settings.stock_sync.safety_buffer, now=now,
    )  # fmt: skip


LEAN_JOB = "stock_lean_sync"


def stock_lean_job(settings: Settings) -> dg.JobDefinition:
    """`stock_lean_sync`: plans and pushes the SKUs a stock movement or an order changed since their last plan."""

    @dg.op(name="push_changed_stock", pool=STOCK_SYNC_POOL)
    def push_changed_stock(context: dg.OpExecutionContext) -> None:
        taken, result = run_lean_stock_sync(settings)
        if result is None:
            context.log.info("no SKU is waiting to be planned")
            return
        failed = [p for p in result.pushed if not p["ok"]]
        for p in failed[:20]:
            context.log.warning(f"stock push of {p['sku']} to {p['shop_id']} failed: {p['message']}")
        context.log.info(
            f"planned {len(taken)} changed SKUs: pushed {len(result.pushed) - len(failed)} listing changes, "
            f"{len(failed)} failed (run {result.run_id})"
        )

    @dg.job(
        name=LEAN_JOB, description="Push the stock of the SKUs that changed since the last build (lean path)."
    )
    def stock_lean_sync() -> None:
        push_changed_stock()

    return stock_lean_sync


ACTIVE = [
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]  # fmt: skip


def stock_changes_sensor(settings: Settings, job: dg.JobDefinition) -> dg.SensorDefinition:
    """Every [stock_sync] watch_seconds (push = "continuous"), unless a `stock_lean_sync` run is on its way: one
    look for stock movements and orders, and a run of `stock_lean_sync` when a SKU waits to be planned."""

    @dg.sensor(
        name="stock_changes", job=job, minimum_interval_seconds=settings.stock_sync.watch_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )  # fmt: skip
    def stock_changes(context: dg.SensorEvaluationContext):
        # while a lean run pushes, no look: its own writes are no change, and what changes meanwhile is still
        # there (as movements after the cursor, listings unlike the last seen) at the first look after it
        active = context.instance.get_runs(dg.RunsFilter(job_name=LEAN_JOB, statuses=ACTIVE), limit=1)
        if active:
            return dg.SkipReason(f"the lean run {active[0].run_id} is on its way")
        changes = look_for_stock_changes(settings)
        for shop, why in sorted(changes.unread.items()):
            context.log.warning(f"could not read what {shop} lists: {why}")
        if not changes.dirty:
            return dg.SkipReason("no stock movement or order since the last plan")
        return dg.RunRequest(
            run_key=None,
            tags={"shopkeep/changed_skus": str(len(changes.dirty))},
        )

    return stock_changes
