"""`make bench`: how fast the pieces are on this machine, on a shop far bigger than the tests'.

Measures (wall-clock, one run each; figures go to stdout and bench/results/pipeline.json):
- simulator: seconds to generate the shop;
- Shopify pull: orders per second from the sandbox through the connector into DuckDB (throttling generous);
- full materialisation: seconds for ingest, dbt build and publish over every asset;
- Overview queries: p50/p95 of the dashboard's queries on the published file.
Not part of `make test`: performance targets live here, never in timed unit tests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.results import save


def overview_query_times(serve_path: Path, runs: int = 30) -> dict[str, dict[str, float]]:
    """p50/p95 per Overview query; a new version tuple each run defeats st.cache_data, so SQL really runs."""
    from dashboards.queries import core, sales

    path = str(serve_path)
    start, end = sales.date_bounds(path, ("bench", 0))
    shop_ids = tuple(core.shops(path, ("bench", 0))["shop_id"])
    calls = {
        "window_totals": lambda v: sales.window_totals(path, v, ((start, end),), shop_ids),
        "channel_daily": lambda v: sales.channel_daily(path, v, start, end, shop_ids),
        "channel_by_shop": lambda v: sales.channel_by_shop(path, v, start, end, shop_ids),
    }
    out = {}
    for name, call in calls.items():
        times = []
        for i in range(runs):
            t = time.perf_counter()
            call(("bench", i + 1))
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[name] = {
            "p50": round(statistics.median(times), 1),
            "p95": round(times[int(0.95 * (runs - 1))], 1),
        }
    return out


def pull_throughput(stack, settings, directory: Path) -> dict[str, dict[str, float]]:
    """Orders per second from each channel's sandbox through its connector into a fresh DuckDB (no faults)."""
    from connectors.common.loading import warehouse_pipeline
    from orchestration.ingest import channel_connector, connector_kwargs

    out = {}
    for shop in settings.enabled_shops:
        connector = channel_connector(shop.channel)
        kwargs = connector_kwargs(settings, shop, resolve_secrets=True)
        if shop.channel == "shopify":
            kwargs["start_date"] = "2020-01-01"
        pipeline = warehouse_pipeline(
            f"bench_{shop.id}", f"raw_{shop.channel}", directory / f"pull_{shop.id}.duckdb", directory / "dlt"
        )
        started = time.perf_counter()
        connector.load_shop(pipeline, **kwargs)
        elapsed = time.perf_counter() - started
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name("orders")
            with client.execute_query(f"select count(*) from {table}") as cur:
                orders = int(cur.fetchone()[0])
        out[shop.id] = {
            "orders": orders,
            "seconds": round(elapsed, 1),
            "orders_per_s": round(orders / elapsed, 1),
        }
        print(
            f"pull {shop.id}: {orders:,} orders in {elapsed:.1f}s = {out[shop.id]['orders_per_s']} orders/s"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--orders-per-day", type=int, default=600)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--history-days", type=int, default=90, help="the marketplaces' online window")
    parser.add_argument(
        "--only", choices=["pull", "all"], default="all", help="pull: per-channel pull throughput only"
    )
    args = parser.parse_args()

    import dagster as dg

    from orchestration.cli import run_materialize
    from sandbox.shop.generate import generate
    from tests.conftest import start_stack, yesterday_local

    figures: dict[str, object] = vars(args).copy()
    started = time.perf_counter()
    world = generate(
        seed=args.seed, days=args.days, orders_per_day=args.orders_per_day, end_date=yesterday_local()
    )
    figures["generate_s"] = round(time.perf_counter() - started, 2)
    figures["orders"] = len(world.orders)
    print(f"simulator: {len(world.orders):,} orders in {figures['generate_s']}s")

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        stack = start_stack(world, directory, history_days=args.history_days)
        try:
            settings = stack.settings()
            figures["pull"] = pull_throughput(stack, settings, directory)
            if args.only == "pull":
                return _save(figures)
            started = time.perf_counter()
            with dg.instance_for_test() as instance:
                run_materialize(settings, instance=instance)
            figures["materialize_all_s"] = round(time.perf_counter() - started, 1)
            print(f"full materialisation (ingest, dbt build, publish): {figures['materialize_all_s']}s")
            figures["overview_queries_ms"] = overview_query_times(settings.serve_path)
            print(f"overview queries (ms, uncached): {figures['overview_queries_ms']}")
        finally:
            for server in stack.servers.values():
                server.stop()

    _save(figures)


def _save(figures: dict) -> None:
    out = save("pipeline", figures)
    print(f"results: {out}")


if __name__ == "__main__":
    main()
