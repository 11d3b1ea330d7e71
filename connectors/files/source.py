"""Platform exports (orders, refunds, ...) as a dlt source landing in `raw_files`: one table per export format
(`taobao_orders`, `jd_refunds`, ...), merged on (shop_id, the platform's keys) so importing a file again — or an
overlapping export — changes nothing, and `quarantine` with every row (or whole file, row 0) not accepted."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.pipeline import LoadInfo
from dlt.pipeline.exceptions import PipelineStepFailed

from connectors.common.loading import warehouse_pipeline
from connectors.common.pii import require_salt
from connectors.files.exports import SUFFIXES, file_problem, read_export
from connectors.files.mapping import Mapping, load_mappings
from connectors.files.product_master import QUARANTINE_COLUMNS, QUARANTINE_KEY, empty_table
from connectors.files.workbook import FileImportError

log = logging.getLogger(__name__)
ROW_COLUMNS = {
    "shop_id": {"data_type": "text", "nullable": False},
    "source_file": {"data_type": "text"},
    "source_row": {"data_type": "bigint"},
    "file_sha256": {"data_type": "text"},
}


def export_files(paths: list[str | Path] | None = None, directory: str | Path | None = None) -> list[Path]:
    """The files to import: `paths` as given, plus every .csv/.xlsx in `directory` (sorted; Excel's `~$` lock
    files skipped)."""
    files = [Path(p) for p in paths or []]
    if directory is not None:
        directory = Path(directory)
        if not directory.is_dir():
            raise FileImportError(f"{directory}: no such folder — check the import directory")
        files += sorted(p for p in directory.iterdir()
                        if p.suffix.lower() in SUFFIXES and not p.name.startswith("~$"))
    return files


class LazyExports:
    """Reads every file once, at extraction; rows of a later file replace the same keys of an earlier one."""

    def __init__(self, files: list[Path], mappings: list[Mapping], pii_salt: str, shop_id: str | None,
                 now: datetime | None) -> None:
        self.files, self.mappings, self.pii_salt, self.shop_id, self.now = files, mappings, pii_salt, shop_id, now
        self._tables: dict[str, dict[tuple, dict]] | None = None
        self._quarantine: list[dict] = []

    def _read(self) -> dict[str, dict[tuple, dict]]:
        if self._tables is None:
            self._tables = {}
            for path in self.files:
                try:
                    mapping, result = read_export(path, self.mappings, pii_salt=self.pii_salt,
                                                  shop_id=self.shop_id, now=self.now)
                except FileImportError as exc:
                    if not path.exists():
                        raise
                    log.warning("not imported: %s", exc)
                    self._quarantine.append(file_problem(path, str(exc)))
                    continue
                spec = mapping.sheets[0]
                rows = self._tables.setdefault(spec.table, {})
                for row in result.tables[spec.table]:
                    rows[(row["shop_id"], *(row[k] for k in spec.primary_key))] = row
                self._quarantine.extend(result.quarantine)
                log.info("%s: %s rows as %s, %s quarantined", path.name, len(result.tables[spec.table]),
                         mapping.name, len(result.quarantine))
        return self._tables

    def rows(self, table: str, columns: dict[str, dict]) -> Iterator[list[dict] | pa.Table]:
        yield list(self._read().get(table, {}).values()) or empty_table(columns)

    def quarantined(self) -> Iterator[list[dict] | pa.Table]:
        self._read()
        yield self._quarantine or empty_table(QUARANTINE_COLUMNS)


def table_columns(mapping: Mapping) -> dict[str, dict[str, Any]]:
    return {**mapping.sheets[0].dlt_columns(), **ROW_COLUMNS}


@dlt.source(name="files")
def files_source(
    paths: list[str] | None = None,
    directory: str | None = None,
    mappings_dir: str | None = None,
    pii_salt: str | None = None,
    shop_id: str | None = None,
    now: datetime | None = None,
):
    """Every export in `paths` and `directory`, read through the mappings in `mappings_dir` (default: the
    shipped ones). Every export format's table is created even when no file of it is present."""
    salt = require_salt(pii_salt)
    mappings = [m for m in load_mappings(mappings_dir) if m.is_export]
    data = LazyExports(export_files(paths, directory), mappings, salt, shop_id, now)
    resources = []
    for mapping in mappings:
        spec = mapping.sheets[0]
        columns = table_columns(mapping)
        resources.append(dlt.resource(
            data.rows(spec.table, columns), name=spec.table, write_disposition="merge",
            primary_key=("shop_id", *spec.primary_key), columns=columns,
        ))
    resources.append(dlt.resource(
        data.quarantined(), name="quarantine",
        write_disposition={"disposition": "merge", "strategy": "insert-only"},
        primary_key=QUARANTINE_KEY, columns=QUARANTINE_COLUMNS,
    ))
    return resources


def files_pipeline(warehouse_path: str | Path, pipelines_dir: str | Path) -> dlt.Pipeline:
    """The pipeline loading exports into `raw_files` of the DuckDB file at `warehouse_path`."""
    return warehouse_pipeline(pipeline_name="files", dataset_name="raw_files",
                              warehouse_path=warehouse_path, pipelines_dir=pipelines_dir)


def import_files(pipeline: dlt.Pipeline, paths: list[str | Path] | None = None, *,
                 directory: str | Path | None = None, pii_salt: str | None = None, shop_id: str | None = None,
                 mappings_dir: str | Path | None = None, now: datetime | None = None) -> LoadInfo:
    """Import the exports at `paths` (and in `directory`); good rows always load, bad ones go to
    raw_files.quarantine. A missing file or folder raises FileImportError naming it."""
    for path in export_files(paths, directory):  # fail early, before dlt wraps the error
        if not path.exists():
            raise FileImportError(f"{path}: no such file — check the path")
    try:
        return pipeline.run(files_source(
            paths=[str(p) for p in paths or []], directory=str(directory) if directory else None,
            mappings_dir=str(mappings_dir) if mappings_dir else None, pii_salt=pii_salt, shop_id=shop_id, now=now,
        ))
    except PipelineStepFailed as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, FileImportError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        raise cause from None
