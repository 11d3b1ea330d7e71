"""One way to open the warehouse, whichever engine holds it: the single DuckDB file (`engine = "duckdb"`) or a
DuckLake (`engine = "ducklake"`: the catalog in PostgreSQL, the data files as Parquet under an S3-compatible
`s3://bucket/prefix/` or a local folder).

DuckLake needs three DuckDB extensions (ducklake, postgres_scanner, httpfs). They are never downloaded: each comes
from its Python wheel (`duckdb-extension-<name>`, one binary built for exactly one DuckDB version), loaded by path
with DuckDB's auto-install and auto-load turned off, so a missing or mismatched extension is an error naming the
package, not a download attempt.

Credentials never appear in the configuration: the catalog's password is libpq's (`PGPASSWORD` or `~/.pgpass`),
the bucket's keys are the usual AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally
`AWS_SESSION_TOKEN`, `AWS_REGION`, and `AWS_ENDPOINT_URL` for an S3-compatible store other than AWS).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

LAKE_EXTENSIONS = ("httpfs", "postgres_scanner", "ducklake")
"""Loaded in this order: ducklake's ATTACH of a `postgres:` catalog and `s3://` data needs the other two."""

METADATA_SCHEMA = "ducklake"
"""The PostgreSQL schema that holds the lake's catalog tables; every writer and reader attaches with it."""

CATALOG_ALIAS = "lake"
"""The name the lake is attached under (the connection's default catalog), so `marts.x` means the lake's."""

MAX_RETRY_COUNT = 3
"""`ducklake_max_retry_count` on every connection. Writers are one at a time (the Dagster `warehouse` pool), so a
commit conflict is not expected; DuckLake's own retry of concurrent commits has open bugs, so a conflict should
fail fast and visibly rather than be retried the default 10 times."""


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened as configured; the message says what is missing and how to fix it."""


@dataclass(frozen=True)
class Lake:
    """Where a DuckLake lives: its catalog (a PostgreSQL URL without a password) and its data files."""

    catalog_url: str
    """`postgresql://user@host:port/dbname`; the password comes from libpq's environment (PGPASSWORD)."""
    data_path: str
    """`s3://bucket/prefix/`, or an absolute local folder."""
    keep_hours: int = 168
    """How long old snapshots (time travel) and the files only they use are kept after a publish; the two latest
    published snapshots are always kept (a dashboard may still be reading the one before the latest)."""

    @property
    def on_s3(self) -> bool:
        return self.data_path.startswith("s3://")


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def extension_file(name: str) -> Path:
    """The binary of DuckDB extension `name` shipped by the wheel `duckdb-extension-<name>` for this DuckDB."""
    package = "duckdb-extension-" + name.replace("_", "-")
    version = duckdb.__version__
    try:
        module = importlib.import_module("duckdb_extension_" + name)
    except ImportError:
        raise WarehouseError(
            f"the DuckDB extension {name} is not installed: pip install {package}=={version} "
            "(DuckLake needs it; shopkeep never downloads extensions at run time)"
        ) from None
    folder = Path(module.__file__).parent / "extensions"
    path = folder / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        built_for = sorted(p.parent.name for p in folder.glob(f"v*/{name}.duckdb_extension"))
        raise WarehouseError(
            f"{package} holds the {name} extension for DuckDB {', '.join(built_for) or 'no version'}, but this is "
            f"DuckDB v{version} and an extension loads only in the version it was built for: "
            f"pip install {package}=={version}"
        )
    return path


def extension_directory(folder: str | Path) -> Path:
    """A DuckDB extension directory at `folder` holding the lake's extensions, copied from their wheels' files
    (DuckDB's `INSTALL '<file>'`: a local copy, no network), for the tools that open their own connections (dbt's
    profile, dlt's destination): given `extension_directory = folder` and `autoinstall_known_extensions = false`,
    their ATTACH of the lake autoloads the extensions from there and can never download one. Idempotent."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        ":memory:",
        config={"extension_directory": str(folder), "autoinstall_known_extensions": False},
    )
    try:
        for name in LAKE_EXTENSIONS:
            source = extension_file(name)
            target = folder / f"v{duckdb.__version__}" / _platform(con) / source.name
            if not target.is_file() or target.stat().st_size != source.stat().st_size:
                con.execute(f"force install {_sql_string(str(source))}")
    finally:
        con.close()
    return folder


def _platform(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("pragma platform").fetchone()[0]


def s3_settings() -> dict[str, str]:
    """The S3 secret's region, endpoint, url_style and use_ssl for the lake's bucket, from the AWS environment
    variables (AWS itself without AWS_ENDPOINT_URL), for dbt's profile; the keys stay in AWS_*."""
    s3_secret_sql()  # the keys are set (or the message naming the missing one)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return {"region": region, "endpoint": "s3.amazonaws.com", "url_style": "vhost", "use_ssl": "true"}
    parts = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
    use_ssl = "false" if parts.scheme == "http" else "true"
    return {"region": region, "endpoint": parts.netloc, "url_style": "path", "use_ssl": use_ssl}


def s3_secret_sql() -> str:
    """CREATE SECRET for the lake's bucket, from the AWS environment variables (named, never echoed)."""
    key_id = os.environ.get("AWS_ACCESS_KEY_ID", "")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    missing = [n for n, v in (("AWS_ACCESS_KEY_ID", key_id), ("AWS_SECRET_ACCESS_KEY", secret)) if not v]
    if missing:
        raise WarehouseError(
            f"environment variable {' and '.join(missing)} not set: the lake's data_path is on S3 and its keys come "
            "from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; AWS_ENDPOINT_URL for a store other "
            "than AWS)"
        )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    options = [
        "type s3",
        f"key_id {_sql_string(key_id)}",
        f"secret {_sql_string(secret)}",
        f"region {_sql_string(region)}",
    ]
    if token := os.environ.get("AWS_SESSION_TOKEN"):
        options.append(f"session_token {_sql_string(token)}")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
        options += [
            f"endpoint {_sql_string(parts.netloc)}",
            "url_style 'path'",  # S3-compatible stores (MinIO, moto, …) serve path-style bucket addresses
            f"use_ssl {'false' if parts.scheme == 'http' else 'true'}",
        ]
    return f"create or replace temporary secret shopkeep_lake ({', '.join(options)})"


def attach_lake_sql(
    lake: Lake, *, read_only: bool = False, snapshot: int | None = None, alias: str = CATALOG_ALIAS
) -> str:
    """The ATTACH of `lake` as CATALOG_ALIAS: read-only and pinned to `snapshot` (a DuckLake snapshot id) if
    given."""
    options = [f"data_path {_sql_string(lake.data_path)}", f"metadata_schema {_sql_string(METADATA_SCHEMA)}"]
    if read_only:
        options.append("read_only")
    if snapshot is not None:
        options.append(f"snapshot_version {int(snapshot)}")
    source = _sql_string(f"ducklake:postgres:{lake.catalog_url}")
    return f"attach {source} as {alias} ({', '.join(options)})"


def connect_lake(
    lake: Lake, *, read_only: bool = False, snapshot: int | None = None, alias: str = CATALOG_ALIAS
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with `lake` attached (and in use), its extensions loaded from their wheels."""
    if not lake.on_s3:
        Path(lake.data_path).mkdir(parents=True, exist_ok=True)
    files = [extension_file(name) for name in LAKE_EXTENSIONS]
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "python_enable_replacements": False,
        },
    )
    try:
        for path in files:
            con.execute(f"load {_sql_string(str(path))}")
        if lake.on_s3:
            con.execute(s3_secret_sql())
        con.execute(f"set ducklake_max_retry_count = {MAX_RETRY_COUNT}")
        con.execute(attach_lake_sql(lake, read_only=read_only, snapshot=snapshot, alias=alias))
        con.execute(f"use {alias}")
    except BaseException:
        con.close()
        raise
    return con


def connect_warehouse(
    build_path: str | Path,
    lake: Lake | None = None,
    *,
    read_only: bool = False,
    snapshot: int | None = None,
    alias: str = CATALOG_ALIAS,
) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse: the DuckDB file `build_path` when `lake` is None, else the DuckLake
    `lake` (pinned to `snapshot` if given, attached as `alias`). Either way the warehouse is the connection's default catalog, so
    `select … from marts.daily_shop_sales` reads the same table on both engines."""
    if lake is not None:
        return connect_lake(lake, read_only=read_only, snapshot=snapshot, alias=alias)
    if snapshot is not None:
        raise ValueError("a snapshot pins a DuckLake build; the single-file warehouse has none")
    Path(build_path).parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(build_path), read_only=read_only)


PUBLISH_MESSAGE = "publish"
"""The commit message of the lake snapshot a publish tags: the dashboards pin to the latest such snapshot."""

LOCATOR_PREFIX = "ducklake:"


def lake_locator(lake: Lake) -> str:
    """`lake` as one string (what SHOPKEEP_SERVE_PATH holds for the dashboards when the warehouse is a lake):
    `ducklake:<catalog_url>#<data_path>`."""
    return f"{LOCATOR_PREFIX}{lake.catalog_url}#{lake.data_path}"


def parse_locator(value: str) -> Lake | None:
    """The Lake a `lake_locator` string names; None for anything else (a serve.duckdb path)."""
    if not value.startswith(LOCATOR_PREFIX):
        return None
    catalog_url, sep, data_path = value[len(LOCATOR_PREFIX) :].rpartition("#")
    if not sep or not catalog_url or not data_path:
        raise WarehouseError(f"not a lake locator (ducklake:<catalog_url>#<data_path>): {value!r}")
    return Lake(catalog_url=catalog_url, data_path=data_path)


def published_snapshot(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest snapshot of the attached lake a publish tagged (None before the first publish)."""
    row = con.execute(
        f"select max(snapshot_id) from {CATALOG_ALIAS}.snapshots() where commit_message = ?",
        [PUBLISH_MESSAGE],
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def published_exists(serving: str | Path) -> bool:
    """Whether something is published at `serving`: the serve.duckdb file exists, or the lake a locator names has
    a publish-tagged snapshot."""
    lake = parse_locator(str(serving))
    if lake is None:
        return Path(serving).exists()
    with connect_lake(lake, read_only=True) as con:
        return published_snapshot(con) is not None


def open_published(serving: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to what is published at `serving` (the serve.duckdb file, or a lake locator: the
    lake pinned at its latest published snapshot), the marts in its default catalog either way."""
    lake = parse_locator(str(serving))
    if lake is None:
        return duckdb.connect(str(serving), read_only=True)
    with connect_lake(lake, read_only=True) as head:
        snapshot = published_snapshot(head)
    if snapshot is None:
        raise WarehouseError(
            f"nothing published in the lake {lake.catalog_url}: run `shopkeep materialize` first"
        )
    return connect_lake(lake, read_only=True, snapshot=snapshot)


def copy_raw_into_lake(build_path: str | Path, lake: Lake) -> dict[str, int]:
    """Copy every raw table of the single-file warehouse `build_path` (schemas `raw_*`, dlt's own tables in them
    too: its load history and pipeline state, so the next pull resumes from its cursors) into `lake`, in one
    commit; dlt's `*_staging` schemas are left out. Returns the rows per table. The marts are not copied: build
    them in the lake (`shopkeep materialize`). Refused when the lake already holds a raw table (no merging)."""
    with connect_lake(lake) as con:
        con.execute(f"attach {_sql_string(str(build_path))} as source_file (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = 'source_file' "
            "and table_type = 'BASE TABLE' and table_schema like 'raw\\_%' escape '\\' "
            "and table_schema not like '%\\_staging' escape '\\' order by 1, 2"
        ).fetchall()
        present = con.execute(
            f"select count(*) from information_schema.tables where table_catalog = '{CATALOG_ALIAS}' "
            "and table_schema like 'raw\\_%' escape '\\'"
        ).fetchone()[0]
        if present:
            raise WarehouseError(
                f"the lake {lake.catalog_url} already holds {present} raw tables: copy into an empty lake"
            )
        counts = {}
        con.execute("begin")
        try:
            for schema, table in tables:
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(
                    f'create table "{schema}"."{table}" as select * from source_file."{schema}"."{table}"'
                )
                counts[f"{schema}.{table}"] = con.execute(
                    f'select count(*) from "{schema}"."{table}"'
                ).fetchone()[0]
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return counts
