"""`python -m bench.file_import [--rows N]`: how long one big export takes to import, and the peak memory.

Writes a WooCommerce-style order export of N lines (English headers, US dates, one row per order line; ≈110 bytes
a row, so 2,000,000 rows ≈ 200 MB) and its mapping into a temporary folder, then imports it with
`connectors.files.source.import_files` into a fresh DuckDB file, timing the whole import (read, check, load), then
the same folder again (the hourly run's case: the unchanged file comes from the parse cache), and the process's
peak resident memory. Results print and go to bench/results/file_import.json.
Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.results import save

MAPPING = """
name: bench_woo_orders
entity: orders
shops: [woo_*]
timezone: America/Los_Angeles
columns:
  - {header: Order Number, name: order_id}
  - {header: Order Status, name: order_status, map: {Completed: completed, Processing: paid, Cancelled: cancelled,
     Refunded: refunded}}
  - {header: Order Date, name: created_at, format: '%m/%d/%Y %H:%M'}
  - {header: Paid Date, name: paid_at, format: '%m/%d/%Y %H:%M'}
  - {header: Customer Email, name: buyer_id_hash}
  - {header: Order Shipping, name: shipping_amount}
  - {header: Order Currency, name: currency}
  - {header: SKU, name: outer_id}
  - {header: Item Name, name: title}
  - {header: Quantity, name: quantity, min: 1}
  - {header: Item Cost, name: unit_price, min: 0}
"""


def write_export(path: Path, rows: int, seed: int = 7) -> None:
    """`rows` order lines (1–3 per order) over three years."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1)
    statuses = ["Completed"] * 6 + ["Processing", "Cancelled", "Refunded"]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Order Number,Order Status,Order Date,Paid Date,Customer Email,Order Shipping,Order Currency,"
                  "SKU,Item Name,Quantity,Item Cost\n")  # fmt: skip
        written, order = 0, 100000
        while written < rows:
            order += 1
            created = start + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
            stamp = created.strftime("%m/%d/%Y %H:%M")
            status = rng.choice(statuses)
            buyer = f"buyer{rng.randrange(200000)}@example.com"
            for line in range(min(rng.randint(1, 3), rows - written)):
                sku = f"SKU-{rng.randrange(2000):04d}"
                out.write(f"{order},{status},{stamp},{stamp},{buyer},8.00,USD,{sku},Item {sku} line {line},"
                          f"{rng.randint(1, 4)},{rng.randrange(500, 30000) / 100:.2f}\n")  # fmt: skip
                written += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    from connectors.files.source import files_pipeline, import_files

    with tempfile.TemporaryDirectory(prefix="shopkeep-bench-files-") as tmp:
        root = Path(tmp)
        (root / "exports").mkdir()
        (root / "mappings").mkdir()
        (root / "mappings" / "woo.yaml").write_text(MAPPING, encoding="utf-8")
        export = root / "exports" / "woo_store__orders.csv"
        started = time.perf_counter()
        write_export(export, args.rows)
        generated = time.perf_counter() - started
        pipeline = files_pipeline(root / "build.duckdb", root / "dlt")
        timings = []
        for _ in range(2):  # the first import parses; the second finds the unchanged file in the parse cache
            started = time.perf_counter()
            import_files(pipeline, directory=root / "exports", mappings_dir=root / "mappings", pii_salt="bench",
                         shops={"woo_store": "shopify"}, cache_dir=root / "dlt" / "files_cache")  # fmt: skip
            timings.append(time.perf_counter() - started)
        seconds = timings[0]
        import duckdb

        with duckdb.connect(str(root / "build.duckdb"), read_only=True) as con:
            (loaded,) = con.execute("select count(*) from raw_files.orders").fetchone()
            (aside,) = con.execute("select count(*) from raw_files.quarantine").fetchone()
        result = {
            "rows": args.rows,
            "file_mb": round(export.stat().st_size / 2**20, 1),
            "generate_s": round(generated, 1),
            "import_s": round(seconds, 1),
            "rows_per_s": round(args.rows / seconds),
            "reimport_unchanged_s": round(timings[1], 1),
            "loaded": loaded,
            "set_aside": aside,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    print(json.dumps(result, indent=2))
    save("file_import", result)


if __name__ == "__main__":
    main()
