"""The seller's Excel product master lands in raw_product_master: every good row, bad rows quarantined with
their Excel row number and a reason a person can act on, and a re-import changes nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from connectors.files import (
    FileImportError,
    load_mapping,
    load_product_master,
    product_master_pipeline,
    read_workbook,
)
from sandbox.shop.product_master import write_product_master_xlsx
from sandbox.world import World

PRODUCT_HEADERS = [
    "商家编码",
    "商品名称",
    "类目",
    "款号",
    "尺码",
    "成本价",
    "零售价",
    "供应商编码",
    "箱规",
    "最小起订量",
    "采购周期(天)",
    "保质期(天)",
    "重量(g)",
    "是否组合装",
    "条码",
    "上市日期",
]


@pytest.fixture(scope="module")
def world(small_world) -> World:
    """The small simulated shop (tests/conftest.py)."""
    return small_world


def write_master(world: World, path: Path) -> Path:
    """The product master exactly as the simulator writes the seller's file."""
    return Path(write_product_master_xlsx(world, path))


def _product_row(sheet, **values) -> list:
    headers = [str(c.value).strip() for c in sheet[1]]
    return [values.get(h) for h in headers]


def write_master_with_bad_rows(world: World, path: Path) -> dict[str, int]:
    """The good master plus one bad row of each kind; returns the Excel row number of each."""
    write_master(world, path)
    book = openpyxl.load_workbook(path)
    products, kits = book["商品"], book["组合装"]
    products.cell(row=1, column=1).value = "  商家编码 "  # headers match after trimming
    good = {
        "商品名称": "测试商品",
        "类目": "home",
        "成本价": 10,
        "零售价": 19.9,
        "供应商编码": "SUP-03",
        "是否组合装": "否",
    }
    bad = {
        "missing_sku": {**good},
        "text_cost": {**good, "商家编码": "BAD-0001", "成本价": "abc"},
        "negative_cost": {**good, "商家编码": "BAD-0002", "成本价": -5},
        "duplicate_sku": {**good, "商家编码": world.products.sku.iloc[0], "商品名称": "重复的商品"},
        "bad_date": {**good, "商家编码": "BAD-0003", "上市日期": "2025-13-45"},
    }
    rows = {}
    for kind, values in bad.items():
        products.append(_product_row(products, **values))
        rows[kind] = products.max_row
    kits.append([world.kit_components.kit_sku.iloc[0], "NOPE-0001", 1])
    rows["unknown_component"] = kits.max_row
    book.save(path)
    return rows


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture()
def pipeline(tmp_path):
    return product_master_pipeline(tmp_path / "build.duckdb", tmp_path / "dlt")


def test_every_product_kit_and_supplier_of_the_world_lands_with_exact_costs(world, pipeline, tmp_path):
    load_product_master(pipeline, write_master(world, tmp_path / "product_master.xlsx"))
    db = tmp_path / "build.duckdb"
    counts = {
        t: _query(db, f"select count(*) from raw_product_master.{t}")[0][0]
        for t in ("products", "kit_components", "suppliers", "promotions", "quarantine")
    }
    assert counts == {
        "products": len(world.products),
        "kit_components": len(world.kit_components),
        "suppliers": len(world.suppliers),
        "promotions": len(world.promotions),
        "quarantine": 0,
    }
    total, kind = _query(
        db, "select sum(unit_cost), typeof(sum(unit_cost)) from raw_product_master.products"
    )[0]
    assert total == sum(world.products.unit_cost)
    assert kind.startswith("DECIMAL")
    assert _query(
        db,
        "select data_type from information_schema.columns where table_schema = 'raw_product_master' "
        "and table_name = 'products' and column_name = 'list_price'",
    ) == [("DECIMAL(18,2)",)]
    kits = _query(db, "select sku from raw_product_master.products where is_kit order by sku")
    assert [k for (k,) in kits] == sorted(world.products.sku[world.products.is_kit.astype(bool)])
    first = world.products.iloc[0]
    row = _query(
        db,
        f"select name, supplier_id, launched_on, barcode from raw_product_master.products "
        f"where sku = '{first.sku}'",
    )[0]
    assert row == (first["name"], first.supplier_id, first.launched_on, str(first.barcode))


def test_a_file_with_bad_rows_loads_every_good_row_and_quarantines_each_bad_one(world, pipeline, tmp_path):
    path = tmp_path / "product_master.xlsx"
    rows = write_master_with_bad_rows(world, path)
    load_product_master(pipeline, path)
    db = tmp_path / "build.duckdb"
    assert _query(db, "select count(*) from raw_product_master.products")[0][0] == len(world.products)
    assert _query(db, "select count(*) from raw_product_master.kit_components")[0][0] == len(
        world.kit_components
    )
    first = world.products.iloc[0]
    assert _query(db, f"select name from raw_product_master.products where sku = '{first.sku}'") == [
        (first["name"],)
    ]
    quarantined = {
        (sheet, n): reason
        for sheet, n, reason in _query(
            db, "select sheet, row_number, reason from raw_product_master.quarantine"
        )
    }
    expected = {
        ("商品", rows["missing_sku"]): "商家编码 is empty",
        ("商品", rows["text_cost"]): "成本价 'abc' is not a number — fix the cell and re-import",
        ("商品", rows["negative_cost"]): "成本价 '-5' is negative",
        ("商品", rows["duplicate_sku"]): "repeats row 2",
        ("商品", rows["bad_date"]): "上市日期 '2025-13-45' is not a date",
        ("组合装", rows["unknown_component"]): "子商品编码 'NOPE-0001' is not a sku on the products sheet",
    }
    assert set(quarantined) == set(expected)
    for (sheet, n), phrase in expected.items():
        assert quarantined[(sheet, n)].startswith(f"{sheet} row {n}: ")
        assert phrase in quarantined[(sheet, n)]
    raw, source = _query(
        db,
        f"select raw_row, source_file from raw_product_master.quarantine "
        f"where row_number = {rows['text_cost']} and sheet = '商品'",
    )[0]
    assert json.loads(raw)["成本价"] == "abc"
    assert json.loads(raw)["商家编码"] == "BAD-0001"
    assert source == "product_master.xlsx"


def test_importing_the_same_file_twice_changes_nothing(world, pipeline, tmp_path):
    path = tmp_path / "product_master.xlsx"
    write_master_with_bad_rows(world, path)
    db = tmp_path / "build.duckdb"
    tables = ("products", "kit_components", "suppliers", "quarantine")

    def snapshot():
        result = {}
        for table in tables:
            columns = [
                c
                for (c,) in _query(
                    db,
                    "select column_name from information_schema.columns where "
                    f"table_schema = 'raw_product_master' and table_name = '{table}' "
                    "and column_name not like '\\_dlt%' escape '\\'",
                )
            ]
            result[table] = sorted(
                _query(db, f"select {', '.join(columns)} from raw_product_master.{table}"), key=str
            )
        return result

    load_product_master(pipeline, path)
    before = snapshot()
    load_product_master(pipeline, path)
    assert snapshot() == before
    assert len(before["quarantine"]) == 6


def test_a_missing_required_column_stops_the_import_naming_file_sheet_and_header(world, pipeline, tmp_path):
    path = write_master(world, tmp_path / "product_master.xlsx")
    book = openpyxl.load_workbook(path)
    book["商品"].delete_cols(PRODUCT_HEADERS.index("成本价") + 1)
    book.save(path)
    with pytest.raises(FileImportError) as failure:
        load_product_master(pipeline, path)
    message = str(failure.value)
    assert str(path) in message and "'商品'" in message and "'成本价'" in message


def test_padded_or_full_width_headers_and_dates_typed_as_text_are_still_read(world, tmp_path):
    path = write_master(world, tmp_path / "product_master.xlsx")
    book = openpyxl.load_workbook(path)
    products = book["商品"]
    lead_col = PRODUCT_HEADERS.index("采购周期(天)") + 1
    products.cell(row=1, column=lead_col).value = " 采购周期（天）\u3000"
    products.cell(row=2, column=PRODUCT_HEADERS.index("上市日期") + 1).value = "2025/3/1"
    book.save(path)
    result = read_workbook(path, load_mapping("product_master"))
    assert result.quarantine == []
    first = result.tables["products"][0]
    assert first["launched_on"] == date(2025, 3, 1)
    assert first["lead_time_days"] == products.cell(row=2, column=lead_col).value
    assert first["unit_cost"] == world.products.unit_cost.iloc[0]


def test_a_missing_sheet_stops_the_import_naming_the_file_and_the_sheet(world, tmp_path):
    path = write_master(world, tmp_path / "product_master.xlsx")
    book = openpyxl.load_workbook(path)
    del book["组合装"]
    book.save(path)
    with pytest.raises(FileImportError, match="no sheet '组合装'") as failure:
        read_workbook(path, load_mapping("product_master"))
    assert str(path) in str(failure.value)


def test_the_promotion_calendar_lands_with_its_dates_discounts_spend_and_sku_lists(world, pipeline, tmp_path):
    load_product_master(pipeline, write_master(world, tmp_path / "product_master.xlsx"))
    landed = {
        row[0]: row[1:]
        for row in _query(
            tmp_path / "build.duckdb",
            "select promo_id, shop_id, name, start_date, end_date, discount_pct, spend, skus "
            "from raw_product_master.promotions",
        )
    }
    expected = {
        p.promo_id: (p.shop_id, p.name, p.start_date, p.end_date, p.discount_pct, p.spend, p.skus)
        for p in world.promotions.itertuples(index=False)
    }
    assert len(expected) > 0
    assert landed == expected


def write_master_with_bad_promotions(world: World, path: Path) -> dict[str, int]:
    """The good master plus one bad promotion row of each kind; returns the Excel row number of each."""
    write_master(world, path)
    book = openpyxl.load_workbook(path)
    promos = book["促销"]
    first = world.promotions.iloc[0]
    sku_a, sku_b = world.products.sku.iloc[0], world.products.sku.iloc[1]
    good = [None, "jd_pop", "测试活动", date(2026, 5, 1), date(2026, 5, 3), 0.1, 1000, sku_a]
    bad = {
        "unknown_sku": ["PROMO-X01", *good[1:7], f"{sku_a}, NOPE-0001"],
        "end_before_start": ["PROMO-X02", *good[1:3], date(2026, 5, 3), date(2026, 5, 1), *good[5:]],
        "missing_shop": ["PROMO-X03", None, *good[2:]],
        "duplicate_id": [first.promo_id, *good[1:]],
        "negative_spend": ["PROMO-X04", *good[1:6], -1, sku_a],
        "no_skus": ["PROMO-X05", *good[1:7], " "],
    }
    rows = {}
    for kind, values in bad.items():
        promos.append(values)
        rows[kind] = promos.max_row
    promos.append(["PROMO-X06", *good[1:7], f"{sku_a}，{sku_b}、{sku_a}"])  # full-width separators, a repeat
    rows["listed_with_other_separators"] = promos.max_row
    book.save(path)
    return rows


def test_bad_promotion_rows_are_quarantined_and_sku_lists_accept_any_separator(world, pipeline, tmp_path):
    path = tmp_path / "product_master.xlsx"
    rows = write_master_with_bad_promotions(world, path)
    load_product_master(pipeline, path)
    db = tmp_path / "build.duckdb"
    quarantined = {
        n: reason
        for n, reason in _query(
            db, "select row_number, reason from raw_product_master.quarantine where sheet = '促销'"
        )
    }
    expected = {
        rows["unknown_sku"]: "活动商品 'NOPE-0001' is not a sku on the products sheet",
        rows["end_before_start"]: "结束日期 is before 开始日期",
        rows["missing_shop"]: "店铺 is empty",
        rows["duplicate_id"]: "repeats row 2",
        rows["negative_spend"]: "推广费用 '-1' is negative",
        rows["no_skus"]: "活动商品 is empty",
    }
    assert set(quarantined) == set(expected)
    for n, phrase in expected.items():
        assert quarantined[n].startswith(f"促销 row {n}: ") and phrase in quarantined[n]
    assert _query(db, "select count(*) from raw_product_master.promotions")[0][0] == len(world.promotions) + 1
    sku_a, sku_b = world.products.sku.iloc[0], world.products.sku.iloc[1]
    assert _query(db, "select skus from raw_product_master.promotions where promo_id = 'PROMO-X06'") == [
        (f"{sku_a},{sku_b}",)
    ]


def test_a_workbook_without_a_promotion_calendar_still_imports(world, pipeline, tmp_path):
    path = write_master(world, tmp_path / "product_master.xlsx")
    book = openpyxl.load_workbook(path)
    del book["促销"]
    book.save(path)
    load_product_master(pipeline, path)
    db = tmp_path / "build.duckdb"
    assert _query(db, "select count(*) from raw_product_master.promotions") == [(0,)]
    assert _query(db, "select count(*) from raw_product_master.products") == [(len(world.products),)]


def test_a_quarantined_supplier_row_keeps_its_codes_but_not_its_contacts_phone_or_name(world, tmp_path):
    path = write_master(world, tmp_path / "master.xlsx")
    book = openpyxl.load_workbook(path)
    suppliers = book["供应商"]
    width = suppliers.max_column
    suppliers.cell(row=1, column=width + 1).value = "联系人"
    suppliers.cell(row=1, column=width + 2).value = "联系电话"
    headers = [str(c.value).strip() for c in suppliers[1]]
    row = dict.fromkeys(headers)
    row.update({"供应商编码": "SUP-99", "供应商名称": "新供应商", "采购周期(天)": -3})
    row.update({"联系人": "王小二", "联系电话": "13812345678"})
    suppliers.append([row[h] for h in headers])
    book.save(path)

    result = read_workbook(path, load_mapping("product_master"))

    (bad,) = [q for q in result.quarantine if q["sheet"] == "供应商"]
    assert "采购周期(天) '-3' is negative" in bad["reason"]
    assert bad["raw_row"]["供应商编码"] == "SUP-99" and bad["raw_row"]["供应商名称"] == "新供应商"
    stored = json.dumps(bad, ensure_ascii=False, default=str)
    assert "王小二" not in stored and "13812345678" not in stored
