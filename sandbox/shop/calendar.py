"""Dates of the simulated history: the day grid, Chinese festivals, seasonality and the USD rate per month."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

SHANGHAI = timezone(timedelta(hours=8))  # no DST in China: a fixed offset is exact
FX_RATES = Path(__file__).resolve().parent / "fx_rates.csv"
"""The USD->CNY monthly rates the simulator prices with: its own copy of the warehouse's shipped seed
(seeds/fx_rates.csv), which tests/sandbox/test_fx_rates.py keeps equal to it."""

# Chinese New Year (春节) — lunar, so hard-coded.
SPRING_FESTIVAL = {
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
}


def today_in_shanghai() -> date:
    return datetime.now(SHANGHAI).date()


@dataclass(frozen=True)
class Days:
    """The history: `n` local days ending on `end` inclusive."""

    start: date
    end: date
    n: int

    @classmethod
    def ending(cls, end: date, n: int) -> Days:
        if n < 1:
            raise ValueError(f"days must be at least 1, got {n}")
        return cls(start=end - timedelta(days=n - 1), end=end, n=n)

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.n)]

    def index(self, d: date) -> int:
        return (d - self.start).days

    def utc_midnight_ns(self) -> np.ndarray:
        """UTC nanoseconds of each local day's 00:00 (Asia/Shanghai)."""
        first = pd.Timestamp(datetime.combine(self.start, datetime.min.time(), SHANGHAI)).tz_convert("UTC")
        return first.value + np.arange(self.n, dtype=np.int64) * 86_400 * 10**9

    def end_ns(self) -> int:
        """UTC nanoseconds of the end of the last local day (exclusive bound)."""
        return int(self.utc_midnight_ns()[-1] + 86_400 * 10**9)


def weekly_factor(days: Days) -> np.ndarray:
    weekday = np.array([d.weekday() for d in days.dates()])
    return np.array([1.0, 0.97, 0.95, 0.97, 1.02, 1.08, 1.10])[weekday]


def spring_festival_near(d: date) -> date:
    """The Spring Festival of d's year, or next year's when d is after this year's."""
    if d.year not in SPRING_FESTIVAL or (d > SPRING_FESTIVAL[d.year] and d.year + 1 not in SPRING_FESTIVAL):
        raise ValueError(f"no Spring Festival date known for {d}; extend SPRING_FESTIVAL in {__file__}")
    cny = SPRING_FESTIVAL[d.year]
    return cny if d <= cny else SPRING_FESTIVAL[d.year + 1]


def festival_factors(days: Days) -> dict[str, np.ndarray]:
    """Day multipliers per category ('all', 'snacks') for the shopping festivals and the CNY logistics pause.

    618 and 双11 have a pre-sale ramp and a peak day; 双12 a peak; 年货节 (the ~2 weeks before Chinese New Year)
    lifts snacks strongly; the week of the festival itself is quiet (couriers on holiday)."""
    general = np.ones(days.n)
    snacks = np.ones(days.n)
    for i, d in enumerate(days.dates()):
        md = (d.month, d.day)
        if md == (6, 18):
            general[i] *= 3.0
        elif d.month == 6 and 1 <= d.day < 18:
            general[i] *= 1.3
        elif md == (11, 11):
            general[i] *= 4.0
        elif (d.month == 10 and d.day >= 24) or (d.month == 11 and d.day < 11):
            general[i] *= 1.3
        elif md == (12, 12):
            general[i] *= 2.0
        to_cny = (spring_festival_near(d) - d).days
        if 3 <= to_cny <= 16:  # 年货节
            snacks[i] *= 2.6
            general[i] *= 1.15
        elif -7 <= to_cny < 3:  # couriers off
            general[i] *= 0.5
    return {"all": general, "snacks": snacks * general}


def yearly_wave(days: Days, peak_day_of_year: np.ndarray, amplitude: np.ndarray) -> np.ndarray:
    """(days x items) multiplier 1 + a*cos(2π(doy - peak)/365)."""
    doy = np.array([d.timetuple().tm_yday for d in days.dates()], dtype=float)
    phase = 2 * np.pi * (doy[:, None] - peak_day_of_year[None, :]) / 365.25
    return np.clip(1 + amplitude[None, :] * np.cos(phase), 0.05, None)


def snack_new_year_wave(days: Days) -> np.ndarray:
    """Snacks drift up through winter towards the Spring Festival."""
    out = np.ones(days.n)
    for i, d in enumerate(days.dates()):
        to_cny = (spring_festival_near(d) - d).days
        if 0 <= to_cny <= 60:
            out[i] = 1 + 0.5 * (1 - to_cny / 60)
    return out


def read_fx_rates(path: Path = FX_RATES) -> pd.DataFrame:
    """The USD->CNY monthly rates (month, currency, rate_to_cny as Decimal), by default from FX_RATES."""
    if not path.exists():
        raise FileNotFoundError(f"fx rates {path} are missing; the file must list month,currency,rate_to_cny")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return pd.DataFrame(
        {
            "month": [date.fromisoformat(r["month"]) for r in rows],
            "currency": [r["currency"] for r in rows],
            "rate_to_cny": [Decimal(r["rate_to_cny"]) for r in rows],
        }
    )


def usd_rate_per_day(days: Days, fx: pd.DataFrame) -> np.ndarray:
    """The USD rate of each day's month, as floats (for price conversion)."""
    rates = {
        m: float(r)
        for m, r, c in zip(fx["month"], fx["rate_to_cny"], fx["currency"], strict=True)
        if c == "USD"
    }
    out = np.empty(days.n)
    for i, d in enumerate(days.dates()):
        month = d.replace(day=1)
        if month not in rates:
            raise ValueError(f"{FX_RATES} has no USD rate for {month:%Y-%m}; add that month (as in the seed)")
        out[i] = rates[month]
    return out
