"""Do two builds publish the same numbers? Hashes every table of schema `marts` in two DuckDB files (the rows as
text, in sorted order, so row order does not matter) and lists the marts that differ, are missing on one side, or
changed columns.

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


def mart_hashes(path: Path) -> dict[str, tuple[tuple[str, ...], int, str]]:
    """mart -> (its columns, its row count, md5 of its rows as text in sorted order)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return connection_mart_hashes(con)


def connection_mart_hashes(
    con: duckdb.DuckDBPyConnection, leave_out: dict[str, set[str]] | None = None
) -> dict[str, tuple[tuple[str, ...], int, str]]:
    """mart_hashes of the warehouse `con` uses (its default catalog: a file, or a lake attached and in use);
    `leave_out`: mart -> columns not hashed (e.g. when a load happened, which differs between two builds)."""
    out = {}
    marts = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_catalog = current_database() order by 1"
        ).fetchall()
    ]
    for mart in marts:
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
        rows, digest = con.execute(
            f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) "
            f'from (select cast(row({select}) as varchar) as r from marts."{mart}")'
        ).fetchone()
        out[mart] = (columns, rows, digest)
    return out


def column_hashes(con: duckdb.DuckDBPyConnection, mart: str, columns: tuple[str, ...]) -> dict[str, str]:
    """column -> md5 of its values (as text, sorted): which columns of a mart two builds disagree on."""
    return {
        column: con.execute(
            f"select md5(coalesce(string_agg(v, chr(10) order by v), '')) "
            f'from (select cast("{column}" as varchar) as v from marts."{mart}")'
        ).fetchone()[0]
        for column in columns
    }


def compare(before: Path, after: Path, ignore: set[str] = frozenset()) -> list[str]:
    """One line per difference between the two builds' marts (none: the same numbers)."""
    a, b = mart_hashes(before), mart_hashes(after)
    problems = []
    for mart in sorted((set(a) | set(b)) - set(ignore)):
        if mart not in a or mart not in b:
            problems.append(f"{mart}: only in {'after' if mart in b else 'before'}")
        elif a[mart][0] != b[mart][0]:
            problems.append(f"{mart}: columns differ: {sorted(set(a[mart][0]) ^ set(b[mart][0]))}")
        elif a[mart] != b[mart]:
            problems.append(f"{mart}: rows differ ({a[mart][1]} before, {b[mart][1]} after)")
    return problems


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
    compared = len(set(mart_hashes(args.before)) - set(args.ignore))
    for line in problems:
        print(line)
    print(f"{compared} marts compared, {len(problems)} differ")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
