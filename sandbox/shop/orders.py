"""Candidate orders and lines drawn from expected demand (before stock decides which can be sold)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sandbox.shop.calendar import Days
from sandbox.shop.catalog import Catalog
from sandbox.shop.demand import MEAN_LINES

HOUR_WEIGHTS = np.array([2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5, 6, 5, 5, 5, 5, 6, 7, 8, 10, 11, 10, 6], float)
HOUR = 3600 * 10**9
MINUTE = 60 * 10**9
DAY = 24 * HOUR
QUANTITIES = [1, 2, 3]
QUANTITY_SHARES = {"snacks": [0.6, 0.28, 0.12], "other": [0.86, 0.11, 0.03]}  # units per order line
NEVER_PAID_SHARE = 0.03


@dataclass
class Candidates:
    """Per order (o_*) and per line (l_*) arrays; lines are grouped by order, orders sorted by creation time."""

    o_shop: np.ndarray
    o_day: np.ndarray
    o_created: np.ndarray  # UTC ns
    o_paid: np.ndarray  # UTC ns, or -1 if the buyer never pays
    o_cancelled: np.ndarray  # UTC ns or -1
    o_shipped: np.ndarray  # UTC ns (planned) or -1
    o_completed: np.ndarray  # UTC ns (planned) or -1
    l_order: np.ndarray
    l_sku: np.ndarray
    l_qty: np.ndarray


def _sample_rows(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One column index per entry of `rows`, drawn from weights[row] (rows of a 2-D array)."""
    cum = np.cumsum(weights, axis=1)
    totals = cum[:, -1]
    # offset each row so one global searchsorted works: row r lives in [r*T, r*T + total_r)
    span = float(totals.max()) * 1.0001 + 1.0
    flat = (cum + (np.arange(len(cum)) * span)[:, None]).ravel()
    u = rng.random(len(rows)) * totals[rows] + rows * span
    idx = np.searchsorted(flat, u, side="right")
    return np.minimum(idx - rows * weights.shape[1], weights.shape[1] - 1)


def draw_candidates(rng: np.random.Generator, days: Days, catalog: Catalog, lam: np.ndarray) -> Candidates:
    n_shops, n_days, n_skus = lam.shape
    per_day = lam.reshape(n_shops * n_days, n_skus)
    counts = rng.poisson(per_day.sum(axis=1) / MEAN_LINES)
    row = np.repeat(np.arange(n_shops * n_days), counts)  # one per order: shop*n_days + day
    n_orders = len(row)
    n_lines = rng.choice([1, 2, 3], n_orders, p=[0.62, 0.28, 0.10])
    l_order = np.repeat(np.arange(n_orders), n_lines)
    l_sku = _sample_rows(rng, per_day, row[l_order])
    # a SKU appears once per order
    key = l_order.astype(np.int64) * n_skus + l_sku
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(key), bool)
    keep[first] = True
    l_order, l_sku = l_order[keep], l_sku[keep]
    snack = catalog.category[l_sku] == "snacks"
    l_qty = np.where(snack, rng.choice(QUANTITIES, len(l_sku), p=QUANTITY_SHARES["snacks"]),
                     rng.choice(QUANTITIES, len(l_sku), p=QUANTITY_SHARES["other"]))

    o_shop, o_day = row // n_days, row % n_days
    hour = rng.choice(24, n_orders, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    o_created = days.utc_midnight_ns()[o_day] + hour * HOUR + rng.integers(0, HOUR, n_orders)
    order = np.argsort(o_created, kind="stable")
    rank = np.empty(n_orders, dtype=np.int64)
    rank[order] = np.arange(n_orders)
    o_shop, o_day, o_created = o_shop[order], o_day[order], o_created[order]
    l_order = rank[l_order]
    line_order = np.argsort(l_order, kind="stable")
    l_order, l_sku, l_qty = l_order[line_order], l_sku[line_order], l_qty[line_order]

    never_paid = rng.random(n_orders) < NEVER_PAID_SHARE
    o_paid = np.where(never_paid, -1, o_created + rng.integers(10 * 10**9, 30 * MINUTE, n_orders))
    o_cancelled = np.where(never_paid, o_created + rng.integers(15 * MINUTE, DAY, n_orders), -1)
    ship_delay = np.where(rng.random(n_orders) < 0.02, rng.integers(73 * HOUR, 150 * HOUR, n_orders),
                          rng.gamma(2.0, 12.0, n_orders).clip(1, 71) * HOUR).astype(np.int64)
    o_shipped = np.where(never_paid, -1, o_paid + ship_delay)
    o_completed = np.where(never_paid, -1, o_shipped + rng.integers(3 * DAY, 10 * DAY, n_orders))
    return Candidates(o_shop=o_shop, o_day=o_day, o_created=o_created, o_paid=o_paid, o_cancelled=o_cancelled,
                      o_shipped=o_shipped, o_completed=o_completed, l_order=l_order, l_sku=l_sku, l_qty=l_qty)
