"""Daily demand forecasts per SKU with statsforecast, the model chosen per series by a rolling-origin backtest.

The dbt Python model `int_sku_baseline_forecasts` calls `forecast_frame` (dbt_project/models/intermediate/
forecast/); the replay bench and the unit tests call it too, so the logic lives here, importable and testable,
rather than inside the dbt model file (dbt-duckdb executes a Python model from a temporary copy, so the model
can only import installed packages: this one is part of the `shopkeep` package, see pyproject.toml).

Per series (one master SKU, all channels, kits exploded):

1. Days flagged as stock-out days (censored demand) or promotion days (explained separately by the promotion
   lift) are left out of the training series.
2. The series is classified by the Syntetos-Boylan average demand interval (ADI = days / days with demand):
   ADI >= 1.32 is *intermittent*, else *smooth*.
3. Candidates: intermittent -> Croston (optimised), TSB, ADIDA; smooth -> simple exponential smoothing and
   ETS (weekly season, no trend); the 28-day average is always a candidate.
4. Rolling-origin backtest: `backtest_windows` origins `backtest_step` days apart, each forecasting the next
   `backtest_horizon` days. The candidate with the lowest RMSE wins (RMSE is minimised by the mean, so on
   intermittent series it does not reward forecasting zero the way WAPE would); its WAPE, bias and the standard
   deviation of its daily errors (sigma) are reported.
5. Only the last `max_history_days` clean days are fitted (speed: ETS on 540 days costs ~3x more for the same
   answer from these level models). Series with fewer clean days than `min_history_days` get the 28-day average, with the demand's standard
   deviation as sigma and no backtest figures.
6. New SKUs (`forecast_frame` with a `skus` table): a SKU with fewer than `new_sku_days` clean days is forecast
   from its launch date on as its own clean days' mean shrunk towards the *analog* rate — the mean daily demand
   per SKU over the last `average_window` clean days of the established SKUs (with a backtested model) of its
   category: rate = w x own + (1 - w) x analog, w = clean days / new_sku_days. Without this, a SKU that has never
   been in stock shows no demand (its out-of-stock days are censored) and is never bought. Its sigma is the larger
   of its own and the analog SKUs' mean sigma.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

MOVING_AVERAGE = "moving_average_28"


@dataclass(frozen=True)
class ForecastSettings:
    """Knobs of the forecaster; the dbt model fills them from dbt vars (dbt_project.yml)."""

    horizon_days: int = 56
    season_length: int = 7
    backtest_windows: int = 4
    backtest_horizon: int = 14
    backtest_step: int = 7
    min_history_days: int = 56
    max_history_days: int = (
        182  # only the most recent clean days are fitted: local-level models gain little from more
    )
    average_window: int = 28
    intermittent_adi: float = 1.32
    new_sku_days: int = 28  # fewer clean days -> blended with the category analog (skus table)


@dataclass
class SeriesForecast:
    """The forecast of one series and how it was chosen."""

    forecast: np.ndarray
    model_name: str
    demand_class: str  # intermittent | smooth | short
    sigma: float
    wape: float | None
    bias: float | None
    adi: float | None
    clean_days: int
    candidates_tried: int


def _models(settings: ForecastSettings) -> dict[str, Callable[[], object]]:
    from statsforecast.models import (
        ADIDA,
        TSB,
        AutoETS,
        CrostonOptimized,
        SimpleExponentialSmoothingOptimized,
    )

    return {
        "croston_optimized": CrostonOptimized,
        "tsb": lambda: TSB(alpha_d=0.1, alpha_p=0.1),
        "adida": ADIDA,
        "ses": SimpleExponentialSmoothingOptimized,
        "ets": lambda: AutoETS(season_length=settings.season_length, model="ZNZ"),
    }


CANDIDATES = {
    "intermittent": ("croston_optimized", "tsb", "adida", MOVING_AVERAGE),
    "smooth": ("ses", "ets", MOVING_AVERAGE),
}


def classify(y: np.ndarray, settings: ForecastSettings = ForecastSettings()) -> tuple[str, float | None]:
    """('intermittent' | 'smooth', ADI); a series without any demand counts as intermittent (ADI None)."""
    nonzero = int(np.count_nonzero(y > 0))
    if nonzero == 0:
        return "intermittent", None
    adi = len(y) / nonzero
    return ("intermittent" if adi >= settings.intermittent_adi else "smooth"), adi


def moving_average(y: np.ndarray, h: int, window: int) -> np.ndarray:
    tail = y[-window:]
    return np.full(h, float(tail.mean()) if len(tail) else 0.0)


def predict(name: str, y: np.ndarray, h: int, settings: ForecastSettings) -> np.ndarray:
    """h daily forecasts of model `name` fitted on y (never negative)."""
    if name == MOVING_AVERAGE or not np.any(y > 0):
        return moving_average(y, h, settings.average_window)
    model = _models(settings)[name]()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.asarray(model.forecast(y=y.astype(float), h=h)["mean"], dtype=float)
    except Exception:  # a model that cannot fit this series (e.g. too short for a season) falls back
        out = moving_average(y, h, settings.average_window)
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, None)


def backtest(name: str, y: np.ndarray, settings: ForecastSettings) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and actuals of every rolling origin, stacked (windows x backtest_horizon)."""
    h = settings.backtest_horizon
    forecasts, actuals = [], []
    for w in range(settings.backtest_windows):
        cut = len(y) - h - w * settings.backtest_step
        forecasts.append(predict(name, y[:cut], h, settings))
        actuals.append(y[cut : cut + h])
    return np.array(forecasts), np.array(actuals, dtype=float)


def forecast_series(y: np.ndarray, settings: ForecastSettings = ForecastSettings()) -> SeriesForecast:
    """Choose a model for the clean daily series `y` (oldest first) and forecast `horizon_days` days."""
    y = np.asarray(y, dtype=float)[-settings.max_history_days :]
    demand_class, adi = classify(y, settings)
    needed = max(
        settings.min_history_days,
        settings.backtest_horizon + settings.backtest_step * (settings.backtest_windows - 1) + 14,
    )
    if len(y) < needed:
        tail = y[-settings.average_window :]
        sigma = float(tail.std(ddof=1)) if len(tail) > 1 else 0.0
        return SeriesForecast(
            forecast=moving_average(y, settings.horizon_days, settings.average_window),
            model_name=MOVING_AVERAGE,
            demand_class="short",
            sigma=sigma,
            wape=None,
            bias=None,
            adi=adi,
            clean_days=len(y),
            candidates_tried=0,
        )
    best = None
    for name in CANDIDATES[demand_class]:
        f, a = backtest(name, y, settings)
        err = f - a
        rmse = math.sqrt(float(np.mean(err**2)))
        key = (round(rmse, 9), abs(float(err.sum())))
        if best is None or key < best[0]:
            best = (key, name, err, a)
    _, name, err, actual = best
    total = float(actual.sum())
    return SeriesForecast(
        forecast=predict(name, y, settings.horizon_days, settings),
        model_name=name,
        demand_class=demand_class,
        sigma=float(err.std(ddof=1)),
        wape=float(np.abs(err).sum() / total) if total > 0 else None,
        bias=float(err.sum() / total) if total > 0 else None,
        adi=adi,
        clean_days=len(y),
        candidates_tried=len(CANDIDATES[demand_class]),
    )


FORECAST_COLUMNS = [
    "sku",
    "forecast_date",
    "day_ahead",
    "baseline_units",
    "model_name",
    "demand_class",
    "sigma",
    "wape",
    "bias",
    "adi",
    "clean_days",
    "history_days",
]


def forecast_frame(
    history: pd.DataFrame,
    as_of: date,
    settings: ForecastSettings = ForecastSettings(),
    extra_skus: list[str] | tuple[str, ...] = (),
    skus: pd.DataFrame | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Forecast every SKU in `history` (columns sku, demand_date, units, is_excluded; one row per SKU and day,
    zero-filled) for the `horizon_days` days from `as_of` on; `extra_skus` have no history (forecast zero, unless
    `skus` knows them). `skus` (columns sku, launched_on, category), when given, turns on the new-SKU analog
    (module docstring, step 6): SKUs with fewer than `new_sku_days` clean days, `extra_skus` included, are forecast
    from their launch date on. One row per SKU x forecast day, with the series' model, class, sigma, WAPE and bias
    repeated on each row (FORECAST_COLUMNS). The series are fitted in `workers` processes (default: one per core
    from PARALLEL_MIN_SERIES series on, else here); each series' fit is its own, so the rows are the same either
    way."""
    dates = [as_of + timedelta(days=i) for i in range(settings.horizon_days)]
    history = history.sort_values(["sku", "demand_date"], kind="stable")
    groups = list(history.groupby("sku", sort=True))
    groups += [(sku, history.iloc[0:0]) for sku in extra_skus]
    series = [
        (sku, rows.loc[~rows["is_excluded"].astype(bool), "units"].to_numpy(dtype=float), len(rows))
        for sku, rows in groups
    ]
    fitted = _fit_all([y for _, y, _ in series], settings, workers)
    results: dict[str, tuple[SeriesForecast, np.ndarray, int]] = {
        sku: (result, y, history_days) for (sku, y, history_days), result in zip(series, fitted, strict=True)
    }
    if skus is not None and len(skus):
        _new_sku_analog(results, skus, dates, settings)
    frames = []
    for sku, (result, _y, history_days) in results.items():
        frames.append(
            pd.DataFrame(
                {
                    "sku": sku,
                    "forecast_date": dates,
                    "day_ahead": np.arange(1, settings.horizon_days + 1),
                    "baseline_units": result.forecast,
                    "model_name": result.model_name,
                    "demand_class": result.demand_class,
                    "sigma": result.sigma,
                    "wape": result.wape,
                    "bias": result.bias,
                    "adi": result.adi,
                    "clean_days": result.clean_days,
                    "history_days": history_days,
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FORECAST_COLUMNS})
    out = pd.concat(frames, ignore_index=True)[FORECAST_COLUMNS]
    for col in ("wape", "bias", "adi"):
        out[col] = out[col].astype(float)
    return out


PARALLEL_MIN_SERIES = 2_000
"""From this many series on, forecast_frame fits them in one process per core (a series takes ~6 ms: at 16,000
SKUs the fit was 92 s on one core, while the build's other core waited); below it, starting the processes
(~2 s each: they import pandas and statsforecast) costs more than it saves."""


def _fit_all(
    series: list[np.ndarray], settings: ForecastSettings, workers: int | None
) -> list[SeriesForecast]:
    """forecast_series of each series, in order: here, or split over `workers` processes (None: one per core when
    there are PARALLEL_MIN_SERIES series or more), each a `python -m analytics.forecast_worker` of its own (its
    docstring says why not multiprocessing)."""
    import os
    import pickle
    import subprocess
    import sys
    import tempfile
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    if workers is None:
        workers = (os.cpu_count() or 1) if len(series) >= PARALLEL_MIN_SERIES else 1
    workers = min(workers, len(series))
    if workers < 2:
        return [forecast_series(y, settings) for y in series]
    size = -(-len(series) // workers)
    chunks = [series[i : i + size] for i in range(0, len(series), size)]

    with tempfile.TemporaryDirectory(prefix="shopkeep-forecast-") as folder:

        def fit(numbered: tuple[int, list[np.ndarray]]) -> list[SeriesForecast]:
            number, chunk = numbered
            result = Path(folder) / f"{number}.pickle"
            done = subprocess.run(
                [sys.executable, "-m", "analytics.forecast_worker", str(result)],
                input=pickle.dumps((chunk, settings)),
                capture_output=True,
            )
            if done.returncode != 0:
                raise RuntimeError(
                    f"a forecast worker failed ({done.returncode}): {done.stderr.decode(errors='replace')[-3000:]}"
                )
            return pickle.loads(result.read_bytes())

        with ThreadPoolExecutor(len(chunks)) as threads:
            return [fitted for chunk in threads.map(fit, enumerate(chunks)) for fitted in chunk]


NEW_SKU_ANALOG = "new_sku_analog"


def _new_sku_analog(
    results: dict[str, tuple[SeriesForecast, np.ndarray, int]],
    skus: pd.DataFrame,
    dates: list[date],
    settings: ForecastSettings,
) -> None:
    """Replace the forecast of SKUs with fewer than new_sku_days clean days by their own mean shrunk towards their
    category's analog rate, from the launch date on (in place)."""
    info = skus.drop_duplicates("sku").set_index("sku")
    analogs: dict[object, list[tuple[float, float]]] = {}
    for sku, (result, y, _n) in results.items():
        if result.demand_class != "short" and sku in info.index and len(y):
            rate = float(y[-settings.average_window :].mean())
            analogs.setdefault(info.at[sku, "category"], []).append((rate, result.sigma))
    horizon = np.array(dates, dtype="datetime64[D]")
    for sku, (result, y, n_days) in list(results.items()):
        if result.clean_days >= settings.new_sku_days or sku not in info.index:
            continue
        pool = analogs.get(info.at[sku, "category"])
        if not pool:
            continue
        rates = np.array([r for r, _ in pool])
        sigmas = np.array([s for _, s in pool])
        w = result.clean_days / settings.new_sku_days
        own = float(y[-settings.average_window :].mean()) if len(y) else 0.0
        rate = w * own + (1 - w) * float(rates.mean())
        launched = info.at[sku, "launched_on"]
        live = (
            horizon >= np.datetime64(pd.Timestamp(launched).date(), "D")
            if launched is not None and not pd.isna(launched)
            else np.ones(len(dates), bool)
        )
        results[sku] = (
            SeriesForecast(
                forecast=np.where(live, rate, 0.0),
                model_name=NEW_SKU_ANALOG,
                demand_class="new",
                sigma=max(result.sigma, float(sigmas.mean())),
                wape=None,
                bias=None,
                adi=result.adi,
                clean_days=result.clean_days,
                candidates_tried=0,
            ),
            y,
            n_days,
        )
