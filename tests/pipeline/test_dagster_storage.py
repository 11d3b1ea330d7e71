"""The Dagster instance `shopkeep` writes into DAGSTER_HOME stores its event log through
orchestration/dagster_storage.py: the same history as Dagster's default storage, readable by another process, with
a run's own file complete after each write (the Dagster UI follows a run by watching that file) and commits that do
not wait for the disk."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[2]


def test_the_instances_event_log_keeps_every_event_and_a_runs_file_whole(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.cli import dagster_home
    from orchestration.dagster_storage import SqliteEventLogStorage

    monkeypatch.setenv(
        "DAGSTER_HOME", str(tmp_path / "dagster home")
    )  # a space: the path is written into YAML
    home = dagster_home(SimpleNamespace())

    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="stock")])
    def stock():
        yield dg.Output(3)
        yield dg.AssetCheckResult(passed=True, check_name="positive")

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, SqliteEventLogStorage)
        runs = [dg.materialize([stock], instance=instance).run_id for _ in range(3)]
        with instance.event_log_storage.index_connection() as conn:
            assert conn.exec_driver_sql("pragma synchronous").scalar() == 1  # NORMAL: no sync per commit

    for run_id in runs:  # each run's writes are in its own file, not left in a write-ahead log
        assert (home / "history" / "runs" / f"{run_id}.db").stat().st_size > 0
        assert not (home / "history" / "runs" / f"{run_id}.db-wal").exists()
        with sqlite3.connect(home / "history" / "runs" / f"{run_id}.db") as con:
            assert con.execute("select count(*) from event_logs").fetchone()[0] > 5

    # another process reads what this one stored: the materialisations and the check results
    read = subprocess.run(
        [sys.executable, "-c", (
            "import dagster as dg\n"
            "with dg.DagsterInstance.get() as i:\n"
            "    key = dg.AssetKey('stock')\n"
            "    print(len(i.fetch_materializations(key, limit=10).records),"
            " i.event_log_storage.get_latest_asset_check_execution_by_key([dg.AssetCheckKey(key, 'positive')])"
            "[dg.AssetCheckKey(key, 'positive')].run_id)"
        )],
        env={**os.environ, "DAGSTER_HOME": str(home)}, cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert read.returncode == 0, read.stderr[-2000:]
    assert read.stdout.split() == ["3", runs[-1]]
