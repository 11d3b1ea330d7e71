"""Read an XLSX workbook through a column mapping: typed rows per table, and every row that can't be accepted
in a quarantine list with its Excel row number and a reason a person can act on."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl

from connectors.common.pii import is_pii_key, pii_hash
from connectors.files.cells import (
    _DATETIME_FORMATS,
    FIX_HINT,
    FORMULA_MISSING,
    PARSERS,
    CellError,
    as_datetime,
    as_text,
    is_blank,
    json_safe,
    unwrap,
)
from connectors.files.encoding import REPLACEMENT
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


@dataclass
class RowRules:
    """What an export import checks beyond the product master's cell rules."""

    salt: str | None = None  # hashes the mapping's pii columns
    timezone: str = "Asia/Shanghai"  # of the file's date-times
    now: datetime | None = None  # date-times after it are quarantined as "in the future"
    encoding: str | None = None  # a CSV's detected encoding (for the undecodable-bytes reason)
    width_checked: bool = False  # rows with more (or, in a CSV, fewer) cells than the header are quarantined
    short_rows_checked: bool = False
    extra: dict[str, Any] = field(
        default_factory=dict
    )  # constant columns of every accepted row (shop_id, ...)
    decimal_comma: bool = False  # the mapping's numbers write 12,34 for 12.34
    text_of: dict[str, str] = field(default_factory=dict)  # a value-mapped column -> where its text is kept
    mapping_file: str = ""  # named in a reason about the mapping's value map


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


MAX_CELL = 128 * 1024
"""A cell longer than this (characters) sets its row aside: no export field is that long; a broken quote is."""


def _parse(col: ColumnSpec, raw: Any, rules: RowRules | None) -> Any:
    if col.format and col.type in ("date", "datetime") and isinstance(raw, str | int) and not is_blank(raw):
        try:
            moment = datetime.strptime(as_text(raw), col.format)
        except ValueError:
            raise CellError(f"does not have the form {col.format}") from None
        raw = moment if col.type == "datetime" else moment.date()
    if col.type == "datetime":
        return as_datetime(raw, ZoneInfo(rules.timezone if rules else "Asia/Shanghai"))
    if col.type == "decimal" and rules is not None and rules.decimal_comma and isinstance(raw, str):
        raw = unwrap(raw).replace(".", "").replace(" ", "").replace(",", ".")
    value = PARSERS[col.type](raw)
    if col.prefix and isinstance(value, str) and value.startswith(col.prefix):
        value = value[len(col.prefix) :]
    return value


def _check_cell(
    spec: SheetSpec, col: ColumnSpec, raw: Any, known: dict[str, set], rules: RowRules | None = None
) -> tuple[Any, str | None]:
    """The typed value of one cell, or a problem sentence."""
    if raw is FORMULA_MISSING:
        if col.type == "text" and not (col.required or col.not_null or col.map or col.values):
            return None, None  # a descriptive text (a title) without its value costs nothing counted: empty
        return None, (
            f"{col.header} is a formula whose value was never saved — open the file in Excel (or "
            "LibreOffice), save it, and re-import"
        )
    if col.multiple and not is_blank(raw):
        return _check_codes(spec, col, raw, known, rules)
    if is_blank(raw):
        if col.not_null and col.default is None:
            return None, f"{col.header} is empty — fill it in and re-import"
        return (None if col.default is None else _parse(col, col.default, rules)), None
    try:
        value = _parse(col, raw, rules)
    except CellError as exc:
        return None, f"{col.header} '{_show(raw)}' {exc} — {FIX_HINT[col.type]}"
    if col.map is not None:
        text = normalize_header(value)
        mapped = col.map.get(text)
        if mapped is None:
            folded = {k.casefold(): v for k, v in col.map.items()}
            mapped = folded.get(text.casefold())
        if mapped is None:
            where = f" in {rules.mapping_file}" if rules and rules.mapping_file else ""
            return None, (
                f"{col.header} '{value}' is not in the map of {col.name}{where} — a text the mapping "
                f"does not know: add `{text}: <{' | '.join(sorted(set(col.map.values())))}>` to it, "
                "or fix the cell, and re-import"
            )
        return mapped, None
    if col.values is not None and normalize_header(value) not in col.values:
        return None, (
            f"{col.header} '{value}' is not one of {', '.join(col.values)} — a new back-office text? "
            f"add it to the mapping (and its staging model), or fix the cell, and re-import"
        )
    if col.pattern is not None and not re.fullmatch(col.pattern, str(value)):
        hint = f" ({col.pattern_hint})" if col.pattern_hint else ""
        return None, (
            f"{col.header} '{value}' does not look like a {col.header}{hint} — a header row pasted "
            f"again, or a value in the wrong column? fix or delete the row and re-import"
        )
    if col.type == "datetime" and rules and rules.now and value > rules.now:
        return None, (
            f"{col.header} '{_show(raw)}' is in the future — check the year and the day/month order, "
            f"fix the cell and re-import"
        )
    if col.min is not None and value < col.min:
        word = "negative" if col.min == 0 else f"below {col.min:g}"
        return None, f"{col.header} '{_show(raw)}' is {word} — fix the cell and re-import"
    if col.references:
        table, column = col.references.split(".")
        if value not in known.get(col.references, set()):
            return None, (
                f"{col.header} '{value}' is not a {column} on the {table} sheet (or that row was "
                f"quarantined) — add it there or fix the code, and re-import"
            )
    return value, None


_CODE_SEPARATORS = re.compile(r"[,，、;；\s]+")


def _check_codes(
    spec: SheetSpec, col: ColumnSpec, raw: Any, known: dict[str, set], rules: RowRules | None
) -> tuple[Any, str | None]:
    """A cell listing several codes (`multiple: true`): each is checked like a cell of its own; the value is
    the codes joined by ","."""
    single = ColumnSpec(**{**col.__dict__, "multiple": False})
    codes, problems = [], []
    for part in _CODE_SEPARATORS.split(str(_parse(col, raw, rules))):
        if not part:
            continue
        value, problem = _check_cell(spec, single, part, known, rules)
        if problem:
            problems.append(problem)
        elif value not in codes:
            codes.append(value)
    if problems:
        return None, "; ".join(problems)
    if not codes and col.not_null:
        return None, f"{col.header} is empty — fill it in and re-import"
    return (",".join(codes) or None), None


def _width(headers: list[str]) -> int:
    width = len(headers)
    while width and not headers[width - 1]:
        width -= 1
    return width


def _misaligned(values: tuple, headers: list[str], rules: RowRules | None) -> str | None:
    """Whether the cells line up with the header: "long" (non-empty cells beyond it), "short" (a CSV row with
    fewer cells) or None."""
    width = _width(headers)
    if any(not is_blank(v) for v in values[width:]):
        return "long"
    if rules is not None and rules.short_rows_checked and len(values) < width:
        return "short"
    return None


def _row_problems(values: tuple, headers: list[str], rules: RowRules | None) -> list[str]:
    """Problems of the row as a whole: its width and undecodable bytes."""
    problems: list[str] = []
    if rules is None:
        return problems
    width = _width(headers)
    if rules.width_checked:
        extra = [v for v in values[width:] if not is_blank(v)]
        if extra:
            problems.append(
                f"the row has {width + len(extra)} cells but the header has {width} — a value with an "
                "unquoted comma, or cells shifted right? quote the value or re-export, and re-import"
            )
    if rules.short_rows_checked and len(values) < width:
        problems.append(
            f"the row has only {len(values)} of the header's {width} cells — the row is cut short "
            "(a line break inside a value, or a truncated file?) — re-export the file and re-import"
        )
    if any(isinstance(v, str) and len(v) > MAX_CELL for v in values):
        problems.append(
            f"a cell holds more than {MAX_CELL // 1024} KiB of text — a quote opened and never closed "
            "swallows the rows after it; re-export the file (or fix the quote) and re-import"
        )
    if any(isinstance(v, str) and REPLACEMENT in v for v in values):
        problems.append(
            f"the row holds bytes that are not valid {rules.encoding or 'text'} — the file mixes "
            "encodings; save it again as UTF-8 (or GBK) and re-import"
        )
    return problems


HIDDEN = "(personal data, not stored)"
"""What a quarantined row keeps of a personal cell when no PII salt is at hand (the product master)."""
_PHONE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9*]{4}){2}(?![0-9])")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[a-z]{2,}", re.IGNORECASE)  # bounded: linear on long cells


def _personal_text(value: Any) -> bool:
    """A cell holding a mobile number or an e-mail address, whatever its column says (a remark, a shifted row)."""
    if isinstance(value, str) and len(value) > MAX_CELL:
        return True  # a cell that swallowed rows after a broken quote may hold anything: never shown
    return isinstance(value, str) and bool(_PHONE.search(value) or _EMAIL.search(value))


def _hidden(value: Any, salt: str | None) -> Any:
    if is_blank(value):
        return json_safe(value)
    return pii_hash(as_text(value), salt) if salt else HIDDEN


def quarantine_row(
    spec: SheetSpec, headers: list[str], values: tuple, salt: str | None, misaligned: str | None = None
) -> dict[str, Any]:
    """The original row as the quarantine keeps it: every cell by its header, except that buyer data never
    stays in the clear. Hashed (as the accepted rows hash it, so one buyer is recognisable) or, without a salt,
    replaced by HIDDEN: the mapping's `pii` columns, any header naming personal data (收货人, 手机, 地址,
    e-mail, …) and any cell holding a phone number or e-mail. In a row whose cells do not line up with the
    header (`misaligned`: "long" — extra cells, shifted right — or "short" — cut off, maybe shifted left) a
    personal value may sit under any header: a long row keeps only the cells before its first personal
    column readable, a short one none."""
    hidden = _hidden_positions(spec, headers, misaligned)
    row: dict[str, Any] = {}
    for i, value in enumerate(values):
        header = headers[i] if i < len(headers) else ""
        if not header and is_blank(value):
            continue
        hide = hidden(i) or _personal_text(value)
        row[header or f"column {i + 1}"] = _hidden(value, salt) if hide else json_safe(value)
    return row


def _hidden_positions(spec: SheetSpec, headers: list[str], misaligned: str | None) -> Callable[[int], bool]:
    """Which cell positions of a row may hold buyer data (see quarantine_row)."""
    pii_headers = {c.header for c in spec.columns if c.pii}
    personal = {i for i, h in enumerate(headers) if h in pii_headers or (h and is_pii_key(h))}
    first = 0 if misaligned == "short" else min(personal, default=len(headers)) if misaligned else None
    return lambda i: i in personal or (first is not None and i >= first)


def _masked(problem: str, personal: bool, raw: Any, salt: str | None) -> str:
    """A problem sentence about a cell that may hold buyer data names its hash, never its value."""
    if not personal or is_blank(raw):
        return problem
    shown = _hidden(raw, salt)
    for text in {_show(raw), as_text(raw)}:
        if text:
            problem = problem.replace(f"'{text}'", f"'{shown}'")
    return problem


def _not_before(spec: SheetSpec, row: dict[str, Any]) -> list[str]:
    problems = []
    for col in spec.columns:
        other = col.not_before and row.get(col.not_before)
        if other and row.get(col.name) is not None and row[col.name] < other:
            problems.append(
                f"{col.header} is before {spec.column(col.not_before).header} — check both times, "
                "fix the row and re-import"
            )
    return problems


CHUNK_ROWS = 65_536
"""Rows checked together: each column of a chunk is checked per distinct text, so a chunk bounds the memory."""


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for values in rows:
        chunk.append(values)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_WRAPPED = frozenset(("=", "'", "\t", " "))
"""First characters of a cell `unwrap` changes (an Excel-proof `="…"`, a leading apostrophe, tab or space)."""


def _datetimes(col: ColumnSpec, texts: list[str], rules: RowRules) -> list[datetime | None]:
    """The UTC date-times of a datetime column's texts, read together (pandas, the column's format or each of
    the usual ones in turn); None where that reading is not certain to match the one cell's (another form, a
    local time that is ambiguous or missing in the file's time zone), which then is read cell by cell."""
    import pandas as pd

    series = pd.Series(
        [unwrap(t) if t[:1] in _WRAPPED or t[-1:].isspace() else t for t in texts], dtype=object
    )
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    for fmt in (col.format,) if col.format else _DATETIME_FORMATS:
        todo = parsed.isna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(series[todo], format=fmt, exact=True, errors="coerce").astype(
            "datetime64[us]"
        )
    utc = parsed.dt.tz_localize(rules.timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    found = utc.notna().to_numpy()
    moments = utc.dt.to_pydatetime()  # pandas' own conversion: ten times Arrow's to_pylist for zoned times
    return [moment if ok else None for moment, ok in zip(moments, found, strict=True)]


def _check_column(
    spec: SheetSpec,
    col: ColumnSpec,
    keys: list,
    seen: dict,
    known: dict[str, set],
    rules: RowRules | None,
    typed: bool,
) -> list:
    """Check every distinct cell of `keys` not checked before into `seen` (key -> (value, problem)); the
    distinct keys. A key is the cell, or with `typed` (type, cell): True == 1 == 1.0 in a dict, and their cells
    do not read alike."""
    distinct = list(dict.fromkeys(keys))
    new = [k for k in distinct if k not in seen]
    if not new:
        return distinct
    raws = [k[1] for k in new] if typed else new
    fast = (
        rules is not None
        and col.type == "datetime"
        and not (col.multiple or col.map is not None or col.values is not None or col.pattern)
        and not (col.references or col.min is not None)
        and len(new) > 64
    )
    if fast:
        texts = [(i, r) for i, r in enumerate(raws) if isinstance(r, str) and not is_blank(r)]
        moments = _datetimes(col, [t for _, t in texts], rules)
        for (i, _), moment in zip(texts, moments, strict=True):
            if moment is not None and not (rules.now and moment > rules.now):
                seen[new[i]] = (moment, None)
    for key, raw in zip(new, raws, strict=True):
        if key not in seen:
            seen[key] = _check_cell(spec, col, raw, known, rules)
    return distinct


def _suspect(cells: list[tuple], typed: bool) -> bool:
    """Whether a chunk's cells may hold a row problem of their own (a cell too long, undecodable bytes)."""
    for column in cells:
        texts = [v for v in column if isinstance(v, str)] if typed else list(filter(None, column))
        if texts and (max(map(len, texts)) > MAX_CELL or REPLACEMENT in "".join(texts)):
            return True
    return False


def _sheet_rows(
    path: Path,
    spec: SheetSpec,
    rows: Iterator[tuple],
    known: dict[str, set],
    result: ImportResult,
    rules: RowRules | None = None,
    sheet_name: str | None = None,
    to_table: Callable[[dict[str, list]], Any] | None = None,
) -> Any:
    """The accepted rows as columns (name -> values, one per row, in file order) — or, with `to_table`, the list
    of what it makes of each chunk's columns (an Arrow table: a big file's rows then never are Python objects
    all at once); every other row goes to result.quarantine with its row number and reasons. Read a chunk at a
    time and column by column: a cell's outcome depends only on its column and text within one read (the rules,
    `known` and `now` are fixed), so each distinct text of a column is checked once — an export repeats its
    statuses, dates, SKUs (a column with more distinct texts than a chunk's rows forgets them chunk by chunk)."""
    header_row = next(rows, ())
    index = _header_index(path, spec, header_row)
    headers = [normalize_header(h) for h in header_row]
    where = spec.sheet if sheet_name is None else result.source_file
    salt = rules.salt if rules else None
    text_of = rules.text_of if rules is not None else {}
    typed = rules is None or rules.encoding is None  # a workbook's cells are typed; a text file's are text
    names = [col.name for col in spec.columns]
    names += [text_of[c.name] for c in spec.columns if c.name in text_of and text_of[c.name] not in names]
    names += [spec.occurrence] if spec.occurrence and spec.occurrence not in names else []
    extra = dict(rules.extra) if rules is not None else {}  # constants, over any mapped value
    pii = {col.name for col in spec.columns if col.pii} if rules is not None else set()
    ordered = [col for col in spec.columns if col.not_before]
    columns = list(dict.fromkeys([*names, *extra, "source_file", "source_row"]))
    accepted: dict[str, list] = {name: [] for name in columns}
    tables: list = []
    first_seen: dict[tuple, int] = {}
    occurrences: dict[tuple, int] = {}
    checked: dict[str, dict] = {col.name: {} for col in spec.columns}
    texts: dict[str, dict] = {col.name: {} for col in spec.columns if col.name in text_of}
    hashed: dict[Any, str | None] = {}
    width = _width(headers)
    row_number = 1
    for chunk in _chunks(rows, CHUNK_ROWS):
        numbers: list[int] = list(range(row_number + 1, row_number + 1 + len(chunk)))
        row_number += len(chunk)
        live = (
            [i for i, values in enumerate(chunk) if not all(is_blank(v) for v in values)]
            if typed
            else [i for i, values in enumerate(chunk) if "".join(values).strip()]
        )
        if len(live) < len(chunk):  # an empty row (a gap between blocks) holds nothing to lose: skipped
            chunk, numbers = [chunk[i] for i in live], [numbers[i] for i in live]
        if not chunk:
            continue
        padded = [v if len(v) >= len(headers) else (*v, *[None] * (len(headers) - len(v))) for v in chunk]
        cells = list(zip(*padded, strict=False)) if headers else []
        problems: dict[int, list[str]] = {}
        if rules is not None:
            suspects = range(len(chunk)) if _suspect(cells, typed) else (
                i for i, values in enumerate(chunk) if len(values) != width
            )  # fmt: skip
            for i in suspects:
                if found := _row_problems(chunk[i], headers, rules):
                    problems[i] = found
        values_of: dict[str, list] = {}
        for col in spec.columns:
            at = index.get(col.header)
            raws = list(cells[at]) if at is not None and at < len(cells) else [None] * len(chunk)
            keys = list(zip(map(type, raws), raws, strict=True)) if typed else raws
            seen = checked[col.name]
            distinct = _check_column(spec, col, keys, seen, known, rules, typed)
            values = {k: seen[k][0] for k in distinct}
            values_of[col.name] = list(map(values.__getitem__, keys))
            if col.name in text_of:
                memo = texts[col.name]
                for key in distinct:
                    if key not in memo:
                        raw = key[1] if typed else key
                        memo[key] = None if is_blank(raw) else normalize_header(as_text(raw))
                values_of[text_of[col.name]] = list(map(memo.__getitem__, keys))
            bad = {k for k in distinct if seen[k][1] is not None}
            if not bad:
                continue
            for i, key in enumerate(keys):
                if key in bad:
                    raw = raws[i]
                    hidden = _hidden_positions(spec, headers, _misaligned(chunk[i], headers, rules))
                    personal = (
                        col.pii or (col.header in index and hidden(index[col.header])) or _personal_text(raw)
                    )
                    problems.setdefault(i, []).append(_masked(seen[key][1], personal, raw, salt))
        if spec.occurrence and spec.occurrence not in values_of:
            values_of[spec.occurrence] = [None] * len(chunk)
        for col in ordered:  # a time before the one it may not precede
            later, earlier = values_of[col.name], values_of[col.not_before]
            for i, (a, b) in enumerate(zip(later, earlier, strict=True)):
                if a is not None and b and a < b and i not in problems:
                    problems[i] = _not_before(spec, {c.name: values_of[c.name][i] for c in spec.columns})
        keys_of = spec.primary_key[:-1] if spec.occurrence else spec.primary_key
        identities = list(zip(*(values_of[k] for k in keys_of), strict=True)) if keys_of else []
        keep = []
        for i in range(len(chunk)):
            if i in problems:
                continue
            if spec.primary_key:
                key = identities[i] if keys_of else ()
                if spec.occurrence:  # the occurrence is the primary key's last column
                    occurrences[key] = n = occurrences.get(key, 0) + 1
                    values_of[spec.occurrence][i] = n
                    keep.append(i)  # its occurrence makes the key unique: no repeat to look for
                    continue
                if key in first_seen:
                    label = "+".join(spec.column(k).header for k in spec.primary_key)
                    problems[i] = [
                        f"{label} '{', '.join(map(str, key))}' repeats row {first_seen[key]} — keep one "
                        "row per code (delete or rename the duplicate) and re-import"
                    ]
                    continue
                first_seen[key] = numbers[i]
            keep.append(i)
        for i in sorted(problems):
            result.quarantine.append(
                {
                    "source_file": result.source_file,
                    "file_sha256": result.file_sha256,
                    "sheet": spec.sheet if sheet_name is None else sheet_name,
                    "row_number": numbers[i],
                    "reason": f"{where} row {numbers[i]}: " + "; ".join(problems[i]),
                    "raw_row": quarantine_row(
                        spec, headers, chunk[i], salt, _misaligned(chunk[i], headers, rules)
                    ),
                    "loaded_at": result.loaded_at,
                }
            )
        whole = len(keep) == len(chunk)
        for name in (n for n in names if n not in extra):
            column = values_of.get(name) or [None] * len(chunk)
            if name in pii:
                for value in dict.fromkeys(column):
                    if value is not None and value not in hashed:
                        hashed[value] = pii_hash(value, salt or "")
                column = [None if v is None else hashed[v] for v in column]
            accepted[name] += column if whole else [column[i] for i in keep]
        for name, value in extra.items():
            accepted[name] += [value] * len(keep)
        accepted["source_file"] += [result.source_file] * len(keep)
        accepted["source_row"] += numbers if whole else [numbers[i] for i in keep]
        if to_table is not None:
            tables.append(to_table(accepted))
            accepted = {name: [] for name in columns}
        for memo in (*checked.values(), *texts.values(), hashed):
            if len(memo) > CHUNK_ROWS:  # an id or a time stamp: seldom seen again
                memo.clear()
    if len(spec.primary_key) == 1 and spec.primary_key[0] in checked:
        known[f"{spec.table}.{spec.primary_key[0]}"] = set(accepted[spec.primary_key[0]])
    return tables if to_table is not None else accepted


def row_dicts(columns: dict[str, list]) -> list[dict]:
    """Columns as rows (name -> value)."""
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def read_workbook(path: str | Path, mapping: Mapping) -> ImportResult:
    """Every sheet of `mapping` read from the XLSX at `path`, in the mapping's order (so `references` can
    point at sheets above)."""
    path = Path(path)
    if not path.exists():
        raise FileImportError(
            f"{path}: no such file — check the path (e.g. [product_master].path in shopkeep.toml)"
        )
    result = ImportResult(source_file=path.name, file_sha256=file_sha256(path), loaded_at=datetime.now(UTC))
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not an XLSX
        raise FileImportError(
            f"{path}: not a readable XLSX workbook ({exc}) — save it as .xlsx and re-import"
        ) from None
    try:
        sheets = {normalize_header(name): name for name in workbook.sheetnames}
        known: dict[str, set] = {}
        for spec in mapping.sheets:
            name = sheets.get(normalize_header(spec.sheet))
            if name is None and spec.optional:
                result.tables[spec.table] = []
                continue
            if name is None:
                raise FileImportError(
                    f"{path}: no sheet {spec.sheet!r} (found: {', '.join(workbook.sheetnames)}) — the "
                    f"{mapping.name} mapping ({mapping.path.name}) needs it"
                )
            rows = workbook[name].iter_rows(values_only=True)
            result.tables[spec.table] = row_dicts(_sheet_rows(path, spec, rows, known, result))
    finally:
        workbook.close()
    return result
