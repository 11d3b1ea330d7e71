"""`make bench`: how fast the pieces are on this machine, on a shop far bigger than the tests'.

Measures (wall-clock, one run each; figures go to stdout and bench/results/<timestamp>.json):
- simulator: seconds to generate the shop;
- Shopify pull: orders per second from the sandbox through the connector into DuckDB (throttling generous);
- full materialisation: seconds for ingest, dbt build and publish over every asset;
- Overview queries: p50/p95 of the dashboard's queries on the published file.
Not part of `make test`: performance targets live here, never in timed unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def overview_query_times(queries, serve_path: Path, runs: int = 30) -> dict[str, dict[str, float]]:
    """p50/p95 per Overview query; a new version tuple each run defeats st.cache_data, so SQL really runs."""
    path = str(serve_path)
    start, end = queries.date_bounds(path, ("bench", 0))
    shop_ids = tuple(queries.shops(path, ("bench", 0))["shop_id"])
    calls = {
        "kpis": lambda v: queries.kpis(path, v, start, end, shop_ids),
        "daily_by_shop": lambda v: queries.daily_by_shop(path, v, start, end, shop_ids),
        "by_shop": lambda v: queries.by_shop(path, v, start, end, shop_ids),
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--orders-per-day", type=int, default=600)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    import dagster as dg

    from connectors.common.loading import warehouse_pipeline
    from connectors.shopify.source import shopify_source
    from dashboards import queries
    from orchestration.definitions import build_definitions
    from sandbox import runner, shopify, wms
    from sandbox.shop.generate import generate
    from sandbox.shop.product_master import write_product_master_xlsx
    from tests.conftest import TOKENS, write_config

    figures: dict[str, object] = {"days": args.days, "orders_per_day": args.orders_per_day, "seed": args.seed}
    for key, value in TOKENS.items():
        os.environ[key] = value

    started = time.perf_counter()
    world = generate(
        seed=args.seed, days=args.days, orders_per_day=args.orders_per_day, end_date=date(2026, 6, 30)
    )
    figures["generate_s"] = round(time.perf_counter() - started, 2)
    figures["orders"] = len(world.orders)
    print(f"simulator: {len(world.orders):,} orders in {figures['generate_s']}s")

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        shop = runner.start(
            shopify.create_app(world, shop_id="shopify_global", token=TOKENS["SHOPIFY_GLOBAL_TOKEN"],
                               bucket_size=400, leak_per_second=200.0),
            "shopify",
        )  # fmt: skip
        stock = runner.start(wms.create_app(world, token=TOKENS["WMS_TOKEN"]), "wms")
        try:
            pipeline = warehouse_pipeline(
                "bench_shopify", "raw_shopify", directory / "pull.duckdb", directory / "dlt"
            )
            source = shopify_source(shop_id="shopify_global", base_url=shop.url, token=TOKENS["SHOPIFY_GLOBAL_TOKEN"],
                                    pii_salt=TOKENS["SHOPKEEP_PII_SALT"], start_date="2020-01-01")  # fmt: skip
            started = time.perf_counter()
            pipeline.run(source.with_resources("orders"))
            elapsed = time.perf_counter() - started
            pulled = pipeline.last_trace.last_normalize_info.row_counts.get("orders", 0)
            figures["shopify_orders_pulled"] = pulled
            figures["shopify_orders_per_s"] = round(pulled / elapsed, 1)
            print(
                f"shopify pull: {pulled:,} orders in {elapsed:.1f}s = {figures['shopify_orders_per_s']} orders/s"
            )

            product_master = directory / "product_master.xlsx"
            write_product_master_xlsx(world, product_master)
            config = write_config(directory, shop.url, stock.url, product_master)
            from orchestration.settings import load_settings

            settings = load_settings(config)
            os.environ["DAGSTER_HOME"] = str(directory)
            defs = build_definitions(settings)
            started = time.perf_counter()
            with dg.instance_for_test() as instance:
                assert (
                    defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance).success
                )
            figures["materialize_all_s"] = round(time.perf_counter() - started, 1)
            print(f"full materialisation: {figures['materialize_all_s']}s")

            figures["overview_queries_ms"] = overview_query_times(queries, settings.serve_path)
            print(f"overview queries (ms, uncached): {figures['overview_queries_ms']}")
        finally:
            shop.stop()
            stock.stop()

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(figures, indent=2))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
