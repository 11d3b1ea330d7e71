"""Helpers for the page tests that render a page of the real app with AppTest over a built warehouse
(`built_warehouse` in tests/conftest.py): run the router once, switch to the page, read its elements."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.filters import default_range

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def render_page(serve: Path, page: str, monkeypatch: pytest.MonkeyPatch, **state: object) -> AppTest:
    """The app at views/<page>.py against `serve`, with `state` put in session_state first."""
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(serve))
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tiles(at: AppTest) -> dict[str, str]:
    """Metric label -> shown value."""
    return {m.label: m.value for m in at.metric}


def rows(serve: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(serve), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def one(serve: Path, sql: str, params: list[Any] | None = None) -> tuple:
    (row,) = rows(serve, sql, params)
    return row


def default_dates(serve: Path) -> tuple[date, date]:
    """The date range the sidebar starts with (the last 30 days of marts.daily_shop_sales)."""
    first, last = one(serve, "select min(order_date), max(order_date) from marts.daily_shop_sales")
    return default_range(first, last)


def month_start(day: date) -> date:
    return day.replace(day=1)


def wait_until_healthy(server, url: str, log, seconds: float, what: str = "streamlit") -> None:
    """Wait until the Streamlit server process `server` answers on `url`'s health check; fail with its log (the
    open file `log`) when it exits or does not answer within `seconds`."""
    import time

    import httpx

    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            log.seek(0)
            pytest.fail(f"{what} exited with {server.returncode}:\n{log.read()}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"{what} did not answer on {url} within {seconds:.0f}s:\n{log.read()}")
        time.sleep(0.25)
