"""`shopkeep daemon` runs shopkeep unattended: it starts the schedules and the Dagster daemon; an export dropped
into the folder is imported, built and published by the daemon's own run (no one calls materialize) and shows on
the dashboard; SIGTERM stops it and everything it started."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import _with_shops
from tests.dashboards.pages_helper import render_page, tiles

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def _wait(what: str, check, timeout: float, process: subprocess.Popen, log: Path, failures_expected=False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        assert process.poll() is None, f"the daemon stopped ({process.returncode}): {log.read_text()[-3000:]}"
        text = log.read_text()
        assert failures_expected or "RUN_FAILURE" not in text, text[
            text.index("RUN_FAILURE") - 3000 : text.index("RUN_FAILURE") + 500
        ]
        time.sleep(2)
    raise AssertionError(f"no {what} within {timeout:.0f} s: {log.read_text()[-3000:]}")


def _daily_sales(serve: Path, before=None) -> int:
    """The Tmall shop's published orders (those of days before `before`, if given)."""
    if not serve.exists():
        return 0
    try:
        with duckdb.connect(str(serve), read_only=True) as con:
            return con.execute(
                "select coalesce(sum(orders), 0) from marts.daily_shop_sales where shop_id = 'tmall_flagship' "
                "and order_date < coalesce(?, date '9999-12-31')",
                [before],
            ).fetchone()[0]
    except duckdb.Error:  # being replaced, or not yet holding the mart
        return 0


def _runs(home: Path, status) -> list:
    """The runs the daemon's scheduler started by itself (hourly_refresh), with this status."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/schedule_name": "hourly_refresh"}))
        return [r for r in runs if r.status == status]


def _ticks_done(home: Path, sensor: str, after: float) -> list:
    """The sensor's evaluations that started after `after` and have ended."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        state = next(s for s in instance.all_instigator_state() if s.name == sensor)
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=after)
        return [tick for tick in ticks if tick.status.value != "STARTED"]


def _pushes(ops: Path) -> int:
    if not ops.exists():
        return 0
    with sqlite3.connect(ops) as con:
        try:
            return con.execute("select count(*) from stock_pushes").fetchone()[0]
        except sqlite3.OperationalError:  # not created yet
            return 0


@pytest.mark.timeout(3000)  # several scheduled builds one after another, on 2 cores busy with other tests
def test_the_daemon_runs_by_itself_imports_a_dropped_export_blocks_a_push_on_a_failed_check_and_says_so_once(
    pipeline_world, tmp_path, monkeypatch, start_stack
):
    """Issue 16's acceptance, over the Taobao and WMS sandboxes and two alert robots, with a refresh every minute
    (an hour of the schedule each): the scheduler's own refreshes pull, build, publish and push stock; a dropped
    export reaches the dashboard; then the WMS starts listing a movement type no check knows, the next refreshes
    (and the export import) fail that check, no stock is pushed, and each robot gets one message about it (the
    runs failing the same way after it are repeats: tests/writeback/test_alerts.py); SIGTERM stops everything."""
    import dagster as dg
    import httpx
    import time_machine

    from sandbox.robots import DingTalkRobot, create_app
    from sandbox.runner import start
    from sandbox.shop.exports import write_history_exports
    from tests.conftest import Setup

    # the shop ending yesterday (the WMS keeps two weeks of closing stock: stock sync needs a recent one)
    stack = start_stack(pipeline_world, tmp_path, setup=Setup(api_shops=("tmall_flagship",), export_shops=()))
    # the daemon runs on the real clock: the robots check DingTalk's signature time against it
    robots = start(
        create_app(dingtalk={"ding-token": DingTalkRobot("ops", secret="ding-secret")}, wecom={"wecom-key": "team"},
                   clock=time_machine.escape_hatch.time.time),
        "robots-daemon",
    )  # fmt: skip
    exports = tmp_path / "exports"
    exports.mkdir()
    # the export the seller will drop, written beforehand (writing Excel files takes a while on a busy machine:
    # the drop itself is a move, so the daemon's first refresh can see it)
    staged = tmp_path / "staged"
    written = write_history_exports(
        _with_shops(pipeline_world, {"tmall_flagship"}), staged, before=stack.export_before
    )
    config = stack.config_path
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[files]\ndirectory = "exports"\n\n[schedule]\nrefresh_cron = "* * * * *"\n\n'
        '[stock_sync]\npush = "after_build"\n\n[alerts]\n\n'
        '[[alerts.robots]]\nname = "ops"\nkind = "dingtalk"\nurl_env = "DING_URL"\nsecret_env = "DING_SECRET"\n'
        'kinds = ["run_failed"]\n\n'
        '[[alerts.robots]]\nname = "team"\nkind = "wecom"\nurl_env = "WECOM_URL"\nkinds = ["run_failed"]\n',
        encoding="utf-8",
    )
    home = tmp_path / "dagster_home"
    env = {
        **os.environ, "SHOPKEEP_CONFIG": str(config), "DAGSTER_HOME": str(home),
        "SHOPKEEP_PII_SALT": "daemon-test-salt", "DING_SECRET": "ding-secret",
        "DING_URL": f"{robots.url}/robot/send?access_token=ding-token",
        "WECOM_URL": f"{robots.url}/cgi-bin/webhook/send?key=wecom-key",
    }  # fmt: skip
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "shopkeep"), "daemon"], env=env, cwd=REPO, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait("start", lambda: "schedules started" in log.read_text(), 120, process, log)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            running = {
                state.name for state in instance.all_instigator_state() if state.status.value == "RUNNING"
            }
        assert {"hourly_refresh", "nightly_full_refresh"} <= running  # the sensors run by default

        # an export dropped into the folder (the history older than the API keeps) while the daemon runs
        past = time.time() - 60  # written a minute ago: not a file still being copied
        for path in written:
            dropped = exports / path.relative_to(staged)
            dropped.parent.mkdir(parents=True, exist_ok=True)
            os.utime(path, (past, past))
            path.rename(dropped)

        # a refresh the scheduler started pulls, builds, publishes and pushes stock to the channel, and the
        # export's days (before the API's window) reach the dashboard
        serve = tmp_path / "serve.duckdb"
        assert _wait(
            "a scheduled refresh with the export",
            lambda: _runs(home, dg.DagsterRunStatus.SUCCESS) and _daily_sales(serve, before=stack.export_before),
            1200, process, log,  # a build alongside the other tests takes 3-4 minutes on a slow machine
        )  # fmt: skip
        assert _pushes(tmp_path / "ops.sqlite") > 0
        at = render_page(serve, "overview", monkeypatch, lang="en")
        assert tiles(at)["Orders"] != "0"

        # the WMS starts listing a movement type the checks do not know
        answer = httpx.post(
            f"{stack.servers['wms'].url}/_sandbox/movements",
            json={"warehouse": "WH-SH", "merchant_code": str(pipeline_world.stock_snapshots["sku"].iloc[0]), "type": "transfer",
                  "quantity": 5, "new_type": True},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        _wait("a refresh failing its check", lambda: _runs(home, dg.DagsterRunStatus.FAILURE), 900,
                       process, log, failures_expected=True)  # fmt: skip
        pushed = _pushes(tmp_path / "ops.sqlite")

        def messages() -> list[dict]:
            return httpx.get(f"{robots.url}/_sandbox/messages").json()["messages"]

        _wait("the robots' messages", lambda: len(messages()) >= 2, 120, process, log, True)
        sent = time.time()
        # the run-failure sensor's next look (every 30 s): a repeat of the same failure would be sent by then
        _wait("the failure sensor's next look", lambda: _ticks_done(home, "alert_run_failures", after=sent), 90,
              process, log, True)  # fmt: skip
        got = messages()
        assert sorted(m["robot"] for m in got) == ["ops", "team"], got
        for message in got:
            text = message.get("text") or message.get("content") or str(message)
            assert "accepted_values_stg_wms__stock_movements_movement_type" in text, text
        assert _pushes(tmp_path / "ops.sqlite") == pushed
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        robots.stop()
        for server in stack.servers.values():
            server.stop()
    _assert_nothing_left(process, log)


def _assert_nothing_left(process: subprocess.Popen, log: Path) -> None:
    import re

    groups = re.search(r"process groups ([\d, ]+)\)", log.read_text()).group(1).split(", ")
    for pgid in [str(process.pid), *groups]:
        left = subprocess.run(["pgrep", "-g", pgid], capture_output=True, text=True).stdout.split()
        assert left == [], f"processes of group {pgid} still running: {left}"
