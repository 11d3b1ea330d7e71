"""The baseline forecast (a Python dbt model, statsforecast: the largest model of a big seller's build) is fitted
again only when what it reads changed: the demand history up to the day before the as-of date, the stocked SKUs,
the as-of date, the settings, the forecasting code (its module and the model's file). An hourly refresh of the same
day keeps the previous fit; a new day, a corrected history or a `--full-refresh` fits again — and the forecast
always starts on the build's as-of date."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import duckdb
import time_machine

from analytics.dbt_cli import run_dbt

FORECAST = "int_sku_baseline_forecasts"


def _forecast(build) -> tuple:
    with duckdb.connect(str(build), read_only=True) as con:
        return con.execute(
            "select count(*), min(forecast_date), any_value(inputs_fingerprint), any_value(run_seconds), "
            f"round(sum(baseline_units), 3), sum(hash(sku, forecast_date, round(baseline_units, 6))) "
            f"from intermediate.{FORECAST}"
        ).fetchone()


def _tamper(build) -> None:
    with duckdb.connect(str(build)) as con:
        con.execute(f"update intermediate.{FORECAST} set baseline_units = baseline_units + 1")


def _run(build, work, at: datetime, *args: str) -> None:
    with time_machine.travel(at, tick=False):
        result = run_dbt(build, work, "run", "--select", FORECAST, *args)
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_forecast_is_fitted_once_a_day_unless_its_history_changes(built_build_path, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copyfile(built_build_path, build)
    with duckdb.connect(str(build)) as con:  # a table from before the fingerprint: fitted again
        con.execute(f"alter table intermediate.{FORECAST} drop column if exists inputs_fingerprint")

    morning = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    _run(build, tmp_path, morning)
    first = _forecast(build)
    assert first[0] > 0 and str(first[1]) == "2026-12-04"

    # what is kept is the table's rows as they are: even tampered ones show it was not fitted again
    _tamper(build)
    _run(build, tmp_path, morning.replace(hour=5))  # the same day, four hours later: the same fit, kept
    kept = _forecast(build)
    assert kept[2] == first[2] and kept[4] != first[4] and kept[5] != first[5]

    # a corrected day of history: fitted again, on the same day
    with duckdb.connect(str(build)) as con:
        con.execute(
            "update intermediate.int_sku_demand_daily set units_demanded = units_demanded + 50 where rowid = ("
            "select arg_max(rowid, demand_date) from intermediate.int_sku_demand_daily "
            "where units_demanded > 0 and not is_stockout_day and not is_promo_day)"
        )  # yesterday's (or the latest clean day's) demand of a SKU
    _run(build, tmp_path, morning.replace(hour=6))
    corrected = _forecast(build)
    assert corrected[2] != first[2] and corrected[5] != first[5] and str(corrected[1]) == "2026-12-04"

    _run(build, tmp_path, datetime(2026, 12, 4, 17, 0, tzinfo=UTC))  # 01:00 on the 5th in Shanghai: a new day
    next_day = _forecast(build)
    assert next_day[2] != corrected[2] and str(next_day[1]) == "2026-12-05"

    # a --full-refresh (the nightly build) fits again whatever the fingerprint says
    _tamper(build)
    _run(build, tmp_path, datetime(2026, 12, 4, 18, 0, tzinfo=UTC), "--full-refresh")
    refitted = _forecast(build)
    assert refitted[2] == next_day[2] and (refitted[0], refitted[4], refitted[5]) == (
        next_day[0],
        next_day[4],
        next_day[5],
    )
