"""The guard of `python -m bench.scale`'s comparison: the floor (bench/floor.sql, one DuckDB script on the raw
tables) and the pandas version (bench/pandas_marts.py) compute the marts' numbers on the test shop's warehouse —
else their timings compare shopkeep with something else — and the checker names a difference when there is one."""

from __future__ import annotations

import shutil

import duckdb

from bench import pandas_marts
from bench.scale_check import as_of_date, compare, run_floor


def test_floor_and_pandas_compute_the_marts_numbers_and_a_difference_is_named(built_build_path, tmp_path):
    build = tmp_path / "build.duckdb"
    shutil.copyfile(built_build_path, build)
    as_of = as_of_date(build)

    run_floor(build, as_of)
    assert compare(build) == []

    out = tmp_path / "pandas_out.duckdb"
    pandas_marts.write(pandas_marts.compute(build, as_of), out)
    assert compare(build, "pandas", out) == []

    with duckdb.connect(str(build)) as con:
        con.execute(
            "update floor.daily_sku_sales set net_sales_cny = net_sales_cny + 0.02 "
            "where rowid = (select min(rowid) from floor.daily_sku_sales)"
        )
        con.execute("delete from floor.inventory where sku = (select min(sku) from floor.inventory)")
    problems = compare(build)
    assert any(p.startswith("daily_sku_sales.net_sales_cny: 1 rows differ") for p in problems), problems
    assert any(p.startswith("inventory: 1 mart rows missing") for p in problems), problems
