"""The seller's Excel product master lands in raw_product_master: every good row, bad rows quarantined with
their Excel row number and a reason a person can act on, and a re-import changes nothing."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest

from connectors.files import FileImportError, load_product_master, product_master_pipeline
from sandbox.world import World

PRODUCT_HEADERS = ["商家编码", "商品名称", "类目", "款号", "尺码", "成本价", "零售价", "供应商编码", "箱规", "最小起订量",
                   "采购周期(天)", "保质期(天)", "重量(g)", "是否组合装", "条码", "上市日期"]
PRODUCT_COLUMNS = ["sku", "name", "category", "spu", "size", "unit_cost", "list_price", "supplier_id", "pack_size",
                   "moq", "lead_time_days", "shelf_life_days", "weight_g", "is_kit", "barcode", "launched_on"]
KIT_HEADERS = ["组合编码", "子商品编码", "数量"]
SUPPLIER_HEADERS = ["供应商编码", "供应商名称", "采购周期(天)", "最小起订量", "币种"]


@pytest.fixture(scope="module")
def world() -> World:
    """The master data of the simulated shop (the full world when the simulator is there)."""
    try:
        from sandbox.shop.generate import generate
    except ImportError:
        from sandbox.shop.catalog import build_catalog

        catalog = build_catalog(np.random.default_rng(7), date(2026, 3, 3), 120)
        return World(params={}, tables={"products": catalog.products, "kit_components": catalog.kit_components,
                                        "suppliers": catalog.suppliers})
    return generate(seed=7, days=120, orders_per_day=60, end_date=date(2026, 6, 30))


def _cell(value):
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, Decimal):
        return float(value)  # Excel holds numbers as doubles, as a seller's file would
    if isinstance(value, bool | np.bool_):
        return "是" if value else "否"
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_master(world: World, path: Path) -> Path:
    """The product master in its exact layout (the simulator's own writer when it is there)."""
    try:
        from sandbox.shop.product_master import write_product_master_xlsx
    except ImportError:
        pass
    else:
        return Path(write_product_master_xlsx(world, path) or path)
    book = openpyxl.Workbook()
    products = book.active
    products.title = "商品"
    products.append(PRODUCT_HEADERS)
    for row in world.products[PRODUCT_COLUMNS].itertuples(index=False):
        products.append([_cell(v) for v in row])
    kits = book.create_sheet("组合装")
    kits.append(KIT_HEADERS)
    for row in world.kit_components[["kit_sku", "component_sku", "quantity"]].itertuples(index=False):
        kits.append([_cell(v) for v in row])
    suppliers = book.create_sheet("供应商")
    suppliers.append(SUPPLIER_HEADERS)
    for row in world.suppliers[["supplier_id", "name", "lead_time_days", "moq", "currency"]].itertuples(index=False):
        suppliers.append([_cell(v) for v in row])
    book.save(path)
    return path


def _product_row(sheet, **values) -> list:
    headers = [str(c.value).strip() for c in sheet[1]]
    return [values.get(h) for h in headers]


def write_master_with_bad_rows(world: World, path: Path) -> dict[str, int]:
    """The good master plus one bad row of each kind; returns the Excel row number of each."""
    write_master(world, path)
    book = openpyxl.load_workbook(path)
    products, kits = book["商品"], book["组合装"]
    products.cell(row=1, column=1).value = "  商家编码 "  # headers match after trimming
    good = {"商品名称": "测试商品", "类目": "home", "成本价": 10, "零售价": 19.9, "供应商编码": "SUP-03", "是否组合装": "否"}
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
    counts = {t: _query(db, f"select count(*) from raw_product_master.{t}")[0][0]
              for t in ("products", "kit_components", "suppliers", "quarantine")}
    assert counts == {"products": len(world.products), "kit_components": len(world.kit_components),
                      "suppliers": len(world.suppliers), "quarantine": 0}
    total, kind = _query(db, "select sum(unit_cost), typeof(sum(unit_cost)) from raw_product_master.products")[0]
    assert total == sum(world.products.unit_cost)
    assert kind.startswith("DECIMAL")
    assert _query(db, "select data_type from information_schema.columns where table_schema = 'raw_product_master' "
                      "and table_name = 'products' and column_name = 'list_price'") == [("DECIMAL(18,2)",)]
    kits = _query(db, "select sku from raw_product_master.products where is_kit order by sku")
    assert [k for (k,) in kits] == sorted(world.products.sku[world.products.is_kit.astype(bool)])
    first = world.products.iloc[0]
    row = _query(db, f"select name, supplier_id, launched_on, barcode from raw_product_master.products "
                     f"where sku = '{first.sku}'")[0]
    assert row == (first["name"], first.supplier_id, first.launched_on, str(first.barcode))


def test_a_file_with_bad_rows_loads_every_good_row_and_quarantines_each_bad_one(world, pipeline, tmp_path):
    path = tmp_path / "product_master.xlsx"
    rows = write_master_with_bad_rows(world, path)
    load_product_master(pipeline, path)
    db = tmp_path / "build.duckdb"
    assert _query(db, "select count(*) from raw_product_master.products")[0][0] == len(world.products)
    assert _query(db, "select count(*) from raw_product_master.kit_components")[0][0] == len(world.kit_components)
    first = world.products.iloc[0]
    assert _query(db, f"select name from raw_product_master.products where sku = '{first.sku}'") == [(first["name"],)]
    quarantined = {(sheet, n): reason for sheet, n, reason in _query(
        db, "select sheet, row_number, reason from raw_product_master.quarantine")}
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
    raw, source = _query(db, f"select raw_row, source_file from raw_product_master.quarantine "
                             f"where row_number = {rows['text_cost']} and sheet = '商品'")[0]
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
            columns = [c for (c,) in _query(db, "select column_name from information_schema.columns where "
                                                f"table_schema = 'raw_product_master' and table_name = '{table}' "
                                                "and column_name not like '\\_dlt%' escape '\\'")]
            result[table] = sorted(_query(db, f"select {', '.join(columns)} from raw_product_master.{table}"),
                                   key=str)
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
