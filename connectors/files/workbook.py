"""Read an XLSX workbook through a column mapping: typed rows per table, and every row that can't be accepted
in a quarantine list with its Excel row number and a reason a person can act on."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl

from connectors.files.cells import FIX_HINT, PARSERS, CellError, is_blank, json_safe
from connectors.files.mapping import ColumnSpec, Mapping, SheetSpec, normalize_header


class FileImportError(ValueError):
    """A file that cannot be imported at all (missing sheet or required column): names the file and what to fix."""


@dataclass
class ImportResult:
    """What a file import produced: accepted rows per table and quarantined rows."""

    source_file: str
    file_sha256: str
    loaded_at: datetime
    tables: dict[str, list[dict]] = field(default_factory=dict)
    quarantine: list[dict] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _show(value: Any) -> str:
    return str(json_safe(value))


def _header_index(path: Path, spec: SheetSpec, header_row: tuple) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, header in enumerate(header_row):
        name = normalize_header(header)
        if name and name not in found:
            found[name] = i
    missing = [c.header for c in spec.columns if c.required and c.header not in found]
    if missing:
        raise FileImportError(
            f"{path}: sheet {spec.sheet!r} has no column {', '.join(repr(m) for m in missing)} in row 1 "
            f"(found: {', '.join(repr(h) for h in found) or 'no headers'}) — add the column header and re-import"
        )
    return found


def _check_cell(spec: SheetSpec, col: ColumnSpec, raw: Any, known: dict[str, set]) -> tuple[Any, str | None]:
    """The typed value of one cell, or a problem sentence."""
    if is_blank(raw):
        if col.not_null and col.default is None:
            return None, f"{col.header} is empty — fill it in and re-import"
        return col.default, None
    try:
        value = PARSERS[col.type](raw)
    except CellError as exc:
        return None, f"{col.header} '{_show(raw)}' {exc} — {FIX_HINT[col.type]}"
    if col.min is not None and value < col.min:
        word = "negative" if col.min == 0 else f"below {col.min:g}"
        return None, f"{col.header} '{_show(raw)}' is {word} — fix the cell and re-import"
    if col.references:
        table, column = col.references.split(".")
        if value not in known.get(col.references, set()):
            return None, (f"{col.header} '{value}' is not a {column} on the {table} sheet (or that row was "
                          f"quarantined) — add it there or fix the code, and re-import")
    return value, None


def _sheet_rows(path: Path, spec: SheetSpec, rows: Iterator[tuple], known: dict[str, set],
                result: ImportResult) -> list[dict]:
    header_row = next(rows, ())
    index = _header_index(path, spec, header_row)
    headers = [normalize_header(h) for h in header_row]
    accepted: list[dict] = []
    first_seen: dict[tuple, int] = {}
    for row_number, values in enumerate(rows, start=2):
        if all(is_blank(v) for v in values):
            continue
        row: dict[str, Any] = {}
        problems: list[str] = []
        for col in spec.columns:
            raw = values[index[col.header]] if col.header in index and index[col.header] < len(values) else None
            row[col.name], problem = _check_cell(spec, col, raw, known)
            if problem:
                problems.append(problem)
        key = tuple(row[k] for k in spec.primary_key)
        if not problems and spec.primary_key:
            if key in first_seen:
                label = "+".join(spec.column(k).header for k in spec.primary_key)
                problems.append(f"{label} '{', '.join(map(str, key))}' repeats row {first_seen[key]} — keep one "
                                "row per code (delete or rename the duplicate) and re-import")
            else:
                first_seen[key] = row_number
        if problems:
            raw_row = {h or f"column {i + 1}": json_safe(v) for i, (h, v) in enumerate(zip(headers, values, strict=False))
                       if h or not is_blank(v)}
            result.quarantine.append({
                "source_file": result.source_file,
                "file_sha256": result.file_sha256,
                "sheet": spec.sheet,
                "row_number": row_number,
                "reason": f"{spec.sheet} row {row_number}: " + "; ".join(problems),
                "raw_row": raw_row,
                "loaded_at": result.loaded_at,
            })
            continue
        accepted.append({**row, "source_file": result.source_file, "source_row": row_number})
    for col in spec.columns:
        if len(spec.primary_key) == 1 and col.name == spec.primary_key[0]:
            known[f"{spec.table}.{col.name}"] = {r[col.name] for r in accepted}
    return accepted


def read_workbook(path: str | Path, mapping: Mapping) -> ImportResult:
    """Every sheet of `mapping` read from the XLSX at `path`, in the mapping's order (so `references` can
    point at sheets above)."""
    path = Path(path)
    if not path.exists():
        raise FileImportError(f"{path}: no such file — check the path (e.g. [product_master].path in shopkeep.toml)")
    result = ImportResult(source_file=path.name, file_sha256=file_sha256(path), loaded_at=datetime.now(UTC))
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not an XLSX
        raise FileImportError(f"{path}: not a readable XLSX workbook ({exc}) — save it as .xlsx and re-import") \
            from None
    try:
        sheets = {normalize_header(name): name for name in workbook.sheetnames}
        known: dict[str, set] = {}
        for spec in mapping.sheets:
            name = sheets.get(normalize_header(spec.sheet))
            if name is None:
                raise FileImportError(
                    f"{path}: no sheet {spec.sheet!r} (found: {', '.join(workbook.sheetnames)}) — the "
                    f"{mapping.name} mapping ({mapping.path.name}) needs it"
                )
            rows = workbook[name].iter_rows(values_only=True)
            result.tables[spec.table] = _sheet_rows(path, spec, rows, known, result)
    finally:
        workbook.close()
    return result
