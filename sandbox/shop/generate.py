"""generate(): the whole simulated shop as a `sandbox.world.World` (deterministic for given arguments)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from sandbox.shop.ads import build_ad_spend
from sandbox.shop.aftersales import (
    HOTSPOT_EXTRA,
    HOTSPOT_SHOP,
    RefundDraw,
    build_bills,
    draw_refunds,
    refunds_table,
)
from sandbox.shop.calendar import Days, read_fx_rates, today_in_shanghai, usd_rate_per_day
from sandbox.shop.catalog import build_catalog
from sandbox.shop.demand import build_dynamics, draw_popularity, expected_lines
from sandbox.shop.inventory import component_rate, simulate_stock
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
    steady = [i for i in pool[1:12] if i not in dead]  # fast sellers run dry quickly once starved
    starved = np.sort(rng.choice(steady, 3, replace=False))
    return {"hotspot": hotspot, "dead": dead, "starved": starved}


@dataclass
class Demand:
    """What shoppers want before any order is drawn: the catalogue, the promotion calendar and the expected order
    lines per (shop, day, SKU)."""

    grid: Days
    rng: np.random.Generator
    fx: pd.DataFrame
    usd_by_day: np.ndarray
    catalog: Any
    special: dict[str, np.ndarray]
    listings: Any
    dyn: Any
    promos: Any
    lam: np.ndarray


@dataclass
class Core(Demand):
    """The shop up to its stock simulation: generate() goes on from here with the same random stream, and the
    replenishment replay (bench/replenishment_replay.py) reads the demand and stock it needs from it."""

    cand: Candidates
    buyers: pd.DataFrame
    refund_draw: RefundDraw
    stock: Any


def simulate_demand(seed: int, days: int, orders_per_day: int, end: date) -> Demand:
    """Catalogue, demand dynamics, promotions and expected lines of `days` days ending on `end` (the first steps of
    simulate_core, on the same random stream)."""
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
    return Demand(grid, rng, fx, usd_by_day, catalog, special, listings, dyn, promos, lam)


def simulate_core(seed: int, days: int, orders_per_day: int, end: date) -> Core:
    """Catalogue, demand, promotions, candidate orders, refunds and stock of `days` days ending on `end`."""
    demand = simulate_demand(seed, days, orders_per_day, end)
    rng, grid, catalog, lam = demand.rng, demand.grid, demand.catalog, demand.lam
    cand = cut_at(draw_candidates(rng, grid, catalog, lam), grid.end_ns())
    buyers = assign_buyers(rng, cand.o_shop)
    refund_draw = draw_refunds(rng, cand, catalog, demand.special["hotspot"], grid.end_ns())
    pref_wh = np.where(buyers["south"].to_numpy(bool), 1, 0)[cand.l_order]
    stock = simulate_stock(rng, grid, catalog, cand, pref_wh, refund_draw.restock_ns, component_rate(lam, catalog),
                           demand.special["starved"], demand.dyn.dead_from)
    return Core(**vars(demand), cand=cand, buyers=buyers, refund_draw=refund_draw, stock=stock)


def generate(seed: int = 42, days: int = 540, orders_per_day: int = 150, end_date: date | None = None) -> World:
    """Simulate `days` days of a five-shop seller ending on `end_date` (default: today in Asia/Shanghai)."""
    end = end_date or today_in_shanghai()
    core = simulate_core(seed, days, orders_per_day, end)
    grid, rng, fx, usd_by_day, catalog = core.grid, core.rng, core.fx, core.usd_by_day, core.catalog
    special, listings, dyn, promos, cand = core.special, core.listings, core.dyn, core.promos, core.cand
    buyers, refund_draw, stock = core.buyers, core.refund_draw, core.stock

    keep_line = stock.accepted
    kept_lines = np.flatnonzero(keep_line)
    cand, kept_orders = subset(cand, keep_line)
    refund_draw = RefundDraw(**{k: getattr(refund_draw, k)[kept_lines] for k in refund_draw.__dataclass_fields__})
    buyers = buyers.iloc[kept_orders].reset_index(drop=True)
    local_dates = grid.dates()
    orders, lines, sold = build_sales(rng, cand, catalog, listings, promos, usd_by_day, local_dates, buyers)
    refunds = refunds_table(rng, refund_draw, cand, lines, sold.l_paid_cents)

    # fully refunded orders: status refunded; refunded before completion -> never completed
    full = refund_draw.flag & (refund_draw.status == "success") & (refund_draw.qty == cand.l_qty)
    n_orders = len(cand.o_shop)
    lines_per_order = np.bincount(cand.l_order, minlength=n_orders)
    full_per_order = np.bincount(cand.l_order, weights=full, minlength=n_orders)
    fully = (lines_per_order == full_per_order) & (lines_per_order > 0)
    last_refund = np.full(n_orders, -1, dtype=np.int64)
    np.maximum.at(last_refund, cand.l_order, refund_draw.created)
    first_full_refund = np.full(n_orders, np.iinfo(np.int64).max)
    np.minimum.at(first_full_refund, cand.l_order, np.where(full, refund_draw.created, np.iinfo(np.int64).max))
    never_completed = fully & (cand.o_completed > first_full_refund)
    cand = replace(cand, o_completed=np.where(never_completed, -1, cand.o_completed))
    orders["completed_at"] = pd.to_datetime(np.where(cand.o_completed < 0, np.iinfo(np.int64).min,
                                                     cand.o_completed), utc=True)
    status = order_status(cand)
    status[fully] = "refunded"
    orders["status"] = status
    times = orders[["created_at", "paid_at", "shipped_at", "completed_at", "cancelled_at"]].copy()
    times["refund"] = pd.to_datetime(np.where(last_refund < 0, np.iinfo(np.int64).min, last_refund), utc=True)
    orders["updated_at"] = times.max(axis=1)

    bill_lines, bill_errors = build_bills(rng, grid, orders, refunds, sold.o_paid_cents, sold.o_platform_cents)
    refunds = refunds.drop(columns="_amount_cents")

    # movement references: order ids for shipments and returns
    new_line = np.full(len(keep_line), -1, dtype=np.int64)
    new_line[kept_lines] = np.arange(len(kept_lines))
    movements = stock.movements
    ref = np.array(movements["reference"].to_numpy(dtype=object), dtype=object)
    is_line = np.array([isinstance(r, (int, np.integer)) for r in ref])
    line_order_id = lines["order_id"].to_numpy(dtype=object)
    ref[is_line] = line_order_id[new_line[-ref[is_line].astype(np.int64) - 1]]
    movements["reference"] = ref.astype(str)
    movements["moved_at"] = pd.to_datetime(movements["moved_at"], utc=True)

    sku_codes = catalog.products["sku"].to_numpy()
    flags = [dict(kind="size_return_hotspot", sku=sku_codes[i], shop_id=HOTSPOT_SHOP,
                  detail=f"size returns raised by {HOTSPOT_EXTRA:.0%} of lines on top of the usual rate")
             for i in special["hotspot"]]
    flags += [dict(kind="dead_stock", sku=sku_codes[i], shop_id=None,
                   detail=f"no demand from {grid.start + timedelta(days=dyn.dead_from[int(i)])} on; stock left over")
              for i in special["dead"]]
    flags += [dict(kind="starved", sku=sku_codes[i], shop_id=None,
                   detail="supplier stopped delivering: purchase orders stay open past their expected date")
              for i in special["starved"]]

    tables: dict[str, pd.DataFrame] = {
        "shops": catalog.shops,
        "suppliers": catalog.suppliers,
        "warehouses": catalog.warehouses,
        "products": catalog.products,
        "kit_components": catalog.kit_components,
        "listings": listings,
        "orders": orders,
        "order_lines": lines,
        "refunds": refunds,
        "bill_lines": bill_lines,
        "stock_snapshots": stock.snapshots,
        "stock_movements": movements,
        "purchase_orders": stock.purchase_orders,
        "purchase_order_lines": stock.purchase_order_lines,
        "receipts": stock.receipts,
        "truth_bill_errors": bill_errors,
        "truth_stockouts": stock.stockouts,
        "truth_flags": pd.DataFrame(flags, columns=["kind", "sku", "shop_id", "detail"]),
        "promotions": promos.table,
        "ad_spend": build_ad_spend(seed, catalog.shops, orders),
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
