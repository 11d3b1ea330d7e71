"""Wiring of purchase orders (the composition root's part): orders made from the replenishment page's approved
drafts, written as each supplier's XLSX document and sent to its webhook with the secret from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.settings import ConfigError, Settings
from writeback.purchasing import orders
from writeback.purchasing.document import Layout, document
from writeback.purchasing.send import SendResult, SupplierEndpoint, send


@dataclass(frozen=True)
class PurchasingRun:
    made: list[orders.PurchaseOrder]
    sent: list[SendResult]
    documents: list[Path]
    received: list[orders.PurchaseOrder]


def documents_dir(settings: Settings) -> Path:
    """Where the XLSX documents go: purchase_orders/ beside the ops store."""
    return settings.ops_path.parent / "purchase_orders"


def send_purchase_orders(settings: Settings, by: str = "shopkeep po send") -> PurchasingRun:
    """Make an approved order of every draft with approved lines (published snapshot + ops store), write each
    approved or sent order's document, and send it to its supplier (writeback/purchasing/send.py: exactly once).
    First, the WMS's receipts against open orders move them to (partially) received.
    An order to a supplier without a [[suppliers]] entry is not sent; its result says which entry to add."""
    if not settings.serve_path.exists():
        raise ConfigError(f"no published snapshot at {settings.serve_path}: run `shopkeep materialize` first")
    with duckdb.connect(str(settings.serve_path), read_only=True) as con:
        drafts = con.execute("select * from marts.purchase_order_drafts").df()
    received = _receipts(settings)
    suppliers = {s.id: s for s in settings.suppliers}
    made = orders.from_decisions(
        settings.ops_path, drafts, by, {s.id: s.warehouse for s in settings.suppliers if s.warehouse},
        settings.wms.warehouses[0] if settings.wms and settings.wms.warehouses else None,
    )  # fmt: skip
    folder = documents_dir(settings)
    sent, written = [], []
    for order in orders.orders(settings.ops_path, ("approved", "sent")):
        supplier = suppliers.get(order.supplier_id)
        if supplier is None:
            sent.append(SendResult(order.po_number, "failed", order.state,
                                   f"no [[suppliers]] entry with id = {order.supplier_id!r} in "
                                   f"{settings.config_path.name}: add its webhook_url and secret_env"))  # fmt: skip
            continue
        layout = (
            Layout(supplier.document_title, dict(supplier.document_columns))
            if supplier.document_columns
            else None
        )
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{order.po_number}.xlsx"
        path.write_bytes(document(order, layout, supplier.name or None))
        written.append(path)
        endpoint = SupplierEndpoint(
            supplier.id,
            supplier.webhook_url,
            settings.secret(supplier.secret_env, f"webhook secret of {supplier.id}"),
        )
        sent.append(send(settings.ops_path, order.po_number, endpoint, by=by))
    return PurchasingRun(made, sent, written, received)


def _receipts(settings: Settings) -> list[orders.PurchaseOrder]:
    """Apply the WMS's receipts since the oldest open order was made (none without a [wms])."""
    open_orders = orders.orders(settings.ops_path, ("sent", "confirmed", "partially_received"))
    if settings.wms is None or not open_orders:
        return []
    from datetime import datetime

    from connectors.wms.client import WmsClient

    since = min(datetime.fromisoformat(o.created_at) for o in open_orders)
    wms = settings.wms
    with WmsClient(wms.base_url, settings.secret(wms.token_env, "WMS API token"), wms.token_env) as client:
        receipts = [item for page in client.receipts(since) for item in page]
    return orders.apply_receipts(settings.ops_path, receipts)
