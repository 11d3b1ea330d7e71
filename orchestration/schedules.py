"""Schedules and the exports-folder sensor: what runs shopkeep unattended (`shopkeep daemon` starts them all).

- `hourly_refresh`: pull every channel, rebuild (incremental models add only what changed) and publish, at five
  past each hour (`[schedule] refresh_cron`).
- `nightly_full_refresh`: the same at 03:15 (`full_refresh_cron`) with dbt's `--full-refresh`, so incremental
  models (`order_line_margins`) are rebuilt from all history once a day (a cost or fee change of an old day
  reaches it).
- `exports_dropped` (with `[files]`): a file dropped into (or replaced in) the exports folder is imported and
  built within a minute: everything but the channels' API pulls (those wait for the hourly refresh).

Both schedules are stopped until started (`shopkeep daemon` starts them; in the UI, or
`dagster schedule start --start-all`), so `dagster dev` over the demo does not start building on its own.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from orchestration.settings import Settings
from orchestration.transform import DBT_OP_NAME

# history backfills (daily partitions, orchestration/history.py) run on their own
everything_job = dg.define_asset_job(
    "refresh_everything", selection=dg.AssetSelection.all() - dg.AssetSelection.groups("history")
)


def schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """`hourly_refresh` and `nightly_full_refresh`, at the times [schedule] gives (by default five past each hour
    and 03:15, Asia/Shanghai)."""
    when = settings.schedule
    return [
        dg.ScheduleDefinition(
            name="hourly_refresh",
            job=everything_job,
            cron_schedule=when.refresh_cron,
            execution_timezone=when.timezone,
            default_status=dg.DefaultScheduleStatus.STOPPED,
            description=f"Pull every channel, rebuild the dbt models and publish serve.duckdb ({when.refresh_cron}).",
        ),
        dg.ScheduleDefinition(
            name="nightly_full_refresh",
            job=everything_job,
            cron_schedule=when.full_refresh_cron,
            execution_timezone=when.timezone,
            run_config={"ops": {DBT_OP_NAME: {"config": {"full_refresh": True}}}},
            default_status=dg.DefaultScheduleStatus.STOPPED,
            description="Everything as the refresh, with incremental models rebuilt from all history (dbt "
            f"--full-refresh) ({when.full_refresh_cron}).",
        ),
    ]


EXPORTS_JOB = "import_exports"
SETTLE_SECONDS = 10
"""A file changed more recently than this may still be being copied: it is looked at again next time."""


def exports_job() -> dg.UnresolvedAssetJobDefinition:
    """Everything but the channels' API pulls: the file import, the other local sources (config, product master,
    ops store), every dbt model (on a new warehouse the files' models need the others) and the publish."""
    from connectors.channels import CHANNELS

    pulls = dg.AssetSelection.groups(*(f"raw_{channel}" for channel in CHANNELS), "raw_wms", "history")
    return dg.define_asset_job(
        EXPORTS_JOB,
        selection=dg.AssetSelection.all().materializable() - pulls,
        tags={"shopkeep/trigger": "exports"},
    )


def folder_state(folder: Path) -> dict[str, list[int]]:
    """Every export file under `folder` (hidden files and Office lock files `~$…` left out): [mtime_ns, size]."""
    if not folder.is_dir():
        return {}
    return {
        str(path.relative_to(folder)): [path.stat().st_mtime_ns, path.stat().st_size]
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith((".", "~$"))
    }


def exports_sensor(settings: Settings, job) -> dg.SensorDefinition:
    """Every 30 s: a run of `import_exports` when a file in the exports folder is new, replaced or deleted since
    the last run it started (the cursor holds the folder as it was then); not while such a run is on its way, and
    not while a file is still being written."""
    assert settings.files is not None
    folder = settings.files.directory

    @dg.sensor(name="exports_dropped", job=job, minimum_interval_seconds=30,
               default_status=dg.DefaultSensorStatus.RUNNING)  # fmt: skip
    def exports_dropped(context: dg.SensorEvaluationContext):
        from orchestration.writeback import ACTIVE

        seen = json.loads(context.cursor) if context.cursor else {}
        now = folder_state(folder)
        changed = sorted(name for name in now.keys() | seen.keys() if now.get(name) != seen.get(name))
        if not changed:
            return dg.SkipReason(f"no new or changed file in {folder}")
        settling = [
            name for name in changed if name in now and time.time_ns() - now[name][0] < SETTLE_SECONDS * 1e9
        ]
        if settling:
            return dg.SkipReason(f"{', '.join(settling[:3])} changed in the last {SETTLE_SECONDS} s: waiting")
        if context.instance.get_runs(dg.RunsFilter(job_name=job.name, statuses=ACTIVE), limit=1):
            return dg.SkipReason(f"{len(changed)} changed files wait for the import on its way")
        context.update_cursor(json.dumps(now))
        return dg.RunRequest(
            run_key="exports-" + hashlib.sha1(json.dumps(now, sort_keys=True).encode()).hexdigest()[:12],
            tags={"shopkeep/exports": ", ".join(changed[:10])[:200]},
        )

    return exports_dropped
