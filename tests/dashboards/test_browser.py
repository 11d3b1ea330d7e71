"""The real thing: `streamlit run dashboards/app.py` over the built warehouse, driven by Debian's headless
Chromium via Playwright (the app server and browser fixtures here; the crawl of every page in both languages —
no error element, no console error, a screenshot and its drawing time each — is test_presentation.py's). The
overview shows the SQL totals; a table row opens the SKU page; the wall fills a 1080p and a 4K screen with type that grows with it, and shows a
new publish's numbers without reloading the page."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from dashboards.filters import default_range
from dashboards.format import money
from sandbox.runner import free_port
from tests.dashboards.pages_helper import wait_until_healthy

pytestmark = pytest.mark.slow

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
WALL_REFRESH_S = 2
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Opening a page's own URL (e.g. /wall) makes Streamlit's frontend first probe /wall/_stcore/health and
# /wall/_stcore/host-config (in case the app is served under that base path), then fall back to /_stcore/...:
# those two 404s are the frontend's routing, not a page error.
BASE_PATH_PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$")


def registered_pages() -> list[str]:
    """url_path of every page in app.py's SECTIONS (read from the source: importing app.py would run it)."""
    tree = ast.parse((REPO / "dashboards" / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "SECTIONS":
            sections = ast.literal_eval(node.value)
            return [url for specs in sections.values() for url, _title, _icon in specs]
    raise AssertionError("dashboards/app.py has no SECTIONS")


@pytest.fixture(scope="module")
def live_serve(built_serve_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built warehouse's serve.duckdb that the wall test can publish over."""
    live = tmp_path_factory.mktemp("browser") / "serve.duckdb"
    shutil.copy(built_serve_path, live)
    return live


@pytest.fixture(scope="module")
def dashboard_url(live_serve: Path) -> Iterator[str]:
    """A `streamlit run dashboards/app.py` subprocess on a free port, reading `live_serve` (the wall refreshing
    every WALL_REFRESH_S seconds), with its own ops store."""
    port = free_port()
    log = (live_serve.parent / "streamlit.log").open("w+", encoding="utf-8")
    env = {
        **os.environ,
        "SHOPKEEP_SERVE_PATH": str(live_serve),
        "SHOPKEEP_OPS_PATH": str(live_serve.parent / "ops.sqlite"),
        "SHOPKEEP_WALL_REFRESH_SECONDS": str(WALL_REFRESH_S),
    }
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
        wait_until_healthy(server, url, log, STARTUP_DEADLINE_S)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def record_errors(page) -> None:
    """Record the page's console errors and uncaught exceptions in `page.errors` (Streamlit's probe of a base path
    it does not have is not an error)."""
    page.errors = []

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        if msg.text.startswith("Failed to load resource") and BASE_PATH_PROBE.search(
            msg.location.get("url", "")
        ):
            return
        page.errors.append(f"{page.url}: {msg.text} {msg.location.get('url', '')}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.errors.append(f"{page.url}: {exc}"))


@pytest.fixture
def browser_page():
    """A Chromium page (zh-CN) that records console errors and uncaught exceptions in `page.errors`."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) and re-run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1400}, locale="zh-CN")
            record_errors(page)
            yield page
        finally:
            browser.close()


def settle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the script run is over and the charts are drawn."""
    page.locator(IDLE).wait_for(timeout=timeout_ms)
    page.locator('[data-testid="stMain"]').wait_for(timeout=timeout_ms)
    page.wait_for_timeout(1_500)  # Plotly and the data grids draw after the run ends
    page.locator(IDLE).wait_for(timeout=timeout_ms)


def render_seconds(page, url: str, timeout_ms: int = 60_000) -> tuple[float, float]:
    """Open `url` and time it: (seconds until the script run is over with the page's title drawn, seconds until
    every Plotly chart on it has drawn too). The app's state goes initial -> running -> notRunning on a page
    load, so the first notRunning with a title is the end of the page's first run."""
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
                 && document.querySelector('h1, .wall-title')""",
        polling="raf",
        timeout=timeout_ms,
    )
    idle = time.perf_counter() - started
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                 .every(chart => chart.querySelector('.main-svg'))""",
        polling="raf",
        timeout=timeout_ms,
    )
    return idle, time.perf_counter() - started


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def one(serve: Path, sql: str) -> tuple:
    with duckdb.connect(str(serve), read_only=True) as con:
        return con.execute(sql).fetchone()


@pytest.mark.browser
def test_the_overview_renders_in_chromium_without_errors_and_shows_the_sql_totals(
    dashboard_url, live_serve, browser_page
):
    first, last = one(live_serve, "select min(order_date), max(order_date) from marts.daily_shop_sales")
    start, end = default_range(first, last)
    (gmv,) = one(
        live_serve,
        f"select sum(gmv_cny) from marts.daily_shop_sales where order_date between '{start}' and '{end}'",
    )
    page = browser_page

    page.goto(dashboard_url, wait_until="domcontentloaded")
    page.get_by_text("GMV 成交额").first.wait_for(timeout=60_000)
    page.get_by_text(money(gmv), exact=True).first.wait_for(timeout=30_000)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
    page.get_by_text("数据更新于", exact=False).first.wait_for(timeout=30_000)
    settle(page)
    shoot(page, "overview")

    assert page.locator(ERRORS).count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 7
    assert page.errors == []


@pytest.mark.browser
def test_selecting_a_table_row_opens_that_skus_drill_down_page(dashboard_url, browser_page):
    page = browser_page
    page.goto(dashboard_url, wait_until="domcontentloaded")
    page.get_by_text("热销 SKU").first.wait_for(timeout=60_000)
    settle(page)
    top_skus = page.locator('[data-testid="stDataFrame"]').nth(2)
    top_skus.scroll_into_view_if_needed()

    top_skus.click(position={"x": 15, "y": 35 + 18})  # the first row's selection box

    page.wait_for_url(re.compile(r"/sku\?sku="), timeout=30_000)
    sku = page.url.split("sku=", 1)[1]
    page.get_by_text(f"· {sku}", exact=False).first.wait_for(timeout=30_000)
    settle(page)
    shoot(page, "sku_drill_down")
    assert page.locator(ERRORS).count() == 0
    assert page.errors == []


WALL_SCREENS = [(1920, 1080), (3840, 2160), (1366, 768)]  # a 1080p TV, a 4K TV, a small laptop
WALL_LAYOUT = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right,
                                                                     bottom: r.bottom}; };
  const all = (sel) => [...document.querySelectorAll(sel)];
  const board = all('.wall-head, .wall-card, .wall-panel, .wall-ticker').map(box);
  const scrollers = [document.documentElement, document.body,
                     ...all('[data-testid="stMain"], [data-testid="stAppViewContainer"]')];
  return {
    bottom: Math.max(...board.map(b => b.bottom)),
    right: Math.max(...board.map(b => b.right)),
    left: Math.min(...board.map(b => b.left)),
    top: Math.min(...board.map(b => b.top)),
    scroll_height: Math.max(...scrollers.map(e => e.scrollHeight)),
    scroll_width: Math.max(...scrollers.map(e => e.scrollWidth)),
    value_font_px: parseFloat(getComputedStyle(document.querySelector('[data-testid="wall-orders"]')).fontSize),
    label_font_px: parseFloat(getComputedStyle(document.querySelector('.wall-vbar-day')).fontSize),
    // a text cut off: the big numbers and the bars' labels fit their boxes
    clipped: all('.wall-value, .wall-vbar-value, .wall-vbar-day, .wall-hbar-value')
      .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent),
    trend_days: all('[data-testid="wall-trend"] .wall-vbar').length,
    margin_shops: all('[data-testid="wall-margin"] .wall-hbar').length,
    margin_note: document.querySelector('[data-testid="wall-margin"] .wall-panel-note').textContent,
  };
}"""


@pytest.mark.browser
def test_the_wall_fills_a_tv_screen_with_type_that_grows_with_it(dashboard_url, browser_page):
    page = browser_page
    layouts = {}
    for width, height in WALL_SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{dashboard_url}/wall", wait_until="domcontentloaded")
        page.locator('[data-testid="wall-margin"]').wait_for(timeout=60_000)
        settle(page)
        shoot(page, f"wall_{width}x{height}")
        layout = page.evaluate(WALL_LAYOUT)
        layouts[(width, height)] = layout

        # the board fills the screen: no band left empty at the bottom or the sides, and nothing to scroll
        assert layout["bottom"] >= 0.9 * height, ((width, height), layout)
        assert layout["bottom"] <= height, ((width, height), layout)
        assert layout["right"] >= 0.95 * width and layout["left"] <= 0.05 * width, ((width, height), layout)
        assert layout["scroll_height"] <= height + 2 and layout["scroll_width"] <= width + 2, layout
        assert layout["clipped"] == [], ((width, height), layout["clipped"])
        assert layout["trend_days"] == 7
        assert layout["margin_shops"] >= 1 and "本月" in layout["margin_note"]
        assert page.locator(ERRORS).count() == 0

    hd, uhd = layouts[(1920, 1080)], layouts[(3840, 2160)]
    assert uhd["value_font_px"] >= 1.8 * hd["value_font_px"]  # the same share of a screen twice as tall
    assert uhd["label_font_px"] >= 1.8 * hd["label_font_px"]
    assert hd["label_font_px"] >= 18  # a chart label stays readable from across the room on a 1080p TV
    assert page.errors == []


@pytest.mark.browser
def test_the_wall_shows_a_new_publish_without_reloading_the_page(dashboard_url, live_serve, browser_page):
    page = browser_page
    page.goto(f"{dashboard_url}/wall", wait_until="domcontentloaded")
    gmv = page.locator('[data-testid="wall-gmv"]')
    gmv.wait_for(timeout=60_000)
    settle(page)
    before = gmv.inner_text()
    assert page.locator('[data-testid="stSidebar"]').is_hidden()
    assert page.locator('[data-testid="stHeader"]').is_hidden()
    page.evaluate("window.__wallMarker = 'still the same page'")

    # publish: a changed copy renamed over the served file, as orchestration/publish.py does
    staged = live_serve.with_name(".serve.duckdb.next")
    shutil.copy(live_serve, staged)
    with duckdb.connect(str(staged)) as con:
        con.execute(
            "update marts.order_line_margins set list_amount_cny = list_amount_cny + 1000 where order_line_id = "
            "(select min(order_line_id) from marts.order_line_margins where order_id in (select order_id from "
            "marts.customer_orders where order_date = (select max(order_date) from marts.customer_orders)))"
        )
        con.execute("checkpoint")
    os.replace(staged, live_serve)
    expected = money(float(before.replace("¥", "").replace(",", "")) + 1000)

    deadline = time.monotonic() + timedelta(seconds=20 * WALL_REFRESH_S + 30).total_seconds()
    while gmv.inner_text() != expected and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    shoot(page, "wall_after_publish")

    assert gmv.inner_text() == expected
    assert page.evaluate("window.__wallMarker") == "still the same page"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.locator(ERRORS).count() == 0
    assert page.errors == []


@pytest.mark.browser
def test_the_pages_keep_serving_through_20_publishes_under_steady_load_with_zero_errors(
    dashboard_url, live_serve, browser_page
):
    """Issue 16: while a build is published 20 times (a new file renamed over serve.duckdb, each with one more
    order's worth of GMV), the browser keeps loading pages one after another, and the HTTP health endpoint is
    polled: no page shows an error, the browser logs none, the server never fails to answer."""
    import threading

    import httpx

    page = browser_page
    publishes, failures = [], []
    stop = threading.Event()

    def publish_20() -> None:
        for n in range(20):
            staged = live_serve.with_name(f".serve.duckdb.next{n}")
            shutil.copy(live_serve, staged)
            with duckdb.connect(str(staged)) as con:
                con.execute(
                    "update marts.order_line_margins set list_amount_cny = list_amount_cny + 1 where "
                    "order_line_id = (select min(order_line_id) from marts.order_line_margins)"
                )
                con.execute("checkpoint")
            os.replace(staged, live_serve)
            publishes.append(time.monotonic())
            time.sleep(1.0)

    def poll_health() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                try:
                    answer = client.get(f"{dashboard_url}/_stcore/health")
                    if answer.status_code != 200:
                        failures.append(f"health {answer.status_code}")
                except httpx.HTTPError as exc:
                    failures.append(f"health {exc!r}")
                time.sleep(0.2)

    publisher, poller = threading.Thread(target=publish_20), threading.Thread(target=poll_health)
    publisher.start()
    poller.start()
    loads = 0
    try:
        while publisher.is_alive() or loads < 6:
            for path in ("", "inventory", "sku_margin", "wall", "returns"):
                page.goto(f"{dashboard_url}/{path}", wait_until="domcontentloaded")
                settle(page)
                loads += 1
                errors = page.locator(ERRORS)
                assert errors.count() == 0, (
                    f"/{path} after {len(publishes)} publishes: {errors.first.inner_text()}"
                )
    finally:
        publisher.join()
        stop.set()
        poller.join()
    assert len(publishes) == 20 and loads >= 6
    assert failures == [] and page.errors == []
