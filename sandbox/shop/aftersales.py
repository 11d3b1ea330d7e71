"""Refunds/returns (with one size-return hotspot) and settlement bills (with injected discrepancies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from sandbox.shop.calendar import Days
from sandbox.shop.catalog import SHOPS, Catalog
from sandbox.shop.money import round_cents, to_decimal
from sandbox.shop.orders import DAY, HOUR, Candidates

REASONS = np.array(["size", "quality", "not_as_described", "damaged", "changed_mind", "late", "other"], dtype=object)
REASON_WEIGHTS = {
    "apparel": [0.45, 0.15, 0.13, 0.02, 0.20, 0.03, 0.02],
    "home": [0.0, 0.25, 0.15, 0.35, 0.18, 0.05, 0.02],
    "snacks": [0.0, 0.30, 0.05, 0.30, 0.10, 0.20, 0.05],
}
BASE_RATE = {"apparel": 0.10, "home": 0.04, "snacks": 0.02}
SHOP_RATE = {"shopify": 0.6, "taobao": 1.0, "jd": 0.8, "pinduoduo": 1.3, "douyin": 1.6}
HOTSPOT_SHOP = "pdd_main"
HOTSPOT_EXTRA = 0.30
REASON_TEXT = {
    "shopify": ["Size didn't fit", "Defective item", "Not as described", "Damaged in transit", "Changed my mind",
                "Arrived too late", "Other"],
    "taobao": ["尺码不合适", "质量问题", "与商品描述不符", "商品破损/少件", "七天无理由退换货", "未按约定时间发货", "其他"],
    "jd": ["尺码不合适", "商品质量问题", "商品与描述不符", "商品破损", "不想要了", "发货太慢", "其他原因"],
    "pinduoduo": ["尺码/大小不合适", "质量问题", "描述不符", "快递破损", "多拍/拍错/不想要", "未按约定时间发货", "其他"],
    "douyin": ["尺码拍错", "质量问题", "商品与页面描述不符", "收到商品破损", "不喜欢/效果不好", "发货慢", "其他"],
}


@dataclass
class RefundDraw:
    """Per candidate line: whether and how it is refunded (-1 / '' where not)."""

    flag: np.ndarray
    reason: np.ndarray  # index into REASONS
    qty: np.ndarray
    created: np.ndarray  # UTC ns or -1
    returned: np.ndarray
    status: np.ndarray
    restock_ns: np.ndarray  # UTC ns the goods are back in stock, or -1


def draw_refunds(rng: np.random.Generator, cand: Candidates, catalog: Catalog, hotspot: np.ndarray,
                 end_ns: int) -> RefundDraw:
    n = len(cand.l_order)
    shipped = cand.o_shipped[cand.l_order]
    cat = catalog.category[cand.l_sku]
    channel = np.array([s[1] for s in SHOPS])[cand.o_shop[cand.l_order]]
    p = np.vectorize(BASE_RATE.get)(cat) * np.vectorize(SHOP_RATE.get)(channel)
    flag = rng.random(n) < p
    reason = np.zeros(n, dtype=np.int64)
    for c, w in REASON_WEIGHTS.items():
        m = cat == c
        reason[m] = rng.choice(len(REASONS), m.sum(), p=np.array(w) / sum(w))
    shop_ids = np.array([s[0] for s in SHOPS])[cand.o_shop[cand.l_order]]
    hot = np.isin(cand.l_sku, hotspot) & (shop_ids == HOTSPOT_SHOP) & (rng.random(n) < HOTSPOT_EXTRA)
    flag |= hot
    reason[hot] = 0
    created = shipped + rng.integers(2 * DAY, 12 * DAY, n) + rng.integers(0, 12 * HOUR, n)
    flag &= (shipped >= 0) & (created <= end_ns)
    created = np.where(flag, created, -1)
    qty = np.where((cand.l_qty > 1) & (rng.random(n) < 0.3), 1, cand.l_qty)
    reason_name = REASONS[reason]
    returned = flag & (cat != "snacks") & ((reason_name != "damaged") | (rng.random(n) < 0.5)) & (reason_name != "late")
    status = np.where(rng.random(n) < 0.92, "success", "closed").astype(object)
    status[created > end_ns - 4 * DAY] = "processing"
    back = created + rng.integers(2 * DAY, 6 * DAY, n)
    restock = returned & (status == "success") & (back <= end_ns) & np.isin(
        reason_name, ["size", "changed_mind", "not_as_described", "late", "other"])
    return RefundDraw(flag=flag, reason=reason, qty=qty, created=created, returned=returned, status=status,
                      restock_ns=np.where(restock, back, -1))


def refunds_table(rng: np.random.Generator, draw: RefundDraw, cand: Candidates, lines: pd.DataFrame,
                  l_paid_cents: np.ndarray) -> pd.DataFrame:
    """`draw` and `cand` aligned with `lines` (already subset to sold lines)."""
    idx = np.flatnonzero(draw.flag)
    channel = np.array([s[1] for s in SHOPS])[cand.o_shop[cand.l_order[idx]]]
    amount = round_cents(l_paid_cents[idx] * draw.qty[idx] / cand.l_qty[idx])
    texts = np.array([REASON_TEXT[c][r] for c, r in zip(channel, draw.reason[idx], strict=True)], dtype=object)
    refund_ids = [str(x) for x in 20_000_000_000_000 + np.cumsum(rng.integers(1, 10**6, len(idx)))]
    frame = pd.DataFrame(
        {
            "shop_id": lines["shop_id"].to_numpy()[idx],
            "refund_id": refund_ids,
            "order_id": lines["order_id"].to_numpy()[idx],
            "line_id": lines["line_id"].to_numpy()[idx],
            "created_at": pd.to_datetime(draw.created[idx], utc=True),
            "quantity": draw.qty[idx].astype(int),
            "amount": to_decimal(amount),
            "reason": REASONS[draw.reason[idx]],
            "reason_text": texts,
            "goods_returned": draw.returned[idx],
            "restocked": draw.restock_ns[idx] >= 0,
            "status": draw.status[idx],
        }
    )
    frame["_amount_cents"] = amount
    return frame.sort_values("created_at", kind="stable").reset_index(drop=True)


def build_bills(rng: np.random.Generator, days: Days, orders: pd.DataFrame, refunds: pd.DataFrame,
                o_paid_cents: np.ndarray, o_platform_cents: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Settlement lines for orders completed more than the shop's lag before end_date; plus the injected errors."""
    shops = {s[0]: s for s in SHOPS}
    completed_local = orders["completed_at"].dt.tz_convert("Asia/Shanghai").dt.date
    lag = orders["shop_id"].map({k: v[6] for k, v in shops.items()})
    billed = orders["completed_at"].notna().to_numpy().copy()
    settled = np.array([c + timedelta(days=int(g)) if b else None for c, g, b in
                        zip(completed_local, lag, billed, strict=True)], dtype=object)
    billed &= np.array([s is not None and s <= days.end for s in settled])
    rows: list[tuple] = []  # shop, order, type, cents, date
    ref_by_order = refunds[refunds["status"] == "success"].groupby("order_id")["_amount_cents"].sum()
    for i in np.flatnonzero(billed):
        shop_id, order_id = orders.at[i, "shop_id"], orders.at[i, "order_id"]
        _, channel, _, _, commission, service, _, _ = shops[shop_id]
        paid = int(o_paid_cents[i])
        d = settled[i]
        rows.append((shop_id, order_id, "income", paid, d))
        if float(commission) > 0:
            rows.append((shop_id, order_id, "commission", -int(round_cents(paid * float(commission))), d))
        rows.append((shop_id, order_id, "service_fee", -int(round_cents(paid * float(service))), d))
        if channel == "douyin" and hash_fraction(order_id) < 0.4:
            rows.append((shop_id, order_id, "affiliate_commission", -int(round_cents(paid * 0.10)), d))
        if o_platform_cents[i] > 0:
            rows.append((shop_id, order_id, "subsidy", int(o_platform_cents[i]), d))
        if order_id in ref_by_order.index:
            rows.append((shop_id, order_id, "refund", -int(ref_by_order[order_id]), d))
    bills = pd.DataFrame(rows, columns=["shop_id", "order_id", "type", "cents", "settled_date"])
    errors: list[dict] = []
    own_stores = [s[0] for s in SHOPS if s[1] == "shopify"]
    market = bills[~bills["shop_id"].isin(own_stores)]
    orders_billed = market.drop_duplicates("order_id")
    pick_seed = int(rng.integers(0, 2**31))
    pick = orders_billed.sample(min(6, len(orders_billed)), random_state=pick_seed)  # a short world may bill fewer
    # 2 missing settlements
    for _, r in pick.iloc[:2].iterrows():
        bills = bills[bills["order_id"] != r.order_id]
        errors.append(dict(shop_id=r.shop_id, order_id=r.order_id, error="missing_settlement",
                           detail="no bill lines at all for this completed order"))
    # 2 wrong commissions
    for _, r in pick.iloc[2:4].iterrows():
        m = (bills["order_id"] == r.order_id) & (bills["type"].isin(["commission", "service_fee"]))
        j = bills.index[m][0]
        old = int(bills.at[j, "cents"])
        new = old * 3 // 2 - 100
        bills.at[j, "cents"] = new
        errors.append(dict(shop_id=r.shop_id, order_id=r.order_id, error="amount_mismatch",
                           detail=f"{bills.at[j, 'type']} billed {new / 100:.2f} instead of {old / 100:.2f}"))
    bills, store_errors = _inject_store_errors(bills, own_stores, pick_seed + 1)
    errors += store_errors
    bills = bills.reset_index(drop=True)
    bills.insert(1, "bill_line_id", [f"BL{int(x)}" for x in 8_800_000_000 + np.arange(len(bills)) * 7 + 3])
    # 2 duplicated lines (same bill_line_id twice)
    dups = []
    for _, r in pick.iloc[4:6].iterrows():
        j = bills.index[(bills["order_id"] == r.order_id) & (bills["type"] == "income")][0]
        dups.append(bills.loc[[j]])
        errors.append(dict(shop_id=r.shop_id, order_id=r.order_id, error="duplicate_bill",
                           detail=f"income line {bills.at[j, 'bill_line_id']} appears twice"))
    # 1 orphan line
    orphan_shop = "tmall_flagship"
    orphan_order = "3899999999999999999"
    orphan = pd.DataFrame([dict(shop_id=orphan_shop, bill_line_id=f"BL{8_799_999_999}", order_id=orphan_order,
                                type="income", cents=19900, settled_date=days.end - timedelta(days=3))])
    errors.append(dict(shop_id=orphan_shop, order_id=orphan_order, error="orphan_bill",
                       detail="income line for an order id that is not in orders"))
    bills = pd.concat([bills, *dups, orphan], ignore_index=True)
    bills = bills.sort_values(["settled_date", "bill_line_id"], kind="stable").reset_index(drop=True)
    bills["amount"] = to_decimal(bills["cents"].to_numpy())
    bills = bills[["shop_id", "bill_line_id", "order_id", "type", "amount", "settled_date"]]
    return bills, pd.DataFrame(errors, columns=["shop_id", "order_id", "error", "detail"])


def _inject_store_errors(bills: pd.DataFrame, stores: list[str], seed: int) -> tuple[pd.DataFrame, list[dict]]:
    """Shopify Payments' own discrepancies, one each: an order never paid out, a processing fee off, an order
    charged twice. Shopify's ledger never repeats an id, so the second charge is a new income line with its own
    fee line (the marketplaces' duplicate repeats a bill line id instead). Seeded apart from `rng`, so the
    marketplaces' worlds stay as they were."""
    errors: list[dict] = []
    billed = bills[bills["shop_id"].isin(stores) & (bills["type"] == "income")].drop_duplicates("order_id")
    if len(billed) < 3:
        return bills, errors
    missing, wrong_fee, twice = (r for _, r in billed.sample(3, random_state=seed).iterrows())
    bills = bills[bills["order_id"] != missing.order_id]
    errors.append(dict(shop_id=missing.shop_id, order_id=missing.order_id, error="missing_settlement",
                       detail="no charge in any payout for this completed order"))
    j = bills.index[(bills["order_id"] == wrong_fee.order_id) & (bills["type"] == "service_fee")][0]
    old = int(bills.at[j, "cents"])
    new = old * 3 // 2 - 100
    bills.at[j, "cents"] = new
    errors.append(dict(shop_id=wrong_fee.shop_id, order_id=wrong_fee.order_id, error="amount_mismatch",
                       detail=f"service_fee billed {new / 100:.2f} instead of {old / 100:.2f}"))
    again = bills[(bills["order_id"] == twice.order_id) & bills["type"].isin(["income", "service_fee"])]
    bills = pd.concat([bills, again], ignore_index=True)
    errors.append(dict(shop_id=twice.shop_id, order_id=twice.order_id, error="duplicate_bill",
                       detail=f"charged twice: a second charge of {int(twice.cents) / 100:.2f} with its own fee"))
    return bills, errors


def hash_fraction(text: str) -> float:
    """A stable pseudo-random fraction of a string (deterministic across runs, unlike hash())."""
    import zlib

    return (zlib.crc32(text.encode()) % 10_000) / 10_000
