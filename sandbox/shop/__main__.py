"""python -m sandbox.shop --days 540 --orders-per-day 150 --seed 42 --end-date 2026-06-30 --out DIR"""

from __future__ import annotations

import argparse
import time
from datetime import date

from sandbox.shop.generate import generate
from sandbox.shop.product_master import write_product_master_xlsx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.shop", description="Generate the simulated shop.")
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--orders-per-day", type=int, default=150)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end-date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--out", required=True, help="directory for the tables and product_master.xlsx")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    world = generate(seed=args.seed, days=args.days, orders_per_day=args.orders_per_day, end_date=args.end_date)
    out = world.save(args.out)
    write_product_master_xlsx(world, out / "product_master.xlsx")
    for name, frame in world.tables.items():
        print(f"{name:24s} {len(frame):>9,d}")
    print(f"wrote {out} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
