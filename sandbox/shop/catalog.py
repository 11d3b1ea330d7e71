"""The seller's master data: suppliers, warehouses, ~200 master SKUs (apparel, home, snacks, kits) and shops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from sandbox.shop.money import to_decimal

SUPPLIERS = [
    # id, name, lead time days, moq, category served
    ("SUP-01", "杭州织锦服饰有限公司", 15, 100, "apparel"),
    ("SUP-02", "广州优衣纺织厂", 25, 200, "apparel"),
    ("SUP-03", "义乌家居日用品有限公司", 10, 120, "home"),
    ("SUP-04", "佛山陶瓷制品厂", 30, 60, "home"),
    ("SUP-05", "福建好味食品有限公司", 7, 200, "snacks"),
    ("SUP-06", "四川川味食品有限公司", 12, 150, "snacks"),
]
SUPPLIER_WEBHOOK = "http://127.0.0.1:8721/suppliers/{supplier_id}/purchase-orders"

WAREHOUSES = [("WH-SH", "上海仓", "上海"), ("WH-GZ", "广州仓", "广州")]

SHOPS = [
    # id, channel, name, currency, commission, service fee, settlement lag, share of orders
    ("shopify_global", "shopify", "Shopify 独立站", "USD", "0.0000", "0.0290", 7, 0.10),
    ("tmall_flagship", "taobao", "天猫旗舰店", "CNY", "0.0500", "0.0060", 10, 0.35),
    ("jd_pop", "jd", "京东POP店", "CNY", "0.0800", "0.0100", 15, 0.20),
    ("pdd_main", "pinduoduo", "拼多多店", "CNY", "0.0060", "0.0060", 8, 0.20),
    ("douyin_live", "douyin", "抖音小店", "CNY", "0.0500", "0.0100", 12, 0.15),
]
SHOP_IDS = [s[0] for s in SHOPS]

APPAREL = [  # item, season peak day-of-year (None = all season), base cost CNY
    ("纯棉圆领短袖T恤", 190, 22), ("冰丝阔腿裤", 200, 35), ("防晒连帽衫", 170, 45), ("亚麻衬衫", 185, 55),
    ("运动速干短裤", 195, 25), ("碎花雪纺连衣裙", 180, 60), ("POLO衫", 175, 40), ("羊毛针织开衫", 330, 110),
    ("加绒卫衣", 340, 65), ("轻薄羽绒服", 350, 160), ("摇粒绒外套", 330, 70), ("高领打底衫", 345, 30),
    ("灯芯绒休闲裤", 320, 58), ("牛仔夹克", 290, 85), ("直筒牛仔裤", None, 60), ("休闲西装外套", 280, 120),
    ("法兰绒格子衬衫", 310, 52), ("棉质家居服套装", None, 48), ("针织半身裙", 300, 46), ("冲锋衣", 320, 150),
    ("条纹长袖T恤", 100, 28), ("风衣", 90, 140), ("工装裤", 110, 62), ("薄款针织衫", 95, 50), ("运动卫裤", None, 40),
]
COLOURS = ["白色", "黑色", "藏青", "燕麦色", "雾霾蓝", "卡其", "灰色", "酒红"]
HOME = [
    ("北欧陶瓷马克杯 350ml", 9), ("玻璃密封罐 三件套", 18), ("硅藻泥浴室地垫", 22), ("全棉四件套 1.8m", 120),
    ("乳胶枕", 65), ("珊瑚绒毛毯", 45), ("不锈钢保温杯 500ml", 28), ("香薰蜡烛", 15), ("收纳箱 大号", 25),
    ("厨房置物架", 38), ("懒人沙发", 150), ("遮光窗帘 2m", 60), ("竹纤维毛巾 3条装", 20), ("记忆棉坐垫", 30),
    ("电动牙刷", 55), ("陶瓷碗碟套装", 70), ("不粘锅炒锅", 85), ("木质砧板", 24), ("挂烫机", 110),
    ("空气加湿器", 75), ("桌面收纳盒", 12), ("脏衣篮", 19), ("晾衣架 10支", 16), ("床头夜灯", 21),
    ("防滑衣架 20只", 18), ("保鲜盒套装", 26), ("折叠凳", 29), ("浴帘", 17), ("抱枕套", 11), ("花瓶", 23),
    ("门口地垫", 20), ("冰箱收纳盒", 22), ("电热水壶", 58), ("挂钟", 35), ("保温饭盒", 40), ("筷子 10双", 14),
    ("调味瓶套装", 19), ("洗脸巾 3卷", 15), ("坐便器垫", 13), ("鞋架 五层", 45), ("桌布", 18), ("靠垫", 27),
    ("铸铁锅", 160), ("不锈钢刀具五件套", 95), ("宠物窝", 55), ("蒸笼", 33), ("衣物除尘滚", 8), ("台灯", 68),
    ("床边收纳挂袋", 10), ("化妆镜", 32),
]
SNACKS = [  # item, cost, shelf life days
    ("手撕面包 500g", 12, 120), ("每日坚果 30包", 45, 240), ("麻辣牛肉干 200g", 28, 180), ("芒果干 500g", 20, 270),
    ("猪肉脯 200g", 22, 180), ("海苔脆 12袋", 15, 365), ("夏威夷果 500g", 35, 240), ("鸭脖 卤味礼盒", 30, 90),
    ("辣条大礼包", 18, 180), ("蛋黄酥 6枚", 16, 60), ("凤梨酥 礼盒", 26, 120), ("开心果 500g", 42, 300),
    ("饼干组合 1kg", 20, 270), ("麻花 500g", 12, 150), ("红枣 1kg", 25, 365), ("核桃 500g", 24, 300),
    ("巧克力礼盒", 38, 365), ("果冻 30个", 14, 365), ("薯片 10包", 16, 270), ("螺蛳粉 5袋", 27, 180),
    ("酸辣粉 6桶", 19, 180), ("自热火锅 3盒", 33, 270), ("桂圆干 500g", 26, 365), ("鱿鱼丝 200g", 21, 240),
    ("花生牛轧糖 500g", 17, 180), ("瓜子 1kg", 18, 240), ("沙琪玛 1kg", 16, 150), ("蜂蜜 500g", 30, 730),
    ("枸杞 250g", 22, 540), ("燕麦片 1kg", 15, 365), ("黑芝麻丸", 28, 180), ("月饼礼盒", 40, 60),
    ("腰果 500g", 38, 300), ("豆干 500g", 13, 120), ("鸡爪 10只", 19, 120), ("米饼 1kg", 17, 270),
    ("老婆饼 10个", 15, 60), ("绿豆糕 礼盒", 20, 90), ("山楂条 500g", 12, 365), ("酸奶块 200g", 16, 270),
    ("杏仁 500g", 34, 300), ("奶枣 500g", 23, 180),
]
KITS = [  # name, list of (component position in its category list, category, qty)
    ("零食大礼包 组合装", [(0, "snacks", 1), (2, "snacks", 1), (5, "snacks", 2)]),
    ("坚果礼盒 组合装", [(1, "snacks", 1), (6, "snacks", 1), (11, "snacks", 1)]),
    ("年货礼包 组合装", [(10, "snacks", 1), (16, "snacks", 1)]),
    ("厨房三件套 组合装", [(16, "home", 1), (17, "home", 1), (43, "home", 1)]),
    ("卧室好眠套装 组合装", [(3, "home", 1), (4, "home", 2)]),
    ("浴室收纳套装 组合装", [(2, "home", 1), (12, "home", 1)]),
    ("T恤两件装 组合装", [(0, "apparel", 2)]),
    ("情侣卫衣套装 组合装", [(8, "apparel", 1), (24, "apparel", 1)]),
]
SIZES = ["S", "M", "L", "XL"]


@dataclass
class Catalog:
    suppliers: pd.DataFrame
    warehouses: pd.DataFrame
    products: pd.DataFrame
    kit_components: pd.DataFrame
    shops: pd.DataFrame
    # per product arrays (aligned with products rows)
    cost_cents: np.ndarray
    price_cents: np.ndarray
    category: np.ndarray
    is_kit: np.ndarray
    lead_time: np.ndarray  # effective lead time days
    season_peak: np.ndarray  # day of year, nan = none
    launched_on: list[date]
    components: np.ndarray  # (products x products) units of column component per row item


def ean13(body12: str) -> str:
    digits = [int(c) for c in body12]
    check = (10 - (sum(digits[0::2]) + 3 * sum(digits[1::2])) % 10) % 10
    return body12 + str(check)


def retail_price_cents(cost: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """A price like 59.00 / 89.90 / 129.00 with a 40-70% gross margin."""
    raw = cost / (1 - margin)
    nines = np.where(raw < 50, np.ceil(raw) - 0.1, np.ceil(raw / 10) * 10 - 1)
    return np.round(nines * 100).astype(np.int64)


def build_catalog(rng: np.random.Generator, start: date, n_days: int) -> Catalog:
    rows: list[dict] = []
    peaks: list[float] = []
    costs: list[float] = []
    for i, (item, peak, cost) in enumerate(APPAREL, start=1):
        spu = f"AP-{i:04d}"
        colour = COLOURS[i % len(COLOURS)]
        base_weight = int(rng.integers(150, 900))
        for k, size in enumerate(SIZES):
            rows.append(
                dict(sku=f"{spu}-{size}", name=f"{item} {colour} {size}码", category="apparel", spu=spu, size=size,
                     supplier_id="SUP-01" if i % 2 else "SUP-02", shelf_life_days=None,
                     weight_g=base_weight + 30 * k)
            )
            peaks.append(np.nan if peak is None else float(peak))
            costs.append(cost + (5 if size == "XL" else 0))
    for i, (item, cost) in enumerate(HOME, start=1):
        rows.append(dict(sku=f"HM-{i:04d}", name=item, category="home", spu=f"HM-{i:04d}", size=None,
                         supplier_id="SUP-03" if i % 3 else "SUP-04", shelf_life_days=None,
                         weight_g=int(rng.integers(200, 3000))))
        peaks.append(np.nan)
        costs.append(cost)
    for i, (item, cost, shelf) in enumerate(SNACKS, start=1):
        rows.append(dict(sku=f"SN-{i:04d}", name=item, category="snacks", spu=f"SN-{i:04d}", size=None,
                         supplier_id="SUP-05" if i % 2 else "SUP-06", shelf_life_days=shelf,
                         weight_g=int(rng.integers(100, 2500))))
        peaks.append(np.nan)
        costs.append(cost)
    n_plain = len(rows)
    # sizes of one garment share the cost factor and margin of their family
    family = pd.factorize(pd.Series([r["spu"] for r in rows]))[0]
    cost_factor = rng.uniform(0.9, 1.1, family.max() + 1)[family]
    margin = rng.uniform(0.42, 0.68, family.max() + 1)[family]
    cost_arr = np.round(np.array(costs, dtype=float) * cost_factor, 1)
    cost_cents = np.round(cost_arr * 100).astype(np.int64)
    price_cents = retail_price_cents(cost_arr, margin)

    by_cat = {c: [i for i, r in enumerate(rows) if r["category"] == c] for c in ("apparel", "home", "snacks")}
    # apparel components use the M size of the garment
    comp_matrix_rows: list[list[tuple[int, int]]] = []
    kit_rows = []
    for k, (name, parts) in enumerate(KITS, start=1):
        comps = []
        for pos, cat, qty in parts:
            idx = by_cat[cat][pos * 4 + 1] if cat == "apparel" else by_cat[cat][pos]
            comps.append((idx, qty))
        comp_matrix_rows.append(comps)
        kit_rows.append(dict(sku=f"KT-{k:04d}", name=name, category=rows[comps[0][0]]["category"],
                             spu=f"KT-{k:04d}", size=None, supplier_id=rows[comps[0][0]]["supplier_id"],
                             shelf_life_days=min((rows[c]["shelf_life_days"] or 10**6) for c, _ in comps),
                             weight_g=sum(rows[c]["weight_g"] * q for c, q in comps)))
    kit_cost = [sum(int(cost_cents[c]) * q for c, q in comps) for comps in comp_matrix_rows]
    kit_price = [int(round(sum(int(price_cents[c]) * q for c, q in comps) * 0.85 / 100)) * 100 - 10
                 for comps in comp_matrix_rows]
    for r in kit_rows:
        if r["shelf_life_days"] == 10**6:
            r["shelf_life_days"] = None
    rows += kit_rows
    peaks += [np.nan] * len(kit_rows)
    n = len(rows)
    cost_cents = np.r_[cost_cents, kit_cost].astype(np.int64)
    price_cents = np.r_[price_cents, kit_price].astype(np.int64)
    is_kit = np.r_[np.zeros(n_plain, bool), np.ones(len(kit_rows), bool)]
    components = np.zeros((n, n), dtype=np.int64)
    components[np.arange(n_plain), np.arange(n_plain)] = 1
    for k, comps in enumerate(comp_matrix_rows):
        for c, q in comps:
            components[n_plain + k, c] += q

    suppliers = pd.DataFrame(
        {
            "supplier_id": [s[0] for s in SUPPLIERS],
            "name": [s[1] for s in SUPPLIERS],
            "lead_time_days": [s[2] for s in SUPPLIERS],
            "moq": [s[3] for s in SUPPLIERS],
            "currency": "CNY",
            "webhook_url": [SUPPLIER_WEBHOOK.format(supplier_id=s[0]) for s in SUPPLIERS],
        }
    )
    sup_lead = dict(zip(suppliers["supplier_id"], suppliers["lead_time_days"], strict=True))
    sup_moq = dict(zip(suppliers["supplier_id"], suppliers["moq"], strict=True))
    category = np.array([r["category"] for r in rows])
    override = rng.random(n) < 0.08
    sku_lead = np.where(override, rng.integers(7, 31, n), 0)
    lead_override: list[int | None] = [int(x) if o and not k else None for x, o, k in zip(sku_lead, override, is_kit, strict=True)]
    lead_time = np.array([lo if lo is not None else sup_lead[r["supplier_id"]] for lo, r in zip(lead_override, rows, strict=True)])
    pack_choices = {"apparel": [10, 20, 50], "home": [4, 6, 12, 24], "snacks": [12, 24, 48]}
    pack = np.array([int(rng.choice(pack_choices[c])) for c in category])
    pack[is_kit] = 1
    moq = np.array([int(np.ceil(sup_moq[r["supplier_id"]] * rng.uniform(0.3, 1.0) / p) * p)
                    for r, p in zip(rows, pack, strict=True)])
    moq[is_kit] = 0
    # 15% of the product families launch during the history, the rest before it (kits: before)
    fam = np.r_[family, family.max() + 1 + np.arange(len(kit_rows))]
    mid = rng.random(fam.max() + 1) < 0.15
    latest = max(31, min(240, n_days - 30))
    offset = np.where(mid, rng.integers(30, latest, fam.max() + 1), -rng.integers(30, 3 * 365, fam.max() + 1))
    launched = [start + timedelta(days=int(offset[f])) if not (k and mid[f]) else start - timedelta(days=60)
                for f, k in zip(fam, is_kit, strict=True)]
    for k, comps in enumerate(comp_matrix_rows):  # a kit launches after its components
        launched[n_plain + k] = max([launched[n_plain + k]] + [launched[c] for c, _ in comps])
    barcodes = [ean13(f"69{int(x):010d}") for x in rng.choice(10**10, n, replace=False)]

    products = pd.DataFrame(
        {
            "sku": [r["sku"] for r in rows],
            "name": [r["name"] for r in rows],
            "category": category,
            "spu": [r["spu"] for r in rows],
            "size": [r["size"] for r in rows],
            "unit_cost": to_decimal(cost_cents),
            "list_price": to_decimal(price_cents),
            "supplier_id": [r["supplier_id"] for r in rows],
            "pack_size": pack.astype(int),
            "moq": moq.astype(int),
            "lead_time_days": pd.array(lead_override, dtype="Int64"),
            "shelf_life_days": pd.array([r["shelf_life_days"] for r in rows], dtype="Int64"),
            "weight_g": np.array([r["weight_g"] for r in rows], dtype=int),
            "is_kit": is_kit,
            "barcode": barcodes,
            "launched_on": launched,
        }
    )
    kit_components = pd.DataFrame(
        [
            {"kit_sku": products.sku[n_plain + k], "component_sku": products.sku[c], "quantity": q}
            for k, comps in enumerate(comp_matrix_rows)
            for c, q in comps
        ]
    )
    warehouses = pd.DataFrame(WAREHOUSES, columns=["warehouse_id", "name", "city"])
    shops = pd.DataFrame(
        {
            "shop_id": [s[0] for s in SHOPS],
            "channel": [s[1] for s in SHOPS],
            "name": [s[2] for s in SHOPS],
            "currency": [s[3] for s in SHOPS],
            "timezone": "Asia/Shanghai",
            "commission_rate": [Decimal(s[4]) for s in SHOPS],
            "service_fee_rate": [Decimal(s[5]) for s in SHOPS],
            "settlement_lag_days": [s[6] for s in SHOPS],
        }
    )
    return Catalog(
        suppliers=suppliers, warehouses=warehouses, products=products, kit_components=kit_components, shops=shops,
        cost_cents=cost_cents, price_cents=price_cents, category=category, is_kit=is_kit, lead_time=lead_time,
        season_peak=np.array(peaks, dtype=float), launched_on=launched, components=components,
    )


def shop_share() -> np.ndarray:
    return np.array([s[7] for s in SHOPS])
