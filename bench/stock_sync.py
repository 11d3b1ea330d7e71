"""`python -m bench.stock_sync`: how fast stock sync plans and pushes, and how long a stock change takes to reach
every channel, on the simulated shop's five channel sandboxes (figures to stdout and bench/results/stock_sync.json).

Measured (wall clock, after one materialisation of the shop):
- **plan**: seconds to plan every listing from the published snapshot (a dry run), median of 5;
- **push**: a rule that changes every listing (10 % of stock, then 15 %: low enough that the five shops sharing
  a warehouse are not short, so every listing changes) pushed to all five sandboxes; per
  channel the pushes, the platform calls they took (a Taobao batch call carries up to 20 SKUs of one item),
  seconds, pushes per second and each call's latency p50/p95. Shopify runs on a standard store's REST limits
  (a bucket of 40 calls leaking 2 a second) unless `--shopify-plus` (400 and 20);
- **stock change → every channel updated**: there is no lean path yet, so a change in the WMS reaches the
  channels with the next hourly cycle — incremental ingest, dbt build, publish, then the push after the build
  (`[stock_sync] push = "after_build"`). Its duration, p50/p95 over `--cycles` runs, is the latency a stock
  change waits at most after the cycle starts; the target is 60 s.

Not part of `make test`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.results import save


def _quantiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
    }


def _original_taobao_batch():
    import connectors.taobao.stock as taobao_stock

    return taobao_stock.set_stock_batch


_TAOBAO_BATCH = _original_taobao_batch()


def timed_writers(settings) -> tuple[dict, dict[str, list[float]]]:
    """Each shop's StockWriter, with every platform call it makes timed (per shop, seconds per call)."""
    import connectors.taobao.stock as taobao_stock
    from orchestration.writeback import stock_writers

    calls: dict[str, list[float]] = {}
    writers = stock_writers(settings)
    for shop_id, writer in writers.items():
        calls[shop_id] = []

        def timed(function, shop_id=shop_id):
            def call(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    calls[shop_id].append(time.perf_counter() - started)

            return call

        writer.set_stock = timed(writer.set_stock)  # the single-SKU calls (set_many's default loop uses it)
        if shop_id in {s.id for s in settings.enabled_shops if s.channel == "taobao"}:
            taobao_stock.set_stock_batch = timed(_TAOBAO_BATCH)  # the batch calls (one item's SKUs)
    return writers, calls


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stock_sync")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--orders-per-day", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cycles", type=int, default=3, help="hourly cycles timed for stock change -> channels"
    )
    parser.add_argument("--shopify-plus", action="store_true", help="Shopify on Shopify Plus's REST limits")
    args = parser.parse_args()

    import dagster as dg

    from orchestration.cli import run_materialize
    from orchestration.writeback import run_stock_sync
    from sandbox.shop.generate import generate
    from tests.conftest import start_stack, yesterday_local
    from writeback.stock.rules import Rule
    from writeback.stock.sync import sync

    figures: dict[str, object] = vars(args).copy()
    world = generate(
        seed=args.seed, days=args.days, orders_per_day=args.orders_per_day, end_date=yesterday_local()
    )
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(world, Path(tmp), shopify_plus=args.shopify_plus)
        try:
            settings = stack.settings()
            started = time.perf_counter()
            run_materialize(settings, instance=dg.DagsterInstance.ephemeral())
            figures["first_materialize_s"] = round(time.perf_counter() - started, 1)
            print(f"first materialisation: {figures['first_materialize_s']} s")

            plans = []
            for _ in range(5):
                started = time.perf_counter()
                plan = run_stock_sync(settings).frame()
                plans.append(time.perf_counter() - started)
            figures["listings"] = len(plan)
            figures["plan_s"] = round(statistics.median(plans), 3)
            print(f"plan: {len(plan):,} listings in {figures['plan_s']} s (median of 5)")

            pushes: dict[str, dict] = {}
            for percent in (10, 15):
                rules = (Rule("bench", percent=percent),)
                writers, calls = timed_writers(settings)
                started = time.perf_counter()
                result = sync(
                    settings.serve_path, settings.ops_path, writers, list(rules),
                    safety_buffer=settings.stock_sync.safety_buffer, dry_run=False, mode="manual",
                )  # fmt: skip
                elapsed = time.perf_counter() - started
                for shop_id, seconds in calls.items():
                    mine = [p for p in result.pushed if p["shop_id"] == shop_id]
                    spent = sum(seconds)
                    pushes[f"{shop_id}@{percent}%"] = {
                        "pushes": len(mine),
                        "failed": sum(1 for p in mine if not p["ok"]),
                        "calls": len(seconds),
                        "seconds": round(spent, 2),
                        "pushes_per_s": round(len(mine) / spent, 1) if spent else None,
                        "call_latency_s": _quantiles(seconds) if seconds else None,
                    }
                    print(f"push {shop_id} ({percent} %): {pushes[f'{shop_id}@{percent}%']}")
                print(f"push of {len(result.pushed):,} listing changes to five channels: {elapsed:.1f} s")
                figures[f"push_all_{percent}_s"] = round(elapsed, 1)
            figures["push"] = pushes

            cycles = []
            automatic = replace(settings, stock_sync=replace(settings.stock_sync, push="after_build"))
            for n in range(args.cycles):
                percent = 12 if n % 2 == 0 else 18  # every cycle changes what is listed
                cycle = replace(
                    automatic,
                    stock_sync=replace(automatic.stock_sync, rules=(Rule("bench", percent=percent),)),
                )
                started = time.perf_counter()
                run_materialize(cycle, instance=dg.DagsterInstance.ephemeral())
                cycles.append(time.perf_counter() - started)
                print(f"cycle {n + 1}: ingest, build, publish and push in {cycles[-1]:.1f} s")
            figures["stock_change_to_channels_s"] = {**_quantiles(cycles), "target": 60, "runs": len(cycles)}
        finally:
            for server in stack.servers.values():
                server.stop()
    print(f"results: {save('stock_sync', figures)}")


if __name__ == "__main__":
    main()
