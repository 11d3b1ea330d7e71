"""One way to build a dlt pipeline into the warehouse, shared by every connector, the CLI and the tests."""

from __future__ import annotations

from pathlib import Path

import dlt
from dlt.common.runtime.collector_base import Collector


def warehouse_pipeline(
    pipeline_name: str,
    dataset_name: str,
    warehouse_path: str | Path,
    pipelines_dir: str | Path,
    progress: Collector | str = "log",
) -> dlt.Pipeline:
    """A dlt pipeline loading into `dataset_name` (a `raw_<channel>` schema) of the DuckDB file at
    `warehouse_path`. Cursor state lives both in `pipelines_dir` and in the warehouse (dlt restores it from
    the destination when the local folder is gone)."""
    Path(warehouse_path).parent.mkdir(parents=True, exist_ok=True)
    # arrow batches (the exports' rows, and the empty tables the importers yield so every source exists) get
    # `_dlt_load_id` and `_dlt_id` like every list-of-dicts batch: freshness reads the first, and a table a
    # list-of-dicts load created holds the second as NOT NULL
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    dlt.config["normalize.parquet_normalizer.add_dlt_id"] = True
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=dlt.destinations.duckdb(credentials=str(warehouse_path)),
        dataset_name=dataset_name,
        pipelines_dir=str(pipelines_dir),
        progress=progress,
    )


MONEY = {"data_type": "decimal", "precision": 18, "scale": 2}
"""dlt column hint for money: exact DECIMAL(18,2), never a float."""
