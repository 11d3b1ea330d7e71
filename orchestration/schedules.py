"""Schedules: refresh everything hourly (off until someone turns it on in the UI or with `dagster schedule start`)."""

from __future__ import annotations

import dagster as dg

everything_job = dg.define_asset_job("refresh_everything", selection=dg.AssetSelection.all())

hourly_refresh = dg.ScheduleDefinition(
    name="hourly_refresh",
    job=everything_job,
    cron_schedule="5 * * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Pull every channel, rebuild the dbt models and publish serve.duckdb, at five past each hour.",
)
