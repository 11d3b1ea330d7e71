"""shopkeep dashboards — the router: page config, language switch, navigation, global filters.

Run with `streamlit run dashboards/app.py` (or `shopkeep dashboards`). Pages are thin: read the selection
(`dashboards.filters.current()`), call `dashboards.queries`, draw `dashboards.figures`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import filters
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


page = st.navigation(
    {
        t(section): [_page(*spec, default=spec[0] == "overview") for spec in specs]
        + (
            [_page(*spec, visibility="hidden") for spec in HIDDEN_PAGES]
            if section == "section_operations"
            else []
        )
        for section, specs in SECTIONS.items()
    }
)

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
