"""Table exports: the CSV and XLSX bytes a manager downloads open in Excel with the Chinese intact."""

from __future__ import annotations

import csv
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


REMARKS = [
    '=HYPERLINK("http://evil.example","点我")',
    "+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "正常备注",
]


@pytest.fixture
def hostile() -> pd.DataFrame:
    n = len(REMARKS)
    return pd.DataFrame(
        {
            "buyer_remark": REMARKS,
            "net_revenue_cny": [Decimal("-5.00")] * n,
            "margin_rate": [-0.25] * n,
            "units": [-2] * n,
            "reasons": [["=cmd|' /C calc'!A0"]] * n,
            "label": pd.Series(REMARKS, dtype="string"),
        }
    )


def test_text_cells_a_spreadsheet_would_run_download_as_text_and_negative_numbers_stay_numbers(hostile):
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(hostile)))
    sheet = book.active
    remarks = [sheet.cell(row=r, column=1) for r in range(2, len(REMARKS) + 2)]
    xml = [("'" + r).replace("\r", "\n") for r in REMARKS[:-1]]  # XML stores a carriage return as a newline
    assert [c.value for c in remarks] == [*xml, "正常备注"]
    assert {c.data_type for c in sheet.iter_rows(min_row=2) for c in (c[0], c[4], c[5])} == {
        "s"
    }  # no formula
    assert all(str(c.value).startswith("'") for c in (sheet.cell(row=r, column=5) for r in range(2, 9)))
    numbers = [
        (sheet.cell(row=2, column=col).value, sheet.cell(row=2, column=col).data_type) for col in (2, 3, 4)
    ]
    assert numbers == [(-5, "n"), (-0.25, "n"), (-2, "n")]

    rows = list(csv.reader(io.StringIO(csv_bytes(hostile).decode("utf-8-sig"), newline="")))
    assert [row[0] for row in rows[1:]] == ["'" + r for r in REMARKS[:-1]] + ["正常备注"]
    assert [row[5] for row in rows[1:]] == [row[0] for row in rows[1:]]  # a pandas string column too
    assert rows[1][1:4] == ["-5.00", "-0.25", "-2"]  # numbers are left alone
    assert len(rows) == len(REMARKS) + 1  # a carriage return inside a remark does not start a row of its own


def test_floats_download_as_numbers_with_the_places_their_format_shows():
    df = pd.DataFrame({"cover": [1 / 3, 12.0], "rate": [0.123456789, 0.5], "units": [2.9999999999, 4.0],
                       "plain": [0.1 + 0.2, 1.0]})  # fmt: skip
    config = {
        "cover": st.column_config.NumberColumn("Cover", format="%.1f"),
        "rate": st.column_config.NumberColumn("Rate", format="percent"),
        "units": st.column_config.NumberColumn("Units", format="%,d"),
    }
    out = pd.read_csv(io.BytesIO(csv_bytes(df, config)), encoding="utf-8-sig")
    assert out.to_dict("list") == {
        "Cover": [0.3, 12.0],
        "Rate": [0.1235, 0.5],
        "Units": [3.0, 4.0],
        "plain": [0.3, 1.0],  # no format: 6 places, not 0.30000000000000004
    }
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(df, config))).active
    assert [c.value for c in sheet[2]] == [0.3, 0.1235, 3, 0.3]


def test_a_downloads_file_name_says_the_dates_and_shops_of_the_selection():
    from datetime import date

    from dashboards.filters import Selection, file_scope

    def selection(shops: tuple[str, ...]) -> Selection:
        return Selection("serve.duckdb", (1, 1), date(2026, 11, 1), date(2026, 11, 30), shops,
                         date(2025, 6, 1), date(2026, 11, 30))  # fmt: skip

    assert file_scope(selection(())) == "_2026-11-01_2026-11-30_all-shops"
    assert (
        file_scope(selection(("jd_pop", "tmall_flagship"))) == "_2026-11-01_2026-11-30_jd_pop+tmall_flagship"
    )
    assert file_scope(selection(("a", "b", "c", "d", "e")), dated=False) == "_a+b+c+2"
