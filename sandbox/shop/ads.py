"""The marketplace shops' ad spend (直通车/万相台, 京准通, 多多推广, 巨量千川): per shop, two or three plans (计划)
that spend every day a share of the shop's paid sales of that day, with impressions, clicks and the orders and
GMV the ad platform attributes to them. Ads live outside the order APIs: sellers download the ad platform's daily
plan report, so the simulated shop gives them only as exports (sandbox/shop/exports.py).

Drawn from a random stream of its own (seed, 7), so adding ads changed no other table of the world."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

PLANS: dict[str, list[tuple[str, str]]] = {  # channel -> (plan name, ad product) of its plans
    "taobao": [
        ("关键词推广-爆款", "关键词推广"),
        ("货品运营-新品", "货品运营"),
        ("人群推广-老客", "人群推广"),
    ],
    "jd": [("快车-搜索", "京东快车"), ("京速推-店铺", "京速推")],
    "pinduoduo": [("全站推广", "全站推广"), ("标准推广-搜索", "标准推广")],
    "douyin": [("千川-直播间成交", "直播带货"), ("千川-商品卡", "商品卡")],
}
SHARE_OF_SALES = (0.04, 0.09)  # a shop's daily spend over its paid sales that day, drawn per shop
CENT = Decimal("0.01")


def build_ad_spend(seed: int, shops: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """One row per marketplace shop, plan and local date with paid orders: spend (Decimal, shop currency)."""
    rng = np.random.default_rng([seed, 7])
    rows = []
    for shop in shops.itertuples():
        plans = PLANS.get(shop.channel)
        if not plans:
            continue
        paid = orders[(orders.shop_id == shop.shop_id) & orders.paid_at.notna()]
        if paid.empty:
            continue
        days = paid.paid_at.dt.tz_convert(shop.timezone).dt.date
        sales = paid.groupby(days)["paid_amount"].sum()
        share = rng.uniform(*SHARE_OF_SALES)
        weights = rng.dirichlet(np.ones(len(plans)) * 3)
        roi = rng.uniform(1.8, 4.0, len(plans))
        for plan_no, ((name, product), weight) in enumerate(zip(plans, weights, strict=True)):
            campaign_id = f"{1000 + plan_no}{int(rng.integers(10**7, 10**8))}"
            for day, value in sales.items():
                spend = float(value) * share * weight * rng.lognormal(0, 0.25)
                if spend < 1:
                    continue
                gmv = spend * roi[plan_no] * rng.lognormal(0, 0.3)
                impressions = int(spend * rng.uniform(150, 260))
                clicks = int(impressions * rng.uniform(0.01, 0.04))
                rows.append({
                    "shop_id": shop.shop_id, "spend_date": day, "campaign_id": campaign_id, "campaign_name": name,
                    "ad_product": product, "currency": shop.currency,
                    "spend": Decimal(str(round(spend, 2))).quantize(CENT), "impressions": impressions,
                    "clicks": clicks, "attributed_orders": int(round(gmv / 120)),
                    "attributed_gmv": Decimal(str(round(gmv, 2))).quantize(CENT),
                })  # fmt: skip
    columns = ["shop_id", "spend_date", "campaign_id", "campaign_name", "ad_product", "currency", "spend",
               "impressions", "clicks", "attributed_orders", "attributed_gmv"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
