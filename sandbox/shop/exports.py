"""The marketplaces' back-office exports of the simulated shop's older history, as a seller downloads them
before the platforms' ~3 months of online history runs out.

`write_history_exports(world, directory, before)` writes, per marketplace shop, the orders created (shop-local
date) before `before` — one row per order line —, the refunds applied for before `before` and the settlement
bill lines (账单) settled before `before`, each in the platform's own format: Taobao CSV in GBK with ids as
`="…"`, JD XLSX, Pinduoduo CSV in UTF-8 with BOM (yuan with two decimals, though its API sends fen; ids behind
a tab), Douyin XLSX. Buyer data is in the clear, as in the real exports: the importer hashes it.

The bill exports are statements, one row per ledger entry: a bill line the platform booked twice (an injected
error of the world) is two rows with the same bill line id but their own entry serial (账务流水号 / 流水号 /
动账流水号), the same serials the platform's API sends. Amounts are in yuan, in each platform's own layout:
Alipay and Pinduoduo split income and expense into two columns, JD and Douyin give an unsigned amount and a
direction.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from openpyxl import Workbook

from sandbox.world import World

MARKETPLACES = {"taobao", "jd", "pinduoduo", "douyin"}

ORDER_STATUS = {  # canonical status -> the back office's text
    "taobao": {"pending_payment": "等待买家付款", "paid": "买家已付款，等待卖家发货", "shipped": "卖家已发货，等待买家确认",
               "completed": "交易成功", "cancelled": "交易关闭", "refunded": "交易关闭"},
    "jd": {"pending_payment": "等待付款", "paid": "等待出库", "shipped": "等待确认收货", "completed": "完成",
           "cancelled": "已取消", "refunded": "已取消"},
    "pinduoduo": {"pending_payment": "待付款", "paid": "待发货", "shipped": "已发货，待签收", "completed": "已签收",
                  "cancelled": "已取消", "refunded": "已取消"},
    "douyin": {"pending_payment": "待支付", "paid": "备货中", "shipped": "已发货", "completed": "已完成",
               "cancelled": "已关闭", "refunded": "已关闭"},
}
REFUND_STATUS = {
    "taobao": {"success": "退款成功", "closed": "退款关闭", "processing": "退款中"},
    "jd": {"success": "完成", "closed": "已取消", "processing": "处理中"},
    "pinduoduo": {"success": "退款成功", "closed": "售后关闭", "processing": "处理中"},
    "douyin": {"success": "退款成功", "closed": "售后关闭", "processing": "售后处理中"},
}

# canonical field -> header, in the platform's column order
ORDER_HEADERS: dict[str, list[tuple[str, str]]] = {
    "taobao": [
        ("order_id", "订单编号"), ("line_id", "子订单编号"), ("buyer_id", "买家会员名"), ("status", "订单状态"),
        ("created_at", "订单创建时间"), ("paid_at", "订单付款时间"), ("shipped_at", "发货时间"),
        ("completed_at", "确认收货时间"), ("cancelled_at", "订单关闭时间"), ("order_list", "买家应付货款"),
        ("shipping", "运费"), ("order_paid", "买家实际支付金额"), ("buyer_name", "收货人姓名"),
        ("province", "收货省份"), ("city", "收货城市"), ("district", "收货区县"), ("address", "详细地址"),
        ("phone", "联系手机"), ("buyer_remark", "买家留言"), ("seller_remark", "商家备注"), ("title", "宝贝标题"),
        ("product_id", "商品ID"), ("sku_id", "SKU ID"), ("outer_id", "商家编码"), ("price", "价格"),
        ("quantity", "宝贝数量"), ("merchant_discount", "商家优惠"), ("platform_discount", "平台优惠"),
        ("line_paid", "子订单实付金额"),
    ],
    "jd": [
        ("order_id", "订单号"), ("product_id", "商品ID"), ("sku_id", "SKU编号"), ("title", "商品名称"),
        ("quantity", "订购数量"), ("price", "京东价"), ("merchant_discount", "商家优惠金额"),
        ("platform_discount", "平台优惠金额"), ("line_paid", "商品实付金额"), ("outer_id", "商家SKU编号"),
        ("created_at", "下单时间"), ("paid_at", "付款确认时间"), ("shipped_at", "出库时间"), ("completed_at", "完成时间"),
        ("cancelled_at", "取消时间"), ("status", "订单状态"), ("order_paid", "应付金额"), ("shipping", "运费金额"),
        ("buyer_id", "下单帐号"), ("buyer_name", "客户姓名"), ("province", "省"), ("city", "市"), ("district", "县"),
        ("address", "客户地址"), ("phone", "联系电话"), ("buyer_remark", "订单备注"), ("seller_remark", "商家备注"),
    ],
    "pinduoduo": [
        ("title", "商品"), ("order_id", "订单号"), ("status", "订单状态"), ("order_paid", "用户实付金额(元)"),
        ("shipping", "邮费(元)"), ("merchant_discount", "店铺优惠折扣(元)"), ("platform_discount", "平台优惠折扣(元)"),
        ("line_paid", "商品实付金额(元)"), ("price", "商品单价(元)"), ("quantity", "商品数量(件)"),
        ("product_id", "商品id"), ("sku_id", "样式ID"), ("outer_id", "商家编码-SKU维度"), ("buyer_id", "买家ID"),
        ("buyer_name", "收货人"), ("phone", "手机"), ("province", "省"), ("city", "市"), ("district", "区"),
        ("address", "详细地址"), ("created_at", "订单成交时间"), ("paid_at", "支付时间"), ("shipped_at", "发货时间"),
        ("completed_at", "确认收货时间"), ("cancelled_at", "取消时间"), ("buyer_remark", "买家留言"),
        ("seller_remark", "商家备忘"),
    ],
    "douyin": [
        ("order_id", "主订单编号"), ("line_id", "子订单编号"), ("title", "选购商品"), ("product_id", "商品ID"),
        ("sku_id", "规格ID"), ("outer_id", "商家编码"), ("quantity", "商品数量"), ("price", "商品单价"),
        ("order_paid", "订单应付金额"), ("shipping", "运费"), ("merchant_discount", "商家优惠"),
        ("platform_discount", "平台优惠"), ("line_paid", "子订单应付金额"), ("created_at", "订单提交时间"),
        ("paid_at", "支付完成时间"), ("shipped_at", "发货时间"), ("completed_at", "订单完成时间"),
        ("cancelled_at", "取消时间"), ("status", "订单状态"), ("buyer_id", "买家ID"), ("buyer_name", "收件人"),
        ("phone", "收件人手机号"), ("province", "省"), ("city", "市"), ("district", "区"), ("address", "详细地址"),
        ("buyer_remark", "买家留言"), ("seller_remark", "商家备注"),
    ],
}
REFUND_HEADERS: dict[str, list[tuple[str, str]]] = {
    "taobao": [("refund_id", "退款编号"), ("order_id", "订单编号"), ("line_id", "子订单编号"), ("amount", "买家退款金额"),
               ("quantity", "退款数量"), ("created_at", "退款申请时间"), ("status", "退款状态"), ("reason", "退款原因"),
               ("goods_returned", "是否需要退货"), ("restocked", "退货已入库")],
    "jd": [("refund_id", "服务单号"), ("order_id", "订单号"), ("sku_id", "商品编号"), ("status", "服务单状态"),
           ("created_at", "申请时间"), ("quantity", "申请数量"), ("amount", "退款金额"), ("reason", "申请原因"),
           ("goods_returned", "是否退回商品"), ("restocked", "商品已入库")],
    "pinduoduo": [("refund_id", "售后编号"), ("order_id", "订单号"), ("sku_id", "样式ID"), ("status", "售后状态"),
                  ("amount", "退款金额(元)"), ("quantity", "申请数量"), ("created_at", "申请时间"), ("reason", "售后原因"),
                  ("goods_returned", "是否退货"), ("restocked", "退货入库")],
    "douyin": [("refund_id", "售后单号"), ("order_id", "主订单编号"), ("line_id", "子订单编号"), ("status", "售后状态"),
               ("created_at", "申请时间"), ("quantity", "售后数量"), ("amount", "退款金额"), ("reason", "售后原因"),
               ("goods_returned", "是否退货"), ("restocked", "是否已入库")],
}
# canonical field -> header of the bill (账单) exports
BILL_HEADERS: dict[str, list[tuple[str, str]]] = {
    # 支付宝 账务明细 (the Alipay account statement of the Tmall shop)
    "taobao": [("entry_id", "账务流水号"), ("bill_line_id", "业务流水号"), ("merchant_order_id", "商户订单号"),
               ("settle_time", "发生时间"), ("income", "收入金额（+元）"), ("expense", "支出金额（-元）"),
               ("bill_type", "业务类型"), ("remark", "备注")],
    # 京东 商家结算 对账单明细
    "jd": [("order_id", "订单编号"), ("bill_line_id", "单据编号"), ("entry_id", "结算流水号"), ("bill_type", "费用项"),
           ("direction", "收支方向"), ("amount", "金额"), ("settle_time", "费用结算时间"), ("bill_date", "账单日期")],
    # 拼多多 货款明细
    "pinduoduo": [("entry_id", "流水号"), ("bill_line_id", "账单编号"), ("order_id", "商户订单号"),
                  ("settle_time", "发生时间"), ("income", "收入金额(+元)"), ("expense", "支出金额(-元)"),
                  ("bill_type", "账务类型"), ("remark", "备注")],
    # 抖店 资金流水 / 结算账单
    "douyin": [("entry_id", "动账流水号"), ("bill_line_id", "结算单号"), ("order_id", "订单号"),
               ("settle_time", "结算时间"), ("bill_type", "动账类型"), ("direction", "动账方向"),
               ("amount", "动账金额")],
}
# canonical field -> header of the ad platforms' plan reports (计划日报)
AD_HEADERS: dict[str, list[tuple[str, str]]] = {
    # 万相台/直通车 (阿里妈妈)
    "taobao": [("spend_date", "日期"), ("campaign_id", "计划ID"), ("campaign_name", "计划名字"),
               ("ad_product", "场景名字"), ("spend", "花费"), ("impressions", "展现量"), ("clicks", "点击量"),
               ("attributed_orders", "总成交笔数"), ("attributed_gmv", "总成交金额")],
    # 京准通
    "jd": [("spend_date", "日期"), ("campaign_id", "计划ID"), ("campaign_name", "计划名称"), ("ad_product", "推广产品"),
           ("spend", "总费用"), ("impressions", "展现数"), ("clicks", "点击数"), ("attributed_orders", "总订单行"),
           ("attributed_gmv", "总订单金额")],
    # 多多推广
    "pinduoduo": [("spend_date", "日期"), ("campaign_id", "推广计划ID"), ("campaign_name", "推广计划"),
                  ("ad_product", "推广场景"), ("spend", "花费(元)"), ("impressions", "曝光量"), ("clicks", "点击量"),
                  ("attributed_orders", "成交笔数"), ("attributed_gmv", "交易额(元)")],
    # 巨量千川
    "douyin": [("spend_date", "日期"), ("campaign_id", "计划ID"), ("campaign_name", "计划名称"),
               ("ad_product", "营销目标"), ("spend", "消耗(元)"), ("impressions", "展示次数"), ("clicks", "点击次数"),
               ("attributed_orders", "成交订单数"), ("attributed_gmv", "成交金额(元)")],
}
BILL_TYPE_TEXT = {  # the world's bill line type -> the platform's text (the same texts its API sends)
    "taobao": {"income": "交易收款", "commission": "天猫佣金", "service_fee": "技术服务费",
               "affiliate_commission": "淘宝客佣金", "refund": "交易退款", "subsidy": "平台补贴"},
    "jd": {"income": "货款", "commission": "佣金", "service_fee": "技术服务费", "affiliate_commission": "京挑客佣金",
           "refund": "退款", "subsidy": "平台补贴"},
    "pinduoduo": {"income": "交易收入", "commission": "技术服务费", "service_fee": "支付服务费",
                  "affiliate_commission": "多多进宝佣金", "refund": "退款", "subsidy": "平台补贴"},
    "douyin": {"income": "订单收入", "commission": "佣金", "service_fee": "平台服务费",
               "affiliate_commission": "达人佣金", "refund": "售后退款", "subsidy": "平台补贴"},
}
ID_FIELDS = {"order_id", "line_id", "refund_id", "product_id", "sku_id", "buyer_id", "phone", "entry_id",
             "bill_line_id", "merchant_order_id", "campaign_id"}


def _local(ts: Any, timezone: str) -> str:
    if ts is None or pd.isna(ts):
        return ""
    return pd.Timestamp(ts).tz_convert(timezone).strftime("%Y-%m-%d %H:%M:%S")


def _money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA else str(value)


def _order_rows(world: World, shop: pd.Series, before: date) -> list[dict[str, Any]]:
    tz, channel = shop.timezone, shop.channel
    orders = world.shop(shop.shop_id, "orders")
    local_day = orders.created_at.dt.tz_convert(tz).dt.date
    orders = orders[local_day < before].set_index("order_id")
    lines = world.shop(shop.shop_id, "order_lines")
    lines = lines[lines.order_id.isin(orders.index)]
    rows = []
    for line in lines.itertuples(index=False):
        o = orders.loc[line.order_id]
        rows.append({
            "order_id": line.order_id, "line_id": line.line_id, "buyer_id": o.buyer_id,
            "status": ORDER_STATUS[channel][o.status],
            "created_at": _local(o.created_at, tz), "paid_at": _local(o.paid_at, tz),
            "shipped_at": _local(o.shipped_at, tz), "completed_at": _local(o.completed_at, tz),
            "cancelled_at": _local(o.cancelled_at, tz),
            "order_list": _money(o.list_amount - o.merchant_discount - o.platform_discount),
            "shipping": _money(o.shipping_fee), "order_paid": _money(o.paid_amount),
            "buyer_name": o.buyer_name, "province": o.province, "city": o.city, "district": o.district,
            "address": o.address_detail, "phone": o.buyer_phone, "buyer_remark": _text(o.buyer_remark),
            "seller_remark": _text(o.seller_remark), "title": line.title, "product_id": line.platform_product_id,
            "sku_id": line.platform_sku_id, "outer_id": _text(line.outer_id), "price": _money(line.unit_list_price),
            "quantity": int(line.quantity), "merchant_discount": _money(line.merchant_discount),
            "platform_discount": _money(line.platform_discount), "line_paid": _money(line.paid_amount),
        })
    return rows


def _refund_rows(world: World, shop: pd.Series, before: date) -> list[dict[str, Any]]:
    tz, channel = shop.timezone, shop.channel
    refunds = world.shop(shop.shop_id, "refunds")
    refunds = refunds[refunds.created_at.dt.tz_convert(tz).dt.date < before]
    sku_of_line = world.shop(shop.shop_id, "order_lines").set_index("line_id").platform_sku_id
    return [{
        "refund_id": r.refund_id, "order_id": r.order_id, "line_id": r.line_id, "sku_id": sku_of_line[r.line_id],
        "status": REFUND_STATUS[channel][r.status], "created_at": _local(r.created_at, tz),
        "quantity": int(r.quantity), "amount": _money(r.amount), "reason": r.reason_text,
        "goods_returned": "是" if r.goods_returned else "否", "restocked": "是" if r.restocked else "否",
    } for r in refunds.itertuples(index=False)]


def _settle_moment(channel: str, bill_line_id: str, settled: date, timezone: str) -> datetime:
    """When the platform booked the line: local midnight of the settled date, except Douyin, which books during
    the day (a stable time per bill line, as its API reports it)."""
    local = datetime.combine(settled, time(0), ZoneInfo(timezone))
    if channel == "douyin":
        local += timedelta(seconds=8 * 3600 + int(hashlib.md5(bill_line_id.encode()).hexdigest(), 16) % (12 * 3600))
    return local


def _bill_rows(world: World, shop: pd.Series, before: date) -> list[dict[str, Any]]:
    """The shop's bill lines settled before `before`, one row per ledger entry, with the platform's serials."""
    tz, channel = shop.timezone, shop.channel
    bills = world.shop(shop.shop_id, "bill_lines").copy()
    bills["settled"] = [d if isinstance(d, date) else pd.Timestamp(d).date() for d in bills.settled_date]
    ordered = sorted(bills.to_dict("records"), key=lambda r: (r["settled"], str(r["bill_line_id"])))
    seen: dict[str, int] = {}
    rows = []
    for n, bill in enumerate(ordered):
        line_id = str(bill["bill_line_id"])
        seen[line_id] = seen.get(line_id, 0) + 1
        settled: date = bill["settled"]
        if settled >= before:
            continue
        amount = Decimal(bill["amount"])
        entry_id = {  # the per-entry serial each platform's API also sends
            "taobao": str(88_000_000_000 + n),
            "jd": f"JS{settled:%Y%m%d}{n:07d}",
            "pinduoduo": f"{settled:%Y%m%d}{n:07d}",
            "douyin": f"{line_id}-{seen[line_id]}",
        }[channel]
        text = BILL_TYPE_TEXT[channel].get(str(bill["type"]), str(bill["type"]))
        rows.append({
            "entry_id": entry_id, "bill_line_id": line_id, "order_id": str(bill["order_id"]),
            "merchant_order_id": f"T200P{bill['order_id']}",
            "settle_time": _settle_moment(channel, line_id, settled, tz).strftime("%Y-%m-%d %H:%M:%S"),
            "bill_date": settled.isoformat(),
            "income": _money(amount) if amount >= 0 else "",
            "expense": _money(-amount) if amount < 0 else "",
            "amount": _money(abs(amount)),
            "direction": {"jd": "收入" if amount >= 0 else "支出", "douyin": "入账" if amount >= 0 else "出账"}.get(
                channel, ""),
            "bill_type": text, "remark": f"{text} {bill['order_id']}",
        })
    return rows


def _ad_rows(world: World, shop: Any) -> list[dict]:
    """The shop's ad plan report: one row per plan and day, amounts in yuan."""
    ads = world.shop(shop.shop_id, "ad_spend").sort_values(["spend_date", "campaign_id"])
    return [
        {**row, "spend_date": row["spend_date"].isoformat(), "spend": _money(row["spend"]),
         "attributed_gmv": _money(row["attributed_gmv"])}
        for row in ads.to_dict("records")
    ]  # fmt: skip


def _write_csv(path: Path, headers: list[tuple[str, str]], rows: list[dict], encoding: str,
               id_cell: Callable[[str], str]) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([h for _, h in headers])
        for row in rows:
            writer.writerow([id_cell(_text(row[f])) if f in ID_FIELDS and _text(row[f]) else row[f]
                             for f, _ in headers])
    return path


def _write_xlsx(path: Path, headers: list[tuple[str, str]], rows: list[dict], sheet_title: str) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    sheet.append([h for _, h in headers])
    for row in rows:
        sheet.append([_text(row[f]) if f in ID_FIELDS else row[f] for f, _ in headers])
    for column in range(1, len(headers) + 1):  # ids and dates stay text, as the back offices export them
        if headers[column - 1][0] in ID_FIELDS:
            for cell in sheet.iter_cols(min_col=column, max_col=column, min_row=2):
                for c in cell:
                    c.number_format = "@"
    book.save(path)
    return path


def _write(channel: str, path_stem: Path, headers: list[tuple[str, str]], rows: list[dict], title: str) -> Path:
    if channel == "taobao":
        return _write_csv(path_stem.with_suffix(".csv"), headers, rows, "gbk", lambda v: f'="{v}"')
    if channel == "pinduoduo":
        return _write_csv(path_stem.with_suffix(".csv"), headers, rows, "utf-8-sig", lambda v: f"\t{v}")
    return _write_xlsx(path_stem.with_suffix(".xlsx"), headers, rows, title)


def write_history_exports(world: World, directory: str | Path, before: date) -> list[Path]:
    """Per marketplace shop, `<shop_id>__orders.<ext>`, `<shop_id>__refunds.<ext>` and
    `<shop_id>__settlements.<ext>` with the history before `before` (shop-local dates), and
    `<shop_id>__ad_spend.<ext>` (the ad platform's plan report, every day: ads have no API), in the platform's
    own export format. Returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for _, shop in world.shops.iterrows():
        if shop.channel not in MARKETPLACES:
            continue
        channel = shop.channel
        written.append(_write(channel, directory / f"{shop.shop_id}__orders", ORDER_HEADERS[channel],
                              _order_rows(world, shop, before), "订单"))
        written.append(_write(channel, directory / f"{shop.shop_id}__refunds", REFUND_HEADERS[channel],
                              _refund_rows(world, shop, before), "售后"))
        written.append(_write(channel, directory / f"{shop.shop_id}__settlements", BILL_HEADERS[channel],
                              _bill_rows(world, shop, before), "账单"))
        if "ad_spend" in world.tables:  # no API serves ads: the report holds every day, not only the old ones
            written.append(_write(channel, directory / f"{shop.shop_id}__ad_spend", AD_HEADERS[channel],
                                  _ad_rows(world, shop), "计划日报"))
    return written
