"""One listing per (shop, master SKU) with ids shaped like each platform's, and the few with a wrong 商家编码."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sandbox.shop.catalog import SHOPS, Catalog
from sandbox.shop.money import to_decimal

# channel -> (product id first value, product id stride, sku id first value, sku id stride)
ID_SHAPES = {
    "shopify": (7_412_000_000_000, 7919, 42_803_000_000_000, 3917),  # product 13 digits, variant 14
    "taobao": (680_000_000_000, 10_007, 5_012_000_000_000, 7_001),  # num_iid 12 digits, sku_id 13
    "jd": (10_002_000_000, 5_003, 100_020_000_000, 3_001),  # wareId 11 digits, skuId 12
    "pinduoduo": (300_000_000_000, 9_001, 1_120_000_000_000, 4_003),  # goods_id 12, sku_id 13
    "douyin": (3_580_000_000_000_000_000, 100_003, 1_760_000_000_000_000, 30_011),  # product 19, sku 16
}
SHOPIFY_INVENTORY_ITEM_BASE = 44_901_000_000_000


def usd_price_cents(cny_cents: np.ndarray, rate: float | np.ndarray) -> np.ndarray:
    """CNY list price -> a USD price ending in .99 (at least 0.99)."""
    usd = np.asarray(cny_cents) / 100 / rate
    return np.maximum(np.round(np.ceil(usd) * 100 - 1), 99).astype(np.int64)


def wrong_outer_id(sku: str, how: int) -> str:
    if how == 0:  # a typo: one zero of the number dropped
        return sku.replace("-000", "-00", 1) if "-000" in sku else sku.replace("-00", "-0", 1)
    if how == 1:  # the old code from before the SKU renumbering
        return "OLD" + sku.replace("-", "")
    return sku.lower() + " "  # lower case with a trailing blank


def build_listings(rng: np.random.Generator, catalog: Catalog, usd_rate_now: float) -> pd.DataFrame:
    p = catalog.products
    n = len(p)
    family = pd.factorize(p["spu"])[0]
    frames = []
    for shop_id, channel, *_ in SHOPS:
        pid0, pstride, sid0, sstride = ID_SHAPES[channel]
        product_ids = pid0 + np.cumsum(rng.integers(1, pstride, family.max() + 1))
        sku_ids = sid0 + np.cumsum(rng.integers(1, sstride, n))
        if channel == "shopify":
            price = usd_price_cents(catalog.price_cents, usd_rate_now)
            titles = [f"{name} | Shopkeep Store" for name in p["name"]]
            inventory = SHOPIFY_INVENTORY_ITEM_BASE + np.cumsum(rng.integers(1, 5000, n))
            inv_ids: list[str | None] = [str(x) for x in inventory]
        else:
            price = catalog.price_cents
            prefix = {"taobao": "【天猫】", "jd": "【京东】", "pinduoduo": "【百亿补贴】", "douyin": "【直播间】"}[channel]
            titles = [f"{prefix}{name}" for name in p["name"]]
            inv_ids = [None] * n
        frames.append(
            pd.DataFrame(
                {
                    "shop_id": shop_id,
                    "sku": p["sku"].to_numpy(),
                    "platform_product_id": [str(x) for x in product_ids[family]],
                    "platform_sku_id": [str(x) for x in sku_ids],
                    "inventory_item_id": inv_ids,
                    "outer_id": p["sku"].to_numpy(),
                    "price": to_decimal(price),
                    "title": titles,
                }
            )
        )
    listings = pd.concat(frames, ignore_index=True)
    # three listings on marketplaces carry a wrong merchant code (the unmapped SKUs analytics must list)
    plain = np.flatnonzero(~catalog.is_kit)
    chosen = rng.choice(plain, 3, replace=False)
    for how, (shop_id, idx) in enumerate(zip(["tmall_flagship", "jd_pop", "pdd_main"], chosen, strict=True)):
        row = listings.index[(listings.shop_id == shop_id) & (listings.sku == p.sku[idx])][0]
        listings.loc[row, "outer_id"] = wrong_outer_id(p.sku[idx], how)
    return listings
