"""Table exports: the CSV and XLSX bytes a manager downloads open in Excel with the Chinese intact."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
import streamlit as st

from dashboards.tables import csv_bytes, export_frame, selected_sku, xlsx_bytes


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["AP-0001-M", "HM-0003"],
            "product_name": ["纯棉T恤 M", "香薰蜡烛"],
            "net_revenue_cny": [Decimal("1234567.89"), Decimal("-5.00")],
            "units": [12, 3],
            "reasons": [["address_incomplete", "high_value"], []],
            "created_at": pd.to_datetime(["2026-06-30 16:05:00", "2026-06-30 01:00:00"], utc=True),
            "internal": ["x", "y"],
        }
    )


CONFIG = {
    "sku": st.column_config.TextColumn("SKU"),
    "product_name": st.column_config.TextColumn("商品名称"),
    "net_revenue_cny": st.column_config.NumberColumn("净收入", format="¥%,.2f"),
    "units": "件数",
    "internal": None,
}


def test_the_csv_starts_with_a_bom_and_round_trips_chinese_names_and_headers(table):
    data = csv_bytes(table, CONFIG)

    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == ["SKU", "商品名称", "净收入", "件数", "reasons", "created_at"]
    assert list(back["商品名称"]) == ["纯棉T恤 M", "香薰蜡烛"]
    assert [Decimal(str(v)) for v in back["净收入"]] == [Decimal("1234567.89"), Decimal("-5.00")]


def test_the_xlsx_round_trips_chinese_text_and_keeps_money_numeric(table):
    data = xlsx_bytes(table, CONFIG, sheet_name="库存风险")

    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["库存风险"]
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("SKU", "商品名称", "净收入", "件数", "reasons", "created_at")
    assert rows[1][:4] == ("AP-0001-M", "纯棉T恤 M", 1234567.89, 12)
    assert rows[2][1] == "香薰蜡烛" and rows[2][2] == -5


def test_timestamps_are_exported_in_shanghai_time_and_lists_as_text(table):
    out = export_frame(table)

    assert out["created_at"].iloc[0] == pd.Timestamp("2026-07-01 00:05:00")  # 16:05 UTC = 00:05 next day
    assert out["reasons"].tolist() == ["address_incomplete, high_value", ""]
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table)))
    assert list(book.active.iter_rows(values_only=True))[1][5] == datetime(2026, 7, 1, 0, 5)


def test_a_long_file_name_still_makes_a_valid_sheet_and_an_empty_table_exports_headers_only():
    empty = pd.DataFrame({"sku": pd.Series([], dtype=str), "名称": pd.Series([], dtype=str)})

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(empty, sheet_name="x" * 40)))
    assert book.sheetnames == ["x" * 31]
    assert list(book.active.iter_rows(values_only=True)) == [("sku", "名称")]
    assert csv_bytes(empty).decode("utf-8-sig").splitlines() == ["sku,名称"]


def test_selecting_a_row_picks_that_rows_sku_and_nothing_without_a_sku_column(table):
    assert selected_sku(table, [1], "sku") == "HM-0003"
    assert selected_sku(table, [], "sku") is None
    assert selected_sku(table, [0], None) is None
    assert selected_sku(table, [0], "no_such_column") is None
    assert selected_sku(table.assign(sku=[None, "x"]), [0], "sku") is None


def test_timezone_aware_python_datetimes_in_object_columns_are_localised():
    frame = pd.DataFrame({"at": [datetime(2026, 6, 30, 16, 0, tzinfo=UTC), None]}, dtype=object)

    assert export_frame(frame)["at"].iloc[0] == datetime(2026, 7, 1, 0, 0)
