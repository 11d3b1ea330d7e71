"""How numbers, money and dates look on the dashboards (pure functions, no Streamlit)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from dashboards.settings import DISPLAY_TIMEZONE

Number = Decimal | int | float
CENT = Decimal("0.01")


SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "JP¥", "HKD": "HK$", "TWD": "NT$", "SGD": "S$",
           "AUD": "A$", "CAD": "C$", "KRW": "₩", "MYR": "RM", "THB": "฿"}  # fmt: skip
_REPORTING = {"currency": "CNY"}


def set_reporting_currency(code: str | None) -> None:
    """The currency the published marts report money in (marts.shops.reporting_currency); the router (and the
    wall) set it on every run, before a page draws. Process-wide: every session reads the same published file."""
    _REPORTING["currency"] = code or "CNY"


def symbol() -> str:
    """The reporting currency's sign: ¥ for CNY, $ for USD, …, else its ISO code and a space ("CHF ")."""
    code = _REPORTING["currency"]
    return SYMBOLS.get(code, f"{code} ")


def money_format() -> str:
    """A table column's printf format for money in the reporting currency ("¥%,.2f")."""
    return symbol().replace("%", "%%") + "%,.2f"


def money(value: Number | None) -> str:
    """The reporting currency's sign with thousands separators and 2 decimals: 1234567.891 -> '¥1,234,567.89';
    -5 -> '¥-5.00' — the minus after the sign, as the tables' money columns (money_format) and a zh-CN Excel
    show it, so a negative amount looks the same in a tile, a chart and a table."""
    if value is None:
        return "—"
    amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{symbol()}{amount:,.2f}"


def money_whole(value: Number | None) -> str:
    """The reporting currency's sign with thousands separators, rounded to whole units: 1234567.5 ->
    '¥1,234,568' (for labels where cents are noise, e.g. the wall's bars)."""
    if value is None:
        return "—"
    amount = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{symbol()}{amount:,}"


def integer(value: Number | None) -> str:
    """Thousands separators, no decimals: 12345 -> '12,345'."""
    if value is None:
        return "—"
    return f"{int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)):,}"


def pct_change(current: Number | None, prior: Number | None) -> str | None:
    """Signed change in percent, one decimal ('+12.3%', '-4.0%'); None when there is no prior base."""
    if current is None or prior is None or Decimal(str(prior)) == 0:
        return None
    change = (Decimal(str(current)) - Decimal(str(prior))) / abs(Decimal(str(prior))) * 100
    return f"{change:+.1f}%"


def local_date(value: date | None) -> str:
    """A shop-local reporting date as YYYY-MM-DD (dates in the marts are already local; a datetime or pandas
    Timestamp read from a DATE column is shown as its date); '—' for none (None, NaT)."""
    if value is None or value != value:  # None, or pandas' NaT / NaN (never equal to itself)
        return "—"
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def local_timestamp(value: datetime, tz: str = DISPLAY_TIMEZONE) -> str:
    """A UTC timestamp shown in the shops' timezone: '2026-06-30 22:05 (Asia/Shanghai)'."""
    if value.tzinfo is None:  # naive values from the warehouse are UTC by convention
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return f"{value.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} ({tz})"


def percent(value: Number | None, digits: int = 1) -> str:
    """A fraction as percent: 0.0321 -> '3.2%'; None -> '—'."""
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def pp_change(current: Number | None, prior: Number | None) -> str | None:
    """Change of a rate in percentage points: (0.05, 0.032) -> '+1.8 pp'; None without both rates."""
    if current is None or prior is None or current != current or prior != prior:
        return None
    return f"{(float(current) - float(prior)) * 100:+.1f} pp"
