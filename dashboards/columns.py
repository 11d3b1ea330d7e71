"""Column configs that more than one page shows: one label, format and help per mart column. Functions, not
constants: the labels are in the session's language, known only at run time."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboards.i18n import t


def overdue_po() -> dict[str, Any]:
    """Overdue purchase-order units and since when (inventory_health, replenishment_suggestions)."""
    return {
        "overdue_quantity": st.column_config.NumberColumn(
            t("inventory_overdue_quantity"), format="%,d", help=t("inventory_overdue_help")
        ),
        "oldest_overdue_expected_date": st.column_config.DateColumn(
            t("inventory_overdue_since"), format="YYYY-MM-DD"
        ),
    }
