"""shopkeep dashboards — the router: page config, language switch, navigation, global filters.

Run with `streamlit run dashboards/app.py` (or `shopkeep dashboards`). Pages are thin: read the selection
(`dashboards.filters.current()`), call `dashboards.queries`, draw `dashboards.figures`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import filters, queries
from dashboards.i18n import DEFAULT_LANG, LANG_KEY, LANG_NAMES, t
from dashboards.settings import SettingsError, serve_path

# Page scripts live in views/, not pages/: a pages/ folder next to the entrypoint makes Streamlit run its
# legacy (v1) multipage mode on a process's first run and on every AppTest run, executing page files without
# this router.
PAGES_DIR = Path(__file__).parent / "views"

st.set_page_config(page_title="shopkeep", page_icon="🛍️", layout="wide")

if LANG_KEY not in st.session_state:
    st.session_state[LANG_KEY] = DEFAULT_LANG
with st.sidebar:
    st.segmented_control(
        t("language"),
        options=list(LANG_NAMES),
        format_func=LANG_NAMES.__getitem__,
        key=LANG_KEY,
        required=True,
    )

# st.navigation before anything can st.stop(), so every run has the page registry.
page = st.navigation(
    {
        t("section_business"): [
            st.Page(
                PAGES_DIR / "overview.py",
                title=t("overview"),
                icon=":material/monitoring:",
                url_path="overview",
                default=True,
            ),
        ],
    }
)

try:
    path = str(serve_path())
    version = queries.snapshot_version(path)
    selection = filters.render_sidebar(path, version)
except (SettingsError, queries.ServeFileInvalid) as exc:
    st.error(str(exc))
    st.stop()
except queries.WarehouseNotPublished as exc:
    st.warning(t("not_published", path=exc.path), icon=":material/database:")
    st.stop()

if selection is None:
    st.info(t("no_rows"))
    st.stop()

page.run()
