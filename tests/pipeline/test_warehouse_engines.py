"""`[warehouse] engine`: the single DuckDB file or a DuckLake. The settings are read and checked (a mistake named
in one line); `connect_warehouse` opens either engine, the lake with its extensions loaded from their wheels
(never downloaded), against a real PostgreSQL catalog and a real S3-compatible server (sandbox/lake_servers.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dlt
import duckdb
import pytest

from connectors.common.loading import MONEY, warehouse_pipeline
from connectors.common.warehouse import (
    LAKE_EXTENSIONS,
    METADATA_SCHEMA,
    Lake,
    WarehouseError,
    connect_warehouse,
    extension_directory,
    extension_file,
    lake_locator,
    parse_locator,
    published_snapshot,
)
from orchestration.settings import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]
DEMO = (REPO / "shopkeep.toml").read_text(encoding="utf-8")
LAKE_KEYS = 'engine = "ducklake"\ncatalog_url = "postgresql://shopkeep@db.internal:5432/shop_lake"\n'


def _config(tmp_path: Path, warehouse_keys: str) -> Path:
    config = tmp_path / "shopkeep.toml"
    config.write_text(DEMO.replace("[warehouse]\n", "[warehouse]\n" + warehouse_keys, 1), encoding="utf-8")
    return config


def _refusal(tmp_path: Path, warehouse_keys: str) -> str:
    config = _config(tmp_path, warehouse_keys)
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{config}: ")
    return message.removeprefix(f"{config}: ")


# -- settings --------------------------------------------------------------------------------------------------


def test_the_demo_config_keeps_the_single_file():
    settings = load_settings(REPO / "shopkeep.toml")
    assert settings.engine == "duckdb" and settings.lake is None


def test_a_lake_on_s3_is_read_with_its_catalog_and_data_path(tmp_path):
    settings = load_settings(_config(tmp_path, LAKE_KEYS + 'data_path = "s3://shop-lake/warehouse"\n'))
    assert settings.engine == "ducklake"
    assert settings.lake == Lake(
        catalog_url="postgresql://shopkeep@db.internal:5432/shop_lake", data_path="s3://shop-lake/warehouse/"
    )


def test_a_local_data_path_is_relative_to_the_config_file(tmp_path):
    settings = load_settings(_config(tmp_path, LAKE_KEYS + 'data_path = "lake-files"\n'))
    assert settings.lake is not None and settings.lake.data_path == f"{tmp_path / 'lake-files'}/"


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ('engine = "ducklak"\n', 'warehouse.engine: expected "duckdb" or "ducklake", got "ducklak" (did you mean ducklake?)'),
        ('engine = "ducklake"\ncatlog_url = "postgresql://x@h/db"\n', "warehouse.catlog_url: unknown key (did you mean catalog_url?)"),
        ('engine = "ducklake"\ndata_path = "s3://b/"\n', "warehouse.catalog_url: missing; engine = \"ducklake\" keeps its catalog in PostgreSQL"),
        (LAKE_KEYS, 'warehouse.data_path: missing; engine = "ducklake" writes its Parquet files there'),
        (
            'engine = "ducklake"\ncatalog_url = "mysql://x@h/db"\ndata_path = "s3://b/"\n',
            'warehouse.catalog_url: expected a PostgreSQL URL postgresql://user@host:port/dbname, got "mysql://x@h/db"',
        ),
        (
            'engine = "ducklake"\ncatalog_url = "postgresql://x:hunter2@h/db"\ndata_path = "s3://b/"\n',
            "warehouse.catalog_url: holds a password; secrets never go in this file",
        ),
        (LAKE_KEYS + 'data_path = "gs://b/"\n', 'warehouse.data_path: expected s3://bucket/prefix/ (AWS or any S3-compatible store) or a local folder, got "gs://b/"'),
        ('data_path = "s3://b/"\n', 'warehouse.data_path: only read with engine = "ducklake"'),
        ('catalog_url = "postgresql://x@h/db"\n', 'warehouse.catalog_url: only read with engine = "ducklake"'),
    ],
)  # fmt: skip
def test_a_wrong_lake_setting_is_named_in_one_line(tmp_path, keys, problem):
    message = _refusal(tmp_path, keys)
    assert message.startswith(problem)
    assert "hunter2" not in message


# -- extensions ------------------------------------------------------------------------------------------------


def test_every_lake_extension_comes_from_its_wheel_for_exactly_this_duckdb():
    for name in LAKE_EXTENSIONS:
        path = extension_file(name)
        assert path.is_file() and path.parent.name == f"v{duckdb.__version__}"


def test_a_missing_extension_package_names_the_pip_install(monkeypatch):
    with pytest.raises(WarehouseError, match=rf"pip install duckdb-extension-nosuch=={duckdb.__version__}"):
        extension_file("nosuch")
    monkeypatch.setattr(duckdb, "__version__", "9.9.9")
    with pytest.raises(WarehouseError, match=r"for DuckDB v\d.* but this is DuckDB v9\.9\.9 .*==9\.9\.9"):
        extension_file("ducklake")


def test_an_extension_directory_lets_other_tools_autoload_the_lake_offline(lake, tmp_path):
    folder = extension_directory(tmp_path / "extensions")
    assert extension_directory(folder) == folder  # again: no error, the same files
    installed = sorted(p.name for p in folder.rglob("*.duckdb_extension"))
    assert installed == sorted(f"{name}.duckdb_extension" for name in LAKE_EXTENSIONS)
    # what dbt's profile and dlt's destination do: an ATTACH that names the lake, nothing loaded by hand
    con = duckdb.connect(config={"extension_directory": str(folder), "autoinstall_known_extensions": False})
    con.execute(
        "create secret (type s3, key_id 'shopkeep-test', secret 'shopkeep-test-secret', region 'us-east-1', "
        f"endpoint '{os.environ['AWS_ENDPOINT_URL'].removeprefix('http://')}', url_style 'path', use_ssl false)"
    )
    con.execute(
        f"attach 'ducklake:postgres:{lake.catalog_url}' as l (data_path '{lake.data_path}', metadata_schema '{METADATA_SCHEMA}')"
    )
    con.execute("create table l.t as select 1 as x")
    assert con.execute("select * from l.t").fetchall() == [(1,)]


# -- one connection function, either engine --------------------------------------------------------------------


def _build(con: duckdb.DuckDBPyConnection, amount: int) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.daily_sales as select range as day, ? as amount from range(3)",
        [amount],
    )


def test_the_single_file_opens_as_before(tmp_path):
    path = tmp_path / "build.duckdb"
    with connect_warehouse(path) as con:
        _build(con, 10)
    with connect_warehouse(path, read_only=True) as con:
        assert con.execute("select sum(amount) from marts.daily_sales").fetchone() == (30,)
    with pytest.raises(ValueError, match="snapshot"):
        connect_warehouse(path, snapshot=1)


def test_a_lake_on_s3_holds_the_tables_in_postgres_and_the_files_in_the_bucket(lake, lake_servers):
    pg, s3 = lake_servers
    with connect_warehouse("unused.duckdb", lake) as con:
        _build(con, 10)
        con.execute("create table marts.big as select range as i from range(200000)")  # too big to inline
        loaded = con.execute(
            "select extension_name from duckdb_extensions() where loaded and install_mode <> 'STATICALLY_LINKED'"
        ).fetchall()
        assert {name for (name,) in loaded} == set(LAKE_EXTENSIONS)
        assert con.execute("select current_setting('ducklake_max_retry_count')").fetchone()[0] == 3
    bucket = lake.data_path.removeprefix("s3://").strip("/")
    assert any(key.startswith("marts/big/") and key.endswith(".parquet") for key in s3.keys(bucket))
    with connect_warehouse("unused.duckdb", lake, read_only=True) as con:
        assert con.execute("select sum(amount) from marts.daily_sales").fetchone() == (30,)
        assert con.execute("select count(*) from marts.big").fetchone() == (200000,)
        with pytest.raises(duckdb.Error, match="read-only|read only"):
            con.execute("insert into marts.daily_sales values (9, 9)")
    # the catalog is PostgreSQL's: its tables sit in the metadata schema every process attaches with
    tables = subprocess.run(
        [str(pg.bin / "psql"), lake.catalog_url, "-Atc",
         f"select count(*) from information_schema.tables where table_schema = '{METADATA_SCHEMA}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert int(tables) > 10


def test_a_pinned_snapshot_keeps_reading_the_build_it_was_pinned_to(lake):
    with connect_warehouse("unused.duckdb", lake) as con:
        _build(con, 10)
        published = con.execute("select id from current_snapshot()").fetchone()[0]
        _build(con, 20)
    with connect_warehouse("unused.duckdb", lake, read_only=True, snapshot=published) as pinned:
        with connect_warehouse("unused.duckdb", lake, read_only=True) as head:
            assert pinned.execute("select sum(amount) from marts.daily_sales").fetchone() == (30,)
            assert head.execute("select sum(amount) from marts.daily_sales").fetchone() == (60,)


def test_a_lake_on_a_local_folder(lake, tmp_path):
    local = Lake(catalog_url=lake.catalog_url, data_path=f"{tmp_path / 'files'}/")
    with connect_warehouse("unused.duckdb", local) as con:
        con.execute("create schema marts")
        con.execute("create table marts.big as select range as i from range(200000)")
    assert list((tmp_path / "files").rglob("*.parquet"))


def test_without_s3_keys_the_error_names_the_variables(lake, monkeypatch):
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(WarehouseError, match="AWS_SECRET_ACCESS_KEY not set") as info:
        connect_warehouse("unused.duckdb", lake)
    assert "shopkeep-test" not in str(info.value)


@dlt.resource(
    name="orders", write_disposition="merge", primary_key="order_id", columns={"total": {"name": "total", **MONEY}}
)
def _orders(count: int):
    for i in range(count):
        yield {"order_id": i, "total": MONEY_VALUE * i, "lines": [{"sku": f"SKU-{i % 3}", "qty": 1 + i % 2}]}


MONEY_VALUE = Decimal("12.34")


@pytest.mark.slow  # with the servers' start and the readers' test, this file takes a minute or more
@pytest.mark.parametrize("where", ["s3", "local"])
def test_dlt_loads_into_the_lake_and_merges_again(lake, tmp_path, where):
    if where == "local":
        lake = Lake(catalog_url=lake.catalog_url, data_path=f"{tmp_path / 'files'}/")
    pipeline = warehouse_pipeline(
        "lake_test", "raw_test", tmp_path / "unused.duckdb", tmp_path / "dlt", lake=lake
    )
    pipeline.run(_orders(50)).raise_on_failed_jobs()
    pipeline.run(_orders(80)).raise_on_failed_jobs()  # merge: 50 updated, 30 new
    with connect_warehouse("unused.duckdb", lake, read_only=True) as con:
        assert con.execute("select count(*), sum(total) from raw_test.orders").fetchone() == (
            80,
            MONEY_VALUE * sum(range(80)),
        )
        assert con.execute("select count(*) from raw_test.orders__lines").fetchone() == (80,)
    assert not (tmp_path / "unused.duckdb").exists()
    if where == "local":
        assert list((tmp_path / "files").rglob("*.parquet"))


READER = """
import json, sys
from connectors.common.warehouse import Lake, connect_warehouse
lake, published, rounds = Lake(**json.loads(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
errors, seen = [], set()
for _ in range(rounds):
    try:
        with connect_warehouse("unused.duckdb", lake, read_only=True, snapshot=published) as con:
            seen.add(int(con.execute("select sum(amount) from marts.daily_sales").fetchone()[0]))
    except Exception as exc:  # every error is a finding
        errors.append(repr(exc))
print(json.dumps([sorted(seen), errors[:3]]))
"""
"""A dashboard-like reader in a process of its own: opens the lake pinned to a snapshot, reads, closes, again."""


def test_readers_in_other_processes_never_block_on_a_writer_and_see_their_snapshot(lake):
    with connect_warehouse("unused.duckdb", lake) as con:
        _build(con, 10)
        published = con.execute("select id from current_snapshot()").fetchone()[0]
    argv = [sys.executable, "-c", READER, json.dumps(dataclasses.asdict(lake)), str(published), "15"]
    readers = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    with connect_warehouse("unused.duckdb", lake) as con:
        for amount in range(11, 31):
            _build(con, amount)
        head = con.execute("select id from current_snapshot()").fetchone()[0]
    results = [reader.communicate(timeout=300) for reader in readers]
    assert [reader.returncode for reader in readers] == [0, 0], [err[-2000:] for _, err in results]
    assert [json.loads(out) for out, _ in results] == [[[30], []]] * 2
    assert head >= published + 20


# -- publish, dashboards, dbt's environment ----------------------------------------------------------------------


def _build_marts(lake: Lake, value: int) -> None:
    with connect_warehouse(None, lake) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.a as select ? as v", [value])
        con.execute("create or replace table marts.b as select ? * 2 as v", [value])


def test_publish_in_the_lake_tags_a_snapshot_that_the_dashboards_read_pinned(lake, monkeypatch):
    from dashboards.queries import serving
    from orchestration.publish import publish_lake

    locator = lake_locator(lake)
    _build_marts(lake, 1)
    with pytest.raises(serving.WarehouseNotPublished):
        serving.snapshot_version(locator)
    serving.release_snapshots()
    snapshot, counts = publish_lake(lake)
    assert counts == {"marts.a": 1, "marts.b": 1}
    with connect_warehouse(None, lake, read_only=True) as con:
        assert published_snapshot(con) == snapshot
        assert con.execute("select count(*) from meta.publish_log").fetchone()[0] == 1
    assert serving.snapshot_version(locator) == (snapshot, 0)
    assert serving._one(locator, "select a.v, b.v from marts.a, marts.b") == (1, 2)
    _build_marts(lake, 5)  # the next build, not published yet: the dashboards keep the published numbers
    serving.release_snapshots()
    assert serving._one(locator, "select a.v, b.v from marts.a, marts.b") == (1, 2)
    second, _ = publish_lake(lake)
    assert second > snapshot
    serving.release_snapshots()
    assert serving.snapshot_version(locator) == (second, 0)
    assert serving._one(
        locator, "select a.v, b.v, (select count(*) from meta.publish_log) from marts.a, marts.b"
    ) == (
        5,
        10,
        2,
    )
    serving.release_snapshots()
    # a head whose catalog connection broke is replaced once, not kept failing
    assert serving.snapshot_version(locator) == (second, 0)
    serving._lake_heads[locator][2].close()
    monkeypatch.setattr(serving, "LAKE_POLL_SECONDS", 0.0)
    assert serving.snapshot_version(locator) == (second, 0)
    serving.release_snapshots()


def test_a_lake_locator_names_the_lake_and_nothing_else():
    lake = Lake(catalog_url="postgresql://shopkeep@db:5432/lake", data_path="s3://b/p/")
    assert parse_locator(lake_locator(lake)) == lake
    assert parse_locator("/srv/shopkeep/serve.duckdb") is None


def test_with_a_lake_dbt_gets_the_lake_target_and_the_dashboards_the_locator(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8999")
    settings = load_settings(_config(tmp_path, LAKE_KEYS + 'data_path = "s3://shop-lake/w"\n'))
    env = settings.dbt_env
    assert env["SHOPKEEP_DBT_TARGET"] == "lake"
    assert env["SHOPKEEP_LAKE_CATALOG_URL"] == "postgresql://shopkeep@db.internal:5432/shop_lake"
    assert env["SHOPKEEP_LAKE_DATA_PATH"] == "s3://shop-lake/w/"
    assert (env["SHOPKEEP_S3_ENDPOINT"], env["SHOPKEEP_S3_URL_STYLE"], env["SHOPKEEP_S3_USE_SSL"]) == (
        "127.0.0.1:8999",
        "path",
        "false",
    )
    assert "s" not in env.values()  # the keys stay in AWS_*, which the profile reads itself
    assert settings.serving_locator == lake_locator(settings.lake)
    local = load_settings(_config(tmp_path, LAKE_KEYS + 'data_path = "files"\n'))
    assert local.dbt_env["SHOPKEEP_DBT_TARGET"] == "lake_local"
    assert load_settings(REPO / "shopkeep.toml").dbt_env["SHOPKEEP_DBT_TARGET"] == "dev"
    # the dashboards read the same lake from the config file alone
    from dashboards.settings import serve_path

    monkeypatch.delenv("SHOPKEEP_SERVE_PATH", raising=False)
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(tmp_path / "shopkeep.toml"))
    assert serve_path() == lake_locator(local.lake)


def test_an_existing_build_files_raw_tables_move_into_an_empty_lake(lake, tmp_path):
    from connectors.common.warehouse import copy_raw_into_lake

    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        for schema in ("raw_shopify", "raw_shopify_staging", "marts"):
            con.execute(f"create schema {schema}")
        con.execute("create table raw_shopify.orders (id integer primary key, total decimal(18, 2))")
        con.execute("insert into raw_shopify.orders values (1, 9.99), (2, 20.00)")
        con.execute("create table raw_shopify._dlt_pipeline_state as select 'cursor' as state")
        con.execute("create table raw_shopify_staging.orders as select 1 as id")
        con.execute("create table marts.m as select 1 as x")
    counts = copy_raw_into_lake(build, lake)
    assert counts == {"raw_shopify._dlt_pipeline_state": 1, "raw_shopify.orders": 2}
    with connect_warehouse(None, lake, read_only=True) as con:
        assert con.execute("select sum(total) from raw_shopify.orders").fetchone()[0] == Decimal("29.99")
        schemas = {s for (s,) in con.execute(
            "select distinct table_schema from information_schema.tables where table_catalog = 'lake'"
        ).fetchall()}  # fmt: skip
    assert schemas == {"raw_shopify"}
    with pytest.raises(WarehouseError, match="already holds 2 raw tables: copy into an empty lake"):
        copy_raw_into_lake(build, lake)


def test_a_publish_expires_old_snapshots_and_their_files_but_never_the_two_latest_publishes(lake, tmp_path):
    from orchestration.publish import publish_lake

    files = tmp_path / "files"
    short = Lake(catalog_url=lake.catalog_url, data_path=f"{files}/", keep_hours=0)

    def build_and_publish(value: int) -> int:
        _build_marts(short, value)
        with connect_warehouse(None, short) as con:  # large enough to be written as a Parquet file, not inlined
            con.execute("create or replace table marts.big as select range * ? as i from range(200000)", [value])
        return publish_lake(short)[0]

    first, second, third = (build_and_publish(v) for v in (1, 2, 3))
    with connect_warehouse(None, short, read_only=True) as con:
        kept = [s for (s,) in con.execute("select snapshot_id from lake.snapshots() order by 1").fetchall()]
    assert first not in kept and kept[0] == second and third in kept  # nothing before the publish before last
    # a dashboard still reading the publish before last reads it whole
    with connect_warehouse(None, short, read_only=True, snapshot=second) as con:
        assert con.execute("select a.v, max(big.i) from marts.a, marts.big group by 1").fetchone() == (2, 399998)
    # the first build's files are gone; the two kept publishes' are there
    assert len(list(files.rglob("*.parquet"))) == 2
    # by default a week of snapshots is kept
    week = Lake(catalog_url=lake.catalog_url, data_path=f"{files}/")
    assert week.keep_hours == 168
    _build_marts(week, 4)
    publish_lake(week)
    with connect_warehouse(None, week, read_only=True) as con:
        assert con.execute("select min(snapshot_id) from lake.snapshots()").fetchone()[0] == second


def test_keep_hours_is_read_for_a_lake_and_refused_for_the_single_file(tmp_path):
    lake = 'engine = "ducklake"\ncatalog_url = "postgresql://shopkeep@db:5432/lake"\ndata_path = "s3://b/p/"\n'
    assert load_settings(_config(tmp_path, lake + "keep_hours = 24\n")).lake.keep_hours == 24
    assert load_settings(_config(tmp_path, lake)).lake.keep_hours == 168
    assert _refusal(tmp_path, "keep_hours = 24\n").startswith('warehouse.keep_hours: only read with engine = "ducklake"')
    assert "warehouse.keep_hours" in _refusal(tmp_path, lake + "keep_hours = -1\n")
