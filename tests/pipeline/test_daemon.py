"""`shopkeep daemon` runs shopkeep unattended: it starts the schedules and the Dagster daemon; an export dropped
into the folder is imported, built and published by the daemon's own run (no one calls materialize) and shows on
the dashboard; SIGTERM stops it and everything it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import _with_shops
from tests.dashboards.pages_helper import render_page, tiles

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def _wait(what: str, check, timeout: float, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        assert process.poll() is None, f"the daemon stopped ({process.returncode}): {log.read_text()[-3000:]}"
        text = log.read_text()
        assert "RUN_FAILURE" not in text, text[
            text.index("RUN_FAILURE") - 3000 : text.index("RUN_FAILURE") + 500
        ]
        time.sleep(2)
    raise AssertionError(f"no {what} within {timeout:.0f} s: {log.read_text()[-3000:]}")


def _daily_sales(serve: Path) -> int:
    if not serve.exists():
        return 0
    try:
        with duckdb.connect(str(serve), read_only=True) as con:
            return con.execute(
                "select coalesce(sum(orders), 0) from marts.daily_shop_sales where shop_id = 'tmall_flagship'"
            ).fetchone()[0]
    except duckdb.Error:  # being replaced, or not yet holding the mart
        return 0


def test_the_daemon_imports_a_dropped_export_by_itself_and_stops_with_everything_it_started(
    small_world, tmp_path, monkeypatch
):
    from sandbox.shop.exports import write_history_exports

    exports = tmp_path / "exports"
    exports.mkdir()
    config = tmp_path / "shopkeep.toml"
    config.write_text(
        '[warehouse]\nbuild_path = "build.duckdb"\nserve_path = "serve.duckdb"\nops_path = "ops.sqlite"\n'
        'dlt_dir = "dlt"\n\n[[shops]]\nid = "tmall_flagship"\nchannel = "taobao"\nname = "天猫"\nenabled = false\n\n'
        '[files]\ndirectory = "exports"\n\n[schedule]\nrefresh_cron = "* * * * *"\n',  # a refresh every minute
        encoding="utf-8",
    )
    home = tmp_path / "dagster_home"
    env = {**os.environ, "SHOPKEEP_CONFIG": str(config), "DAGSTER_HOME": str(home),
           "SHOPKEEP_PII_SALT": "daemon-test-salt"}  # fmt: skip
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "shopkeep"), "daemon"], env=env, cwd=REPO, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait("start", lambda: "schedules started" in log.read_text(), 120, process, log)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            running = {
                state.name for state in instance.all_instigator_state() if state.status.value == "RUNNING"
            }
        assert {"hourly_refresh", "nightly_full_refresh"} <= running

        written = write_history_exports(
            _with_shops(small_world, {"tmall_flagship"}), exports, before=date(2026, 7, 1)
        )
        past = time.time() - 60  # written a minute ago: not a file still being copied
        for path in written:
            os.utime(path, (past, past))
        orders = _wait("published sales", lambda: _daily_sales(tmp_path / "serve.duckdb"), 540, process, log)
        assert orders > 0

        at = render_page(tmp_path / "serve.duckdb", "overview", monkeypatch, lang="en")
        assert tiles(at)["Orders"] != "0"

        def scheduled_runs():  # the refresh the daemon's scheduler started by itself, run to its end
            with dg.DagsterInstance.get() as instance:
                runs = instance.get_runs(dg.RunsFilter(tags={"dagster/schedule_name": "hourly_refresh"}))
                return [r for r in runs if r.status == dg.DagsterRunStatus.SUCCESS]

        assert _wait("a scheduled refresh", scheduled_runs, 300, process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    import re

    groups = re.search(r"process groups ([\d, ]+)\)", log.read_text()).group(1).split(", ")
    for pgid in [str(process.pid), *groups]:
        left = subprocess.run(["pgrep", "-g", pgid], capture_output=True, text=True).stdout.split()
        assert left == [], f"processes of group {pgid} still running: {left}"
