"""How often the return-hotspot test cries wolf, and how often it finds the hotspot the simulator injected.

`marts/return_shop_comparison` flags a SKU × shop whose size-return rate is significantly above the SKU's other
shops (one-sided two-proportion z-test, Bonferroni over the rated rows at `return_hotspot_alpha`) and at least
`return_hotspot_gap` above them. Here the real model's SQL (compiled once by dbt) runs on many simulated worlds,
each generated with its own seed (`sandbox.shop.generate.generate`, the test shop's size by default), its paid
order lines and return cases written straight into the tables the model reads (`int_order_line_components`,
`int_return_components`, the product master). Per world: is the injected hotspot flagged (detection) and is any
other SKU × shop flagged (a false alarm)? The simulator's shops do differ in how much they return (Douyin's
buyers return more than Shopify's), so a false alarm here is any flag the simulator did not inject.

The earlier rule (a 10-point gap on 30 units, no test) is computed beside it from the same rows.

`python -m bench.return_hotspots [--seeds N] [--orders-per-day 60] [--days 120]` prints both rates and writes
bench/results/return_hotspots.json. `measure()` is what tests/analytics/test_returns.py runs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from bench.results import save

REPO = Path(__file__).resolve().parents[1]
MODEL = "return_shop_comparison"
END = date(2026, 6, 30)


def model_inputs(world) -> dict[str, pd.DataFrame]:
    """The three relations the model reads, from one world: paid lines in master-SKU units (kits exploded into
    components) and return cases per component, each with its order's local date."""
    orders = world.orders[["order_id", "paid_at", "created_at"]]
    lines = world.order_lines[["shop_id", "order_id", "line_id", "sku", "quantity"]].merge(
        orders, on="order_id"
    )
    lines["order_date"] = lines["created_at"].dt.tz_convert("Asia/Shanghai").dt.date
    kits = world.kit_components.rename(columns={"kit_sku": "sku", "quantity": "per_kit"})
    exploded = lines.merge(kits, on="sku", how="left")
    is_kit = exploded["component_sku"].notna()
    exploded["component"] = exploded["component_sku"].where(is_kit, exploded["sku"])
    exploded["units"] = exploded["quantity"] * exploded["per_kit"].where(is_kit, 1).astype(int)
    components = exploded.rename(columns={"component": "sku_component"})[
        ["line_id", "shop_id", "sku_component", "order_date", "paid_at", "units", "quantity"]
    ].rename(columns={"sku_component": "sku"})
    refunds = world.refunds[["line_id", "quantity", "reason", "status"]].rename(
        columns={"quantity": "refunded"}
    )
    returns = refunds.merge(components, on="line_id")
    returns["units_returned"] = (returns["refunded"] * returns["units"] // returns["quantity"]).astype(int)
    returns["is_counted"] = returns["status"] != "closed"
    returns["is_mapped"] = True  # every world line is under a master SKU
    returns = returns.rename(columns={"reason": "reason_code"})
    products = world.products[["sku", "category", "name"]].rename(columns={"name": "product_name"})
    return {
        "intermediate.int_order_line_components": components[
            ["sku", "shop_id", "order_date", "paid_at", "units"]
        ],
        "intermediate.int_return_components": returns[
            ["sku", "shop_id", "order_date", "reason_code", "is_counted", "is_mapped", "units_returned"]
        ],
        "staging.stg_product_master__products": products,
    }


def compiled_sql(work: Path, end: date, dbt_vars: dict | None = None) -> str:
    """The model's SQL as dbt compiles it for `end` (refs point at the build file's schemas)."""
    from analytics.dbt_cli import run_dbt

    build = work / "build.duckdb"
    duckdb.connect(str(build)).close()
    variables = json.dumps({"as_of_date": end.isoformat(), **(dbt_vars or {})})
    done = run_dbt(build, work, "compile", "-s", MODEL, "--vars", variables)
    if done.returncode != 0:
        raise RuntimeError(f"dbt compile of {MODEL} failed:\n{done.stdout[-4000:]}")
    (path,) = (work / "target" / "compiled").rglob(f"{MODEL}.sql")
    return path.read_text(encoding="utf-8")


def run_world(sql: str, work: Path, world) -> pd.DataFrame:
    """The model's rows for one world (a fresh build file holding only its inputs)."""
    build = work / "build.duckdb"
    build.unlink(missing_ok=True)
    with duckdb.connect(str(build)) as con:
        for schema in ("staging", "intermediate"):
            con.execute(f"create schema {schema}")
        for name, frame in model_inputs(world).items():
            con.register("frame", frame)
            con.execute(f"create table {name} as select * from frame")
            con.unregister("frame")
            if "order_date" in frame:
                con.execute(f"alter table {name} alter order_date type date")
        return con.execute(sql).df()


def measure(
    work: Path,
    seeds: list[int],
    days: int = 120,
    orders_per_day: int = 60,
    end: date = END,
    dbt_vars: dict | None = None,
    min_units: int = 30,
    gap: float = 0.10,
) -> pd.DataFrame:
    """One row per world: rated rows, whether the injected hotspot was flagged, and the other flags — by the
    model's test and by the earlier gap-only rule (`min_units`, `gap`: the model's defaults)."""
    from sandbox.shop.generate import generate

    sql = compiled_sql(work, end, dbt_vars)
    rows = []
    for seed in seeds:
        world = generate(seed=seed, days=days, orders_per_day=orders_per_day, end_date=end)
        truth = world.truth_flags[world.truth_flags["kind"] == "size_return_hotspot"]
        injected = {(f.sku, f.shop_id) for f in truth.itertuples()}
        frame = run_world(sql, work, world)
        gap_only = (
            (frame["units_sold"] >= min_units)
            & (frame["other_shops_units_sold"] >= min_units)
            & (frame["size_return_rate_gap"] >= gap)
        )
        flagged = {(r.sku, r.shop_id) for r in frame[frame["is_return_hotspot"]].itertuples()}
        flagged_gap_only = {(r.sku, r.shop_id) for r in frame[gap_only].itertuples()}
        rows.append(
            {
                "seed": seed,
                "rated": int(
                    (frame["units_sold"].ge(min_units) & frame["other_shops_units_sold"].ge(min_units)).sum()
                ),
                "p_threshold": float(frame["hotspot_p_threshold"].iloc[0]),
                "detected": injected <= flagged,
                "false_flags": sorted(flagged - injected),
                "gap_only_detected": injected <= flagged_gap_only,
                "gap_only_false_flags": sorted(flagged_gap_only - injected),
            }
        )
    return pd.DataFrame(rows)


def summary(frame: pd.DataFrame) -> dict:
    worlds = len(frame)
    return {
        "worlds": worlds,
        "detection_rate": float(frame["detected"].mean()),
        "worlds_with_a_false_flag": float((frame["false_flags"].str.len() > 0).mean()),
        "false_flags_per_world": float(frame["false_flags"].str.len().mean()),
        "gap_only_detection_rate": float(frame["gap_only_detected"].mean()),
        "gap_only_worlds_with_a_false_flag": float((frame["gap_only_false_flags"].str.len() > 0).mean()),
        "gap_only_false_flags_per_world": float(frame["gap_only_false_flags"].str.len().mean()),
        "rated_rows_per_world": float(frame["rated"].mean()),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="how many worlds (seeds 1..N)")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--orders-per-day", type=int, default=60)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        frame = measure(Path(tmp), list(range(1, args.seeds + 1)), args.days, args.orders_per_day)
    report = {
        "days": args.days,
        "orders_per_day": args.orders_per_day,
        "end": END.isoformat(),
        **summary(frame),
    }
    print(
        f"{report['worlds']} worlds ({args.orders_per_day} orders/day, {args.days} days): the test finds the "
        f"injected hotspot in {report['detection_rate']:.1%} and flags something else in "
        f"{report['worlds_with_a_false_flag']:.1%} ({report['false_flags_per_world']:.3f} false flags a world); "
        f"the gap-only rule: {report['gap_only_detection_rate']:.1%} and {report['gap_only_worlds_with_a_false_flag']:.1%} "
        f"({report['gap_only_false_flags_per_world']:.3f} a world)"
    )
    report["per_world"] = json.loads(frame.to_json(orient="records"))
    out = save("return_hotspots", report)
    print(f"→ {out.relative_to(REPO)}")
    return report


if __name__ == "__main__":
    main()
