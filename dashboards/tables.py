"""Every table on the dashboards: `data_table(df, key=..., filename=...)` shows it, offers it as CSV and XLSX,
and opens the SKU drill-down page when a row is selected.

- CSV is UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly on a double click.
- XLSX is written by pandas with openpyxl; money stays numeric (Decimal cells), timestamps are shown in the
  shops' timezone (Excel has no timezones), list cells are joined with ", ".
- Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
  return — a buyer's remark like `=HYPERLINK(...)`) get a leading `'`, as OWASP advises against CSV injection;
  numbers, including negative ones, stay numbers.
- Column headers in both files are the labels of `column_config` (so a Chinese page exports Chinese headers);
  columns hidden with `column_config={col: None}` are left out.
- A long table can show only its first rows: pass `total` (how many there are in all) and `export` (a function
  returning every row, called when a download is clicked); the caption then says "showing n of total".
- Drill-down: when the table has `sku_column`, selecting a row stores the SKU in
  `st.session_state[SKU_KEY]` and switches to the hidden SKU page with `?sku=<sku>` in the URL.

`csv_bytes` and `xlsx_bytes` are pure functions (no Streamlit), unit-tested.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboards.i18n import t
from dashboards.settings import DISPLAY_TIMEZONE

SKU_KEY = "drill_sku"  # the SKU the drill-down page shows (also `?sku=` in its URL)
SKU_PAGE = "views/sku.py"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_MAX = 31  # Excel's limit
MISSING = "—"  # how a missing cell shows (as format.money(None) and format.percent(None) do)


def _label(name: str, config: Any) -> str:
    if isinstance(config, str):
        return config
    if isinstance(config, Mapping) and config.get("label"):
        return str(config["label"])
    return name


_PLACES = re.compile(r"\.(\d+)[fe%]")
FLOAT_PLACES = 6
"""Decimal places a float column keeps in a download when its format does not say (no 15-digit floats)."""


def _places(config: Any) -> int:
    """Decimal places a float column is exported with: its number format's (`%.2f` → 2, `%d` → 0, `percent` →
    4, a fraction's 2 places of percent), else FLOAT_PLACES."""
    fmt = (config.get("type_config") or {}).get("format") if isinstance(config, Mapping) else None
    if not isinstance(fmt, str):
        return FLOAT_PLACES
    if fmt == "percent":
        return 4
    if fmt.endswith("d"):  # %d, %,d
        return 0
    found = _PLACES.search(fmt)
    return int(found.group(1)) if found else FLOAT_PLACES


def export_frame(df: pd.DataFrame, column_config: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The table as it is exported: hidden columns dropped, headers = column_config labels, timestamps in the
    shops' timezone without offset, list cells joined with ', ', float columns rounded to the places their
    format shows (numbers stay numbers)."""
    config = dict(column_config or {})
    out = df[[c for c in df.columns if not (c in config and config[c] is None)]].copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_float_dtype(series.dtype):
            out[column] = series.round(_places(config.get(column)))
        elif isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert(DISPLAY_TIMEZONE).dt.tz_localize(None)
        elif pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(_cell).astype(object)
    out.columns = [_label(str(c), config.get(c)) for c in out.columns]
    return out.reset_index(drop=True)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel, LibreOffice or Sheets read a text cell as a formula (OWASP: CSV injection)."""


def neutralise(text: str) -> str:
    """`=HYPERLINK(...)` -> `'=HYPERLINK(...)`: shown as text, never run; other text unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return neutralise(", ".join(str(v) for v in value))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return pd.Timestamp(value).tz_convert(DISPLAY_TIMEZONE).tz_localize(None).to_pydatetime()
    if isinstance(value, str):
        return neutralise(value)
    return value


def csv_bytes(df: pd.DataFrame, column_config: Mapping[str, Any] | None = None) -> bytes:
    """The table as CSV, UTF-8 with BOM (Excel reads the BOM and shows Chinese correctly). Rows end in CRLF, so
    a cell holding a carriage return or a line break is quoted rather than splitting its row in two."""
    return export_frame(df, column_config).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_bytes(
    df: pd.DataFrame, column_config: Mapping[str, Any] | None = None, sheet_name: str = "data"
) -> bytes:
    """The table as an .xlsx workbook with one sheet (openpyxl)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        export_frame(df, column_config).to_excel(
            writer, index=False, sheet_name=sheet_name[:SHEET_NAME_MAX] or "data"
        )
    return buffer.getvalue()


def selected_sku(df: pd.DataFrame, rows: list[int], sku_column: str | None) -> str | None:
    """The SKU of the selected row (positions into `df`), or None (no selection, no SKU column, empty cell)."""
    if not rows or sku_column is None or sku_column not in df.columns:
        return None
    value = df.iloc[rows[0]][sku_column]
    return None if pd.isna(value) or value == "" else str(value)


def open_sku(sku: str) -> None:
    """Go to the SKU drill-down page for `sku` (never returns)."""
    st.session_state[SKU_KEY] = sku
    st.switch_page(SKU_PAGE, query_params={"sku": sku})


def data_table(
    df: pd.DataFrame,
    *,
    key: str,
    filename: str,
    sku_column: str | None = "sku",
    column_config: Mapping[str, Any] | None = None,
    total: int | None = None,
    export: Callable[[], pd.DataFrame] | None = None,
    file_scope: str = "",
    **dataframe_kwargs: Any,
) -> None:
    """Show `df` with CSV and XLSX download buttons; a table with a `sku_column` column (default "sku";
    None for none) opens the SKU drill-down page on the selected row.

    `total` / `export`: `df` is the first rows of a longer table of `total` rows, which `export()` returns (same
    columns); the downloads write `export()` (run when clicked, not on every page run).

    `key` must be unique on the page; `filename` is the downloads' file name without extension (e.g.
    "inventory_at_risk"), `file_scope` what the file name adds of the selection (filters.file_scope: dates,
    shops; the sheet keeps the plain name); other keyword arguments go to `st.dataframe` (hide_index defaults to True).
    """
    stem = filename.rsplit(".", 1)[0] if filename.endswith((".csv", ".xlsx")) else filename
    drill = sku_column is not None and sku_column in df.columns
    dataframe_kwargs.setdefault("hide_index", True)
    dataframe_kwargs.setdefault("placeholder", MISSING)  # Streamlit draws a missing cell as "None" otherwise
    # A fresh widget key after each drill-down, so coming back does not find the old selection and leave again.
    nonce_key = f"{key}__nonce"
    widget_key = f"{key}__{st.session_state.get(nonce_key, 0)}"
    event = st.dataframe(
        df,
        key=widget_key,
        column_config=dict(column_config) if column_config else None,
        on_select="rerun" if drill else "ignore",
        selection_mode="single-row",
        **dataframe_kwargs,
    )

    # One row sized to its content (not fixed columns, which cut "Download Excel" off in a narrow column).
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.download_button(
        t("tables_download_csv"),
        data=lambda: csv_bytes(export() if export else df, column_config),
        file_name=f"{stem}{file_scope}.csv",
        mime="text/csv",
        key=f"{key}__csv",
        on_click="ignore",
        icon=":material/download:",
        disabled=df.empty,
    )
    row.download_button(
        t("tables_download_xlsx"),
        data=lambda: xlsx_bytes(export() if export else df, column_config, sheet_name=stem),
        file_name=f"{stem}{file_scope}.xlsx",
        mime=XLSX_MIME,
        key=f"{key}__xlsx",
        on_click="ignore",
        icon=":material/table_view:",
        disabled=df.empty,
    )
    caption = (
        t("tables_rows_of", n=f"{len(df):,}", total=f"{total:,}")
        if total is not None and total > len(df)
        else t("tables_rows", n=f"{len(df):,}")
    )
    row.caption(f"{caption} · {t('tables_drill_hint')}" if drill else caption)

    if drill:
        sku = selected_sku(df, list(event.selection.rows), sku_column)
        if sku is not None:
            st.session_state[nonce_key] = st.session_state.get(nonce_key, 0) + 1
            open_sku(sku)
