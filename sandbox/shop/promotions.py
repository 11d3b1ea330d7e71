"""Scheduled promotions per shop (festival campaigns and routine ones), with the uplift the simulator applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from sandbox.shop.calendar import SPRING_FESTIVAL, Days
from sandbox.shop.catalog import SHOPS, Catalog
from sandbox.shop.money import to_decimal

POST_DIP_DAYS = 14
CLEAN_GAP_DAYS = 28  # post-dip + a clean pre-period before the next promotion of the same shop


@dataclass
class Promotions:
    table: pd.DataFrame
    truth: pd.DataFrame
    mult: np.ndarray  # (shops x days x skus) demand multiplier incl. post-promotion dip
    index: np.ndarray  # (shops x days x skus) row of `table` that applies, -1 none
    discount: np.ndarray  # per promotion row: merchant discount fraction (float, 2 places)


def _festival_windows(days: Days, channel: str) -> list[tuple[str, date, date, str]]:
    out = []
    for year in range(days.start.year, days.end.year + 1):
        if channel == "shopify":
            nov1 = date(year, 11, 1)
            thanksgiving = nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21)
            out.append(("Black Friday Sale", thanksgiving + timedelta(days=1), thanksgiving + timedelta(days=4), "all"))
            out.append(("Summer Sale", date(year, 7, 1), date(year, 7, 7), "all"))
            continue
        out.append(("618大促", date(year, 6, 10), date(year, 6, 18), "all"))
        out.append(("双11狂欢节", date(year, 11, 1), date(year, 11, 11), "all"))
        out.append(("双12年终盛典", date(year, 12, 10), date(year, 12, 12), "all"))
        if year in SPRING_FESTIVAL:
            cny = SPRING_FESTIVAL[year]
            out.append(("年货节", cny - timedelta(days=16), cny - timedelta(days=4), "snacks"))
    return [w for w in out if w[1] >= days.start and w[2] <= days.end]


def _free(windows: list[tuple[date, date]], start: date, end: date) -> bool:
    gap = timedelta(days=CLEAN_GAP_DAYS)
    return all(end + gap < s or start > e + gap for s, e in windows)


def build_promotions(
    rng: np.random.Generator, days: Days, catalog: Catalog, popularity: np.ndarray, excluded: np.ndarray
) -> Promotions:
    """`excluded`: SKUs never promoted (dead stock, starved). Promotions are kept apart by CLEAN_GAP_DAYS so each
    has a clean 14-day pre-period and its own post-promotion dip."""
    n_skus = len(catalog.products)
    launched_idx = np.array([days.index(d) for d in catalog.launched_on])
    rows = []
    for s, (shop_id, channel, *_rest) in enumerate(SHOPS):
        taken: list[tuple[date, date]] = []
        plan = [(name, a, b, scope, True) for name, a, b, scope in _festival_windows(days, channel)]
        # routine promotions proposed every ~5 weeks; kept where they don't crowd a festival campaign
        d = days.start + timedelta(days=int(rng.integers(14, 40)))
        while d < days.end:
            length = int(rng.integers(3, 8))
            plan.append(("店铺周年庆" if rng.random() < 0.2 else "限时折扣", d, d + timedelta(days=length - 1), "all",
                         False))
            d += timedelta(days=int(rng.integers(30, 45)))
        plan.sort(key=lambda p: (not p[4], p[1]))  # festivals claim their dates first
        for name, a, b, scope, festival in plan:
            if b > days.end or a < days.start + timedelta(days=14) or not _free(taken, a, b):
                continue
            eligible = (launched_idx <= days.index(a) - 30) & ~excluded
            if scope == "snacks":
                eligible &= catalog.category == "snacks"
            cand = np.flatnonzero(eligible)
            k = min(len(cand), int(rng.integers(15, 31) if festival else rng.integers(6, 16)))
            if k == 0:
                continue
            w = popularity[cand] / popularity[cand].sum()
            skus = np.sort(rng.choice(cand, k, replace=False, p=w))
            taken.append((a, b))
            rows.append(
                dict(shop=s, shop_id=shop_id, name=f"{a.year}{name}" if festival else name, start=a, end=b,
                     discount=round(float(rng.uniform(0.15, 0.30) if festival else rng.uniform(0.08, 0.22)), 2),
                     lift=float(rng.uniform(0.8, 1.6) if festival else rng.uniform(0.3, 0.8)),
                     dip=float(rng.uniform(0.10, 0.30)), skus=skus,
                     spend=int(k * ((b - a).days + 1) * rng.uniform(80, 300)) * 100)
            )
    rows.sort(key=lambda r: (r["start"], r["shop"]))
    mult = np.ones((len(SHOPS), days.n, n_skus))
    index = np.full((len(SHOPS), days.n, n_skus), -1, dtype=np.int32)
    for i, r in enumerate(rows):
        r["promo_id"] = f"PROMO-{i + 1:03d}"
        a, b = days.index(r["start"]), days.index(r["end"])
        cols = r["skus"]
        dip_end = min(days.n, b + 1 + POST_DIP_DAYS)
        mult[r["shop"], a : b + 1][:, cols] = 1 + r["lift"]
        index[r["shop"], a : b + 1][:, cols] = i
        mult[r["shop"], b + 1 : dip_end][:, cols] = 1 - r["dip"]
    sku = catalog.products["sku"].to_numpy()
    table = pd.DataFrame(
        {
            "promo_id": [r["promo_id"] for r in rows],
            "shop_id": [r["shop_id"] for r in rows],
            "name": [r["name"] for r in rows],
            "start_date": [r["start"] for r in rows],
            "end_date": [r["end"] for r in rows],
            "discount_pct": [Decimal(f"{r['discount']:.2f}") for r in rows],
            "spend": to_decimal([r["spend"] for r in rows]),
            "skus": [",".join(sku[r["skus"]]) for r in rows],
        }
    )
    truth = pd.DataFrame(
        {
            "promo_id": table["promo_id"],
            "true_lift_pct": [r["lift"] for r in rows],
            "post_dip_pct": [r["dip"] for r in rows],
        }
    )
    return Promotions(table=table, truth=truth, mult=mult, index=index,
                      discount=np.array([r["discount"] for r in rows], dtype=float))
