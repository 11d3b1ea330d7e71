"""How close the promotion models' lift comes to the uplift the simulator applied, at a seller's real volume.

The test shop sells a few units of each promoted SKU per promotion, so there a single promotion's lift is mostly
Poisson noise (±70 % and more) whatever the method. Here the real dbt models (`int_weekday_factors`,
`int_promotion_item_days`, `int_promotion_control_days`, `promotion_results`) run on the simulator's demand at
`orders_per_day` (default 20,000, a busy multi-shop seller): the same catalogue, seasons, festivals, launch
ramps, shops and promotion calendar as `generate()` (`sandbox.shop.generate.simulate_demand`), with each
(shop, day, SKU)'s paid lines drawn Poisson from its expected lines and each line's quantity from the simulator's
quantity mix — written straight into the tables those models read (`int_shop_item_days`, the daily components
behind the weekday factors, the product master and the calendar). Order lines, money and stock are not
simulated: the models upstream of `int_shop_item_days` are checked by the end-to-end tests; stock never runs out.

`python -m bench.promotion_lift [--seeds 7 11 42] [--orders-per-day 20000] [--vars JSON]` prints each promotion's lift next to
the truth and writes bench/results/promotion_lift.json. `measure()` is what
tests/analytics/test_promotion_lift_accuracy.py runs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from bench.results import save

REPO = Path(__file__).resolve().parents[1]
MODELS = [
    "int_weekday_factors",
    "int_shop_first_order_dates",
    "int_promotion_window_days",
    "int_promotion_item_days",
    "int_promotion_control_days",
    "promotion_results",
]


def write_inputs(path: Path, seed: int, days: int, orders_per_day: int, end: date) -> pd.DataFrame:
    """The tables the promotion models read, from the simulator's demand; returns the truth per promotion."""
    from sandbox.shop.catalog import SHOPS
    from sandbox.shop.generate import simulate_demand
    from sandbox.shop.orders import NEVER_PAID_SHARE, QUANTITIES, QUANTITY_SHARES

    demand = simulate_demand(seed, days, orders_per_day, end)
    catalog, grid, promos = demand.catalog, demand.grid, demand.promos
    products = catalog.products
    rng = np.random.default_rng([seed, 20261123])
    n_shops, n_days, n_skus = demand.lam.shape
    lines = rng.poisson(demand.lam * (1 - NEVER_PAID_SHARE))
    snack = (catalog.category == "snacks")[None, None, :]
    qty_counts = np.empty((*lines.shape, 3), dtype=np.int64)
    for kind, mask in (("snacks", snack), ("other", ~snack)):
        draws = rng.multinomial(lines, QUANTITY_SHARES[kind])
        qty_counts = np.where(mask[..., None], draws, qty_counts)
    kit_units = catalog.components.sum(axis=1)[
        None, None, :
    ]  # master units per unit sold (1 for a plain SKU)
    units = (qty_counts @ np.array(QUANTITIES)) * kit_units
    units_squared = (qty_counts @ np.array(QUANTITIES) ** 2) * kit_units**2

    shop_ids = np.array([s[0] for s in SHOPS])
    dates = np.array(grid.dates(), dtype="datetime64[D]")
    s_idx, d_idx, k_idx = np.nonzero(lines)
    sku = products["sku"].to_numpy()
    item_days = pd.DataFrame(
        {
            "shop_id": shop_ids[s_idx],
            "item": sku[k_idx],
            "order_date": dates[d_idx],
            "order_lines": lines[s_idx, d_idx, k_idx],
            "units": units[s_idx, d_idx, k_idx],
            "units_squared": units_squared[s_idx, d_idx, k_idx],
        }
    )
    for money in ("net_revenue_cny", "merchant_discount_cny", "contribution_margin_cny"):
        item_days[money] = 0.0
    # the weekday factors are measured on every unit sold (components of kits), one row per shop × item × day
    components = item_days[["shop_id", "item", "order_date", "units"]].rename(columns={"item": "sku"})
    components["order_line_id"] = np.arange(len(components)).astype(str)
    components["kit_sku"] = None
    components["paid_at"] = pd.to_datetime(components["order_date"]).dt.tz_localize("UTC")
    orders = item_days.groupby(["shop_id", "order_date"], as_index=False).size()[["shop_id", "order_date"]]

    table = promos.table.rename(columns={"name": "promo_name", "spend": "spend_cny"})
    promotion_skus = table[["promo_id", "skus"]].assign(sku=table["skus"].str.split(",")).explode("sku")
    promotion_skus["promotion_sku_id"] = promotion_skus["promo_id"] + "|" + promotion_skus["sku"]
    tables = {
        "staging.stg_product_master__promotions": table[
            ["promo_id", "shop_id", "promo_name", "start_date", "end_date", "discount_pct", "spend_cny"]
        ],
        "staging.stg_product_master__promotion_skus": promotion_skus[["promotion_sku_id", "promo_id", "sku"]],
        "staging.stg_product_master__products": pd.DataFrame(
            {"sku": sku, "category": catalog.category, "launched_on": catalog.launched_on}
        ),
        "staging.stg_product_master__kit_components": catalog.kit_components[["kit_sku", "component_sku"]],
        "staging.stg_config__shops": pd.DataFrame({"shop_id": shop_ids}),
        "intermediate.int_sku_stock_days": pd.DataFrame(
            {
                "sku": pd.Series(dtype=str),
                "stock_date": pd.Series(dtype="datetime64[s]"),
                "is_stockout": False,
            }
        ),
        "intermediate.int_orders_unified": orders,
        "intermediate.int_order_line_components": components,
        "intermediate.int_shop_item_days": item_days,
    }
    with duckdb.connect(str(path)) as con:
        for schema in ("staging", "intermediate", "marts"):
            con.execute(f"create schema if not exists {schema}")
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"create or replace table {name} as select * from frame")
            con.unregister("frame")
        for name, column in (
            ("staging.stg_product_master__promotions", "start_date"),
            ("staging.stg_product_master__promotions", "end_date"),
            ("staging.stg_product_master__products", "launched_on"),
            ("intermediate.int_sku_stock_days", "stock_date"),
            ("intermediate.int_orders_unified", "order_date"),
            ("intermediate.int_order_line_components", "order_date"),
            ("intermediate.int_shop_item_days", "order_date"),
        ):
            con.execute(f"alter table {name} alter {column} type date")
        con.execute(
            "alter table staging.stg_product_master__promotions alter discount_pct type decimal(18, 4)"
        )
        con.execute("alter table staging.stg_product_master__promotions alter spend_cny type decimal(18, 2)")
    return promos.truth


def run_models(path: Path, work: Path, as_of: date, dbt_vars: dict | None = None) -> None:
    from analytics.dbt_cli import run_dbt

    variables = json.dumps({"as_of_date": as_of.isoformat(), **(dbt_vars or {})})
    done = run_dbt(path, work, "run", "-s", *MODELS, "--vars", variables)
    if done.returncode != 0:
        raise RuntimeError(f"dbt run of the promotion models failed:\n{done.stdout[-4000:]}")


def measure(
    work: Path,
    seed: int = 7,
    days: int = 365,
    orders_per_day: int = 20_000,
    end: date = date(2026, 6, 30),
    dbt_vars: dict | None = None,
) -> pd.DataFrame:
    """Every finished promotion with a full pre-period: the mart's lift next to the simulator's true uplift."""
    path = work / "build.duckdb"
    truth = write_inputs(path, seed, days, orders_per_day, end)
    run_models(path, work, end, dbt_vars)
    with duckdb.connect(str(path), read_only=True) as con:
        results = con.execute("select * from marts.promotion_results").df()
    frame = results.merge(truth, on="promo_id")
    frame = frame[(frame["status"] == "finished") & frame["has_full_baseline"]].copy()
    frame["relative_error"] = (frame["lift_pct"] - frame["true_lift_pct"]) / frame["true_lift_pct"]
    return frame.reset_index(drop=True)


COLUMNS = [
    "promo_id",
    "shop_id",
    "promo_name",
    "sku_count",
    "promo_units",
    "market_index",
    "sku_drift_index",
    "lift_pct",
    "lift_pct_low",
    "lift_pct_high",
    "true_lift_pct",
    "relative_error",
]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 42])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=20_000)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument(
        "--vars",
        type=json.loads,
        default={},
        help="dbt vars to compare with, e.g. '{\"promo_market_adjustment\": false}' (the spec's plain "
        "pre-period baseline)",
    )
    args = parser.parse_args(argv)
    dbt_vars = args.vars
    report: dict = {
        "orders_per_day": args.orders_per_day,
        "days": args.days,
        "end": args.end.isoformat(),
        "dbt_vars": dbt_vars,
        "runs": [],
    }
    pd.set_option("display.width", 200)
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            frame = measure(Path(tmp), seed, args.days, args.orders_per_day, args.end, dbt_vars)
        within = int((frame["relative_error"].abs() <= 0.2).sum())
        covered = int(
            (
                (frame["lift_pct_low"] <= frame["true_lift_pct"])
                & (frame["true_lift_pct"] <= frame["lift_pct_high"])
            ).sum()
        )
        worst = float(frame["relative_error"].abs().max())
        print(
            f"seed {seed}: {within} of {len(frame)} promotions within 20 % of the true uplift (worst "
            f"{worst:.1%}); the truth inside the 95 % interval for {covered}"
        )
        print(frame[COLUMNS].round(3).to_string(index=False))
        report["runs"].append(
            {
                "seed": seed,
                "promotions": len(frame),
                "within_20pct": within,
                "truth_inside_95pct_interval": covered,
                "max_abs_relative_error": round(worst, 4),
                "rows": json.loads(frame[COLUMNS].round(4).to_json(orient="records")),
            }
        )
    out = save("promotion_lift", report)
    print(f"→ {out.relative_to(REPO)}")
    return report


if __name__ == "__main__":
    main()
