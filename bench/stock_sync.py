"""`python -m bench.stock_sync`: how fast stock sync plans and pushes, and how long a stock change takes to reach
every channel, on the simulated shop's five channel sandboxes (figures to stdout and bench/results/stock_sync.json).

Measured (wall clock, after one materialisation of the shop):
- **plan**: seconds to plan every listing from the published snapshot (a dry run), median of 5;
- **push**: a rule that changes every listing (10 % of stock, then 15 %: low enough that the five shops sharing
  a warehouse are not short, so every listing changes) pushed to all five sandboxes; per
  channel the pushes, the platform calls they took (a Taobao batch call carries up to 20 SKUs of one item),
  seconds, pushes per second and each call's latency p50/p95. Shopify runs on a standard store's REST limits
  (a bucket of 40 calls leaking 2 a second) unless `--shopify-plus` (400 and 20);
- **stock change → every channel updated** (the lean path, `[stock_sync] push = "continuous"`): a receipt of 20
  units of a SKU listed in all five shops is recorded in the WMS sandbox; then the sensor's look
  (`look_for_stock_changes`: the WMS's new movements, every listing read back) and the run it asks for,
  `dagster job execute -j stock_lean_sync` in a new process as the daemon's run launcher starts it (imports,
  the code location, the plan and the pushes). Timed from the movement to the run's end, p50/p95 over
  `--changes` changes, each checked: all five listings went up by the receipt. The sensor looks every
  `watch_seconds` (15), so a change waits up to that long more before its look; the target is 60 s in all.

Not part of `make test`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
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


def lean_path(stack, tmp: Path, changes: int) -> dict:
    """Stock change -> all five channels on the lean path (see the module), `changes` times."""
    import os
    import subprocess
    import sys

    import duckdb
    import httpx

    from orchestration.settings import load_settings
    from orchestration.writeback import look_for_stock_changes, run_stock_sync, stock_writers
    from writeback.stock.sync import listing_address

    config = tmp / "continuous.toml"
    config.write_text(stack.config_path.read_text() + '\n[stock_sync]\npush = "continuous"\n')
    settings = load_settings(config)
    run_stock_sync(settings, dry_run=False)  # every channel lists the plan
    look_for_stock_changes(settings)  # what they list is seen
    with duckdb.connect(str(settings.serve_path), read_only=True) as con:
        listings = con.execute(
            "select * from marts.channel_listings where is_mapped and not is_kit and sku in ("
            "  select sku from marts.channel_listings where is_mapped group by sku"
            "  having count(distinct shop_id) = 5 and count(*) = 5) order by sku, shop_id"
        ).df()
        stocked = dict(con.execute(
            "select sku, min(warehouse_id) from marts.inventory_health_by_warehouse group by sku"
        ).fetchall())  # fmt: skip
        counted_until = con.execute(
            "select max(stock_counted_until) from marts.inventory_health_by_warehouse"
        ).fetchone()[0]
    skus = [sku for sku in dict.fromkeys(listings["sku"]) if sku in stocked][:changes]
    writers = stock_writers(settings)
    env = {**os.environ, "SHOPKEEP_CONFIG": str(config), "DAGSTER_HOME": str(tmp / "dagster_home")}
    (tmp / "dagster_home").mkdir(exist_ok=True)
    wms = stack.servers["wms"].url
    httpx.post(f"{wms}/_sandbox/clock", json={"now": (counted_until + timedelta(hours=1)).isoformat()})

    def listed(sku: str) -> list[int | None]:
        rows = listings[listings["sku"] == sku]
        return [writers[shop].read_many([listing_address(row)])[0] for shop, (_, row) in zip(
            rows["shop_id"], rows.iterrows(), strict=True)]  # fmt: skip

    looks, runs, totals = [], [], []
    for sku in skus:
        before = listed(sku)
        httpx.post(f"{wms}/_sandbox/movements", json={"warehouse": stocked[sku], "merchant_code": sku,
                                                      "quantity": 20})  # fmt: skip
        started = time.perf_counter()
        found = look_for_stock_changes(settings)
        looks.append(time.perf_counter() - started)
        assert sku in found.dirty, (sku, found)
        ran = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dagster", "job", "execute", "-m", "orchestration.definitions",
             "-j", "stock_lean_sync"], env=env, check=True, capture_output=True,
        )  # fmt: skip
        runs.append(time.perf_counter() - ran)
        totals.append(time.perf_counter() - started)
        after = listed(sku)
        assert all(a > b for a, b in zip(after, before, strict=True)), (sku, before, after)
        print(f"{sku}: +20 received -> five channels {before} -> {after} in {totals[-1]:.1f} s "
              f"(look {looks[-1]:.1f} s, run {runs[-1]:.1f} s)")  # fmt: skip
    return {
        "look": _quantiles(looks), "run": _quantiles(runs), **_quantiles(totals), "changes": len(totals),
        "plus_sensor_interval_s": settings.stock_sync.watch_seconds, "target": 60,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stock_sync")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--orders-per-day", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--changes", type=int, default=5, help="stock changes timed on the lean path")
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

            figures["stock_change_to_channels_s"] = lean_path(stack, Path(tmp), args.changes)
        finally:
            for server in stack.servers.values():
                server.stop()
    print(f"results: {save('stock_sync', figures)}")


if __name__ == "__main__":
    main()
