"""The serving file: published atomically, readable while build.duckdb is being written."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import publish_serving_file


def make_build(path: Path, revenue: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists staging")
        con.execute(
            "create or replace table marts.daily_shop_sales (shop_id varchar, net_revenue_cny decimal(18,2))"
        )
        con.execute("insert into marts.daily_shop_sales values ('shopify_global', ?)", [Decimal(revenue)])
        con.execute("create or replace table staging.secret_stuff (x int)")


def revenue(serve: Path) -> Decimal:
    with duckdb.connect(str(serve), read_only=True) as con:
        return con.execute("select sum(net_revenue_cny) from marts.daily_shop_sales").fetchone()[0]


def test_publish_copies_the_marts_with_exact_decimals_and_nothing_else(tmp_path):
    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    make_build(build, "1234567.89")
    counts = publish_serving_file(build, serve)
    assert counts == {"marts.daily_shop_sales": 1}
    assert revenue(serve) == Decimal("1234567.89")
    with duckdb.connect(str(serve), read_only=True) as con:
        schemas = {
            r[0]
            for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
        published = con.execute("select tables from meta.publish_log").fetchone()[0]
    assert schemas == {"marts", "meta"}
    assert published == "marts.daily_shop_sales"
    assert not list(tmp_path.glob(".serve.duckdb*")), "no temporary file is left behind"


def test_a_reader_keeps_its_snapshot_while_a_new_one_is_published(tmp_path):
    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    make_build(build, "100.00")
    publish_serving_file(build, serve)
    with duckdb.connect(str(serve), read_only=True) as old_reader:
        make_build(build, "200.00")
        publish_serving_file(build, serve)
        assert old_reader.execute("select sum(net_revenue_cny) from marts.daily_shop_sales").fetchone()[
            0
        ] == Decimal("100.00")
    assert revenue(serve) == Decimal("200.00")


def test_the_serving_file_answers_while_another_process_writes_build_duckdb(tmp_path):
    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    make_build(build, "42.00")
    publish_serving_file(build, serve)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys
                con = duckdb.connect({str(build)!r})
                con.execute("create table if not exists staging.busy (i int)")
                print("writing", flush=True)
                for i in range(1_000_000):
                    con.execute("insert into staging.busy values (?)", [i])
                    if sys.stdin.closed: break
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        # the build file is locked by the writer: that is why dashboards never open it
        with pytest.raises(duckdb.IOException):
            duckdb.connect(str(build), read_only=True)
        for _ in range(20):
            assert revenue(serve) == Decimal("42.00")
        assert writer.poll() is None, "the writer was still writing while we read"
    finally:
        writer.kill()
        writer.wait()


def test_publishing_an_empty_build_is_refused_with_a_hint(tmp_path):
    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    duckdb.connect(str(build)).close()
    with pytest.raises(RuntimeError, match="shopkeep materialize"):
        publish_serving_file(build, serve)
    assert not serve.exists()


def test_the_dashboards_query_layer_serves_through_20_publishes_under_steady_load_with_zero_errors(tmp_path):
    """Four threads query the serving file through the dashboards' own connection layer (a cursor per query on the
    snapshot it finds) as fast as they can, and another process reads it too, while a build is published 20
    times: no query fails, and each answer is a whole published snapshot (one of the published revenues, never
    a half-written file)."""
    import threading

    from dashboards.queries.serving import _one, release_snapshots

    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    make_build(build, "1.00")
    publish_serving_file(build, serve)
    published = {Decimal("1.00")}
    errors: list[str] = []
    answers: list[Decimal] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                answers.append(_one(serve, "select sum(net_revenue_cny) from marts.daily_shop_sales")[0])
            except Exception as exc:  # noqa: BLE001 - any failure is what the test counts
                errors.append(f"{type(exc).__name__}: {exc}")

    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time, duckdb
            end = time.monotonic() + 600
            while time.monotonic() < end:
                with duckdb.connect({str(serve)!r}, read_only=True) as con:
                    con.execute("select sum(net_revenue_cny) from marts.daily_shop_sales").fetchone()
        """)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for n in range(2, 22):
            make_build(build, f"{n}.00")
            publish_serving_file(build, serve)
            published.add(Decimal(f"{n}.00"))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        still_reading = reader.poll() is None
        reader.kill()
        release_snapshots()
    assert errors == [], errors[:5]
    assert still_reading, f"the other process's reads failed: {reader.stderr.read()[-2000:]}"
    assert len(answers) > 100 and set(answers) <= published
    assert revenue(serve) == Decimal("21.00")
