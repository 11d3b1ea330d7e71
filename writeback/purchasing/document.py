"""A purchase order as the XLSX document a supplier receives (openpyxl), in the supplier's own layout.

The layout names the columns of the lines table, in order, with the supplier's own headers (`columns`: field ->
header; fields `sku`, `quantity`, `unit_price`, `amount`, `confirmed`), and the sheet's title; the default is a
Chinese 采购订单. Above the table: the PO number, the supplier, the order date, the expected and promised dates.
Amounts are numbers (Decimal → float cells with a 0.00 format); text that a spreadsheet would run as a formula is
written as text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from writeback.purchasing.orders import PurchaseOrder

FIELDS = ("sku", "quantity", "unit_price", "amount", "confirmed")


@dataclass(frozen=True)
class Layout:
    title: str = "采购订单"
    columns: dict[str, str] = field(
        default_factory=lambda: {
            "sku": "商品编码",
            "quantity": "数量",
            "unit_price": "单价",
            "amount": "金额",
        }
    )

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown or not self.columns:
            raise ValueError(
                f"document columns {unknown or '(none)'} are not fields of a purchase-order line; use some of "
                f"{', '.join(FIELDS)}"
            )


def _text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def documents_dir(ops_path: Path | str) -> Path:
    """Where the orders' documents (in their suppliers' layouts) are written when sent: purchase_orders/ beside
    the ops store."""
    return Path(ops_path).parent / "purchase_orders"


def document_path(ops_path: Path | str, po_number: str) -> Path:
    """One order's document in documents_dir."""
    return documents_dir(ops_path) / f"{po_number}.xlsx"


def document(order: PurchaseOrder, layout: Layout | None = None, supplier_name: str | None = None) -> bytes:
    layout = layout or Layout()
    book = Workbook()
    sheet = book.active
    sheet.title = layout.title[:31]
    header = [
        ("PO", order.po_number),
        ("供应商 Supplier", _text(supplier_name or order.supplier_id)),
        ("下单日期 Ordered", order.created_at[:10]),
        ("期望到货 Expected", order.expected_date or ""),
        ("承诺到货 Promised", order.promised_date or ""),
        ("币种 Currency", order.currency),
    ]
    for row, (label, value) in enumerate(header, start=1):
        sheet.cell(row, 1, label).font = Font(bold=True)
        sheet.cell(row, 2, value)
    first = len(header) + 2
    fields = list(layout.columns)
    for col, name in enumerate(fields, start=1):
        sheet.cell(first, col, layout.columns[name]).font = Font(bold=True)
    total = Decimal(0)
    for offset, line in enumerate(order.lines, start=1):
        price = Decimal(line.unit_price) if line.unit_price is not None else None
        amount = price * line.quantity if price is not None else None
        total += amount or 0
        values = {"sku": _text(line.sku), "quantity": line.quantity, "unit_price": price, "amount": amount,
                  "confirmed": line.confirmed}  # fmt: skip
        for col, name in enumerate(fields, start=1):
            value = values[name]
            cell = sheet.cell(first + offset, col, float(value) if isinstance(value, Decimal) else value)
            if name in ("unit_price", "amount"):
                cell.number_format = "0.00"
    if "amount" in fields:
        last = first + len(order.lines) + 1
        column = fields.index("amount") + 1
        if column > 1:
            sheet.cell(last, column - 1, "合计 Total").font = Font(bold=True)
        cell = sheet.cell(last, column, float(total))
        cell.number_format, cell.font = "0.00", Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
