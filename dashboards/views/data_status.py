"""Placeholder until this page is built (issue 5)."""

import streamlit as st

from dashboards.i18n import t

st.title(t("data_status"))
st.info(t("under_construction"))
