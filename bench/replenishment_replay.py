"""Replay of the replenishment policy through the simulator's demand (`make bench`; not a test: it is slow).

The simulator (sandbox/shop) is run exactly as `generate()` runs it, up to its stock simulation, for
`history + replay` days; its uncensored demand (every paid candidate order line, kits exploded into their
components) is what customers want each day. After `history` days, two policies face the same demand for `warmup` days (not measured: the longest lead
time plus a review period, so that what is measured follows from each policy's own orders) and then `replay`
measured days:

- **forecast** — the real dbt models: on every review day (every `review_period_days`, 7) a small DuckDB
  warehouse is refreshed with what the seller would know that morning (sales served so far, closing stock per
  day as WMS snapshots, open purchase orders, products, suppliers, the promotion calendar) and
  `dbt run -s int_sku_demand_daily+ … replenishment_suggestions --vars {as_of_date: <day>}` computes the
  suggestions; every suggested quantity is ordered.
- **naive** — "reorder the last 28 days' sales": on the same review days, when a SKU's position (stock + on
  order) is below what it sold in the last 28 days, order that quantity (rounded up to MOQ and pack size, like
  any real purchase order). A second reading, "order up to the last 28 days' sales", is reported too.

Both start from the simulator's own closing stock on the first replay day with nothing on order. Purchase
orders arrive after the SKU's nominal lead time (`--supplier-delays` draws the simulator's delays instead:
90 % −1..+3 days, 10 % +5..+10); a receipt on a review day is not in that morning's snapshot (yesterday's
close), so its purchase order still counts as on order. Each day: receipts, then (review days) ordering, then demand is served from
stock; what cannot be served is lost. Components of a kit are served independently (the simulator sells a kit
only when every component is there). Starved suppliers and dead-stock overbuys are not replayed: they are
faults of the simulated past, not of the policy.

Reported: fill rate (units served / units demanded) and average stock (units and CNY at the master unit cost)
per policy, plus the forecasting model's run time per review. Figures to stdout and bench/results/.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from bench.results import save

REPO = Path(__file__).resolve().parents[1]
MODELS = [
    "int_sku_demand_daily",
    "int_sku_shop_promo_lifts",
    "int_sku_baseline_forecasts",
    "int_sku_stock_positions",
    "demand_forecasts",
    "demand_forecast_summary",
    "replenishment_suggestions",
]


@dataclass
class Simulated:
    """What the replay needs from the simulator."""

    dates: list[date]
    sku: np.ndarray  # all product codes (kits included)
    stocked: np.ndarray  # bool per product
    shop_ids: list[str]
    demand: np.ndarray  # (days x shops x products) component units wanted (paid candidate lines)
    opening_stock: (
        np.ndarray
    )  # (days x products) simulator's closing stock of the previous day, all warehouses
    products: pd.DataFrame
    suppliers: pd.DataFrame
    promotions: pd.DataFrame
    lead: np.ndarray
    moq: np.ndarray
    pack: np.ndarray
    unit_cost: np.ndarray  # CNY
    replay_days: int = 0


def simulate(seed: int, days: int, orders_per_day: int, end: date) -> Simulated:
    """generate()'s own steps up to the stock simulation (sandbox.shop.generate.simulate_core: the same shop)."""
    from sandbox.shop.catalog import SHOPS
    from sandbox.shop.generate import simulate_core

    core = simulate_core(seed, days, orders_per_day, end)
    grid, catalog, cand, stock, promos = core.grid, core.catalog, core.cand, core.stock, core.promos
    n = len(catalog.products)

    demand = np.zeros((grid.n, len(SHOPS), n))
    paid = cand.o_paid[cand.l_order] >= 0
    line_day = cand.o_day[cand.l_order][paid]
    line_shop = cand.o_shop[cand.l_order][paid]
    units = catalog.components[cand.l_sku[paid]] * cand.l_qty[paid, None]  # lines x products
    np.add.at(demand, (line_day, line_shop), units)
    closing = stock.closing.sum(axis=1)  # days x products
    opening = np.vstack([closing[:1] * 0, closing[:-1]])

    products = catalog.products
    suppliers = catalog.suppliers
    lead = catalog.lead_time.astype(int)
    moq = products["moq"].fillna(0).to_numpy(int)
    return Simulated(
        dates=grid.dates(),
        sku=products["sku"].to_numpy(),
        stocked=~catalog.is_kit,
        shop_ids=[s[0] for s in SHOPS],
        demand=demand,
        opening_stock=opening,
        products=products,
        suppliers=suppliers,
        promotions=promos.table,
        lead=lead,
        moq=moq,
        pack=np.maximum(products["pack_size"].to_numpy(int), 1),
        unit_cost=catalog.cost_cents / 100.0,
    )


@dataclass
class Policy:
    name: str
    on_hand: np.ndarray
    arrivals: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)  # day -> (sku, qty, po)
    served: list[np.ndarray] = field(default_factory=list)  # per replay day, per shop x product
    closing: list[np.ndarray] = field(default_factory=list)
    orders: list[tuple[int, int, int, str]] = field(default_factory=list)  # (day, sku, qty, po)
    wanted: float = 0.0
    got: float = 0.0

    def on_order(self, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        for batch in self.arrivals.values():
            for s, q, _ in batch:
                out[s] += q
        return out


def round_order(qty: np.ndarray, moq: np.ndarray, pack: np.ndarray) -> np.ndarray:
    return (np.ceil(np.maximum(qty, moq) / pack) * pack).astype(np.int64)


def write_warehouse(
    path: Path,
    sim: Simulated,
    day: int,
    start: int,
    policy: Policy,
    arriving: list[tuple[int, int, str]] = (),
) -> None:
    """The seller's knowledge on the morning of `day`: the tables the forecast models read. `arriving` is what is
    received that day: not in the morning snapshot (yesterday's close), so its purchase orders are still open."""
    stocked = np.flatnonzero(sim.stocked)
    products = sim.products.rename(columns={"name": "product_name"}).copy()
    products["unit_cost"] = products["unit_cost"].astype(float)
    products["lead_time_days"] = products["lead_time_days"].astype("Int64")
    products = products[
        [
            "sku",
            "product_name",
            "category",
            "supplier_id",
            "unit_cost",
            "pack_size",
            "moq",
            "lead_time_days",
            "is_kit",
            "launched_on",
        ]
    ]
    suppliers = sim.suppliers.rename(columns={"name": "supplier_name"})[
        ["supplier_id", "supplier_name", "lead_time_days", "moq", "currency"]
    ]
    promos = sim.promotions.rename(columns={"name": "promo_name"})
    promotion_skus = (
        promos[["promo_id", "skus"]]
        .assign(sku=promos["skus"].str.split(","))
        .explode("sku")[["promo_id", "sku"]]
    )
    promotions = promos[["promo_id", "shop_id", "promo_name", "start_date", "end_date"]]

    # sales the seller saw: the simulator's demand before the replay (its own stock served it), then what this
    # policy served
    rows = []
    for d in range(day):
        block = sim.demand[d] if d < start else policy.served[d - start]
        shops, skus = np.nonzero(block)
        if len(skus):
            rows.append(
                pd.DataFrame(
                    {
                        "shop_id": np.array(sim.shop_ids)[shops],
                        "sku": sim.sku[skus],
                        "order_date": sim.dates[d],
                        "units": block[shops, skus].astype(int),
                    }
                )
            )
    sales = pd.concat(rows, ignore_index=True)
    sales = sales[sales["units"] > 0]
    sales["order_id"] = [f"o{i}" for i in range(len(sales))]
    sales["paid_at"] = (
        pd.to_datetime(sales["order_date"]).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    )
    sales["refunded_units"] = 0
    sales["order_status"] = "completed"

    # the history before the replay is the simulator's uncensored demand: in stock every day (on_hand 1 stands
    # for "some"); the morning of the first replay day shows the opening stock
    snap_rows = [
        pd.DataFrame(
            {"snapshot_date": sim.dates[d], "warehouse_id": "WH", "sku": sim.sku[stocked], "on_hand": 1}
        )
        for d in range(start - 1)
    ]
    snap_rows.append(
        pd.DataFrame(
            {
                "snapshot_date": sim.dates[start - 1],
                "warehouse_id": "WH",
                "sku": sim.sku[stocked],
                "on_hand": sim.opening_stock[start][stocked].astype(int),
            }
        )
    )
    for t, closing in enumerate(policy.closing):  # closing stock of each replay day so far
        snap_rows.append(
            pd.DataFrame(
                {
                    "snapshot_date": sim.dates[start + t],
                    "warehouse_id": "WH",
                    "sku": sim.sku[stocked],
                    "on_hand": closing[stocked].astype(int),
                }
            )
        )
    snapshots = pd.concat(snap_rows, ignore_index=True)
    po_rows = [(po, sim.sku[s], q) for batch in [*policy.arrivals.values(), arriving] for s, q, po in batch]
    po_lines = pd.DataFrame(po_rows, columns=["po_number", "sku", "ordered_quantity"])
    po_lines["received_quantity"] = 0
    po_lines["unit_cost"] = [sim.unit_cost[np.flatnonzero(sim.sku == s)[0]] for s in po_lines["sku"]]
    pos = pd.DataFrame({"po_number": po_lines["po_number"].unique()})
    pos["po_status"] = "open"
    pos["ordered_date"] = sim.dates[day - 1]
    pos["ordered_at"] = pd.Timestamp(sim.dates[day - 1], tz="UTC")
    shops = pd.DataFrame({"shop_id": sim.shop_ids})

    with duckdb.connect(str(path)) as con:
        for schema in ("staging", "intermediate"):
            con.execute(f"create schema if not exists {schema}")
        tables = {
            "staging.stg_product_master__products": products,
            "staging.stg_product_master__suppliers": suppliers,
            "staging.stg_product_master__promotions": promotions,
            "staging.stg_product_master__promotion_skus": promotion_skus,
            "staging.stg_config__shops": shops,
            "staging.stg_wms__stock_snapshots": snapshots,
            "staging.stg_wms__stock_movements": pd.DataFrame(
                {
                    "sku": pd.Series(dtype=str),
                    "moved_date": pd.Series(dtype="datetime64[s]"),
                    "quantity": pd.Series(dtype=int),
                }
            ),
            "staging.stg_wms__purchase_orders": pos,
            "staging.stg_wms__purchase_order_lines": po_lines,
            "intermediate.int_order_line_components": sales,
        }
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"create or replace table {name} as select * from frame")
            con.unregister("frame")
        con.execute("alter table staging.stg_wms__stock_movements alter moved_date type date")
        con.execute("alter table staging.stg_wms__purchase_orders alter ordered_date type date")
        con.execute("alter table staging.stg_wms__stock_snapshots alter snapshot_date type date")
        con.execute("alter table intermediate.int_order_line_components alter order_date type date")
        con.execute("alter table staging.stg_product_master__promotions alter start_date type date")
        con.execute("alter table staging.stg_product_master__promotions alter end_date type date")
        con.execute("alter table staging.stg_product_master__products alter launched_on type date")


def run_dbt(path: Path, target: Path, as_of: date) -> float:
    """The real models, as of `as_of`; returns the forecasting model's own run time (seconds)."""
    from analytics.dbt_cli import run_dbt as dbt

    proc = dbt(path, target, "run", "-s", *MODELS, "--vars", json.dumps({"as_of_date": as_of.isoformat()}))
    if proc.returncode != 0:
        raise RuntimeError(f"dbt run as of {as_of} failed:\n{proc.stdout[-4000:]}")
    with duckdb.connect(str(path), read_only=True) as con:
        return float(
            con.execute("select max(run_seconds) from intermediate.int_sku_baseline_forecasts").fetchone()[0]
        )


def forecast_orders(path: Path, sim: Simulated) -> np.ndarray:
    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.execute("select sku, suggested_qty from marts.replenishment_suggestions").df()
    qty = np.zeros(len(sim.sku), dtype=np.int64)
    index = pd.Index(sim.sku)
    qty[index.get_indexer(frame["sku"])] = frame["suggested_qty"].to_numpy(int)
    return qty


def naive_orders(sim: Simulated, policy: Policy, t: int, up_to: bool) -> np.ndarray:
    """'Reorder the last 28 days' sales' on the units this policy actually sold."""
    n = len(sim.sku)
    recent = policy.served[max(0, t - 28) : t]
    days_known = len(recent)
    sold = np.zeros(n)
    for block in recent:
        sold += block.sum(axis=0)
    start = len(sim.dates) - sim.replay_days
    if days_known < 28:  # the simulator's history fills the window before 28 replay days have passed
        sold += sim.demand[start - (28 - days_known) : start].sum(axis=(0, 1))
    position = policy.on_hand + policy.on_order(n)
    if up_to:
        want = np.where(position < sold, sold - position, 0)
    else:
        want = np.where(position < sold, sold, 0)
    want = np.where(sim.stocked & (want > 0), want, 0)
    return np.where(want > 0, round_order(want, sim.moq, sim.pack), 0)


def replay(
    sim: Simulated,
    replay_days: int,
    warmup_days: int,
    review: int,
    policies: list[str],
    workdir: Path,
    delays: bool,
    seed: int,
) -> dict:
    n = len(sim.sku)
    total = len(sim.dates)
    start = total - replay_days - warmup_days
    sim.replay_days = replay_days + warmup_days
    out: dict[str, dict] = {}
    forecast_seconds: list[float] = []
    for name in policies:
        rng = np.random.default_rng(seed + 1)  # same delays for every policy
        policy = Policy(name=name, on_hand=sim.opening_stock[start].astype(np.int64) * sim.stocked)
        po_seq = 0
        for t in range(warmup_days + replay_days):
            day = start + t
            received = policy.arrivals.pop(day, [])
            for s, q, _po in received:
                policy.on_hand[s] += q
            if t % review == 0:
                if name == "forecast":
                    path = workdir / "replay.duckdb"
                    write_warehouse(path, sim, day, start, policy, arriving=received)
                    forecast_seconds.append(run_dbt(path, workdir, sim.dates[day]))
                    qty = forecast_orders(path, sim)
                else:
                    qty = naive_orders(sim, policy, t, up_to=(name == "naive_order_up_to"))
                for s in np.flatnonzero(qty > 0):
                    po_seq += 1
                    po = f"PO-{name}-{po_seq:05d}"
                    delay = 0
                    if delays:
                        delay = int(rng.integers(-1, 4)) if rng.random() > 0.1 else int(rng.integers(5, 11))
                    arrive = day + max(1, int(sim.lead[s]) + delay)
                    policy.arrivals.setdefault(arrive, []).append((int(s), int(qty[s]), po))
                    policy.orders.append((day, int(s), int(qty[s]), po))
            want = sim.demand[day] * sim.stocked[None, :]  # shops x products
            wanted = want.sum(axis=0)
            served_total = np.minimum(wanted, np.maximum(policy.on_hand, 0))
            share = np.divide(served_total, wanted, out=np.zeros(n), where=wanted > 0)
            served = np.floor(want * share[None, :] + 1e-9)
            # hand the rounding remainder to the first shop that wanted the SKU
            rest = served_total - served.sum(axis=0)
            first = np.argmax(want > 0, axis=0)
            served[first, np.arange(n)] += rest
            policy.on_hand -= served_total.astype(np.int64)
            policy.served.append(served)
            policy.closing.append(policy.on_hand.copy())
            if t >= warmup_days:
                policy.wanted += float(wanted.sum())
                policy.got += float(served_total.sum())
        # where the lost units were: per month and per category of the measured days
        wanted_days = np.array(
            [
                (sim.demand[start + t] * sim.stocked[None, :]).sum(axis=0)
                for t in range(warmup_days, warmup_days + replay_days)
            ]
        )
        served_days = np.array([b.sum(axis=0) for b in policy.served[warmup_days:]])
        months = pd.Series(
            [sim.dates[start + t].strftime("%Y-%m") for t in range(warmup_days, warmup_days + replay_days)]
        )
        category = sim.products["category"].to_numpy()
        by_month = {
            m: round(
                float(
                    served_days[(months == m).to_numpy()].sum() / wanted_days[(months == m).to_numpy()].sum()
                ),
                4,
            )
            for m in months.unique()
        }
        by_category = {
            c: round(
                float(served_days[:, category == c].sum() / max(wanted_days[:, category == c].sum(), 1)), 4
            )
            for c in np.unique(category[sim.stocked])
        }
        closing = np.array(policy.closing[warmup_days:])  # measured days x products
        units = closing.sum(axis=1)
        value = closing @ sim.unit_cost
        out[name] = {
            "fill_rate": round(policy.got / policy.wanted, 4),
            "units_demanded": int(policy.wanted),
            "units_served": int(policy.got),
            "avg_stock_units": round(float(units.mean()), 1),
            "avg_stock_value_cny": round(float(value.mean()), 2),
            "fill_rate_by_month": by_month,
            "fill_rate_by_category": by_category,
            "purchase_orders": sum(1 for d, *_ in policy.orders if d >= start + warmup_days),
            "units_ordered": int(sum(q for d, _, q, _ in policy.orders if d >= start + warmup_days)),
        }
        print(
            f"{name:>18}: fill rate {out[name]['fill_rate']:.2%}, average stock {out[name]['avg_stock_units']:,} "
            f"units = ¥{out[name]['avg_stock_value_cny']:,.0f}, {out[name]['purchase_orders']} PO lines"
        )
    if forecast_seconds:
        out["forecast_model_seconds"] = {
            "per_review": [round(s, 2) for s in forecast_seconds],
            "mean": round(float(np.mean(forecast_seconds)), 2),
        }
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.replenishment_replay")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history-days", type=int, default=120)
    parser.add_argument("--replay-days", type=int, default=90, help="days measured")
    parser.add_argument(
        "--warmup-days",
        type=int,
        default=37,
        help="days the policies run before measuring: the longest lead time (30) + a review period, "
        "so the measured days follow from each policy's own orders, not the simulator's stock",
    )
    parser.add_argument("--orders-per-day", type=int, default=150)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--review-period", type=int, default=7)
    parser.add_argument("--supplier-delays", action="store_true", help="the simulator's delivery delays")
    parser.add_argument("--policies", default="forecast,naive,naive_order_up_to")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    sim = simulate(
        args.seed, args.history_days + args.warmup_days + args.replay_days, args.orders_per_day, args.end_date
    )
    print(
        f"simulator: {len(sim.sku)} products, {int(sim.stocked.sum())} stocked, "
        f"{sim.demand[-args.replay_days :].sum():,.0f} units wanted over the replay"
    )
    with tempfile.TemporaryDirectory() as tmp:
        figures = replay(
            sim,
            args.replay_days,
            args.warmup_days,
            args.review_period,
            args.policies.split(","),
            Path(tmp),
            args.supplier_delays,
            args.seed,
        )
    figures["params"] = vars(args) | {"end_date": args.end_date.isoformat()}
    figures["seconds"] = round(time.perf_counter() - started, 1)
    forecast, naive = figures.get("forecast"), figures.get("naive")
    if forecast and naive:
        ok = forecast["fill_rate"] >= 0.95 and forecast["avg_stock_value_cny"] < naive["avg_stock_value_cny"]
        figures["acceptance"] = "met" if ok else "not met"
        print(f"acceptance (fill rate ≥ 95 % with less stock value than naive): {figures['acceptance']}")
    out = save("replenishment_replay", figures)
    print(f"results: {out}")
    return figures


if __name__ == "__main__":
    main()
