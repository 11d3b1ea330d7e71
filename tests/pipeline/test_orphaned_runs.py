"""A `shopkeep materialize` killed mid-run leaves its Dagster run STARTED and its `warehouse` pool slot
claimed; the next materialize must fail that run and free the slot, or it would wait for the slot forever."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from orchestration.cli import HOST_TAG, PID_TAG, release_orphaned_runs


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _started_run(instance, run_id: str, tags: dict[str, str]) -> None:
    instance.add_run(
        DagsterRun(job_name="__ASSET_JOB", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags)
    )
    instance.event_log_storage.claim_concurrency_slot("warehouse", run_id, f"step_{run_id}")


def test_a_killed_cli_run_is_failed_and_its_pool_slot_freed_but_live_and_daemon_runs_are_left():
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots("warehouse", 3)
        host = socket.gethostname()
        _started_run(instance, "killed", {PID_TAG: str(_dead_pid()), HOST_TAG: host})
        _started_run(instance, "alive", {PID_TAG: str(os.getpid()), HOST_TAG: host})
        _started_run(instance, "daemon", {})

        assert release_orphaned_runs(instance) == ["killed"]

        assert instance.get_run_by_id("killed").status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id("alive").status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id("daemon").status == dg.DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_run_ids() == {"alive", "daemon"}
        assert release_orphaned_runs(instance) == []  # nothing left to release
