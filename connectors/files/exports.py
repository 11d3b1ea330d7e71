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
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.compute as pc

from connectors.files.cells import FORMULA_MISSING
from connectors.files.encoding import detect_file_encoding
from connectors.files.mapping import DLT_TYPES, ENTITIES, Mapping, normalize_header
from connectors.files.product_master import columns_table
from connectors.files.workbook import FileImportError, ImportResult, RowRules, _sheet_rows, file_sha256

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
csv.field_size_limit(64 * 1024 * 1024)  # a longer cell is a row problem (workbook.MAX_CELL), not a file error


def shop_id_from_name(path: Path) -> str | None:
    """`tmall_flagship__orders.csv` -> `tmall_flagship`; None when the name has no `__`."""
    stem = path.stem
    return stem.split("__", 1)[0] if "__" in stem and stem.split("__", 1)[0] else None


def sniff_delimiter(text: str, suffix: str) -> str:
    """`,` `\t` `;` or `|`: the one that splits the first lines into the same, largest number of cells."""
    lines = [line for line in text[:65536].splitlines()[:20] if line.strip()]
    if not lines:
        return "\t" if suffix == ".tsv" else ","
    best, best_cells = "\t" if suffix == ".tsv" else ",", 1
    for delimiter in (",", "\t", ";", "|"):
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if counts[0] > best_cells and counts.count(counts[0]) >= len(counts) * 0.8:
            best, best_cells = delimiter, counts[0]
    return best


def _xls_rows(path: Path, sheet_name: str | None) -> tuple[list[tuple], str]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path))
    except Exception as exc:  # xlrd raises several types for a file that is not an XLS
        raise FileImportError(
            f"{path.name}: not a readable XLS workbook ({exc}) — save it as .xlsx and re-import"
        ) from None
    sheet = _pick_sheet(path, book.sheet_names(), sheet_name)
    rows = []
    table = book.sheet_by_name(sheet)
    for r in range(table.nrows):
        values = []
        for cell in table.row(r):
            if cell.ctype == xlrd.XL_CELL_DATE:
                values.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                values.append(None)
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                values.append(bool(cell.value))
            else:
                values.append(cell.value)
        rows.append(tuple(values))
    return rows, sheet


def _text_rows(path: Path, encoding: str, delimiter: str) -> Iterator[tuple]:
    """The rows of a text file, read as they are consumed (a big export is never in memory whole)."""
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        for row in csv.reader(handle, delimiter=delimiter):
            yield tuple(row)


def _pick_sheet(path: Path, names: list[str], wanted: str | None) -> str:
    if wanted is None:
        return names[0]
    by_name = {normalize_header(n): n for n in names}
    if normalize_header(wanted) not in by_name:
        raise FileImportError(
            f"{path.name}: no sheet {wanted!r} (found: {', '.join(names)}) — name the sheet in "
            "the mapping's sheet: or rename it in the workbook"
        )
    return by_name[normalize_header(wanted)]


def open_rows(path: Path, sheet_name: str | None = None) -> tuple[Iterator[tuple], str, str | None]:
    """(rows incl. the header row, sheet name ('' for a text file), detected encoding (None for a workbook))."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        encoding = detect_file_encoding(path)
        with path.open(encoding=encoding, errors="replace", newline="") as handle:
            delimiter = sniff_delimiter(handle.read(65536), suffix)
        return _text_rows(path, encoding, delimiter), "", encoding
    if suffix == ".xls":
        rows, sheet = _xls_rows(path, sheet_name)
        return iter(rows), sheet, None
    if suffix == ".xlsx":
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises several types for a file that is not an XLSX
            raise FileImportError(
                f"{path}: not a readable XLSX workbook ({exc}) — save it as .xlsx and re-import"
            ) from None
        name = _pick_sheet(path, book.sheetnames, sheet_name)
        rows = []
        for values, cells in zip(
            book[name].iter_rows(values_only=True), formulas[name].iter_rows(values_only=True), strict=False
        ):
            rows.append(
                tuple(
                    FORMULA_MISSING if v is None and isinstance(f, str) and f.startswith("=") else v
                    for v, f in zip(values, cells, strict=False)
                )
            )
        book.close()
        formulas.close()
        return iter(rows), name, None
    raise FileImportError(
        f"{path}: only .csv, .tsv, .txt, .xlsx and .xls files can be imported — save it as one of those"
    )


def _fits(mapping: Mapping, shop: str) -> bool:
    """Whether the mapping may read files of this shop (its shops: globs, when it has them)."""
    if mapping.shops and not any(fnmatch.fnmatch(shop, pattern) for pattern in mapping.shops):
        return False
    return True


def detect_mapping(
    path: Path, header: tuple, mappings: list[Mapping], shop: str | None = None, channel: str | None = None
) -> Mapping:
    """The export mapping for the file: among those for its shop (`shops:`) and channel, the one whose file-name
    pattern (`files:`) matches, else the one whose required headers all appear in `header` (the most specific
    one when several do). A file whose headers fit only another channel's mapping is refused, naming both."""
    exports = [m for m in mappings if m.is_export and (shop is None or _fits(m, shop))]
    mine = [m for m in exports if channel is None or m.channel in (None, channel)]
    for mapping in mine:
        if mapping.files and any(fnmatch.fnmatch(path.name, pattern) for pattern in mapping.files):
            return mapping
    found = {normalize_header(h) for h in header if h is not None}
    fits = [m for m in mine if m.signature() <= found and not m.files]
    if not fits:
        elsewhere = [m for m in exports if m not in mine and m.signature() <= found]
        if elsewhere:
            raise FileImportError(
                f"{path.name}: its columns are a {elsewhere[0].channel} export ({elsewhere[0].name}, "
                f"{elsewhere[0].path.name}) but shop {shop!r} is a {channel} shop — was it saved under the wrong "
                "shop's name? rename it <shop_id>__… after the shop it came from and re-import"
            )
        closest = max(mine, key=lambda m: len(m.signature() & found), default=None)
        hint = ""
        if closest is not None:
            missing = sorted(closest.signature() - found)
            hint = f"; closest is {closest.name} ({closest.path.name}), which also needs {', '.join(missing)}"
        raise FileImportError(
            f"{path.name}: no column mapping recognises its header row{hint} — check it is an export with its "
            "header in row 1, or add a mapping for its layout to [files] mappings_dir"
        )
    fits.sort(key=lambda m: len(m.signature()), reverse=True)
    if len(fits) > 1 and len(fits[0].signature()) == len(fits[1].signature()):
        raise FileImportError(
            f"{path.name}: both {fits[0].name} and {fits[1].name} fit its headers — give one "
            "of them a files: pattern"
        )
    return fits[0]


def _merged_header(header: tuple, rows: list[tuple]) -> bool:
    """A two-row header (merged cells): row 1 has gaps where row 2 continues it with names, not data."""
    if not rows:
        return False
    gaps = [i for i, h in enumerate(header) if h is None or (isinstance(h, str) and not h.strip())]
    if not gaps or len(gaps) == len(header):
        return False
    second = rows[0]
    return all(
        i < len(second)
        and isinstance(second[i], str)
        and second[i].strip()
        and not any(ch.isdigit() for ch in second[i])
        for i in gaps
    )


def read_export(
    path: str | Path,
    mappings: list[Mapping],
    *,
    pii_salt: str,
    shop_id: str | None = None,
    now: datetime | None = None,
    shops: dict[str, str] | None = None,
) -> tuple[Mapping, ImportResult]:
    """The mapping that fits the file and the file's accepted and quarantined rows. `shops` (shop id ->
    channel, from the config) refuses a file of a shop that is not configured and picks the shop's channel's
    mappings."""
    path = Path(path)
    if not path.exists():
        raise FileImportError(f"{path}: no such file — check the path")
    shop = shop_id_from_name(path) or shop_id
    if not shop:
        raise FileImportError(
            f"{path.name}: which shop is it from? name the file <shop_id>__<kind>{path.suffix} "
            f"(e.g. tmall_flagship__orders{path.suffix}) or pass the shop id"
        )
    if shops is not None and shop not in shops:
        raise FileImportError(
            f"{path.name}: shop {shop!r} (from the file name) is not configured — add a "
            f"[[shops]] entry with id = {shop!r} to the config, or rename the file after one of "
            f"{', '.join(sorted(shops)) or 'your shops'}"
        )
    channel = shops.get(shop) if shops else None
    rows, sheet, encoding = open_rows(path, None)
    header = next(rows, ())
    first = next(rows, None)
    if first is not None and _merged_header(header, [first]):
        raise FileImportError(
            f"{path.name}: its header spans two rows (merged cells) — unmerge it so every "
            "column has its name in row 1, and re-import"
        )
    rows = _with_header(first, rows) if first is not None else rows
    try:
        mapping = detect_mapping(path, header, mappings, shop, channel)
    except FileImportError:
        # a workbook whose first sheet is not the export: the sheets the shop's mappings name, in turn
        named = [m for m in mappings if m.is_export and m.sheet_name and _fits(m, shop)]
        if path.suffix.lower() not in (".xlsx", ".xls") or not named:
            raise
        mapping = None
        for candidate in named:
            try:
                rows, sheet, encoding = open_rows(path, candidate.sheet_name)
            except FileImportError:
                continue
            header = next(rows, ())
            try:
                mapping = detect_mapping(path, header, [candidate], shop, channel)
                break
            except FileImportError:
                continue
        if mapping is None:
            raise
    if mapping.sheet_name and path.suffix.lower() in (".xlsx", ".xls") and sheet != mapping.sheet_name:
        rows, sheet, encoding = open_rows(path, mapping.sheet_name)
        header = next(rows, ())
    sha = file_sha256(path)
    result = ImportResult(source_file=path.name, file_sha256=sha, loaded_at=datetime.now(UTC))
    spec = mapping.sheets[0]
    entity = ENTITIES[mapping.entity] if mapping.entity else None
    rules = RowRules(
        salt=pii_salt,
        timezone=mapping.timezone,
        now=now or datetime.now(UTC),
        encoding=encoding,
        width_checked=True,
        short_rows_checked=encoding is not None,
        extra={**(mapping.constants or {}), "shop_id": shop, "file_sha256": sha, "mapping": mapping.name},
        decimal_comma=mapping.decimal_comma,
        text_of=dict(entity.text_of) if entity else {},
        mapping_file=mapping.path.name,
    )
    hints = entity_columns(mapping.entity)
    tables = _sheet_rows(path, spec, _with_header(header, rows), {}, result, rules, sheet_name=sheet,
                         to_table=lambda columns: columns_table(columns, hints))  # fmt: skip
    result.tables[spec.table] = pa.concat_tables(tables) if tables else columns_table({}, hints)
    return mapping, result


def _with_header(header: tuple, rows: Iterator[tuple]) -> Iterator[tuple]:
    yield header
    yield from rows


ORDER_FIELDS = ("order_status", "created_at", "paid_at", "currency", "order_paid_amount", "shipping_amount")
"""An order's own fields, repeated on each of its lines: lines of one file that disagree set the order aside."""


def _set_aside(result: ImportResult, rows: list[dict], reason: str, sheet: str) -> None:
    for row in rows:
        result.quarantine.append(
            {
                "source_file": result.source_file,
                "file_sha256": result.file_sha256,
                "sheet": sheet,
                "row_number": row["source_row"],
                "reason": f"{result.source_file} row {row['source_row']}: {reason}",
                "raw_row": {},
                "loaded_at": result.loaded_at,
            }
        )


ROW_COLUMNS = {
    "shop_id": {"data_type": "text", "nullable": False},
    "mapping": {"data_type": "text"},
    "source_file": {"data_type": "text"},
    "source_row": {"data_type": "bigint"},
    "file_sha256": {"data_type": "text"},
}


def entity_columns(entity: str) -> dict[str, dict[str, Any]]:
    """The raw table of an entity: its canonical columns, the occurrence the importer numbers, the row's origin."""
    spec = ENTITIES[entity]
    hints = {name: dict(DLT_TYPES[kind]) for name, kind in spec.columns.items()}
    if spec.occurrence:
        hints[spec.occurrence] = dict(DLT_TYPES["int"])
    return {**hints, **ROW_COLUMNS}


def _negative_lines(
    result: ImportResult, mapping: Mapping, rows: list[dict]
) -> tuple[list[dict], list[dict]]:
    """The file's order lines with a quantity of at least 0, and its negative lines as returns (refund rows of
    their order: `original_order_id` when the layout names the sale, else the line's own order). Without
    `negative_lines: returns` in the mapping a negative line is set aside: counted as a sale it would be wrong."""
    kept, returns, seen = [], [], {}
    for row in rows:
        if row.get("quantity") is None or row["quantity"] >= 0:
            kept.append(row)
            continue
        if mapping.negative_lines != "returns":
            _set_aside(
                result,
                [row],
                f"quantity {row['quantity']} is negative — if this layout writes returns or "
                f"cancellations as negative lines, add `negative_lines: returns` to "
                f"{mapping.path.name}",
                "",
            )
            continue
        order_id = row.get("original_order_id") or row["order_id"]
        sku = row.get("sku_id") or row.get("outer_id")
        # the return's identity: its order, SKU and time (the same return in two overlapping exports is one;
        # returns of one line on other days are others), numbered when one time holds several
        moment = row["created_at"].isoformat() if row.get("created_at") else ""
        seen[(order_id, sku, moment)] = n = seen.get((order_id, sku, moment), 0) + 1
        amount = row.get("line_paid_amount")
        if amount is None:
            price = row.get("unit_price") if row.get("unit_price") is not None else None
            amount = price * row["quantity"] if price is not None else row.get("line_list_amount")
        returns.append({
            "refund_id": f"{order_id}:{sku}:return:{moment}#{n}", "order_id": order_id, "sku_id": sku,
            "refund_status": "success", "platform_status": row.get("platform_status"),
            "created_at": row.get("created_at"), "quantity": -row["quantity"],
            "refund_amount": abs(amount) if amount is not None else None, "currency": row.get("currency"),
            "goods_returned": True, "shop_id": row["shop_id"], "mapping": row.get("mapping"),
            "source_file": row.get("source_file"), "source_row": row["source_row"],
            "file_sha256": row.get("file_sha256"),
        })  # fmt: skip
    return kept, returns


def _consistent_orders(result: ImportResult, rows: pa.Table) -> pa.Table:
    """The file's lines whose order's own fields agree on every line; the others are set aside (two totals for
    one order would otherwise become one of them silently)."""
    fields = [f for f in ORDER_FIELDS if f in rows.column_names]
    if not rows.num_rows or not fields:
        return rows
    counts = rows.group_by(["shop_id", "order_id"]).aggregate(
        [(f, "count_distinct", pc.CountOptions(mode="all")) for f in fields]
    )
    differs = pc.greater(counts[f"{fields[0]}_count_distinct"], 1)
    for f in fields[1:]:
        differs = pc.or_(differs, pc.greater(counts[f"{f}_count_distinct"], 1))
    bad = counts.filter(differs)
    if not bad.num_rows:
        return rows
    orders = set(zip(bad["shop_id"].to_pylist(), bad["order_id"].to_pylist(), strict=True))
    candidates = pc.fill_null(pc.is_in(rows["order_id"], bad["order_id"]), False)
    lines = [r for r in rows.filter(candidates).to_pylist() if (r["shop_id"], r["order_id"]) in orders]
    by_order: dict[tuple, list[dict]] = {}
    for line in lines:
        by_order.setdefault((line["shop_id"], line["order_id"]), []).append(line)
    for (_, order_id), group in by_order.items():
        differ = [f for f in fields if len({line.get(f) for line in group}) > 1]
        shown = "; ".join(
            f"{f}: " + " vs ".join(sorted({str(line.get(f)) for line in group})) for f in differ
        )
        _set_aside(
            result,
            group,
            f"order {order_id} has {len(group)} lines that disagree on the order's own "
            f"fields ({shown}) — export it again or correct the lines so they agree, "
            "and re-import",
            "",
        )
    rows_set_aside = pa.array(sorted(line["source_row"] for line in lines), pa.int64())
    return rows.filter(pc.invert(pc.is_in(rows["source_row"], rows_set_aside)))


def checked_rows(mapping: Mapping, result: ImportResult) -> tuple[pa.Table, list[dict]]:
    """The rows of a read export that load (an Arrow table of the entity's columns), and (orders) its negative
    lines as refund rows of their order; the file-level checks' rejects go to result.quarantine."""
    rows = result.tables[mapping.sheets[0].table]
    if mapping.entity != "orders":
        return rows, []
    negative = pc.fill_null(pc.less(rows["quantity"], 0), False)
    if not pc.any(negative).as_py():
        return _consistent_orders(result, rows), []
    _, returns = _negative_lines(result, mapping, rows.filter(negative).to_pylist())
    rows = rows.filter(pc.invert(negative))
    return _consistent_orders(result, rows), returns


def file_problem(path: Path, reason: str) -> dict[str, Any]:
    """A quarantine row for a file that could not be imported at all (row 0)."""
    sha = file_sha256(path) if path.exists() else ""
    return {
        "source_file": path.name,
        "file_sha256": sha,
        "sheet": "",
        "row_number": 0,
        "reason": reason,
        "raw_row": {},
        "loaded_at": datetime.now(UTC),
    }


def preview(
    path: str | Path,
    mappings: list[Mapping],
    *,
    shops: dict[str, str] | None = None,
    shop_id: str | None = None,
    now: datetime | None = None,
    pii_salt: str = "preview",
    limit: int = 5,
) -> dict[str, Any]:
    """How a file would import, without importing it: its mapping, shop and entity, how many rows would load
    and be set aside, the first rows as they would land (canonical columns) and every set-aside reason.
    Raises FileImportError when the file would be refused as a whole."""
    path = Path(path)
    mapping, result = read_export(path, mappings, pii_salt=pii_salt, shop_id=shop_id, now=now, shops=shops)
    rows, returns = checked_rows(mapping, result)
    filled = [c.name for c in mapping.sheets[0].columns] + sorted(mapping.constants or {})
    return {
        "file": path.name,
        "mapping": mapping.name,
        "mapping_file": str(mapping.path),
        "entity": mapping.entity,
        "shop_id": shop_id_from_name(path) or shop_id,
        "rows_loaded": rows.num_rows + len(returns),
        "returns": len(returns),
        "rows_set_aside": len(result.quarantine),
        "columns": filled,
        "first_rows": [{name: row.get(name) for name in filled} for row in rows.slice(0, limit).to_pylist()],
        "set_aside": [(q["row_number"], q["reason"]) for q in result.quarantine],
    }
