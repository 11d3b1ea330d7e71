"""One way to build a dlt pipeline into the warehouse, shared by every connector, the CLI and the tests."""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType

import dlt
from dlt.common.runtime.collector_base import Collector

from connectors.common.warehouse import (
    CATALOG_ALIAS,
    METADATA_SCHEMA,
    Lake,
    extension_directory,
    s3_secret_sql,
)


def warehouse_pipeline(
    pipeline_name: str,
    dataset_name: str,
    warehouse_path: str | Path,
    pipelines_dir: str | Path,
    progress: Collector | str = "log",
    lake: Lake | None = None,
) -> dlt.Pipeline:
    """A dlt pipeline loading into `dataset_name` (a `raw_<channel>` schema) of the DuckDB file at
    `warehouse_path` — or, given `lake`, of that DuckLake (dlt's own `ducklake` destination, attached with the
    same catalog alias and metadata schema as every other process, its extensions autoloaded from a folder filled
    from their wheels, never downloaded). Cursor state lives both in `pipelines_dir` and in the warehouse (dlt
    restores it from the destination when the local folder is gone)."""
    # arrow batches (the exports' rows, and the empty tables the importers yield so every source exists) get
    # `_dlt_load_id` and `_dlt_id` like every list-of-dicts batch: freshness reads the first, and a table a
    # list-of-dicts load created holds the second as NOT NULL
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    dlt.config["normalize.parquet_normalizer.add_dlt_id"] = True
    if lake is None:
        Path(warehouse_path).parent.mkdir(parents=True, exist_ok=True)
        destination = dlt.destinations.duckdb(credentials=str(warehouse_path))
    else:
        destination = dlt.destinations.ducklake(credentials=_lake_credentials(lake, Path(pipelines_dir)))
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=destination,
        dataset_name=dataset_name,
        pipelines_dir=str(pipelines_dir),
        progress=progress,
    )


def _lake_credentials(lake: Lake, pipelines_dir: Path):
    from dlt.common.configuration.specs import AwsCredentials
    from dlt.common.storages.configuration import FilesystemConfiguration
    from dlt.destinations.impl.ducklake.configuration import DuckLakeCredentials

    if lake.on_s3:
        s3_secret_sql()  # the same check (and message) as every other lake connection: the keys are set
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        storage = FilesystemConfiguration(
            bucket_url=lake.data_path,
            credentials=AwsCredentials(
                aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
                region_name=os.environ.get("AWS_REGION")
                or os.environ.get("AWS_DEFAULT_REGION")
                or "us-east-1",
                endpoint_url=endpoint,
            ),
        )
    else:
        Path(lake.data_path).mkdir(parents=True, exist_ok=True)
        storage = FilesystemConfiguration(bucket_url=Path(lake.data_path).as_uri() + "/")
    credentials = DuckLakeCredentials(
        ducklake_name=CATALOG_ALIAS,
        metadata_schema=METADATA_SCHEMA,
        catalog=lake.catalog_url,
        storage=storage,
    )
    credentials.global_config = {
        "extension_directory": str(extension_directory(pipelines_dir / ".duckdb_extensions")),
        "autoinstall_known_extensions": False,
    }
    return credentials


MONEY = MappingProxyType({"data_type": "decimal", "precision": 18, "scale": 2})
"""dlt column hint for money: exact DECIMAL(18,2), never a float. Read-only: spread it into a column's own hint,
`{"name": "total", **MONEY}`. dlt writes into the hint dicts it is given (it adds the column's `name`): a resource
declared with MONEY itself once turned every later money hint in the process into one for that column, and the
nested tables' money into DECIMAL(38,9)."""
