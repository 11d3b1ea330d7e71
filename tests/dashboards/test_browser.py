"""The real thing: `streamlit run dashboards/app.py` driven by Debian's headless Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import httpx
import pytest

from dashboards.format import money

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_DEADLINE_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dashboard_url(serve_path: Path, tmp_path: Path) -> Iterator[str]:
    """A `streamlit run dashboards/app.py` subprocess on a free port, reading the fixture serve file."""
    port = free_port()
    log = (tmp_path / "streamlit.log").open("w+", encoding="utf-8")
    env = {**os.environ, "SHOPKEEP_SERVE_PATH": str(serve_path)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "dashboards" / "app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
            "--client.toolbarMode",
            "viewer",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while True:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read()}")
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"streamlit did not answer on {url} within {STARTUP_DEADLINE_S}s:\n{log.read()}")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.browser
def test_the_overview_renders_in_chromium_without_errors_and_shows_the_sql_totals(dashboard_url, serve_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) and re-run")
    from playwright.sync_api import sync_playwright

    with duckdb.connect(str(serve_path), read_only=True) as con:
        (gmv,) = con.execute(
            "select sum(gmv_cny) from marts.daily_shop_sales where order_date between ? and ?",
            [date(2026, 6, 1), date(2026, 6, 30)],
        ).fetchone()

    console_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1150}, locale="zh-CN")
            page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: console_errors.append(str(exc)))
            page.goto(dashboard_url, wait_until="domcontentloaded")

            page.get_by_text("GMV 成交额").first.wait_for(timeout=60_000)
            page.get_by_text(money(gmv), exact=True).first.wait_for(timeout=30_000)
            page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
            page.get_by_text("数据更新于", exact=False).first.wait_for(timeout=30_000)
            page.wait_for_load_state("networkidle")

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
            exceptions = page.locator('[data-testid="stException"]').count()
            metrics = page.locator('[data-testid="stMetric"]').count()
        finally:
            browser.close()

    assert exceptions == 0
    assert metrics == 4
    assert console_errors == []
