"""Exports in layouts unlike the marketplaces' own, mapped by YAML alone in a files-only setup: a WooCommerce-style
English CSV in US dollars and Los Angeles time, an ERP's Chinese tab-separated GBK text with YYYYMMDD dates, and a
seller's own workbook whose orders sheet is not the first, whose dates are Excel serial numbers and whose returns
are negative lines of their order. The build
passes and the published daily sales (orders, units, buyers, GMV, refunds) and the freight charged equal a pandas
computation on the rows the test wrote; a cancelled order counts in no sales figure; a corrected file replaces
its rows; a file of a shop that is not configured and a JD export saved under a Tmall shop's name are set aside
with their reasons while the other files load."""

from __future__ import annotations

import csv
import io
import os
import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.format import set_reporting_currency
from tests.conftest import fx_rates

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CENT = Decimal("0.01")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SHOPS = {"woo_store": ("shopify", "USD", "America/Los_Angeles"), "erp_tmall": ("taobao", "CNY", "Asia/Shanghai"),
         "sheet_jd": ("jd", "CNY", "Asia/Shanghai")}  # fmt: skip
STATUSES = ["completed", "completed", "completed", "shipped", "paid", "cancelled", "cancelled_after_pay",
            "refunded", "pending_payment"]  # fmt: skip

MAPPINGS = {
    "woo_orders.yaml": """
name: woo_orders
description: WooCommerce order export (one row per line item), times in the store's Los Angeles time
entity: orders
shops: [woo_*]
timezone: America/Los_Angeles
columns:
  - {header: Order Number, name: order_id}
  - {header: Order Status, name: order_status, map: {Completed: completed, Processing: paid, Shipped: shipped,
     Cancelled: cancelled, Refunded: refunded, Pending payment: pending_payment}}
  - {header: Order Date, name: created_at, format: '%m/%d/%Y %H:%M'}
  - {header: Paid Date, name: paid_at, format: '%m/%d/%Y %H:%M'}
  - {header: Customer Email, name: buyer_id_hash}
  - {header: Order Shipping, name: shipping_amount}
  - {header: Order Total, name: order_paid_amount}
  - {header: Order Currency, name: currency}
  - {header: SKU, name: outer_id}
  - {header: Item Name, name: title}
  - {header: Quantity, name: quantity, min: 1}
  - {header: Item Cost, name: unit_price, min: 0}
""",
    "woo_refunds.yaml": """
name: woo_refunds
entity: refunds
shops: [woo_*]
timezone: America/Los_Angeles
files: ['*refund*']
columns:
  - {header: Refund ID, name: refund_id}
  - {header: Order Number, name: order_id}
  - {header: SKU, name: sku_id}
  - {header: Refund Date, name: created_at, format: '%m/%d/%Y %H:%M'}
  - {header: Qty, name: quantity}
  - {header: Amount, name: refund_amount}
  - {header: Reason, name: reason_code, map: {Wrong size: size, Damaged: damaged, Changed mind: changed_mind}}
  - {header: Status, name: refund_status, map: {Completed: success, Declined: closed}}
""",
    "erp_orders.yaml": """
name: erp_orders
description: ERP 订单导出 (tab-separated text, GBK), one row per goods line
entity: orders
shops: [erp_tmall]
files: ['*订单*']
columns:
  - {header: 线上单号, name: order_id}
  - {header: 店铺状态, name: order_status, map: {已完成: completed, 已发货: shipped, 已付款: paid, 已作废: cancelled,
     已退款: refunded, 待付款: pending_payment}}
  - {header: 下单日期, name: created_at, format: '%Y%m%d'}
  - {header: 付款时间, name: paid_at}
  - {header: 买家昵称, name: buyer_id_hash}
  - {header: 运费, name: shipping_amount}
  - {header: 商品编码, name: outer_id}
  - {header: 数量, name: quantity}
  - {header: 单价, name: unit_price}
  - {header: 商品实付, name: line_paid_amount}
""",
    "erp_refunds.yaml": """
name: erp_refunds
entity: refunds
shops: [erp_tmall]
files: ['*退款*']
columns:
  - {header: 退款单号, name: refund_id}
  - {header: 线上单号, name: order_id}
  - {header: 商品编码, name: sku_id}
  - {header: 退款时间, name: created_at}
  - {header: 退货数量, name: quantity}
  - {header: 退款金额, name: refund_amount}
  - {header: 退款原因, name: reason_code, map: {尺码不合适: size, 质量问题: quality, 不想要了: changed_mind}}
  - {header: 状态, name: refund_status, map: {退款成功: success, 已关闭: closed}}
""",
    "sheet_orders.yaml": """
name: sheet_orders
description: the seller's own order book (sheet 订单 of the workbook)
entity: orders
shops: [sheet_jd]
sheet: 订单
constants: {currency: CNY}
negative_lines: returns   # a return is written as a line of minus the units returned
columns:
  - {header: 单号, name: order_id}
  - {header: 状态, name: order_status, map: {done: completed, sent: shipped, paid: paid, void: cancelled,
     refunded: refunded, unpaid: pending_payment}}
  - {header: 下单, name: created_at}
  - {header: 付款, name: paid_at}
  - {header: 客户, name: buyer_id_hash}
  - {header: 运费, name: shipping_amount}
  - {header: 货号, name: outer_id}
  - {header: 件数, name: quantity}
  - {header: 单价, name: unit_price}
""",
}


def _world(seed: int = 3, start: datetime = datetime(2026, 8, 1, tzinfo=UTC), days: int = 90,
           shops: tuple[str, ...] = tuple(SHOPS), first_id: int = 700000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders (one row per line) and refunds of the shops over `days` from `start` (by default the three shops,
    August to October 2026)."""
    rng = random.Random(seed)
    lines, refunds = [], []
    for shop in shops:
        for n in range(70):
            created = start + timedelta(minutes=rng.randrange(0, days * 24 * 60), seconds=30)
            status = rng.choice(STATUSES)
            paid = None if status == "pending_payment" else created + timedelta(minutes=rng.randrange(1, 90))
            order_id = f"{first_id + n}"
            buyer = f"buyer{rng.randrange(25)}@example.com"
            shipping = Decimal(rng.choice(["0.00", "8.00", "12.50"]))
            skus = rng.sample(["A-1", "B-2", "C-3", "D-4"], rng.randint(1, 3))
            for sku in skus:
                quantity = rng.randint(1, 3)
                price = Decimal(rng.randrange(1990, 19990)) / 100
                lines.append({
                    "shop_id": shop, "order_id": order_id, "status": status, "created_at": created, "paid_at": paid,
                    "buyer": buyer, "shipping": shipping, "sku": sku, "quantity": quantity, "unit_price": price,
                    "line_paid": (price * quantity).quantize(CENT),
                })  # fmt: skip
                if status in ("completed", "refunded") and rng.random() < 0.3:
                    refunds.append({
                        "shop_id": shop, "refund_id": f"R{first_id + len(refunds) + 1}", "order_id": order_id, "sku": sku,
                        "created_at": paid + timedelta(days=3), "quantity": 1, "amount": price,
                        "success": status == "refunded" or rng.random() < 0.8,
                    })  # fmt: skip
    return pd.DataFrame(lines), pd.DataFrame(refunds)


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _write_woo(directory: Path, lines: pd.DataFrame, refunds: pd.DataFrame) -> Path:
    status = {"completed": "Completed", "shipped": "Shipped", "paid": "Processing", "cancelled": "Cancelled",
              "cancelled_after_pay": "Cancelled", "refunded": "Refunded", "pending_payment": "Pending payment"}  # fmt: skip
    zone = SHOPS["woo_store"][2]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["Order Number", "Order Status", "Order Date", "Paid Date", "Customer Email", "Order Shipping",
                     "Order Total", "Order Currency", "SKU", "Item Name", "Quantity", "Item Cost"])  # fmt: skip
    shop = lines[lines.shop_id == "woo_store"]
    totals = shop.groupby("order_id").line_paid.sum()
    for r in shop.itertuples():
        paid = "" if r.paid_at is None or pd.isna(r.paid_at) else _local(r.paid_at, zone).strftime("%m/%d/%Y %H:%M")
        writer.writerow([r.order_id, status[r.status], _local(r.created_at, zone).strftime("%m/%d/%Y %H:%M"), paid,
                         r.buyer, f"{r.shipping}", f"{totals[r.order_id] + r.shipping}", "USD", r.sku,
                         f"Item {r.sku}", r.quantity, f"{r.unit_price}"])  # fmt: skip
    path = directory / "woo_store__orders-2026.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["Refund ID", "Order Number", "SKU", "Refund Date", "Qty", "Amount", "Reason", "Status"])
    for r in refunds[refunds.shop_id == "woo_store"].itertuples():
        writer.writerow([r.refund_id, r.order_id, r.sku, _local(r.created_at, zone).strftime("%m/%d/%Y %H:%M"),
                         r.quantity, f"{r.amount}", "Wrong size", "Completed" if r.success else "Declined"])  # fmt: skip
    (directory / "woo_store__refunds.csv").write_text(out.getvalue(), encoding="utf-8")
    return path


def _write_erp(directory: Path, lines: pd.DataFrame, refunds: pd.DataFrame, suffix: str = "") -> None:
    status = {"completed": "已完成", "shipped": "已发货", "paid": "已付款", "cancelled": "已作废",
              "cancelled_after_pay": "已作废", "refunded": "已退款", "pending_payment": "待付款"}  # fmt: skip
    rows = ["线上单号\t店铺状态\t下单日期\t付款时间\t买家昵称\t运费\t商品编码\t数量\t单价\t商品实付"]
    for r in lines[lines.shop_id == "erp_tmall"].itertuples():
        paid = "" if r.paid_at is None or pd.isna(r.paid_at) else _local(r.paid_at, "Asia/Shanghai").strftime(
            "%Y/%m/%d %H:%M"
        )
        rows.append("\t".join([r.order_id, status[r.status], _local(r.created_at, "Asia/Shanghai").strftime("%Y%m%d"),
                               paid, r.buyer, f"{r.shipping}", r.sku, str(r.quantity), f"{r.unit_price}",
                               f"{r.line_paid}"]))  # fmt: skip
    (directory / f"erp_tmall__订单导出{suffix}.txt").write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    rows = ["退款单号\t线上单号\t商品编码\t退款时间\t退货数量\t退款金额\t退款原因\t状态"]
    for r in refunds[refunds.shop_id == "erp_tmall"].itertuples():
        rows.append("\t".join([r.refund_id, r.order_id, r.sku,
                               _local(r.created_at, "Asia/Shanghai").strftime("%Y-%m-%d %H:%M:%S"),
                               str(r.quantity), f"{r.amount}", "质量问题", "退款成功" if r.success else "已关闭"]))  # fmt: skip
    (directory / f"erp_tmall__退款导出{suffix}.txt").write_bytes(("\n".join(rows) + "\n").encode("gbk"))


def _serial(moment: datetime) -> float:
    local = moment.astimezone(SHANGHAI).replace(tzinfo=None)
    return (local - datetime(1899, 12, 30)).total_seconds() / 86400


def _write_sheet(directory: Path, lines: pd.DataFrame, refunds: pd.DataFrame) -> None:
    status = {"completed": "done", "shipped": "sent", "paid": "paid", "cancelled": "void",
              "cancelled_after_pay": "void", "refunded": "refunded", "pending_payment": "unpaid"}  # fmt: skip
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["this workbook's orders are on the sheet 订单"])
    sheet = book.create_sheet("订单")
    sheet.append(["单号", "状态", "下单", "付款", "客户", "运费", "货号", "件数", "单价"])
    for r in lines[lines.shop_id == "sheet_jd"].itertuples():
        paid = None if r.paid_at is None or pd.isna(r.paid_at) else round(_serial(r.paid_at), 8)
        sheet.append([r.order_id, status[r.status], round(_serial(r.created_at), 8), paid, r.buyer,
                      float(r.shipping), r.sku, r.quantity, float(r.unit_price)])  # fmt: skip
    sale = lines.set_index(["shop_id", "order_id", "sku"])
    for r in refunds[refunds.shop_id == "sheet_jd"].itertuples():  # returns: negative lines of their order
        line = sale.loc[(r.shop_id, r.order_id, r.sku)]
        sheet.append([r.order_id, "refunded", round(_serial(r.created_at), 8), None, line.buyer,
                      float(line.shipping), r.sku, -r.quantity, float(r.amount)])  # fmt: skip
    book.save(directory / "sheet_jd__orders.xlsx")


def _config(directory: Path, exports: Path, mappings: Path) -> Path:
    shops = "\n".join(
        f'[[shops]]\nid = "{shop}"\nchannel = "{channel}"\nname = "{shop}"\ncurrency = "{currency}"\n'
        "enabled = false\n"
        for shop, (channel, currency, _) in SHOPS.items()
    )
    config = directory / "shopkeep.toml"
    config.write_text(
        '[warehouse]\nbuild_path = "build.duckdb"\nserve_path = "serve.duckdb"\nops_path = "ops.sqlite"\n'
        f'dlt_dir = "dlt"\n\n{shops}\n[files]\ndirectory = "{exports}"\nmappings_dir = "{mappings}"\n\n'
        f'[currency]\nrates_file = "rates.csv"\n',
        encoding="utf-8",
    )
    return config


FILES_CHANGED = "key:raw_*/* or +key:marts/daily_shop_sales or +key:marts/sku_margins or key:serve/*"
"""What a new or corrected export changes that the tests of this module read, in the order they run: the files'
raw tables, daily sales and the margins with everything upstream, and the publish step (`shopkeep materialize
--select`; the first and the last build are whole)."""


def _materialize(config: Path, home: Path, select: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SHOPKEEP_CONFIG": str(config), "DAGSTER_HOME": str(home), "SHOPKEEP_PII_SALT": "s"}
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "materialize", *(["--select", select] if select else [])],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip


RATES_FILE = "currency,month,date,rate\nUSD,2026-09,,7.0000\nUSD,,2026-09-15,6.5000\nusd,2026-13,,7\n"
"""The seller's own USD rates: September's, and one day's over it (the seed has the other months); a bad row."""


def _rate(day, currency: str, reporting: str = "CNY") -> Decimal:
    """The rate daily_shop_sales must use: the rates file's day, else its month, else the seed (crossed)."""
    if currency == reporting:
        return Decimal(1)
    if reporting == "CNY":
        if day.isoformat() == "2026-09-15":
            return Decimal("6.5")
        return Decimal("7") if day.strftime("%Y-%m") == "2026-09" else fx_rates()[(day.strftime("%Y-%m"), currency)]
    if day.strftime("%Y-%m") == "2026-09":  # the USD seller's own CNY rate for September
        return Decimal("0.14")
    return (Decimal(1) / fx_rates()[(day.strftime("%Y-%m"), reporting)]).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def _expected(lines: pd.DataFrame, refunds: pd.DataFrame, reporting: str = "CNY") -> dict[tuple, tuple]:
    """(shop, day) -> (orders, units, buyers, GMV, refunds in the reporting currency), as daily_shop_sales defines
    them: orders with a payment (a cancelled one has none), by the Shanghai day of their creation, money at the
    day's rate."""
    sold = lines[lines.paid_at.notna() & ~lines.status.isin(["cancelled", "cancelled_after_pay"])].copy()
    sold["day"] = [_local(t, "Asia/Shanghai").date() for t in sold.created_at]
    ok = refunds[refunds.success].groupby(["shop_id", "order_id", "sku"]).amount.sum()
    out = {}
    for (shop, day), group in sold.groupby(["shop_id", "day"]):
        rate = _rate(day, SHOPS[shop][1], reporting)
        gmv = sum(((r.unit_price * r.quantity) * rate).quantize(CENT, ROUND_HALF_UP) for r in group.itertuples())
        refunded = sum(
            (ok.get((shop, r.order_id, r.sku), Decimal(0)) * rate).quantize(CENT, ROUND_HALF_UP)
            for r in group.itertuples()
        )
        out[(shop, day)] = (group.order_id.nunique(), int(group.quantity.sum()), group.buyer.nunique(), gmv,
                            Decimal(refunded))  # fmt: skip
    return out


def _expected_freight(lines: pd.DataFrame) -> dict[tuple, Decimal]:
    """(shop, month) -> shipping charged on the orders with a payment, in the shop's currency."""
    sold = lines[lines.paid_at.notna() & ~lines.status.isin(["cancelled", "cancelled_after_pay"])]
    orders = sold.drop_duplicates(["shop_id", "order_id"])
    out: dict[tuple, Decimal] = {}
    for r in orders.itertuples():
        key = (r.shop_id, _local(r.created_at, "Asia/Shanghai").strftime("%Y-%m"))
        out[key] = out.get(key, Decimal(0)) + r.shipping
    return out


def _published(serve: Path) -> dict[tuple, tuple]:
    with duckdb.connect(str(serve), read_only=True) as con:
        rows = con.execute(
            "select shop_id, order_date, orders, units, buyers, gmv_cny, refunds_cny from marts.daily_shop_sales"
        ).fetchall()
    return {(shop, day): (orders, units, buyers, gmv, refunds) for shop, day, orders, units, buyers, gmv, refunds in rows}


def _freight(serve: Path) -> dict[tuple, Decimal]:
    """(shop, month) -> freight charged in the shop's currency, from the published daily_shop_sales."""
    with duckdb.connect(str(serve), read_only=True) as con:
        rows = con.execute(
            "select shop_id, strftime(order_date, '%Y-%m'), sum(freight) from marts.daily_shop_sales group by all"
        ).fetchall()
    return {(shop, month): amount for shop, month, amount in rows}


@pytest.fixture(scope="module")
def seller(tmp_path_factory):
    directory = tmp_path_factory.mktemp("any_layout")
    exports, mappings = directory / "exports", directory / "mappings"
    exports.mkdir()
    mappings.mkdir()
    for name, text in MAPPINGS.items():
        (mappings / name).write_text(text.lstrip(), encoding="utf-8")
    lines, refunds = _world()
    # the seller's own order book writes a return as a negative line (only the returns that happened)
    refunds = refunds[(refunds.shop_id != "sheet_jd") | refunds.success]
    woo = _write_woo(exports, lines, refunds)
    _write_erp(exports, lines, refunds)
    _write_sheet(exports, lines, refunds)
    # wrong files: a shop nobody configured, and a JD back-office export saved under the Tmall shop's name
    (exports / "ghost_shop__orders.csv").write_bytes((exports / "woo_store__refunds.csv").read_bytes())
    jd_headers = ["订单号", "订单状态", "下单时间", "付款确认时间", "运费金额", "应付金额", "SKU编号", "商家SKU编号",
                  "订购数量", "京东价", "商家优惠金额", "平台优惠金额", "商品实付金额"]  # fmt: skip
    (exports / "erp_tmall__jd_export.csv").write_text(
        ",".join(jd_headers) + "\n300001,完成,2026-09-01 10:00:00,2026-09-01 10:05:00,0,10,1,A-1,1,10,0,0,10\n",
        encoding="utf-8",
    )
    config = _config(directory, exports, mappings)
    (directory / "rates.csv").write_text(RATES_FILE, encoding="utf-8")
    done = _materialize(config, directory / "dagster")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return directory, config, lines, refunds, woo


def test_three_layouts_mapped_by_yaml_alone_publish_the_numbers_pandas_computes(seller):
    directory, _, lines, refunds, _ = seller
    assert _published(directory / "serve.duckdb") == _expected(lines, refunds)
    assert _freight(directory / "serve.duckdb") == _expected_freight(lines)
    sold = lines[(lines.shop_id == "woo_store") & lines.paid_at.notna()
                 & ~lines.status.isin(["cancelled", "cancelled_after_pay"])].copy()  # fmt: skip
    sold["day"] = [_local(t, "Asia/Shanghai").date() for t in sold.created_at]
    sold["gmv"] = sold.unit_price * sold.quantity
    with duckdb.connect(str(directory / "serve.duckdb"), read_only=True) as con:
        in_dollars = con.execute(
            "select order_date, currency, gmv from marts.daily_shop_sales where shop_id = 'woo_store'"
        ).fetchall()
    assert {(day, currency, gmv) for day, currency, gmv in in_dollars} == {
        (day, "USD", gmv) for day, gmv in sold.groupby("day").gmv.sum().items()
    }  # the shop's own currency beside the converted figures


def test_wrong_files_are_set_aside_naming_file_and_fix_while_the_others_load(seller):
    directory = seller[0]
    with duckdb.connect(str(directory / "build.duckdb"), read_only=True) as con:
        reasons = dict(con.execute("select source_file, reason from raw_files.quarantine").fetchall())
        loaded = dict(con.execute("select source_file, rows_loaded from raw_files.imports").fetchall())
    assert "shop 'ghost_shop' (from the file name) is not configured" in reasons["ghost_shop__orders.csv"]
    assert "its columns are a jd export" in reasons["erp_tmall__jd_export.csv"]
    assert "shop 'erp_tmall' is a taobao shop" in reasons["erp_tmall__jd_export.csv"]
    assert set(reasons) == {"ghost_shop__orders.csv", "erp_tmall__jd_export.csv"}
    assert all(n > 0 for n in loaded.values()) and len(loaded) == 5


def test_a_corrected_file_replaces_its_rows_and_the_numbers_follow(seller):
    directory, config, lines, refunds, woo = seller
    rows = list(csv.reader(io.StringIO(woo.read_text(encoding="utf-8"), newline="")))
    paid = [i for i, r in enumerate(rows[1:], start=1) if r[1] == "Completed"]
    changed, removed = paid[0], paid[1]
    rows[changed][10] = str(int(rows[changed][10]) + 2)  # one line's quantity corrected
    order_removed, sku_removed = rows[removed][0], rows[removed][8]
    del rows[removed]  # one line no longer in the corrected export
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    woo.write_text(buffer.getvalue(), encoding="utf-8")
    corrected = lines.copy()
    at = corrected.index[
        (corrected.shop_id == "woo_store") & (corrected.order_id == rows[changed][0])
        & (corrected.sku == rows[changed][8])
    ]  # fmt: skip
    corrected.loc[at, "quantity"] += 2
    corrected = corrected[
        ~((corrected.shop_id == "woo_store") & (corrected.order_id == order_removed) & (corrected.sku == sku_removed))
    ]
    # the order's total in the file no longer matches its lines: the importer keeps the file's total; the
    # published figures read lines
    done = _materialize(config, directory / "dagster", FILES_CHANGED)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    kept_refunds = refunds[
        ~((refunds.shop_id == "woo_store") & (refunds.order_id == order_removed) & (refunds.sku == sku_removed))
    ]
    assert _published(directory / "serve.duckdb") == _expected(corrected, kept_refunds)


def test_files_check_previews_a_file_without_importing_it(seller):
    directory, config, _, _, woo = seller
    env = {**os.environ, "SHOPKEEP_CONFIG": str(config), "SHOPKEEP_PII_SALT": "s", "COLUMNS": "200"}
    before = (directory / "build.duckdb").stat().st_mtime
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "files", "check", str(woo),
         str(woo.parent / "erp_tmall__jd_export.csv")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = " ".join(done.stdout.split())
    assert done.returncode == 1, done.stdout + done.stderr  # one file would be refused
    assert "orders of shop woo_store through mapping woo_orders" in out
    assert "rows would load, 0 would be set aside" in out
    assert "erp_tmall__jd_export.csv: would not be imported" in out and "its columns are a jd export" in out
    assert "@example.com" not in out  # the buyer's e-mail shows hashed, as it would land
    assert (directory / "build.duckdb").stat().st_mtime == before


def _margins(build: Path) -> tuple[dict[tuple, tuple], dict[tuple, Decimal]]:
    """(shop, month) -> (lines, net sales CNY, refunds CNY) of order_line_margins, and net sales of sku_margins."""
    with duckdb.connect(str(build), read_only=True) as con:
        lines = con.execute(
            "select shop_id, strftime(order_month, '%Y-%m'), count(*), sum(net_sales_cny), sum(refunds_cny) "
            "from marts.order_line_margins group by all"
        ).fetchall()
        skus = con.execute(
            "select shop_id, strftime(month, '%Y-%m'), sum(net_sales_cny) from marts.sku_margins group by all"
        ).fetchall()
    return ({(shop, month): (n, sales, refunds) for shop, month, n, sales, refunds in lines},
            {(shop, month): sales for shop, month, sales in skus})  # fmt: skip


def test_two_years_of_history_imported_after_a_first_build_reach_the_margins(seller):
    """order_line_margins and sku_margins are incremental (they rebuild the orders and months whose inputs
    changed): history imported later must still reach them, however old."""
    directory, config, _, _, _ = seller
    history, history_refunds = _world(seed=11, start=datetime(2024, 6, 1, tzinfo=UTC), days=720,
                                      shops=("erp_tmall",), first_id=500000)  # fmt: skip
    before, _ = _margins(directory / "build.duckdb")
    assert not [key for key in before if key[1] < "2026-06"]
    _write_erp(directory / "exports", history, history_refunds, suffix="-2024-2026")
    done = _materialize(config, directory / "dagster", FILES_CHANGED)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    after, skus = _margins(directory / "build.duckdb")
    sold = history[history.paid_at.notna() & ~history.status.isin(["cancelled", "cancelled_after_pay"])].copy()
    sold["month"] = [_local(t, "Asia/Shanghai").strftime("%Y-%m") for t in sold.created_at]
    ok = history_refunds[history_refunds.success].groupby(["order_id", "sku"]).amount.sum()
    expected = {}
    for month, group in sold.groupby("month"):
        refunded = sum(ok.get((r.order_id, r.sku), Decimal(0)) for r in group.itertuples())
        expected[("erp_tmall", month)] = (len(group), sum(group.line_paid), Decimal(refunded))
    assert len(expected) >= 12  # months across two years
    assert {key: value for key, value in after.items() if key[1] < "2026-06"} == expected
    assert {key: value for key, value in skus.items() if key[1] < "2026-06"} == {
        key: sales for key, (_, sales, _) in expected.items()
    }
    assert {key: value for key, value in after.items() if key[1] >= "2026-06"} == before  # the rest unchanged


def test_a_seller_reports_in_its_own_currency_with_its_own_rates(seller, monkeypatch):
    """[currency] reporting = "USD": a USD shop's money is as it was sold, a CNY shop's at the seller's own CNY
    rate for September and the seed's crossed rate (1 / USD→CNY) for the other months."""
    directory, config, lines, refunds, woo = seller
    lines, refunds = _world()  # the history file and the corrected Woo export stay; compare the three shops'
    (directory / "rates.csv").write_text("currency,month,rate\nCNY,2026-09,0.14\n", encoding="utf-8")
    config.write_text(config.read_text(encoding="utf-8").replace("[currency]\n", '[currency]\nreporting = "USD"\n'),
                      encoding="utf-8")  # fmt: skip
    done = _materialize(config, directory / "dagster")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    published = _published(directory / "serve.duckdb")
    expected = _expected(lines, refunds[(refunds.shop_id != "sheet_jd") | refunds.success], reporting="USD")
    for shop in ("erp_tmall", "sheet_jd"):  # the CNY shops, every day (erp_tmall's history from 2026-08 on)
        mine = {k: v for k, v in published.items() if k[0] == shop and k[1] >= date(2026, 8, 1)}
        assert mine == {k: v for k, v in expected.items() if k[0] == shop}
    with duckdb.connect(str(directory / "serve.duckdb"), read_only=True) as con:
        assert con.execute("select distinct reporting_currency from marts.shops").fetchall() == [("USD",)]
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(directory / "serve.duckdb"))
    app = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=120)
    try:
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        tiles = {m.label: m.value for m in app.metric}
        assert tiles["GMV 成交额"].startswith("$") and not any("¥" in v for v in tiles.values()), tiles
    finally:
        set_reporting_currency(None)  # the process's next page draws in its own snapshot's currency
