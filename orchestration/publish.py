"""Publish: copy what dashboards read from build.duckdb into a new file and atomically rename it over serve.duckdb.

DuckDB allows one writer or many readers per file, never both. Dashboards therefore never open build.duckdb:
they read serve.duckdb, which is only ever replaced whole (`os.replace` is atomic on one filesystem). A reader
that opened the old file keeps reading it; the next query opens the new one.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.ingest import WAREHOUSE_POOL
from orchestration.settings import Settings

PUBLISHED_SCHEMAS = ("marts",)
"""Every table and view of these schemas is copied (as a table) to the serving file."""


def publish_serving_file(
    build_path: Path, serve_path: Path, build_started_at: datetime | None = None
) -> dict[str, int]:
    """Write `serve_path` anew from `build_path`; return row counts per published table."""
    serve_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = serve_path.with_name(f".{serve_path.name}.{os.getpid()}.tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(tmp)) as con:
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
            for schema, table in tables:
                con.execute(f"create schema if not exists {schema}")
                con.execute(f'create table {schema}."{table}" as select * from build.{schema}."{table}"')
                counts[f"{schema}.{table}"] = con.execute(
                    f'select count(*) from {schema}."{table}"'
                ).fetchone()[0]
            con.execute("detach build")
            con.execute("create schema meta")
            con.execute(
                "create table meta.publish_log (published_at timestamptz, build_started_at timestamptz, "
                "tables varchar)"
            )
            now = datetime.now(UTC)
            con.execute(
                "insert into meta.publish_log values (?, ?, ?)",
                [now, build_started_at or now, ", ".join(sorted(counts))],
            )
            con.execute("checkpoint")
        os.replace(tmp, serve_path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def publish_assets(settings: Settings, mart_keys: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    @dg.asset(key=["serve", "snapshot"], deps=mart_keys, group_name="serve", pool=WAREHOUSE_POOL)
    def serving_snapshot(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """The published read-only copy of the marts (serve.duckdb) that dashboards and the wall screen read."""
        run = context.instance.get_run_record_by_id(context.run.run_id)
        started = datetime.fromtimestamp(run.start_time, UTC) if run and run.start_time else None
        counts = publish_serving_file(settings.build_path, settings.serve_path, started)
        return dg.MaterializeResult(
            metadata={"tables": len(counts), "rows": sum(counts.values()), "path": str(settings.serve_path)}
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
