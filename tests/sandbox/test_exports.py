"""The marketplaces' back-office exports of the older history look like what a seller downloads: each platform's
own headers, encoding and id conventions, only the orders before the online window, buyer data in the clear."""

from __future__ import annotations

import csv
import io
from datetime import date
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


def test_every_marketplace_shop_gets_an_orders_and_a_refunds_export_in_its_platforms_format(exports):
    assert sorted(exports) == [
        "douyin_live__orders.xlsx",
        "douyin_live__refunds.xlsx",
        "jd_pop__orders.xlsx",
        "jd_pop__refunds.xlsx",
        "pdd_main__orders.csv",
        "pdd_main__refunds.csv",
        "tmall_flagship__orders.csv",
        "tmall_flagship__refunds.csv",
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
