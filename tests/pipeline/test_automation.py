"""Running unattended (orchestration/schedules.py): the exports folder's sensor starts an import when a file is
dropped, replaced or deleted (not while one is still being copied, nor twice for the same folder); the nightly
refresh rebuilds incremental models from all history; the shipped definitions carry both schedules."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration.schedules import SETTLE_SECONDS, exports_job, exports_sensor, schedules
from orchestration.settings import load_settings
from orchestration.transform import DBT_OP_NAME, DbtBuildConfig, dbt_build_args


@pytest.fixture
def exports(tmp_path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    (tmp_path / "shopkeep.toml").write_text(
        '[warehouse]\nbuild_path = "build.duckdb"\nserve_path = "serve.duckdb"\n\n[files]\ndirectory = "exports"\n',
        encoding="utf-8",
    )
    return folder


def _settled(path: Path) -> None:
    """As if the file had been written a while ago (the sensor waits SETTLE_SECONDS after a change)."""
    past = time.time() - SETTLE_SECONDS - 5
    os.utime(path, (past, past))


def test_a_dropped_replaced_or_deleted_export_starts_one_import_and_a_file_being_copied_waits(exports):
    settings = load_settings(exports.parent / "shopkeep.toml")
    sensor = exports_sensor(settings, exports_job())
    with dg.DagsterInstance.ephemeral() as instance:
        cursor = None

        def tick():
            nonlocal cursor
            context = dg.build_sensor_context(instance=instance, cursor=cursor)
            result = sensor(context)
            cursor = context.cursor
            return result

        assert isinstance(tick(), dg.SkipReason)  # an empty folder
        dropped = exports / "tmall_flagship__orders_2026-11.csv"
        dropped.write_text("订单编号,商家编码\n1,AP-0001-M\n", encoding="utf-8")
        waiting = tick()
        assert isinstance(waiting, dg.SkipReason) and "waiting" in waiting.skip_message  # still being copied?
        (exports / "~$tmall_flagship__orders_2026-11.xlsx").write_text(
            "lock"
        )  # Excel's lock file: not an export
        (exports / ".DS_Store").write_text("x")
        _settled(dropped)
        first = tick()
        assert isinstance(first, dg.RunRequest) and first.tags["shopkeep/exports"] == dropped.name
        assert isinstance(tick(), dg.SkipReason)  # the same folder: nothing new
        dropped.write_text("订单编号,商家编码\n1,AP-0001-M\n2,HM-0002\n", encoding="utf-8")  # replaced
        _settled(dropped)
        second = tick()
        assert isinstance(second, dg.RunRequest) and second.run_key != first.run_key
        dropped.unlink()
        assert isinstance(tick(), dg.RunRequest)  # deleted: the import drops its rows


def test_the_nightly_refresh_rebuilds_incremental_models_from_all_history(exports):
    defaults = load_settings(exports.parent / "shopkeep.toml")
    hourly, nightly_full_refresh = schedules(defaults)
    assert (hourly.cron_schedule, nightly_full_refresh.cron_schedule) == ("5 * * * *", "15 3 * * *")
    assert hourly.execution_timezone == "Asia/Shanghai"
    with dg.DagsterInstance.ephemeral() as instance:
        (request,) = nightly_full_refresh.evaluate_tick(
            dg.build_schedule_context(instance=instance)
        ).run_requests
    assert request.run_config == {"ops": {DBT_OP_NAME: {"config": {"full_refresh": True}}}}
    assert DbtBuildConfig(full_refresh=True).full_refresh
    assert "--full-refresh" in dbt_build_args(None, full_refresh=True)
    assert "--full-refresh" not in dbt_build_args(None)


def test_the_shipped_definitions_schedule_hourly_and_nightly_and_watch_the_exports_folder():
    import orchestration.definitions as module

    defs = module.defs()
    assert defs.resolve_schedule_def("nightly_full_refresh").cron_schedule == "15 3 * * *"
    assert defs.resolve_sensor_def("exports_dropped").job_name == "import_exports"
    job = defs.resolve_job_def("import_exports")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert {"raw_files/orders", "marts/daily_shop_sales", "serve/snapshot"} <= keys
    assert "raw_shopify/orders" not in keys  # the channels' pulls are the hourly refresh's


def test_the_refresh_times_come_from_the_config_and_a_typo_is_refused_naming_the_key(exports):
    from orchestration.settings import ConfigError

    config = exports.parent / "shopkeep.toml"
    base = config.read_text(encoding="utf-8")
    config.write_text(base + '\n[schedule]\nrefresh_cron = "*/15 * * * *"\ntimezone = "Europe/Berlin"\n')
    hourly, nightly = schedules(load_settings(config))
    assert (hourly.cron_schedule, hourly.execution_timezone) == ("*/15 * * * *", "Europe/Berlin")
    assert nightly.cron_schedule == "15 3 * * *"
    for key, value, problem in [("refresh_cron", "every hour", "is not a cron schedule of five fields"),
                                ("full_refresh_cron", "5 * * *", "is not a cron schedule of five fields"),
                                ("timezone", "Shanghai", "is not an IANA timezone")]:  # fmt: skip
        config.write_text(base + f'\n[schedule]\n{key} = "{value}"\n')
        with pytest.raises(ConfigError, match=rf"schedule\.{key}: .*{problem}"):
            load_settings(config)
