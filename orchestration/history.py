"""History backfills: each API shop's orders, refunds and bills re-read day by day, as Dagster daily partitions.

`history/<shop_id>` is partitioned by the shop's local days from its `start_date`. A partition re-reads what the
platform lists as changed that day (the same windowed calls as the hourly pull) into the same raw tables; the
tables merge on the platform's keys, so a day read twice (or read again by the hourly pull) is one row each. Use
it to re-read days after a platform corrected them, or to fill a gap the hourly pull could not (a token that
expired for a week), in the UI (asset → Materialize → pick days) or
`dagster asset backfill`-style launches; a range runs as one run (`BackfillPolicy.single_run`).

- A backfill has its own dlt state (a fresh pipeline each run), so the hourly pull's cursor is not moved.
- Days older than the shop's `history_days` (the window the platform keeps online) are not asked for: they come
  from exported files (`[files]`). A range partly inside loads the inside and names the days left out; a range
  entirely outside fails with that message.
- Listings and stock are current snapshots, not history: a backfill does not read them.
- A finished backfill starts `rebuild_after_history` (sensor `history_backfilled`): the dbt models rebuilt with
  `--full-refresh` and published, so the days reach the marts (incremental marts only look back a few days).
"""

import tempfile
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.ingest import WAREHOUSE_POOL, channel_connector, connector_kwargs
from orchestration.settings import ConfigError, Settings, Shop
from orchestration.transform import DBT_OP_NAME

HISTORY_GROUP = "history"
REBUILD_JOB = "rebuild_after_history"
WINDOWED = {
    "taobao": ("orders", "refunds", "settlements"),
    "jd": ("orders", "refunds", "settlements"),
    "pinduoduo": ("orders", "refunds", "settlements"),
    "douyin": ("orders", "refunds", "settlements"),
    "shopify": ("orders",),
}
"""Each channel's resources that hold history (read by time window); the others are current snapshots."""


def partitions(shop: Shop) -> dg.DailyPartitionsDefinition:
    """The shop's local days from its start_date up to yesterday (today is still being written)."""
    return dg.DailyPartitionsDefinition(start_date=shop.start_date, timezone=shop.timezone)


def online_days(shop: Shop, today: date, first: date, last: date) -> tuple[date, list[date]]:
    """(the first day to read, the days of [first, last] left out because the platform no longer serves them).
    Shopify serves all history; the marketplaces keep `history_days` days online."""
    if shop.channel == "shopify":
        return first, []
    oldest = today - timedelta(days=shop.history_days - 1)
    start = max(first, oldest)
    skipped = [
        first + timedelta(days=n) for n in range((min(last, oldest - timedelta(days=1)) - first).days + 1)
    ]
    return start, skipped


def backfill_kwargs(settings: Settings, shop: Shop, start: datetime, end: datetime) -> dict:
    """The connector's arguments to read [start, end) and nothing else: history_days wide enough that the
    connector's own online-window floor (relative to `end`) does not cut the range (checked here against today)."""
    kwargs = connector_kwargs(settings, shop, resolve_secrets=True)
    kwargs["start_date"] = start
    if shop.channel == "shopify":
        kwargs["until"] = end
    else:
        kwargs["now"] = end
        kwargs["history_days"] = (end - start).days + 2
    return kwargs


def load_history(settings: Settings, shop: Shop, first: date, last: date, today: date) -> dict:
    """Read the shop's windowed resources for its local days first..last into the raw tables; returns what was
    read and left out (metadata). A range entirely older than the platform keeps raises ConfigError."""
    start_day, skipped = online_days(shop, today, first, last)
    if start_day > last:
        raise ConfigError(
            f"history/{shop.id}: {first}…{last} is older than the {shop.history_days} days {shop.channel} keeps "
            f"online (oldest: {today - timedelta(days=shop.history_days - 1)}); import those days from exported "
            "files ([files] in the config)"
        )
    zone = ZoneInfo(shop.timezone)
    start = datetime.combine(start_day, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    connector = channel_connector(shop.channel)
    source = getattr(connector, f"{shop.channel}_source")(**backfill_kwargs(settings, shop, start, end))
    resources = WINDOWED[shop.channel]
    with tempfile.TemporaryDirectory(prefix=f"history-{shop.id}-") as state:
        # a fresh dlt state: the windows start at `start`, and the hourly pull's cursor stays where it is
        pipeline = settings.warehouse_pipeline(
            f"history_{shop.id}", f"raw_{shop.channel}", pipelines_dir=Path(state)
        )
        info = pipeline.run(source.with_resources(*resources))
        info.raise_on_failed_jobs()
        rows = {
            table: count
            for table, count in (pipeline.last_trace.last_normalize_info.row_counts or {}).items()
            if not table.startswith("_dlt")
        }
    return {
        "days_read": f"{start_day}…{last}",
        "days_left_out": f"{skipped[0]}…{skipped[-1]} (older than the platform keeps: import them from exported "
        "files)"
        if skipped
        else "none",
        "rows_read": sum(rows.values()),
        **{f"rows_read/{table}": count for table, count in sorted(rows.items())},
    }


def history_asset(settings: Settings, shop: Shop, today: date | None = None) -> dg.AssetsDefinition:
    """`history/<shop_id>`: the shop's days, one partition each (`today` pins the online window in tests)."""

    with warnings.catch_warnings():  # BackfillPolicy is "beta" in Dagster 1.13: a warning on every load
        warnings.simplefilter("ignore", dg.BetaWarning)
        decorate = dg.asset(
            key=["history", shop.id],
            partitions_def=partitions(shop),
            backfill_policy=dg.BackfillPolicy.single_run(),
            deps=[dg.AssetKey(["channel", shop.id])],
            group_name=HISTORY_GROUP,
            pool=WAREHOUSE_POOL,
            description=f"{shop.name}: orders, refunds and bills re-read for the chosen days into "
            f"raw_{shop.channel} (a backfill; the hourly pull keeps its own cursor).",
        )

    @decorate
    def history(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        window = context.partition_time_window
        first = window.start.date()
        last = (window.end - timedelta(days=1)).date()
        local_today = datetime.now(ZoneInfo(shop.timezone)).date() if today is None else today
        metadata = load_history(settings, shop, first, last, local_today)
        context.log.info(f"history/{shop.id} {first}…{last}: {metadata}")
        return dg.MaterializeResult(metadata=metadata)

    return history


def history_assets(settings: Settings, today: date | None = None) -> list[dg.AssetsDefinition]:
    """One daily-partitioned asset per enabled API shop."""
    return [
        history_asset(settings, shop, today) for shop in settings.enabled_shops if shop.channel in WINDOWED
    ]


def rebuild_job():
    """Every dbt model rebuilt with --full-refresh and published (no API pull): what a backfill's days need to
    reach the marts."""
    from connectors.channels import CHANNELS

    pulls = dg.AssetSelection.groups(*(f"raw_{channel}" for channel in CHANNELS), "raw_wms", HISTORY_GROUP)
    return dg.define_asset_job(
        REBUILD_JOB,
        selection=dg.AssetSelection.all().materializable() - pulls,
        config={"ops": {DBT_OP_NAME: {"config": {"full_refresh": True}}}},
        tags={"shopkeep/trigger": "history"},
    )


def history_sensor(job) -> dg.SensorDefinition:
    """After a run that read history succeeds, one rebuild (its run key is that run's id, so never twice)."""

    @dg.run_status_sensor(
        name="history_backfilled",
        run_status=dg.DagsterRunStatus.SUCCESS,
        request_job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def history_backfilled(context: dg.RunStatusSensorContext):
        records = context.instance.get_records_for_run(
            context.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        if not any(r.event_log_entry.dagster_event.asset_key.path[0] == HISTORY_GROUP for r in records):
            return dg.SkipReason("not a history backfill")
        return dg.RunRequest(run_key=f"rebuild-after-{context.dagster_run.run_id}")

    return history_backfilled
