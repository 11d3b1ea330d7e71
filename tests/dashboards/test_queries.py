"""Queries read the published snapshot read-only, a cursor per query, and the next query after a publish reads the
new file."""

from __future__ import annotations

import os
import shutil
from datetime import date

import duckdb
import pytest

from dashboards.queries import core, sales, serving

JUNE = (date(2026, 6, 1), date(2026, 6, 30))


def test_the_next_query_after_a_publish_reads_the_new_file_and_lets_go_of_the_old_one(
    serve_path, write_serve_file, tmp_path
):
    live = tmp_path / "serve.duckdb"
    shutil.copy(serve_path, live)
    before = sales.top_skus.__wrapped__(str(live), serving.snapshot_version(live), *JUNE, (), ())

    write_serve_file(tmp_path / "next.duckdb", seed=3)
    os.replace(tmp_path / "next.duckdb", live)  # what the publish step does
    after = sales.top_skus.__wrapped__(str(live), serving.snapshot_version(live), *JUNE, (), ())

    with duckdb.connect(str(live), read_only=True) as con:
        (gmv,) = con.execute(
            "select sum(gmv_cny) from marts.daily_sku_sales where order_date between ? and ?", list(JUNE)
        ).fetchone()
    assert round(after["gmv_cny"].sum(), 2) == float(gmv) != round(before["gmv_cny"].sum(), 2)
    assert serving._snapshots[str(live)][0] == serving.snapshot_version(live)  # the old instance is let go


def test_once_released_this_process_can_write_a_file_it_has_read(serve_path, tmp_path):
    live = tmp_path / "serve.duckdb"
    shutil.copy(serve_path, live)
    core.shops.__wrapped__(str(live), serving.snapshot_version(live))

    serving.release_snapshots()
    # DuckDB refuses a read-write connection in a process that still holds a read-only one to the same file
    with duckdb.connect(str(live)) as writer:
        assert writer.execute("select count(*) from marts.shops").fetchone() == (3,)


def test_renaming_a_new_file_over_the_serve_path_changes_the_snapshot_version(
    serve_path, write_serve_file, tmp_path
):
    live = tmp_path / "serve.duckdb"
    shutil.copy(serve_path, live)
    before = serving.snapshot_version(live)

    write_serve_file(tmp_path / "next.duckdb", seed=3)
    os.replace(tmp_path / "next.duckdb", live)

    assert serving.snapshot_version(live) != before


def test_a_missing_serve_file_says_how_to_publish_one(tmp_path):
    missing = tmp_path / "serve.duckdb"

    with pytest.raises(
        serving.WarehouseNotPublished, match="run `make demo` or `shopkeep materialize`"
    ) as info:
        serving.snapshot_version(missing)
    assert str(missing) in str(info.value)
