"""Read one platform export (CSV in any of the usual encodings, or the first sheet of an XLSX): recognise its
format by its headers (or a mapping's filename pattern), take the shop from the file name, and type, check and
hash its rows through the mapping.

File names: `<shop_id>__<anything>.csv|xlsx` (e.g. `tmall_flagship__orders_2025.csv`) — the part before the
double underscore is the configured shop id. A file named otherwise needs the shop given by the caller
(`shop_id=`); a file with neither is not imported (its quarantine row says how to name it).
"""

from __future__ import annotations

import csv
import fnmatch
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl

from connectors.files.encoding import decode
from connectors.files.mapping import Mapping, normalize_header
from connectors.files.workbook import FileImportError, ImportResult, RowRules, _sheet_rows, file_sha256

SUFFIXES = (".csv", ".xlsx")


def shop_id_from_name(path: Path) -> str | None:
    """`tmall_flagship__orders.csv` -> `tmall_flagship`; None when the name has no `__`."""
    stem = path.stem
    return stem.split("__", 1)[0] if "__" in stem and stem.split("__", 1)[0] else None


def open_rows(path: Path) -> tuple[Iterator[tuple], str, str | None]:
    """(rows incl. the header row, sheet name ('' for a CSV), detected encoding (None for an XLSX))."""
    if path.suffix.lower() == ".csv":
        text, encoding = decode(path.read_bytes())
        return (tuple(r) for r in csv.reader(io.StringIO(text, newline=""))), "", encoding
    if path.suffix.lower() == ".xlsx":
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several types for a file that is not an XLSX
            raise FileImportError(f"{path}: not a readable XLSX workbook ({exc}) — save it as .xlsx and re-import") \
                from None
        sheet = book.worksheets[0]
        rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
        book.close()
        return iter(rows), sheet.title, None
    raise FileImportError(f"{path}: only .csv and .xlsx exports can be imported — save it as one of those")


def detect_mapping(path: Path, header: tuple, mappings: list[Mapping]) -> Mapping:
    """The export mapping whose filename pattern matches, else the one whose required headers all appear in
    `header` (the most specific one when several do)."""
    exports = [m for m in mappings if m.is_export]
    for mapping in exports:
        if mapping.filename and fnmatch.fnmatch(path.name, mapping.filename):
            return mapping
    found = {normalize_header(h) for h in header if h is not None}
    fits = [m for m in exports if m.signature() <= found]
    if not fits:
        closest = max(exports, key=lambda m: len(m.signature() & found), default=None)
        hint = ""
        if closest is not None:
            missing = sorted(closest.signature() - found)
            hint = f"; closest is {closest.name} ({closest.path.name}), which also needs {', '.join(missing)}"
        raise FileImportError(
            f"{path.name}: no column mapping recognises its header row{hint} — check it is a platform export "
            "with its header in row 1, or add a mapping under connectors/files/mappings/"
        )
    fits.sort(key=lambda m: len(m.signature()), reverse=True)
    if len(fits) > 1 and len(fits[0].signature()) == len(fits[1].signature()):
        raise FileImportError(f"{path.name}: both {fits[0].name} and {fits[1].name} fit its headers — give one "
                              "of them a filename: pattern")
    return fits[0]


def read_export(path: str | Path, mappings: list[Mapping], *, pii_salt: str, shop_id: str | None = None,
                now: datetime | None = None) -> tuple[Mapping, ImportResult]:
    """The mapping that fits the file and the file's accepted and quarantined rows."""
    path = Path(path)
    if not path.exists():
        raise FileImportError(f"{path}: no such file — check the path")
    shop = shop_id_from_name(path) or shop_id
    if not shop:
        raise FileImportError(f"{path.name}: which shop is it from? name the file <shop_id>__<kind>{path.suffix} "
                              f"(e.g. tmall_flagship__orders{path.suffix}) or pass the shop id")
    rows, sheet, encoding = open_rows(path)
    header = next(rows, ())
    mapping = detect_mapping(path, header, mappings)
    sha = file_sha256(path)
    result = ImportResult(source_file=path.name, file_sha256=sha, loaded_at=datetime.now(UTC))
    rules = RowRules(
        salt=pii_salt, timezone=mapping.timezone, now=now or datetime.now(UTC), encoding=encoding,
        width_checked=True, short_rows_checked=encoding is not None,
        extra={"shop_id": shop, "file_sha256": sha},
    )
    spec = mapping.sheets[0]
    result.tables[spec.table] = _sheet_rows(path, spec, _with_header(header, rows), {}, result, rules,
                                            sheet_name=sheet)
    return mapping, result


def _with_header(header: tuple, rows: Iterator[tuple]) -> Iterator[tuple]:
    yield header
    yield from rows


def file_problem(path: Path, reason: str) -> dict[str, Any]:
    """A quarantine row for a file that could not be imported at all (row 0)."""
    sha = file_sha256(path) if path.exists() else ""
    return {"source_file": path.name, "file_sha256": sha, "sheet": "", "row_number": 0, "reason": reason,
            "raw_row": {}, "loaded_at": datetime.now(UTC)}
