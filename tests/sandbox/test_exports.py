"""The marketplaces' back-office exports of the older history look like what a seller downloads: each platform's
own headers, encoding and id conventions, only the orders before the online window, buyer data in the clear."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from sandbox.shop.exports import write_history_exports

CUTOFF = date(2026, 4, 15)


@pytest.fixture(scope="module")
def exports(small_world, tmp_path_factory) -> dict[str, Path]:
    paths = write_history_exports(small_world, tmp_path_factory.mktemp("exports"), before=CUTOFF)
    return {p.name: p for p in paths}


def _csv_rows(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def test_every_marketplace_shop_gets_an_orders_a_refunds_a_bill_and_an_ad_export_in_its_platforms_format(
    exports,
):
    assert sorted(exports) == [
        "douyin_live__ad_spend.xlsx",
        "douyin_live__orders.xlsx",
        "douyin_live__refunds.xlsx",
        "douyin_live__settlements.xlsx",
        "jd_pop__ad_spend.xlsx",
        "jd_pop__orders.xlsx",
        "jd_pop__refunds.xlsx",
        "jd_pop__settlements.xlsx",
        "pdd_main__ad_spend.csv",
        "pdd_main__orders.csv",
        "pdd_main__refunds.csv",
        "pdd_main__settlements.csv",
        "tmall_flagship__ad_spend.csv",
        "tmall_flagship__orders.csv",
        "tmall_flagship__refunds.csv",
        "tmall_flagship__settlements.csv",
    ]


def test_the_taobao_export_is_gbk_with_ids_written_so_excel_keeps_them(exports):
    raw = exports["tmall_flagship__orders.csv"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = _csv_rows(exports["tmall_flagship__orders.csv"], "gbk")
    assert rows[0][:2] == ["订单编号", "子订单编号"]
    assert rows[1][0].startswith('="') and rows[1][0].endswith('"')


def test_the_pinduoduo_export_is_utf8_with_bom_and_amounts_in_yuan_with_two_decimals(exports, small_world):
    raw = exports["pdd_main__orders.csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = _csv_rows(exports["pdd_main__orders.csv"], "utf-8-sig")
    header = rows[0]
    paid = [r[header.index("商品实付金额(元)")] for r in rows[1:]]
    assert all(p.count(".") == 1 and len(p.split(".")[1]) == 2 for p in paid)
    lines = small_world.shop("pdd_main", "order_lines").set_index("line_id")
    first_order = rows[1][header.index("订单号")].strip()
    assert f"{lines[lines.order_id == first_order].paid_amount.iloc[0]:.2f}" in paid  # yuan, not fen


def test_the_exports_hold_only_orders_created_before_the_cutoff_and_buyer_data_in_the_clear(
    exports, small_world
):
    book = openpyxl.load_workbook(exports["jd_pop__orders.xlsx"], read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = rows[0]
    created = [r[header.index("下单时间")] for r in rows[1:]]
    assert created and max(created) < CUTOFF.isoformat()
    orders = small_world.shop("jd_pop", "orders")
    local = orders.created_at.dt.tz_convert("Asia/Shanghai").dt.date
    assert len({r[header.index("订单号")] for r in rows[1:]}) == int((local < CUTOFF).sum())
    assert set(orders.buyer_name) & {r[header.index("客户姓名")] for r in rows[1:]}
    assert all(isinstance(r[header.index("订单号")], str) for r in rows[1:])  # ids are text cells


def test_the_refunds_export_holds_the_refunds_applied_for_before_the_cutoff(exports, small_world):
    book = openpyxl.load_workbook(exports["douyin_live__refunds.xlsx"], read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    refunds = small_world.shop("douyin_live", "refunds")
    local = refunds.created_at.dt.tz_convert("Asia/Shanghai").dt.date
    assert rows[0][:3] == ("售后单号", "主订单编号", "子订单编号")
    assert sorted(r[0] for r in rows[1:]) == sorted(refunds[local < CUTOFF].refund_id)


def _settled_before(world, shop_id: str, cutoff: date):
    bills = world.shop(shop_id, "bill_lines")
    return bills[bills.settled_date < cutoff]


def test_the_alipay_bill_export_is_gbk_with_income_and_expense_columns_and_every_line_settled_before_the_cutoff(
    exports, small_world
):
    rows = _csv_rows(exports["tmall_flagship__settlements.csv"], "gbk")
    header = rows[0]
    assert header[:3] == ["账务流水号", "业务流水号", "商户订单号"]
    col = {name: header.index(name) for name in header}
    signed = []
    for r in rows[1:]:
        income, expense = r[col["收入金额（+元）"]], r[col["支出金额（-元）"]]
        assert (income == "") != (expense == "")  # one of the two columns per entry
        signed.append(Decimal(income) if income else -Decimal(expense))
        assert r[col["商户订单号"]].startswith('="T200P')
    truth = _settled_before(small_world, "tmall_flagship", CUTOFF)
    assert sorted(signed) == sorted(truth.amount)
    assert len({r[col["账务流水号"]] for r in rows[1:]}) == len(rows) - 1  # one serial per ledger entry


def test_a_bill_line_the_platform_booked_twice_is_two_entries_with_their_own_serials(small_world, tmp_path):
    errors = small_world.truth_bill_errors
    channels = small_world.shops.set_index("shop_id")["channel"]
    exported = errors.shop_id.map(channels) != "shopify"  # Shopify's payouts are not an export
    duplicated = errors[(errors.error == "duplicate_bill") & exported].iloc[0]
    bills = small_world.shop(duplicated.shop_id, "bill_lines")
    line_id = bills[bills.order_id == duplicated.order_id].bill_line_id.value_counts().idxmax()
    settled = bills[bills.bill_line_id == line_id].settled_date.iloc[0]
    paths = {
        p.name: p for p in write_history_exports(small_world, tmp_path, before=settled + timedelta(days=1))
    }
    shop = small_world.shops.set_index("shop_id").loc[duplicated.shop_id]
    name = f"{duplicated.shop_id}__settlements." + (
        "csv" if shop.channel in ("taobao", "pinduoduo") else "xlsx"
    )
    if name.endswith(".csv"):
        rows = _csv_rows(paths[name], "gbk" if shop.channel == "taobao" else "utf-8-sig")
        rows = [[c.removeprefix('="').removesuffix('"').strip() for c in r] for r in rows]
    else:
        rows = [
            list(r)
            for r in openpyxl.load_workbook(paths[name], read_only=True)
            .worksheets[0]
            .iter_rows(values_only=True)
        ]
    header = rows[0]
    line_col = next(
        i for i, h in enumerate(header) if h in ("业务流水号", "单据编号", "账单编号", "结算单号")
    )
    copies = [r for r in rows[1:] if r[line_col] == line_id]
    assert len(copies) == 2
    assert copies[0][0] != copies[1][0]  # the first column is the per-entry serial
    assert len(rows) - 1 == len(_settled_before(small_world, duplicated.shop_id, settled + timedelta(days=1)))


def test_the_jd_and_douyin_bill_exports_give_unsigned_amounts_with_a_direction(exports, small_world):
    for shop_id, direction, minus in (("jd_pop", "收支方向", "支出"), ("douyin_live", "动账方向", "出账")):
        name = f"{shop_id}__settlements.xlsx"
        rows = list(
            openpyxl.load_workbook(exports[name], read_only=True).worksheets[0].iter_rows(values_only=True)
        )
        header = rows[0]
        amount = header.index("金额" if shop_id == "jd_pop" else "动账金额")
        signed = [
            -Decimal(r[amount]) if r[header.index(direction)] == minus else Decimal(r[amount])
            for r in rows[1:]
        ]
        assert all(Decimal(r[amount]) >= 0 for r in rows[1:])
        assert sorted(signed) == sorted(_settled_before(small_world, shop_id, CUTOFF).amount), shop_id


def test_the_ad_reports_hold_every_day_of_every_plan_including_after_the_cutoff(exports, small_world):
    """Ads have no order API: the plan report is the only source, so it holds every day, in yuan."""
    for shop_id, name in (
        ("tmall_flagship", "tmall_flagship__ad_spend.csv"),
        ("jd_pop", "jd_pop__ad_spend.xlsx"),
    ):
        if name.endswith(".csv"):
            rows = _csv_rows(exports[name], "gbk")
        else:
            rows = [list(r) for r in openpyxl.load_workbook(exports[name], read_only=True).worksheets[0].iter_rows(
                values_only=True)]  # fmt: skip
        header, body = rows[0], rows[1:]
        spend = header.index("花费" if shop_id == "tmall_flagship" else "总费用")
        day = header.index("日期")
        truth = small_world.shop(shop_id, "ad_spend")
        assert len(body) == len(truth) > 0
        assert sum(Decimal(r[spend]) for r in body) == sum(truth.spend, Decimal(0))
        assert max(date.fromisoformat(r[day]) for r in body) > CUTOFF
