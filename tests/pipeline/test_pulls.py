"""The API pulls run at once (orchestration/ingest.py `run_pulls`): each source in its own thread, the warehouse
written by one at a time, every row loaded once; each pull reports its progress (windows planned and read, rows)
to the collector the CLI draws its bars from; a pull that fails leaves the others loaded and is named."""

from __future__ import annotations

import dataclasses
import threading
import time

import duckdb
import pytest
from rich.console import Console

from orchestration.ingest import SerialLoads, pulls, run_pulls
from orchestration.progress import PullBars


@pytest.fixture(scope="module")
def stack(pipeline_world, tmp_path_factory, start_stack):
    stack = start_stack(pipeline_world, tmp_path_factory.mktemp("pulls"))
    yield stack
    for server in stack.servers.values():
        server.stop()


def test_every_source_is_pulled_at_once_with_one_writer_and_a_bar_each(stack, built_warehouse, monkeypatch):
    settings = stack.settings()
    spans: dict[str, list[float]] = {}
    writers, most = [0], [0]
    guard = threading.Lock()

    def timed(pull):
        def load(pipeline):
            spans[pull.label] = [time.monotonic()]
            try:
                return pull.load(pipeline)
            finally:
                spans[pull.label].append(time.monotonic())

        return dataclasses.replace(pull, load=load)

    real_load = SerialLoads.run

    def counting_run(self, data, **kwargs):  # how many pipelines write build.duckdb at the same moment
        if getattr(self._pipeline, "counted", False):
            return real_load(self, data, **kwargs)
        self._pipeline.counted = True
        original = self._pipeline.load

        def load(*args, **kw):
            with guard:
                writers[0] += 1
                most[0] = max(most[0], writers[0])
            try:
                return original(*args, **kw)
            finally:
                with guard:
                    writers[0] -= 1

        self._pipeline.load = load
        return real_load(self, data, **kwargs)

    monkeypatch.setattr(SerialLoads, "run", counting_run)
    bars = PullBars(Console(file=open("/dev/null", "w"), force_terminal=True))
    collectors = {}

    def collector(label):
        collectors[label] = bars.collector(label)
        return collectors[label]

    chosen = [timed(p) for p in pulls(settings)]
    assert [p.label for p in chosen] == [s.id for s in settings.enabled_shops] + ["wms"]
    with bars:
        failed = run_pulls(settings, chosen, lambda message: None, collector)
    assert failed == []
    # at once: every pull had started before the first one ended; one writer at a time
    assert max(start for start, _ in spans.values()) < min(end for _, end in spans.values())
    assert most[0] == 1
    # each bar: the marketplaces' windows all read, and rows counted; the progress ends full
    for label, bar in collectors.items():
        task = bars.progress.tasks[bar.task]
        assert task.finished and bar.rows > 0, label
        if label not in ("shopify_global", "wms"):
            assert sum(bar.planned.values()) == sum(bar.done.values()) > 0, label
    # every row once, and as many as the shared build (pulled one source after another) has; that build ran
    # minutes earlier on the ticking clock, so the oldest online minute may hold an order more or less
    keys = {"raw_taobao.orders": "tid", "raw_jd.orders": "order_id", "raw_pinduoduo.orders": "order_sn",
            "raw_douyin.orders": "order_id", "raw_shopify.orders": "id", "raw_wms.stock_movements": "id"}  # fmt: skip
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        here = {
            t: con.execute(f"select count(*), count(distinct {k}) from {t}").fetchone()
            for t, k in keys.items()
        }
    with duckdb.connect(str(built_warehouse.build_path), read_only=True) as con:
        shared = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in keys}
    for table, (rows, distinct) in here.items():
        assert rows == distinct > 0, table
        assert abs(rows - shared[table]) <= 2, (table, rows, shared[table])


def test_a_failed_pull_is_named_and_the_others_are_loaded(stack, tmp_path):
    settings = dataclasses.replace(
        stack.settings(), build_path=tmp_path / "build.duckdb", dlt_dir=tmp_path / "dlt"
    )
    chosen = pulls(settings)

    def refused(pipeline):
        raise RuntimeError("JD shop jd_pop: the gateway refused the access token (JD_POP_TOKEN)")

    chosen = [dataclasses.replace(p, load=refused) if p.label == "jd_pop" else p for p in chosen]
    failed = run_pulls(settings, chosen, lambda message: None)
    assert [(pull.label, str(error)) for pull, error in failed] == [
        ("jd_pop", "JD shop jd_pop: the gateway refused the access token (JD_POP_TOKEN)")
    ]
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        assert con.execute("select count(*) from raw_taobao.orders").fetchone()[0] > 0
        schemas = {
            s for (s,) in con.execute("select schema_name from information_schema.schemata").fetchall()
        }
    assert "raw_jd" not in schemas
