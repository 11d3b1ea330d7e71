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


def marts(path: Path) -> dict[str, list[tuple]]:
    """Every marts table of `path`, its rows sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {
            name: sorted(con.execute(f"select * from marts.{name}").fetchall(), key=repr) for name in names
        }


def test_a_publish_patches_the_previous_snapshot_and_serves_exactly_the_build(tmp_path, monkeypatch):
    """The second publish starts from the first's file: an unchanged table is kept, a large table that changed in
    a few rows is patched, one that changed in most is copied, as are a table whose columns changed and a table
    whose rows repeat alike (a patch cannot tell those apart: its result is checked and copied again); a mart the
    build dropped is dropped. A view of the build is published as a table and patched alike. Every table equals the build's, row for row, as a publish from nothing gives it."""
    import orchestration.publish as publish

    monkeypatch.setattr(publish, "PATCH_MIN_ROWS", 10)
    patched: list[str] = []
    real_patch = publish._patch
    monkeypatch.setattr(
        publish,
        "_patch",
        lambda con, target, *args, **kw: patched.append(target) or real_patch(con, target, *args, **kw),
    )
    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.lines as select i as line_id, 'SKU-' || (i % 7) as sku, "
            "cast(i * 1.25 as decimal(18, 2)) as amount, case when i % 5 = 0 then null else i end as maybe "
            "from range(1000) as t(i)"
        )
        con.execute("create table marts.same as select i from range(50) as t(i)")
        con.execute("create table marts.mostly_new as select i from range(40) as t(i)")
        con.execute("create table marts.retyped as select i from range(40) as t(i)")
        con.execute("create table marts.repeats as select i % 3 as i from range(30) as t(i)")
        con.execute("create table marts.dropped as select 1 as i")
        con.execute("create view marts.first_lines as select * from marts.lines where line_id < 500")
    publish.publish_serving_file(build, serve)
    assert patched == []

    with duckdb.connect(str(build)) as con:
        con.execute("update marts.lines set amount = amount + 1 where line_id in (3, 500)")
        con.execute("update marts.lines set maybe = null where line_id = 7")
        con.execute("delete from marts.lines where line_id in (10, 11)")
        con.execute("insert into marts.lines values (1000, 'SKU-new', 9.99, null), (1001, 'SKU-0', 0, 1)")
        con.execute("create or replace table marts.mostly_new as select i + 30 as i from range(40) as t(i)")
        con.execute(
            "create or replace table marts.retyped as select cast(i as varchar) as i from range(40) as t(i)"
        )
        # a row of 2s becomes a third 0: every value is still there, so no row is gone or added
        con.execute(
            "create or replace table marts.repeats as select case when i = 2 then 0 else i % 3 end as i from range(30) as t(i)"
        )
        con.execute("drop table marts.dropped")
        con.execute("create table marts.added as select 42 as answer")
    counts = publish.publish_serving_file(build, serve)

    assert marts(serve) == marts(build)
    assert counts == {
        "marts.added": 1, "marts.first_lines": 498, "marts.lines": 1000, "marts.mostly_new": 40, "marts.repeats": 30,
        "marts.retyped": 40, "marts.same": 50,
    }  # fmt: skip
    # patched: the table and the view of few changes; tried: the one of many changes (too many: copied whole) and
    # the repeating one (patched, found wrong by its digest, copied whole)
    assert patched == ['marts."first_lines"', 'marts."lines"', 'marts."mostly_new"', 'marts."repeats"']
    fresh = tmp_path / "fresh" / "serve.duckdb"
    publish.publish_serving_file(build, fresh)
    assert marts(fresh) == marts(serve)
    with duckdb.connect(str(serve), read_only=True) as con:
        assert con.execute("select count(*) from meta.publish_log").fetchone()[0] == 1
    assert not list(tmp_path.glob(".serve.duckdb*")), "no temporary file is left behind"


def test_a_serving_file_without_a_record_of_its_tables_is_written_anew(tmp_path):
    """serve.duckdb as an older shopkeep wrote it (no meta.published_tables), or one that is not a DuckDB file at
    all: the publish copies every table into a new file, as the first one does."""
    build, serve = tmp_path / "build.duckdb", tmp_path / "serve.duckdb"
    make_build(build, "5.00")
    with duckdb.connect(str(serve)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.stale (x int)")
    publish_serving_file(build, serve)
    assert marts(serve) == {"daily_shop_sales": [("shopify_global", Decimal("5.00"))]}
    serve.write_bytes(b"not a database")
    publish_serving_file(build, serve)
    assert revenue(serve) == Decimal("5.00")
