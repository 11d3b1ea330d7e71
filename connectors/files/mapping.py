"""Column mappings of file exports: one YAML file per export format under `connectors/files/mappings/`."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connectors.common.loading import MONEY
from connectors.common.pii import is_pii_key
from connectors.files.cells import PARSERS

MAPPINGS_DIR = Path(__file__).parent / "mappings"

DLT_TYPES: dict[str, dict[str, Any]] = {
    "text": {"data_type": "text"},
    "decimal": dict(MONEY),
    "int": {"data_type": "bigint"},
    "date": {"data_type": "date"},
    "bool": {"data_type": "bool"},
    "id": {"data_type": "text"},
    "datetime": {"data_type": "timestamp", "timezone": True},
}


def normalize_header(header: object) -> str:
    """Headers compare after trimming whitespace and folding full-width forms (（天） == (天))."""
    return unicodedata.normalize("NFKC", str(header)).strip() if header is not None else ""


@dataclass(frozen=True)
class ColumnSpec:
    header: str
    name: str
    type: str
    required: bool = False
    not_null: bool = False
    min: float | None = None
    references: str | None = None
    default: Any = None
    pii: bool = False  # hashed (pii_hash) before it lands; the clear value never reaches the warehouse
    values: tuple[str, ...] | None = None  # the only texts accepted (e.g. the back office's status texts)
    pattern: str | None = None  # a regular expression the text must match in full
    pattern_hint: str | None = None  # what a matching value looks like, for the quarantine reason
    not_before: str | None = None  # another (datetime) column this one may not precede
    multiple: bool = False  # the cell lists several codes (split on , ， 、 ; or spaces), kept joined by ","


@dataclass(frozen=True)
class SheetSpec:
    sheet: str
    table: str
    primary_key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    optional: bool = False  # a workbook without this sheet still imports (the table is then empty)
    occurrence: str | None = None
    """A column the importer fills, not a header: the n-th row (1, 2, …) of the file with the same values of the
    primary key's other columns. For exports with no line id (one order may list the same SKU on two lines), it
    ends the primary key, so both lines land and re-importing the file gives them the same numbers."""

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    def dlt_columns(self) -> dict[str, dict[str, Any]]:
        hints = {c.name: dict(DLT_TYPES[c.type]) for c in self.columns}
        if self.occurrence:
            hints[self.occurrence] = dict(DLT_TYPES["int"])
        for key in self.primary_key:
            hints[key]["nullable"] = False
        return hints


@dataclass(frozen=True)
class Mapping:
    """A workbook mapping (`sheets:`, like the product master) or a single-table export mapping (`table:`,
    `columns:` at the top): an export is one CSV or the first sheet of an XLSX."""

    name: str
    description: str
    sheets: tuple[SheetSpec, ...]
    path: Path
    channel: str | None = None
    kind: str | None = None  # orders | refunds | products | stock
    filename: str | None = None  # glob on the file name that selects this mapping without looking at headers
    timezone: str = "Asia/Shanghai"  # the zone of the export's date-times (platform back offices: GMT+8)

    @property
    def is_export(self) -> bool:
        return len(self.sheets) == 1 and self.sheets[0].sheet == FIRST_SHEET

    def signature(self) -> set[str]:
        """The headers a file must have to be recognised as this export: its required columns."""
        return {c.header for spec in self.sheets for c in spec.columns if c.required}


FIRST_SHEET = "*"


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the entry to fix."""


def load_mapping(name_or_path: str | Path) -> Mapping:
    """The mapping `mappings/<name>.yaml` (or a YAML file at a path), validated."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise MappingError(f"no column mapping at {path}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or "name" not in raw:
        raise MappingError(f"{path}: not a column mapping (it needs at least name: and columns: or sheets:)")
    if "columns" in raw:
        raw["sheets"] = [{"sheet": FIRST_SHEET, "table": raw.get("table"), "primary_key": raw.get("primary_key"),
                          "columns": raw["columns"], "occurrence": raw.get("occurrence")}]
    sheets = []
    for i, sheet in enumerate(raw.get("sheets") or []):
        where = f"{path.name}, sheets[{i}] ({sheet.get('sheet')})"
        columns = []
        for col in sheet.get("columns") or []:
            if col.get("type") not in PARSERS:
                raise MappingError(f"{where}: column {col.get('header')!r} has type {col.get('type')!r}; "
                                   f"use one of {', '.join(PARSERS)}")
            if unknown := set(col) - set(ColumnSpec.__dataclass_fields__):
                raise MappingError(f"{where}: column {col.get('header')!r} has unknown options {sorted(unknown)}")
            if "pii" not in col and (is_pii_key(str(col.get("header"))) or is_pii_key(str(col.get("name")))):
                raise MappingError(
                    f"{where}: column {col.get('header')!r} looks like buyer data (a name, phone, address or "
                    "buyer id) — add `pii: true` so it is hashed before it lands (`pii: false` if it is not)"
                )
            if col.get("values") is not None:
                col["values"] = tuple(normalize_header(v) for v in col["values"])
            columns.append(ColumnSpec(**{**col, "header": normalize_header(col["header"])}))
        names = {c.name for c in columns}
        if not sheet.get("table"):
            raise MappingError(f"{where}: no table: — name the raw_files table the rows land in")
        if bad := [c.not_before for c in columns if c.not_before and c.not_before not in names]:
            raise MappingError(f"{where}: not_before names unknown columns {bad}")
        key = tuple(sheet.get("primary_key") or ())
        occurrence = sheet.get("occurrence")
        if occurrence and key[-1:] != (occurrence,):
            raise MappingError(f"{where}: occurrence: {occurrence} must be the last column of primary_key")
        if missing := [k for k in key if k not in names and k != occurrence]:
            raise MappingError(f"{where}: primary_key names unknown columns {missing}")
        sheets.append(SheetSpec(sheet=sheet["sheet"], table=sheet["table"], primary_key=key,
                                columns=tuple(columns), optional=bool(sheet.get("optional", False)),
                                occurrence=occurrence))
    return Mapping(name=raw["name"], description=raw.get("description", ""), sheets=tuple(sheets), path=path,
                   channel=raw.get("channel"), kind=raw.get("kind"), filename=raw.get("filename"),
                   timezone=raw.get("timezone", "Asia/Shanghai"))


def load_mappings(directory: str | Path | None = None) -> list[Mapping]:
    """Every mapping in `directory` (default: the shipped `mappings/`), sorted by name."""
    directory = Path(directory) if directory else MAPPINGS_DIR
    return [load_mapping(p) for p in sorted(directory.glob("*.y*ml"))]
