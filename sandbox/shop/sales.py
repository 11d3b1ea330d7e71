"""The orders and order_lines tables: platform ids, buyers, discounts (exact cents) and statuses at end_date."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.shop.buyers import BUYER_REMARKS, EN_REMARKS, SELLER_REMARKS, build_buyers, buyer_weights
from sandbox.shop.catalog import SHOPS, Catalog
from sandbox.shop.listings import usd_price_cents
from sandbox.shop.money import allocate, round_cents, to_decimal
from sandbox.shop.orders import Candidates
from sandbox.shop.promotions import Promotions

# channel -> (platform-funded coupon: share of orders, low yuan, high yuan, cap as fraction of the order)
PLATFORM_COUPONS = {
    "shopify": (0.0, 0, 0, 0.0),
    "taobao": (0.12, 5, 30, 0.15),
    "jd": (0.10, 5, 20, 0.15),
    "pinduoduo": (0.40, 2, 15, 0.20),
    "douyin": (0.30, 3, 20, 0.20),
}
MANJIAN = [(29900, 3000), (19900, 2000), (9900, 1000)]  # 满299减30, 满199减20, 满99减10 (cents)


@dataclass
class Sold:
    """What sales leaves for stock, refunds and bills: per order/line money in cents and the status inputs."""

    o_paid_cents: np.ndarray
    o_platform_cents: np.ndarray
    l_paid_cents: np.ndarray
    l_line_id: np.ndarray
    o_order_id: np.ndarray


def _ts(ns: np.ndarray) -> pd.Series:
    """int ns (-1 = missing) -> tz-aware UTC timestamps with NaT."""
    ns = np.asarray(ns, dtype=np.int64)
    out = pd.to_datetime(np.where(ns < 0, np.iinfo(np.int64).min, ns), utc=True)
    return pd.Series(out)


def order_ids(rng: np.random.Generator, channel: str, n: int, local_dates: list) -> tuple[list[str], list[str]]:
    """(order_id, order_number) shaped like the channel's."""
    if channel == "shopify":
        ids = [str(x) for x in 5_801_000_000_000 + np.cumsum(rng.integers(1, 5000, n))]
        return ids, [f"#{1001 + i}" for i in range(n)]
    if channel == "taobao":
        ids = [str(x) for x in 3_900_000_000_000_000_000 + np.cumsum(rng.integers(1, 10**9, n))]
    elif channel == "jd":
        ids = [str(x) for x in 300_000_000_000 + np.cumsum(rng.integers(1, 100_000, n))]
    elif channel == "pinduoduo":
        tail = 100_000_000_000_000 + np.cumsum(rng.integers(1, 10**8, n))
        ids = [f"{d:%y%m%d}-{t}" for d, t in zip(local_dates, tail, strict=True)]
    else:
        ids = [str(x) for x in 6_920_000_000_000_000_000 + np.cumsum(rng.integers(1, 10**9, n))]
    return ids, ids


def line_ids(rng: np.random.Generator, channel: str, order_id: np.ndarray, pos: np.ndarray) -> list[str]:
    n = len(order_id)
    if channel == "shopify":
        return [str(x) for x in 13_900_000_000_000 + np.cumsum(rng.integers(1, 5000, n))]
    if channel == "taobao":
        return [str(x) for x in 3_900_500_000_000_000_000 + np.cumsum(rng.integers(1, 10**9, n))]
    if channel == "douyin":
        return [str(x) for x in 6_920_500_000_000_000_000 + np.cumsum(rng.integers(1, 10**9, n))]
    return [f"{o}-{p + 1}" for o, p in zip(order_id, pos, strict=True)]


BUYER_COLUMNS = ["buyer_id", "buyer_name", "buyer_phone", "buyer_email", "province", "city", "district",
                 "address_detail", "south"]


def assign_buyers(rng: np.random.Generator, o_shop: np.ndarray) -> pd.DataFrame:
    """A buyer for every order from its shop's pool (loyal buyers repeat); aligned with `o_shop`."""
    frame = pd.DataFrame(index=np.arange(len(o_shop)), columns=BUYER_COLUMNS, dtype=object)
    for s, (_shop_id, channel, *_rest) in enumerate(SHOPS):
        o_idx = np.flatnonzero(o_shop == s)
        pool = build_buyers(rng, channel, max(30, int(len(o_idx) * 0.55)))
        pick = rng.choice(len(pool), len(o_idx), p=buyer_weights(rng, len(pool)))
        frame.iloc[o_idx] = pool.iloc[pick][BUYER_COLUMNS].to_numpy()
    frame["south"] = frame["south"].astype(bool)
    return frame


def build_sales(
    rng: np.random.Generator,
    cand: Candidates,
    catalog: Catalog,
    listings: pd.DataFrame,
    promos: Promotions,
    usd_rate_by_day: np.ndarray,
    local_dates: list,
    buyers: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, Sold]:
    """Orders and lines for the candidate arrays (already filtered to what could be sold).
    Timestamps in `cand` must already be cut at end_date (-1 = not happened yet); `buyers` is aligned with the
    candidate orders (see assign_buyers)."""
    n_orders, n_lines = len(cand.o_shop), len(cand.l_order)
    l_shop, l_day = cand.o_shop[cand.l_order], cand.o_day[cand.l_order]
    channels = np.array([s[1] for s in SHOPS])
    l_shopify = channels[l_shop] == "shopify"
    o_shopify = channels[cand.o_shop] == "shopify"

    unit = np.where(l_shopify, usd_price_cents(catalog.price_cents[cand.l_sku], usd_rate_by_day[l_day]),
                    catalog.price_cents[cand.l_sku])
    line_list = unit * cand.l_qty
    promo_row = promos.index[l_shop, l_day, cand.l_sku]
    promo_disc = np.where(promo_row >= 0, round_cents(line_list * promos.discount[promo_row] if len(
        promos.discount) else 0), 0)
    if not len(promos.discount):
        promo_disc = np.zeros(n_lines, dtype=np.int64)

    first_line = np.r_[0, np.flatnonzero(np.diff(cand.l_order)) + 1]
    group_start = np.repeat(first_line, np.diff(np.r_[first_line, n_lines]))
    o_list = np.add.reduceat(line_list, first_line)
    o_promo = np.add.reduceat(promo_disc, first_line)
    net = o_list - o_promo
    # merchant coupons: 满减 on marketplaces, a 10% code on Shopify
    coupon = np.zeros(n_orders, dtype=np.int64)
    takes = rng.random(n_orders) < 0.12
    for threshold, off in MANJIAN[::-1]:
        coupon = np.where(~o_shopify & takes & (net >= threshold), off, coupon)
    coupon = np.where(o_shopify & (rng.random(n_orders) < 0.06), round_cents(net * 0.10), coupon)
    # platform-funded coupons
    platform = np.zeros(n_orders, dtype=np.int64)
    for ch, (share, low, high, cap) in PLATFORM_COUPONS.items():
        if share == 0:
            continue
        mask = (channels[cand.o_shop] == ch) & (rng.random(n_orders) < share)
        amount = rng.integers(low, high + 1, n_orders) * 100
        platform = np.where(mask, np.minimum(amount, round_cents((net - coupon) * cap)), platform)
    platform = np.maximum(platform, 0)
    shipping = np.where(o_shopify, np.where(o_list < 4900, 599, 0),
                        np.where(rng.random(n_orders) < 0.03, rng.choice([600, 1000], n_orders), 0))

    alloc_base = (line_list - promo_disc).astype(float)
    l_coupon = allocate(coupon[cand.l_order], alloc_base, group_start)
    l_platform = allocate(platform[cand.l_order], alloc_base, group_start)
    l_merchant = promo_disc + l_coupon
    l_paid = line_list - l_merchant - l_platform
    o_merchant = o_promo + coupon
    o_paid = o_list - o_merchant - platform + shipping
    assert (l_paid >= 0).all() and (np.add.reduceat(l_paid, first_line) + shipping == o_paid).all()

    o_promo_id = np.full(n_orders, None, dtype=object)
    has_promo = promo_row >= 0
    if has_promo.any():
        ids = promos.table["promo_id"].to_numpy()
        o_promo_id[cand.l_order[has_promo][::-1]] = ids[promo_row[has_promo]][::-1]  # first line's promo wins

    # ids, buyers and remarks per shop
    o_order_id = np.empty(n_orders, dtype=object)
    o_number = np.empty(n_orders, dtype=object)
    l_line_id = np.empty(n_lines, dtype=object)
    buyer_frame = buyers
    pos_in_order = np.arange(n_lines) - group_start
    for s, (_shop_id, channel, *_rest) in enumerate(SHOPS):
        o_idx = np.flatnonzero(cand.o_shop == s)
        if len(o_idx) == 0:
            continue
        ids, numbers = order_ids(rng, channel, len(o_idx), [local_dates[d] for d in cand.o_day[o_idx]])
        o_order_id[o_idx], o_number[o_idx] = ids, numbers
        l_idx = np.flatnonzero(l_shop == s)
        l_line_id[l_idx] = line_ids(rng, channel, o_order_id[cand.l_order[l_idx]], pos_in_order[l_idx])
    remark_pool = np.array(BUYER_REMARKS, dtype=object)
    buyer_remark = np.where(rng.random(n_orders) < 0.08, rng.choice(remark_pool, n_orders), "")
    buyer_remark = np.where(o_shopify & (buyer_remark != ""), rng.choice(np.array(EN_REMARKS, dtype=object),
                                                                          n_orders), buyer_remark)
    seller_remark = np.where(~o_shopify & (rng.random(n_orders) < 0.03),
                             rng.choice(np.array(SELLER_REMARKS, dtype=object), n_orders), "")

    currency = np.where(o_shopify, "USD", "CNY")
    shop_ids = np.array([s[0] for s in SHOPS], dtype=object)
    orders = pd.DataFrame(
        {
            "shop_id": shop_ids[cand.o_shop],
            "order_id": o_order_id,
            "order_number": o_number,
            "created_at": _ts(cand.o_created),
            "paid_at": _ts(cand.o_paid),
            "shipped_at": _ts(cand.o_shipped),
            "completed_at": _ts(cand.o_completed),
            "cancelled_at": _ts(cand.o_cancelled),
            "updated_at": _ts(cand.o_created),  # set by the caller once refunds are known
            "status": "",  # set by the caller
            "currency": currency,
            "buyer_id": buyer_frame["buyer_id"].to_numpy(),
            "buyer_name": buyer_frame["buyer_name"].to_numpy(),
            "buyer_phone": buyer_frame["buyer_phone"].to_numpy(),
            "buyer_email": buyer_frame["buyer_email"].to_numpy(),
            "province": buyer_frame["province"].to_numpy(),
            "city": buyer_frame["city"].to_numpy(),
            "district": buyer_frame["district"].to_numpy(),
            "address_detail": buyer_frame["address_detail"].to_numpy(),
            "buyer_remark": buyer_remark.astype(object),
            "seller_remark": seller_remark.astype(object),
            "list_amount": to_decimal(o_list),
            "merchant_discount": to_decimal(o_merchant),
            "platform_discount": to_decimal(platform),
            "shipping_fee": to_decimal(shipping),
            "paid_amount": to_decimal(o_paid),
            "promo_id": o_promo_id,
        }
    )
    lst = listings.set_index(["shop_id", "sku"])
    key = pd.MultiIndex.from_arrays([shop_ids[l_shop], catalog.products["sku"].to_numpy()[cand.l_sku]])
    matched = lst.loc[key]
    lines = pd.DataFrame(
        {
            "shop_id": shop_ids[l_shop],
            "order_id": o_order_id[cand.l_order],
            "line_id": l_line_id,
            "sku": catalog.products["sku"].to_numpy()[cand.l_sku],
            "platform_product_id": matched["platform_product_id"].to_numpy(),
            "platform_sku_id": matched["platform_sku_id"].to_numpy(),
            "outer_id": matched["outer_id"].to_numpy(),
            "title": matched["title"].to_numpy(),
            "quantity": cand.l_qty.astype(int),
            "unit_list_price": to_decimal(unit),
            "merchant_discount": to_decimal(l_merchant),
            "platform_discount": to_decimal(l_platform),
            "paid_amount": to_decimal(l_paid),
        }
    )
    sold = Sold(o_paid_cents=o_paid,
                o_platform_cents=platform, l_paid_cents=l_paid, l_line_id=l_line_id, o_order_id=o_order_id)
    return orders, lines, sold
