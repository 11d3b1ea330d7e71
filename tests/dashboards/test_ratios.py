"""dashboards.ratios pools a declared ratio exactly as marts.period_ratios says: Σ numerator / Σ denominator,
money to the cent (half up), rates as shares, None on a zero base, sums of columns summed column by column."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from dashboards.queries.serving import ServeFileInvalid
from dashboards.ratios import Ratio, pooled, ratio_sql, with_pooled

AOV = Ratio("aov_cny", "channel_daily_performance", "net_sales_cny", "orders", "money")
MATCH = Ratio("match_rate", "m", "matched", "matched + mismatched - excluded", "rate")


def test_a_money_ratio_is_the_ratio_of_sums_to_the_cent_half_up_not_a_mean_of_ratios():
    frame = pd.DataFrame({"net_sales_cny": [Decimal("100.00"), Decimal("0.05"), None], "orders": [3, 0, 1]})
    assert pooled(frame, AOV) == Decimal("25.01")  # 100.05 / 4 = 25.0125; the mean of the rows' AOVs is 33.33


def test_a_rate_pools_each_column_of_a_sum_and_a_zero_base_is_none():
    frame = pd.DataFrame({"matched": [3, 1], "mismatched": [1, 1], "excluded": [0, 2]})
    assert pooled(frame, MATCH) == pytest.approx(4 / 4)
    assert pooled(frame.iloc[[1]], MATCH) is None  # 1 + 1 - 2 = 0
    per_row = with_pooled(frame, [MATCH])
    assert per_row["match_rate"].iloc[0] == 0.75 and pd.isna(per_row["match_rate"].iloc[1])


def test_a_declaration_that_is_not_a_sum_of_columns_is_refused_by_name():
    with pytest.raises(ServeFileInvalid, match="not a sum of columns"):
        pooled(pd.DataFrame({"a": [1], "b": [2]}), Ratio("x", "m", "a * 2", "b", "rate"))


def test_the_sql_form_sums_each_column_or_takes_the_groups_sums():
    assert ratio_sql(MATCH, "m") == "(sum(m.matched)) / nullif(sum(m.matched) + sum(m.mismatched) - sum(m.excluded), 0)"
    assert ratio_sql(AOV, "g", summed=True) == "(g.net_sales_cny) / nullif(g.orders, 0)"


def test_every_declared_ratio_is_a_sum_of_columns_and_the_test_serve_file_carries_them(serve_path):
    import duckdb

    with duckdb.connect(str(serve_path), read_only=True) as con:
        rows = con.execute("select ratio, mart, numerator, denominator, kind from marts.period_ratios").fetchall()
    assert {"aov_cny", "refund_rate", "margin_pct", "match_rate", "return_rate"} <= {r[0] for r in rows}
    for ratio in (Ratio(*row) for row in rows):
        assert ratio_sql(ratio, "x")  # parses: a sum of columns
