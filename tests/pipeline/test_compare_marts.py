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
        "sales: rows differ (2 before, 2 after)"
    ]
    assert compare(before, _build(tmp_path / "d.duckdb", rows, extra_mart=True)) == ["extra: only in after"]
    assert compare(before, _build(tmp_path / "e.duckdb", rows, extra_mart=True), {"extra"}) == []
    assert compare(before, _build(tmp_path / "f.duckdb", rows, column="amount_cny")) == [
        "sales: columns differ: ['amount', 'amount_cny']"
    ]
