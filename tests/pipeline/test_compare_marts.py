"""bench.compare_marts, the proof that a structural change changed no published number, itself tells a changed
value, a missing mart and a changed column apart, and ignores row and column order."""

from __future__ import annotations

import duckdb

from bench.compare_marts import compare


def _build(path, rows, extra_mart=False, column="amount"):
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.sales (day date, {column} decimal(18,2))")
        con.executemany("insert into marts.sales values (?, ?)", rows)
        if extra_mart:
            con.execute("create table marts.extra (i int)")
    return path


def test_the_same_rows_in_another_order_are_the_same_and_any_change_is_named(tmp_path):
    rows = [("2026-06-01", "10.00"), ("2026-06-02", "20.00")]
    before = _build(tmp_path / "a.duckdb", rows)
    assert compare(before, _build(tmp_path / "b.duckdb", rows[::-1])) == []
    assert compare(before, _build(tmp_path / "c.duckdb", [rows[0], ("2026-06-02", "20.01")])) == [
        "sales: rows differ (2 and 2 rows; columns ['amount'])"
    ]
    assert compare(before, _build(tmp_path / "d.duckdb", rows, extra_mart=True)) == ["extra: only in after"]
    assert compare(before, _build(tmp_path / "e.duckdb", rows, extra_mart=True), {"extra"}) == []
    assert compare(before, _build(tmp_path / "f.duckdb", rows, column="amount_cny")) == [
        "sales: columns differ: ['amount', 'amount_cny']"
    ]


def test_doubles_that_differ_in_their_last_bits_are_the_same_number_and_a_real_difference_is_named(tmp_path):
    """A sum of doubles depends on the order threads add them in: 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1 in the
    last bit, and printed to 12 digits, a value that close to a digit's edge can print either way."""

    def build(path, values):
        with duckdb.connect(str(path)) as con:
            con.execute("create schema marts")
            con.execute("create table marts.health (sku varchar, units integer, gmroi double)")
            con.executemany("insert into marts.health values (?, ?, ?)", values)
        return path

    edge = 0.1234567890125  # on the edge of its 12th significant digit
    before = build(tmp_path / "a.duckdb", [("A", 1, 0.1 + 0.2 + 0.3), ("B", 2, edge), ("C", 3, None)])
    assert 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1
    same = build(
        tmp_path / "b.duckdb", [("C", 3, None), ("B", 2, edge * (1 + 2e-16)), ("A", 1, 0.3 + 0.2 + 0.1)]
    )
    assert compare(before, same) == []
    changed = build(tmp_path / "c.duckdb", [("A", 1, 0.6), ("B", 2, edge * (1 + 1e-7)), ("C", 4, None)])
    assert compare(before, changed) == ["health: rows differ (3 and 3 rows; columns ['units', 'gmroi'])"]
