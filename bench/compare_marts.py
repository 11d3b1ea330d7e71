"""Do two builds publish the same numbers? Hashes every table of schema `marts` in two DuckDB files (the rows as
text, hashes summed, so row order does not matter) and lists the marts that differ, are missing on one side, or
changed columns. Where a mart's hashes differ, its rows are compared one by one (`differing_columns`): every
column but the doubles exactly, the doubles to a relative 1e-9 — a sum of doubles depends on the order DuckDB's
threads added them in, so two correct builds can differ in the last bits, and any rounding of them to text can
fall on either side of a digit.

    python -m bench.compare_marts before/build.duckdb after/build.duckdb [--ignore mart ...]

Used to prove a structural change changed no published number: build the same raw tables with the dbt project
before and after the change (same `--vars '{as_of_date: ..., clock: ...}'`) and compare. Exit code 1 when any
mart differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb


def connection_mart_hashes(
    con: duckdb.DuckDBPyConnection,
    leave_out: dict[str, set[str]] | None = None,
    ignore: set[str] = frozenset(),
) -> dict[str, tuple[tuple[str, ...], int, str]]:
    """mart -> (its columns, its row count, the sum of its rows' hashes as text), for the warehouse `con` uses
    (its default catalog: a file, or a lake attached and in use);
    `leave_out`: mart -> columns not hashed (e.g. when a load happened, which differs between two builds)."""
    out = {}
    marts = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_catalog = current_database() order by 1"
        ).fetchall()
    ]
    for mart in (m for m in marts if m not in ignore):
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? and table_catalog = current_database() "
                "order by column_name",
                [mart],
            ).fetchall()
        )
        columns = tuple(name for name in types if name not in (leave_out or {}).get(mart, ()))
        # by name, so a moved column is no difference; a double to 12 significant digits, since a sum of doubles
        # depends on the order DuckDB's threads added them in (the last bits differ from build to build)
        select = ", ".join(
            f"printf('%.12g', \"{c}\")" if types[c] in ("DOUBLE", "FLOAT", "REAL") else f'"{c}"'
            for c in columns
        )
        # the sum of the rows' hashes: the same for the same rows in any order, with no sort and no string of
        # the whole table (10M-line marts are gigabytes of text)
        rows, digest = con.execute(
            f"select count(*), cast(coalesce(sum(hash(r)), 0) as varchar) "
            f'from (select cast(row({select}) as varchar) as r from marts."{mart}")'
        ).fetchone()
        out[mart] = (columns, rows, digest)
    return out


def compare(before: Path, after: Path, ignore: set[str] = frozenset()) -> list[str]:
    """One line per difference between the two builds' marts (none: the same numbers)."""
    with (
        duckdb.connect(str(before), read_only=True) as con_a,
        duckdb.connect(str(after), read_only=True) as con_b,
    ):
        differ = compare_connections(con_a, con_b, names=("before", "after"), ignore=ignore)
    return [f"{mart}: {what}" for mart, what in sorted(differ.items())]


def compare_connections(
    con_a: duckdb.DuckDBPyConnection,
    con_b: duckdb.DuckDBPyConnection,
    leave_out: dict[str, set[str]] | None = None,
    names: tuple[str, str] = ("the first", "the second"),
    ignore: set[str] = frozenset(),
) -> dict[str, list[str] | str]:
    """The marts two warehouses (each its connection's default catalog: a file, or a lake pinned at a snapshot)
    disagree on: mart -> a sentence saying how (their row counts and the columns that differ, rows matched as
    `differing_columns` does; or that it is on one side only, or has other columns). {}: the same numbers. `leave_out` as
    connection_mart_hashes's; `ignore`: marts not compared at all."""
    a, b = connection_mart_hashes(con_a, leave_out, ignore), connection_mart_hashes(con_b, leave_out, ignore)
    out: dict[str, list[str] | str] = {}
    for mart in sorted(set(a) | set(b)):
        if mart not in a or mart not in b:
            out[mart] = f"only in {names[1] if mart in b else names[0]}"
        elif a[mart][0] != b[mart][0]:
            out[mart] = f"columns differ: {sorted(set(a[mart][0]) ^ set(b[mart][0]))}"
        elif a[mart] != b[mart] and max(a[mart][1], b[mart][1]) > ROW_BY_ROW_MAX:
            out[mart] = f"rows differ ({a[mart][1]} and {b[mart][1]} rows: too many to compare one by one here)"
        elif a[mart] != b[mart]:
            columns = differing_columns(con_a, con_b, mart, a[mart][0])
            if columns:
                out[mart] = f"rows differ ({a[mart][1]} and {b[mart][1]} rows; columns {columns})"
    return out


ROW_BY_ROW_MAX = 2_000_000
"""A mart with more rows than this whose hashes differ is not compared row by row (its rows go through Python)."""


DOUBLE_TOLERANCE = 1e-9
"""Relative difference two builds' doubles may have and still be the same number (see the module's doc)."""


def mart_rows(con: duckdb.DuckDBPyConnection, mart: str, columns: tuple[str, ...]) -> tuple[list[str], list]:
    """(columns, rows) of a mart: the columns not double first, as text, in the table's order (a mart's key comes
    first), then the doubles as floats; sorted by the text columns and then the doubles, so two builds' rows line
    up by their keys (one differing value further right does not shift the rows)."""
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? and table_catalog = current_database() "
            "order by ordinal_position",
            [mart],
        ).fetchall()
    )
    exact = [c for c in types if c in columns and types[c] not in ("DOUBLE", "FLOAT", "REAL")]
    doubles = [c for c in columns if c not in exact]
    select = ", ".join(
        [*(f'cast("{c}" as varchar)' for c in exact), *(f'cast("{c}" as double)' for c in doubles)]
    )
    order = ", ".join(str(i + 1) for i in range(len(exact) + len(doubles)))
    return [*exact, *doubles], con.execute(f'select {select} from marts."{mart}" order by {order}').fetchall()


def differing_columns(
    con_a: duckdb.DuckDBPyConnection, con_b: duckdb.DuckDBPyConnection, mart: str, columns: tuple[str, ...]
) -> list[str]:
    """The columns of `mart` whose values differ between two warehouses, rows matched in sorted order: exactly,
    but doubles to DOUBLE_TOLERANCE (relative; NaN equals NaN). [] when the mart is the same; every column when
    the row counts differ."""
    import math

    names, rows_a = mart_rows(con_a, mart, columns)
    _, rows_b = mart_rows(con_b, mart, columns)
    if len(rows_a) != len(rows_b):
        return names

    def same(x, y) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return (math.isnan(x) and math.isnan(y)) or math.isclose(
                x, y, rel_tol=DOUBLE_TOLERANCE, abs_tol=DOUBLE_TOLERANCE
            )
        return x == y

    differ: set[str] = set()
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        differ.update(name for name, x, y in zip(names, row_a, row_b, strict=True) if not same(x, y))
    return [name for name in names if name in differ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument(
        "--ignore", nargs="*", default=[], help="marts to leave out (e.g. changed on purpose)"
    )
    args = parser.parse_args()
    problems = compare(args.before, args.after, set(args.ignore))
    with duckdb.connect(str(args.before), read_only=True) as con:
        marts = {
            m
            for (m,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    compared = len(marts - set(args.ignore))
    for line in problems:
        print(line)
    print(f"{compared} marts compared, {len(problems)} differ")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
