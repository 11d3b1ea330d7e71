"""Column mappings of file exports: one YAML file per export format under `connectors/files/mappings/`."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connectors.common.loading import MONEY
from connectors.files.cells import PARSERS

MAPPINGS_DIR = Path(__file__).parent / "mappings"

DLT_TYPES: dict[str, dict[str, Any]] = {
    "text": {"data_type": "text"},
    "decimal": dict(MONEY),
    "int": {"data_type": "bigint"},
    "date": {"data_type": "date"},
    "bool": {"data_type": "bool"},
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


@dataclass(frozen=True)
class SheetSpec:
    sheet: str
    table: str
    primary_key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    def dlt_columns(self) -> dict[str, dict[str, Any]]:
        hints = {c.name: dict(DLT_TYPES[c.type]) for c in self.columns}
        for key in self.primary_key:
            hints[key]["nullable"] = False
        return hints


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    sheets: tuple[SheetSpec, ...]
    path: Path


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
    sheets = []
    for i, sheet in enumerate(raw.get("sheets") or []):
        where = f"{path.name}, sheets[{i}] ({sheet.get('sheet')})"
        columns = []
        for col in sheet.get("columns") or []:
            if col.get("type") not in PARSERS:
                raise MappingError(f"{where}: column {col.get('header')!r} has type {col.get('type')!r}; "
                                   f"use one of {', '.join(PARSERS)}")
            columns.append(ColumnSpec(**{**col, "header": normalize_header(col["header"])}))
        names = {c.name for c in columns}
        key = tuple(sheet.get("primary_key") or ())
        if missing := [k for k in key if k not in names]:
            raise MappingError(f"{where}: primary_key names unknown columns {missing}")
        sheets.append(SheetSpec(sheet=sheet["sheet"], table=sheet["table"], primary_key=key,
                                columns=tuple(columns)))
    return Mapping(name=raw["name"], description=raw.get("description", ""), sheets=tuple(sheets), path=path)
