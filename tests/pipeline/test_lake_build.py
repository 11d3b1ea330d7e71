"""The whole pipeline into a DuckLake (`[warehouse] engine = "ducklake"`): a tiny world's sandboxes materialised
into a lake (real PostgreSQL catalog, moto's S3 server) and into the single file, every mart compared; then two
dashboard reader processes on the published snapshot while a second materialisation (new loads, the freshness
mart, a publish) writes the lake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from io import StringIO
from pathlib import Path

import duckdb
import pytest

from bench.compare_marts import compare_connections, connection_mart_hashes
from connectors.common.warehouse import Lake, connect_warehouse, lake_locator, published_snapshot
from tests.clock import PINNED_CLOCK, pin
from tests.conftest import SHANGHAI, SMALL_SHOP, Setup, in_memory_instance, start_stack

pytestmark = pytest.mark.slow

TINY_SETUP = Setup(api_shops=("shopify_global",))
"""Shopify, the WMS and the product master: every kind of loader (dlt API pulls, the Excel file, config and ops
tables), in the least time."""

LOAD_TIMES = {
    "channel_listings": {"fetched_at"},
    "source_freshness": {"first_loaded_at", "last_loaded_at", "checked_at", "hours_since_last_load"},
    "order_exceptions": {"hours_since_paid"},
    "file_imports": {"first_imported_at"},
}
"""When the sandboxes were read, and the build's "now" (dbt's clock is taken when its step starts, after the
loads): the two builds run one after the other, so these differ by the time between them (every other column,
and every other mart, is compared). The last two differed on the demo-size world, not on the tiny one."""

READER = r"""
import json, sys, time
import dashboards.queries.serving as serving

import pathlib
locator, stop = sys.argv[1], pathlib.Path(sys.argv[2])
reads, errors = [], []
while not stop.exists():
    try:
        version = serving.snapshot_version(locator)
        with serving._connect(locator) as con:
            published = con.execute("select max(published_at)::varchar from meta.publish_log").fetchone()[0]
            skus = con.execute("select count(*) from marts.skus").fetchone()[0]
            time.sleep(0.05)
            money = con.execute("select sum(net_revenue_cny)::varchar from marts.shop_monthly_pnl").fetchone()[0]
            # what differs between two builds of the same shop: when its sources were loaded
            loaded = con.execute("select max(last_loaded_at)::varchar from marts.source_freshness").fetchone()[0]
        reads.append([version[0], published, skus, money, loaded])
    except Exception as exc:
        errors.append(repr(exc))
    time.sleep(0.1)
print(json.dumps({"reads": reads, "errors": errors}))
"""


REFRESH = (
    "key:raw_shopify/* or key:raw_wms/* or key:staging/stg_dlt__table_loads or key:staging/stg_config__shops "
    "or key:marts/source_freshness or key:serve/*"
)
"""The readers' materialisation: new loads from both sandboxes and the mart of when each source was loaded, then a
publish (a whole build again would only repeat the first test's)."""


def _lake_config(config: Path, lake: Lake) -> None:
    text = config.read_text(encoding="utf-8")
    keys = f'engine = "ducklake"\ncatalog_url = "{lake.catalog_url}"\ndata_path = "{lake.data_path}"\n'
    config.write_text(text.replace("[warehouse]\n", "[warehouse]\n" + keys, 1), encoding="utf-8")


def _materialize(settings, select: str | None = None) -> None:
    from orchestration.cli import run_materialize

    output = StringIO()
    saved = os.environ.copy()  # the lake's dbt target and catalog, which the build puts in the environment
    try:
        with redirect_stdout(output), redirect_stderr(output), in_memory_instance() as instance:
            run_materialize(settings, instance=instance, select=select)
    except BaseException:
        print(output.getvalue()[-5000:])
        raise
    finally:  # this worker's later tests run dbt on files
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def lake_and_file(lake_servers, tmp_path_factory: pytest.TempPathFactory):
    """The same sandboxes materialised into a lake and into a file, each on the tests' clock from PINNED_CLOCK
    (so dbt's "now" is the same): (the lake's settings, the file's settings, the stack)."""
    from sandbox.lake_servers import unique_name
    from sandbox.shop.generate import generate

    end = PINNED_CLOCK.astimezone(SHANGHAI).date() - timedelta(days=1)
    world = generate(**{**SMALL_SHOP, "days": 30, "orders_per_day": 15, "end_date": end})
    pg, s3 = lake_servers
    name = unique_name("build")
    lake = Lake(catalog_url=pg.create_database(name.replace("-", "_")), data_path=f"s3://{name}/")
    s3.create_bucket(name)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in s3.environment().items():
            patch.setenv(key, value)
        directory = tmp_path_factory.mktemp("lake_build")
        (directory / "file").mkdir()
        (directory / "lake").mkdir()
        stack = start_stack(world, directory / "file", setup=TINY_SETUP)
        lake_dir = directory / "lake"
        lake_config = lake_dir / "shopkeep.toml"
        lake_config.write_text(stack.config_path.read_text(encoding="utf-8"), encoding="utf-8")
        _lake_config(lake_config, lake)
        from orchestration.settings import load_settings

        file_settings, lake_settings = stack.settings(), load_settings(lake_config)
        assert lake_settings.lake == lake
        try:
            started = time.monotonic()
            pin(PINNED_CLOCK)
            _materialize(file_settings)
            file_seconds = time.monotonic() - started
            pin(PINNED_CLOCK)
            _materialize(lake_settings)
            print(
                f"file build {file_seconds:.0f} s, lake build {time.monotonic() - started - file_seconds:.0f} s"
            )
            yield lake_settings, file_settings, stack
        finally:
            pin(PINNED_CLOCK + timedelta(hours=1))  # never backwards for the rest of the run
            for server in stack.servers.values():
                server.stop()


def test_the_lake_build_publishes_the_same_marts_as_the_file(lake_and_file) -> None:
    lake_settings, file_settings, _ = lake_and_file
    assert not lake_settings.build_path.exists() and not lake_settings.serve_path.exists()  # nothing copied
    with connect_warehouse(None, lake_settings.lake, read_only=True) as con:
        snapshot = published_snapshot(con)
        assert snapshot is not None
        raw = {s for (s,) in con.execute("select distinct table_schema from information_schema.tables "
                                           "where table_catalog = 'lake'").fetchall()}  # fmt: skip
    assert {"raw_shopify", "raw_wms", "raw_product_master", "raw_config", "raw_ops", "marts", "meta"} <= raw
    with (
        duckdb.connect(str(file_settings.serve_path), read_only=True) as file_con,
        connect_warehouse(None, lake_settings.lake, read_only=True, snapshot=snapshot) as lake_con,
    ):
        assert len(connection_mart_hashes(file_con)) > 30
        # mart -> how it differs: the columns (doubles to a relative 1e-9), or why it cannot be compared
        differ = compare_connections(file_con, lake_con, LOAD_TIMES, names=("the file", "the lake"))
    assert not differ, f"marts differ between the lake and the file (mart: columns): {differ}"


def test_two_dashboard_processes_read_consistent_snapshots_while_the_lake_is_materialised(
    lake_and_file,
) -> None:
    lake_settings, _, _ = lake_and_file
    locator = lake_locator(lake_settings.lake)
    with connect_warehouse(None, lake_settings.lake, read_only=True) as con:
        before = published_snapshot(con)
    stop = lake_settings.config_path.parent / "stop-readers"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, locator, str(stop)], stdout=subprocess.PIPE, env=env)
        for _ in range(2)
    ]
    try:
        time.sleep(5)
        _materialize(lake_settings, select=REFRESH)
        time.sleep(5)  # the readers see the new publish (they ask the catalog every LAKE_POLL_SECONDS)
    finally:
        stop.touch()
    results = [json.loads(reader.communicate(timeout=120)[0]) for reader in readers]
    with connect_warehouse(None, lake_settings.lake, read_only=True) as con:
        after = published_snapshot(con)
    assert after > before
    for result in results:
        assert result["errors"] == []
        versions = {read[0] for read in result["reads"]}
        assert before in versions and after in versions, versions
    by_version: dict[int, set] = {}
    for result in results:
        for version, *numbers in result["reads"]:
            by_version.setdefault(version, set()).add(tuple(numbers))
    # one snapshot, one set of numbers: in both processes, for every read, however the build was going
    assert {v: len(n) for v, n in by_version.items()} == dict.fromkeys(by_version, 1)
    assert set(by_version) <= {before, after}
    assert by_version[before] != by_version[after]  # the second build's loads are newer: a pin shows its own
    print({v: sorted(n) for v, n in by_version.items()}, [len(r["reads"]) for r in results])
