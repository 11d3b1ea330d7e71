"""Exports of any layout (orders, refunds, settlements, ad spend) as a dlt source landing in `raw_files`: one table per
canonical entity (`orders`, `refunds`, `settlements`, `ad_spend`, see mapping.ENTITIES) whatever the file's layout, plus
`quarantine` (every row, or whole file as row 0, set aside, with its reason), `imports` (every version of
every file imported: name, hash, mapping, rows loaded and set aside, when first seen) and `folder` (the same for
the files read at the latest import: what the folder holds now).

A file is the unit of truth: every import reads the whole exports folder and replaces the tables with what the
files hold now. So a corrected file replaces its rows (rows no longer in it disappear), importing the same
files again changes nothing, and a file deleted from the folder takes its rows with it at the next import
(keep the files of the history you want counted). Where two files hold the same order, the one showing the
order later in its life (its latest time stamp; then the later file name) gives all of the order's lines."""

from __future__ import annotations

import gc
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
from dlt.common.pipeline import LoadInfo
from dlt.pipeline.exceptions import PipelineStepFailed

from connectors.common.loading import warehouse_pipeline
from connectors.common.pii import require_salt
from connectors.files.cache import ParseCache, cache_key
from connectors.files.exports import SUFFIXES, checked_rows, entity_columns, file_problem, read_export
from connectors.files.mapping import ENTITIES, Mapping, load_mappings
from connectors.files.product_master import QUARANTINE_COLUMNS, arrow_schema, arrow_table, empty_table
from connectors.files.workbook import FileImportError, ImportResult, file_sha256

log = logging.getLogger(__name__)
IMPORT_COLUMNS = {
    "source_file": {"data_type": "text", "nullable": False},
    "file_sha256": {"data_type": "text", "nullable": False},
    "shop_id": {"data_type": "text"},
    "mapping": {"data_type": "text"},
    "entity": {"data_type": "text"},
    "rows_loaded": {"data_type": "bigint"},
    "rows_set_aside": {"data_type": "bigint"},
    "imported_at": {"data_type": "timestamp"},
}
BATCH_ROWS = 50_000
WORK_MEMORY = {"memory_limit": "1GB"}
"""DuckDB's memory for joining the files' rows (beyond it, it spills to disk beside its work file)."""
EVENTS = ("created_at", "paid_at", "shipped_at", "completed_at", "closed_at")


def export_files(paths: list[str | Path] | None = None, directory: str | Path | None = None) -> list[Path]:
    """The files to import: `paths` as given, plus every export in `directory` (sorted; Excel's `~$` lock
    files skipped)."""
    files = [Path(p) for p in paths or []]
    if directory is not None:
        directory = Path(directory)
        if not directory.is_dir():
            raise FileImportError(f"{directory}: no such folder — check the import directory")
        files += sorted(
            p for p in directory.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("~$")
        )
    return files


ROW_KEYS = {
    "orders": "order_id, coalesce(nullif(line_id, ''), coalesce(nullif(sku_id, ''), outer_id, 'None') || '#' "
    "|| coalesce(nullif(sku_occurrence, 0), 1))",
    "refunds": "refund_id",
    "settlements": "coalesce(nullif(entry_id, ''), bill_line_id || '#' || coalesce(nullif(entry_occurrence, 0), 1))",
    "ad_spend": "spend_date, coalesce(nullif(campaign_id, ''), coalesce(campaign_name, '') || '#' "
    "|| coalesce(nullif(campaign_occurrence, 0), 1))",
}
"""A row's identity within its shop (SQL over the entity's columns), the same whichever layout it came in: a
later file's row (and a later row of one file) replaces an earlier one with the same identity."""


def _numbered(rows: pa.Table, number: int, name: str) -> pa.Table:
    """A file's rows with the file's place in the import and its name (what decides between files)."""
    return rows.append_column("_file", pa.array([number] * rows.num_rows, pa.int64())).append_column(
        "_name", pa.array([name] * rows.num_rows, pa.string())
    )


def _combine(con: duckdb.DuckDBPyConnection, entity: str) -> None:
    """Table `<entity>` from `part_<entity>` (every file's rows of the entity): one row per identity (ROW_KEYS)
    within its shop, the last one read. An order comes whole from one file: the one showing it later in its life
    (its latest time stamp, then the later file name) — decided only when the entity's rows come from several
    files. (A grouped max and a semi join: a window over every row sorts them all, twice the time.)"""
    chosen = f"select p.*, p.rowid as _at from part_{entity} as p"
    (files,) = con.execute(f"select count(distinct _file) from part_{entity}").fetchone()
    if entity == "orders" and files > 1:
        latest = f"greatest({', '.join(EVENTS)})"
        chosen += f"""
            join (
                select shop_id, order_id, _file from (
                    select shop_id, order_id, _file, _name, max({latest}) as latest from part_orders group by all
                )
                qualify row_number() over (
                    partition by shop_id, order_id order by latest desc nulls last, _name desc, _file desc
                ) = 1
            ) as w using (shop_id, order_id, _file)"""
    selected = ", ".join(f'"{name}"' for name in entity_columns(entity))
    # the row's place in the import: file, row, then the order it was added in (one file's rows are < 2^32)
    place = "(_file::hugeint << 96) + (coalesce(source_row, 0)::hugeint << 64) + _at"
    con.execute(
        f"""create or replace table "{entity}" as
        with chosen as ({chosen})
        select {selected} from chosen
        semi join (
            select max({place}) as place from chosen group by shop_id, {ROW_KEYS[entity]}
        ) as last on {place} = last.place
        order by _file, source_row"""
    )


def _append(con: duckdb.DuckDBPyConnection, entity: str, rows: pa.Table) -> None:
    con.register("incoming", rows)
    con.execute(f"insert into part_{entity} by name select * from incoming")
    con.unregister("incoming")


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector off while files are read: a file's rows form no reference cycles, and each full
    collection walks every live object (a quarter of a 2,000,000-line import's time went to it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class LazyExports:
    """Reads every file once, at extraction, into the canonical tables."""

    def __init__(
        self,
        files: list[Path],
        mappings: list[Mapping],
        pii_salt: str,
        shop_id: str | None,
        now: datetime | None,
        shops: dict[str, str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.files, self.mappings, self.pii_salt = files, mappings, pii_salt
        self.shop_id, self.now, self.shops = shop_id, now, shops
        self.cache = ParseCache(cache_dir) if cache_dir is not None else None
        self._tables: duckdb.DuckDBPyConnection | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._quarantine: list[dict] = []
        self._imports: list[dict] = []

    def _read(self) -> duckdb.DuckDBPyConnection:
        if self._tables is not None:
            return self._tables
        with cycle_collector_paused():
            self._tables = self._read_all()
        return self._tables

    def _read_all(self) -> duckdb.DuckDBPyConnection:
        con = self._connect()
        returns: list[tuple[dict, dict]] = []  # (refund row of a negative line, its file's import record)
        started = datetime.now(UTC)
        for number, path in enumerate(self.files):
            try:
                mapping, result = self._read_file(path)
            except FileImportError as exc:
                if not path.exists():
                    raise
                log.warning("not imported: %s", exc)
                self._quarantine.append(file_problem(path, str(exc)))
                continue
            entity = mapping.entity
            rows, negative = checked_rows(mapping, result)
            _append(con, entity, _numbered(rows, number, path.name))
            self._quarantine.extend(result.quarantine)
            record = {
                "source_file": path.name, "file_sha256": result.file_sha256,
                "shop_id": rows["shop_id"][0].as_py() if rows.num_rows else None, "mapping": mapping.name,
                "entity": entity, "rows_loaded": rows.num_rows + len(negative),
                "rows_set_aside": len(result.quarantine), "imported_at": started,
            }  # fmt: skip
            self._imports.append(record)
            returns += [(refund, record) for refund in negative]
            log.info("%s: %s rows as %s (%s), %s set aside", path.name, rows.num_rows, entity, mapping.name,
                     len(result.quarantine))  # fmt: skip
            del rows, result
        _combine(con, "orders")
        linked = self._link_returns(con, returns, started)
        if linked:  # after the files' refunds: a return counted from a negative line wins
            _append(
                con, "refunds", _numbered(arrow_table(linked, entity_columns("refunds")), len(self.files), "")
            )
        for entity in ENTITIES:
            if entity != "orders":
                _combine(con, entity)
        if self.cache is not None:
            self.cache.prune()
        return con

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB file of its own in a temporary folder (removed with this object): the files' rows go in as
        each is read and the tables are built there, so a big export costs disk, not memory."""
        self._workdir = tempfile.TemporaryDirectory(prefix="shopkeep-files-")
        con = duckdb.connect(str(Path(self._workdir.name) / "files.duckdb"), config=WORK_MEMORY)
        for entity in ENTITIES:
            columns = {
                **entity_columns(entity),
                "_file": {"data_type": "bigint"},
                "_name": {"data_type": "text"},
            }
            con.register("empty", empty_table(columns))
            con.execute(f"create table part_{entity} as select * from empty")
            con.unregister("empty")
        return con

    def _read_file(self, path: Path) -> tuple[Mapping, ImportResult]:
        """The file read through its mapping: from the parse cache when this very file was read the same way
        before, else parsed (and kept in the cache)."""
        if self.cache is None or not path.exists():
            return read_export(path, self.mappings, pii_salt=self.pii_salt, shop_id=self.shop_id, now=self.now,
                               shops=self.shops)  # fmt: skip
        key = cache_key(file_sha256(path), self.mappings, salt=self.pii_salt, shop_id=self.shop_id,
                        shops=self.shops, now=self.now)  # fmt: skip
        by_name = {m.name: m for m in self.mappings}
        cached = self.cache.get(key, entity_columns)
        if cached is not None and cached[0] in by_name:
            log.info("%s: unchanged since it was last read (parse cache)", path.name)
            return by_name[cached[0]], cached[1]
        mapping, result = read_export(path, self.mappings, pii_salt=self.pii_salt, shop_id=self.shop_id,
                                      now=self.now, shops=self.shops)  # fmt: skip
        self.cache.put(key, mapping, result, entity_columns(mapping.entity))
        return mapping, result

    def _link_returns(
        self, con: duckdb.DuckDBPyConnection, returns: list[tuple[dict, dict]], loaded_at: datetime
    ) -> list[dict]:
        """Negative lines become refunds of their order's line of the same SKU when that order is in the data;
        else they are set aside (a refund of an order nobody imported cannot be counted against anything)."""
        if not returns:
            return []
        wanted = pa.table({
            "shop_id": [r["shop_id"] for r, _ in returns], "order_id": [r["order_id"] for r, _ in returns]
        })  # fmt: skip
        con.register("wanted", wanted)
        found = con.execute(
            "select shop_id, order_id, line_id, sku_id, outer_id, currency from orders"
            " semi join wanted using (shop_id, order_id) order by source_row"
        ).fetchall()
        by_order: dict[tuple, list[dict]] = {}
        for shop_id, order_id, line_id, sku_id, outer_id, currency in found:
            by_order.setdefault((shop_id, order_id), []).append(
                {"line_id": line_id, "sku_id": sku_id, "outer_id": outer_id, "currency": currency}
            )
        linked = []
        for refund, record in returns:
            lines = by_order.get((refund["shop_id"], refund["order_id"]), [])
            line = next((r for r in lines if refund["sku_id"] in (r.get("sku_id"), r.get("outer_id"))), None)
            if line is not None:
                refund["line_id"] = line.get("line_id")
                refund["sku_id"] = line.get("sku_id") or line.get("outer_id")
                refund["currency"] = refund["currency"] or line.get("currency")
                linked.append(refund)
                continue
            why = (
                f"order {refund['order_id']} has no line of {refund['sku_id']}"
                if lines
                else f"order {refund['order_id']} is in no imported file"
            )
            self._quarantine.append({
                "source_file": refund["source_file"], "file_sha256": refund["file_sha256"], "sheet": "",
                "row_number": refund["source_row"],
                "reason": f"{refund['source_file']} row {refund['source_row']}: a negative line (a return of "
                          f"{refund['quantity']}) whose {why} — import the export holding the sale, or map the "
                          "column naming the original order to original_order_id",
                "raw_row": {}, "loaded_at": loaded_at,
            })  # fmt: skip
            record["rows_loaded"] -= 1
            record["rows_set_aside"] += 1
        return linked

    def rows(self, entity: str) -> Iterator[pa.Table]:
        """The entity's rows as Arrow tables of its typed columns (dlt loads them as they are, without
        normalising each row), in batches."""
        con = self._read()
        schema = arrow_schema(entity_columns(entity))
        cursor = con.cursor()  # its own: dlt takes the resources' batches in turns
        reader = cursor.sql(f'select * from "{entity}"').to_arrow_reader(BATCH_ROWS)
        empty = True
        for batch in reader:
            empty = False
            yield pa.Table.from_batches([batch]).cast(schema)
        if empty:
            yield schema.empty_table()

    def quarantined(self) -> Iterator[list[dict] | pa.Table]:
        self._read()
        yield self._quarantine or empty_table(QUARANTINE_COLUMNS)

    def imported(self) -> Iterator[list[dict] | pa.Table]:
        self._read()
        yield self._imports or empty_table(IMPORT_COLUMNS)

    def in_folder(self) -> Iterator[list[dict] | pa.Table]:
        self._read()
        yield [dict(record) for record in self._imports] or empty_table(IMPORT_COLUMNS)


@dlt.source(name="files")
def files_source(
    paths: list[str] | None = None,
    directory: str | None = None,
    mappings_dir: str | None = None,
    pii_salt: str | None = None,
    shop_id: str | None = None,
    now: datetime | None = None,
    shops: dict[str, str] | None = None,
    cache_dir: str | None = None,
):
    """Every export in `paths` and `directory`, read through the shipped mappings and the seller's own in
    `mappings_dir` (a file read the same way before comes from the parse cache in `cache_dir`, if given).
    Every entity's table is created (and replaced) even when no file of it is present."""
    salt = require_salt(pii_salt)
    mappings = [m for m in load_mappings(mappings_dir) if m.is_export]
    data = LazyExports(export_files(paths, directory), mappings, salt, shop_id, now, shops,
                       Path(cache_dir) if cache_dir else None)  # fmt: skip
    resources = [
        dlt.resource(
            data.rows(entity), name=entity, write_disposition="replace", columns=entity_columns(entity)
        )
        for entity in ENTITIES
    ]
    resources.append(
        dlt.resource(
            data.quarantined(),
            name="quarantine",
            write_disposition="replace",
            columns=QUARANTINE_COLUMNS,
        )
    )
    resources.append(  # the files in the folder at this import, as it read them (replaced each time)
        dlt.resource(data.in_folder(), name="folder", write_disposition="replace", columns=IMPORT_COLUMNS)
    )
    resources.append(
        dlt.resource(
            data.imported(),
            name="imports",
            write_disposition={"disposition": "merge", "strategy": "insert-only"},
            primary_key=("source_file", "file_sha256"),
            columns=IMPORT_COLUMNS,
        )
    )
    return resources


def files_pipeline(warehouse_path: str | Path, pipelines_dir: str | Path) -> dlt.Pipeline:
    """The pipeline loading exports into `raw_files` of the DuckDB file at `warehouse_path`."""
    return warehouse_pipeline(
        pipeline_name="files",
        dataset_name="raw_files",
        warehouse_path=warehouse_path,
        pipelines_dir=pipelines_dir,
    )


def import_files(
    pipeline: dlt.Pipeline,
    paths: list[str | Path] | None = None,
    *,
    directory: str | Path | None = None,
    pii_salt: str | None = None,
    shop_id: str | None = None,
    mappings_dir: str | Path | None = None,
    now: datetime | None = None,
    shops: dict[str, str] | None = None,
    cache_dir: str | Path | None = None,
) -> LoadInfo:
    """Import the exports at `paths` (and in `directory`); good rows always load, bad ones go to
    raw_files.quarantine. A missing file or folder raises FileImportError naming it."""
    for path in export_files(paths, directory):  # fail early, before dlt wraps the error
        if not path.exists():
            raise FileImportError(f"{path}: no such file — check the path")
    try:
        return pipeline.run(
            files_source(
                paths=[str(p) for p in paths or []],
                directory=str(directory) if directory else None,
                mappings_dir=str(mappings_dir) if mappings_dir else None,
                pii_salt=pii_salt,
                shop_id=shop_id,
                now=now,
                shops=shops,
                cache_dir=str(cache_dir) if cache_dir else None,
            )
        )
    except PipelineStepFailed as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, FileImportError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        raise cause from None
