"""Expected daily demand per (shop, day, SKU): popularity x seasonality x festivals x growth x launch x promotions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.shop.calendar import Days, festival_factors, snack_new_year_wave, weekly_factor, yearly_wave
from sandbox.shop.catalog import SHOPS, Catalog, shop_share

MEAN_LINES = 1.48  # lines per order with p(1,2,3) = .62/.28/.10
SIZE_SHARE = {"S": 0.15, "M": 0.35, "L": 0.33, "XL": 0.17}


@dataclass
class Dynamics:
    """Per SKU: popularity weight and the (days x skus) base shape before shops, festivals and promotions."""

    popularity: np.ndarray
    base: np.ndarray
    dead_from: dict[int, int]  # sku index -> first day index without demand


def draw_popularity(rng: np.random.Generator, catalog: Catalog) -> np.ndarray:
    p = catalog.products
    family = pd.factorize(p["spu"])[0]
    fam_pop = rng.lognormal(0.0, 0.9, family.max() + 1)
    size = np.array([SIZE_SHARE.get(s, 1.0) if isinstance(s, str) else 1.0 for s in p["size"]])
    pop = fam_pop[family] * size * np.where(catalog.category == "apparel", 2.2, 1.0)
    pop[catalog.is_kit] *= 0.5
    return pop


def build_dynamics(rng: np.random.Generator, days: Days, catalog: Catalog, popularity: np.ndarray,
                   dead: np.ndarray) -> Dynamics:
    n = len(catalog.products)
    family = pd.factorize(catalog.products["spu"])[0]
    t_years = (np.arange(days.n) - days.n) / 365.25  # <= 0: growth measured back from today
    growth = np.exp(rng.normal(0.15, 0.35, family.max() + 1)[family])
    trend = growth[None, :] ** t_years[:, None]
    peak = np.nan_to_num(catalog.season_peak, nan=0.0)
    amp = np.where(np.isnan(catalog.season_peak), 0.0, 0.75)
    season = yearly_wave(days, peak, amp)
    snack_cols = catalog.category == "snacks"
    season[:, snack_cols] *= snack_new_year_wave(days)[:, None]
    launch_idx = np.array([days.index(d) for d in catalog.launched_on])
    since = np.arange(days.n)[:, None] - launch_idx[None, :]
    launch = np.where(since < 0, 0.0, np.clip(0.3 + 0.7 * since / 30, 0.3, 1.0))
    base = popularity[None, :] * trend * season * launch
    dead_from = {}
    dead_days = min(130, days.n - 10)
    for i in np.flatnonzero(dead):
        dead_from[int(i)] = days.n - dead_days
        base[days.n - dead_days :, i] = 0.0
    # kits inherit a component's launch; kits made of a dead component die with it
    for k in np.flatnonzero(catalog.is_kit):
        comps = np.flatnonzero(catalog.components[k])
        for c in comps:
            if c in dead_from:
                base[dead_from[c] :, k] = 0.0
    base = base / base.sum(axis=1).mean() if n else base
    return Dynamics(popularity=popularity, base=base, dead_from=dead_from)


def expected_lines(rng: np.random.Generator, days: Days, catalog: Catalog, dyn: Dynamics, promo_mult: np.ndarray,
                   orders_per_day: float) -> np.ndarray:
    """(shops x days x skus) expected order lines per day."""
    fest = festival_factors(days)
    week = weekly_factor(days)
    n_shops = len(SHOPS)
    lam = np.empty((n_shops, days.n, len(catalog.products)))
    snack_cols = catalog.category == "snacks"
    share = shop_share()
    for s, (_shop_id, channel, *_rest) in enumerate(SHOPS):
        f_all, f_snacks = fest["all"], fest["snacks"]
        if channel == "shopify":  # Chinese festivals barely move the overseas store
            f_all, f_snacks = f_all**0.15, f_snacks**0.15
        day_f = np.where(snack_cols[None, :], f_snacks[:, None], f_all[:, None]) * week[:, None]
        affinity = rng.lognormal(0.0, 0.35, len(catalog.products))
        if channel == "pinduoduo":  # bargain hunters
            affinity *= (catalog.price_cents / np.median(catalog.price_cents)) ** -0.4
        affinity /= (affinity * dyn.base.mean(axis=0)).sum() / dyn.base.mean(axis=0).sum()
        lam[s] = share[s] * orders_per_day * MEAN_LINES * dyn.base * affinity[None, :] * day_f * promo_mult[s]
    return lam
