"""Money, counts, changes and timestamps look the way a Chinese seller reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

from dashboards.format import (
    integer,
    local_date,
    local_timestamp,
    money,
    money_format,
    pct_change,
    set_reporting_currency,
    symbol,
)


def test_money_is_yuan_with_thousands_separators_and_two_decimals():
    assert money(Decimal("1234567.891")) == "¥1,234,567.89"
    assert money(Decimal("0.005")) == "¥0.01"
    assert money(Decimal("-5")) == "¥-5.00"  # as a table's money column shows it
    assert money(None) == "—"


def test_counts_have_thousands_separators():
    assert integer(1234567) == "1,234,567"


def test_change_is_signed_percent_and_absent_without_a_prior_base():
    assert pct_change(Decimal("110"), Decimal("100")) == "+10.0%"
    assert pct_change(90, 100) == "-10.0%"
    assert pct_change(5, 0) is None


def test_a_utc_publish_time_is_shown_in_shanghai_time():
    assert local_timestamp(datetime(2026, 6, 30, 20, 15, tzinfo=UTC)) == "2026-07-01 04:15 (Asia/Shanghai)"


def test_money_is_labelled_with_the_reporting_currency_of_the_snapshot():
    try:
        set_reporting_currency("USD")
        assert (money(-1234.5), money_format(), symbol()) == ("$-1,234.50", "$%,.2f", "$")
        set_reporting_currency("CHF")  # no sign of its own: the ISO code
        assert money(5) == "CHF 5.00"
    finally:
        set_reporting_currency(None)
    assert money(5) == "¥5.00" and money_format() == "¥%,.2f"


def test_a_missing_date_shows_as_a_dash_not_nat():
    assert local_date(date(2026, 6, 30)) == "2026-06-30"
    assert local_date(pd.Timestamp("2026-06-30")) == "2026-06-30"
    assert local_date(None) == local_date(pd.NaT) == "—"
