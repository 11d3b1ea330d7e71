"""Do the floor (bench/floor.sql) and the pandas version (bench/pandas_marts.py) produce the marts' numbers? If
not, their timings are no comparison: `bench.scale` reports the mismatch and voids the ratio.

Each check is one of the floor's tables against the same columns of a mart (`CHECKS`): the rows are matched on
the keys (a full outer join: a row on one side only is a difference), integers must be equal, money within 0.01,
rates within 1e-6. `compare` returns one line per table and column that differs, with the number of rows and an
example.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
FLOOR_SQL = Path(__file__).resolve().parent / "floor.sql"
FX_SEED = REPO / "dbt_project" / "seeds" / "fx_rates.csv"
OVERDUE_GRACE_DAYS = 14  # dbt var po_overdue_grace_days (dbt_project.yml)


@dataclass(frozen=True)
class Check:
    table: str  # the floor's / pandas' table
    mart_sql: str  # the same columns from the marts
    keys: tuple[str, ...]
    columns: dict[str, float]  # column -> tolerance


MONEY = 0.01
CHECKS = [
    Check(
        "daily_sku_sales",
        "select order_date, shop_id, sku, units, units_refunded, gmv_cny, net_sales_cny, refunds_cny, "
        "net_revenue_cny from marts.daily_sku_sales",
        ("order_date", "shop_id", "sku"),
        {"units": 0, "units_refunded": 0, "gmv_cny": MONEY, "net_sales_cny": MONEY, "refunds_cny": MONEY,
         "net_revenue_cny": MONEY},
    ),
    Check(
        "daily_shop_sales",
        "select order_date, shop_id, orders, units, buyers, gmv_cny, net_sales_cny, refunds_cny, net_revenue_cny "
        "from marts.daily_shop_sales",
        ("order_date", "shop_id"),
        {"orders": 0, "units": 0, "buyers": 0, "gmv_cny": MONEY, "net_sales_cny": MONEY, "refunds_cny": MONEY,
         "net_revenue_cny": MONEY},
    ),
    Check(
        "shop_month_sales",
        "select shop_id, month as order_month, sum(net_sales_cny) as net_sales_cny, sum(refunds_cny) as refunds_cny "
        "from marts.sku_margins group by 1, 2",
        ("shop_id", "order_month"),
        {"net_sales_cny": MONEY, "refunds_cny": MONEY},
    ),
    Check(
        "inventory",
        "select i.sku, i.on_hand, i.on_order, r.on_hand as repl_on_hand, r.on_order as repl_on_order "
        "from marts.inventory_health i left join marts.replenishment_suggestions r using (sku)",
        ("sku",),
        {"on_hand": 0, "on_order": 0, "repl_on_hand": 0, "repl_on_order": 0},
    ),
    Check(
        "demand_inputs",
        "select sku, avg_daily_units_28d from marts.demand_forecast_summary",
        ("sku",),
        {"avg_daily_units_28d": 1e-6},
    ),
]  # fmt: skip
"""What is compared. Not compared (the floor does not compute them): COGS, fees, courier and return costs and the
contribution margin (sku_margins, order_line_margins), the forecast itself and the order quantities that follow
from it (demand_forecasts, replenishment_suggestions: statsforecast's models have no SQL or pandas one-liner),
reserved / available stock, per-warehouse figures."""


def as_of_date(build: Path) -> date:
    """The as_of_date the marts of `build` were built for."""
    with duckdb.connect(str(build), read_only=True) as con:
        return con.execute("select max(as_of_date) from marts.inventory_health").fetchone()[0]


def floor_variables(as_of: date) -> str:
    return (
        f"set variable fx_seed = '{FX_SEED}';\n"
        f"set variable as_of = date '{as_of.isoformat()}';\n"
        f"set variable overdue_grace_days = {OVERDUE_GRACE_DAYS};\n"
    )


def run_floor(build: Path, as_of: date) -> float:
    """Run bench/floor.sql on `build` (its tables land in schema floor); return the seconds it took."""
    script = floor_variables(as_of) + FLOOR_SQL.read_text()
    started = time.perf_counter()
    with duckdb.connect(str(build)) as con:
        con.execute(script)
    return time.perf_counter() - started


def compare(build: Path, schema: str = "floor", attach: Path | None = None) -> list[str]:
    """One line per check and column that differs between `schema`'s tables (in `build`, or in the file `attach`)
    and the marts of `build`; none: the same numbers."""
    problems = []
    with duckdb.connect(str(build), read_only=True) as con:
        if attach is not None:
            con.execute(f"attach '{attach}' as other (read_only)")
            schema = f"other.{schema}"
        for check in CHECKS:
            keys = ", ".join(check.keys)
            on = " and ".join(f"m.{k} is not distinct from o.{k}" for k in check.keys)
            try:
                (missing, extra) = con.execute(
                    f"select count(*) filter (where o.{check.keys[0]} is null and m.{check.keys[0]} is not null), "
                    f"count(*) filter (where m.{check.keys[0]} is null and o.{check.keys[0]} is not null) "
                    f"from ({check.mart_sql}) m full join {schema}.{check.table} o on {on}"
                ).fetchone()
            except duckdb.Error as error:
                problems.append(f"{check.table}: cannot compare: {error}")
                continue
            if missing or extra:
                example = con.execute(
                    f"select {keys}, 'mart only' from ({check.mart_sql}) m anti join {schema}.{check.table} o "
                    f"on {on} union all select {keys}, '{schema} only' from {schema}.{check.table} m "
                    f"anti join ({check.mart_sql}) o on {on} limit 1"
                ).fetchone()
                problems.append(
                    f"{check.table}: {missing} mart rows missing, {extra} rows extra (e.g. {example})"
                )
            for column, tolerance in check.columns.items():
                theirs = column.removeprefix("repl_")  # replenishment's copy of a column: the same figure
                differs = (
                    f"abs(coalesce(cast(m.{column} as double), 0) - coalesce(cast(o.{theirs} as double), 0)) "
                    f"> {tolerance + 1e-9}"
                )
                (count,) = con.execute(
                    f"select count(*) from ({check.mart_sql}) m join {schema}.{check.table} o on {on} "
                    f"where {differs}"
                ).fetchone()
                if count:
                    example = con.execute(
                        f"select {', '.join('m.' + k for k in check.keys)}, m.{column}, o.{theirs} "
                        f"from ({check.mart_sql}) m join {schema}.{check.table} o on {on} where {differs} limit 1"
                    ).fetchone()
                    problems.append(
                        f"{check.table}.{column}: {count} rows differ (e.g. {example[:-2]}: mart {example[-2]}, "
                        f"{schema.split('.')[-1]} {example[-1]})"
                    )
    return problems


if __name__ == "__main__":
    import sys

    build = Path(sys.argv[1])
    seconds = run_floor(build, as_of_date(build))
    print(f"floor: {seconds:.2f}s")
    lines = compare(build)
    print("\n".join(lines) or "floor = marts")
