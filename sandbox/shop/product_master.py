"""The seller's Excel product master (商品 / 组合装 / 供应商 / 促销 sheets), as the file importer expects it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from sandbox.world import World

PRODUCT_HEADERS = ["商家编码", "商品名称", "类目", "款号", "尺码", "成本价", "零售价", "供应商编码", "箱规", "最小起订量",
                   "采购周期(天)", "保质期(天)", "重量(g)", "是否组合装", "条码", "上市日期"]
KIT_HEADERS = ["组合编码", "子商品编码", "数量"]
SUPPLIER_HEADERS = ["供应商编码", "供应商名称", "采购周期(天)", "最小起订量", "币种"]
PROMOTION_HEADERS = ["活动编码", "店铺", "活动名称", "开始日期", "结束日期", "折扣率", "推广费用", "活动商品"]
CATEGORY_NAMES = {"apparel": "服装", "home": "家居", "snacks": "零食"}


def _blank(value: object) -> object:
    return None if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else value


def write_product_master_xlsx(world: World, path: str | Path) -> Path:
    """Write the product master workbook for `world` to `path` (headers in row 1, one sheet per table)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suppliers = world.suppliers.set_index("supplier_id")
    wb = Workbook()
    sheet = wb.active
    sheet.title = "商品"
    sheet.append(PRODUCT_HEADERS)
    for p in world.products.itertuples(index=False):
        lead = _blank(p.lead_time_days)
        sheet.append([
            p.sku, p.name, CATEGORY_NAMES[p.category], p.spu, _blank(p.size), float(p.unit_cost), float(p.list_price),
            p.supplier_id, int(p.pack_size), int(p.moq),
            int(lead) if lead is not None else int(suppliers.at[p.supplier_id, "lead_time_days"]),
            int(p.shelf_life_days) if _blank(p.shelf_life_days) is not None else None, int(p.weight_g),
            "是" if p.is_kit else "否", p.barcode, p.launched_on,
        ])
        sheet.cell(row=sheet.max_row, column=16).number_format = "yyyy-mm-dd"
        sheet.cell(row=sheet.max_row, column=15).number_format = "@"
    kits = wb.create_sheet("组合装")
    kits.append(KIT_HEADERS)
    for k in world.kit_components.itertuples(index=False):
        kits.append([k.kit_sku, k.component_sku, int(k.quantity)])
    sup = wb.create_sheet("供应商")
    sup.append(SUPPLIER_HEADERS)
    for s in world.suppliers.itertuples(index=False):
        sup.append([s.supplier_id, s.name, int(s.lead_time_days), int(s.moq), s.currency])
    promos = wb.create_sheet("促销")  # the promotion calendar (营销日历)
    promos.append(PROMOTION_HEADERS)
    for p in world.promotions.itertuples(index=False):
        promos.append([p.promo_id, p.shop_id, p.name, p.start_date, p.end_date, float(p.discount_pct),
                       float(p.spend), p.skus])
        for column in (4, 5):
            promos.cell(row=promos.max_row, column=column).number_format = "yyyy-mm-dd"
        promos.cell(row=promos.max_row, column=6).number_format = "0%"
    wb.save(path)
    return path
