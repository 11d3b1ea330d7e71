"""Column mappings of files: one YAML file per layout. The shipped ones (`connectors/files/mappings/`) read the
four marketplaces' back-office exports and the product master; a seller's own (`[files] mappings_dir`) read any
other layout. An export mapping names the canonical entity its rows become (orders, refunds, settlements, ad_spend), which
canonical column each header fills, value maps for texts (status, reason, fee type) and constants; every export
of an entity lands in one raw table whatever its layout (see ENTITIES)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connectors.common.loading import MONEY
from connectors.common.pii import is_pii_key
from connectors.files.cells import PARSERS

MAPPINGS_DIR = Path(__file__).parent / "mappings"
REASON_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "refund_reason_map.csv"


@dataclass(frozen=True)
class Entity:
    """A canonical entity an export's rows become: its raw table's columns (name -> type), the columns a
    mapping must fill (a tuple inside the tuple: one of them), the canonical values a value map may produce,
    and where a mapped column's original text is kept."""

    columns: dict[str, str]
    required: tuple[str | tuple[str, ...], ...]
    values: dict[str, tuple[str, ...]]
    text_of: dict[str, str]
    key: tuple[str, ...]  # the row's identity within a shop, when the mapping declares no primary_key
    fallback_keys: tuple[tuple[str, ...], ...] = ()  # when a key column is not mapped: the first of these
    # whose columns are, plus the row's occurrence among rows with the same values
    occurrence: str | None = None


ORDER_STATUSES = ("pending_payment", "paid", "shipped", "completed", "cancelled", "closed", "refunded")
"""`closed` is the marketplaces' 交易关闭/已取消: refunded when the order was paid, else cancelled."""

ENTITIES: dict[str, Entity] = {
    "orders": Entity(
        columns={
            "order_id": "id",
            "line_id": "id",
            "order_status": "text",
            "platform_status": "text",
            "created_at": "datetime",
            "paid_at": "datetime",
            "shipped_at": "datetime",
            "completed_at": "datetime",
            "closed_at": "datetime",
            "buyer_id_hash": "text",
            "receiver_name_hash": "text",
            "receiver_phone_hash": "text",
            "province": "text",
            "city": "text",
            "district": "text",
            "address_hash": "text",
            "buyer_remark": "text",
            "seller_remark": "text",
            "currency": "text",
            "shipping_amount": "decimal",
            "order_paid_amount": "decimal",
            "product_id": "id",
            "sku_id": "id",
            "outer_id": "text",
            "title": "text",
            "quantity": "int",
            "unit_price": "decimal",
            "line_list_amount": "decimal",
            "line_merchant_discount": "decimal",
            "line_platform_discount": "decimal",
            "line_paid_amount": "decimal",
            "original_order_id": "id",
        },
        required=(
            "order_id",
            "order_status",
            "created_at",
            "quantity",
            ("sku_id", "outer_id"),
            ("unit_price", "line_list_amount"),
        ),
        values={"order_status": ORDER_STATUSES},
        text_of={"order_status": "platform_status"},
        key=("order_id", "line_id"),
        fallback_keys=(("order_id", "sku_id"), ("order_id", "outer_id"), ("order_id",)),
        occurrence="sku_occurrence",
    ),
    "refunds": Entity(
        columns={
            "refund_id": "id",
            "order_id": "id",
            "line_id": "id",
            "sku_id": "id",
            "refund_status": "text",
            "platform_status": "text",
            "created_at": "datetime",
            "quantity": "int",
            "refund_amount": "decimal",
            "reason_text": "text",
            "reason_code": "text",
            "goods_returned": "bool",
            "restocked": "bool",
            "currency": "text",
        },
        required=("refund_id", "order_id", "refund_status", "created_at", "quantity", "refund_amount"),
        values={"refund_status": ("success", "closed", "processing")},
        text_of={"refund_status": "platform_status", "reason_code": "reason_text"},
        key=("refund_id",),
    ),
    "settlements": Entity(
        columns={
            "entry_id": "id",
            "bill_line_id": "id",
            "order_id": "id",
            "bill_type": "text",
            "platform_bill_type": "text",
            "direction": "text",
            "amount": "decimal",
            "income_amount": "decimal",
            "expense_amount": "decimal",
            "settle_time": "datetime",
            "bill_date": "date",
            "remark": "text",
            "currency": "text",
        },
        required=(
            "bill_line_id",
            "order_id",
            "bill_type",
            ("amount", "income_amount", "expense_amount"),
            ("bill_date", "settle_time"),
        ),
        values={
            "bill_type": ("income", "commission", "service_fee", "affiliate_commission", "refund", "subsidy"),
            "direction": ("in", "out"),
        },
        text_of={"bill_type": "platform_bill_type"},
        key=("entry_id",),
        fallback_keys=(("bill_line_id",),),
        occurrence="entry_occurrence",
    ),
    "ad_spend": Entity(  # the ad platforms' daily reports (直通车/万相台, 京准通, 多多推广, 巨量千川)
        columns={
            "spend_date": "date",
            "campaign_id": "id",
            "campaign_name": "text",
            "ad_product": "text",
            "spend": "decimal",
            "impressions": "int",
            "clicks": "int",
            "attributed_orders": "int",
            "attributed_gmv": "decimal",
            "currency": "text",
        },
        required=("spend_date", "spend", ("campaign_id", "campaign_name")),
        values={},
        text_of={},
        key=("spend_date", "campaign_id"),
        fallback_keys=(("spend_date", "campaign_name"),),
        occurrence="campaign_occurrence",
    ),
}


def reason_codes() -> tuple[str, ...]:
    """The canonical refund reasons: the codes of the refund_reason_map seed (one list, in dbt)."""
    import csv

    with REASON_SEED.open(encoding="utf-8", newline="") as handle:
        return tuple(sorted({row["reason_code"] for row in csv.DictReader(handle)}))


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
    map: dict[str, str] | None = (
        None  # value map: the file's texts -> canonical values (others are set aside)
    )
    prefix: str | None = None  # removed from the start of the value when present (T200P3900… -> 3900…)
    format: str | None = None  # strptime format of a date/datetime column the common forms don't cover


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
    files: tuple[str, ...] = ()  # globs on the file name that select this mapping without looking at headers
    timezone: str = "Asia/Shanghai"  # the zone of the export's date-times (platform back offices: GMT+8)
    entity: str | None = None  # orders | refunds | settlements | ad_spend (an export mapping)
    shops: tuple[str, ...] = ()  # globs on the shop ids the mapping applies to (none: every shop)
    constants: dict[str, Any] | None = None  # canonical columns every row gets (currency: USD, …)
    decimal_comma: bool = False  # 12,34 means 12.34 (and 1.234,56 means 1234.56)
    sheet_name: str | None = None  # the XLSX sheet to read (default: the first one)
    negative_lines: str = "refuse"  # orders: a line with a negative quantity is set aside (refuse) or is a
    # return of its order (returns): a refund of that many units and that amount

    @property
    def is_export(self) -> bool:
        return self.entity is not None

    def signature(self) -> set[str]:
        """The headers a file must have to be recognised as this export: its required columns."""
        return {c.header for spec in self.sheets for c in spec.columns if c.required}


FIRST_SHEET = "*"
NEGATIVE_LINES = ("refuse", "returns")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the entry to fix."""


TOP_LEVEL = {
    "name",
    "description",
    "channel",
    "kind",
    "entity",
    "table",
    "primary_key",
    "occurrence",
    "columns",
    "sheets",
    "filename",
    "files",
    "timezone",
    "shops",
    "constants",
    "decimal_comma",
    "sheet",
    "negative_lines",
}


class _Loader(yaml.SafeLoader):
    """YAML as sellers write it: only true/false are booleans — a header `No`, `Yes`, `On` or `Off` (YAML 1.1
    would read them as booleans) stays the text it is."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list | tuple) else [value]))


def _export_sheet(raw: dict, path: Path) -> dict:
    """The single sheet of an export mapping (`entity:` or `table:` with `columns:` at the top), its columns
    checked against the entity: canonical names, default types, value maps, the key."""
    entity_name = raw.get("entity") or raw.get("kind")
    entity = ENTITIES.get(entity_name)
    if entity is None:
        raise MappingError(
            f"{path.name}: entity: {entity_name!r} — an export mapping needs entity: one of "
            f"{', '.join(ENTITIES)}"
        )
    columns = []
    for i, col in enumerate(raw["columns"] or []):
        if not isinstance(col, dict) or "header" not in col or "name" not in col:
            raise MappingError(
                f"{path.name}, columns[{i}]: needs header: (the file's) and name: (the canonical "
                "column it fills)"
            )
        name = col["name"]
        if name not in entity.columns:
            raise MappingError(
                f"{path.name}, column {col['header']!r}: name {name!r} is not a column of "
                f"{entity_name}; use one of {', '.join(entity.columns)}"
            )
        col = {"type": entity.columns[name], **col}
        if name.endswith("_hash"):
            col.setdefault("pii", True)
        if col.get("map") is not None:
            if not isinstance(col["map"], dict) or not col["map"]:
                raise MappingError(f"{path.name}, column {col['header']!r}: map: must list text: value pairs")
            allowed = entity.values.get(name) or (reason_codes() if name == "reason_code" else None)
            if allowed is None:
                raise MappingError(
                    f"{path.name}, column {col['header']!r}: {name} takes no value map (maps are "
                    f"for {', '.join([*entity.values, 'reason_code'])})"
                )
            if bad := sorted({str(v) for v in col["map"].values()} - set(allowed)):
                raise MappingError(
                    f"{path.name}, column {col['header']!r}: map gives {', '.join(bad)}, which "
                    f"{name} does not know; use {', '.join(allowed)}"
                )
            col["map"] = {normalize_header(k): str(v) for k, v in col["map"].items()}
        elif name in entity.values:
            raise MappingError(
                f"{path.name}, column {col['header']!r}: {name} needs a map: from the file's texts "
                f"to {', '.join(entity.values[name])}"
            )
        columns.append(col)
    constants = raw.get("constants") or {}
    if not isinstance(constants, dict):
        raise MappingError(f"{path.name}: constants: must be name: value pairs")
    mapped = {c["name"] for c in columns}
    if unknown := sorted(set(constants) - set(entity.columns)):
        raise MappingError(
            f"{path.name}: constants {unknown} are not columns of {entity_name}; use "
            f"{', '.join(entity.columns)}"
        )
    if clash := sorted(set(constants) & mapped):
        raise MappingError(f"{path.name}: {clash} is both a column and a constant — keep one")
    for name, value in constants.items():
        if name in entity.values and str(value) not in entity.values[name]:
            raise MappingError(
                f"{path.name}: constant {name}: {value!r}; use one of {', '.join(entity.values[name])}"
            )
    filled = mapped | set(constants)
    for need in entity.required:
        options = need if isinstance(need, tuple) else (need,)
        if not filled & set(options):
            raise MappingError(
                f"{path.name}: no column fills {' or '.join(options)} ({entity_name} need it) — "
                "add the header that holds it, or a constant"
            )
    for col in columns:  # the headers the file must have: every column filling a required canonical column
        if any(col["name"] == need for need in entity.required if isinstance(need, str)):
            col.setdefault("required", True)
            col.setdefault("not_null", True)
    key = raw.get("primary_key")
    occurrence = raw.get("occurrence")
    if key is None:
        if all(k in mapped for k in entity.key):
            key = list(entity.key)
        else:
            fallback = next((f for f in entity.fallback_keys if all(k in mapped for k in f)), None)
            if fallback is None:
                raise MappingError(
                    f"{path.name}: rows of {entity_name} need {' + '.join(entity.key)} to be told "
                    "apart — map the header that holds it"
                )
            key, occurrence = [*fallback, entity.occurrence], entity.occurrence
    return {
        "sheet": raw.get("sheet") or FIRST_SHEET,
        "table": entity_name,
        "primary_key": key,
        "columns": columns,
        "occurrence": occurrence,
    }


def load_mapping(name_or_path: str | Path) -> Mapping:
    """The mapping `mappings/<name>.yaml` (or a YAML file at a path), validated."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise MappingError(f"no column mapping at {path}")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise MappingError(
            f"{path}: not valid YAML ({str(exc).splitlines()[0]}) — fix the line it names"
        ) from None
    if not isinstance(raw, dict) or "name" not in raw:
        raise MappingError(f"{path}: not a column mapping (it needs at least name: and columns: or sheets:)")
    if unknown := sorted(set(raw) - TOP_LEVEL):
        raise MappingError(
            f"{path.name}: unknown keys {unknown}; a mapping has {', '.join(sorted(TOP_LEVEL))}"
        )
    negative = str(raw.get("negative_lines", "refuse"))
    if negative not in NEGATIVE_LINES or (negative != "refuse" and raw.get("entity") != "orders"):
        raise MappingError(
            f"{path.name}: negative_lines: {negative!r} — use returns (a negative line of an orders "
            "export is a return of its order) or refuse (set it aside, the default)"
        )
    export = "columns" in raw
    if export:
        raw["sheets"] = [_export_sheet(raw, path)]
    sheets = []
    for i, sheet in enumerate(raw.get("sheets") or []):
        where = f"{path.name}, sheets[{i}] ({sheet.get('sheet')})"
        columns = []
        for col in sheet.get("columns") or []:
            if col.get("type") not in PARSERS:
                raise MappingError(
                    f"{where}: column {col.get('header')!r} has type {col.get('type')!r}; "
                    f"use one of {', '.join(PARSERS)}"
                )
            if unknown := set(col) - set(ColumnSpec.__dataclass_fields__):
                raise MappingError(
                    f"{where}: column {col.get('header')!r} has unknown options {sorted(unknown)}"
                )
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
        if len({c.header for c in columns}) < len(columns):
            raise MappingError(f"{where}: a header is mapped twice — map each header once")
        sheets.append(
            SheetSpec(
                sheet=sheet["sheet"],
                table=sheet["table"],
                primary_key=key,
                columns=tuple(columns),
                optional=bool(sheet.get("optional", False)),
                occurrence=occurrence,
            )
        )
    files = _as_tuple(raw.get("files")) + _as_tuple(raw.get("filename"))
    return Mapping(
        name=str(raw["name"]),
        description=raw.get("description", ""),
        sheets=tuple(sheets),
        path=path,
        channel=raw.get("channel"),
        files=files,
        timezone=raw.get("timezone", "Asia/Shanghai"),
        entity=(raw.get("entity") or raw.get("kind")) if export else None,
        shops=_as_tuple(raw.get("shops")),
        constants=dict(raw.get("constants") or {}),
        decimal_comma=bool(raw.get("decimal_comma", False)),
        sheet_name=raw.get("sheet"),
        negative_lines=negative,
    )


def load_mappings(directory: str | Path | None = None) -> list[Mapping]:
    """The shipped mappings (`mappings/`) and, when `directory` is given, the seller's own there: a mapping
    of the seller's with the name of a shipped one replaces it. Sorted by name."""
    found = {m.name: m for m in (load_mapping(p) for p in sorted(MAPPINGS_DIR.glob("*.y*ml")))}
    if directory is not None and Path(directory).resolve() != MAPPINGS_DIR.resolve():
        directory = Path(directory)
        if not directory.is_dir():
            raise MappingError(f"{directory}: no such folder of mappings — check [files] mappings_dir")
        own: dict[str, Mapping] = {}
        for path in sorted(directory.glob("*.y*ml")):
            mapping = load_mapping(path)
            if mapping.name in own:
                raise MappingError(
                    f"{path.name}: name {mapping.name!r} is also the name of "
                    f"{own[mapping.name].path.name} — give each mapping its own name"
                )
            own[mapping.name] = mapping
        found.update(own)
    return sorted(found.values(), key=lambda m: m.name)
