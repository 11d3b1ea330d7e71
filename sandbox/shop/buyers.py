"""Fake buyers per shop (a pool with loyal repeat buyers): ids, names, phones, addresses (clear PII)."""

from __future__ import annotations

import numpy as np
import pandas as pd

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩婷雪琳晨欣怡子涵梓轩")
# province, city, districts, ships from WH-GZ (south)
CN_PLACES = [
    ("上海", "上海市", ["浦东新区", "徐汇区", "闵行区", "静安区"], False),
    ("北京", "北京市", ["朝阳区", "海淀区", "丰台区", "西城区"], False),
    ("浙江省", "杭州市", ["西湖区", "余杭区", "滨江区"], False),
    ("江苏省", "南京市", ["鼓楼区", "江宁区", "玄武区"], False),
    ("江苏省", "苏州市", ["姑苏区", "工业园区", "吴中区"], False),
    ("山东省", "青岛市", ["市南区", "崂山区", "黄岛区"], False),
    ("湖北省", "武汉市", ["武昌区", "洪山区", "江汉区"], False),
    ("河南省", "郑州市", ["金水区", "中原区", "二七区"], False),
    ("陕西省", "西安市", ["雁塔区", "碑林区", "未央区"], False),
    ("天津", "天津市", ["南开区", "和平区", "河西区"], False),
    ("辽宁省", "沈阳市", ["和平区", "浑南区", "铁西区"], False),
    ("安徽省", "合肥市", ["蜀山区", "包河区", "庐阳区"], False),
    ("广东省", "广州市", ["天河区", "海珠区", "番禺区", "白云区"], True),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区", "龙岗区"], True),
    ("广东省", "东莞市", ["南城街道", "东城街道", "长安镇"], True),
    ("福建省", "厦门市", ["思明区", "湖里区", "集美区"], True),
    ("四川省", "成都市", ["武侯区", "锦江区", "高新区"], True),
    ("重庆", "重庆市", ["渝中区", "江北区", "南岸区"], True),
    ("湖南省", "长沙市", ["岳麓区", "芙蓉区", "雨花区"], True),
    ("广西壮族自治区", "南宁市", ["青秀区", "西乡塘区"], True),
    ("云南省", "昆明市", ["五华区", "盘龙区"], True),
    ("新疆维吾尔自治区", "乌鲁木齐市", ["天山区", "沙依巴克区"], False),
]
CN_PLACE_WEIGHTS = np.array([9, 8, 8, 7, 6, 5, 5, 5, 4, 3, 3, 3, 8, 8, 4, 3, 5, 4, 4, 2, 2, 1], float)
ROADS = ["人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "文化路", "新华路", "滨江大道", "科技园路"]
ESTATES = ["阳光花园", "锦绣家园", "翠湖小区", "金色港湾", "万科城", "碧桂园", "绿地中心", "世纪新城"]
EN_FIRST = ["James", "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Chloe", "Kevin", "Grace"]
EN_LAST = ["Smith", "Chen", "Johnson", "Wang", "Brown", "Lee", "Garcia", "Miller", "Nguyen", "Davis", "Wong"]
EN_PLACES = [
    ("California", "Los Angeles"), ("California", "San Francisco"), ("New York", "New York"), ("Texas", "Houston"),
    ("Washington", "Seattle"), ("Ontario", "Toronto"), ("British Columbia", "Vancouver"), ("England", "London"),
    ("New South Wales", "Sydney"), ("Victoria", "Melbourne"),
]
BUYER_REMARKS = ["加急", "发顺丰", "请尽快发货", "不要放快递柜", "送人的，不要放价格单", "周末不在家，工作日送", "多送点赠品"]
EN_REMARKS = ["Please ship ASAP", "Gift - no invoice please", "Leave at the front door"]
SELLER_REMARKS = ["已备注赠品", "老客户，优先发货", "补发", "已电话确认地址", "顺丰发货"]


def _digits(rng: np.random.Generator, n: int, width: int) -> list[str]:
    return [f"{x:0{width}d}" for x in rng.integers(0, 10**width, n, dtype=np.int64)]


def build_buyers(rng: np.random.Generator, channel: str, n: int) -> pd.DataFrame:
    """`n` buyers of one shop; a handful lack a city or a street address (the exceptions queue)."""
    if channel == "shopify":
        first = rng.choice(EN_FIRST, n)
        last = rng.choice(EN_LAST, n)
        place = rng.integers(0, len(EN_PLACES), n)
        frame = pd.DataFrame(
            {
                "buyer_id": [str(x) for x in 6_600_000_000_000 + np.cumsum(rng.integers(1, 9000, n))],
                "buyer_name": [f"{f} {s}" for f, s in zip(first, last, strict=True)],
                "buyer_phone": [f"+1 {a[:3]}-{a[3:6]}-{a[6:]}" for a in _digits(rng, n, 10)],
                "buyer_email": [f"{f.lower()}.{s.lower()}{i}@example.com" for i, (f, s) in enumerate(zip(first, last, strict=True))],
                "province": [EN_PLACES[p][0] for p in place],
                "city": [EN_PLACES[p][1] for p in place],
                "district": "",
                "address_detail": [f"{int(a)} {st} St, Apt {int(b)}" for a, st, b in
                                   zip(rng.integers(1, 9999, n), rng.choice(["Main", "Oak", "Pine", "Maple", "King"], n),
                                       rng.integers(1, 40, n), strict=True)],
                "south": False,
            }
        )
    else:
        place = rng.choice(len(CN_PLACES), n, p=CN_PLACE_WEIGHTS / CN_PLACE_WEIGHTS.sum())
        if channel == "taobao":
            alnum = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
            ids = ["AAH" + "".join(rng.choice(alnum, 21)) for _ in range(n)]
        elif channel == "jd":
            ids = ["jd_" + f"{x:012x}" for x in rng.integers(0, 16**12, n, dtype=np.int64)]
        elif channel == "pinduoduo":
            ids = [str(x) for x in 8_100_000_000 + np.cumsum(rng.integers(1, 50_000, n))]
        else:
            ids = [str(x) for x in 1_850_000_000_000_000_000 + np.cumsum(rng.integers(1, 10**9, n))]
        two = rng.random(n) < 0.6
        frame = pd.DataFrame(
            {
                "buyer_id": ids,
                "buyer_name": [s + g1 + (g2 if t else "") for s, g1, g2, t in
                               zip(rng.choice(SURNAMES, n), rng.choice(GIVEN, n), rng.choice(GIVEN, n), two, strict=True)],
                "buyer_phone": [f"1{p}{d}" for p, d in zip(rng.choice(list("35789"), n), _digits(rng, n, 9), strict=True)],
                "buyer_email": None,
                "province": [CN_PLACES[p][0] for p in place],
                "city": [CN_PLACES[p][1] for p in place],
                "district": [CN_PLACES[p][2][int(k) % len(CN_PLACES[p][2])] for p, k in
                             zip(place, rng.integers(0, 10, n), strict=True)],
                "address_detail": [f"{r}{a}号{e}{b}栋{c}室" for r, a, e, b, c in
                                   zip(rng.choice(ROADS, n), rng.integers(1, 999, n), rng.choice(ESTATES, n),
                                       rng.integers(1, 30, n), rng.integers(101, 3202, n), strict=True)],
                "south": [CN_PLACES[p][3] for p in place],
            }
        )
    broken = rng.random(n) < 0.004
    missing_city = broken & (rng.random(n) < 0.5)
    frame.loc[missing_city, "city"] = ""
    frame.loc[broken & ~missing_city, "address_detail"] = ""
    return frame


def buyer_weights(rng: np.random.Generator, n: int) -> np.ndarray:
    """8% loyal buyers order about six times as often as the rest."""
    w = np.where(rng.random(n) < 0.08, 6.0, 1.0)
    return w / w.sum()
