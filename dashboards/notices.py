"""What this setup has configured (marts.data_sources, from shopkeep.toml), and the one-line "not configured"
notice a page shows where its data depends on a source that is absent — instead of an empty chart that looks
like data (no stock rows is not "nothing in stock" when there is no WMS).

A snapshot published before marts.data_sources existed lists no sources: everything counts as configured.
"""

from __future__ import annotations

import streamlit as st

from dashboards.filters import Selection
from dashboards.i18n import t
from dashboards.queries import core
from dashboards.queries.serving import Version


def absent(path: str, version: Version, *kinds: str) -> list[str]:
    """Those of `kinds` (wms, product_master, files) that shopkeep.toml does not configure."""
    sources = core.data_sources(path, version)
    if sources is None or sources.empty:
        return []
    listed = set(sources["source_kind"])
    configured = set(sources.loc[sources["is_configured"].astype(bool), "source_kind"])
    return [kind for kind in kinds if kind in listed and kind not in configured]


def configured_channels(path: str, version: Version) -> set[str] | None:
    """Channels with at least one enabled shop; None when the snapshot does not say (predates the mart)."""
    sources = core.data_sources(path, version)
    if sources is None or sources.empty:
        return None
    shops = sources[sources["shop_id"].notna() & sources["is_configured"].astype(bool)]
    return set(shops["source_kind"])


def not_configured(sel: Selection, notice: str, *kinds: str) -> bool:
    """Show `not_configured_<notice>` (one line naming the shopkeep.toml section that adds it) when any of
    `kinds` is absent; True when shown."""
    if not absent(sel.path, sel.version, *kinds):
        return False
    st.info(t(f"not_configured_{notice}"), icon=":material/link_off:")
    return True
