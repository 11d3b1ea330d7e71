"""The dashboards behind a login, for real: the local OIDC provider (sandbox/oidc.py) and one
`python -m dashboards.serve` (Streamlit with the [auth] secrets it writes from the environment) over a copy of the
built warehouse, driven by headless Chromium. A viewer, a manager, a user without a role and the wall screen (kiosk
token) each see exactly their pages and actions; the manager's approval is recorded with their e-mail."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import time_machine

from dashboards.i18n import t
from sandbox.oidc import User, create_app, make_provider
from sandbox.runner import free_port, start
from tests.dashboards.pages_helper import wait_until_healthy
from tests.dashboards.test_browser import CHROMIUM, CHROMIUM_ARGS, IDLE, registered_pages

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "shopkeep-dashboards", "test-client-secret-0123456789"
COOKIE_SECRET = "cookie-secret-" + "x" * 40
KIOSK_TOKEN = "wall-kiosk-token-0123456789abcdef"
VIEWER, MANAGER, NOBODY = "viewer@shop.test", "manager@shop.test", "nobody@shop.test"
USERS = [
    User(VIEWER, "Vera Viewer"),  # a viewer by the allowlist
    User(MANAGER, "Max Manager", roles=("viewer", "manager")),  # a manager by the roles claim
    User(NOBODY, "No Body"),  # neither: no access
]


@pytest.fixture(scope="module")
def access_app(built_serve_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("access")
    serve = folder / "serve.duckdb"
    shutil.copy(built_serve_path, serve)
    # the dashboards' process keeps the machine's clock: so do the tokens (this process's clock is pinned)
    provider = make_provider(CLIENT_ID, CLIENT_SECRET, USERS, clock=time_machine.escape_hatch.time.time)
    oidc = start(create_app(provider), "oidc")
    port = free_port()
    config = folder / "shopkeep.toml"
    config.write_text(
        f"""[access]
server_metadata_url = "{oidc.url}/.well-known/openid-configuration"
client_id = "{CLIENT_ID}"
client_secret_env = "SHOPKEEP_TEST_OIDC_SECRET"
cookie_secret_env = "SHOPKEEP_TEST_COOKIE_SECRET"
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
roles_claim = "roles"
kiosk_token_env = "SHOPKEEP_TEST_KIOSK_TOKEN"

[access.users]
"{VIEWER}" = "viewer"
""",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SHOPKEEP_CONFIG": str(config),
        "SHOPKEEP_SERVE_PATH": str(serve),
        "SHOPKEEP_OPS_PATH": str(folder / "ops.sqlite"),
        "SHOPKEEP_TEST_OIDC_SECRET": CLIENT_SECRET,
        "SHOPKEEP_TEST_COOKIE_SECRET": COOKIE_SECRET,
        "SHOPKEEP_TEST_KIOSK_TOKEN": KIOSK_TOKEN,
    }
    log = (folder / "streamlit.log").open("w+", encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboards.serve", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(server, url, log, 60, "dashboards.serve")
        secrets = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("shopkeep-auth-*/secrets.toml")]
        yield {"url": url, "ops": folder / "ops.sqlite", "oidc": oidc, "secrets": secrets, "log": log}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        oidc.stop()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) and re-run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def idle(page, timeout_ms: int = 60_000) -> None:
    page.locator(IDLE).wait_for(timeout=timeout_ms)
    page.wait_for_timeout(800)
    page.locator(IDLE).wait_for(timeout=timeout_ms)


def show(page, url: str, heading_key: str, timeout_ms: int = 60_000) -> None:
    """Open `url` and wait until its script run has drawn the heading `heading_key` (one below what the test
    looks at: what is above it is drawn) and is over. A slow machine may start the run well after the page
    loads, so an idle app alone does not mean the page is there."""
    page.goto(url)
    page.get_by_role("heading", name=t(heading_key, lang="zh")).first.wait_for(timeout=timeout_ms)
    idle(page, timeout_ms)


def log_in(browser, base: str, email: str):
    """A fresh browser (no cookie) logging in as `email` through the provider's form; returns the page."""
    context = browser.new_context(viewport={"width": 1440, "height": 1400}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/replenishment")
    page.get_by_role("button", name=t("access_login", lang="zh")).click(timeout=60_000)
    page.locator("#email").fill(email, timeout=30_000)  # the provider's login form
    page.locator("#sign-in").click()
    page.wait_for_url(f"{base}/**", timeout=30_000)
    idle(page)
    return page


def nav_pages(page) -> set[str]:
    """url_path of every page the sidebar's navigation lists (expanding "view more" if shown)."""
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in (more.first.inner_text() or "").lower() + "更多":
        more.first.click()
        page.wait_for_timeout(300)
    hrefs = page.locator('[data-testid="stSidebarNav"] a').evaluate_all("links => links.map(a => a.href)")
    return {urlsplit(href).path.strip("/") or "overview" for href in hrefs}  # the root is the default page


def keyed(page, key_prefix: str) -> int:
    return page.locator(f'[class*="st-key-{key_prefix}"]').count()


def test_viewer_manager_screen_and_nobody_see_exactly_their_pages_and_actions(access_app, browser):
    base, every_page = access_app["url"], set(registered_pages())
    assert access_app["secrets"], "the launcher wrote no private secrets file"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in access_app["secrets"])

    # -- a viewer (allowlist): every read page, no action
    viewer = log_in(browser, base, VIEWER)
    assert nav_pages(viewer) == every_page
    assert VIEWER in viewer.locator('[data-testid="stSidebar"]').inner_text()
    show(viewer, f"{base}/replenishment", "replenishment_forecast_title")
    assert viewer.get_by_role("heading", name=t("replenishment", lang="zh")).count()
    assert keyed(viewer, "replenishment_approve__") == 0 and keyed(viewer, "replenishment_reject__") == 0
    show(viewer, f"{base}/stock_sync", "stock_sync_locks_title")
    assert keyed(viewer, "stock_sync_push") == 0 and keyed(viewer, "stock_sync_by") == 0
    assert viewer.get_by_text(t("stock_sync_rule_editor", lang="zh")).count() == 0
    show(viewer, f"{base}/pnl", "pnl_targets_title")
    assert viewer.locator('[data-testid="stForm"]').count() == 0
    viewer.context.close()

    # -- a manager (roles claim): the same pages, and the actions; an approval names them
    manager = log_in(browser, base, MANAGER)
    assert nav_pages(manager) == every_page
    show(manager, f"{base}/replenishment", "replenishment_forecast_title")
    approve = manager.locator('[class*="st-key-replenishment_approve__"] button')
    assert approve.count() > 0
    approve.first.click()
    idle(manager)
    decided = []
    for _ in range(60):  # the click's run may start late on a slow machine
        try:
            if access_app["ops"].exists():
                with sqlite3.connect(access_app["ops"]) as con:
                    decided = con.execute("select status, decided_by from po_decisions").fetchall()
        except sqlite3.OperationalError:  # the ops store is not set up yet
            decided = []
        if decided:
            break
        manager.wait_for_timeout(500)
    assert decided == [("approved", MANAGER)]
    show(manager, f"{base}/stock_sync", "stock_sync_locks_title")
    assert keyed(manager, "stock_sync_push") == 1 and keyed(manager, "stock_sync_by") == 0
    assert manager.get_by_text(t("stock_sync_rule_editor", lang="zh")).count() == 1
    show(manager, f"{base}/pnl", "pnl_targets_title")
    assert manager.locator('[data-testid="stForm"]').count() == 1
    manager.context.close()

    # -- logged in without a role: the no-access page, with a logout button, nothing else
    nobody = log_in(browser, base, NOBODY)
    assert nobody.get_by_text(t("access_no_access_title", lang="zh")).count() == 1
    assert nobody.get_by_role("button", name=t("access_logout", lang="zh")).count() == 1
    assert nobody.locator('[data-testid="stSidebarNav"] a').count() == 0
    nobody.context.close()

    # -- the wall screen: the kiosk token, no login; any other page refused; a wrong token gets the login page
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    screen = context.new_page()
    screen.goto(f"{base}/wall?kiosk={KIOSK_TOKEN}")
    screen.locator(".wall-title").wait_for(timeout=60_000)
    assert screen.get_by_role("button", name=t("access_login", lang="zh")).count() == 0
    assert screen.locator('[data-testid="stSidebarNav"] a').count() == 0
    for other in ("overview", "replenishment", "data_status"):
        screen.goto(f"{base}/{other}?kiosk={KIOSK_TOKEN}")
        idle(screen)
        refused = t("access_page_refused", lang="zh", role=t("access_role_screen", lang="zh"))
        assert screen.get_by_text(refused).count() == 1, other
        assert screen.locator("h1").count() == 0, other  # the page itself did not run
    screen.goto(f"{base}/wall?kiosk=not-the-token")
    idle(screen)
    assert screen.get_by_text(t("access_kiosk_refused", lang="zh")).count() == 1
    assert screen.locator(".wall-title").count() == 0
    context.close()

    exchanges = httpx.get(f"{access_app['oidc'].url}/_sandbox/log").json()["exchanges"]
    assert [e["email"] for e in exchanges] == [VIEWER, MANAGER, NOBODY]
    assert all(e["pkce"] and e["nonce"] for e in exchanges)  # Streamlit used PKCE (S256) and a nonce
    access_app["log"].seek(0)
    text = access_app["log"].read()
    assert CLIENT_SECRET not in text and COOKIE_SECRET not in text and KIOSK_TOKEN not in text
