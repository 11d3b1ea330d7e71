"""The Dagster code location: assembles ingest, transform, publish, writeback and schedules over one Settings.

Importing this module reads nothing and parses nothing: `defs` is built when Dagster loads the code location
(`dagster dev -m orchestration.definitions`) or a caller calls it, from the config that load_settings finds."""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import alert_assets, run_failure_alert_sensor
from orchestration.history import history_assets, history_sensor, rebuild_job
from orchestration.ingest import channel_specs, ingest_assets
from orchestration.publish import dashboard_specs, publish_assets
from orchestration.purchasing import purchase_order_job, purchase_order_sensor
from orchestration.schedules import (
    everything_job,
    exports_job,
    exports_sensor,
    schedules,
)
from orchestration.settings import Settings, load_settings
from orchestration.transform import dbt_resource, transform_assets
from orchestration.writeback import (
    stock_changes_sensor,
    stock_lean_job,
    stock_push_job,
    stock_push_sensor,
    stock_sync_assets,
)


def build_definitions(settings: Settings) -> dg.Definitions:
    dbt_defs = transform_assets(settings)
    mart_keys = [key for d in dbt_defs for key in d.keys if key.path[0] == "marts"]
    check_keys = [key for d in dbt_defs for key in d.check_keys]  # dbt tests, published to meta.check_results
    # stock pushes a manager asks for on the stock page (none without a [wms]: no stock to plan from)
    push_jobs = [stock_push_job(settings)] if settings.wms is not None else []
    # the lean path: SKUs a stock movement or an order changed pushed within a minute, between builds
    lean_jobs = [stock_lean_job(settings)] if push_jobs and settings.stock_sync.push == "continuous" else []
    # approved purchase orders sent to the configured suppliers
    po_jobs = [purchase_order_job(settings)] if settings.suppliers else []
    # a file dropped into the exports folder is imported and built
    export_jobs = [exports_job()] if settings.files is not None else []
    stock_sync = stock_sync_assets(settings)
    history_rebuild = rebuild_job()
    return dg.Definitions(
        assets=[
            *channel_specs(settings),
            *ingest_assets(settings),
            *dbt_defs,
            *publish_assets(settings, mart_keys, check_keys),
            *dashboard_specs(),
            *history_assets(settings),
            *stock_sync,
            # the post-build alert digest, after the publish step and stock sync (its failed pushes)
            *alert_assets(settings, after=[key for a in stock_sync for key in a.keys]),
        ],
        jobs=[everything_job, history_rebuild, *push_jobs, *lean_jobs, *po_jobs, *export_jobs],
        schedules=schedules(settings),
        sensors=[
            *(stock_push_sensor(settings, job) for job in push_jobs),
            *(stock_changes_sensor(settings, job) for job in lean_jobs),
            *(purchase_order_sensor(settings, job) for job in po_jobs),
            *(exports_sensor(settings, job) for job in export_jobs),
            run_failure_alert_sensor(settings),
            history_sensor(history_rebuild),
        ],
        resources={"dbt": dbt_resource()},
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The shipped code location: every asset over the config `load_settings()` finds (SHOPKEEP_CONFIG, else
    ./shopkeep.toml)."""
    return build_definitions(load_settings())
