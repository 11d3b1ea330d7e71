"""Typed reading of spreadsheet cells: each parser returns the value or raises CellError saying what is wrong."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")
_EXCEL_EPOCH = date(1899, 12, 30)
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
)
_LOCAL = ZoneInfo("Asia/Shanghai")
_TRUE = {"是", "y", "yes", "true", "1", "t"}
_FALSE = {"否", "n", "no", "false", "0", "f"}


class _FormulaMissing:
    def __repr__(self) -> str:
        return "(formula without a saved value)"


FORMULA_MISSING = _FormulaMissing()
"""An XLSX formula cell whose value was never saved (a tool wrote the file; Excel never calculated it)."""


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message completes "<header> '<value>' ..."."""


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def unwrap(text: str) -> str:
    """A cell as exported to keep Excel from mangling it: `="123"`, a leading tab or apostrophe -> `123`."""
    text = text.strip()
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        text = text[2:-1]
    return text.lstrip("'\t").strip()


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code or barcode typed as a number
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return unwrap(str(value))


def as_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError("is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise CellError("is not a number")
    text = as_text(value) if not isinstance(value, float) else repr(value)
    grouped = text.replace("，", ",")
    if "," in grouped and not re.fullmatch(r"\D*[+-]?\d{1,3}(,\d{3})+(\.\d+)?\s*", grouped.strip()):
        raise CellError(
            "has a comma that is not a thousands separator (a decimal comma, 12,34?) — if the file "
            "writes decimals with a comma, set decimal_comma: true in its mapping"
        )
    text = re.sub(r"[,，¥￥\s]|^RMB|^CNY", "", text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError("is not a number") from None
    if not number.is_finite():
        raise CellError("is not a number")
    if isinstance(value, str) and number != number.quantize(CENT):
        raise CellError(
            "has more than 2 decimals (money is in yuan with fen as the last digit) — check the "
            "column holds yuan, not fen or a rate"
        )
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError("is not a whole number")
    text = as_text(value).replace(",", "")
    if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        return int(Decimal(text))
    raise CellError("is not a whole number")


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        return _EXCEL_EPOCH + timedelta(days=int(value))  # an Excel serial date in a cell without date format
    text = as_text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError("is not a date (write it as YYYY-MM-DD)")


def as_id(value: Any) -> str:
    """A platform id (order, line, refund, SKU): digits kept exactly as text. Excel turns long numbers into
    floats (3.90000000048847E+18), which loses digits: such a cell cannot be trusted."""
    if isinstance(value, bool):
        raise CellError("is not an id")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        raise CellError(
            "was turned into a number by Excel and lost digits — re-export the file and don't "
            "save it from Excel (or format the column as text)"
        )
    text = as_text(value)
    if re.fullmatch(r"[+-]?\d+(\.\d+)?[eE][+-]?\d+", text):
        raise CellError(
            "was turned into a number by Excel and lost digits — re-export the file and don't "
            "save it from Excel (or format the column as text)"
        )
    return text


def as_datetime(value: Any, tz: ZoneInfo = _LOCAL) -> datetime:
    """A local date-time as the platforms' back offices write it (GMT+8), returned in UTC."""
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=tz)
        return local.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz).astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        moment = datetime(1899, 12, 30) + timedelta(days=float(value))  # an Excel serial date-time
        return moment.replace(microsecond=0, tzinfo=tz).astimezone(UTC)
    text = as_text(value)
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz).astimezone(UTC)
        except ValueError:
            continue
    raise CellError("is not a date and time (write it as YYYY-MM-DD HH:MM:SS)")


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = as_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError("is not 是 or 否")


PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": as_text,
    "decimal": as_decimal,
    "int": as_int,
    "date": as_date,
    "bool": as_bool,
    "id": as_id,
    "datetime": as_datetime,
}

FIX_HINT = {
    "decimal": "fix the cell and re-import",
    "int": "fix the cell and re-import",
    "date": "fix the cell and re-import",
    "bool": "write 是 or 否 and re-import",
    "text": "fix the cell and re-import",
    "id": "fix the cell and re-import",
    "datetime": "fix the cell and re-import",
}


def json_safe(value: Any) -> Any:
    """A cell value as it can go into the quarantine's raw_row JSON."""
    if value is FORMULA_MISSING:
        return repr(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
