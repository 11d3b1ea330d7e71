"""`python -m bench.dashboard_queries`: every dashboard page's queries on a 10-million-order-line warehouse.

1. A published serve.duckdb (`--source`, else $SHOPKEEP_SERVE_PATH, else the test shop built here through the
   whole pipeline) gives the marts' real schemas and realistic rows.
2. `scale_serve_file` writes a synthetic serve.duckdb with the same tables and columns, multiplied in DuckDB SQL
   (a cross join with `range()`, seconds, no pipeline run): `periods` copies of the history shifted back in time
   (dates and timestamps by the history's span) × `clones` copies of the catalogue and the order volume (SKU and
   order/buyer ids suffixed), `clones` chosen so that marts.order_line_margins holds `--lines` rows. Per table:
   order-level facts get periods × clones, SKU × day/month facts periods × clones, shop × day/month tables
   periods, current SKU tables (inventory, forecasts, drafts) and the review queue clones, dimensions as they are.
   Numbers are copied, not re-derived: marts no longer add up to each other, which timing does not need.
   Tables are written ordered by their main date, as the incremental marts grow.
3. Each page's query functions are discovered from its script (`dashboards/views/<page>.py`: every call
   `<module>.<fn>(...)` on a module imported from `dashboards.queries`, literal arguments kept, the others filled by parameter name from the default selection —
   the last 30 days, all shops — see `ARGUMENTS`), plus the sidebar's (`app.py`, `filters.py`) as page "sidebar".
   Every run passes a new `version`, so `st.cache_data` misses and the SQL really runs, cache included.
   Per query and per page (its queries one after the other, as a page load runs them): p50 / p95 in ms over
   `--runs` runs after one warm-up run. Target: page p95 < 200 ms.

Figures go to stdout and bench/results/dashboard_queries.json. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import math
import os
import pkgutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bench.results import save

REPO = Path(__file__).resolve().parents[1]
VIEWS = REPO / "dashboards" / "views"
SIDEBAR_SCRIPTS = [REPO / "dashboards" / "app.py", REPO / "dashboards" / "filters.py"]
TARGET_P95_MS = 200.0

# -- scaling ---------------------------------------------------------------------------------------------------

# How each mart is multiplied: "lines" periods × clones (order/buyer-level facts), "sku_time" periods × clones
# (SKU × day / month facts), "time" periods (shop × day / month), "sku" clones (current per-SKU tables),
# "now" clones without a time shift (the review queue), "copy" as it is. Unknown marts are classified by their
# columns (`table_mode`), so a mart added later is scaled too.
MODES: dict[str, str] = {
    "order_line_margins": "lines",
    "customer_orders": "lines",
    "customers": "lines",
    "settlement_reconciliation": "lines",
    "daily_sku_sales": "sku_time",
    "sku_margins": "sku_time",
    "return_analysis": "sku_time",
    "daily_shop_sales": "time",
    "channel_daily_performance": "time",
    "customer_cohorts": "time",
    "settlement_reconciliation_monthly": "time",
    "promotion_results": "time",
    "dates": "time",
    "skus": "sku",
    "inventory_health": "sku",
    "inventory_health_by_warehouse": "sku",
    "demand_forecasts": "sku",
    "demand_forecast_summary": "sku",
    "replenishment_suggestions": "sku",
    "purchase_order_drafts": "sku",
    "return_shop_comparison": "sku",
    "order_exceptions": "now",
    "shops": "copy",
    "suppliers": "copy",
    "repurchase_rates": "copy",
    "unmapped_skus": "copy",
}
ORDER_KEYS = {"order_id", "order_line_id", "customer_id", "platform_order_id", "buyer_key"}
# Row ids that must stay unique per copy (they embed the SKU, the order or the month).
ROW_IDS = {
    "customer_cohort_id",
    "return_analysis_id",
    "sku_shop_id",
    "sku_warehouse_id",
    "forecast_id",
    "draft_line_id",
    "promo_id",
}
SKU_COLUMNS = {"sku"}
NOT_SHIFTED = {"as_of_date"}  # "today" of a snapshot stays today
DATE_ORDER = ("order_date", "date_day", "order_month", "month", "cohort_month", "start_date")
TIME_MODES = {"lines", "sku_time", "time"}
CLONE_MODES = {"lines", "sku_time", "sku", "now"}


def table_mode(table: str, columns: dict[str, str]) -> str:
    """The scaling mode of a mart: MODES, else by its columns."""
    if table in MODES:
        return MODES[table]
    dated = any(c in columns for c in DATE_ORDER)
    if ORDER_KEYS & set(columns):
        return "lines" if dated else "now"
    if "sku" in columns:
        return "sku_time" if dated else "sku"
    return "time" if dated else "copy"


def _column_expr(name: str, dtype: str, mode: str, span_days: int) -> str:
    col = f'src."{name}"'
    shift = mode in TIME_MODES and name not in NOT_SHIFTED
    if dtype == "DATE" and shift:
        shifted = f"({col} - cast(p.p * {span_days} as integer))"
        return f"date_trunc('month', {shifted})::date" if "month" in name else shifted
    if dtype.startswith("TIMESTAMP") and shift:
        return f"({col} - to_days(cast(p.p * {span_days} as integer)))"
    if dtype != "VARCHAR":
        return col
    if name in SKU_COLUMNS and mode in CLONE_MODES:
        return f"case when c.c = 0 then {col} else {col} || '~' || c.c end"
    if name in ORDER_KEYS | ROW_IDS and (mode in CLONE_MODES or name in ROW_IDS):
        return f"case when p.p = 0 and c.c = 0 then {col} else {col} || '~' || p.p || '.' || c.c end"
    return col


def scale_serve_file(source: Path, out: Path, lines: int, periods: int) -> dict[str, Any]:
    """Write `out`: `source`'s marts (and meta) multiplied so marts.order_line_margins has >= `lines` rows."""
    if out.exists():
        out.unlink()
    con = duckdb.connect(str(out))
    try:
        con.execute(f"attach '{source}' as src_db (read_only)")
        first, last = con.execute(
            "select min(order_date), max(order_date) from src_db.marts.daily_shop_sales"
        ).fetchone()
        span_days = math.ceil(((last - first).days + 1) / 7) * 7  # whole weeks: weekdays stay weekdays
        (base_lines,) = con.execute("select count(*) from src_db.marts.order_line_margins").fetchone()
        clones = max(1, math.ceil(lines / (base_lines * periods)))
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'src_db' order by 1, 2"
        ).fetchall()
        con.execute("create schema marts")
        con.execute("create schema meta")
        sizes: dict[str, int] = {}
        for schema, table in tables:
            columns = dict(
                con.execute(
                    "select column_name, data_type from duckdb_columns() "
                    "where database_name = 'src_db' and schema_name = ? and table_name = ? order by column_index",
                    [schema, table],
                ).fetchall()
            )
            mode = table_mode(table, columns) if schema == "marts" else "copy"
            n_periods = periods if mode in TIME_MODES else 1
            n_clones = clones if mode in CLONE_MODES else 1
            exprs = ",\n".join(f'{_column_expr(c, d, mode, span_days)} as "{c}"' for c, d in columns.items())
            order = next((c for c in DATE_ORDER if c in columns), None)
            distinct = "distinct on (src.date_day)" if table == "dates" else ""
            con.execute(
                f"""
                create table {schema}."{table}" as
                select {distinct} {exprs}
                from src_db.{schema}."{table}" as src, range({n_periods}) as p(p), range({n_clones}) as c(c)
                {f'order by "{order}"' if order and not distinct else ""}
                """
            )
            (sizes[f"{schema}.{table}"],) = con.execute(f'select count(*) from {schema}."{table}"').fetchone()
        con.execute("detach src_db")
        con.execute("checkpoint")
    finally:
        con.close()
    return {
        "source": str(source),
        "source_order_lines": base_lines,
        "history_days_source": span_days,
        "periods": periods,
        "clones": clones,
        "history_days": span_days * periods,
        "rows": sizes,
        "file_mb": round(out.stat().st_size / 2**20),
    }


# -- discovering each page's queries -----------------------------------------------------------------------------


@dataclass
class Call:
    """One `<module>.<name>(...)` call site (module: of dashboards.queries): literal arguments kept (by position /
    keyword)."""

    module: str
    name: str
    literals: dict[int | str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        extra = [repr(v) for v in self.literals.values()]
        return f"{self.name}({', '.join(extra)})" if extra else self.name


def _query_modules_imported(tree: ast.Module) -> dict[str, str]:
    """Local name -> module of dashboards.queries, for each `from dashboards.queries import <module> [as name]`."""
    return {
        alias.asname or alias.name: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "dashboards.queries"
        for alias in node.names
    }


def page_calls(script: Path) -> list[Call]:
    """The distinct `<module>.<fn>(...)` calls on modules of dashboards.queries in a page script."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    modules = _query_modules_imported(tree)
    calls: dict[str, Call] = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in modules
        ):
            continue
        literals: dict[int | str, Any] = {}
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Constant):
                literals[i] = arg.value
        for kw in node.keywords:
            if kw.arg and isinstance(kw.value, ast.Constant):
                literals[kw.arg] = kw.value.value
        call = Call(modules[node.func.value.id], node.func.attr, literals)
        calls.setdefault(call.label, call)
    return sorted(calls.values(), key=lambda c: c.label)


def pages() -> dict[str, list[Call]]:
    """page -> its query calls (views/<page>.py), plus "sidebar" (the router and the global filters)."""
    found = {"sidebar": [c for script in SIDEBAR_SCRIPTS for c in page_calls(script)]}
    for script in sorted(VIEWS.glob("*.py")):
        calls = page_calls(script)
        if calls:
            found[script.stem] = calls
    return found


@dataclass
class Context:
    """What the default selection gives the queries."""

    path: str
    first: date
    start: date
    end: date
    sku: str
    category: str | None
    supplier_id: str | None


def default_context(path: str) -> Context:
    from dashboards.queries import sales, serving

    first, last = sales.date_bounds(path, ("bench", "bounds"))
    start = max(first, last - timedelta(days=29))
    with serving._connect(path) as con:  # the active way to connect (serving._connect, or per_query_connect)
        sku, category = con.execute(
            "select sku, any_value(category) from marts.daily_sku_sales where order_date >= ? "
            "group by sku order by sum(units) desc limit 1",
            [start],
        ).fetchone()
        supplier = con.execute("select min(supplier_id) from marts.suppliers").fetchone()[0]
    return Context(path, first, start, last, sku, category, supplier)


# Arguments by parameter name (the default selection: last 30 days, every shop, category and warehouse).
ARGUMENTS: dict[str, Callable[[Context], Any]] = {
    "path": lambda ctx: ctx.path,
    "start": lambda ctx: ctx.start,
    "end": lambda ctx: ctx.end,
    "shop_ids": lambda ctx: (),
    "categories": lambda ctx: (),
    "warehouse_ids": lambda ctx: (),
    "sku": lambda ctx: ctx.sku,
    "category": lambda ctx: ctx.category,
    "supplier_id": lambda ctx: ctx.supplier_id,
    "as_of": lambda ctx: ctx.end,
    "day": lambda ctx: ctx.end,
}


def _windows(ctx: Context) -> Any:
    """The overview's comparison windows, built as views/overview.py builds them (now, prior, last year of each
    period in dashboards.filters.PERIODS)."""
    from dashboards import filters

    sel = filters.Selection(
        path=ctx.path, version=("bench", 0), start=ctx.start, end=ctx.end, shop_ids=(), first_date=ctx.first,
        last_date=ctx.end,
    )  # fmt: skip
    comparisons = [filters.period_comparison(sel, p) for p in filters.PERIODS]
    return tuple(w for c in comparisons for w in (c.now, c.prior, c.last_year))


SPECIAL: dict[str, Callable[[Context], Any]] = {"windows": _windows}


def query_function(call: Call) -> Any:
    """The function a call site calls (None when its module has no such name)."""
    return getattr(importlib.import_module(f"dashboards.queries.{call.module}"), call.name, None)


def bind(call: Call, ctx: Context) -> tuple[Callable[[Any], Any] | None, str | None]:
    """A function of `version` running the call, or (None, why it cannot be run)."""
    fn = query_function(call)
    if fn is None or not callable(fn):
        return None, f"not in dashboards.queries.{call.module}"
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None, "no signature"
    if not params or params[0].name != "path":
        return None, "not a warehouse query (first parameter is not path)"
    kwargs: dict[str, Any] = {}
    for i, param in enumerate(params):
        if param.name == "version":
            continue
        if i in call.literals:
            kwargs[param.name] = call.literals[i]
        elif param.name in call.literals:
            kwargs[param.name] = call.literals[param.name]
        elif param.name in ARGUMENTS:
            kwargs[param.name] = ARGUMENTS[param.name](ctx)
        elif param.name in SPECIAL:
            try:
                kwargs[param.name] = SPECIAL[param.name](ctx)
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                return None, f"cannot build {param.name!r}: {exc}"
        elif param.default is not inspect.Parameter.empty:
            kwargs[param.name] = param.default
        else:
            return None, f"no value for parameter {param.name!r} (add it to ARGUMENTS)"
    has_version = any(p.name == "version" for p in params)

    def run(version: Any) -> Any:
        return fn(**({"version": version} if has_version else {}), **kwargs)

    return run, None


# -- connections ---------------------------------------------------------------------------------------------------


def per_query_connect() -> Callable[[Any], Any]:
    """A drop-in for `dashboards.queries.serving._connect` (what-if, measured with `--connections per-query`): the earlier
    design, a new read-only DuckDB instance per query. Creating an instance costs ~40-150 ms on a large file
    (catalog, buffer manager, thread pool); the shipped `_connect` keeps one instance per published snapshot and
    opens a cursor (~0 ms) per query."""
    from contextlib import contextmanager

    from dashboards.queries.serving import ServeFileInvalid, WarehouseNotPublished

    @contextmanager
    def connect(path):
        if not os.path.exists(path):
            raise WarehouseNotPublished(path)
        con = duckdb.connect(str(path), read_only=True, config={"python_enable_replacements": False})
        try:
            yield con
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            raise ServeFileInvalid(f"{path} does not hold what the dashboards read ({exc})") from exc
        finally:
            con.close()

    return connect


def use_connect(connect: Callable[[Any], Any]) -> None:
    """Make every query module connect with `connect`: serving's helpers look `_connect` up in serving, the modules
    that open a connection themselves hold it by name (imported from serving)."""
    import dashboards.queries

    for info in pkgutil.iter_modules(dashboards.queries.__path__):
        module = importlib.import_module(f"dashboards.queries.{info.name}")
        if hasattr(module, "_connect"):
            module._connect = connect


# -- timing ------------------------------------------------------------------------------------------------------


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)], 1)


def time_pages(path: str, runs: int = 30, only: set[str] | None = None) -> dict[str, Any]:
    """p50/p95 (ms) per query and per page; a fresh version per run defeats st.cache_data."""
    ctx = default_context(path)
    out: dict[str, Any] = {}
    for page, calls in pages().items():
        if only and page not in only:
            continue
        bound, skipped = [], {}
        for call in calls:
            run, why = bind(call, ctx)
            if run is None:
                skipped[call.label] = why
            else:
                bound.append((call, run))
        per_query: dict[str, list[float]] = {call.label: [] for call, _ in bound}
        totals: list[float] = []
        errors: dict[str, str] = {}
        for i in range(runs + 1):  # run 0 warms the OS page cache and DuckDB's, not timed
            total = 0.0
            for call, run in bound:
                if call.label in errors:
                    continue
                started = time.perf_counter()
                try:
                    run(("bench", page, i))
                except Exception as exc:  # noqa: BLE001 - a failing query is reported, the bench goes on
                    errors[call.label] = f"{type(exc).__name__}: {exc}"[:300]
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                total += elapsed
                if i:
                    per_query[call.label].append(elapsed)
            if i:
                totals.append(total)
            for call, _ in bound:  # results of old versions would pile up in memory
                getattr(query_function(call), "clear", lambda: None)()
        out[page] = {
            "page_ms": {"p50": round(statistics.median(totals), 1), "p95": _p(totals, 0.95)}
            if totals
            else None,
            "queries_ms": {
                label: {"p50": round(statistics.median(ts), 1), "p95": _p(ts, 0.95)}
                for label, ts in per_query.items()
                if ts
            },
            "skipped": skipped,
            "errors": errors,
        }
    return {
        "selection": {"start": str(ctx.start), "end": str(ctx.end), "shops": "all", "sku": ctx.sku},
        "pages": out,
    }


def report(figures: dict[str, Any]) -> list[str]:
    lines = []
    for page, result in figures["pages"].items():
        page_ms = result["page_ms"]
        verdict = "" if page_ms is None else ("ok" if page_ms["p95"] < TARGET_P95_MS else "MISSES TARGET")
        head = (
            f"{page:16s} page p50 {page_ms['p50']:7.1f} ms  p95 {page_ms['p95']:7.1f} ms  {verdict}"
            if page_ms
            else f"{page:16s} (no query ran)"
        )
        lines.append(head)
        for label, ms in sorted(result["queries_ms"].items(), key=lambda kv: -kv[1]["p95"]):
            lines.append(f"    {label:52s} p50 {ms['p50']:7.1f}  p95 {ms['p95']:7.1f}")
        for label, why in result["skipped"].items():
            lines.append(f"    {label:52s} skipped: {why}")
        for label, why in result["errors"].items():
            lines.append(f"    {label:52s} ERROR: {why}")
    return lines


# -- source warehouse ----------------------------------------------------------------------------------------------


def build_source(directory: Path) -> Path:
    """The test shop (tests/conftest.py SMALL_SHOP ending yesterday) through the whole pipeline: serve.duckdb."""
    import dagster as dg

    from orchestration.cli import run_materialize
    from sandbox.shop.generate import generate
    from tests.conftest import SMALL_SHOP, start_stack, yesterday_local

    world = generate(**{**SMALL_SHOP, "end_date": yesterday_local()})
    stack = start_stack(world, directory)
    try:
        with dg.instance_for_test() as instance:
            run_materialize(stack.settings(), instance=instance)
        return stack.settings().serve_path
    finally:
        for server in stack.servers.values():
            server.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard_queries", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--source",
        type=Path,
        help="a published serve.duckdb to scale (default: $SHOPKEEP_SERVE_PATH, else build the test shop)",
    )
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines in the scaled warehouse")
    parser.add_argument("--periods", type=int, default=9, help="copies of the source's history, back to back")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="write the scaled serve.duckdb here and keep it")
    parser.add_argument("--reuse", action="store_true", help="time --keep as it is (no rescaling)")
    parser.add_argument("--page", action="append", help="only these pages (repeatable)")
    parser.add_argument(
        "--connections",
        choices=["per-query", "per-snapshot", "both"],
        default="per-snapshot",
        help="per-snapshot: dashboards.queries.serving as it is (one DuckDB instance per published snapshot, a cursor per "
        "query); per-query: the what-if of per_query_connect (an instance per query); both: one after the other",
    )
    args = parser.parse_args(argv)

    import streamlit.logger

    streamlit.logger.set_log_level("error")  # "no runtime" / "no script run context" outside `streamlit run`
    from dashboards.queries import serving

    figures: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="bench_dash_") as tmp:
        directory = Path(tmp)
        out = args.keep or directory / "serve.duckdb"
        if not args.reuse:
            source = args.source or (
                Path(os.environ["SHOPKEEP_SERVE_PATH"]) if os.environ.get("SHOPKEEP_SERVE_PATH") else None
            )
            if source is None or not source.exists():
                started = time.perf_counter()
                source = build_source(directory / "source")
                figures["source_build_s"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            figures["warehouse"] = scale_serve_file(source, out, args.lines, args.periods)
            figures["scale_s"] = round(time.perf_counter() - started, 1)
            wh = figures["warehouse"]
            print(
                f"scaled {wh['source']} ({wh['source_order_lines']:,} order lines, {wh['history_days_source']} days) "
                f"x {wh['periods']} periods x {wh['clones']} clones -> "
                f"{wh['rows']['marts.order_line_margins']:,} order lines, {wh['history_days']} days, "
                f"{wh['file_mb']:,} MB in {figures['scale_s']}s"
            )
        only = set(args.page) if args.page else None
        modes = ["per-query", "per-snapshot"] if args.connections == "both" else [args.connections]
        original = serving._connect
        for mode in modes:
            serving.release_snapshots()
            use_connect(per_query_connect() if mode == "per-query" else original)
            try:
                figures[mode] = time_pages(str(out), args.runs, only)
            finally:
                use_connect(original)
            print(
                f"dashboard queries, uncached, {args.runs} runs, connections {mode} "
                f"(ms; target page p95 < {TARGET_P95_MS:.0f}; load average {os.getloadavg()[0]:.1f}):"
            )
            print("\n".join(report(figures[mode])))
    path = save("dashboard_queries", figures)
    print(f"results: {path}")
    return figures


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
