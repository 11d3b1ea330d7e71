"""The forms sellers' files come in, read through a mapping of their own: delimiters sniffed (tab, semicolon),
dates as YYYYMMDD, YYYY/MM/DD HH:MM or an explicit format, a decimal comma only where the mapping says so (else
"12,34" is set aside, never read as 1234), a formula cell without a saved value, a cell over 128 KiB and a
two-row merged header each set aside or refused with the reason, and mappings that are wrong refused naming
their file and key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from connectors.files.exports import read_export
from connectors.files.mapping import MappingError, load_mappings
from connectors.files.rates import read_rates
from connectors.files.source import LazyExports
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
    (row,) = result.tables["orders"].to_pylist()
    assert mapping.name == "book" and result.quarantine == []
    assert row["order_status"] == "completed" and row["platform_status"] == "ok"
    assert row["quantity"] == 2 and row["unit_price"] == Decimal("10.50")
    assert row["created_at"].astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat() == "2026-09-05"


def test_a_comma_that_is_not_a_thousands_separator_is_set_aside_unless_the_mapping_says_decimal_comma(
    tmp_path,
):
    path = tmp_path / "own_shop__eu.csv"
    path.write_text('No;State;Date;Item;Qty;Price\n1;ok;2026-09-05;A;2;"12,34"\n2;ok;2026-09-05;B;1;"1.234,50"\n',
                    encoding="utf-8")  # fmt: skip
    _, result = _read(path, _mappings(tmp_path))
    assert result.tables["orders"].to_pylist() == [] or all(
        r["unit_price"] != Decimal("1234") for r in result.tables["orders"].to_pylist()
    )
    assert any("Price '12,34'" in q["reason"] for q in result.quarantine)
    _, result = _read(path, _mappings(tmp_path, "decimal_comma: true"))
    assert [r["unit_price"] for r in result.tables["orders"].to_pylist()] == [Decimal("12.34"), Decimal("1234.50")]


def test_a_formula_without_a_saved_value_sets_its_row_aside(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["No", "State", "Date", "Item", "Qty", "Price"])
    sheet.append(["1", "ok", "2026-09-05", "A", 2, "=B9*2"])  # openpyxl saves no value for a formula
    sheet.append(["3", "ok", "2026-09-05", "C", 1, 5])
    path = tmp_path / "own_shop__book.xlsx"
    book.save(path)
    _, result = _read(path, _mappings(tmp_path))
    assert [r["order_id"] for r in result.tables["orders"].to_pylist()] == ["3"]
    (problem,) = result.quarantine
    assert problem["row_number"] == 2 and "formula whose value was never saved" in problem["reason"]


def test_a_cell_over_128_kib_sets_its_row_aside_and_the_rest_of_the_file_loads(tmp_path):
    path = tmp_path / "own_shop__long.csv"
    huge = "B" * (130 * 1024)
    path.write_text(f"No,State,Date,Item,Qty,Price\n1,ok,2026-09-05,{huge},1,5\n2,ok,2026-09-05,C,1,5\n")
    _, result = _read(path, _mappings(tmp_path))
    assert [r["order_id"] for r in result.tables["orders"].to_pylist()] == ["2"]
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
    assert [r["order_id"] for r in result.tables["orders"].to_pylist()] == ["2"]
    assert "State 'lost' is not in the map of order_status in book.yaml" in result.quarantine[0]["reason"]


POS = """
name: pos
entity: orders
shops: [own*]
{extra}
columns:
  - {{header: No, name: order_id}}
  - {{header: State, name: order_status, map: {{ok: completed}}}}
  - {{header: Date, name: created_at}}
  - {{header: Item, name: outer_id}}
  - {{header: Qty, name: quantity}}
  - {{header: Price, name: unit_price}}
  - {{header: Sale, name: original_order_id}}
"""
POS_FILE = """No,State,Date,Item,Qty,Price,Sale
1,ok,20260905,A,2,10.50,
1,ok,20260905,B,1,5.00,
R1,ok,20260910,A,-1,10.50,1
R2,ok,20260910,C,-1,3.00,1
R3,ok,20260910,A,-1,10.50,99
2,ok,20260911,A,-2,10.50,
"""


def _pos(tmp_path: Path, extra: str) -> LazyExports:
    directory = tmp_path / "mappings"
    directory.mkdir()
    (directory / "pos.yaml").write_text(POS.format(extra=extra), encoding="utf-8")
    path = tmp_path / "own_shop__pos.csv"
    path.write_text(POS_FILE, encoding="utf-8")
    mappings = [m for m in load_mappings(directory) if m.is_export]
    return LazyExports([path], mappings, "s", None, NOW, {"own_shop": "jd"})


def test_negative_lines_become_refunds_of_their_order_or_are_set_aside_with_the_reason(tmp_path):
    data = _pos(tmp_path, "negative_lines: returns")
    orders = next(data.rows("orders")).to_pylist()
    (refund,) = next(data.rows("refunds")).to_pylist()
    reasons = {q["row_number"]: q["reason"] for q in next(data.quarantined())}
    (record,) = next(data.imported())
    assert sorted((o["order_id"], o["outer_id"], o["quantity"]) for o in orders) == [
        ("1", "A", 2),
        ("1", "B", 1),
    ]
    assert (refund["order_id"], refund["sku_id"], refund["quantity"], refund["refund_amount"]) == (
        "1", "A", 1, Decimal("10.50"),
    )  # fmt: skip
    assert refund["refund_status"] == "success" and refund["source_row"] == 4
    assert "order 1 has no line of C" in reasons[5]
    assert "order 99 is in no imported file" in reasons[6]
    assert "order 2 is in no imported file" in reasons[7] and "original_order_id" in reasons[7]
    assert (record["rows_loaded"], record["rows_set_aside"]) == (3, 3)


def test_a_negative_line_is_set_aside_unless_the_mapping_says_negative_lines_returns(tmp_path):
    data = _pos(tmp_path, "")
    assert len(next(data.rows("orders"))) == 2
    assert next(data.rows("refunds")).num_rows == 0
    reasons = [q["reason"] for q in next(data.quarantined())]
    assert len(reasons) == 4
    assert all("is negative" in r and "negative_lines: returns" in r and "pos.yaml" in r for r in reasons)


def test_negative_lines_only_apply_to_orders(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "name: r\nentity: refunds\nnegative_lines: returns\ncolumns:\n  - {header: a, name: refund_id}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError, match="r.yaml: negative_lines"):
        load_mappings(tmp_path)


def test_a_rates_file_reads_months_and_days_and_names_each_bad_row(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_bytes(
        "Currency,Month,Date,Rate\nUSD,2026-09,,7.01\nusd,,2026-09-15,6.5\nEUR,2026-13,,7.9\nGBP,2026-09,,-1\n"
        "JPY,2026-09,,0.05\nJPY,2026-09-01,,0.06\n".encode("gbk")
    )
    rows, problems = read_rates(path)
    assert rows == [
        ("USD", "month", date(2026, 9, 1), Decimal("7.01"), 2),
        ("USD", "day", date(2026, 9, 15), Decimal("6.5"), 3),
    ]
    assert [p.split(":")[0] for p in problems] == ["rates.csv row 4", "rates.csv row 5", "rates.csv row 7"]
    assert "2026-13" in problems[0] and "positive" in problems[1] and "also on row 6" in problems[2]
    (tmp_path / "bad.csv").write_text("code,value\nUSD,7\n", encoding="utf-8")
    assert read_rates(tmp_path / "bad.csv") == ([], ["bad.csv: needs the columns currency, month (or date) and "
                                                      "rate; found code, value"])  # fmt: skip


def test_an_unchanged_file_comes_from_the_parse_cache_and_a_changed_mapping_reads_it_again(tmp_path, monkeypatch):
    import connectors.files.source as source

    cache = tmp_path / "cache"

    def read(salt: str = "s") -> tuple:
        mappings = [m for m in load_mappings(tmp_path / "mappings") if m.is_export]
        data = LazyExports([tmp_path / "own_shop__pos.csv"], mappings, salt, None, NOW, {"own_shop": "jd"}, cache)
        return next(data.rows("orders")).to_pylist(), next(data.rows("refunds")).to_pylist(), [
            q["reason"] for q in next(data.quarantined())
        ]

    _pos(tmp_path, "negative_lines: returns")
    first = read()
    parsed = []
    real = source.read_export
    monkeypatch.setattr(source, "read_export", lambda *a, **k: parsed.append(a[0]) or real(*a, **k))
    assert read() == first and parsed == []  # from the cache: the same rows, refunds and reasons
    read(salt="other")
    assert len(parsed) == 1  # another salt would hash buyers otherwise: parsed again
    (tmp_path / "mappings" / "pos.yaml").write_text(POS.format(extra=""), encoding="utf-8")
    assert read() != first and len(parsed) == 2  # the mapping changed: parsed again
    assert len(list(cache.glob("*.arrow"))) == 1  # entries no import used any more are removed


def test_a_mapping_typing_a_column_otherwise_than_its_canonical_type_still_loads(tmp_path):
    directory = tmp_path / "mappings"
    directory.mkdir()
    text = MAPPING.format(extra="").replace("name: created_at}", "name: created_at, type: date}")
    (directory / "book.yaml").write_text(text, encoding="utf-8")
    path = tmp_path / "own_shop__day.csv"
    path.write_text("No,State,Date,Item,Qty,Price\n1,ok,2026-09-05,A,2,10.5\n", encoding="utf-8")
    data = LazyExports([path], [m for m in load_mappings(directory) if m.is_export], "s", None, NOW,
                       {"own_shop": "jd"})  # fmt: skip
    (row,) = next(data.rows("orders")).to_pylist()  # a date in the date-time column: midnight UTC, as dlt casts
    assert row["created_at"] == datetime(2026, 9, 5, tzinfo=UTC) and row["unit_price"] == Decimal("10.50")


def test_returns_of_one_line_in_two_exports_both_count_and_one_return_in_overlapping_exports_counts_once(tmp_path):
    directory = tmp_path / "mappings"
    directory.mkdir()
    (directory / "pos.yaml").write_text(POS.format(extra="negative_lines: returns"), encoding="utf-8")
    head = "No,State,Date,Item,Qty,Price,Sale\n"
    files = {
        "own_shop__jan.csv": head + "1,ok,20260105,A,3,10.00,\n1,ok,20260110,A,-1,10.00,\n",
        "own_shop__feb.csv": head + "1,ok,20260203,A,-1,10.00,\n",  # a second return of the same line
        "own_shop__jan_again.csv": head + "1,ok,20260110,A,-1,10.00,\n",  # January's return exported again
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    data = LazyExports(sorted(tmp_path.glob("*.csv")), [m for m in load_mappings(directory) if m.is_export], "s",
                       None, NOW, {"own_shop": "jd"})  # fmt: skip
    refunds = next(data.rows("refunds")).to_pylist()
    local = ZoneInfo("Asia/Shanghai")
    assert sorted((r["created_at"].astimezone(local).date().isoformat(), r["quantity"]) for r in refunds) == [
        ("2026-01-10", 1), ("2026-02-03", 1),
    ]  # fmt: skip
