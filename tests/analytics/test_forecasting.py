"""analytics/forecasting.py on synthetic series: the right model family per demand pattern, the short-series
fallback, backtest figures that mean what they say. Fast: no warehouse."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from analytics.forecasting import (
    CANDIDATES,
    MOVING_AVERAGE,
    ForecastSettings,
    classify,
    forecast_frame,
    forecast_series,
)

INTERMITTENT = set(CANDIDATES["intermittent"]) - {MOVING_AVERAGE}
SMOOTH = set(CANDIDATES["smooth"]) - {MOVING_AVERAGE}


def intermittent_series(rng: np.random.Generator, days: int = 150) -> np.ndarray:
    """A sale every ~5 days, 1-4 units at a time."""
    return np.where(rng.random(days) < 0.2, rng.integers(1, 5, days), 0).astype(float)


def smooth_series(rng: np.random.Generator, days: int = 150) -> np.ndarray:
    """About 20 units a day with a weekly rhythm."""
    week = np.array([1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 1.1])
    return rng.poisson(20 * week[np.arange(days) % 7]).astype(float)


def test_a_series_with_a_sale_every_few_days_is_forecast_with_an_intermittent_demand_model():
    rng = np.random.default_rng(1)
    for _ in range(5):
        result = forecast_series(intermittent_series(rng))
        assert result.demand_class == "intermittent"
        assert result.model_name in INTERMITTENT | {MOVING_AVERAGE}
        assert result.wape is not None and result.sigma > 0
    picks = [forecast_series(intermittent_series(rng)).model_name for _ in range(10)]
    assert sum(p in INTERMITTENT for p in picks) >= 5, picks


def test_a_series_that_sells_every_day_is_forecast_with_exponential_smoothing():
    rng = np.random.default_rng(2)
    picks = []
    for _ in range(5):
        result = forecast_series(smooth_series(rng))
        assert result.demand_class == "smooth"
        assert result.model_name in SMOOTH | {MOVING_AVERAGE}
        # about 20 a day: the forecast is in the right place and the backtest error is modest
        assert 17 < result.forecast.mean() < 23
        assert result.wape < 0.4
        assert abs(result.bias) < 0.15
        picks.append(result.model_name)
    assert any(p in SMOOTH for p in picks), picks


def test_a_series_shorter_than_the_minimum_history_gets_the_28_day_average_and_the_demand_std():
    y = np.array([0, 2, 1, 3, 0, 4] * 5, dtype=float)  # 30 days
    result = forecast_series(y, ForecastSettings(min_history_days=56))
    assert result.model_name == MOVING_AVERAGE and result.demand_class == "short"
    assert np.allclose(result.forecast, y[-28:].mean())
    assert result.sigma == np.std(y[-28:], ddof=1)
    assert result.wape is None and result.bias is None


def test_a_series_without_any_demand_forecasts_zero():
    result = forecast_series(np.zeros(100))
    assert result.forecast.sum() == 0
    assert classify(np.zeros(100)) == ("intermittent", None)


def test_the_backtest_bias_has_the_sign_of_over_forecasting():
    # demand steps down from 10 to 5 a day three weeks ago: every model learnt on the old level over-forecasts
    y = np.r_[np.full(120, 10.0), np.full(21, 5.0)]
    result = forecast_series(y, ForecastSettings(backtest_windows=2))
    assert result.bias > 0


def test_the_frame_has_one_row_per_sku_and_day_and_leaves_excluded_days_out_of_training():
    as_of = date(2026, 7, 1)
    days = [as_of - timedelta(days=i) for i in range(100, 0, -1)]
    history = pd.DataFrame(
        {
            "sku": ["A"] * 100,
            "demand_date": days,
            "units": [3.0] * 90 + [0.0] * 10,  # the last ten days were a stock-out
            "is_excluded": [False] * 90 + [True] * 10,
        }
    )
    out = forecast_frame(history, as_of, ForecastSettings(horizon_days=14), extra_skus=["NEW"])
    assert len(out) == 28
    assert set(out["sku"]) == {"A", "NEW"}
    assert out["forecast_date"].min() == as_of
    a = out[out["sku"] == "A"]
    assert np.allclose(a["baseline_units"], 3.0, atol=0.05)  # the stock-out zeros did not drag it down
    assert (out.loc[out["sku"] == "NEW", "baseline_units"] == 0).all()
    assert a["clean_days"].iloc[0] == 90


def test_a_new_or_never_stocked_sku_is_forecast_like_the_average_sku_of_its_category_from_its_launch_on():
    as_of = date(2026, 7, 1)
    days = [as_of - timedelta(days=i) for i in range(100, 0, -1)]
    rng = np.random.default_rng(3)
    frames = [
        pd.DataFrame(
            {
                "sku": sku,
                "demand_date": days,
                "units": rng.poisson(rate, 100).astype(float),
                "is_excluded": False,
            }
        )
        for sku, rate in (("A", 2.0), ("B", 6.0))
    ]
    # C was listed 100 days ago but never in stock: every day is a censored stock-out day
    frames.append(pd.DataFrame({"sku": "C", "demand_date": days, "units": 0.0, "is_excluded": True}))
    skus = pd.DataFrame(
        {
            "sku": ["A", "B", "C", "NEW", "OTHER"],
            "launched_on": [date(2025, 1, 1), date(2025, 1, 1), days[0], as_of + timedelta(days=5), None],
            "category": ["home", "home", "home", "home", "snacks"],
        }
    )
    settings = ForecastSettings(horizon_days=14)
    out = forecast_frame(pd.concat(frames), as_of, settings, extra_skus=["NEW", "OTHER"], skus=skus)
    rates = out[out["sku"].isin(["A", "B"])].groupby("sku")["baseline_units"].first()
    analog = rates.mean()
    c = out[out["sku"] == "C"]
    assert (c["model_name"] == "new_sku_analog").all() and (c["demand_class"] == "new").all()
    assert np.allclose(c["baseline_units"], analog, rtol=0.2)  # ~ the mean of A's and B's recent demand
    new = out[out["sku"] == "NEW"].set_index("day_ahead")["baseline_units"]
    assert (new.loc[1:5] == 0).all()  # nothing before the launch date
    assert np.allclose(new.loc[6:], c["baseline_units"].iloc[0])
    # no established SKU in its category to learn from: nothing to go on
    assert (out.loc[out["sku"] == "OTHER", "baseline_units"] == 0).all()
    # established SKUs keep their own model
    assert not out.loc[out["sku"].isin(["A", "B"]), "model_name"].eq("new_sku_analog").any()


def test_fitting_the_series_in_two_processes_gives_the_same_rows_as_fitting_them_here(tmp_path, monkeypatch):
    """A large catalogue is fitted in one process per core (analytics.forecasting.PARALLEL_MIN_SERIES); each
    series' fit is its own, so the rows, their order included, are the ones fitted in one process. The worker
    processes never run the caller's `__main__` (multiprocessing's spawn did: a pytest worker that had run the
    Streamlit app as `__main__` made every child run the app)."""
    import sys
    import types

    script = tmp_path / "not_a_worker.py"
    script.write_text('raise SystemExit("the caller\'s __main__ ran in a forecast worker")\n')
    caller = types.ModuleType("__main__")
    caller.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", caller)
    rng = np.random.default_rng(11)
    as_of = date(2026, 7, 1)
    days = [as_of - timedelta(days=i) for i in range(120, 0, -1)]
    frames = []
    for i in range(9):
        units = intermittent_series(rng, 120) if i % 2 else smooth_series(rng, 120)
        frames.append(
            pd.DataFrame({"sku": f"S{i}", "demand_date": days, "units": units, "is_excluded": False})
        )
    history = pd.concat(frames, ignore_index=True)
    settings = ForecastSettings(horizon_days=14)
    here = forecast_frame(history, as_of, settings, extra_skus=["NEW"], workers=1)
    apart = forecast_frame(history, as_of, settings, extra_skus=["NEW"], workers=2)
    assert set(here["model_name"]) & INTERMITTENT and set(here["model_name"]) & SMOOTH  # both kinds fitted
    pd.testing.assert_frame_equal(here, apart)
