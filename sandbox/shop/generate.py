"""generate(): the whole simulated shop as a `sandbox.world.World` (deterministic for given arguments)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from sandbox.shop.calendar import Days, read_fx_rates, today_in_shanghai, usd_rate_per_day
from sandbox.shop.catalog import build_catalog
from sandbox.shop.demand import build_dynamics, draw_popularity, expected_lines
from sandbox.shop.listings import build_listings
from sandbox.shop.orders import Candidates, draw_candidates
from sandbox.shop.promotions import build_promotions
from sandbox.shop.sales import assign_buyers, build_sales
from sandbox.world import SCHEMA, World


def subset(cand: Candidates, keep_line: np.ndarray) -> tuple[Candidates, np.ndarray]:
    """Keep the accepted lines and the orders that still have one; returns the kept order indices."""
    kept_orders = np.unique(cand.l_order[keep_line])
    remap = np.full(len(cand.o_shop), -1, dtype=np.int64)
    remap[kept_orders] = np.arange(len(kept_orders))
    fields = {k: getattr(cand, k)[kept_orders] for k in cand.__dataclass_fields__ if k.startswith("o_")}
    fields.update({k: getattr(cand, k)[keep_line] for k in ("l_sku", "l_qty")})
    fields["l_order"] = remap[cand.l_order[keep_line]]
    return replace(cand, **fields), kept_orders


def cut_at(cand: Candidates, end_ns: int) -> Candidates:
    """Events after the end of the history have not happened yet."""
    def cut(x: np.ndarray) -> np.ndarray:
        return np.where(x > end_ns, -1, x)

    return replace(cand, o_paid=cut(cand.o_paid), o_cancelled=cut(cand.o_cancelled), o_shipped=cut(cand.o_shipped),
                   o_completed=cut(cand.o_completed))


def order_status(cand: Candidates) -> np.ndarray:
    status = np.full(len(cand.o_shop), "pending_payment", dtype=object)
    status[cand.o_cancelled >= 0] = "cancelled"
    status[cand.o_paid >= 0] = "paid"
    status[cand.o_shipped >= 0] = "shipped"
    status[cand.o_completed >= 0] = "completed"
    return status


def pick_special_skus(rng: np.random.Generator, catalog, popularity: np.ndarray, days: Days) -> dict[str, np.ndarray]:
    """Dead-stock (slow sellers), starved (steady sellers) and the size-return hotspot (a best-selling garment)."""
    old = np.array([days.index(d) < 0 for d in catalog.launched_on])
    plain = ~catalog.is_kit & old
    in_kit = catalog.components[catalog.is_kit].sum(axis=0) > 0
    order = np.argsort(-popularity, kind="stable")
    apparel = [i for i in order if plain[i] and catalog.category[i] == "apparel" and not in_kit[i]]
    hotspot = np.array(apparel[:1])
    pool = [i for i in order if plain[i] and not in_kit[i] and i not in hotspot]
    slow = pool[len(pool) // 2 :]
    dead = np.sort(rng.choice(slow, 5, replace=False))
    steady = [i for i in pool[5 : len(pool) // 3] if i not in dead]
    starved = np.sort(rng.choice(steady, 3, replace=False))
    return {"hotspot": hotspot, "dead": dead, "starved": starved}


def generate(seed: int = 42, days: int = 540, orders_per_day: int = 150, end_date: date | None = None) -> World:
    """Simulate `days` days of a five-shop seller ending on `end_date` (default: today in Asia/Shanghai)."""
    end = end_date or today_in_shanghai()
    grid = Days.ending(end, days)
    rng = np.random.default_rng(seed)
    fx = read_fx_rates()
    usd_by_day = usd_rate_per_day(grid, fx)
    catalog = build_catalog(rng, grid.start, grid.n)
    popularity = draw_popularity(rng, catalog)
    special = pick_special_skus(rng, catalog, popularity, grid)
    popularity[special["hotspot"]] *= 3.0
    n_skus = len(catalog.products)
    dead_mask = np.zeros(n_skus, bool)
    dead_mask[special["dead"]] = True
    excluded = dead_mask.copy()
    excluded[special["starved"]] = True
    listings = build_listings(rng, catalog, float(usd_by_day[-1]))
    dyn = build_dynamics(rng, grid, catalog, popularity, dead_mask)
    promos = build_promotions(rng, grid, catalog, popularity, excluded)
    lam = expected_lines(rng, grid, catalog, dyn, promos.mult, orders_per_day)
    cand = draw_candidates(rng, grid, catalog, lam)
    buyers = assign_buyers(rng, cand.o_shop)

    keep_line = np.ones(len(cand.l_order), bool)
    cand, kept_orders = subset(cand, keep_line)
    buyers = buyers.iloc[kept_orders].reset_index(drop=True)
    cand = cut_at(cand, grid.end_ns())
    local_dates = grid.dates()
    orders, lines, _sold = build_sales(rng, cand, catalog, listings, promos, usd_by_day, local_dates, buyers)
    orders["status"] = order_status(cand)
    times = orders[["created_at", "paid_at", "shipped_at", "completed_at", "cancelled_at"]]
    orders["updated_at"] = times.max(axis=1)

    stock_snapshots, stock_movements = _naive_stock(grid, catalog, cand)
    tables: dict[str, pd.DataFrame] = {
        "shops": catalog.shops,
        "suppliers": catalog.suppliers,
        "warehouses": catalog.warehouses,
        "products": catalog.products,
        "kit_components": catalog.kit_components,
        "listings": listings,
        "orders": orders,
        "order_lines": lines,
        "stock_snapshots": stock_snapshots,
        "stock_movements": stock_movements,
        "promotions": promos.table,
        "fx_rates": fx,
        "truth_promo_uplift": promos.truth,
    }
    for name, columns in SCHEMA.items():
        frame = tables.get(name, pd.DataFrame({c: pd.Series(dtype=object) for c in columns}))
        extra = [c for c in frame.columns if c not in columns]
        tables[name] = frame[list(columns) + extra].reset_index(drop=True)
    params = {"seed": seed, "days": days, "orders_per_day": orders_per_day, "end_date": end.isoformat(),
              "start_date": grid.start.isoformat()}
    return World(params=params, tables={name: tables[name] for name in SCHEMA})


def _naive_stock(grid: Days, catalog, cand: Candidates) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Placeholder: an opening balance large enough for every shipment, then one shipment per shipped line."""
    plain = np.flatnonzero(~catalog.is_kit)
    sku = catalog.products["sku"].to_numpy()
    shipped = cand.o_shipped[cand.l_order] >= 0
    need = catalog.components[cand.l_sku[shipped]] * cand.l_qty[shipped, None]
    comp_rows, comp_cols = np.nonzero(need)
    qty = need[comp_rows, comp_cols]
    at = cand.o_shipped[cand.l_order[shipped]][comp_rows]
    opening = np.bincount(comp_cols, weights=qty, minlength=len(sku)).astype(int)[plain] + 20
    start_ns = int(grid.utc_midnight_ns()[0])
    moves = pd.DataFrame(
        {
            "moved_at": np.r_[np.full(len(plain), start_ns), at],
            "warehouse_id": "WH-SH",
            "sku": np.r_[sku[plain], sku[comp_cols]],
            "type": np.r_[np.full(len(plain), "adjustment", dtype=object), np.full(len(at), "shipment", dtype=object)],
            "quantity": np.r_[opening, -qty].astype(int),
            "reference": "",
        }
    ).sort_values("moved_at", kind="stable").reset_index(drop=True)
    moves.insert(0, "movement_id", [f"MV{i + 1:08d}" for i in range(len(moves))])
    day = np.searchsorted(grid.utc_midnight_ns(), moves["moved_at"].to_numpy(), side="right") - 1
    moves["moved_at"] = pd.to_datetime(moves["moved_at"], utc=True)
    delta = np.zeros((grid.n, len(sku)), dtype=np.int64)
    sku_idx = pd.Index(sku).get_indexer(moves["sku"])
    np.add.at(delta, (day, sku_idx), moves["quantity"].to_numpy())
    closing = np.cumsum(delta, axis=0)[:, plain]
    dates = grid.dates()
    snaps = pd.DataFrame(
        {
            "snapshot_date": np.repeat(np.array(dates, dtype=object), len(plain)),
            "warehouse_id": "WH-SH",
            "sku": np.tile(sku[plain], grid.n),
            "on_hand": closing.ravel().astype(int),
        }
    )
    return snaps, moves
