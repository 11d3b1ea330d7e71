"""Publish: copy what dashboards read from build.duckdb into a new file and atomically rename it over serve.duckdb.

DuckDB allows one writer or many readers per file, never both. Dashboards therefore never open build.duckdb:
they read serve.duckdb, which is only ever replaced whole (`os.replace` is atomic on one filesystem). A reader
that opened the old file keeps reading it; the next query opens the new one.

Besides the marts, the serving file carries `meta.publish_log` (when this snapshot was published, when its
build started) and `meta.check_results`: the latest outcome of every asset check on the published marts'
lineage — dbt's tests, which dagster-dbt turns into asset checks — as the Dagster instance recorded them when
the snapshot was published (one row per check; the Data status page lists the failed ones). Read from the
instance rather than from dbt's run_results.json because dagster-dbt writes that file to a per-invocation
target folder the publish run cannot identify, while the instance is what the build reported its checks to.
"""

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from connectors.common.warehouse import (
    CATALOG_ALIAS,
    PUBLISH_MESSAGE,
    Lake,
    connect_warehouse,
    published_snapshot,
)
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.settings import Settings

PUBLISHED_SCHEMAS = ("marts",)
"""Every table and view of these schemas is copied (as a table) to the serving file."""

CHECK_RESULTS_DDL = """create table meta.check_results (
    asset_key varchar,        -- e.g. marts/inventory_health
    check_name varchar,       -- the dbt test's name (not_null_inventory_health, unique_inventory_health_sku, ...)
    status varchar,           -- succeeded; failed (ran, did not pass); planned (its step never reported)
    passed boolean,           -- null when the check did not run to an outcome
    severity varchar,         -- ERROR or WARN (dbt's severity)
    failed_rows bigint,       -- rows the dbt test returned (dagster_dbt/failed_row_count), if known
    evaluated_at timestamptz, -- when the check's latest execution was recorded
    run_id varchar            -- the Dagster run that executed it
)"""


@dataclass(frozen=True)
class CheckResult:
    """The latest outcome of one asset check, as published in meta.check_results."""

    asset_key: str
    check_name: str
    status: str
    passed: bool | None
    severity: str | None
    failed_rows: int | None
    evaluated_at: datetime | None
    run_id: str | None


def latest_check_results(
    instance: dg.DagsterInstance, check_keys: Sequence[dg.AssetCheckKey]
) -> list[CheckResult]:
    """The latest recorded execution of each of `check_keys` in `instance` (checks never executed are left out)."""
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    results = []
    for key, record in sorted(records.items(), key=lambda kv: (kv[0].asset_key.to_user_string(), kv[0].name)):
        evaluation = None
        if record.event is not None and record.event.dagster_event is not None:
            evaluation = record.event.dagster_event.event_specific_data
        metadata = getattr(evaluation, "metadata", None) or {}
        failed = metadata.get("dagster_dbt/failed_row_count")
        severity = getattr(evaluation, "severity", None)
        results.append(
            CheckResult(
                asset_key=key.asset_key.to_user_string(),
                check_name=key.name,
                status=record.status.value.lower(),
                passed=getattr(evaluation, "passed", None),
                severity=severity.value if severity is not None else None,
                failed_rows=int(getattr(failed, "value", failed)) if failed is not None else None,
                evaluated_at=datetime.fromtimestamp(record.create_timestamp, UTC),
                run_id=record.run_id,
            )
        )
    return results


PATCH_MIN_ROWS = 100_000
"""A changed table with at least this many rows in the previous snapshot is patched (its changed rows deleted and
inserted) rather than copied whole; a smaller one is copied whole (as fast, and simpler)."""

PUBLISHED_TABLES_DDL = """create table meta.published_tables (
    table_name varchar,       -- marts.<table>
    row_count bigint,
    digest hugeint,           -- sum of the rows' hashes: an unchanged digest means an unchanged table
    columns varchar           -- its columns and types: a patch needs the same ones
)"""


def publish_serving_file(
    build_path: Path,
    serve_path: Path,
    build_started_at: datetime | None = None,
    check_results: Sequence[CheckResult] = (),
) -> dict[str, int]:
    """Write `serve_path` anew from `build_path` (with `check_results` in meta.check_results); return row counts
    per published table.

    The new file starts as a copy of the current serve.duckdb when it has a record of what it was published from
    (`meta.published_tables`): a table whose rows hash alike is kept as it is, a large one that changed is
    patched — the rows whose hashes are gone deleted, the new ones inserted — and the rest are copied whole
    (`_publish_table`). Otherwise (the first publish, an older file, one more than half free space) every table
    is copied. Either way the file is complete before it is renamed over serve.duckdb: a reader never sees a
    half-published snapshot."""
    serve_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = serve_path.with_name(f".{serve_path.name}.{os.getpid()}.tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        previous = _start_from_previous(serve_path, tmp)
        with duckdb.connect(str(tmp)) as con:
            con.execute("set enable_progress_bar = false")  # no bars in the run's log
            con.execute(f"attach '{build_path}' as build (read_only)")
            tables = con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = 'build' and table_schema in ("
                + ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
                + ") order by 1, 2"
            ).fetchall()
            if not tables:
                raise RuntimeError(
                    f"nothing to publish: {build_path} has no tables in schemas {PUBLISHED_SCHEMAS}; "
                    "run the dbt assets first (shopkeep materialize)"
                )
            published = []
            for schema, table in tables:
                con.execute(f"create schema if not exists {schema}")
                record = _publish_table(con, schema, table, previous.get(f"{schema}.{table}"))
                published.append(record)
                counts[record[0]] = record[1]
            for name in previous.keys() - counts.keys():  # a mart the build no longer has
                con.execute(f"drop table if exists {name}")
            con.execute("detach build")
            con.execute("create schema if not exists meta")
            con.execute("drop table if exists meta.published_tables")
            con.execute(PUBLISHED_TABLES_DDL)
            con.executemany("insert into meta.published_tables values (?, ?, ?, ?)", published)
            con.execute("drop table if exists meta.publish_log")  # one line: this publish
            _write_meta(con, counts, build_started_at, check_results)
            con.execute("checkpoint")
        os.replace(tmp, serve_path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return counts


def _start_from_previous(serve_path: Path, tmp: Path) -> dict[str, tuple]:
    """Copy serve.duckdb to `tmp` and return its `meta.published_tables` by table name — or leave `tmp` absent and
    return nothing when there is no usable previous snapshot: none yet, one an older shopkeep wrote (no record),
    one that cannot be read, or one more than half free blocks (patches leave the space of deleted rows behind;
    a whole copy compacts it)."""
    if not serve_path.exists():
        return {}
    try:
        shutil.copyfile(serve_path, tmp)
        with duckdb.connect(str(tmp)) as con:
            (recorded,) = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'meta' and table_name = 'published_tables'"
            ).fetchone()
            used, free = con.execute("select used_blocks, free_blocks from pragma_database_size()").fetchone()
            if recorded and free <= used:
                return {row[0]: row for row in con.execute("select * from meta.published_tables").fetchall()}
    except (OSError, duckdb.Error):
        pass
    tmp.unlink(missing_ok=True)
    return {}


def _publish_table(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, previous: tuple | None
) -> tuple[str, int, int, str]:
    """Bring `schema.table` in the new file (connected as `con`, the build attached as `build`) up to the build's:
    keep it when its rows hash to the previous snapshot's digest with the same columns; patch it when it is large
    and at most a quarter of its rows changed (`_patch`); else copy it whole. Returns its meta.published_tables
    row."""
    name, target, source = f"{schema}.{table}", f'{schema}."{table}"', f'build.{schema}."{table}"'
    described = con.execute(f"describe {source}").fetchall()
    columns = ", ".join(f"{c[0]} {c[1]}" for c in described)
    values = [f'"{c[0]}"' for c in described]
    hashed = f"hash({', '.join(values)}) as _h1, hash({', '.join(reversed(values))}) as _h2"
    digest_of = f"select count(*), coalesce(sum(_h1), 0) from (select {hashed} from {{}})"
    patchable = previous is not None and previous[3] == columns and previous[1] >= PATCH_MIN_ROWS
    if patchable:  # the build's row hashes, kept for the patch (with where each row is, for a table)
        (is_table,) = con.execute(
            "select count(*) from duckdb_tables() where database_name = 'build' and schema_name = ? "
            "and table_name = ?",
            [schema, table],
        ).fetchone()
        row_id = "rowid" if is_table else "null"
        con.execute(f"create temp table new_rows as select {row_id} as row_id, {hashed} from {source}")
        rows, digest = con.execute("select count(*), coalesce(sum(_h1), 0) from new_rows").fetchone()
    else:
        rows, digest = con.execute(digest_of.format(source)).fetchone()
    record = (name, rows, digest, columns)
    if previous is not None and previous[3] == columns and previous[1:3] == (rows, digest):
        kept = True
    else:
        kept = (
            patchable
            and _patch(con, target, source, hashed, rows, by_row_id=bool(is_table))
            and con.execute(digest_of.format(target)).fetchone() == (rows, digest)
        )
    if patchable:
        con.execute("drop table new_rows")
    if not kept:
        con.execute(f"create or replace table {target} as select * from {source}")
    return record


def _patch(
    con: duckdb.DuckDBPyConnection, target: str, source: str, hashed: str, rows: int, by_row_id: bool
) -> bool:
    """Delete the rows of `target` whose hashes (two of their values: in column order and in reverse, 128 bits)
    `source` lacks, and insert the rows of `source` whose hashes `target` lacks (`source`'s are in temp table
    new_rows, with their row ids when `by_row_id`: the source is a table) — unless more than a quarter of the rows
    changed (then return False and change nothing: a whole copy is as fast). The caller checks the result's row
    count and digest against the source's (rows repeated alike in either table would defeat a patch) and copies
    the table whole when they differ."""
    con.execute(f"create temp table old_rows as select rowid as row_id, {hashed} from {target}")
    con.execute("create temp table gone as select row_id from old_rows anti join new_rows using (_h1, _h2)")
    con.execute("create temp table added as select * from new_rows anti join old_rows using (_h1, _h2)")
    (old_rows, changed) = con.execute(
        "select (select count(*) from old_rows), (select count(*) from gone) + (select count(*) from added)"
    ).fetchone()
    patch = changed <= max(rows, old_rows) // 4
    if patch:
        con.execute(f"delete from {target} where rowid in (select row_id from gone)")
        if by_row_id:
            con.execute(
                f"insert into {target} select * from {source} where rowid in (select row_id from added)"
            )
        else:
            con.execute(
                f"insert into {target} select * exclude (_h1, _h2) "
                f"from (select *, {hashed} from {source}) semi join added using (_h1, _h2)"
            )
    con.execute("drop table old_rows; drop table gone; drop table added")
    return patch


def _write_meta(
    con: duckdb.DuckDBPyConnection,
    counts: dict[str, int],
    build_started_at: datetime | None,
    check_results: Sequence[CheckResult],
) -> datetime:
    """A publish's own tables, for either engine: a line in meta.publish_log (kept across a lake's publishes) and
    meta.check_results as this build left them (replaced). Returns the publish's time."""
    con.execute("create schema if not exists meta")
    con.execute(
        "create table if not exists meta.publish_log (published_at timestamptz, build_started_at timestamptz, "
        "tables varchar)"
    )
    now = datetime.now(UTC)
    con.execute(
        "insert into meta.publish_log values (?, ?, ?)",
        [now, build_started_at or now, ", ".join(sorted(counts))],
    )
    con.execute("drop table if exists meta.check_results")
    con.execute(CHECK_RESULTS_DDL)
    if check_results:
        con.executemany(
            "insert into meta.check_results values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [c.asset_key, c.check_name, c.status, c.passed, c.severity, c.failed_rows,
                 c.evaluated_at, c.run_id]
                for c in check_results
            ],
        )  # fmt: skip
    return now


def publish_lake(
    lake: Lake, build_started_at: datetime | None = None, check_results: Sequence[CheckResult] = ()
) -> tuple[int, dict[str, int]]:
    """Publish in the lake: no copy, one commit that writes meta.publish_log and meta.check_results and is tagged
    with the commit message PUBLISH_MESSAGE; the dashboards pin to the latest tagged snapshot, so they see the
    marts exactly as they were at this commit while the next build writes new snapshots. Returns the snapshot id
    and the row count per published table. Then the snapshots older than `lake.keep_hours` are expired and the files
    they alone used deleted (`expire_lake`)."""
    with connect_warehouse(None, lake) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_catalog = '{CATALOG_ALIAS}' and table_schema in ("
            + ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
            + ") order by 1, 2"
        ).fetchall()
        if not tables:
            raise RuntimeError(
                f"nothing to publish: the lake has no tables in schemas {PUBLISHED_SCHEMAS}; "
                "run the dbt assets first (shopkeep materialize)"
            )
        con.execute("begin")
        try:
            counts = {
                f"{schema}.{table}": con.execute(f'select count(*) from {schema}."{table}"').fetchone()[0]
                for schema, table in tables
            }
            now = _write_meta(con, counts, build_started_at, check_results)
            con.execute(
                f"call {CATALOG_ALIAS}.set_commit_message('shopkeep', ?, extra_info => ?)",
                [PUBLISH_MESSAGE, now.isoformat()],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        snapshot = published_snapshot(con)
        expire_lake(con, lake.keep_hours)
    assert snapshot is not None
    return snapshot, counts


def expire_lake(con: duckdb.DuckDBPyConnection, keep_hours: int) -> tuple[int, int]:
    """DuckLake keeps every snapshot (time travel) and every file they use until told otherwise. Expire the snapshots
    older than `keep_hours` (a plain expire_older_than would also take the published snapshots the dashboards read,
    when publishes are rarer than that): never the two latest published ones or anything after the older of the
    two, since a dashboard may still be reading it. Then delete the files scheduled for deletion more than
    `keep_hours` ago (a query of a snapshot expired since may still be scanning them). Returns (snapshots expired,
    files deleted)."""
    published = [
        snapshot_id
        for (snapshot_id,) in con.execute(
            f"select snapshot_id from {CATALOG_ALIAS}.snapshots() where commit_message = ? "
            "order by snapshot_id desc limit 2",
            [PUBLISH_MESSAGE],
        ).fetchall()
    ]
    expired = []
    if published:
        expired = [
            snapshot_id
            for (snapshot_id,) in con.execute(
                f"select snapshot_id from {CATALOG_ALIAS}.snapshots() where snapshot_id < ? "
                "and snapshot_time < now() - to_hours(?) order by 1",
                [published[-1], keep_hours],
            ).fetchall()
        ]
    if expired:
        con.execute(f"call ducklake_expire_snapshots('{CATALOG_ALIAS}', versions => {expired})")
    deleted = con.execute(
        f"select count(*) from ducklake_cleanup_old_files('{CATALOG_ALIAS}', older_than => now() - to_hours(?))",
        [keep_hours],
    ).fetchone()[0]
    return len(expired), deleted


def publish_assets(
    settings: Settings, mart_keys: list[dg.AssetKey], check_keys: Sequence[dg.AssetCheckKey] = ()
) -> list[dg.AssetsDefinition]:
    @dg.asset(key=["serve", "snapshot"], deps=mart_keys, group_name="serve", pool=WAREHOUSE_POOL)
    def serving_snapshot(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """The published read-only copy of the marts (serve.duckdb) that dashboards and the wall screen read."""
        run = context.instance.get_run_record_by_id(context.run.run_id)
        started = datetime.fromtimestamp(run.start_time, UTC) if run and run.start_time else None
        checks = latest_check_results(context.instance, check_keys)
        if settings.lake is None:
            counts = publish_serving_file(settings.build_path, settings.serve_path, started, checks)
            where = {"path": str(settings.serve_path)}
        else:
            snapshot, counts = publish_lake(settings.lake, started, checks)
            where = {"lake_snapshot": snapshot, "catalog_url": settings.lake.catalog_url}
        return dg.MaterializeResult(
            metadata={
                "tables": len(counts),
                "rows": sum(counts.values()),
                **where,
                "checks": len(checks),
                "failed_checks": sum(1 for c in checks if c.passed is False),
            }
        )

    return [serving_snapshot]


def dashboard_specs() -> list[dg.AssetSpec]:
    """The dashboards, as external assets at the end of the lineage (Streamlit reads serve.duckdb)."""
    return [
        dg.AssetSpec(
            ["dashboards", "overview"],
            deps=[dg.AssetKey(["serve", "snapshot"])],
            group_name="dashboards",
            description="经营概览 Overview page (Streamlit, http://localhost:8501)",
        )
    ]
