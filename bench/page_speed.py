"""`python -m bench.page_speed`: how fast every dashboard page renders in a real browser, on this machine.

`streamlit run dashboards/app.py` over a published serve.duckdb (`--source`, else $SHOPKEEP_SERVE_PATH, else the
test shop built here through the whole pipeline, as bench.dashboard_queries does), opened in headless Chromium
(Debian's /usr/bin/chromium through Playwright, as the browser tests do). Every page registered in app.py, the SKU
drill-down and the wall is first visited once untimed (Python imports, Streamlit's first session). Then, per run:

1. a publish: the serve file is copied and renamed over itself, a new snapshot version, so every cached query
   misses — the manager's first look in the morning after the nightly build;
2. per page, in app.py's order: **cold render** — navigation to the end of the page's first script run (its
   title drawn) and every Plotly chart drawn; then **filter change** — one shop picked in the sidebar's shop
   filter (a different shop each run, so its queries miss the cache too) until the rerun is over;
3. per page again: **warm render** — the same navigation with every query cached.

Reported per page: p50 and max over the runs, against the targets (render ≤ 1.5 s, filter change ≤ 1.0 s on 2
cores). Figures go to stdout and bench/results/page_speed.json. Not part of `make test`: the browser
crawl of tests/dashboards/test_presentation.py only records its timings (test-artifacts/page_timings.json).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.results import RESULTS, save
from sandbox.runner import free_port

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
RENDER_TARGET_S = 1.5
FILTER_TARGET_S = 1.0
STARTUP_DEADLINE_S = 90
TIMEOUT_MS = 120_000
FILTER_TIMEOUT_MS = 20_000

IDLE_WITH_TITLE = """() => document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
                          && document.querySelector('h1, .wall-title')"""
CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                        .every(chart => chart.querySelector('.main-svg'))"""
WATCH_RERUN = """() => { window.__reran = false; const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => { if (app.dataset.testScriptState === 'running') window.__reran = true; })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""
RERUN_OVER = """() => window.__reran
  && document.querySelector('[data-testid="stApp"]').dataset.testScriptState === 'notRunning'"""


def registered_pages() -> list[str]:
    """url_path of every page in app.py's SECTIONS (read from the source: importing app.py would run it)."""
    tree = ast.parse((REPO / "dashboards" / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "SECTIONS":
            return [url for specs in ast.literal_eval(node.value).values() for url, _title, _icon in specs]
    raise SystemExit("dashboards/app.py has no SECTIONS")


def page_urls(serve: Path) -> list[tuple[str, str]]:
    """(name, url path) of every page: the registered ones, the SKU drill-down of one SKU; overview is '/'."""
    with duckdb.connect(str(serve), read_only=True) as con:
        row = con.execute(
            "select sku from marts.inventory_health where sku in (select sku from marts.sku_margins) "
            "order by sku limit 1"
        ).fetchone()
    urls = [(name, "" if name == "overview" else name) for name in registered_pages()]
    return urls + ([("sku", f"sku?sku={row[0]}")] if row else [])


@contextmanager
def streamlit_server(serve: Path, directory: Path) -> Iterator[str]:
    """`streamlit run dashboards/app.py` over `serve` on a free port; yields its URL."""
    port = free_port()
    log_path = directory / "streamlit.log"
    env = {
        **os.environ,
        "SHOPKEEP_SERVE_PATH": str(serve),
        "SHOPKEEP_OPS_PATH": str(directory / "ops.sqlite"),
    }
    with log_path.open("w", encoding="utf-8") as log:
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
                    raise SystemExit(f"streamlit exited with {server.returncode}:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"streamlit did not answer on {url}:\n{log_path.read_text()}")
                time.sleep(0.25)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def publish_again(serve: Path) -> None:
    """What the publish step does, with the same contents: a copy renamed over the served file (a new snapshot
    version: the dashboards' cached queries miss)."""
    staged = serve.with_name(".serve.duckdb.next")
    shutil.copy(serve, staged)
    os.replace(staged, serve)


def render(page, url: str) -> tuple[float, list[str]]:
    """Seconds from navigation to the page's first script run over with every chart drawn; error texts."""
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(IDLE_WITH_TITLE, polling="raf", timeout=TIMEOUT_MS)
    page.wait_for_function(CHARTS_DRAWN, polling="raf", timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - started
    return elapsed, page.locator(
        '[data-testid="stException"], [data-testid="stAlertContentError"]'
    ).all_inner_texts()


def change_shop_filter(page, option: int) -> float | None:
    """Pick the `option`-th shop in the sidebar's shop filter; seconds until the rerun is over (None on a
    page without the sidebar's filters, e.g. the wall)."""
    shops = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
    if shops.count() == 0:
        return None
    shops.first.click()
    choices = page.locator('[role="option"]').filter(has_not_text="Select all").filter(has_not_text="全选")
    choice = choices.nth(option % max(choices.count(), 1))
    page.evaluate(WATCH_RERUN)
    started = time.perf_counter()
    choice.click()
    try:
        page.wait_for_function(RERUN_OVER, polling="raf", timeout=FILTER_TIMEOUT_MS)
    except PlaywrightTimeout:
        raise FilterNotApplied(f"no rerun within {FILTER_TIMEOUT_MS} ms of picking a shop") from None
    elapsed = time.perf_counter() - started
    page.keyboard.press("Escape")
    return elapsed


class FilterNotApplied(RuntimeError):
    """Picking a shop in the sidebar started no rerun."""


def _stats(values: list[float]) -> dict[str, float] | None:
    return {"p50": round(statistics.median(values), 2), "max": round(max(values), 2)} if values else None


def time_pages(serve: Path, runs: int, only: set[str] | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    RESULTS.mkdir(exist_ok=True)

    urls = [(name, url) for name, url in page_urls(serve) if not only or name in only]
    samples: dict[str, dict[str, list[float]]] = {
        name: {"cold_render_s": [], "filter_change_s": [], "warm_render_s": []} for name, _ in urls
    }
    errors: dict[str, list[str]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench_pages_") as tmp,
        streamlit_server(serve, Path(tmp)) as base,
    ):
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            for _name, url in urls:  # imports and Streamlit's first session: not timed
                render(page, f"{base}/{url}")
            for run in range(runs):
                publish_again(serve)
                for name, url in urls:
                    seconds, shown = render(page, f"{base}/{url}")
                    samples[name]["cold_render_s"].append(seconds)
                    if shown:
                        errors.setdefault(name, []).extend(shown)
                    try:
                        change = change_shop_filter(page, run)
                    except FilterNotApplied as exc:
                        errors.setdefault(name, []).append(str(exc))
                        page.screenshot(path=str(RESULTS / f"page_speed_{name}_filter.png"))
                        continue
                    if change is not None:
                        samples[name]["filter_change_s"].append(change)
                for name, url in urls:
                    seconds, _ = render(page, f"{base}/{url}")
                    samples[name]["warm_render_s"].append(seconds)
                print(f"run {run + 1}/{runs} done", flush=True)
            browser.close()
    return {
        "pages": {
            name: {kind: _stats(values) for kind, values in kinds.items()} | {"samples": kinds}
            for name, kinds in samples.items()
        },
        "errors": errors,
    }


def report(figures: dict[str, Any]) -> list[str]:
    def cell(stats: dict[str, float] | None, target: float) -> str:
        if stats is None:
            return f"{'—':>24s}"
        verdict = "ok" if stats["max"] <= target else ("p50 ok" if stats["p50"] <= target else "MISS")
        return f"{stats['p50']:6.2f} / {stats['max']:6.2f} {verdict:>7s}"

    lines = [
        f"{'page':16s} {'cold render p50/max':>24s} {'filter change p50/max':>24s} {'warm render p50/max':>24s}",
    ]
    for name, result in figures["pages"].items():
        lines.append(
            f"{name:16s} {cell(result['cold_render_s'], RENDER_TARGET_S)} "
            f"{cell(result['filter_change_s'], FILTER_TARGET_S)} {cell(result['warm_render_s'], RENDER_TARGET_S)}"
        )
    for name, texts in figures["errors"].items():
        lines.append(f"{name}: ERROR {texts[:3]}")
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.page_speed", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        help="a published serve.duckdb (default: $SHOPKEEP_SERVE_PATH, else build the test shop); it is copied",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page", action="append", help="only these pages (repeatable)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")

    figures: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="bench_speed_") as tmp:
        directory = Path(tmp)
        source = args.source or (
            Path(os.environ["SHOPKEEP_SERVE_PATH"]) if os.environ.get("SHOPKEEP_SERVE_PATH") else None
        )
        if source is None or not source.exists():
            from bench.dashboard_queries import build_source

            started = time.perf_counter()
            source = build_source(directory / "source")
            figures["source_build_s"] = round(time.perf_counter() - started, 1)
        serve = directory / "serve" / "serve.duckdb"
        serve.parent.mkdir()
        shutil.copy(source, serve)  # publish_again renames over it: never over the source
        with duckdb.connect(str(serve), read_only=True) as con:
            figures["order_lines"] = con.execute("select count(*) from marts.order_line_margins").fetchone()[
                0
            ]
        figures.update(time_pages(serve, args.runs, set(args.page) if args.page else None))
    figures["load_average"] = os.getloadavg()
    print(
        f"page speed over {figures['order_lines']:,} order lines, {args.runs} runs (seconds, p50 / max; targets: "
        f"render ≤ {RENDER_TARGET_S} s, filter change ≤ {FILTER_TARGET_S} s; load average "
        f"{figures['load_average'][0]:.1f}):"
    )
    print("\n".join(report(figures)))
    path = save("page_speed", figures)
    print(f"results: {path}")
    return figures


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
