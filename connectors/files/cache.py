"""What an export read to, kept beside the dlt state so the next import does not parse an unchanged file again.

Every import reads the whole exports folder (a file is the unit of truth), so a seller's multi-year export would
otherwise be parsed on every hourly run. An entry is found only by everything the reading depends on: the file's
content hash, every mapping's content, the buyer-data salt (as a keyed hash, never in the clear), the shop and the
configured shops, the day (a time stamp in the future is set aside, and tomorrow it may not be) and the
importer's own code. The rows are kept as an Arrow IPC file of the entity's typed columns (buyer data is already
hashed in them), the set-aside rows as JSON; entries the latest import did not use are removed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc

from connectors.common.pii import pii_hash
from connectors.files.mapping import Mapping
from connectors.files.product_master import arrow_schema
from connectors.files.workbook import ImportResult

CODE = hashlib.sha256(
    b"".join(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py")))
).hexdigest()
"""The importer's own code: a change to any of it reads every file again."""


def cache_key(file_sha: str, mappings: list[Mapping], *, salt: str, shop_id: str | None,
              shops: dict[str, str] | None, now: datetime | None) -> str:  # fmt: skip
    day = (now or datetime.now(UTC)).astimezone(UTC).date().isoformat()
    parts = {
        "file": file_sha,
        "mappings": sorted((m.name, hashlib.sha256(m.path.read_bytes()).hexdigest()) for m in mappings),
        "salt": pii_hash("shopkeep-cache", salt),
        "shop": shop_id,
        "shops": sorted((shops or {}).items()),
        "day": day,
        "code": CODE,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class ParseCache:
    """Entries under `directory`, one pair of files per key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.used: set[str] = set()

    def get(
        self, key: str, columns_of: Callable[[str], dict[str, dict[str, Any]]]
    ) -> tuple[str, ImportResult] | None:
        """(mapping name, the file's read) or None when there is no entry (or it cannot be read);
        `columns_of(entity)` gives the entity's typed columns the rows were kept in."""
        rows_file, meta_file = self.directory / f"{key}.arrow", self.directory / f"{key}.json"
        if not (rows_file.exists() and meta_file.exists()):
            return None
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            with pa.ipc.open_file(pa.memory_map(str(rows_file))) as reader:
                table = reader.read_all()  # mapped, not copied: the pages are read as they are used
        except (OSError, ValueError, pa.ArrowException):
            return None
        if table.schema != arrow_schema(columns_of(meta["table"])):
            return None
        self.used.add(key)
        loaded_at = datetime.now(UTC)
        result = ImportResult(
            source_file=meta["source_file"], file_sha256=meta["file_sha256"], loaded_at=loaded_at
        )
        result.tables[meta["table"]] = table
        result.quarantine = [{**q, "loaded_at": loaded_at} for q in meta["quarantine"]]
        return meta["mapping"], result

    def put(
        self, key: str, mapping: Mapping, result: ImportResult, columns: dict[str, dict[str, Any]]
    ) -> None:
        """Keep the read; a cache that cannot be written only costs the next import a parse."""
        table_name = mapping.sheets[0].table
        table = result.tables[table_name]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            table = table.cast(arrow_schema(columns))
            with pa.ipc.new_file(self.directory / f"{key}.arrow", table.schema) as writer:
                writer.write_table(table)
            meta = {
                "mapping": mapping.name, "table": table_name, "source_file": result.source_file,
                "file_sha256": result.file_sha256,
                "quarantine": [{k: v for k, v in q.items() if k != "loaded_at"} for q in result.quarantine],
            }  # fmt: skip
            (self.directory / f"{key}.json").write_text(
                json.dumps(meta, ensure_ascii=False), encoding="utf-8"
            )
        except (OSError, ValueError, TypeError, pa.ArrowException):
            return
        self.used.add(key)

    def prune(self) -> None:
        """Remove the entries this import did not use (files since changed or deleted, older code or days)."""
        if not self.directory.is_dir():
            return
        for entry in self.directory.iterdir():
            if entry.suffix in (".arrow", ".json") and entry.stem not in self.used:
                entry.unlink(missing_ok=True)
