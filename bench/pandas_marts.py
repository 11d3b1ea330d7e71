"""The usual alternative of `python -m bench.scale`: the key marts as a seller's analyst writes them in pandas —
every raw table read into a DataFrame, each channel's orders, lines and refunds put into one shape, merged and
grouped — computing what bench/floor.sql computes (see it for the definitions). Run as a process of its own:

    python -m bench.pandas_marts <build.duckdb> <out.duckdb> <as_of YYYY-MM-DD>

reads the raw tables of <build.duckdb> and writes its tables to schema `pandas` of <out.duckdb> (for
bench/scale_check.py). Money is float here, as an analyst's DataFrame has it; the checker allows 0.01.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
FX_SEED = REPO / "dbt_project" / "seeds" / "fx_rates.csv"
OVERDUE_GRACE_DAYS = 14


def read(con: duckdb.DuckDBPyConnection, table: str, columns: str = "*") -> pd.DataFrame:
    return con.execute(f"select {columns} from {table}").fetchdf()


def local_date(ts: pd.Series, tz: pd.Series) -> pd.Series:
    """The shop-local date of UTC instants (every shop of the bench is in one timezone: converted once)."""
    zone = tz.iloc[0] if len(tz) else "Asia/Shanghai"
    return ts.dt.tz_convert(zone).dt.date


def gmt8(text: pd.Series) -> pd.Series:
    """TOP / JOS / POP wall-clock strings (GMT+8) as UTC instants."""
    return (
        pd.to_datetime(text.replace("", None), format="%Y-%m-%d %H:%M:%S")
        .dt.tz_localize("Asia/Shanghai")
        .dt.tz_convert("UTC")
    )


def epoch(seconds: pd.Series) -> pd.Series:
    return pd.to_datetime(seconds, unit="s", utc=True)


def with_shop(frame: pd.DataFrame, shops: pd.DataFrame) -> pd.DataFrame:
    return frame.merge(shops, on="shop_id", how="inner")


def api_orders(con, shops: pd.DataFrame) -> pd.DataFrame:
    out = []
    t = with_shop(
        read(con, "raw_taobao.orders", "tid, created, pay_time, status, buyer_open_uid, shop_id"), shops
    )
    t["order_id"] = t.shop_id + ":" + t.tid.astype(str)
    t["created_at"], t["paid_at"] = gmt8(t.created), gmt8(t.pay_time)
    t["order_status"] = t.status.map(
        {"WAIT_BUYER_PAY": "pending_payment", "WAIT_SELLER_SEND_GOODS": "paid", "SELLER_CONSIGNED_PART": "shipped",
         "WAIT_BUYER_CONFIRM_GOODS": "shipped", "TRADE_BUYER_SIGNED": "shipped", "TRADE_FINISHED": "completed",
         "TRADE_CLOSED": "refunded", "TRADE_CLOSED_BY_TAOBAO": "cancelled"}
    )  # fmt: skip
    t["buyer_key"] = t.shop_id + ":" + t.buyer_open_uid.fillna("unknown")
    out.append(t)

    j = with_shop(read(con, "raw_jd.orders", "order_id, order_start_time, payment_confirm_time, order_state, pin, shop_id"), shops)  # fmt: skip
    j["order_id"] = j.shop_id + ":" + j.order_id
    j["created_at"], j["paid_at"] = gmt8(j.order_start_time), gmt8(j.payment_confirm_time)
    state = j.order_state
    j["order_status"] = np.select(
        [
            (state == "TRADE_CANCELED") & j.payment_confirm_time.notna(),
            state == "TRADE_CANCELED",
            state == "FINISHED_L",
            state == "WAIT_GOODS_RECEIVE_CONFIRM",
            state.isin(
                [
                    "WAIT_SELLER_STOCK_OUT",
                    "WAIT_SELLER_DELIVERY",
                    "WAIT_SEND_CODE",
                    "LOCKED",
                    "PAUSE",
                    "POP_ORDER_PAUSE",
                ]
            ),  # fmt: skip
            state.isin(["WAIT_PAY", "NOT_PAY"]),
        ],
        ["refunded", "cancelled", "completed", "shipped", "paid", "pending_payment"],
        None,
    )
    j["currency"] = "CNY"
    j["buyer_key"] = j.shop_id + ":" + j.pin.fillna("guest")
    out.append(j)

    p = with_shop(read(con, "raw_pinduoduo.orders", "order_sn, created_time, confirm_time, order_status, refund_status, buyer_id, shop_id"), shops)  # fmt: skip
    p["order_id"] = p.shop_id + ":" + p.order_sn
    p["created_at"], p["paid_at"] = gmt8(p.created_time), gmt8(p.confirm_time)
    p["order_status"] = np.select(
        [p.refund_status == 4, p.order_status == 4, p.order_status == 0, p.order_status == 3, p.order_status == 2,
         p.order_status == 1],
        ["refunded", "cancelled", "pending_payment", "completed", "shipped", "paid"],
        None,
    )  # fmt: skip
    p["currency"] = "CNY"
    p["buyer_key"] = p.shop_id + ":" + p.buyer_id.fillna("unknown")
    out.append(p)

    d = with_shop(read(con, "raw_douyin.orders", "order_id, create_time, pay_time, order_status, doudian_open_id, shop_id"), shops)  # fmt: skip
    d["order_id"] = d.shop_id + ":" + d.order_id
    d["created_at"] = epoch(d.create_time)
    d["paid_at"] = epoch(d.pay_time.where(d.pay_time > 0))
    s, paid = d.order_status, d.pay_time.fillna(0) > 0
    d["order_status"] = np.select(
        [
            (s == 4) & paid,
            s == 4,
            s.isin([21, 22, 39]),
            s == 5,
            s.isin([3, 101]),
            s.isin([2, 105]),
            s.isin([1, 103]),
        ],
        ["refunded", "cancelled", "refunded", "completed", "shipped", "paid", "pending_payment"],
        None,
    )
    d["buyer_key"] = d.shop_id + ":" + d.doudian_open_id.fillna("unknown")
    out.append(d)

    shopify = read(con, "raw_shopify.orders", "id, created_at, processed_at, financial_status, cancelled_at, currency as order_currency, customer__id, email, shop_id")  # fmt: skip
    sh = with_shop(shopify, shops)
    sh["order_id"] = sh.shop_id + ":" + sh.id.astype(str)
    sh["created_at"] = pd.to_datetime(sh.created_at, utc=True)
    fs = sh.financial_status.fillna("")
    counted = fs.isin(["paid", "partially_paid", "partially_refunded", "refunded"])
    sh["paid_at"] = pd.to_datetime(sh.processed_at, utc=True).fillna(sh.created_at).where(counted)
    sh["order_status"] = np.select(
        [fs == "refunded", sh.cancelled_at.notna(), fs.isin(["pending", "authorized", "voided", "expired"]),
         ~fs.isin(["paid", "partially_paid", "partially_refunded"])],
        ["refunded", "cancelled", "pending_payment", None],
        "paid",
    )  # fmt: skip
    sh["currency"] = sh.order_currency
    customer = sh.customer__id.astype("Int64").astype(str).where(sh.customer__id.notna())
    sh["buyer_key"] = sh.shop_id + ":" + customer.fillna(sh.email).fillna("guest")
    out.append(sh)

    keep = [
        "order_id",
        "shop_id",
        "currency",
        "timezone",
        "created_at",
        "paid_at",
        "order_status",
        "buyer_key",
    ]
    orders = pd.concat([o[keep] for o in out], ignore_index=True)
    orders["order_date"] = local_date(orders.created_at, orders.timezone)
    return orders


def file_orders(con, shops: pd.DataFrame) -> pd.DataFrame:
    f = read(
        con,
        "raw_files.orders",
        "shop_id, order_id, order_status, created_at, paid_at, currency, buyer_id_hash",
    )
    g = f.groupby(["shop_id", "order_id"], sort=False).agg(
        status=("order_status", "min"),
        created_at=("created_at", "min"),
        paid_at=("paid_at", "min"),
        file_currency=("currency", "min"),
        buyer=("buyer_id_hash", "max"),
    )
    g = with_shop(g.reset_index(), shops)
    closed = g.status == "closed"
    g["order_status"] = np.where(
        closed & g.paid_at.notna(), "refunded", np.where(closed, "cancelled", g.status)
    )
    g["paid_at"] = g.paid_at.where(g.order_status != "cancelled")
    g["currency"] = g.file_currency.fillna(g.currency).str.upper()
    g["order_id"] = g.shop_id + ":" + g.order_id
    g["buyer_key"] = g.shop_id + ":" + g.buyer
    g["created_at"] = pd.to_datetime(g.created_at, utc=True)
    g["order_date"] = local_date(g.created_at, g.timezone)
    return g[
        [
            "order_id",
            "shop_id",
            "currency",
            "created_at",
            "paid_at",
            "order_status",
            "buyer_key",
            "order_date",
        ]
    ]


def fx_rates(con) -> pd.DataFrame:
    seed = pd.read_csv(FX_SEED, parse_dates=["month"])
    seed = seed.rename(columns={"rate_to_cny": "rate"})
    own = read(con, "raw_config.fx_rates", "currency, starts_on as month, rate, period")
    own = own[own.period == "month"].drop(columns="period")
    own["month"] = pd.to_datetime(own.month)
    own["rate"] = own.rate.astype(float)
    rates = pd.concat([own, seed]).drop_duplicates(["currency", "month"], keep="first")
    return rates


def allocate(lines: pd.DataFrame, order_key: list[str], order_merchant: str, order_platform: str, last_takes_rest_with_own_share: bool) -> pd.DataFrame:  # fmt: skip
    """Spread order-level discounts over lines pro rata by list amount, floored to the cent; the last line takes
    the remainder (JD keeps its own share in the remainder's formula, PDD none: the same result)."""
    order_list = lines.groupby(order_key, sort=False)["list_amount"].transform("sum")
    for amount, share in ((order_merchant, "m_share"), (order_platform, "p_share")):
        # the platforms' own rounding, in the order of operations the warehouse uses (doubles, as DuckDB's)
        # (money × money is exact in decimals: rounded to its 4 places before the float division)
        product = (lines[amount] * lines.list_amount).round(4)
        if last_takes_rest_with_own_share:
            lines[share] = np.floor((product * 100).round(2) / order_list.replace(0, np.nan)) / 100
        else:
            lines[share] = np.floor(product / order_list.replace(0, np.nan) * 100) / 100
        if not last_takes_rest_with_own_share:
            lines[share] = lines[share].where(~lines.is_last, 0)
        others = lines.groupby(order_key, sort=False)[share].transform("sum") - lines[share].where(
            lines.is_last, 0
        )
        lines[share] = np.where(lines.is_last, lines[amount] - others, lines[share])
    lines["paid_amount"] = (lines.list_amount - lines.m_share.fillna(0) - lines.p_share.fillna(0)).round(2)
    return lines


def line_key(order: pd.Series, sku: pd.Series, occurrence: pd.Series) -> pd.Series:
    return order + "-" + sku + np.where(occurrence > 1, "#" + occurrence.astype(str), "")


def api_lines(con) -> pd.DataFrame:
    out = []
    trades = read(con, "raw_taobao.orders", "_dlt_id, shop_id, tid")
    t = read(
        con, "raw_taobao.orders__orders", "_dlt_parent_id, oid, outer_sku_id, sku_id, num, price, payment"
    )
    t = t.merge(trades, left_on="_dlt_parent_id", right_on="_dlt_id")
    t["order_line_id"] = t.shop_id + ":" + t.oid.astype(str)
    t["order_id"] = t.shop_id + ":" + t.tid.astype(str)
    t["outer_id"], t["platform_sku_id"] = t.outer_sku_id.str.strip().replace("", None), t.sku_id.astype(str)
    t["quantity"], t["list_amount"], t["paid_amount"] = t.num, (t.price * t.num).round(2), t.payment
    out.append(t)

    jo = read(con, "raw_jd.orders", "_dlt_id, shop_id, order_id, order_total_price, seller_discount, freight_price, order_payment")  # fmt: skip
    j = read(con, "raw_jd.orders__item_info_list", "_dlt_parent_id, _dlt_list_idx, sku_id, outer_sku_id, item_total, jd_price")  # fmt: skip
    j = j.merge(jo, left_on="_dlt_parent_id", right_on="_dlt_id")
    j["quantity"] = j.item_total.astype(int)
    j["list_amount"] = (j.jd_price * j.quantity).round(2)
    j = j.sort_values("_dlt_list_idx")
    j["occurrence"] = j.groupby(["shop_id", "order_id", "sku_id"], sort=False).cumcount() + 1
    j["is_last"] = j.groupby(["shop_id", "order_id"], sort=False).cumcount(ascending=False) == 0
    j["order_merchant"] = j.seller_discount.fillna(0)
    j["order_platform"] = (j.order_total_price - j.order_merchant + j.freight_price.fillna(0) - j.order_payment).round(2)  # fmt: skip
    j = allocate(j, ["shop_id", "order_id"], "order_merchant", "order_platform", True)
    j["order_line_id"] = j.shop_id + ":" + line_key(j.order_id, j.sku_id, j.occurrence)
    j["order_id"] = j.shop_id + ":" + j.order_id
    j["outer_id"], j["platform_sku_id"] = j.outer_sku_id.str.strip().replace("", None), j.sku_id
    out.append(j)

    po = read(con, "raw_pinduoduo.orders", "_dlt_id, shop_id, order_sn, seller_discount, platform_discount")
    p = read(con, "raw_pinduoduo.orders__item_list", "_dlt_parent_id, _dlt_list_idx, sku_id, outer_id, goods_count, goods_price")  # fmt: skip
    p = p.merge(po, left_on="_dlt_parent_id", right_on="_dlt_id")
    p["quantity"] = p.goods_count
    p["list_amount"] = (p.goods_price * p.goods_count / 100).round(2)
    p = p.sort_values("_dlt_list_idx")
    p["sku_id"] = p.sku_id.astype(str)
    p["occurrence"] = p.groupby(["_dlt_parent_id", "sku_id"], sort=False).cumcount() + 1
    p["is_last"] = p.groupby("_dlt_parent_id", sort=False).cumcount(ascending=False) == 0
    p["order_merchant"] = (p.seller_discount.fillna(0) / 100).round(2)
    p["order_platform"] = (p.platform_discount.fillna(0) / 100).round(2)
    p = allocate(p, ["shop_id", "order_sn"], "order_merchant", "order_platform", False)
    p["order_line_id"] = p.shop_id + ":" + line_key(p.order_sn, p.sku_id, p.occurrence)
    p["order_id"] = p.shop_id + ":" + p.order_sn
    p["outer_id"], p["platform_sku_id"] = p.outer_id.str.strip().replace("", None), p.sku_id
    out.append(p)

    do = read(con, "raw_douyin.orders", "_dlt_id, shop_id, order_id as parent")
    d = read(con, "raw_douyin.orders__sku_order_list", "_dlt_parent_id, order_id, code, out_sku_id, sku_id, item_num, origin_amount, pay_amount")  # fmt: skip
    d = d.merge(do, left_on="_dlt_parent_id", right_on="_dlt_id")
    d["order_line_id"], d["order_id"] = d.shop_id + ":" + d.order_id, d.shop_id + ":" + d.parent
    d["outer_id"] = d.code.str.strip().replace("", None).fillna(d.out_sku_id.str.strip().replace("", None))
    d["platform_sku_id"], d["quantity"] = d.sku_id, d.item_num
    d["list_amount"], d["paid_amount"] = (d.origin_amount / 100).round(2), (d.pay_amount / 100).round(2)
    out.append(d)

    so = read(con, "raw_shopify.orders", "_dlt_id, shop_id, id as parent")
    s = read(con, "raw_shopify.orders__line_items", "_dlt_parent_id, id, sku, variant_id, quantity, price, total_discount")  # fmt: skip
    s = s.merge(so, left_on="_dlt_parent_id", right_on="_dlt_id")
    s["order_line_id"], s["order_id"] = (
        s.shop_id + ":" + s.id.astype(str),
        s.shop_id + ":" + s.parent.astype(str),
    )
    s["outer_id"], s["platform_sku_id"] = s.sku.str.strip().replace("", None), s.variant_id.astype(str)
    s["list_amount"] = (s.price * s.quantity).round(2)
    s["paid_amount"] = (s.price * s.quantity - s.total_discount.fillna(0)).round(2)
    out.append(s)

    keep = [
        "order_line_id",
        "order_id",
        "outer_id",
        "platform_sku_id",
        "quantity",
        "list_amount",
        "paid_amount",
    ]
    return pd.concat([x[keep] for x in out], ignore_index=True)


def file_lines(con) -> pd.DataFrame:
    f = read(con, "raw_files.orders", "shop_id, order_id, line_id, sku_id, outer_id, sku_occurrence, quantity, unit_price, line_list_amount, line_merchant_discount, line_platform_discount, line_paid_amount")  # fmt: skip
    sku = f.sku_id.fillna(f.outer_id)
    key = line_key(f.order_id, sku, f.sku_occurrence.fillna(1).astype(int))
    out = pd.DataFrame({"order_line_id": f.shop_id + ":" + f.line_id.fillna(key), "order_id": f.shop_id + ":" + f.order_id})  # fmt: skip
    out["outer_id"], out["platform_sku_id"], out["quantity"] = (
        f.outer_id.str.strip().replace("", None),
        sku,
        f.quantity,
    )
    out["list_amount"] = f.line_list_amount.fillna(f.unit_price * f.quantity).round(2)
    out["paid_amount"] = f.line_paid_amount.fillna(
        out.list_amount - f.line_merchant_discount.fillna(0) - f.line_platform_discount.fillna(0)
    ).round(2)
    return out


def refunds(con) -> pd.DataFrame:
    out = []
    t = read(con, "raw_taobao.refunds", "shop_id, refund_id, tid, oid, num, refund_fee, status")
    out.append(pd.DataFrame({
        "refund_id": t.shop_id + ":" + t.refund_id.astype(str), "order_id": t.shop_id + ":" + t.tid.astype(str),
        "order_line_id": (t.shop_id + ":" + t.oid.astype("Int64").astype(str)).where(t.oid.notna()),
        "quantity": t.num, "amount": t.refund_fee,
        "status": t.status.map({"SUCCESS": "success", "CLOSED": "closed"}).fillna("processing")}))  # fmt: skip
    j = read(con, "raw_jd.refunds", "shop_id, id, order_id, sku_id, num, apply_refund_sum, status")
    out.append(pd.DataFrame({
        "refund_id": j.shop_id + ":" + j.id, "order_id": j.shop_id + ":" + j.order_id,
        "order_line_id": (j.shop_id + ":" + j.order_id + "-" + j.sku_id).where(j.sku_id.notna()),
        "quantity": j.num, "amount": j.apply_refund_sum,
        "status": j.status.map({"1": "success", "2": "closed"}).fillna("processing")}))  # fmt: skip
    p = read(con, "raw_pinduoduo.refunds", "shop_id, id, order_sn, sku_id, goods_number, refund_amount, after_sales_status")  # fmt: skip
    out.append(pd.DataFrame({
        "refund_id": p.shop_id + ":" + p.id.astype(str), "order_id": p.shop_id + ":" + p.order_sn,
        "order_line_id": p.shop_id + ":" + p.order_sn + "-" + p.sku_id.astype(str),
        "quantity": p.goods_number, "amount": (p.refund_amount / 100).round(2),
        "status": p.after_sales_status.map({10: "success", 11: "closed"}).fillna("processing")}))  # fmt: skip
    d = read(con, "raw_douyin.refunds", "shop_id, aftersale_id, shop_order_id, sku_order_id, aftersale_num, refund_amount, aftersale_status")  # fmt: skip
    sku_order = d.sku_order_id.replace("", None)
    out.append(pd.DataFrame({
        "refund_id": d.shop_id + ":" + d.aftersale_id, "order_id": d.shop_id + ":" + d.shop_order_id,
        "order_line_id": (d.shop_id + ":" + sku_order).where(sku_order.notna()),
        "quantity": d.aftersale_num, "amount": (d.refund_amount / 100).round(2),
        "status": d.aftersale_status.map({12: "success", 28: "closed"}).fillna("processing")}))  # fmt: skip
    s = read(con, """raw_shopify.orders__refunds__refund_line_items rl
        join raw_shopify.orders__refunds r on rl._dlt_parent_id = r._dlt_id
        join raw_shopify.orders o on r._dlt_parent_id = o._dlt_id""", "o.shop_id, o.id as order_id, rl.id, rl.line_item_id, rl.quantity, rl.subtotal")  # fmt: skip
    out.append(pd.DataFrame({
        "refund_id": s.shop_id + ":" + s.id.astype(str), "order_id": s.shop_id + ":" + s.order_id.astype(str),
        "order_line_id": s.shop_id + ":" + s.line_item_id.astype(str), "quantity": s.quantity, "amount": s.subtotal,
        "status": "success"}))  # fmt: skip
    api = pd.concat(out, ignore_index=True)
    f = read(con, "raw_files.refunds", "shop_id, refund_id, order_id, line_id, sku_id, quantity, refund_amount, refund_status")  # fmt: skip
    files = pd.DataFrame({
        "refund_id": f.shop_id + ":" + f.refund_id, "order_id": f.shop_id + ":" + f.order_id,
        "order_line_id": f.shop_id + ":" + f.line_id.fillna(f.order_id + "-" + f.sku_id),
        "quantity": f.quantity, "amount": f.refund_amount, "status": f.refund_status})  # fmt: skip
    files = files[~files.refund_id.isin(api.refund_id)]
    return pd.concat([api, files], ignore_index=True)


def compute(build: Path, as_of: date) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(build), read_only=True)
    shops = read(con, "raw_config.shops", "shop_id, currency, timezone")
    api = api_orders(con, shops)
    files = file_orders(con, shops)
    api["origin"], files["origin"] = "api", "file"
    orders = pd.concat([api, files[~files.order_id.isin(api.order_id)]], ignore_index=True)
    rates = fx_rates(con)
    orders["month"] = pd.to_datetime(orders.order_date).dt.to_period("M").dt.to_timestamp()
    orders = orders.merge(rates, on=["currency", "month"], how="left")
    orders["fx_rate"] = np.where(orders.currency == "CNY", 1.0, orders.rate)
    orders = orders[orders.order_status.notna() & orders.fx_rate.notna()]

    lines_api, lines_file = api_lines(con), file_lines(con)
    lines = pd.concat(
        [
            lines_api[lines_api.order_id.isin(orders.order_id[orders.origin == "api"])],
            lines_file[lines_file.order_id.isin(orders.order_id[orders.origin == "file"])],
        ],
        ignore_index=True,
    )
    r = refunds(con)
    r = r[(r.status == "success") & r.order_line_id.notna() & r.order_id.isin(orders.order_id)]
    r = r.groupby("order_line_id").agg(refunded_quantity=("quantity", "sum"), refund_amount=("amount", "sum"))

    products = read(con, "raw_product_master.products", "sku, is_kit, launched_on")
    paid = lines.merge(orders[orders.paid_at.notna()], on="order_id")
    paid = paid.merge(products[["sku"]], left_on="outer_id", right_on="sku", how="left")
    paid["sku"] = paid.sku.fillna("unmapped:" + paid.outer_id.fillna(paid.platform_sku_id).fillna("unknown"))
    paid = paid.merge(r, left_on="order_line_id", right_index=True, how="left")
    paid["refunded_quantity"] = paid.refunded_quantity.fillna(0)
    paid["gmv_cny"] = (paid.list_amount * paid.fx_rate).round(2)
    paid["net_sales_cny"] = (paid.paid_amount * paid.fx_rate).round(2)
    paid["refunds_cny"] = (paid.refund_amount.fillna(0) * paid.fx_rate).round(2)

    sums = {"units": ("quantity", "sum"), "gmv_cny": ("gmv_cny", "sum"), "net_sales_cny": ("net_sales_cny", "sum"),
            "refunds_cny": ("refunds_cny", "sum")}  # fmt: skip
    sku_sales = paid.groupby(["order_date", "shop_id", "sku"]).agg(
        **sums, units_refunded=("refunded_quantity", "sum")
    )
    shop_sales = paid.groupby(["order_date", "shop_id"]).agg(
        **sums, orders=("order_id", "nunique"), buyers=("buyer_key", "nunique")
    )
    for frame in (sku_sales, shop_sales):
        frame["net_revenue_cny"] = frame.net_sales_cny - frame.refunds_cny
    paid["order_month"] = pd.to_datetime(paid.order_date).dt.to_period("M").dt.to_timestamp().dt.date
    month_sales = paid.groupby(["shop_id", "order_month"])[["net_sales_cny", "refunds_cny"]].sum()

    # stock: latest snapshot on or before as_of, open WMS lines and shopkeep's own sent orders not overdue
    snaps = read(con, "raw_wms.stock_snapshots", "snapshot_date, merchant_code as sku, on_hand")
    snaps = snaps[snaps.snapshot_date.dt.date <= as_of]
    on_hand = snaps[snaps.snapshot_date == snaps.snapshot_date.max()].groupby("sku").on_hand.sum()
    po = read(con, "raw_wms.purchase_orders", "_dlt_id, po_number, status, expected_date")
    pol = read(con, "raw_wms.purchase_orders__lines", "_dlt_parent_id, merchant_code as sku, quantity, received_quantity")  # fmt: skip
    wms = pol.merge(po[po.status == "open"], left_on="_dlt_parent_id", right_on="_dlt_id")
    wms["open_quantity"] = (wms.quantity - wms.received_quantity).clip(lower=0)
    own = read(con, "raw_ops.purchase_order_lines", "po_number, sku, po_state, warehouse_id, expected_date, promised_date, quantity, confirmed")  # fmt: skip
    own = own[own.po_state.isin(["sent", "confirmed", "partially_received"]) & own.warehouse_id.notna()]
    own = own[~own.po_number.isin(po.po_number)]
    received = read(con, "raw_wms.receipts", "po_number, merchant_code as sku, quantity").groupby(["po_number", "sku"]).quantity.sum()  # fmt: skip
    own = own.merge(received.rename("received").reset_index(), on=["po_number", "sku"], how="left")
    own["open_quantity"] = (own.confirmed.fillna(own.quantity) - own.received.fillna(0)).clip(lower=0)
    own["expected_date"] = own.promised_date.fillna(own.expected_date)
    open_lines = pd.concat([wms[["sku", "expected_date", "open_quantity"]], own[["sku", "expected_date", "open_quantity"]]])  # fmt: skip
    overdue = pd.to_datetime(open_lines.expected_date) + timedelta(days=OVERDUE_GRACE_DAYS) < pd.Timestamp(
        as_of
    )
    on_order = open_lines[~overdue].groupby("sku").open_quantity.sum()
    stocked = products[~products.is_kit.fillna(False).astype(bool)].set_index("sku")
    inventory = pd.DataFrame(index=stocked.index)
    inventory["on_hand"] = on_hand.reindex(stocked.index).fillna(0).astype(int)
    inventory["on_order"] = on_order.reindex(stocked.index).fillna(0).astype(int)

    # demand: mean daily units over the 28 days before as_of, kits exploded, over each SKU's selling days there
    kits = read(con, "raw_product_master.kit_components", "kit_sku, component_sku, quantity as per_kit")
    past = paid[paid.order_date < as_of][["sku", "order_date", "quantity"]]
    exploded = past.merge(kits, left_on="sku", right_on="kit_sku", how="left")
    exploded["sku"] = exploded.component_sku.fillna(exploded.sku)
    exploded["units"] = exploded.quantity * exploded.per_kit.fillna(1)
    first_sale = exploded.groupby("sku").order_date.min()
    life = stocked[["launched_on"]].copy()
    life["first_sale"] = first_sale.reindex(life.index)
    start = pd.to_datetime(life[["launched_on", "first_sale"]].apply(pd.to_datetime).min(axis=1))
    floor_day = max(pd.Timestamp(exploded.order_date.min()), pd.Timestamp(as_of - timedelta(days=28)))
    life["first_day"] = start.clip(lower=floor_day).fillna(floor_day)
    recent = exploded[exploded.order_date >= as_of - timedelta(days=28)].groupby("sku").units.sum()
    life["units_28d"] = recent.reindex(life.index).fillna(0).astype(int)
    days = (pd.Timestamp(as_of) - life.first_day).dt.days
    life["avg_daily_units_28d"] = life.units_28d / days.where(days > 0)
    demand = life[days > 0][["units_28d", "avg_daily_units_28d"]]
    con.close()
    return {
        "daily_sku_sales": sku_sales.reset_index(),
        "daily_shop_sales": shop_sales.reset_index(),
        "shop_month_sales": month_sales.reset_index(),
        "inventory": inventory.reset_index(),
        "demand_inputs": demand.reset_index(),
    }


def write(tables: dict[str, pd.DataFrame], out: Path) -> None:
    with duckdb.connect(str(out)) as con:
        con.execute("create schema if not exists pandas")
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"create or replace table pandas.{name} as select * from frame")
            con.unregister("frame")


if __name__ == "__main__":
    started = time.perf_counter()
    build, out, as_of = Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3])
    tables = compute(build, as_of)
    write(tables, out)
    print(f"pandas: {time.perf_counter() - started:.2f}s")
