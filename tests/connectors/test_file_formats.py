"""The forms sellers' files come in, read through a mapping of their own: delimiters sniffed (tab, semicolon),
dates as YYYYMMDD, YYYY/MM/DD HH:MM or an explicit format, a decimal comma only where the mapping says so (else
"12,34" is set aside, never read as 1234), a formula cell without a saved value, a cell over 128 KiB and a
two-row merged header each set aside or refused with the reason, and mappings that are wrong refused naming
their file and key."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from connectors.files.exports import read_export
from connectors.files.mapping import MappingError, load_mappings
from connectors.files.workbook import FileImportError

NOW = datetime(2026, 12, 1, tzinfo=UTC)
MAPPING = """
name: book
entity: orders
shops: [own*]
{extra}
columns:
  - {{header: No, name: order_id}}
  - {{header: State, name: order_status, map: {{ok: completed, void: cancelled}}}}
  - {{header: Date, name: created_at}}
  - {{header: Item, name: outer_id}}
  - {{header: Qty, name: quantity}}
  - {{header: Price, name: unit_price}}
"""


def _mappings(tmp_path: Path, extra: str = "") -> list:
    directory = tmp_path / "mappings"
    directory.mkdir(exist_ok=True)
    (directory / "book.yaml").write_text(MAPPING.format(extra=extra), encoding="utf-8")
    return load_mappings(directory)


def _read(path: Path, mappings: list):
    return read_export(path, mappings, pii_salt="s", now=NOW, shops={"own_shop": "jd"})


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("own_shop__a.tsv", "No\tState\tDate\tItem\tQty\tPrice\n1\tok\t20260905\tA\t2\t10.50\n"),
        ("own_shop__b.txt", "No;State;Date;Item;Qty;Price\n1;ok;2026/09/05 08:30;A;2;10.50\n"),
        ("own_shop__c.csv", "No|State|Date|Item|Qty|Price\n1|ok|2026-09-05 08:30:00|A|2|10.50\n"),
    ],
)
def test_delimiters_are_sniffed_and_common_date_forms_read(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    mapping, result = _read(path, _mappings(tmp_path))
    (row,) = result.tables["orders"]
    assert mapping.name == "book" and result.quarantine == []
    assert row["order_status"] == "completed" and row["platform_status"] == "ok"
    assert row["quantity"] == 2 and row["unit_price"] == Decimal("10.50")
    assert row["created_at"].astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat() == "2026-09-05"


def test_a_comma_that_is_not_a_thousands_separator_is_set_aside_unless_the_mapping_says_decimal_comma(tmp_path):
    path = tmp_path / "own_shop__eu.csv"
    path.write_text('No;State;Date;Item;Qty;Price\n1;ok;2026-09-05;A;2;"12,34"\n2;ok;2026-09-05;B;1;"1.234,50"\n',
                    encoding="utf-8")  # fmt: skip
    _, result = _read(path, _mappings(tmp_path))
    assert result.tables["orders"] == [] or all(r["unit_price"] != Decimal("1234") for r in result.tables["orders"])
    assert any("Price '12,34'" in q["reason"] for q in result.quarantine)
    _, result = _read(path, _mappings(tmp_path, "decimal_comma: true"))
    assert [r["unit_price"] for r in result.tables["orders"]] == [Decimal("12.34"), Decimal("1234.50")]


def test_a_formula_without_a_saved_value_sets_its_row_aside(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["No", "State", "Date", "Item", "Qty", "Price"])
    sheet.append(["1", "ok", "2026-09-05", "A", 2, "=B9*2"])  # openpyxl saves no value for a formula
    sheet.append(["3", "ok", "2026-09-05", "C", 1, 5])
    path = tmp_path / "own_shop__book.xlsx"
    book.save(path)
    _, result = _read(path, _mappings(tmp_path))
    assert [r["order_id"] for r in result.tables["orders"]] == ["3"]
    (problem,) = result.quarantine
    assert problem["row_number"] == 2 and "formula whose value was never saved" in problem["reason"]


def test_a_cell_over_128_kib_sets_its_row_aside_and_the_rest_of_the_file_loads(tmp_path):
    path = tmp_path / "own_shop__long.csv"
    huge = "B" * (130 * 1024)
    path.write_text(f"No,State,Date,Item,Qty,Price\n1,ok,2026-09-05,{huge},1,5\n2,ok,2026-09-05,C,1,5\n")
    _, result = _read(path, _mappings(tmp_path))
    assert [r["order_id"] for r in result.tables["orders"]] == ["2"]
    (problem,) = result.quarantine
    assert problem["row_number"] == 2 and "more than 128 KiB" in problem["reason"]
    assert len(problem["reason"]) < 1000


def test_a_two_row_merged_header_is_refused_with_how_to_fix_it(tmp_path):
    path = tmp_path / "own_shop__merged.csv"
    path.write_text("No,State,Date,Item,,Price\n,,,,Qty,\n1,ok,2026-09-05,A,2,10\n", encoding="utf-8")
    with pytest.raises(FileImportError, match="header spans two rows"):
        _read(path, _mappings(tmp_path))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("constants: {colour: red}", r"constants \['colour'\] are not columns of orders"),
        ("shop: x", r"unknown keys \['shop'\]"),
        ("constants: {order_id: x}", r"\['order_id'\] is both a column and a constant"),
    ],
)
def test_a_wrong_mapping_is_refused_naming_its_file_and_key(tmp_path, extra, message):
    with pytest.raises(MappingError, match=message):
        _mappings(tmp_path, extra)


def test_a_value_map_to_an_unknown_status_and_an_unknown_column_are_refused(tmp_path):
    directory = tmp_path / "mappings"
    directory.mkdir()
    (directory / "bad.yaml").write_text(
        MAPPING.format(extra="").replace("void: cancelled", "void: gone"), encoding="utf-8"
    )
    with pytest.raises(MappingError, match="bad.yaml, column 'State': map gives gone"):
        load_mappings(directory)
    (directory / "bad.yaml").write_text(MAPPING.format(extra="").replace("name: quantity", "name: qty"))
    with pytest.raises(MappingError, match="name 'qty' is not a column of orders"):
        load_mappings(directory)


def test_a_status_text_the_map_does_not_know_sets_the_row_aside_naming_the_mapping(tmp_path):
    path = tmp_path / "own_shop__x.csv"
    path.write_text("No,State,Date,Item,Qty,Price\n1,lost,2026-09-05,A,1,5\n2,ok,2026-09-05,A,1,5\n")
    _, result = _read(path, _mappings(tmp_path))
    assert [r["order_id"] for r in result.tables["orders"]] == ["2"]
    assert "State 'lost' is not in the map of order_status in book.yaml" in result.quarantine[0]["reason"]
