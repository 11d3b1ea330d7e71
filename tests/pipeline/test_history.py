"""History backfills (orchestration/history.py): a range of a shop's days re-read from every channel's sandbox
into the raw tables, as Dagster daily partitions, without moving the hourly pull's cursor, without duplicating a
row, refusing days the platform no longer keeps (they come from exports), and followed by one full rebuild."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest

from orchestration.history import history_asset, history_sensor, rebuild_job
from orchestration.ingest import channel_connector, connector_kwargs
from orchestration.settings import ConfigError
from tests.conftest import PIPELINE_HISTORY_DAYS, in_memory_instance

KEYS = {
    "taobao": {"orders": "tid", "refunds": "refund_id", "settlements": "account_log_id"},
    "jd": {"orders": "order_id", "refunds": "id", "settlements": "bill_line_id, occurrence"},
    "pinduoduo": {"orders": "order_sn", "refunds": "id", "settlements": "id"},
    "douyin": {"orders": "order_id", "refunds": "aftersale_id", "settlements": "request_no"},
    "shopify": {"orders": "id"},
}


@pytest.fixture(scope="module")
def stack(pipeline_world, tmp_path_factory, start_stack):
    stack = start_stack(pipeline_world, tmp_path_factory.mktemp("history"))
    yield stack
    for server in stack.servers.values():
        server.stop()


def _keys(build, channel: str, table: str) -> list[tuple]:
    with duckdb.connect(str(build), read_only=True) as con:
        return con.execute(f"select shop_id, {KEYS[channel][table]} from raw_{channel}.{table}").fetchall()


def _backfill(settings, shop, first: date, last: date, instance, today: date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [history_asset(settings, shop, today)],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=False,
    )


def test_a_range_of_days_is_read_from_every_channel_once_and_the_hourly_cursor_stays(stack, yesterday):
    settings = stack.settings()
    today = yesterday + timedelta(days=1)
    first, last = yesterday - timedelta(days=9), yesterday - timedelta(days=7)
    with in_memory_instance() as instance:
        for shop in settings.enabled_shops:
            result = _backfill(settings, shop, first, last, instance, today)
            assert result.success, shop.id
            # one run for the range; each day is recorded as materialised
            materializations = result.asset_materializations_for_node(f"history__{shop.id}")
            assert sorted(m.partition for m in materializations) == [
                (first + timedelta(days=n)).isoformat() for n in range(3)
            ]
            assert materializations[0].metadata["days_read"].value == f"{first}…{last}"
            assert materializations[0].metadata["rows_read"].value > 0
    once = {
        (s.channel, t): _keys(settings.build_path, s.channel, t)
        for s in settings.enabled_shops
        for t in KEYS[s.channel]
    }
    assert all(once[(s.channel, "orders")] for s in settings.enabled_shops)
    for rows in once.values():
        assert len(rows) == len(set(rows))

    # Taobao's trades are those modified in the range, in the shop's days (TOP's times are Beijing time)
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        low, high = con.execute("select min(modified), max(modified) from raw_taobao.orders").fetchone()
    assert f"{first} 00:00:00" <= low and high < f"{last + timedelta(days=1)} 00:00:00"

    # the same days again: the same rows, none twice
    with in_memory_instance() as instance:
        for shop in settings.enabled_shops:
            assert _backfill(settings, shop, first, last, instance, today).success
    again = {key: _keys(settings.build_path, *key) for key in once}
    assert {k: sorted(v) for k, v in again.items()} == {k: sorted(v) for k, v in once.items()}

    # the hourly pull after it starts where it always does (its first load reads the whole online window): more
    # rows than the backfill read, older ones too, and still none twice
    tmall = next(s for s in settings.enabled_shops if s.channel == "taobao")
    from connectors.common.loading import warehouse_pipeline

    pipeline = warehouse_pipeline(tmall.id, "raw_taobao", settings.build_path, settings.dlt_dir)
    channel_connector("taobao").load_shop(pipeline, **connector_kwargs(settings, tmall, resolve_secrets=True))
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        total, distinct, oldest = con.execute(
            "select count(*), count(distinct tid), min(modified) from raw_taobao.orders"
        ).fetchone()
    assert total == distinct > len(once[("taobao", "orders")])
    assert oldest < f"{first - timedelta(days=10)}"


def test_days_older_than_the_platform_keeps_are_named_and_left_to_the_exports(stack, yesterday, tmp_path):
    settings = stack.settings()
    today = yesterday + timedelta(days=1)
    jd = next(s for s in settings.enabled_shops if s.channel == "jd")
    oldest = today - timedelta(days=PIPELINE_HISTORY_DAYS - 1)
    from orchestration.history import load_history

    with pytest.raises(ConfigError, match=r"older than the 30 days jd keeps online .*exported files"):
        load_history(settings, jd, oldest - timedelta(days=5), oldest - timedelta(days=1), today)
    metadata = load_history(settings, jd, oldest - timedelta(days=2), oldest + timedelta(days=1), today)
    assert metadata["days_read"] == f"{oldest}…{oldest + timedelta(days=1)}"
    assert metadata["days_left_out"].startswith(f"{oldest - timedelta(days=2)}…{oldest - timedelta(days=1)} ")
    # as a Dagster run, the failure is the step's, with the same message
    with in_memory_instance() as instance:
        result = _backfill(
            settings, jd, oldest - timedelta(days=5), oldest - timedelta(days=1), instance, today
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "exported files" in str(failure.step_failure_data.error)


def _sensor_after(result: dg.ExecuteInProcessResult, instance):
    sensor = history_sensor(rebuild_job())
    (success,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS]
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=success,
    )
    return sensor(context)


def test_a_finished_backfill_starts_one_full_rebuild_and_other_runs_none(stack, yesterday):
    settings = stack.settings()
    shopify = next(s for s in settings.enabled_shops if s.channel == "shopify")

    @dg.asset(key=["marts", "daily_shop_sales"])
    def not_history() -> None:
        return None

    with dg.DagsterInstance.ephemeral() as instance:
        backfill = _backfill(settings, shopify, yesterday, yesterday, instance, yesterday + timedelta(days=1))
        assert backfill.success
        request = _sensor_after(backfill, instance)
        assert isinstance(request, dg.RunRequest)
        assert (
            request.run_key == f"rebuild-after-{backfill.dagster_run.run_id}"
        )  # one rebuild per backfill run
        other = dg.materialize([not_history], instance=instance)
        assert isinstance(_sensor_after(other, instance), dg.SkipReason)
    # the rebuild reads no API and no history, and rebuilds the incremental models from all history
    from orchestration.definitions import build_definitions
    from orchestration.transform import DBT_OP_NAME

    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    job = rebuild_job()
    keys = job.selection.resolve(graph)
    assert any(k.path[0] == "serve" for k in keys)
    assert any(k.path[0] == "marts" for k in keys)
    assert not any(k.path[0] in ("history", "raw_taobao", "raw_shopify", "raw_wms") for k in keys)
    assert job.config == {"ops": {DBT_OP_NAME: {"config": {"full_refresh": True}}}}
