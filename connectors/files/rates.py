"""The seller's exchange-rates file (`[currency] rates_file`): a CSV with a header row and the columns `currency`
(ISO code), `month` (2026-09 or 2026-09-01: the rate holds for the whole month) or `date` (2026-09-14: for that
day, over the month's), and `rate` (units of the reporting currency for one unit of `currency`). Any encoding
the exports may have; a row that cannot be read is returned as a problem naming its row and the fix, and the
others load (an order needing the missing rate is then set aside by the build, naming currency and month)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from connectors.files.encoding import decode

COLUMNS = {"currency": "varchar", "period": "varchar", "starts_on": "date", "rate": "decimal(18, 8)",
           "source_row": "integer"}  # fmt: skip
"""raw_config.fx_rates: period is 'month' (starts_on the 1st) or 'day'."""


def _date(text: str, period: str) -> date:
    if period == "month" and re.fullmatch(r"\d{4}-\d{1,2}", text):
        text += "-01"
    value = date.fromisoformat(re.sub(r"-(\d)(?=-|$)", r"-0\1", text))
    return value.replace(day=1) if period == "month" else value


def read_rates(path: Path) -> tuple[list[tuple], list[str]]:
    """(rows for raw_config.fx_rates, problems): one row per line of the file that reads, one problem (naming
    file and row) per line that does not, and a problem for a file without the needed columns."""
    text, _ = decode(path.read_bytes())
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    if "currency" not in header or "rate" not in header or not ({"month", "date"} & set(header)):
        return [], [f"{path.name}: needs the columns currency, month (or date) and rate; found "
                    f"{', '.join(reader.fieldnames or []) or 'no header'}"]  # fmt: skip
    problems: list[str] = []
    seen: dict[tuple, tuple] = {}
    for number, record in enumerate(reader, start=2):
        cell = {key: (record.get(name) or "").strip() for key, name in header.items()}
        if not any(cell.values()):
            continue
        period = "day" if cell.get("date") else "month"
        where = f"{path.name} row {number}"
        currency = cell["currency"].upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            problems.append(f"{where}: currency {cell['currency']!r} is not an ISO code such as USD — fix it")
            continue
        try:
            starts_on = _date(cell.get("date") or cell.get("month", ""), period)
        except ValueError:
            problems.append(f"{where}: {period} {cell.get('date') or cell.get('month')!r} is not a "
                            f"{'date like 2026-09-14' if period == 'day' else 'month like 2026-09'} — fix it")  # fmt: skip
            continue
        try:
            rate = Decimal(cell["rate"].replace(",", ""))
        except InvalidOperation:
            rate = Decimal(0)
        if not rate.is_finite() or rate <= 0:
            problems.append(f"{where}: rate {cell['rate']!r} is not a positive number — fix it")
            continue
        key = (currency, period, starts_on)
        if key in seen:  # two rates for one period: neither is used (which one is right?)
            problems.append(
                f"{where}: {currency} {starts_on:%Y-%m-%d} is also on row {seen[key][0]} — keep one"
            )
            seen[key] = (seen[key][0], None)
            continue
        seen[key] = (number, (currency, period, starts_on, rate, number))
    rows = [row for _, row in seen.values() if row is not None]
    return rows, problems
