"""The seller's Excel product master (商品 / 组合装 / 供应商 / 促销 sheets) as a dlt source landing in
`raw_product_master`: products, kit_components, suppliers, promotions (merged on their codes) and quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.common.pipeline import LoadInfo
from dlt.pipeline.exceptions import PipelineStepFailed

from connectors.common.loading import warehouse_pipeline
from connectors.files.mapping import Mapping, load_mapping
from connectors.files.workbook import FileImportError, ImportResult, read_workbook

QUARANTINE_KEY = ("source_file", "sheet", "row_number", "file_sha256")
QUARANTINE_COLUMNS = {
    "source_file": {"data_type": "text", "nullable": False},
    "file_sha256": {"data_type": "text", "nullable": False},
    "sheet": {"data_type": "text", "nullable": False},
    "row_number": {"data_type": "bigint", "nullable": False},
    "reason": {"data_type": "text"},
    "raw_row": {"data_type": "json"},
    "loaded_at": {"data_type": "timestamp"},
}
SOURCE_COLUMNS = {"source_file": {"data_type": "text"}, "source_row": {"data_type": "bigint"}}


class LazyImport:
    """Reads the workbook once, at extraction (not when the source is built: Dagster builds it at startup,
    when the file may not exist yet)."""

    def __init__(self, path: str, mapping: Mapping) -> None:
        self.path = path
        self.mapping = mapping
        self._result: ImportResult | None = None

    @property
    def result(self) -> ImportResult:
        if self._result is None:
            self._result = read_workbook(self.path, self.mapping)
        return self._result

    def rows(self, table: str, columns: dict[str, dict]) -> Iterator[list[dict] | pa.Table]:
        yield self.result.tables[table] or empty_table(columns)

    def quarantined(self) -> Iterator[list[dict] | pa.Table]:
        yield self.result.quarantine or empty_table(QUARANTINE_COLUMNS)


_ARROW_TYPES = {
    "text": pa.string(),
    "json": pa.string(),
    "bigint": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "decimal": pa.decimal128(18, 2),
}


def arrow_schema(columns: dict[str, dict]) -> pa.Schema:
    """The Arrow types of dlt column hints (money: decimal(18, 2); time stamps: UTC)."""
    return pa.schema([(name, _ARROW_TYPES[hint["data_type"]]) for name, hint in columns.items()])


def arrow_table(rows: list[dict], columns: dict[str, dict]) -> pa.Table:
    """`rows` as an Arrow table of the columns' types (see columns_table)."""
    return columns_table({name: [row.get(name) for row in rows] for name in columns}, columns)


def columns_table(columns: dict[str, list], hints: dict[str, dict]) -> pa.Table:
    """Values by column (name -> list, all of one length) as an Arrow table of the hints' columns and types (a
    column not among the values is empty). A value of another type than its column's (a mapping's `type:` giving
    a date for a date-time column, a whole number for money) is cast as dlt would cast it."""
    schema = arrow_schema(hints)
    length = len(next(iter(columns.values()), []))
    arrays = {}
    for name in hints:
        values = columns.get(name) or [None] * length
        target = schema.field(name).type
        try:
            arrays[name] = (
                _decimals(values, target) if pa.types.is_decimal(target) else pa.array(values, target)
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            arrays[name] = pa.array(values).cast(target)
    return pa.table(arrays, schema=schema)


def _decimals(values: list, target: pa.DataType) -> pa.Array:
    """Decimals as an Arrow decimal column: through their exact text when all are Decimal (Arrow's cast from
    text is ten times faster than its conversion of Decimal objects; a value with more places still fails)."""
    if all(type(v) is Decimal for v in values if v is not None):
        return pa.array([None if v is None else str(v) for v in values], pa.string()).cast(target)
    return pa.array(values, target)


def empty_table(columns: dict[str, dict]) -> pa.Table:
    """No rows, but the table's columns: dlt then still creates the table, so dbt sources always exist."""
    return arrow_schema(columns).empty_table()


def quarantine_resource(data: LazyImport):
    """Rows that could not be accepted, one per (file, sheet, Excel row, file content): re-importing the
    same file adds nothing, a changed file adds its own rows."""
    return dlt.resource(
        data.quarantined(),
        name="quarantine",
        write_disposition={"disposition": "merge", "strategy": "insert-only"},
        primary_key=QUARANTINE_KEY,
        columns=QUARANTINE_COLUMNS,
    )


def table_resources(data: LazyImport) -> list:
    resources = []
    for spec in data.mapping.sheets:
        columns = {**spec.dlt_columns(), **SOURCE_COLUMNS}
        resources.append(
            dlt.resource(
                data.rows(spec.table, columns),
                name=spec.table,
                write_disposition="merge",
                primary_key=spec.primary_key,
                columns=columns,
            )
        )
    return resources


@dlt.source(name="product_master")
def product_master_source(path: str):
    """The product master workbook at `path`, read through mappings/product_master.yaml."""
    data = LazyImport(path, load_mapping("product_master"))
    return [*table_resources(data), quarantine_resource(data)]


def product_master_pipeline(warehouse_path: str | Path, pipelines_dir: str | Path) -> dlt.Pipeline:
    """The pipeline loading the product master into `raw_product_master` of the DuckDB file at `warehouse_path`."""
    return warehouse_pipeline(
        pipeline_name="product_master",
        dataset_name="raw_product_master",
        warehouse_path=warehouse_path,
        pipelines_dir=pipelines_dir,
    )


def load_product_master(pipeline: dlt.Pipeline, path: str | Path) -> LoadInfo:
    """Import the workbook at `path` into `pipeline`; good rows always load, bad ones go to quarantine.
    A file that can't be imported at all raises FileImportError naming the file and what to fix."""
    try:
        return pipeline.run(product_master_source(str(path)))
    except PipelineStepFailed as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, FileImportError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        raise cause from None
