"""shopkeep dashboards — the router: page config, language switch, navigation, global filters.

Run with `streamlit run dashboards/app.py` (or `shopkeep dashboards`). Pages are thin: read the selection
(`dashboards.filters.current()`), call `dashboards.queries`, draw `dashboards.figures`.

With an `[access]` section in shopkeep.toml (dashboards/access.py; start with `python -m dashboards.serve`, which
gives Streamlit the login's secrets), the router first works out who the session is: nobody gets the login page
(or a refused kiosk link), a user without a role the no-access page; a role's navigation lists only its pages,
and a page it lacks, opened by its URL, is refused here before the page runs.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import access, filters
from dashboards.format import set_reporting_currency
from dashboards.i18n import DEFAULT_LANG, LANG_KEY, LANG_NAMES, t
from dashboards.queries import core, serving
from dashboards.settings import SettingsError, serve_path

# Page scripts live in views/, not pages/: a pages/ folder next to the entrypoint makes Streamlit run its
# legacy (v1) multipage mode on a process's first run and on every AppTest run, executing page files without
# this router.
PAGES_DIR = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="shopkeep", page_icon="🛍️", layout="wide")

if LANG_KEY not in st.session_state:  # a session's first run: ?lang=en in the URL (e.g. the wall screen's)
    st.session_state[LANG_KEY] = (
        st.query_params.get("lang") if st.query_params.get("lang") in LANG_NAMES else DEFAULT_LANG
    )

# st.navigation before anything can st.stop(), so every run has the page registry.
# (url_path, i18n title key, icon) per section; each page's script is views/<url_path>.py.
SECTIONS: dict[str, list[tuple[str, str, str]]] = {
    "section_business": [
        ("overview", "overview", ":material/monitoring:"),
        ("channels", "channels", ":material/storefront:"),
        ("sku_margin", "sku_margin", ":material/payments:"),
        ("pnl", "pnl", ":material/request_quote:"),
        ("promotions", "promotions", ":material/campaign:"),
        ("customers", "customers", ":material/group:"),
    ],
    "section_supply": [
        ("inventory", "inventory", ":material/inventory_2:"),
        ("replenishment", "replenishment", ":material/local_shipping:"),
        ("purchase_orders", "purchase_orders", ":material/receipt_long:"),
        ("stock_sync", "stock_sync", ":material/sync:"),
        ("suppliers", "suppliers", ":material/factory:"),
    ],
    "section_after_sales": [
        ("returns", "returns", ":material/assignment_return:"),
        ("reconciliation", "reconciliation", ":material/account_balance:"),
    ],
    "section_operations": [
        ("exceptions", "exceptions", ":material/report:"),
        ("data_status", "data_status", ":material/database:"),
        ("wall", "wall", ":material/tv:"),
    ],
}
HIDDEN_PAGES = [("sku", "sku_detail", ":material/search:")]  # the SKU drill-down, reached from tables
WALL_PAGE = "wall"  # the TV screen: no sidebar, no filters; it reads the latest snapshot itself


def _page(url_path: str, title_key: str, icon: str, **kwargs) -> st.Page:
    return st.Page(PAGES_DIR / f"{url_path}.py", title=t(title_key), icon=icon, url_path=url_path, **kwargs)


try:
    ACCESS = access.access_config()
except SettingsError as exc:  # a mistake in [access]: show nothing but the mistake
    st.error(str(exc))
    st.stop()
CLAIMS = st.user.to_dict() if ACCESS is not None else {}
KIOSK = st.query_params.get(access.KIOSK_PARAM)
WHO = access.resolve(ACCESS, CLAIMS, KIOSK)


def _login() -> None:
    """Nobody logged in: the login button (Streamlit's st.login, the provider in the [auth] secrets)."""
    st.title(t("access_login_title"))
    if KIOSK:
        st.error(t("access_kiosk_refused"))
    if "is_logged_in" not in CLAIMS:  # no [auth] secrets: st.login would fail
        st.error(t("access_no_secrets"))
        return
    st.caption(t("access_login_caption"))
    st.button(
        t("access_login"), key="access_login", type="primary", on_click=st.login, icon=":material/login:"
    )


def _no_access() -> None:
    """Logged in, but no role: say so, and offer to log out (to log in with another account)."""
    st.title(t("access_no_access_title"))
    st.warning(t("access_no_access", user=WHO.user or "—"), icon=":material/lock:")
    st.button(t("access_logout"), key="access_logout", on_click=st.logout, icon=":material/logout:")


if WHO.role is None:  # before any page: nothing of the warehouse is read for a session without a role
    gate = _login if not CLAIMS.get("is_logged_in") else _no_access
    # every page's URL leads to the gate too (no "page not found" over it); after the login, the root page
    gates = [st.Page(gate, title=t("access_login_title"), default=True)] + [
        st.Page(gate, title=t("access_login_title"), url_path=url, visibility="hidden")
        for url, _title, _icon in [spec for specs in SECTIONS.values() for spec in specs] + HIDDEN_PAGES
    ]
    st.navigation(gates, position="hidden").run()
    st.stop()

# A page the role lacks is registered hidden (not in the navigation), so opening its URL reaches the refusal
# below instead of silently landing on another page.
visible = {section: [spec for spec in specs if WHO.may_see(spec[0])] for section, specs in SECTIONS.items()}
hidden = [spec for specs in SECTIONS.values() for spec in specs if not WHO.may_see(spec[0])] + HIDDEN_PAGES
home = next(section for section in reversed(visible) if visible[section])  # the wall's, 运营 (as before)
page = st.navigation(
    {
        t(section): [_page(*spec, default=spec[0] == "overview") for spec in specs]
        + ([_page(*spec, visibility="hidden", default=spec[0] == "overview") for spec in hidden] if section == home else [])
        for section, specs in visible.items()
        if specs
    }
)  # fmt: skip

if not WHO.may_see(page.url_path):
    st.error(t("access_page_refused", role=t(f"access_role_{WHO.role}")), icon=":material/block:")
    st.stop()

if page.url_path == WALL_PAGE:
    filters.keep_filters()
    st.session_state[LANG_KEY] = st.session_state[LANG_KEY]  # not drawn here: keep it for the other pages
    page.run()
    st.stop()

# st.metric cuts a long value, label or delta note off with an ellipsis. Values shrink with their tile instead
# (a seven-figure yuan amount in a tile of a five-tile row, at 1366 px), and break only when even that is not
# enough; labels and notes wrap (the wall screen draws its own figures).
st.html(
    """<style>
[data-testid='stMetric'] { container-type: inline-size; }
[data-testid='stMetricValue'] { font-size: clamp(1rem, 11cqi, 2.25rem); }
[data-testid='stMetricValue'] [data-testid='stMarkdownContainer'],
[data-testid='stMetricValue'] p { overflow: visible !important; white-space: normal !important; overflow-wrap: anywhere; }
[data-testid='stMetricLabel'] [data-testid='stMarkdownContainer'], [data-testid='stMetricLabel'] p,
[data-testid='stMetricDeltaDescription'], [data-testid='stMetricDeltaDescription'] *,
[data-testid='stMetricDelta'] [data-testid='stMarkdownContainer'], [data-testid='stMetricDelta'] p {
  overflow: visible !important; white-space: normal !important; text-overflow: clip !important; min-width: 0;
}
[data-testid='stMetric'] div:has(> [data-testid='stMetricDelta']),
[data-testid='stMetric'] div:has(> [data-testid='stMetricDeltaDescription']) { flex-wrap: wrap; overflow: visible; }
</style>"""
)

with st.sidebar:
    if WHO.user:
        st.caption(t("access_signed_in", user=WHO.user, role=t(f"access_role_{WHO.role}")))
        st.button(t("access_logout"), key="access_logout", on_click=st.logout, icon=":material/logout:")
    st.segmented_control(
        t("language"),
        options=list(LANG_NAMES),
        format_func=LANG_NAMES.__getitem__,
        key=LANG_KEY,
        required=True,
        persist_state="session",  # a drill-down (st.switch_page) would forget it otherwise
    )
# The language also rides in the URL (?lang=en), so a reload, a shared link or a new tab keeps it; a page switch
# that sets its own query parameters (the SKU drill-down's ?sku=) drops it, and the next run puts it back.
if st.session_state[LANG_KEY] == DEFAULT_LANG:
    if "lang" in st.query_params:
        del st.query_params["lang"]
elif st.query_params.get("lang") != st.session_state[LANG_KEY]:
    st.query_params["lang"] = st.session_state[LANG_KEY]

try:
    path = str(serve_path())
    version = serving.snapshot_version(path)
    set_reporting_currency(core.reporting_currency(path, version))
    selection = filters.render_sidebar(path, version)
except (SettingsError, serving.ServeFileInvalid) as exc:
    st.error(str(exc))
    st.stop()
except serving.WarehouseNotPublished as exc:
    st.warning(t("not_published", path=exc.path), icon=":material/database:")
    st.stop()

if selection is None:
    st.info(t("no_rows"))
    st.stop()

try:
    page.run()
except serving.ServeFileInvalid as exc:  # a serve file from an older publish lacks what this page reads
    st.error(str(exc))
