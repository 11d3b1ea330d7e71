"""Baseline daily demand forecast per master SKU (no promotions yet), one row per SKU x forecast day.

The model choice and the backtest live in analytics/forecasting.py (statsforecast; unit-tested in
tests/analytics/test_forecasting.py); this model only feeds it the demand history and the dbt vars. Stock-out
days and promotion days are left out of the training series (see int_sku_demand_daily). SKUs without any
history day (launched today or later) still get a row, so every stocked SKU has a forecast: SKUs with fewer than
forecast_new_sku_days clean days (new, or never in stock) are forecast from their launch date on by analogy with
the established SKUs of their category (analytics/forecasting.py, step 6), zero before it."""

import os
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def model(dbt, session):
    dbt.config(materialized="table")
    import pandas as pd

    from analytics.forecasting import ForecastSettings, forecast_frame

    started = time.perf_counter()
    settings = ForecastSettings(
        horizon_days=int(dbt.config.get("forecast_horizon_days")),
        season_length=7,
        backtest_windows=int(dbt.config.get("forecast_backtest_windows")),
        backtest_horizon=int(dbt.config.get("forecast_backtest_horizon_days")),
        backtest_step=7,
        min_history_days=int(dbt.config.get("forecast_min_history_days")),
        max_history_days=int(dbt.config.get("forecast_max_history_days")),
        average_window=int(dbt.config.get("forecast_average_window_days")),
        intermittent_adi=float(dbt.config.get("intermittent_adi_threshold")),
        new_sku_days=int(dbt.config.get("forecast_new_sku_days")),
    )
    # only the columns the fit reads: the whole table as a DataFrame held 3 GB beside DuckDB's buffers at 10M
    # order lines (the hourly build's peak)
    history = dbt.ref("int_sku_demand_daily").project(
        "sku, demand_date, units_demanded, is_stockout_day, is_promo_day"
    ).df()
    products = dbt.ref("stg_product_master__products").project("sku, is_kit, launched_on, category").df()
    as_of = as_of_date(
        dbt.config.get("as_of_date"), dbt.config.get("clock"), dbt.config.get("reporting_timezone")
    )

    frame = pd.DataFrame(
        {
            "sku": history["sku"],
            "demand_date": history["demand_date"],
            "units": history["units_demanded"].astype(float),
            "is_excluded": (history["is_stockout_day"] | history["is_promo_day"]).astype(bool),
        }
    )
    stocked = products.loc[~products["is_kit"].astype(bool), "sku"]
    missing = sorted(set(stocked) - set(frame["sku"]))
    skus = products.loc[~products["is_kit"].astype(bool), ["sku", "launched_on", "category"]]
    # the fit is a function of these inputs alone: when they are the previous build's (an hourly refresh adds
    # today's orders, which the forecast does not learn from), its rows are kept instead of fitting again; a
    # `--full-refresh` (the nightly build) always fits
    fingerprint = inputs_fingerprint(frame, skus, as_of, settings)
    previous = None if _full_refresh() else _previous_fit(session, dbt.this, fingerprint)
    if previous is not None:
        return previous
    out = forecast_frame(frame, as_of, settings, extra_skus=missing, skus=skus)
    out["forecast_date"] = pd.to_datetime(out["forecast_date"]).astype("date32[pyarrow]")
    out["run_seconds"] = round(time.perf_counter() - started, 2)
    out["inputs_fingerprint"] = fingerprint
    # typed even when there is nothing to forecast (no product master yet): an empty object column would land
    # as DuckDB's NULL type and break the contracts downstream
    return out.astype(OUTPUT_TYPES)


def inputs_fingerprint(frame, skus, as_of: date, settings) -> str:
    """A digest of everything the fit reads: the training rows (in any order), the stocked SKUs with their launch
    dates and categories, the as-of date, the settings and the forecasting code (analytics/forecasting.py and this
    model's own file)."""
    import hashlib
    from pathlib import Path

    import pandas as pd

    import analytics.forecasting

    rows = int(pd.util.hash_pandas_object(frame, index=False).sum()) if len(frame) else 0
    catalogue = int(pd.util.hash_pandas_object(skus.astype(str), index=False).sum()) if len(skus) else 0
    code = hashlib.sha256(Path(analytics.forecasting.__file__).read_bytes() + _model_source()).hexdigest()
    text = f"{rows}|{len(frame)}|{catalogue}|{len(skus)}|{as_of.isoformat()}|{settings!r}|{code}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _model_source() -> bytes:
    """This model's file as dbt parsed it (dbt runs the compiled copy, so not __file__)."""
    from pathlib import Path

    from dbt.flags import get_flags

    project = Path(getattr(get_flags(), "PROJECT_DIR", None) or ".")
    path = project / "models" / "intermediate" / "forecast" / "int_sku_baseline_forecasts.py"
    return path.read_bytes()  # missing: the model moved, and this path with it


def _full_refresh() -> bool:
    """Whether this dbt invocation is a `--full-refresh` (dbt's own flags of the running invocation)."""
    from dbt.flags import get_flags

    return bool(getattr(get_flags(), "FULL_REFRESH", False))


def _previous_fit(session, this, fingerprint: str):
    """The table's rows as the previous build left them when they were fitted from the same inputs, else None
    (the first build, a table from before the fingerprint column, other inputs)."""
    try:
        (previous,) = session.execute(f"select any_value(inputs_fingerprint) from {this}").fetchone()
    except Exception:  # noqa: BLE001 - no such table or column yet: fit
        return None
    if previous != fingerprint:
        return None
    return session.sql(f"select * from {this}").arrow()  # Arrow keeps every column's type as it was


def as_of_date(pinned: str | None, clock: str | None, timezone: str) -> date:
    """The same "today" as the SQL macros as_of_date() and clock(): dbt var `as_of_date` when given; else the date
    in the reporting timezone of dbt var `clock`, else of environment variable SHOPKEEP_CLOCK (the orchestrator's
    clock, read when the model runs, as the macro reads it), else of now. Without the clock the forecast would
    start on the machine's today while the marts are as of the build's."""
    if pinned:
        return date.fromisoformat(str(pinned))
    moment = clock or os.environ.get("SHOPKEEP_CLOCK", "")
    now = datetime.fromisoformat(moment) if moment else datetime.now(UTC)
    if now.tzinfo is None:  # as DuckDB reads a moment without an offset: UTC
        now = now.replace(tzinfo=UTC)
    return now.astimezone(ZoneInfo(timezone)).date()


OUTPUT_TYPES = {
    "sku": "string",
    "day_ahead": "Int64",
    "baseline_units": "float64",
    "model_name": "string",
    "demand_class": "string",
    "sigma": "float64",
    "wape": "float64",
    "bias": "float64",
    "adi": "float64",
    "clean_days": "Int64",
    "history_days": "Int64",
    "run_seconds": "float64",
    "inputs_fingerprint": "string",
}
