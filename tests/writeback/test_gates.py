"""Quality gates (orchestration/gates.py): stock pushes and purchase orders refuse to act on a published build
whose dbt checks failed upstream of the marts they read, naming each check; a warning, a failure elsewhere in the
project or a snapshot without check results does not block."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration.gates import (
    PURCHASING_READS,
    STOCK_SYNC_READS,
    GateClosed,
    blocking_failures,
    require_passing,
    upstream_of,
)
from orchestration.publish import CHECK_RESULTS_DDL


def _snapshot(path: Path, checks: list[tuple[str, str, bool, str, int | None]]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema meta")
        con.execute(CHECK_RESULTS_DDL)
        for asset, name, passed, severity, rows in checks:
            con.execute(
                "insert into meta.check_results values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    asset,
                    name,
                    "succeeded" if passed else "failed",
                    passed,
                    severity,
                    rows,
                    datetime.now(UTC),
                    "r1",
                ],
            )
    return path


def test_the_lineage_reaches_from_the_marts_a_sender_reads_back_to_the_raw_tables():
    stock = upstream_of(STOCK_SYNC_READS)
    assert {
        "marts/inventory_health_by_warehouse",
        "staging/stg_wms__stock_snapshots",
        "raw_wms/stock_snapshots",
    } <= stock
    assert "marts/customer_cohorts" not in stock and "marts/purchase_order_drafts" not in stock
    assert {"marts/purchase_order_drafts", "marts/replenishment_suggestions"} <= upstream_of(PURCHASING_READS)


def test_a_failed_error_check_upstream_blocks_and_is_named_and_nothing_else_blocks(tmp_path):
    serve = _snapshot(tmp_path / "serve.duckdb", [
        ("staging/stg_wms__stock_snapshots", "not_null_stg_wms__stock_snapshots", False, "ERROR", 3),
        ("marts/customer_cohorts", "not_null_customer_cohorts", False, "ERROR", 1),  # not read by stock sync
        ("marts/channel_listings", "non_negative_channel_listings_quantity", False, "WARN", 2),  # a warning
        ("marts/kit_components", "unique_kit_components_kit_component_id", True, "ERROR", 0),
    ])  # fmt: skip
    assert blocking_failures(serve, STOCK_SYNC_READS) == [
        "not_null_stg_wms__stock_snapshots (staging/stg_wms__stock_snapshots, 3 rows)"
    ]
    # the drafts are built on the same stock: the purchase orders' gate closes too; the cohorts' failure is elsewhere
    assert blocking_failures(serve, PURCHASING_READS) == blocking_failures(serve, STOCK_SYNC_READS)
    with pytest.raises(GateClosed, match=r"stock push refused: the published build failed 1 check\(s\)"):
        require_passing(serve, STOCK_SYNC_READS, "stock push")
    # without a dbt manifest to give the lineage, every failed ERROR check blocks (the safe side)
    assert len(blocking_failures(serve, STOCK_SYNC_READS, manifest_path=tmp_path / "missing.json")) == 2
    assert blocking_failures(_snapshot(tmp_path / "old.duckdb", []), STOCK_SYNC_READS) == []
    with duckdb.connect(str(tmp_path / "bare.duckdb")) as con:  # published without check results
        con.execute("create schema marts")
    assert blocking_failures(tmp_path / "bare.duckdb", STOCK_SYNC_READS) == []


def _config(tmp_path: Path, serve: Path) -> Path:
    config = tmp_path / "shopkeep.toml"
    config.write_text(
        f'[warehouse]\nbuild_path = "build.duckdb"\nserve_path = "{serve}"\nops_path = "ops.sqlite"\n\n'
        '[wms]\nbase_url = "http://127.0.0.1:9"\ntoken_env = "WMS_TOKEN"\nwarehouses = ["WH-SH"]\n\n'
        '[[suppliers]]\nid = "SUP-01"\nwebhook_url = "http://127.0.0.1:9/po"\nsecret_env = "SUPPLIER_SECRET"\n',
        encoding="utf-8",
    )
    return config


def test_stock_push_and_making_purchase_orders_refuse_a_build_that_failed_its_checks(tmp_path, monkeypatch):
    import pandas as pd

    from orchestration.cli import app

    serve = _snapshot(tmp_path / "serve.duckdb", [
        ("staging/stg_wms__stock_snapshots", "not_null_stg_wms__stock_snapshots", False, "ERROR", 3),
        ("intermediate/int_sku_demand_daily", "not_null_int_sku_demand_daily", False, "ERROR", 7),
    ])  # fmt: skip
    with duckdb.connect(str(serve)) as con:  # one approved-able draft, so a refusal is not an empty run
        con.execute("create schema marts")
        con.register(
            "d", pd.DataFrame([{"draft_id": "D1", "supplier_id": "SUP-01", "sku": "A", "quantity": 5}])
        )
        con.execute("create table marts.purchase_order_drafts as select * from d")
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(_config(tmp_path, serve)))
    monkeypatch.setenv("WMS_TOKEN", "t")
    monkeypatch.setenv("SUPPLIER_SECRET", "s")
    monkeypatch.setenv("COLUMNS", "300")

    pushed = CliRunner().invoke(app, ["stock", "push"])
    assert pushed.exit_code == 2, pushed.output  # a user error: one line, no traceback
    assert "stock push refused" in pushed.output and "not_null_stg_wms__stock_snapshots" in pushed.output
    assert "Traceback" not in pushed.output

    from orchestration.purchasing import send_purchase_orders, waiting_to_send
    from orchestration.settings import load_settings
    from writeback.ops_store import decide, record

    settings = load_settings(tmp_path / "shopkeep.toml")
    record(
        settings.ops_path, decide(draft_id="D1", sku="A", supplier_id="SUP-01", suggested_qty=5, quantity=5)
    )
    assert waiting_to_send(settings) == 0  # the sensor does not start runs that would only be refused
    run = send_purchase_orders(settings)
    assert run.made == [] and run.sent == []
    assert "making purchase orders from the drafts refused" in run.refused
    assert "not_null_int_sku_demand_daily (intermediate/int_sku_demand_daily, 7 rows)" in run.refused


def test_a_failing_check_blocks_the_stock_push_and_raises_one_dingtalk_and_one_wecom_message(
    tmp_path, monkeypatch
):
    """Issue 16's chain without a daemon: the build published a snapshot whose stock data failed a check; the
    `writeback/stock_sync` asset (push = "after_build") refuses to push and its run fails naming the check; the
    run-failure sensor sends one digest to each robot (a signed DingTalk robot, a WeCom group robot)."""
    from dataclasses import replace

    import dagster as dg
    import httpx

    from orchestration.alerts import run_failure_alert_sensor
    from orchestration.settings import load_settings
    from orchestration.writeback import stock_sync_assets
    from sandbox.robots import DingTalkRobot, create_app
    from sandbox.runner import start

    serve = _snapshot(tmp_path / "serve.duckdb", [
        ("staging/stg_wms__stock_snapshots", "not_null_stg_wms__stock_snapshots", False, "ERROR", 3),
    ])  # fmt: skip
    robots = start(create_app(dingtalk={"ding-token": DingTalkRobot("ops", secret="ding-secret")},
                              wecom={"wecom-key": "warehouse"}), "robots-gate")  # fmt: skip
    try:
        (tmp_path / "shopkeep.toml").write_text(
            f'[warehouse]\nserve_path = "{serve}"\nops_path = "ops.sqlite"\n\n'
            '[wms]\nbase_url = "http://127.0.0.1:9"\ntoken_env = "WMS_TOKEN"\nwarehouses = ["WH-SH"]\n\n'
            '[stock_sync]\npush = "after_build"\n\n[alerts]\n\n'
            '[[alerts.robots]]\nname = "ops"\nkind = "dingtalk"\nurl_env = "DING_URL"\nsecret_env = "DING_SECRET"\n\n'
            '[[alerts.robots]]\nname = "warehouse"\nkind = "wecom"\nurl_env = "WECOM_URL"\n',
            encoding="utf-8",
        )
        monkeypatch.setenv("WMS_TOKEN", "t")
        monkeypatch.setenv("DING_URL", f"{robots.url}/robot/send?access_token=ding-token")
        monkeypatch.setenv("DING_SECRET", "ding-secret")
        monkeypatch.setenv("WECOM_URL", f"{robots.url}/cgi-bin/webhook/send?key=wecom-key")
        settings = load_settings(tmp_path / "shopkeep.toml")
        assert replace(settings).stock_sync.push == "after_build"
        sensor = run_failure_alert_sensor(settings)
        with dg.instance_for_test() as instance:
            result = dg.materialize(stock_sync_assets(settings), instance=instance, raise_on_error=False)
            assert not result.success
            failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
            (step,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            assert "stock push refused" in str(step.event_specific_data.error)
            assert "not_null_stg_wms__stock_snapshots" in str(step.event_specific_data.error)
            sensor(dg.build_run_status_sensor_context(
                sensor_name=sensor.name, dagster_event=failure, dagster_instance=instance,
                dagster_run=result.dagster_run,
            ).for_run_failure())  # fmt: skip
        got = httpx.get(f"{robots.url}/_sandbox/messages").json()["messages"]
        assert sorted(m["robot"] for m in got) == ["ops", "warehouse"]  # one message each
        assert all(
            result.run_id in m["text"] and "not_null_stg_wms__stock_snapshots" in m["text"] for m in got
        )
    finally:
        robots.stop()
