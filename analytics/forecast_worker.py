"""`python -m analytics.forecast_worker RESULT_FILE`: fits the series pickled on stdin — (list of arrays,
ForecastSettings) — with analytics.forecasting.forecast_series, and pickles the list of SeriesForecast into
RESULT_FILE. forecasting._fit_all starts one per core for a large catalogue.

A process of its own, started by path to this module, rather than multiprocessing's spawn: spawn runs the
parent's `__main__` again in every child, and the parent may be anything that runs dbt (a pytest worker that
has run a Streamlit script as `__main__` was one), so the children would run that script.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from analytics.forecasting import forecast_series


def main(result_file: Path) -> None:
    series, settings = pickle.load(sys.stdin.buffer)
    result_file.write_bytes(pickle.dumps([forecast_series(y, settings) for y in series]))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
